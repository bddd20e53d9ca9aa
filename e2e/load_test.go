package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// peakRSSMiB reads VmHWM of a process.
func peakRSSMiB(t *testing.T, pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// TestLoad_ConcurrentClientsAndReaders runs many OTLP clients and API readers at once for a
// bounded time. Only documented back-pressure (429/503) may fail a request, and memory stays
// under the memory_limiter's bound (1500 MiB in the default config).
func TestLoad_ConcurrentClientsAndReaders(t *testing.T) {
	clients, readers, duration := 100, 10, 4*time.Second
	if *long {
		clients, readers, duration = 500, 50, 30*time.Second
	}
	c := newCollector(t)
	var sent, backpressure, failed, reads, readFailed atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients + readers}}
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for seq := 0; time.Now().Before(deadline); seq++ {
				body, _ := batchOfTraces(i<<12|seq, 2)
				req, _ := http.NewRequest(http.MethodPost, "http://"+c.httpAddr+"/v1/traces", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-protobuf")
				req.Header.Set("Authorization", c.bearer())
				resp, err := httpc.Do(req)
				switch {
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				case resp.StatusCode == http.StatusOK:
					sent.Add(1)
				case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
					backpressure.Add(1)
				default:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("HTTP %d", resp.StatusCode))
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		}(i)
	}
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, "http://"+c.apiAddr+"/api/v1/records?limit=50", nil)
				req.Header.Set("Authorization", c.bearer())
				resp, err := httpc.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					readFailed.Add(1)
				} else {
					reads.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	rss := peakRSSMiB(t, c.cmd.Process.Pid)
	t.Logf("%d clients, %d readers, %s: %d requests acknowledged, %d back-pressure, %d failed (%v); %d reads, %d failed; peak RSS %.0f MiB",
		clients, readers, duration, sent.Load(), backpressure.Load(), failed.Load(), firstErr.Load(), reads.Load(), readFailed.Load(), rss)
	if failed.Load() > 0 || readFailed.Load() > 0 {
		t.Fatalf("%d ingest and %d read requests failed beyond back-pressure (first: %v)", failed.Load(), readFailed.Load(), firstErr.Load())
	}
	if sent.Load() == 0 || reads.Load() == 0 {
		t.Fatal("no load went through")
	}
	if rss > 1500 {
		t.Fatalf("peak RSS %.0f MiB is over the memory_limiter's 1500 MiB", rss)
	}
}
