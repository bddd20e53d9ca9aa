package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tracehound/tracehound/internal/store/pgstore/pgtest"
)

// replicaTrace is a 4-span agent trace: workflow root → chat, tool, chat. Every fourth
// trace's tool fails.
func replicaTrace(n int, runID string, base time.Time) []otlpSpan {
	var tid pcommon.TraceID
	_, _ = rand.Read(tid[:])
	sid := func(i byte) pcommon.SpanID { return pcommon.SpanID{0x5a, byte(n), i, 1, 2, 3, 4, i} }
	start := base.Add(time.Duration(n) * 100 * time.Millisecond)
	question := fmt.Sprintf("Question %d: what is the capital of France?", n)
	chat := func(i byte, at time.Duration, in, out int, reply string) otlpSpan {
		return otlpSpan{trace: tid, id: sid(i), parent: sid(1), name: "chat gpt-4o-mini", start: start.Add(at), dur: 20 * time.Millisecond,
			attrs: map[string]any{
				"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
				"gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
				"gen_ai.usage.input_tokens": in, "gen_ai.usage.output_tokens": out,
				"gen_ai.input.messages":  fmt.Sprintf(`[{"role":"user","parts":[{"type":"text","content":%q}]}]`, question),
				"gen_ai.output.messages": fmt.Sprintf(`[{"role":"assistant","parts":[{"type":"text","content":%q}],"finish_reason":"stop"}]`, reply),
			}}
	}
	return []otlpSpan{
		{trace: tid, id: sid(1), name: "quiz.workflow", start: start, dur: 80 * time.Millisecond,
			attrs: map[string]any{"scorecard.tracing_group_id": runID, "user.id": fmt.Sprint("user-", n%3)}},
		chat(2, 5*time.Millisecond, 100+n, 20, "Let me look that up."),
		{trace: tid, id: sid(3), parent: sid(1), name: "execute_tool lookup_capital", start: start.Add(30 * time.Millisecond),
			dur: 5 * time.Millisecond, err: n%4 == 0,
			attrs: map[string]any{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_capital"}},
		chat(4, 40*time.Millisecond, 50, 30, fmt.Sprintf("The capital of France is Paris (%d).", n)),
	}
}

// TestE2E_Replicas_PostgresConvergeWithoutTraceAffinity runs two tracehound processes on one
// PostgreSQL database. A client sends the spans of the same traces to both, alternately and
// concurrently, children before parents, a third of them twice (once to each replica).
// Either replica's API must then return the same complete records, equal to the ones a
// single bbolt node builds from the same spans: span counts, tokens counted once,
// input/output, status, and the run counting every trace once.
func TestE2E_Replicas_PostgresConvergeWithoutTraceAffinity(t *testing.T) {
	srv := pgtest.Start(t)
	cfg := postgresConfig(t, srv.NewDatabase(t))
	replicas := []*collector{newCollectorWithConfig(t, cfg), newCollectorWithConfig(t, cfg)}
	single := newCollector(t)

	const traces = 30
	runID := fmt.Sprintf("replicas-%d", time.Now().UnixNano())
	base := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	all := make([][]otlpSpan, traces)
	for n := range all {
		all[n] = replicaTrace(n+1, runID, base)
	}

	type job struct {
		to   *collector
		body []byte
	}
	var jobs []job
	// Round-robin over the traces, children first within each, so that the spans of one
	// trace are in flight on both replicas at the same time.
	for i := 3; i >= 0; i-- {
		for n, spans := range all {
			body := spans[i].body(t)
			to := replicas[(n+i)%2]
			jobs = append(jobs, job{to, body})
			if (n+i)%3 == 0 {
				jobs = append(jobs, job{replicas[(n+i+1)%2], body})
			}
			if code := single.post("/v1/traces", "application/x-protobuf", body, single.bearer()); code != http.StatusOK {
				t.Fatalf("single node: POST /v1/traces = %d\n%s", code, single.log.String())
			}
		}
	}
	work := make(chan job)
	errs := make(chan error, len(jobs))
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if err := sendOTLP(client, j.to, j.body); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("send: %v", err)
	}
	if t.Failed() {
		t.Fatalf("replica 1 log:\n%s\nreplica 2 log:\n%s", replicas[0].log.String(), replicas[1].log.String())
	}

	// Acknowledged means committed, so both replicas list everything at once.
	for i, c := range replicas {
		var page struct {
			Records []fixtureRecord `json:"records"`
		}
		if code := c.apiGet("/api/v1/records?limit=1000&run_id="+runID, &page); code != http.StatusOK {
			t.Fatalf("replica %d: list records = %d\n%s", i+1, code, c.log.String())
		}
		if len(page.Records) != traces {
			t.Fatalf("replica %d lists %d records of the run, want %d", i+1, len(page.Records), traces)
		}
	}
	for n, spans := range all {
		id := spans[0].trace.String()
		var fromReplica [2]json.RawMessage
		for i, c := range replicas {
			if code := c.apiGet("/api/v1/records/"+id, &fromReplica[i]); code != http.StatusOK {
				t.Fatalf("replica %d: record %s = %d", i+1, id, code)
			}
		}
		if string(fromReplica[0]) != string(fromReplica[1]) {
			t.Fatalf("trace %d differs between replicas:\n1: %s\n2: %s", n+1, fromReplica[0], fromReplica[1])
		}
		var fromSingle json.RawMessage
		if code := single.apiGet("/api/v1/records/"+id, &fromSingle); code != http.StatusOK {
			t.Fatalf("single node: record %s = %d", id, code)
		}
		var got, want map[string]any
		if err := json.Unmarshal(fromReplica[0], &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(fromSingle, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trace %d on the replicas differs from the single node's record:\nreplicas: %s\nsingle:   %s", n+1, fromReplica[0], fromSingle)
		}

		var r fixtureRecord
		if err := json.Unmarshal(fromReplica[0], &r); err != nil {
			t.Fatal(err)
		}
		wantStatus := "ok"
		if (n+1)%4 == 0 {
			wantStatus = "error"
		}
		checks := []struct {
			field     string
			got, want any
		}{
			{"span_count", r.SpanCount, 4},
			{"llm_call_count", r.LLMCallCount, 2},
			{"usage", fmt.Sprint(r.Usage), fmt.Sprint(struct{ Input, Output, Total int64 }{int64(150 + n + 1), 50, int64(200 + n + 1)})},
			{"status", r.Status, wantStatus},
			{"name", r.Name, "quiz.workflow"},
			{"input", r.Input, fmt.Sprintf("Question %d: what is the capital of France?", n+1)},
			{"output", r.Output, fmt.Sprintf("The capital of France is Paris (%d).", n+1)},
			{"run_id", *r.RunID, runID},
		}
		for _, ch := range checks {
			if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
				t.Errorf("trace %d: %s = %v, want %v", n+1, ch.field, ch.got, ch.want)
			}
		}
	}

	var runs [2]map[string]any
	for i, c := range []*collector{replicas[1], single} {
		if code := c.apiGet("/api/v1/runs/"+runID, &runs[i]); code != http.StatusOK {
			t.Fatalf("run %s = %d", runID, code)
		}
	}
	// The run's cost is a float sum over records that reached each store in a different order:
	// equal up to rounding, not bit for bit.
	c0, _ := runs[0]["cost_usd"].(float64)
	c1, _ := runs[1]["cost_usd"].(float64)
	if c1 <= 0 || math.Abs(c0-c1) > 1e-9*c1 {
		t.Fatalf("run cost on the replicas %v, single node %v", c0, c1)
	}
	delete(runs[0], "cost_usd")
	delete(runs[1], "cost_usd")
	if runs[0]["record_count"] != float64(traces) || !reflect.DeepEqual(runs[0], runs[1]) {
		t.Fatalf("run on the replicas %v\nsingle node %v", runs[0], runs[1])
	}
}
