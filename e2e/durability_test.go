package e2e

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math/rand"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var long = flag.Bool("long", false, "run the deeper reliability scenarios (more kills, more load)")

// kill ends the process with SIGKILL: no shutdown hooks, no flush.
func (c *collector) kill() {
	c.t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
	c.cmd = nil
}

// batchOfTraces is one OTLP request: traces whole, 4 spans each, IDs derived from seq.
func batchOfTraces(seq, traces int) (body []byte, ids []string) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "durability")
	ss := rs.ScopeSpans().AppendEmpty()
	now := time.Now()
	for i := 0; i < traces; i++ {
		tid := pcommon.TraceID{0xd0, byte(seq >> 16), byte(seq >> 8), byte(seq), byte(i)}
		ids = append(ids, hex.EncodeToString(tid[:]))
		for s := 1; s <= 4; s++ {
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID(tid)
			sp.SetSpanID(pcommon.SpanID{byte(s)})
			if s > 1 {
				sp.SetParentSpanID(pcommon.SpanID{1})
			}
			sp.SetName("step")
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(s) * time.Millisecond)))
			sp.Attributes().PutStr("gen_ai.operation.name", "chat")
			sp.Attributes().PutInt("gen_ai.usage.input_tokens", 10)
			if s == 1 {
				// Every trace is found by searching for this word (the text index).
				sp.Attributes().PutStr("input.value", "durability "+searchWord)
			}
		}
	}
	body, _ = (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	return body, ids
}

// searchWord is in every trace's input.
const searchWord = "kestrel"

// TestDurability_KillLoop kills the collector with SIGKILL at random moments while a retrying
// client keeps sending. Every request that got a 200 must be queryable afterwards, exactly once,
// and found by text search too (the text index rebuilds what was not written into it yet).
func TestDurability_KillLoop(t *testing.T) {
	kills := 20
	if *long {
		kills = 100
	}
	c := newCollector(t)
	url := "http://" + c.httpAddr + "/v1/traces"

	var mu sync.Mutex
	acked := map[string]bool{}
	sentAfterAck := 0
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	const clients = 4
	for cl := 0; cl < clients; cl++ {
		wg.Add(1)
		go func(cl int) {
			defer wg.Done()
			httpc := &http.Client{Timeout: 5 * time.Second}
			for seq := cl; ctx.Err() == nil; seq += clients {
				body, ids := batchOfTraces(seq, 5)
				// Retry the same request until it is acknowledged, as OTLP exporters do.
				for attempt := 0; ; attempt++ {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/x-protobuf")
					req.Header.Set("Authorization", c.bearer())
					resp, err := httpc.Do(req)
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							mu.Lock()
							for _, id := range ids {
								acked[id] = true
							}
							if attempt > 0 {
								sentAfterAck++
							}
							mu.Unlock()
							break
						}
					}
					if ctx.Err() != nil {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(cl)
	}

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; i < kills; i++ {
		time.Sleep(time.Duration(50+rng.Intn(250)) * time.Millisecond)
		c.kill()
		c.start()
	}
	time.Sleep(200 * time.Millisecond)
	stop()
	wg.Wait()

	list := func(query string) map[string]int {
		got := map[string]int{}
		cursor := ""
		for {
			var page struct {
				Records []struct {
					ID        string `json:"id"`
					SpanCount int    `json:"span_count"`
				} `json:"records"`
				NextCursor *string `json:"next_cursor"`
			}
			path := "/api/v1/records?limit=1000" + query
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			if code := c.apiGet(path, &page); code != http.StatusOK {
				t.Fatalf("list%s after kills: %d", query, code)
			}
			for _, r := range page.Records {
				got[r.ID] = r.SpanCount
			}
			if page.NextCursor == nil {
				return got
			}
			cursor = *page.NextCursor
		}
	}
	got, found := list(""), list("&q="+searchWord)
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 50 {
		t.Fatalf("only %d traces acknowledged over %d kills: the load did not run", len(acked), kills)
	}
	lost, dup := 0, 0
	for id := range acked {
		n, ok := got[id]
		if !ok {
			lost++
			continue
		}
		if n != 4 {
			dup++
			t.Errorf("trace %s has %d spans, want 4 (retries must merge)", id, n)
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged traces lost after %d SIGKILLs", lost, len(acked), kills)
	}
	unfound := 0
	for id := range acked {
		if _, ok := found[id]; !ok {
			unfound++
		}
	}
	if unfound > 0 {
		t.Fatalf("%d of %d acknowledged traces not found by searching %q after %d SIGKILLs", unfound, len(acked), searchWord, kills)
	}
	// Every acknowledged trace's spans read back: their bodies are in the span log, which a
	// commit syncs before bbolt commits the pointers to them.
	unreadable := 0
	for id := range acked {
		var trace struct {
			ResourceSpans []struct {
				ScopeSpans []struct {
					Spans []json.RawMessage `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		if code := c.apiGet("/api/v1/traces/"+id, &trace); code != http.StatusOK {
			unreadable++
			t.Errorf("spans of trace %s after kills: %d", id, code)
			continue
		}
		n := 0
		for _, rs := range trace.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				n += len(ss.Spans)
			}
		}
		if n != 4 {
			unreadable++
			t.Errorf("trace %s reads back %d spans, want 4", id, n)
		}
	}
	if unreadable > 0 {
		t.Fatalf("%d of %d acknowledged traces' spans unreadable after %d SIGKILLs", unreadable, len(acked), kills)
	}
	t.Logf("%d SIGKILLs: %d acknowledged traces all present, found by search and their spans read back, %d stored in total, %d requests acknowledged only after a retry, %d wrong span counts",
		kills, len(acked), len(got), sentAfterAck, dup)
}
