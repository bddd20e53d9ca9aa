// Command records loads realistic LLM traces into a records exporter through its real
// ingest path (ConsumeTraces → span conversion → the bbolt store's group-committed
// WriteSpans) and measures the records HTTP API on the result.
//
//	go run ./bench/records -n 1000000 -dir /tmp/thbench
//	go run ./bench/records -dir /tmp/thbench -skip-load     # query an existing store again
//
// It prints p50/p99 latencies per query kind, the export rate, store bytes per record and
// the process's memory. Nothing here runs in unit tests.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/exporter/recordsexporter"
	"github.com/tracehound/tracehound/internal/llmschema"
)

var (
	flagN       = flag.Int("n", 1000000, "records (traces of 4 spans) to load")
	flagDir     = flag.String("dir", filepath.Join(os.TempDir(), "tracehound-bench"), "store directory")
	flagBatch   = flag.Int("batch", 100, "traces per export call")
	flagLoaders = flag.Int("loaders", 4, "concurrent export calls")
	flagQueries = flag.Int("queries", 200, "requests per query kind")
	flagOnly    = flag.String("only", "", "run only the query kinds whose name contains this")
	flagDays    = flag.Int("days", 28, "the records' start times spread over this many days before now")
	flagSkip    = flag.Bool("skip-load", false, "query the store in -dir as it is")
	flagProfile = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flagMemProf = flag.String("memprofile", "", "write a heap profile at the end of the run (after a GC) to this file")
)

const (
	services = 6
	users    = 5000
	runs     = 1000
	tenants  = 200
)

var models = []string{"gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet", "claude-3-haiku", "gemini-1.5-flash", "llama-3.1-70b"}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	f := recordsexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*recordsexporter.Config)
	cfg.Path = *flagDir
	// Records are dated up to -days back; age retention would race the benchmark.
	cfg.Retention.MaxAge = 0
	cfg.Timeout = 5 * time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cfg.API.NetAddr.Endpoint = ln.Addr().String()
	_ = ln.Close()
	set := exportertest.NewNopSettings(f.Type())
	exp, err := f.CreateTraces(ctx, set, cfg)
	if err != nil {
		return err
	}
	if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
		return err
	}
	defer func() { _ = exp.Shutdown(context.Background()) }()
	base := "http://" + cfg.API.NetAddr.Endpoint
	g := newGen(*flagN, *flagDays)
	fmt.Printf("machine: %s/%s, %d CPUs, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel())
	if *flagProfile != "" {
		f, err := os.Create(*flagProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if !*flagSkip {
		if err := load(ctx, exp, g); err != nil {
			return err
		}
	}
	return measure(base, g)
}

func load(ctx context.Context, exp interface {
	ConsumeTraces(context.Context, ptrace.Traces) error
}, g *gen) error {
	start := time.Now()
	var next, done atomic.Int64
	errs := make(chan error, *flagLoaders)
	var wg sync.WaitGroup
	for l := 0; l < *flagLoaders; l++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := int(next.Add(int64(*flagBatch))) - *flagBatch
				if from >= g.n {
					return
				}
				to := min(from+*flagBatch, g.n)
				td := ptrace.NewTraces()
				for i := from; i < to; i++ {
					g.trace(td, i)
				}
				if err := exp.ConsumeTraces(ctx, td); err != nil {
					errs <- err
					return
				}
				if d := done.Add(int64(to - from)); d%100000 < int64(*flagBatch) {
					el := time.Since(start)
					fmt.Printf("  loaded %d records in %s (%.0f records/s)\n", d, el.Round(time.Second), float64(d)/el.Seconds())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("load: %w", err)
	}
	el := time.Since(start)
	fmt.Printf("load: %d records (%d spans) in %s: %.0f records/s, %.0f spans/s (fsync on every group commit)\n",
		g.n, 4*g.n, el.Round(time.Second), float64(g.n)/el.Seconds(), float64(4*g.n)/el.Seconds())
	return nil
}

// gen makes deterministic, varied traces: record i is always the same.
type gen struct {
	n     int
	t0    time.Time
	step  time.Duration
	words []string
}

func newGen(n, days int) *gen {
	span := time.Duration(days) * 24 * time.Hour
	end := time.Now().Truncate(time.Hour)
	g := &gen{n: n, t0: end.Add(-span), step: span / time.Duration(max(n, 1))}
	// A Zipf-distributed vocabulary: a few hundred common words, a long tail of rare ones.
	common := strings.Fields(`the a of to and in is it you that for on with as are this be at or
		what how why when which can please explain write summarize translate code error list
		customer order refund account password invoice shipping delivery price plan upgrade
		cancel subscription python javascript function database query table user data report`)
	g.words = append(g.words, common...)
	syl := []string{"ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "zu", "ba", "de", "fi", "go", "hu", "ja"}
	r := rand.New(rand.NewSource(1))
	for len(g.words) < 20000 {
		n := 2 + r.Intn(3)
		var b strings.Builder
		for j := 0; j < n; j++ {
			b.WriteString(syl[r.Intn(len(syl))])
		}
		g.words = append(g.words, b.String())
	}
	return g
}

func (g *gen) rng(i int) *rand.Rand { return rand.New(rand.NewSource(int64(i)*7919 + 17)) }

func (g *gen) text(r *rand.Rand, words int) string {
	z := rand.NewZipf(r, 1.07, 3, uint64(len(g.words)-1))
	parts := make([]string, words)
	for j := range parts {
		parts[j] = g.words[z.Uint64()]
	}
	parts[0] = strings.ToUpper(parts[0][:1]) + parts[0][1:]
	return strings.Join(parts, " ") + "."
}

func traceID(i int) pcommon.TraceID {
	var id pcommon.TraceID
	x := uint64(i)*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019
	binary.BigEndian.PutUint64(id[:8], x^(x>>29))
	binary.BigEndian.PutUint64(id[8:], uint64(i))
	return id
}

func (g *gen) start(i int) time.Time { return g.t0.Add(time.Duration(i) * g.step) }

func (g *gen) runOf(i int) string {
	if i%10 < 3 {
		return fmt.Sprintf("run-%04d", (i/10)%runs)
	}
	return ""
}

func msgs(role, text string) string {
	b, _ := json.Marshal([]llmschema.Message{{Role: role, Parts: []llmschema.Part{{Type: "text", Content: text}}}})
	return string(b)
}

// trace appends record i: workflow root → LLM call, tool call, LLM call, as llmextract and
// errordetect leave them.
func (g *gen) trace(td ptrace.Traces, i int) {
	r := g.rng(i)
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", i%services))
	rs.Resource().Attributes().PutStr("telemetry.sdk.language", "python")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("opentelemetry.instrumentation.openai")
	tid := traceID(i)
	start := g.start(i)
	dur := time.Duration(200+r.ExpFloat64()*1500) * time.Millisecond
	question := g.text(r, 12+r.Intn(40))
	answer := g.text(r, 20+r.Intn(100))
	model := models[r.Intn(len(models))]
	user := fmt.Sprintf("user-%d", r.Intn(users))
	status := r.Intn(100)
	add := func(id, parent byte, name string, from, to time.Duration, attrs map[string]any) ptrace.Span {
		s := ss.Spans().AppendEmpty()
		s.SetTraceID(tid)
		s.SetSpanID(pcommon.SpanID{id, byte(i), byte(i >> 8), byte(i >> 16)})
		if parent != 0 {
			s.SetParentSpanID(pcommon.SpanID{parent, byte(i), byte(i >> 8), byte(i >> 16)})
		}
		s.SetName(name)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(from)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(to)))
		_ = s.Attributes().FromRaw(attrs)
		return s
	}
	root := map[string]any{
		llmschema.SpanKind: "workflow", llmschema.Input: question, llmschema.Output: answer,
		llmschema.UserID: user, llmschema.SessionID: fmt.Sprintf("sess-%d", r.Intn(users*4)),
		llmschema.MetadataPrefix + "tenant": fmt.Sprintf("t%d", r.Intn(tenants)),
		llmschema.MetadataPrefix + "env":    []string{"prod", "staging", "dev"}[r.Intn(3)],
		llmschema.ProjectID:                 llmschema.DefaultProject,
	}
	if run := g.runOf(i); run != "" {
		root[llmschema.RunID] = run
	}
	if status < 5 {
		root[llmschema.Flags] = `[{"code":"off_topic","category":"behavioral","severity":"warning","message":"answer shares little with the question"}]`
	}
	rootSpan := add(1, 0, "assistant.workflow", 0, dur, root)
	llm := func(id byte, from, to time.Duration, in, out string) {
		itok, otok := int64(len(in)/4+20), int64(len(out)/4+1)
		add(id, 1, "chat "+model, from, to, map[string]any{
			llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.OperationName: "chat",
			llmschema.ProviderName: "openai", llmschema.RequestModel: model, llmschema.ResponseModel: model,
			llmschema.Input: in, llmschema.Output: out,
			llmschema.InputMessages:    `[{"role":"system","parts":[{"type":"text","content":"You are a helpful assistant."}]},` + msgs("user", in)[1:],
			llmschema.OutputMessages:   msgs("assistant", out),
			llmschema.UsageInputTokens: itok, llmschema.UsageOutputTokens: otok,
			llmschema.CostUSD:       float64(itok)*0.15e-6 + float64(otok)*0.6e-6,
			llmschema.FinishReasons: []any{"stop"},
		})
	}
	llm(2, 5*time.Millisecond, dur*4/10, question, "→ lookup({\"q\":\"...\"})")
	add(3, 1, "lookup.tool", dur*4/10+time.Millisecond, dur*5/10, map[string]any{
		llmschema.SpanKind: "tool", llmschema.ToolName: "lookup", llmschema.Input: `{"q":"..."}`, llmschema.Output: g.text(r, 15),
	})
	llm(4, dur*5/10+time.Millisecond, dur-time.Millisecond, question, answer)
	if status >= 97 {
		rootSpan.Status().SetCode(ptrace.StatusCodeError)
		rootSpan.Status().SetMessage("upstream timeout")
	}
}

type result struct {
	name string
	lat  []time.Duration
	note string
}

func (r *result) print() {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	q := func(p float64) time.Duration { return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))] }
	fmt.Printf("%-34s n=%-4d p50=%8.2fms  p99=%8.2fms  %s\n", r.name, len(r.lat),
		float64(q(0.50).Microseconds())/1000, float64(q(0.99).Microseconds())/1000, r.note)
}

func (g *gen) question(i int) string {
	r := g.rng(i)
	r.ExpFloat64()
	return g.text(r, 12+r.Intn(40))
}

type client struct {
	base string
	hc   *http.Client
}

func (c *client) get(path string) (time.Duration, []byte, error) {
	t := time.Now()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	el := time.Since(t)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, nil, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return el, body, nil
}

func measure(base string, g *gen) error {
	c := &client{base: base, hc: &http.Client{Timeout: 10 * time.Minute}}
	r := rand.New(rand.NewSource(42))
	ts := func(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339)) }
	day := func() (string, string) {
		from := g.t0.Add(time.Duration(r.Int63n(int64(time.Duration(*flagDays-1) * 24 * time.Hour))))
		return ts(from), ts(from.Add(24 * time.Hour))
	}
	word := func() string { return g.words[50+r.Intn(2000)] }
	pick := func() int { return r.Intn(g.n) }
	// A run that exists whatever -n is: the run of a random record that has one.
	someRun := func() string { return g.runOf(r.Intn(g.n/10+1)*10 + r.Intn(3)) }
	questionWords := func() []string { return strings.Fields(strings.ToLower(strings.Trim(g.question(pick()), "."))) }
	kinds := []struct {
		name string
		path func() string
	}{
		{"list newest (limit 50)", func() string { return "/api/v1/records?limit=50" }},
		{"filter status=error + 24h", func() string { f, t := day(); return "/api/v1/records?status=error&from=" + f + "&to=" + t }},
		{"filter status=flagged + 24h", func() string { f, t := day(); return "/api/v1/records?status=flagged&from=" + f + "&to=" + t }},
		{"filter meta.tenant", func() string { return fmt.Sprintf("/api/v1/records?meta.tenant=t%d", r.Intn(tenants)) }},
		{"filter meta.env+model+24h", func() string {
			f, t := day()
			return "/api/v1/records?meta.env=prod&model=" + url.QueryEscape(models[r.Intn(len(models))]) + "&from=" + f + "&to=" + t
		}},
		{"filter run_id", func() string { return "/api/v1/records?run_id=" + someRun() }},
		{"sort=-cost (limit 50)", func() string { return "/api/v1/records?sort=-cost&limit=50" }},
		{"search 1 word", func() string { return "/api/v1/records?q=" + word() }},
		{"search 2 words of a record", func() string {
			w := questionWords()
			return "/api/v1/records?q=" + url.QueryEscape(w[r.Intn(len(w))]+" "+w[r.Intn(len(w))])
		}},
		{"search phrase of a record", func() string {
			w := questionWords()
			k := r.Intn(len(w) - 1)
			return "/api/v1/records?q=" + url.QueryEscape(`"`+w[k]+" "+w[k+1]+`"`)
		}},
		{"search word + status=error", func() string { return "/api/v1/records?status=error&q=" + word() }},
		{"run aggregate GET /runs/{id}", func() string { return "/api/v1/runs/" + someRun() }},
		{"runs list (limit 50)", func() string { return "/api/v1/runs?limit=50" }},
		{"stats group_by=model 24h+1h buckets", func() string { f, t := day(); return "/api/v1/stats?group_by=model&bucket=1h&from=" + f + "&to=" + t }},
		{"stats group_by=user 24h", func() string { f, t := day(); return "/api/v1/stats?group_by=user&from=" + f + "&to=" + t }},
		{"record detail", func() string {
			id := traceID(pick())
			return "/api/v1/records/" + hex(id[:])
		}},
	}
	fmt.Printf("queries: %d per kind, one client, sequential, over HTTP on loopback\n", *flagQueries)
	for _, k := range kinds {
		if !strings.Contains(k.name, *flagOnly) {
			continue
		}
		res := &result{name: k.name}
		var hits int
		for q := 0; q < *flagQueries; q++ {
			el, body, err := c.get(k.path())
			if err != nil {
				return err
			}
			res.lat = append(res.lat, el)
			hits += strings.Count(string(body), `"trace_id"`)
		}
		res.note = fmt.Sprintf("avg rows %.1f", float64(hits)/float64(*flagQueries))
		res.print()
	}

	el, body, err := c.get("/api/v1/stats?group_by=service")
	if err != nil {
		return err
	}
	var total struct {
		Total struct {
			RecordCount int64 `json:"record_count"`
		} `json:"total"`
	}
	_ = json.Unmarshal(body, &total)
	fmt.Printf("stats over all records (group_by=service): %d records in %s\n", total.Total.RecordCount, el.Round(time.Millisecond))

	exportN := min(200000, int(total.Total.RecordCount))
	t := time.Now()
	resp, err := c.hc.Get(fmt.Sprintf("%s/api/v1/records/export?format=jsonl&limit=%d", base, exportN))
	if err != nil {
		return err
	}
	lines, bytes := 0, 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines++
		bytes += len(sc.Bytes()) + 1
	}
	resp.Body.Close()
	if err := sc.Err(); err != nil {
		return err
	}
	exEl := time.Since(t)
	fmt.Printf("export: %d records (%.0f MiB JSONL) in %s: %.0f records/s\n", lines, float64(bytes)/(1<<20), exEl.Round(time.Millisecond), float64(lines)/exEl.Seconds())

	// The store's files: tracehound.db and the span log's segments under spans/.
	var size int64
	if err := filepath.WalkDir(*flagDir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			size += fi.Size()
		}
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("store: %.2f GiB on disk, %.0f bytes per record (%d records; spans kept raw)\n",
		float64(size)/(1<<30), float64(size)/float64(max(total.Total.RecordCount, 1)), total.Total.RecordCount)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	inuse := ms.HeapInuse
	runtime.GC()
	runtime.ReadMemStats(&ms)
	fmt.Printf("memory: RSS %s, peak RSS %s, Go heap in use %.0f MiB, %.0f MiB live after a GC (RSS includes the file pages bbolt has mapped)\n",
		procStatus("VmRSS"), procStatus("VmHWM"), float64(inuse)/(1<<20), float64(ms.HeapAlloc)/(1<<20))
	if *flagMemProf != "" {
		f, err := os.Create(*flagMemProf)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return fmt.Errorf("heap profile: %w", err)
		}
	}
	return nil
}

func hex(b []byte) string { return fmt.Sprintf("%x", b) }

func procStatus(key string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return "?"
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
