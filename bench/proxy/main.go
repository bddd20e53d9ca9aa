// Command proxy measures the latency the llmproxy receiver adds to OpenAI-style calls:
// the same requests go to a local fake upstream directly and through the proxy, at 1
// and at 200 concurrent clients, non-streaming (full response) and streaming (time to
// the first chunk and to the end of the stream). It prints percentiles, the added
// latency, the spans the pipeline received and the process's peak RSS.
//
//	go run ./bench/proxy [-n 2000] [-concurrency 1,200] [-chunks 20]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/tracehound/tracehound/receiver/llmproxyreceiver"
)

const chatResponse = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":7,"total_tokens":26}}`

const (
	chatRequest   = `{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You answer geography questions."},{"role":"user","content":"What is the capital of France?"}],"temperature":0.2}`
	streamRequest = `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"What is the capital of France?"}]}`
)

func main() {
	n := flag.Int("n", 2000, "requests per scenario and concurrency level (at least 10 per client)")
	concList := flag.String("concurrency", "1,200", "comma-separated concurrency levels")
	chunks := flag.Int("chunks", 20, "chunks per streamed response")
	delay := flag.Duration("upstream-delay", 0, "fake upstream's time to first byte (models provider latency, so that 200 clients do not just saturate the CPU)")
	interval := flag.Duration("chunk-interval", 0, "fake upstream's pause between streamed chunks")
	only := flag.String("scenarios", "chat,stream-ttft,stream-end", "comma-separated scenarios to run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatalf("create CPU profile: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatalf("start CPU profile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}

	upstream, err := startUpstream(*chunks, *delay, *interval)
	if err != nil {
		log.Fatalf("start fake upstream: %v", err)
	}
	spans := &countingConsumer{}
	proxyURL, shutdown, err := startProxy(upstream, spans)
	if err != nil {
		log.Fatalf("start proxy: %v", err)
	}
	defer shutdown()

	fmt.Printf("llmproxy added latency (GOMAXPROCS=%d, %s/%s, upstream delay %v, %d chunks per stream %v apart)\n",
		runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, *delay, *chunks, *interval)
	fmt.Printf("%-11s %5s %7s | %9s %9s | %9s %9s | %9s %9s | %s\n",
		"scenario", "conc", "reqs", "direct50", "direct99", "proxy50", "proxy99", "added50", "added99", "added CPU/call")
	for _, cs := range strings.Split(*concList, ",") {
		conc, err := strconv.Atoi(strings.TrimSpace(cs))
		if err != nil || conc < 1 {
			log.Fatalf("bad concurrency %q", cs)
		}
		total := max(*n, conc*10)
		client := newClient(conc)
		for _, sc := range []struct {
			name   string
			stream bool
			ttft   bool
		}{{"chat", false, false}, {"stream-ttft", true, true}, {"stream-end", true, false}} {
			if !strings.Contains(","+*only+",", ","+sc.name+",") {
				continue
			}
			// Warm both paths so connection setup is not measured.
			run(client, upstream, sc.stream, sc.ttft, conc, conc*2)
			run(client, proxyURL, sc.stream, sc.ttft, conc, conc*2)
			cpu0 := cpuTime()
			direct := run(client, upstream, sc.stream, sc.ttft, conc, total)
			cpu1 := cpuTime()
			proxied := run(client, proxyURL, sc.stream, sc.ttft, conc, total)
			cpu2 := cpuTime()
			d50, d99 := pct(direct, 50), pct(direct, 99)
			p50, p99 := pct(proxied, 50), pct(proxied, 99)
			// Process CPU (client, fake upstream and proxy share it): the difference
			// between the two runs is the proxy's own cost, robust to other load on
			// the machine, which inflates wall-clock percentiles.
			addedCPU := ((cpu2 - cpu1) - (cpu1 - cpu0)) / time.Duration(total)
			fmt.Printf("%-11s %5d %7d | %9s %9s | %9s %9s | %9s %9s | %s\n",
				sc.name, conc, total, ms(d50), ms(d99), ms(p50), ms(p99), ms(p50-d50), ms(p99-d99), ms(addedCPU))
		}
		client.CloseIdleConnections()
	}
	shutdown()
	fmt.Printf("spans emitted to the pipeline: %d\n", spans.spans.Load())
	fmt.Printf("process peak RSS (VmHWM): %s, RSS now: %s\n", procStatus("VmHWM"), procStatus("VmRSS"))
}

// run sends total requests from conc goroutines and returns one latency per request:
// to the end of the body, or to the first streamed chunk when ttft is set.
func run(client *http.Client, base string, stream, ttft bool, conc, total int) []time.Duration {
	body := chatRequest
	if stream {
		body = streamRequest
	}
	lat := make([]time.Duration, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer sk-bench")
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					log.Fatalf("request to %s: %v", base, err)
				}
				if resp.StatusCode != http.StatusOK {
					log.Fatalf("request to %s: status %d", base, resp.StatusCode)
				}
				if ttft {
					if _, err := resp.Body.Read(buf); err != nil && err != io.EOF {
						log.Fatalf("read first chunk: %v", err)
					}
					lat[i] = time.Since(start)
					_, _ = io.CopyBuffer(io.Discard, resp.Body, buf)
				} else {
					_, _ = io.CopyBuffer(io.Discard, resp.Body, buf)
					lat[i] = time.Since(start)
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	return lat
}

func newClient(conc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        conc * 2,
		MaxIdleConnsPerHost: conc * 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// startUpstream serves a fixed chat completion, or a stream of chunks flushed one by one.
func startUpstream(chunks int, delay, interval time.Duration) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var stream bytes.Buffer
	stream.WriteString(`data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n")
	for i := range chunks {
		fmt.Fprintf(&stream, `data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"word%d "},"finish_reason":null}]}`+"\n\n", i)
	}
	stream.WriteString(`data: {"id":"chatcmpl-2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\ndata: [DONE]\n\n")
	events := bytes.SplitAfter(stream.Bytes(), []byte("\n\n"))

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if delay > 0 {
			time.Sleep(delay)
		}
		if !bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(chatResponse)))
			_, _ = io.WriteString(w, chatResponse)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for _, ev := range events {
			if len(ev) == 0 {
				continue
			}
			_, _ = w.Write(ev)
			_ = rc.Flush()
			if interval > 0 {
				time.Sleep(interval)
			}
		}
	})
	go func() { _ = http.Serve(ln, handler) }()
	return "http://" + ln.Addr().String(), nil
}

func startProxy(upstream string, next consumer.Traces) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()

	f := llmproxyreceiver.NewFactory()
	cfg := f.CreateDefaultConfig()
	conf := map[string]any{
		"endpoint": addr,
		"upstreams": map[string]any{
			"openai": map[string]any{"url": upstream},
		},
	}
	if err := unmarshal(conf, cfg); err != nil {
		return "", nil, err
	}
	r, err := f.CreateTraces(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, next)
	if err != nil {
		return "", nil, err
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		return "", nil, err
	}
	var once sync.Once
	return "http://" + addr, func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = r.Shutdown(ctx)
		})
	}, nil
}

type countingConsumer struct{ spans atomic.Int64 }

func (*countingConsumer) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *countingConsumer) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	c.spans.Add(int64(td.SpanCount()))
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	idx := (len(s)*p + 99) / 100
	if idx > 0 {
		idx--
	}
	return s[idx]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d.Microseconds())/1000) }

// cpuTime is the user plus system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func procStatus(field string) string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}

func unmarshal(raw map[string]any, cfg component.Config) error {
	return confmap.NewFromStringMap(raw).Unmarshal(cfg)
}
