package recordsexporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tracehound/tracehound/internal/store"
)

type runsResponse struct {
	Runs       []store.Run `json:"runs"`
	NextCursor *string     `json:"next_cursor"`
}

func (a *api) listRuns(w http.ResponseWriter, r *http.Request) {
	var q store.RunQuery
	for key, vals := range r.URL.Query() {
		val := vals[len(vals)-1]
		switch key {
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > store.MaxLimit {
				writeError(w, http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("limit: want an integer from 1 to %d, got %q", store.MaxLimit, val))
				return
			}
			q.Limit = n
		case "cursor":
			q.Cursor = val
		default:
			writeError(w, http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("%s: unknown query parameter (supported: limit, cursor)", key))
			return
		}
	}
	page, err := a.store.ListRuns(r.Context(), a.project(r), q)
	if errors.Is(err, store.ErrBadCursor) {
		writeError(w, http.StatusBadRequest, "invalid_parameter", "cursor: not a cursor returned by this API (start again without it)")
		return
	}
	if err != nil {
		a.internalError(w, "list runs", err)
		return
	}
	resp := runsResponse{Runs: page.Runs}
	if page.NextCursor != "" {
		resp.NextCursor = &page.NextCursor
	}
	writeJSON(w, http.StatusOK, resp)
}

func (a *api) getRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	run, err := a.store.GetRun(r.Context(), a.project(r), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no run %q in this project", id))
		return
	}
	if err != nil {
		a.internalError(w, "get run", err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// maxBuckets bounds the time buckets one stats request may ask for.
const maxBuckets = 10000

func (a *api) stats(w http.ResponseWriter, r *http.Request) {
	var q store.StatsQuery
	now := a.now()
	for key, vals := range r.URL.Query() {
		val := vals[len(vals)-1]
		var err error
		switch key {
		case "group_by":
			switch val {
			case store.GroupService, store.GroupUser, store.GroupModel, store.GroupRun, store.GroupSession:
				q.GroupBy = val
			default:
				err = badParam(key, "want service, user, model, run or session, got %q", val)
			}
		case "from":
			q.From, err = parseTime(key, val, now)
		case "to":
			q.To, err = parseTime(key, val, now)
		case "bucket":
			q.Bucket, err = parseBucket(val)
		default:
			err = badParam(key, "unknown query parameter (supported: group_by, from, to, bucket)")
		}
		if err != nil {
			a.queryError(w, err)
			return
		}
	}
	if q.Bucket > 0 {
		from, to := q.From, q.To
		if to.IsZero() {
			to = now
		}
		if from.IsZero() {
			// Without from, buckets reach back as far as the bucket limit allows.
			q.From = to.Add(-maxBuckets * q.Bucket).Truncate(q.Bucket)
			from = q.From
		}
		if to.Sub(from)/q.Bucket > maxBuckets {
			a.queryError(w, badParam("bucket", "%s over %s..%s is more than %d buckets: use a larger bucket or a shorter range", q.Bucket, from.Format(time.RFC3339), to.Format(time.RFC3339), maxBuckets))
			return
		}
	}
	st, err := a.store.Stats(r.Context(), a.project(r), q)
	if err != nil {
		a.internalError(w, "compute stats", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func parseBucket(s string) (time.Duration, error) {
	var d time.Duration
	switch {
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil {
			return 0, badParam("bucket", "want a duration such as 5m, 1h or 1d, got %q", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, badParam("bucket", "want a duration such as 5m, 1h or 1d, got %q", s)
		}
	}
	if d < time.Minute {
		return 0, badParam("bucket", "must be at least 1m, got %q", s)
	}
	return d, nil
}

// scoreRequest is the body of POST /api/v1/records/{id}/scores.
type scoreRequest struct {
	Name   string `json:"name"`
	Value  any    `json:"value"`
	Passed *bool  `json:"passed"`
	Reason string `json:"reason"`
	Source string `json:"source"`
}

const maxBodyBytes = 1 << 20

func (a *api) postScore(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(r.PathValue("id"))
	var req scoreRequest
	if !decodeBody(w, r, maxBodyBytes, &req) {
		return
	}
	switch {
	case strings.TrimSpace(req.Name) == "" || len(req.Name) > 128:
		writeError(w, http.StatusBadRequest, "invalid_body", "name: want a metric name of 1 to 128 characters")
		return
	case req.Value == nil:
		writeError(w, http.StatusBadRequest, "invalid_body", "value: required (a number, a boolean or a string)")
		return
	}
	switch req.Value.(type) {
	case float64, bool, string:
	default:
		writeError(w, http.StatusBadRequest, "invalid_body", "value: want a number, a boolean or a string")
		return
	}
	if req.Source == "" {
		req.Source = "api"
	}
	score := store.Score{Value: req.Value, Passed: req.Passed, Reason: req.Reason, Source: req.Source}
	project := a.project(r)
	err := a.store.PutScore(r.Context(), project, id, req.Name, score)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no record %q in this project", id))
		return
	}
	if err != nil {
		a.internalError(w, "put score", err)
		return
	}
	rec, err := a.store.GetRecord(r.Context(), project, id)
	if err != nil {
		a.internalError(w, "get record", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": rec.ID, "scores": rec.Scores})
}

// decodeBody reads a JSON body of at most limit bytes into v, rejecting unknown fields; on
// failure it has answered 400 and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_body", fmt.Sprintf("body larger than %d bytes", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid_body", fmt.Sprintf("want a JSON object: %v", err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "invalid_body", "want exactly one JSON object")
		return false
	}
	return true
}
