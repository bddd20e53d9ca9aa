// Command loadgen sends a fixed, seeded corpus of realistic LLM traces to an OTLP endpoint,
// closed-loop (to find saturation) or open-loop at a target rate, and prints what the system
// under test sustained: spans/s, MB/s, CPU-seconds per 10k spans and RSS of its process, and
// optionally the time from send to queryable.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracehound/tracehound/bench/internal/benchresult"
	"github.com/tracehound/tracehound/internal/benchcorpus"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

type options struct {
	name        string
	protocol    string
	endpoint    string
	authHeader  string
	duration    time.Duration
	concurrency int
	rate        float64
	perRequest  int
	seed        int64
	pid         int
	queryURL    string
	probes      int
}

type result = benchresult.Result

func main() {
	var o options
	flag.StringVar(&o.name, "name", "sut", "label of the system under test")
	flag.StringVar(&o.protocol, "protocol", "grpc", "grpc or http")
	flag.StringVar(&o.endpoint, "endpoint", "127.0.0.1:4317", "host:port (grpc) or URL (http)")
	flag.StringVar(&o.authHeader, "auth", "", "Authorization header value, e.g. 'Bearer th_...'")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long to send")
	flag.IntVar(&o.concurrency, "concurrency", 8, "concurrent senders")
	flag.Float64Var(&o.rate, "rate", 0, "open-loop requests per second in total (0: closed loop)")
	flag.IntVar(&o.perRequest, "traces-per-request", 10, "traces in one OTLP request")
	flag.Int64Var(&o.seed, "seed", 42, "corpus seed")
	flag.IntVar(&o.pid, "pid", 0, "process of the system under test, for CPU and RSS")
	flag.StringVar(&o.queryURL, "query-url", "", "URL with %s for a trace ID that returns 200 once it is queryable")
	flag.IntVar(&o.probes, "probes", 50, "send-to-queryable samples when -query-url is set")
	freePort := flag.Bool("free-port", false, "print a free TCP port on 127.0.0.1 and exit")
	flag.Parse()
	if *freePort {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
		_ = l.Close()
		return
	}
	res, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

type sender func(ctx context.Context, td ptrace.Traces) (int, error)

func newSender(o options) (sender, func(), error) {
	switch o.protocol {
	case "grpc":
		conn, err := grpc.NewClient(o.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, nil, fmt.Errorf("dial %s: %w", o.endpoint, err)
		}
		client := ptraceotlp.NewGRPCClient(conn)
		return func(ctx context.Context, td ptrace.Traces) (int, error) {
			if o.authHeader != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", o.authHeader)
			}
			req := ptraceotlp.NewExportRequestFromTraces(td)
			_, err := client.Export(ctx, req)
			return (&ptrace.ProtoMarshaler{}).TracesSize(td), err
		}, func() { _ = conn.Close() }, nil
	case "http":
		hc := &http.Client{Timeout: 30 * time.Second}
		return func(ctx context.Context, td ptrace.Traces) (int, error) {
			body, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
			if err != nil {
				return 0, err
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.endpoint, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-protobuf")
			if o.authHeader != "" {
				req.Header.Set("Authorization", o.authHeader)
			}
			resp, err := hc.Do(req)
			if err != nil {
				return len(body), err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return len(body), fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return len(body), nil
		}, func() {}, nil
	}
	return nil, nil, fmt.Errorf("protocol %q: want grpc or http", o.protocol)
}

func run(o options) (*result, error) {
	send, closeFn, err := newSender(o)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	runTag := uint32(time.Now().UnixNano())
	cpu0, self0 := procCPUSeconds(o.pid), procCPUSeconds(os.Getpid())

	var requests, errs, spans, bytesSent atomic.Int64
	var latMu sync.Mutex
	var lat []time.Duration
	// Senders stop starting requests at the deadline and let the ones in flight finish, so
	// that the end of the run is not counted as errors.
	deadline := time.Now().Add(o.duration)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var tick <-chan time.Time
	if o.rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
		defer t.Stop()
		tick = t.C
	}
	var peakAnon atomic.Int64 // KiB
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if m := procMem(o.pid); m.anonKiB > peakAnon.Load() {
				peakAnon.Store(m.anonKiB)
			}
			select {
			case <-t.C:
			case <-stopSampling:
				return
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := benchcorpus.New(o.seed + int64(w))
			tag := runTag + uint32(w)<<20
			var local []time.Duration
			for ctx.Err() == nil {
				if tick != nil {
					select {
					case <-tick:
					case <-ctx.Done():
						continue
					}
				}
				td := c.Batch(o.perRequest, tag, nil)
				t0 := time.Now()
				reqCtx, reqCancel := context.WithTimeout(context.Background(), 30*time.Second)
				n, err := send(reqCtx, td)
				reqCancel()
				local = append(local, time.Since(t0))
				requests.Add(1)
				if err != nil {
					errs.Add(1)
					continue
				}
				spans.Add(int64(td.SpanCount()))
				bytesSent.Add(int64(n))
			}
			latMu.Lock()
			lat = append(lat, local...)
			latMu.Unlock()
		}(w)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	cpu1, self1 := procCPUSeconds(o.pid), procCPUSeconds(os.Getpid())
	close(stopSampling)
	<-sampled

	mode := "closed-loop"
	if o.rate > 0 {
		mode = fmt.Sprintf("open-loop %.0f req/s", o.rate)
	}
	res := &result{
		Name: o.name, Protocol: o.protocol, Mode: mode, Seconds: secs, Concurrency: o.concurrency,
		Requests: requests.Load(), Errors: errs.Load(), Spans: spans.Load(),
		SpansPerSec: float64(spans.Load()) / secs,
		MBPerSec:    float64(bytesSent.Load()) / secs / (1 << 20),
		ReqP50ms:    percentile(lat, 0.50), ReqP99ms: percentile(lat, 0.99),
	}
	if spans.Load() > 0 {
		res.LoadgenCPUSecPer10k = (self1 - self0) / float64(spans.Load()) * 1e4
	}
	if o.pid > 0 && spans.Load() > 0 {
		res.CPUSecPer10k = (cpu1 - cpu0) / float64(spans.Load()) * 1e4
		m := procMem(o.pid)
		res.RSSMiB, res.PeakRSSMiB = float64(m.rssKiB)/1024, float64(m.peakKiB)/1024
		res.PeakAnonMiB, res.FileMiB = float64(peakAnon.Load())/1024, float64(m.fileKiB)/1024
	}
	if o.queryURL != "" {
		q, n, err := probeQueryable(o, send)
		if err != nil {
			return nil, err
		}
		res.QueryableP50ms, res.QueryableP99ms, res.QueryableSamples = percentile(q, 0.5), percentile(q, 0.99), n
	}
	return res, nil
}

// probeQueryable sends single traces at a low rate and polls the query URL until each is
// visible, measuring send-to-queryable time.
func probeQueryable(o options, send sender) ([]time.Duration, int, error) {
	c := benchcorpus.New(o.seed + 1000)
	hc := &http.Client{Timeout: 5 * time.Second}
	var out []time.Duration
	for i := 0; i < o.probes; i++ {
		var ids []pcommon.TraceID
		td := c.Batch(1, uint32(time.Now().UnixNano())|1, &ids)
		t0 := time.Now()
		if _, err := send(context.Background(), td); err != nil {
			return nil, 0, fmt.Errorf("probe send: %w", err)
		}
		url := fmt.Sprintf(o.queryURL, ids[0].String())
		for {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			if o.authHeader != "" {
				req.Header.Set("Authorization", o.authHeader)
			}
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Since(t0) > 30*time.Second {
				return nil, 0, fmt.Errorf("trace %s not queryable at %s after 30s", ids[0], url)
			}
			time.Sleep(time.Millisecond)
		}
		out = append(out, time.Since(t0))
		time.Sleep(20 * time.Millisecond)
	}
	return out, len(out), nil
}

func percentile(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[int(p*float64(len(s)-1))]) / 1e6
}
