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
