package e2e

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracehound/tracehound/internal/pricing"
)

var updateCompat = flag.Bool("update-compat", false,
	"write docs/compatibility.md from this run's results instead of failing when they differ")

// compatClient is one real client library: a Node.js script in e2e/clients or a Go function.
type compatClient struct {
	// ID names the project the client's key belongs to and its run.
	ID string
	// Script is the Node.js script in e2e/clients that drives the library; Run drives a Go
	// client instead.
	Script string
	Run    func(h *compatHarness, cl compatClient, key string) (map[string]scenarioReport, error)
	// Library is the name a user knows; Packages are the npm packages whose installed
	// versions the matrix shows (aliases such as ai-v6 are shown by their real name).
	Library  string
	Packages []string
	// GoModules are Go modules whose versions (from go.mod) the matrix shows.
	GoModules []string
	Transport string
	// Env is the configuration a user of this library would set, beyond the common one.
	Env func(h *compatHarness, key string) []string
	// NotApplicable names checks the library gives no way to satisfy, with the reason.
	NotApplicable map[string]string
	// NotRun names cases the library cannot run here, with the reason.
	NotRun map[string]string
	// RunVia says how the script sets the run id (scorecard.tracing_group_id).
	RunVia string
	// Identity: the script sets user "user-compat" and session "session-compat" the way the
	// library documents, and every record must show them.
	Identity bool
}

const openAIOnly = "an OpenAI API scenario; this client only calls Anthropic"

var compatClients = []compatClient{
	{
		ID: "plain-otel", Script: "plain-otel.cjs",
		Library:   "OpenTelemetry JS SDK, hand-written GenAI semconv spans",
		Packages:  []string{"@opentelemetry/sdk-trace-node", "@opentelemetry/exporter-trace-otlp-http"},
		Transport: "OTLP/HTTP JSON, `Authorization: Bearer`",
		Identity:  true,
		RunVia:    "span attribute",
		NotApplicable: map[string]string{
			"embeddings/input": "the GenAI semconv has no attribute for embedding inputs",
		},
		NotRun: map[string]string{
			"responses":        "hand-written spans: a Responses API call gives the same span as chat",
			"responses_stream": "hand-written spans: a Responses API call gives the same span as chat",
			"anthropic_stream": "hand-written spans: a streamed call gives the same span as the anthropic case",
		},
	},
	{
		ID: "traceloop", Script: "traceloop.cjs",
		Library:   "OpenLLMetry JS (Traceloop SDK) + openai, @anthropic-ai/sdk",
		Packages:  []string{"@traceloop/node-server-sdk", "openai", "@anthropic-ai/sdk"},
		Transport: "OTLP/HTTP protobuf, `TRACELOOP_BASE_URL` + `TRACELOOP_HEADERS=Authorization=Bearer%20<key>`",
		Identity:  true,
		RunVia:    "association property (`withAssociationProperties`)",
		Env: func(h *compatHarness, key string) []string {
			return []string{
				"TRACELOOP_BASE_URL=http://" + h.c.httpAddr,
				"TRACELOOP_HEADERS=Authorization=Bearer%20" + key,
			}
		},
	},
	{
		ID: "openinference", Script: "openinference.cjs",
		Library:   "OpenInference OpenAI and Anthropic instrumentations",
		Packages:  []string{"@arizeai/openinference-instrumentation-openai", "@arizeai/openinference-instrumentation-anthropic", "openai", "@anthropic-ai/sdk", "@opentelemetry/exporter-trace-otlp-proto"},
		Transport: "OTLP/HTTP protobuf, `x-tracehound-api-key`",
		Identity:  true,
		RunVia:    "span attribute (openinference-core `setAttributes`)",
	},
	{
		ID: "anthropic-native", Script: "anthropic-native.cjs",
		Library:   "Anthropic TypeScript SDK, its built-in OpenTelemetry spans",
		Packages:  []string{"@anthropic-ai/sdk", "@opentelemetry/sdk-trace-node", "@opentelemetry/exporter-trace-otlp-proto"},
		Transport: "OTLP/HTTP protobuf, `Authorization: Bearer`; content opted in with `ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content`",
		RunVia:    "resource attribute",
		Env: func(*compatHarness, string) []string {
			return []string{"ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE=content"}
		},
		NotRun: map[string]string{
			"chat": openAIOnly, "stream": openAIOnly, "responses": openAIOnly, "responses_stream": openAIOnly, "tools": openAIOnly, "embeddings": openAIOnly,
			"error": openAIOnly, "server_error": openAIOnly,
		},
	},
	{
		ID: "go-proxy", Run: (*compatHarness).runGoProxyClient,
		Library:   "`openai-go` and `anthropic-sdk-go` through the `llmproxy` receiver",
		GoModules: []string{"github.com/openai/openai-go/v3", "github.com/anthropics/anthropic-sdk-go/v2"},
		Transport: "llmproxy (base URL + `x-tracehound-api-key`), which forwards to the provider",
		RunVia:    "`x-tracehound-run-id` header",
		Identity:  true,
	},
	{
		ID: "vercel-ai-v7", Script: "vercel-ai-v7.mjs",
		Library:   "Vercel AI SDK 7, OpenTelemetry integration (`@ai-sdk/otel`)",
		Packages:  []string{"ai", "@ai-sdk/openai", "@ai-sdk/anthropic", "@ai-sdk/otel"},
		Transport: "OTLP/HTTP protobuf, `Authorization: Bearer`",
		RunVia:    "span attribute (`enrichSpan`)",
	},
	{
		ID: "vercel-ai-v6", Script: "vercel-ai-v6.mjs",
		Library:   "Vercel AI SDK 6, `experimental_telemetry`",
		Packages:  []string{"ai-v6", "ai-sdk-openai-v3", "ai-sdk-anthropic-v3"},
		Transport: "OTLP/HTTP JSON, `Authorization: Bearer`",
		RunVia:    "telemetry metadata (`experimental_telemetry.metadata`)",
	},
	{
		ID: "vercel-ai-v5", Script: "vercel-ai-v5.mjs",
		Library:   "Vercel AI SDK 5, `experimental_telemetry`",
		Packages:  []string{"ai-v5", "ai-sdk-openai-v2", "ai-sdk-anthropic-v2"},
		Transport: "OTLP/HTTP JSON, `Authorization: Bearer`",
		RunVia:    "telemetry metadata (`experimental_telemetry.metadata`)",
	},
}

// compatCases are the columns of the matrix: one per scenario of e2e/clients/scenarios.json
// plus the run that groups all of a client's traces.
var compatCases = []struct{ ID, Title, Verified string }{
	{"chat", "chat", "input and output text, model, exact token usage, cost, status ok"},
	{"stream", "stream", "streaming chat with usage in the last chunk: same checks as chat"},
	{"responses", "responses", "OpenAI Responses API call (the AI SDK's default for `openai(model)`): same checks as chat"},
	{"responses_stream", "responses stream", "streamed Responses API call (what `streamText` with `openai(model)` sends): same checks as chat"},
	{"tools", "tools", "tool call and follow-up in one trace: first input, final output, tool call in the conversation, usage of both calls summed once, cost"},
	{"embeddings", "embeddings", "input text, model, input tokens, cost, status ok"},
	{"anthropic", "anthropic", "Anthropic Messages API call with a system prompt: input and output text, model, exact token usage, cost, status ok"},
	{"anthropic_stream", "anthropic stream", "streamed Anthropic Messages API call (input tokens in `message_start`, the final output count in `message_delta`): same checks as anthropic"},
	{"error", "429", "rate-limited call: status error, a `rate_limit` flag, input, model"},
	{"server_error", "500", "server error: status error, a `provider_error` flag, input, model"},
	{"run", "run", "every record of the client carries the run id (`scorecard.tracing_group_id`, set as the \"run id set as\" column says), and `GET /api/v1/runs/{id}` counts each trace once, errors included"},
}

type compatHarness struct {
	t   *testing.T
	dir string
	sc  *compatScenarios
	llm *fakeLLM
	c   *collector
	// proxyAddr is the collector's llmproxy receiver, forwarding to llm.
	proxyAddr string
	prices    *pricing.Table
	results   map[string][]string // "client/case" → failures, empty when it passed
	// expected is e2e/clients/expected_failures.json: known failing cases and why.
	expected map[string]string
}

func compatRoot(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// requireNode fails (never skips: CI installs Node) when node or npm is missing or too old.
func requireNode(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the client compatibility suite needs Node.js 20+ and npm (Debian: apt-get install nodejs npm)", tool)
		}
	}
	out, err := exec.Command("node", "-p", "process.versions.node.split('.')[0]").Output()
	if err != nil {
		t.Fatalf("node -p: %v", err)
	}
	if major, _ := strconv.Atoi(strings.TrimSpace(string(out))); major < 20 {
		t.Fatalf("node %s is too old: the client libraries need Node.js 20+", strings.TrimSpace(string(out)))
	}
}

// npmCI installs e2e/clients/node_modules from package-lock.json, once per lock file content.
func npmCI(t *testing.T, dir string) {
	t.Helper()
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(dir, "node_modules", ".tracehound-compat-lock")
	if got, err := os.ReadFile(stamp); err == nil && string(got) == want {
		return
	}
	start := time.Now()
	cmd := exec.Command("npm", "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	t.Logf("npm ci: %s", time.Since(start).Round(time.Second))
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
}

// packageVersion is the installed version of an npm package (or alias) and its real name.
func packageVersion(t *testing.T, dir, pkg string) (name, version string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if err != nil {
		t.Fatalf("installed package %s: %v", pkg, err)
	}
	var p struct{ Name, Version string }
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("%s/package.json: %v", pkg, err)
	}
	return p.Name, p.Version
}

type compatReport struct {
	Scenario string   `json:"scenario"`
	TraceIDs []string `json:"trace_ids"`
	// Note says why the script could not run the scenario with this library.
	Note string `json:"note"`
}

type scenarioReport struct {
	traceIDs []string
	note     string
}

// runClient runs one script and returns its report lines by scenario.
func (h *compatHarness) runClient(cl compatClient, key string) (map[string]scenarioReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", cl.Script)
	cmd.Dir = h.dir
	for _, kv := range os.Environ() {
		if !slices.ContainsFunc([]string{"OTEL_", "TRACELOOP_", "ANTHROPIC_", "COMPAT_"}, func(p string) bool { return strings.HasPrefix(kv, p) }) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"COMPAT_OTLP_HTTP=http://"+h.c.httpAddr,
		"COMPAT_KEY="+key,
		"COMPAT_LLM_BASE_URL="+h.llm.baseURL(),
		"COMPAT_RUN_ID="+compatRunID(cl),
		"COMPAT_DEBUG="+os.Getenv("COMPAT_DEBUG"),
	)
	if cl.Env != nil {
		cmd.Env = append(cmd.Env, cl.Env(h, key)...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	h.t.Logf("%s: node %s took %s", cl.ID, cl.Script, time.Since(start).Round(time.Millisecond))
	if err != nil {
		h.t.Logf("%s: %v\nstdout:\n%s\nstderr:\n%s", cl.ID, err, stdout.String(), stderr.String())
		return nil, fmt.Errorf("the client script failed (%v); its output is in the test log", err)
	}
	if stderr.Len() > 0 {
		h.t.Logf("%s stderr:\n%s", cl.ID, stderr.String())
	}
	reports := map[string]scenarioReport{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		rest, ok := strings.CutPrefix(line, "COMPAT ")
		if !ok {
			continue
		}
		var r compatReport
		if err := json.Unmarshal([]byte(rest), &r); err != nil {
			return nil, fmt.Errorf("bad report line %q: %v", line, err)
		}
		reports[r.Scenario] = scenarioReport{traceIDs: r.TraceIDs, note: r.Note}
	}
	return reports, nil
}

func compatRunID(cl compatClient) string { return "compat-" + cl.ID }

type compatRecord struct {
	ID           string   `json:"id"`
	ProjectID    string   `json:"project_id"`
	RunID        string   `json:"run_id"`
	UserID       string   `json:"user_id"`
	SessionID    string   `json:"session_id"`
	Status       string   `json:"status"`
	Models       []string `json:"models"`
	Input        string   `json:"input"`
	Output       string   `json:"output"`
	Usage        struct{ Input, Output, Total int64 }
	CostUSD      *float64 `json:"cost_usd"`
	LLMCallCount int      `json:"llm_call_count"`
	SpanCount    int      `json:"span_count"`
	Flags        []struct {
		Code string `json:"code"`
	} `json:"flags"`
	Conversation []struct {
		Role  string `json:"role"`
		Parts []struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"parts"`
	} `json:"conversation"`
}

// record fetches a record with the client's key, waiting briefly for it to appear.
func (h *compatHarness) record(key, traceID string) (*compatRecord, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		var r compatRecord
		code := h.c.apiGet("/api/v1/records/"+traceID, &r, "Authorization", "Bearer "+key)
		if code == http.StatusOK {
			if os.Getenv("COMPAT_DEBUG") != "" {
				var raw map[string]any
				h.c.apiGet("/api/v1/records/"+traceID, &raw, "Authorization", "Bearer "+key)
				delete(raw, "spans")
				delete(raw, "timeline")
				b, _ := json.Marshal(raw)
				h.t.Logf("record %s: %s", traceID, b)
			}
			return &r, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no record for the trace the client produced (GET /api/v1/records/{id} = %d)", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectation is what a user checks in the record of one scenario.
type expectation struct {
	input, output string
	model         string // every entry of models starts with it
	in, out       int64
	llmCalls      int // 0: not checked
	costCalls     []pricing.Usage
	costModel     string
	provider      string // price table provider; "openai" when empty
	status        string
	flag          string // a flag code the record must carry
	toolCall      string
}

func (h *compatHarness) expect(scenario string) expectation {
	sc := h.sc
	chat := func(prompt, answer string, in, out int64) expectation {
		return expectation{input: prompt, output: answer, model: sc.ChatModel, in: in, out: out, llmCalls: 1,
			costCalls: []pricing.Usage{{Input: in, Output: out}}, costModel: sc.ChatResponseModel, status: "ok"}
	}
	switch scenario {
	case "chat":
		return chat(sc.Chat.Prompt, sc.Chat.Answer, sc.Chat.InputTokens, sc.Chat.OutputTokens)
	case "stream":
		return chat(sc.Stream.Prompt, sc.Stream.Answer, sc.Stream.InputTokens, sc.Stream.OutputTokens)
	case "responses":
		return chat(sc.Responses.Prompt, sc.Responses.Answer, sc.Responses.InputTokens, sc.Responses.OutputTokens)
	case "responses_stream":
		r := sc.ResponsesStream
		return chat(r.Prompt, r.Answer, r.InputTokens, r.OutputTokens)
	case "tools":
		t := sc.Tools
		return expectation{input: t.Prompt, output: t.Answer, model: sc.ChatModel,
			in: t.CallInputTokens[0] + t.CallInputTokens[1], out: t.CallOutputTokens[0] + t.CallOutputTokens[1], llmCalls: 2,
			costCalls: []pricing.Usage{
				{Input: t.CallInputTokens[0], Output: t.CallOutputTokens[0]},
				{Input: t.CallInputTokens[1], Output: t.CallOutputTokens[1]},
			},
			costModel: sc.ChatResponseModel, status: "ok", toolCall: t.ToolName}
	case "embeddings":
		e := sc.Embeddings
		return expectation{input: e.Input, model: e.Model, in: e.InputTokens,
			costCalls: []pricing.Usage{{Input: e.InputTokens}}, costModel: e.Model, status: "ok"}
	case "anthropic":
		a := sc.Anthropic
		return expectation{input: a.Prompt, output: a.Answer, model: a.Model, in: a.InputTokens, out: a.OutputTokens,
			llmCalls: 1, costCalls: []pricing.Usage{{Input: a.InputTokens, Output: a.OutputTokens}},
			costModel: a.ResponseModel, provider: "anthropic", status: "ok"}
	case "anthropic_stream":
		a := sc.AnthropicStream
		return expectation{input: a.Prompt, output: a.Answer, model: a.Model, in: a.InputTokens, out: a.OutputTokens,
			llmCalls: 1, costCalls: []pricing.Usage{{Input: a.InputTokens, Output: a.OutputTokens}},
			costModel: a.ResponseModel, provider: "anthropic", status: "ok"}
	case "error":
		return expectation{input: sc.Error.Prompt, model: sc.ChatModel, status: "error", flag: "rate_limit", llmCalls: 1}
	case "server_error":
		return expectation{input: sc.ServerError.Prompt, model: sc.ChatModel, status: "error", flag: "provider_error", llmCalls: 1}
	}
	h.t.Fatalf("no expectation for scenario %q", scenario)
	return expectation{}
}

// isJSONDocument reports text that is a raw JSON object or array rather than display text.
func isJSONDocument(s string) bool {
	s = strings.TrimSpace(s)
	return (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) && json.Valid([]byte(s))
}

func short(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "…"
	}
	return strconv.Quote(s)
}

// checkScenario returns what a user would find wrong in the record of one scenario.
func (h *compatHarness) checkScenario(cl compatClient, key, scenario string, rep scenarioReport) []string {
	if rep.note != "" {
		return []string{"the client could not run it: " + rep.note}
	}
	traceIDs := rep.traceIDs
	if len(traceIDs) != 1 {
		return []string{fmt.Sprintf("the client produced %d traces for one call, want 1", len(traceIDs))}
	}
	r, err := h.record(key, traceIDs[0])
	if err != nil {
		return []string{err.Error()}
	}
	want := h.expect(scenario)
	var fails []string
	failf := func(check, format string, args ...any) {
		if reason, ok := cl.NotApplicable[scenario+"/"+check]; ok {
			h.t.Logf("%s/%s: %s not checked: %s", cl.ID, scenario, check, reason)
			return
		}
		fails = append(fails, check+": "+fmt.Sprintf(format, args...))
	}
	if r.ProjectID != cl.ID {
		failf("project", "project_id = %q, want %q (the key's project)", r.ProjectID, cl.ID)
	}
	if r.Status != want.status {
		failf("status", "status = %q, want %q", r.Status, want.status)
	}
	switch {
	case !strings.Contains(r.Input, want.input):
		failf("input", "input = %s, want the prompt %q", short(r.Input), want.input)
	case isJSONDocument(r.Input):
		failf("input", "input is raw JSON %s, not text", short(r.Input))
	}
	if want.flag != "" && !slices.ContainsFunc(r.Flags, func(f struct {
		Code string `json:"code"`
	}) bool {
		return f.Code == want.flag
	}) {
		var codes []string
		for _, f := range r.Flags {
			codes = append(codes, f.Code)
		}
		failf("flags", "flags = %v, want %s", codes, want.flag)
	}
	if want.output != "" {
		switch {
		case !strings.Contains(r.Output, want.output):
			failf("output", "output = %s, want the answer %q", short(r.Output), want.output)
		case isJSONDocument(r.Output):
			failf("output", "output is raw JSON %s, not text", short(r.Output))
		}
	}
	if len(r.Models) == 0 || slices.ContainsFunc(r.Models, func(m string) bool { return !strings.HasPrefix(m, want.model) }) {
		failf("model", "models = %v, want %s", r.Models, want.model)
	}
	if r.Usage.Input != want.in || r.Usage.Output != want.out || r.Usage.Total != want.in+want.out {
		failf("usage", "usage = in %d / out %d / total %d, want %d / %d / %d",
			r.Usage.Input, r.Usage.Output, r.Usage.Total, want.in, want.out, want.in+want.out)
	}
	if want.llmCalls > 0 && r.LLMCallCount != want.llmCalls {
		failf("llm_call_count", "llm_call_count = %d, want %d", r.LLMCallCount, want.llmCalls)
	}
	if len(want.costCalls) > 0 {
		provider := cmp.Or(want.provider, "openai")
		m, ok := h.prices.Lookup(provider, want.costModel)
		if !ok {
			h.t.Fatalf("the price table does not know %s", want.costModel)
		}
		var cost float64
		for _, u := range want.costCalls {
			cost += m.Cost(u, time.Now())
		}
		switch {
		case r.CostUSD == nil || *r.CostUSD == 0:
			failf("cost", "cost_usd missing, want %.8g (%s is priced)", cost, want.costModel)
		case math.Abs(*r.CostUSD-cost) > 1e-6*cost:
			failf("cost", "cost_usd = %.8g, want %.8g", *r.CostUSD, cost)
		}
	}
	if cl.Identity && (r.UserID != "user-compat" || r.SessionID != "session-compat") {
		failf("identity", "user_id = %q, session_id = %q, want \"user-compat\", \"session-compat\"", r.UserID, r.SessionID)
	}
	if want.toolCall != "" {
		found := false
		for _, m := range r.Conversation {
			for _, p := range m.Parts {
				found = found || (p.Type == "tool_call" && p.Name == want.toolCall)
			}
		}
		if !found {
			failf("conversation", "no tool_call %q in the conversation (%d messages)", want.toolCall, len(r.Conversation))
		}
	}
	return fails
}

// checkRun checks that every record of the client carries its run id and that the run holds
// each of its traces once.
func (h *compatHarness) checkRun(cl compatClient, key string, reports map[string]scenarioReport) []string {
	traces := map[string]bool{}
	for _, rep := range reports {
		for _, id := range rep.traceIDs {
			traces[id] = true
		}
	}
	var runFails []string
	wrong := map[string]int{}
	for id := range traces {
		if r, err := h.record(key, id); err == nil && r.RunID != compatRunID(cl) {
			wrong[r.RunID]++
		}
	}
	for got, n := range sortedMapOf(wrong) {
		runFails = append(runFails, fmt.Sprintf("run_id = %q on %d of %d records, want %q (scorecard.tracing_group_id)",
			got, n, len(traces), compatRunID(cl)))
	}
	var wantErrors int64
	for _, cs := range []string{"error", "server_error"} {
		if _, notRun := cl.NotRun[cs]; !notRun {
			wantErrors++
		}
	}
	check := func() []string {
		var run struct {
			RecordCount  int64 `json:"record_count"`
			StatusCounts struct {
				OK, Error, Flagged int64
			} `json:"status_counts"`
		}
		code := h.c.apiGet("/api/v1/runs/"+compatRunID(cl), &run, "Authorization", "Bearer "+key)
		if code != http.StatusOK {
			return []string{fmt.Sprintf("GET /api/v1/runs/%s = %d, want 200", compatRunID(cl), code)}
		}
		var fails []string
		if run.RecordCount != int64(len(traces)) {
			fails = append(fails, fmt.Sprintf("record_count = %d, want %d", run.RecordCount, len(traces)))
		}
		if run.StatusCounts.Error != wantErrors {
			fails = append(fails, fmt.Sprintf("status_counts.error = %d, want %d", run.StatusCounts.Error, wantErrors))
		}
		return fails
	}
	// Run aggregates may trail the records by a moment.
	deadline := time.Now().Add(3 * time.Second)
	for {
		fails := check()
		if len(fails) == 0 || time.Now().After(deadline) {
			return append(runFails, fails...)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectedFailures is e2e/clients/expected_failures.json: cases ("client/case") known to
// fail, with the reason. The test fails when a listed case passes, so the list cannot go stale.
func loadExpectedFailures(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases map[string]string `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc.Cases
}

func TestCompat_Clients(t *testing.T) {
	requireNode(t)
	root := compatRoot(t)
	dir := filepath.Join(root, "e2e", "clients")
	npmCI(t, dir)
	expected := loadExpectedFailures(t, filepath.Join(dir, "expected_failures.json"))
	prices, err := pricing.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	sc := loadCompatScenarios(t, filepath.Join(dir, "scenarios.json"))
	llm := startFakeLLM(t, sc)
	proxyAddr := freePort(t)
	c := newCollector(t,
		"TRACEHOUND_PROXY_ENDPOINT="+proxyAddr,
		"TRACEHOUND_OPENAI_URL=http://"+llm.addr,
		"TRACEHOUND_ANTHROPIC_URL=http://"+llm.addr,
	)
	waitFor(t, "the llmproxy receiver", func() bool {
		conn, err := net.Dial("tcp", proxyAddr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	h := &compatHarness{t: t, dir: dir, sc: sc, llm: llm, c: c, proxyAddr: proxyAddr, prices: prices,
		results: map[string][]string{}, expected: expected}

	keys := map[string]string{}
	for _, cl := range compatClients {
		keys[cl.ID] = h.c.addKey(cl.ID)
	}
	// Keys added to the running collector are picked up by its keys-file reload.
	for _, cl := range compatClients {
		waitFor(t, "key of project "+cl.ID, func() bool {
			return h.c.apiGet("/api/v1/records?limit=1", nil, "Authorization", "Bearer "+keys[cl.ID]) == http.StatusOK
		})
	}

	for _, cl := range compatClients {
		var reports map[string]scenarioReport
		var err error
		if cl.Run != nil {
			reports, err = cl.Run(h, cl, keys[cl.ID])
		} else {
			reports, err = h.runClient(cl, keys[cl.ID])
		}
		for _, cs := range compatCases {
			name := cl.ID + "/" + cs.ID
			if _, ok := cl.NotRun[cs.ID]; ok {
				if _, reported := reports[cs.ID]; reported {
					h.results[name] = []string{"the script ran a case marked NotRun"}
				}
				continue
			}
			switch {
			case err != nil:
				h.results[name] = []string{err.Error()}
			case cs.ID == "run":
				h.results[name] = h.checkRun(cl, keys[cl.ID], reports)
			default:
				rep, ok := reports[cs.ID]
				if !ok {
					h.results[name] = []string{"the client script did not report this scenario"}
					continue
				}
				h.results[name] = h.checkScenario(cl, keys[cl.ID], cs.ID, rep)
			}
		}
	}

	for _, cl := range compatClients {
		for _, cs := range compatCases {
			name := cl.ID + "/" + cs.ID
			fails, ran := h.results[name]
			if !ran {
				continue
			}
			t.Run(name, func(t *testing.T) {
				reason, listed := expected[name]
				switch {
				case listed && len(fails) == 0:
					t.Errorf("listed in e2e/clients/expected_failures.json (%s) but passes now: remove it from the list and run with -update-compat", reason)
				case listed:
					t.Logf("expected failure (%s):\n  %s", reason, strings.Join(fails, "\n  "))
				default:
					for _, f := range fails {
						t.Error(f)
					}
				}
			})
		}
	}
	for name := range expected {
		if _, ok := h.results[name]; !ok {
			t.Errorf("e2e/clients/expected_failures.json lists %q, which is not a case of this suite", name)
		}
	}

	doc := h.matrix()
	docPath := filepath.Join(root, "docs", "compatibility.md")
	if *updateCompat {
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	committed, err := os.ReadFile(docPath)
	if errors.Is(err, os.ErrNotExist) || string(committed) != doc {
		t.Errorf("docs/compatibility.md does not match this run's results: run `go test ./e2e -run Compat -update-compat` and commit it.\nThis run:\n%s", doc)
	} else if err != nil {
		t.Fatal(err)
	}
}
