package judge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
)

// maxMetricBody bounds a metric definition sent to the API.
const maxMetricBody = 256 << 10

// metricView is a metric as the API returns it.
type metricView struct {
	Metric
	// Origin is "config" (collector configuration, read-only, every project) or "api".
	Origin   string `json:"origin"`
	ReadOnly bool   `json:"read_only"`
	// EffectiveThreshold is the pass threshold in force (pass_threshold or the output
	// type's default); absent for boolean metrics.
	EffectiveThreshold *float64 `json:"threshold,omitempty"`
	Status             Status   `json:"status"`
}

// metricInput is a request body: a metric, plus the fields GET adds, so that a GET → edit
// → PUT round trip works. threshold is read as pass_threshold; the others are ignored.
type metricInput struct {
	Metric
	Origin    json.RawMessage `json:"origin"`
	ReadOnly  json.RawMessage `json:"read_only"`
	Threshold *float64        `json:"threshold"`
	Status    json.RawMessage `json:"status"`
}

type metricList struct {
	Metrics []metricView `json:"metrics"`
}

// Handler serves GET|POST /api/v1/metrics and GET|PUT|DELETE /api/v1/metrics/{name} for the
// project that projectOf names (the authenticated caller's).
func (s *Service) Handler(projectOf func(*http.Request) string) http.Handler {
	h := &handler{s: s, projectOf: projectOf}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/metrics", h.list)
	mux.HandleFunc("POST /api/v1/metrics", h.create)
	mux.HandleFunc("GET /api/v1/metrics/{name}", h.get)
	mux.HandleFunc("PUT /api/v1/metrics/{name}", h.put)
	mux.HandleFunc("DELETE /api/v1/metrics/{name}", h.delete)
	mux.HandleFunc("/api/v1/metrics", h.notAllowed)
	mux.HandleFunc("/api/v1/metrics/", h.notAllowed)
	return mux
}

type handler struct {
	s         *Service
	projectOf func(*http.Request) string
}

func (h *handler) project(r *http.Request) string {
	p := h.projectOf(r)
	h.s.noteProject(p)
	return p
}

func (h *handler) notAllowed(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
		fmt.Sprintf("%s %s is not supported (use GET or POST /api/v1/metrics, GET, PUT or DELETE /api/v1/metrics/{name})", r.Method, r.URL.Path))
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	project := h.project(r)
	defs, origins, err := h.s.projectMetrics(r.Context(), project)
	if err != nil {
		h.internal(w, "list metrics", err)
		return
	}
	out := metricList{Metrics: make([]metricView, 0, len(defs))}
	for i, d := range defs {
		out.Metrics = append(out.Metrics, h.view(project, d, origins[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) view(project string, m Metric, origin string) metricView {
	if n, err := m.normalize(); err == nil {
		m = n
	}
	enabled := m.IsEnabled()
	m.Enabled = &enabled
	v := metricView{Metric: m, Origin: origin, ReadOnly: origin == originConfig, Status: h.s.snapshotStatus(project, m.Name)}
	if m.OutputType == OutputScale15 || m.OutputType == OutputFloat01 {
		t := m.Threshold()
		v.EffectiveThreshold = &t
	}
	return v
}

// configured returns the configured metric of that name.
func (h *handler) configured(name string) (Metric, bool) {
	for _, d := range h.s.defs {
		if d.Name == name {
			return d, true
		}
	}
	return Metric{}, false
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	project := h.project(r)
	name := r.PathValue("name")
	if d, ok := h.configured(name); ok {
		writeJSON(w, http.StatusOK, h.view(project, d, originConfig))
		return
	}
	m, err := h.load(r, project, name)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no metric %q in this project", name))
		return
	}
	if err != nil {
		h.internal(w, "get metric", err)
		return
	}
	writeJSON(w, http.StatusOK, h.view(project, m, originAPI))
}

func (h *handler) load(r *http.Request, project, name string) (Metric, error) {
	body, err := h.s.store.GetObject(r.Context(), project, kindMetric, name)
	if err != nil {
		return Metric{}, err
	}
	var m Metric
	if err := json.Unmarshal(body, &m); err != nil {
		return Metric{}, fmt.Errorf("decode stored metric %q: %w", name, err)
	}
	return m, nil
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	project := h.project(r)
	m, ok := h.decode(w, r)
	if !ok {
		return
	}
	if _, ok := h.configured(m.Name); ok {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("name: %q is defined in the collector configuration; pick another name", m.Name))
		return
	}
	if _, err := h.s.store.GetObject(r.Context(), project, kindMetric, m.Name); err == nil {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("name: a metric %q exists; change it with PUT /api/v1/metrics/%s", m.Name, m.Name))
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		h.internal(w, "check metric", err)
		return
	}
	h.save(w, r, project, m, http.StatusCreated)
}

func (h *handler) put(w http.ResponseWriter, r *http.Request) {
	project := h.project(r)
	name := r.PathValue("name")
	if _, ok := h.configured(name); ok {
		writeError(w, http.StatusForbidden, "read_only", fmt.Sprintf("metric %q is defined in the collector configuration and is read-only here; change it there", name))
		return
	}
	m, ok := h.decodeNamed(w, r, name)
	if !ok {
		return
	}
	status := http.StatusOK
	if _, err := h.s.store.GetObject(r.Context(), project, kindMetric, name); errors.Is(err, store.ErrNotFound) {
		status = http.StatusCreated
	} else if err != nil {
		h.internal(w, "check metric", err)
		return
	}
	h.save(w, r, project, m, status)
}

func (h *handler) save(w http.ResponseWriter, r *http.Request, project string, m Metric, status int) {
	body, err := json.Marshal(m)
	if err != nil {
		h.internal(w, "encode metric", err)
		return
	}
	if err := h.s.store.PutObject(r.Context(), project, kindMetric, m.Name, body); err != nil {
		h.internal(w, "save metric", err)
		return
	}
	v := h.view(project, m, originAPI)
	h.s.logger.Info("Metric saved", zap.String("project", project), zap.String("metric", v.Name),
		zap.String("output_type", v.OutputType), zap.Bool("enabled", v.IsEnabled()))
	h.s.Trigger()
	writeJSON(w, status, v)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	project := h.project(r)
	name := r.PathValue("name")
	if _, ok := h.configured(name); ok {
		writeError(w, http.StatusForbidden, "read_only", fmt.Sprintf("metric %q is defined in the collector configuration and cannot be deleted here; remove it there", name))
		return
	}
	err := h.s.store.DeleteObject(r.Context(), project, kindMetric, name)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no metric %q in this project", name))
		return
	}
	if err != nil {
		h.internal(w, "delete metric", err)
		return
	}
	h.s.forgetStatus(project, name)
	w.WriteHeader(http.StatusNoContent)
}

// decodeNamed reads a PUT body whose name, if given, must match the path.
func (h *handler) decodeNamed(w http.ResponseWriter, r *http.Request, name string) (Metric, bool) {
	return h.decodeWith(w, r, func(m *Metric) error {
		if m.Name != "" && m.Name != name {
			return badField("name", "%q does not match the path's %q (rename by DELETE and POST)", m.Name, name)
		}
		m.Name = name
		return nil
	})
}

func (h *handler) decode(w http.ResponseWriter, r *http.Request) (Metric, bool) {
	return h.decodeWith(w, r, nil)
}

// decodeWith reads and validates a metric body; on error it answers 400 naming the field.
func (h *handler) decodeWith(w http.ResponseWriter, r *http.Request, fix func(*Metric) error) (Metric, bool) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxMetricBody))
	dec.DisallowUnknownFields()
	var in metricInput
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", bodyError(err))
		return Metric{}, false
	}
	m := in.Metric
	if t := in.Threshold; t != nil {
		switch {
		case m.PassThreshold == nil:
			m.PassThreshold = t
		case *m.PassThreshold != *t:
			writeError(w, http.StatusBadRequest, "invalid_field", fmt.Sprintf("threshold: %v differs from pass_threshold %v; send one of them", *t, *m.PassThreshold))
			return m, false
		}
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		writeError(w, http.StatusBadRequest, "invalid_body", "body: want exactly one JSON object")
		return m, false
	}
	if fix != nil {
		if err := fix(&m); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_field", err.Error())
			return m, false
		}
	}
	n, err := h.s.validateAPIMetric(m)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_field", err.Error())
		return m, false
	}
	// Stored as sent, so that a built-in's prompt improvements reach it; only the name a
	// built-in implies is made explicit.
	m.Name = n.Name
	return m, true
}

// bodyError names the field of a JSON decoding error where there is one.
func bodyError(err error) string {
	var te *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("%s: want a %s, got a JSON %s", strings.TrimPrefix(te.Field, "Metric."), te.Type, te.Value)
	case errors.As(err, &mbe):
		return fmt.Sprintf("body: larger than %d bytes", mbe.Limit)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Sprintf("%s: unknown field (supported: name, builtin, description, prompt, output_type, pass_threshold, filter, sample_rate, model, endpoint, api_key_env, enabled, flag)", strings.Trim(f, `"`))
	}
	return "body: not a metric JSON object: " + msg
}

// validateAPIMetric checks a definition sent to the API, including the limits on what an
// API caller may point the judge at: the key variables and endpoints the operator allowed.
func (s *Service) validateAPIMetric(m Metric) (Metric, error) {
	n, err := m.normalize()
	if err != nil {
		return n, err
	}
	if _, err := s.parseFilter(n.Filter); err != nil {
		return n, err
	}
	if n.APIKeyEnv != "" && !slices.Contains(s.allowedKeyEnvs(), n.APIKeyEnv) {
		return n, badField("api_key_env", "%q is not allowed for metrics defined through the API (allowed: %s); an operator can add it to metrics.judge.allowed_api_key_envs",
			n.APIKeyEnv, listOrNone(s.allowedKeyEnvs()))
	}
	if n.Endpoint != "" && !s.cfg.Judge.AllowCustomEndpoints && !slices.Contains(s.allowedEndpoints(), strings.TrimSuffix(n.Endpoint, "/")) {
		return n, badField("endpoint", "%q is not allowed for metrics defined through the API (allowed: %s); an operator can set metrics.judge.allow_custom_endpoints",
			n.Endpoint, listOrNone(s.allowedEndpoints()))
	}
	return n, nil
}

func (s *Service) allowedKeyEnvs() []string {
	var out []string
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	add(s.cfg.Judge.APIKeyEnv)
	for _, v := range s.cfg.Judge.AllowedAPIKeyEnvs {
		add(v)
	}
	for _, d := range s.defs {
		add(d.APIKeyEnv)
	}
	return out
}

func (s *Service) allowedEndpoints() []string {
	out := []string{strings.TrimSuffix(s.cfg.Judge.Endpoint, "/")}
	for _, d := range s.defs {
		if e := strings.TrimSuffix(d.Endpoint, "/"); e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func (h *handler) internal(w http.ResponseWriter, what string, err error) {
	h.s.logger.Error("Metrics API request failed", zap.String("operation", what), zap.Error(err))
	writeError(w, http.StatusInternalServerError, "internal", what+" failed; see the collector log")
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
