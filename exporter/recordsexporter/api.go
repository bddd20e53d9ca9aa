package recordsexporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/exporter/recordsexporter/internal/ui"
	"github.com/tracehound/tracehound/internal/store"
)

// listTextLimit shortens input and output in list rows; the detail view has the full text.
const listTextLimit = 500

type api struct {
	store          store.Store
	defaultProject string
	logger         *zap.Logger
	now            func() time.Time
	// metrics serves /api/v1/metrics (internal/judge); nil when not wired.
	metrics http.Handler
}

func newAPI(st store.Store, defaultProject string, logger *zap.Logger) *api {
	return &api{store: st, defaultProject: defaultProject, logger: logger, now: time.Now}
}

func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/records", a.listRecords)
	mux.HandleFunc("GET /api/v1/records/export", a.exportRecords)
	mux.HandleFunc("GET /api/v1/records/{id}", a.getRecord)
	mux.HandleFunc("POST /api/v1/records/{id}/scores", a.postScore)
	mux.HandleFunc("GET /api/v1/traces/{trace_id}", a.getTrace)
	mux.HandleFunc("GET /api/v1/runs", a.listRuns)
	mux.HandleFunc("GET /api/v1/runs/{id}", a.getRun)
	mux.HandleFunc("GET /api/v1/stats", a.stats)
	mux.HandleFunc("GET /api/v1/testcases", a.listTestcases)
	mux.HandleFunc("POST /api/v1/testcases", a.postTestcases)
	mux.HandleFunc("GET /api/v1/testcases/{name}", a.getTestcases)
	mux.HandleFunc("GET /api/v1/testcases/{name}/export", a.exportTestcases)
	mux.HandleFunc("DELETE /api/v1/testcases/{name}", a.deleteTestcases)
	mux.HandleFunc("GET /api/v1/views", a.listViews)
	mux.HandleFunc("POST /api/v1/views", a.postView)
	mux.HandleFunc("DELETE /api/v1/views/{name}", a.deleteView)
	if a.metrics != nil {
		mux.Handle("/api/v1/metrics", a.metrics)
		mux.Handle("/api/v1/metrics/", a.metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("/", ui.Handler())
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no API endpoint %s %s", r.Method, r.URL.Path))
	})
	return securityHeaders(mux)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// project is the caller's project: the authenticated one, or the default when the API runs
// without an authenticator.
func (a *api) project(r *http.Request) string {
	if p := authenticatedProject(r.Context()); p != "" {
		return p
	}
	if client.FromContext(r.Context()).Auth != nil {
		// Authenticated, but the authenticator named no project: see nothing rather than
		// the default project's data.
		return "\x00no-project"
	}
	return a.defaultProject
}

type listResponse struct {
	Records    []listRow `json:"records"`
	NextCursor *string   `json:"next_cursor"`
}

// listRow is a record in a list: input and output shortened, plus where a search matched.
type listRow struct {
	*store.Record
	Highlights []store.Highlight `json:"highlights,omitempty"`
}

func (a *api) listRecords(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query(), a.now())
	if err != nil {
		a.queryError(w, err)
		return
	}
	page, err := a.store.ListRecords(r.Context(), a.project(r), q)
	if err != nil {
		a.queryError(w, err)
		return
	}
	tq := store.ParseText(q.Text)
	resp := listResponse{Records: make([]listRow, 0, len(page.Records))}
	for _, rec := range page.Records {
		row := listRow{Record: rec, Highlights: store.Highlights(rec, tq)}
		rec.Input = shorten(rec.Input, listTextLimit)
		rec.Output = shorten(rec.Output, listTextLimit)
		resp.Records = append(resp.Records, row)
	}
	if page.NextCursor != "" {
		resp.NextCursor = &page.NextCursor
	}
	writeJSON(w, http.StatusOK, resp)
}

// queryError answers a failed list-style request: 400 naming the parameter for bad input,
// 500 otherwise.
func (a *api) queryError(w http.ResponseWriter, err error) {
	var pe *paramError
	switch {
	case errors.As(err, &pe):
		writeError(w, http.StatusBadRequest, "invalid_parameter", pe.Error())
	case errors.Is(err, store.ErrBadCursor):
		writeError(w, http.StatusBadRequest, "invalid_parameter", "cursor: not a cursor returned by this API for this sort (start again without it)")
	default:
		a.internalError(w, "query records", err)
	}
}

func (a *api) getRecord(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	project := a.project(r)
	rec, err := a.store.GetRecord(r.Context(), project, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no record %q in this project", id))
		return
	}
	if err != nil {
		a.internalError(w, "get record", err)
		return
	}
	spans, err := a.store.GetSpans(r.Context(), project, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.internalError(w, "get spans", err)
		return
	}
	detail, err := buildDetail(rec, spans)
	if err != nil {
		a.internalError(w, "build record detail", err)
		return
	}
	writeJSON(w, http.StatusOK, detail)
}

func (a *api) getTrace(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("trace_id")
	spans, err := a.store.GetSpans(r.Context(), a.project(r), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no trace %q in this project", id))
		return
	}
	if err != nil {
		a.internalError(w, "get trace", err)
		return
	}
	td := ptrace.NewTraces()
	for _, sp := range spans {
		one, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(sp.Raw)
		if err != nil {
			a.internalError(w, "decode span", err)
			return
		}
		one.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
	}
	body, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		a.internalError(w, "encode trace", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (a *api) internalError(w http.ResponseWriter, what string, err error) {
	a.logger.Error("Records API request failed", zap.String("operation", what), zap.Error(err))
	writeError(w, http.StatusInternalServerError, "internal", what+" failed; see the collector log")
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut with an ellipsis.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
