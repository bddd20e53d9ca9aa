package bboltstore

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

func openTemp(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(t.TempDir(), zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openTemp)
}

func TestReopen_DataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSpans(context.Background(), storetest.MakeSpans(t, "p1", storetest.AgentTrace(1, 0)...)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.GetRecord(context.Background(), "p1", storetest.TraceHex(1))
	if err != nil || r.SpanCount != 4 || r.Usage.Total != 139 {
		t.Fatalf("after reopen: %+v, %v", r, err)
	}
	// Folding continues correctly from the persisted assembly state.
	late := storetest.MakeSpans(t, "p1", storetest.SpanSpec{Trace: 1, ID: 7, Parent: 1, Name: "late", StartMS: -500, EndMS: 10})
	if err := s.WriteSpans(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	r, _ = s.GetRecord(context.Background(), "p1", storetest.TraceHex(1))
	if r.Name != "capital_quiz.workflow" || r.DurationMS != 2833 || r.Input != "What is the capital of France?" {
		t.Fatalf("late span after reopen: name=%q duration=%v input=%q", r.Name, r.DurationMS, r.Input)
	}
}

func TestOpen_LockedFileSaysWhy(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir, zap.NewNop(), Options{})
	if err == nil || !strings.Contains(err.Error(), "another tracehound") {
		t.Fatalf("second open: %v, want a lock error naming the cause", err)
	}
}

func TestWriteSpans_AfterCloseFails(t *testing.T) {
	s, err := Open(t.TempDir(), zap.NewNop(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := s.WriteSpans(context.Background(), storetest.MakeSpans(t, "p1", storetest.AgentTrace(1, 0)...)); err != store.ErrClosed {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}
}
