package main

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestWithDefaultConfig(t *testing.T) {
	noenv := func(string) string { return "" }
	tests := []struct {
		args        []string
		wantDefault bool
	}{
		{[]string{"tracehound"}, true},
		{[]string{"tracehound", "--feature-gates=foo"}, true},
		{[]string{"tracehound", "--config", "my.yaml"}, false},
		{[]string{"tracehound", "--config=my.yaml"}, false},
		{[]string{"tracehound", "validate", "--config=my.yaml"}, false},
		{[]string{"tracehound", "components"}, false},
		{[]string{"tracehound", "keys", "list"}, false},
		{[]string{"tracehound", "--help"}, false},
		{[]string{"tracehound", "--version"}, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := withDefaultConfig(tt.args, noenv)
			added := len(got) == len(tt.args)+1 && strings.HasPrefix(got[len(got)-1], "--config=yaml:")
			if added != tt.wantDefault {
				t.Fatalf("withDefaultConfig(%q) = %q, want default config added: %v", tt.args, got, tt.wantDefault)
			}
			if !added && strings.Join(got, " ") != strings.Join(tt.args, " ") {
				t.Fatalf("arguments changed: %q", got)
			}
		})
	}
}

func TestDefaultConfig_ListensOnLoopbackOnly(t *testing.T) {
	for _, want := range []string{"127.0.0.1:4317", "127.0.0.1:4318", "127.0.0.1:8080"} {
		if !strings.Contains(defaultConfig, want) {
			t.Errorf("default config does not listen on %s", want)
		}
	}
	if strings.Contains(defaultConfig, "0.0.0.0") {
		t.Error("default config listens on all interfaces")
	}
}

func TestTuneGC_DefaultsUnlessTheEnvironmentSetsThem(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})

	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != defaultGCPercent {
		t.Errorf("GC percent = %d, want %d", got, defaultGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryLimit {
		t.Errorf("memory limit = %d, want %d", got, defaultMemoryLimit)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	tuneGC(func(k string) string { return map[string]string{"GOGC": "50", "GOMEMLIMIT": "2GiB"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: GC percent changed to %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT set: memory limit changed to %d", got)
	}
}
