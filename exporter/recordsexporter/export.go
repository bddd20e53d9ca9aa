package recordsexporter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
)

// testcaseLine is one line of a JSONL export: a record as an evaluation test case. Input
// and output are the semconv message lists of the first and last LLM call when the spans
// carried them, else the record's plain text. appendTestcase writes the line; this type and
// toTestcase are its definition, which the tests encode to check it.
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

// messagesOr passes a message list through as it was sent (it is JSON already; decoding
// and re-encoding it would halve the export rate) when it is a non-empty JSON array.
func messagesOr(raw, text string) any {
	if len(raw) > 2 && raw[0] == '[' && json.Valid([]byte(raw)) && raw != "[]" {
		return json.RawMessage(raw)
	}
	return text
}

// jsonlWriter streams lines, flushing to the client every page so memory stays constant.
type jsonlWriter struct {
	w       http.ResponseWriter
	buf     *bufio.Writer
	line    []byte
	enc     *json.Encoder // for scores (see appendTestcase), into scratch
	scratch bytes.Buffer
	lines   int
}

func newJSONLWriter(w http.ResponseWriter, filename string) *jsonlWriter {
	// An export takes as long as it takes: the server's write timeout (api.write_timeout)
	// would cut it off mid-stream.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`.jsonl"`)
	w.WriteHeader(http.StatusOK)
	j := &jsonlWriter{w: w, buf: bufio.NewWriterSize(w, 64<<10)}
	// encoding/json: go-json's encoder has open memory-safety bugs (goccy/go-json#519).
	j.enc = json.NewEncoder(&j.scratch)
	j.enc.SetEscapeHTML(false)
	return j
}

func (j *jsonlWriter) write(r *store.Record) error {
	line, err := appendTestcase(j.line[:0], r, j.enc, &j.scratch)
	if err != nil {
		return err
	}
	j.line = line
	if _, err := j.buf.Write(line); err != nil {
		return err
	}
	if j.lines++; j.lines%500 == 0 {
		if err := j.buf.Flush(); err != nil {
			return err
		}
		if f, ok := j.w.(http.Flusher); ok {
			f.Flush()
		}
	}
	return nil
}

func (j *jsonlWriter) close() error { return j.buf.Flush() }

var errExportLimit = errors.New("export limit reached")

// exportRecords is GET /api/v1/records/export?format=jsonl&<filters>: every matching record
// (or the first limit) as a test-case line, in the requested sort.
func (a *api) exportRecords(w http.ResponseWriter, r *http.Request) {
	vals := r.URL.Query()
	if f := vals.Get("format"); f != "" && f != "jsonl" {
		a.queryError(w, badParam("format", "only jsonl is supported, got %q", f))
		return
	}
	vals.Del("format")
	max := 0
	if vals.Has("limit") {
		n, err := strconv.Atoi(vals.Get("limit"))
		if err != nil || n < 1 {
			a.queryError(w, badParam("limit", "want a positive number of lines, got %q", vals.Get("limit")))
			return
		}
		max = n
		vals.Del("limit")
	}
	q, err := parseQuery(vals, a.now())
	if err != nil {
		a.queryError(w, err)
		return
	}
	project := a.project(r)
	// Check the query (cursor, sort) before the 200 header goes out.
	q.Limit = 1
	if _, err := a.store.ListRecords(r.Context(), project, q); err != nil {
		a.queryError(w, err)
		return
	}
	q.Limit = 1000
	q.WithMessages = true // the lines carry the message lists
	out := newJSONLWriter(w, "records")
	err = store.Each(r.Context(), a.store, project, q, func(rec *store.Record) error {
		if max > 0 && out.lines >= max {
			return errExportLimit
		}
		return out.write(rec)
	})
	a.finishExport(out, err)
}

func (a *api) finishExport(out *jsonlWriter, err error) {
	if errors.Is(err, errExportLimit) {
		err = nil
	}
	if cerr := out.close(); err == nil {
		err = cerr
	}
	// The status line is gone: a failure can only cut the stream short, so log it.
	if err != nil && !errors.Is(err, context.Canceled) {
		a.logger.Warn("Records export ended early", zap.Int("lines", out.lines), zap.Error(err))
	}
}
