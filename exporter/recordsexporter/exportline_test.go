package recordsexporter

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// testcaseLine is the definition of an export line that appendTestcase writes by hand: the
// test encodes it with encoding/json and compares.
type testcaseLine struct {
	Input        any               `json:"input"`
	Expected     store.OptString   `json:"expected"`
	Output       any               `json:"output"`
	Metadata     map[string]string `json:"metadata"`
	SourceRecord sourceRecord      `json:"source_record"`
}

type sourceRecord struct {
	ID         string                 `json:"id"`
	TraceID    string                 `json:"trace_id"`
	ProjectID  string                 `json:"project_id"`
	RunID      store.OptString        `json:"run_id"`
	TestcaseID store.OptString        `json:"testcase_id"`
	Status     string                 `json:"status"`
	Name       string                 `json:"name"`
	Service    string                 `json:"service"`
	Models     []string               `json:"models"`
	Start      time.Time              `json:"start"`
	DurationMS float64                `json:"duration_ms"`
	CostUSD    float64                `json:"cost_usd"`
	Scores     map[string]store.Score `json:"scores"`
}

func toTestcase(r *store.Record) testcaseLine {
	return testcaseLine{
		Input:    messagesOr(r.Assembly.InputMessages, r.Input),
		Expected: r.Expected,
		Output:   messagesOr(r.Assembly.OutputMessages, r.Output),
		Metadata: r.Metadata,
		SourceRecord: sourceRecord{
			ID: r.ID, TraceID: r.TraceID, ProjectID: r.ProjectID, RunID: r.RunID, TestcaseID: r.TestcaseID,
			Status: r.Status, Name: r.Name, Service: r.Service, Models: r.Models, Start: r.Start,
			DurationMS: r.DurationMS, CostUSD: r.CostUSD, Scores: r.Scores,
		},
	}
}

func messagesOr(raw, text string) any {
	if isMessageList(raw) {
		return json.RawMessage(raw)
	}
	return text
}

var lineStrings = []string{
	"", "plain", "tab\tnew\nline\r", "quote\" back\\slash", "<b>&amp;</b>", "\x00\x01\x1f\x7f",
	"héllo wörld ✓ 日本", "bad \xff\xfe utf8", "line\u2028sep\u2029", strings.Repeat("long text ", 100),
}

var lineMessages = []string{
	"", "[]", "not json", `[{"role":"user","parts":[{"type":"text","content":"<b>hi</b> & \u2028"}]}]`,
	"[ {\n  \"role\" : \"assistant\",\t\"parts\" : [ ] } ]", `{"role":"user"}`, `[1, 2,`, "[\"bad \xff utf8\"]",
}

var lineFloats = []float64{0, 1, -2.5, 1e-7, 1e21, 123456.789, math.MaxFloat64, math.NaN(), math.Inf(1)}

func randomExportRecord(rng *rand.Rand) *store.Record {
	str := func() string { return lineStrings[rng.IntN(len(lineStrings))] }
	r := store.NewRecord(str(), str())
	r.ID = str()
	r.RunID, r.TestcaseID, r.Expected = store.OptString(str()), store.OptString(str()), store.OptString(str())
	r.Status, r.Name, r.Service, r.Input, r.Output = str(), str(), str(), str(), str()
	r.Assembly.InputMessages = lineMessages[rng.IntN(len(lineMessages))]
	r.Assembly.OutputMessages = lineMessages[rng.IntN(len(lineMessages))]
	switch rng.IntN(3) {
	case 0:
		r.Models = nil
	case 1:
		r.Models = []string{str(), str()}
	}
	years := []int{1970, 2026, 9999, 10000, -1}
	zone := time.FixedZone("", []int{0, 3600, -5*3600 - 1800}[rng.IntN(3)])
	r.Start = time.Date(years[rng.IntN(len(years))], 3, 4, 5, 6, 7, rng.IntN(1e9), zone)
	r.DurationMS = lineFloats[rng.IntN(len(lineFloats))]
	r.CostUSD = lineFloats[rng.IntN(len(lineFloats))]
	for range rng.IntN(4) {
		r.Metadata[str()] = str()
	}
	for range rng.IntN(3) {
		s := store.Score{Value: []any{nil, 0.75, "<pass>", true, map[string]any{"k": 1.0}}[rng.IntN(5)], Reason: str(), Source: str()}
		if rng.IntN(2) == 0 {
			s.Flag = &llmschema.Flag{Code: str(), Message: str()}
		}
		r.Scores[str()] = s
	}
	if rng.IntN(5) == 0 {
		r.Scores, r.Metadata = nil, nil
	}
	return r
}

// appendTestcase must write what the encoder wrote for toTestcase, and fail where it failed.
func TestAppendTestcase_MatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var scratch bytes.Buffer
	enc := json.NewEncoder(&scratch)
	enc.SetEscapeHTML(false)
	failures := 0
	for range 5000 {
		r := randomExportRecord(rng)
		var want bytes.Buffer
		ref := json.NewEncoder(&want)
		ref.SetEscapeHTML(false)
		wantErr := ref.Encode(toTestcase(r))
		got, gotErr := appendTestcase(nil, r, enc, &scratch)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("error: encoder %v, appendTestcase %v, for %#v", wantErr, gotErr, r)
		}
		if wantErr != nil {
			failures++
			continue
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("line differs from the encoder's\n got: %s\nwant: %s", got, want.Bytes())
		}
	}
	if failures == 0 || failures > 4000 {
		t.Fatalf("%d of 5000 records failed to encode: the cases do not cover both outcomes", failures)
	}
}
