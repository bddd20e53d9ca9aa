package recordsexporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
)

// Object kinds in the store.
const (
	kindDataset = "dataset"
	kindView    = "view"
)

// maxDatasetRecords bounds one saved dataset; its record IDs are kept in one document.
const maxDatasetRecords = 100000

// dataset is a saved selection of records: the IDs are fixed when it is saved, so the
// dataset does not change as new records arrive.
type dataset struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Filter      *string   `json:"filter"`
	Count       int       `json:"count"`
	RecordIDs   []string  `json:"record_ids,omitempty"`
}

type testcasesRequest struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Filter      json.RawMessage `json:"filter"`
	RecordIDs   []string        `json:"record_ids"`
}

func validName(what, s string) error {
	if s == "" || len(s) > 128 {
		return fmt.Errorf("name: want a %s name of 1 to 128 characters", what)
	}
	for _, r := range s {
		if r == '/' || unicode.IsControl(r) {
			return fmt.Errorf("name: %q may not contain / or control characters", s)
		}
	}
	return nil
}

// filterValues reads a filter given as a query string ("status=error&run_id=r1") or as an
// object of parameters ({"status": "error"}).
func filterValues(raw json.RawMessage) (url.Values, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		v, err := url.ParseQuery(strings.TrimPrefix(s, "?"))
		if err != nil {
			return nil, fmt.Errorf("filter: not a query string: %v", err)
		}
		return v, nil
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("filter: want a query string or an object of filter parameters")
	}
	v := url.Values{}
	for k, val := range m {
		v.Set(k, val)
	}
	return v, nil
}

func (a *api) postTestcases(w http.ResponseWriter, r *http.Request) {
	var req testcasesRequest
	if !decodeBody(w, r, 16<<20, &req) {
		return
	}
	if err := validName("dataset", req.Name); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	hasFilter := len(req.Filter) > 0 && string(req.Filter) != "null"
	if hasFilter == (req.RecordIDs != nil) {
		writeError(w, http.StatusBadRequest, "invalid_body", "give either filter (query parameters of GET /api/v1/records) or record_ids, not both or neither")
		return
	}
	project := a.project(r)
	if _, err := a.store.GetObject(r.Context(), project, kindDataset, req.Name); err == nil {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("dataset %q exists: delete it first or pick another name", req.Name))
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		a.internalError(w, "read dataset", err)
		return
	}
	ds := dataset{Name: req.Name, Description: req.Description, CreatedAt: a.now().UTC(), RecordIDs: []string{}}
	if hasFilter {
		vals, err := filterValues(req.Filter)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_body", err.Error())
			return
		}
		q, err := parseQuery(vals, a.now())
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_parameter", "filter: "+err.Error())
			return
		}
		if q.Cursor != "" {
			writeError(w, http.StatusBadRequest, "invalid_parameter", "filter: cursor: a dataset takes every matching record; drop the cursor")
			return
		}
		enc := vals.Encode()
		ds.Filter = &enc
		max := maxDatasetRecords
		if q.Limit > 0 {
			max = q.Limit
		}
		q.Limit = store.MaxLimit
		tooMany := errors.New("too many")
		err = store.Each(r.Context(), a.store, project, q, func(rec *store.Record) error {
			if len(ds.RecordIDs) == max {
				if max == maxDatasetRecords {
					return tooMany
				}
				return errExportLimit
			}
			ds.RecordIDs = append(ds.RecordIDs, rec.ID)
			return nil
		})
		switch {
		case errors.Is(err, tooMany):
			writeError(w, http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("filter: selects more than %d records; narrow it (e.g. from/to) or add limit", maxDatasetRecords))
			return
		case err != nil && !errors.Is(err, errExportLimit):
			a.queryError(w, err)
			return
		}
	} else {
		if len(req.RecordIDs) > maxDatasetRecords {
			writeError(w, http.StatusBadRequest, "invalid_body", fmt.Sprintf("record_ids: at most %d", maxDatasetRecords))
			return
		}
		seen := map[string]bool{}
		for _, id := range req.RecordIDs {
			id = strings.ToLower(id)
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, err := a.store.GetRecord(r.Context(), project, id); errors.Is(err, store.ErrNotFound) {
				writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("record_ids: no record %q in this project", id))
				return
			} else if err != nil {
				a.internalError(w, "get record", err)
				return
			}
			ds.RecordIDs = append(ds.RecordIDs, id)
		}
	}
	ds.Count = len(ds.RecordIDs)
	body, err := json.Marshal(ds)
	if err != nil {
		a.internalError(w, "encode dataset", err)
		return
	}
	if err := a.store.PutObject(r.Context(), project, kindDataset, ds.Name, body); err != nil {
		a.internalError(w, "save dataset", err)
		return
	}
	ds.RecordIDs = nil
	writeJSON(w, http.StatusCreated, ds)
}

func (a *api) listTestcases(w http.ResponseWriter, r *http.Request) {
	objs, err := a.store.ListObjects(r.Context(), a.project(r), kindDataset)
	if err != nil {
		a.internalError(w, "list datasets", err)
		return
	}
	out := make([]dataset, 0, len(objs))
	for _, o := range objs {
		var ds dataset
		if err := json.Unmarshal(o.Body, &ds); err != nil {
			a.internalError(w, "decode dataset "+o.Name, err)
			return
		}
		ds.RecordIDs = nil
		out = append(out, ds)
	}
	writeJSON(w, http.StatusOK, map[string]any{"testcases": out})
}

func (a *api) loadDataset(w http.ResponseWriter, r *http.Request) (*dataset, bool) {
	name := r.PathValue("name")
	body, err := a.store.GetObject(r.Context(), a.project(r), kindDataset, name)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no dataset %q in this project", name))
		return nil, false
	}
	if err != nil {
		a.internalError(w, "read dataset", err)
		return nil, false
	}
	var ds dataset
	if err := json.Unmarshal(body, &ds); err != nil {
		a.internalError(w, "decode dataset", err)
		return nil, false
	}
	return &ds, true
}

func (a *api) getTestcases(w http.ResponseWriter, r *http.Request) {
	if ds, ok := a.loadDataset(w, r); ok {
		writeJSON(w, http.StatusOK, ds)
	}
}

func (a *api) deleteTestcases(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := a.store.DeleteObject(r.Context(), a.project(r), kindDataset, name)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no dataset %q in this project", name))
		return
	}
	if err != nil {
		a.internalError(w, "delete dataset", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// exportTestcases streams a dataset as JSONL. Records deleted since it was saved (by
// retention) are skipped.
func (a *api) exportTestcases(w http.ResponseWriter, r *http.Request) {
	if f := r.URL.Query().Get("format"); f != "" && f != "jsonl" {
		a.queryError(w, badParam("format", "only jsonl is supported, got %q", f))
		return
	}
	ds, ok := a.loadDataset(w, r)
	if !ok {
		return
	}
	project := a.project(r)
	out := newJSONLWriter(w, ds.Name)
	missing := 0
	var err error
	for _, id := range ds.RecordIDs {
		var rec *store.Record
		rec, err = a.store.GetRecord(r.Context(), project, id)
		if errors.Is(err, store.ErrNotFound) {
			missing++
			err = nil
			continue
		}
		if err != nil {
			break
		}
		if err = out.write(rec); err != nil {
			break
		}
	}
	if missing > 0 {
		a.logger.Info("Dataset export skipped records removed by retention", zap.String("dataset", ds.Name), zap.Int("missing", missing))
	}
	a.finishExport(out, err)
}

// view is a saved list filter: query holds GET /api/v1/records parameters.
type view struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Query       string `json:"query"`
	Builtin     bool   `json:"builtin"`
}

// builtinViews are offered in every project. API keys name projects, not people, so "my"
// records are the caller's project's.
var builtinViews = []view{
	{Name: "My recent records", Description: "Records of this project from the last 24 hours", Query: "from=-24h", Builtin: true},
	{Name: "Errors last 24h", Description: "Records with an error in the last 24 hours", Query: "status=error&from=-24h", Builtin: true},
	{Name: "Flagged", Description: "Records flagged by error detection", Query: "status=flagged", Builtin: true},
	{Name: "Most expensive", Description: "Records by cost, highest first", Query: "sort=-cost", Builtin: true},
	{Name: "Slowest", Description: "Records by duration, longest first", Query: "sort=-duration", Builtin: true},
}

func builtinView(name string) bool {
	for _, v := range builtinViews {
		if v.Name == name {
			return true
		}
	}
	return false
}

func (a *api) listViews(w http.ResponseWriter, r *http.Request) {
	objs, err := a.store.ListObjects(r.Context(), a.project(r), kindView)
	if err != nil {
		a.internalError(w, "list views", err)
		return
	}
	out := append([]view{}, builtinViews...)
	for _, o := range objs {
		var v view
		if err := json.Unmarshal(o.Body, &v); err != nil {
			a.internalError(w, "decode view "+o.Name, err)
			return
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"views": out})
}

func (a *api) postView(w http.ResponseWriter, r *http.Request) {
	var v view
	if !decodeBody(w, r, maxBodyBytes, &v) {
		return
	}
	if err := validName("view", v.Name); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	if builtinView(v.Name) {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("%q is a built-in view; pick another name", v.Name))
		return
	}
	v.Query = strings.TrimPrefix(v.Query, "?")
	vals, err := url.ParseQuery(v.Query)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", fmt.Sprintf("query: not a query string: %v", err))
		return
	}
	q, err := parseQuery(vals, a.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_parameter", "query: "+err.Error())
		return
	}
	if q.Cursor != "" {
		writeError(w, http.StatusBadRequest, "invalid_parameter", "query: cursor: a view cannot hold a cursor")
		return
	}
	v.Builtin = false
	body, err := json.Marshal(v)
	if err != nil {
		a.internalError(w, "encode view", err)
		return
	}
	if err := a.store.PutObject(r.Context(), a.project(r), kindView, v.Name, body); err != nil {
		a.internalError(w, "save view", err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (a *api) deleteView(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if builtinView(name) {
		writeError(w, http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("name: %q is a built-in view and cannot be deleted", name))
		return
	}
	err := a.store.DeleteObject(r.Context(), a.project(r), kindView, name)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no view %q in this project", name))
		return
	}
	if err != nil {
		a.internalError(w, "delete view", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
