package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode"

	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/store"
)

// Object kinds this package stores per project.
const (
	kindMetric = "metric"
	kindState  = "judge_state"
)

// FilterParser reads a records filter given as query parameters, exactly as the records API
// reads them (the records exporter owns that language).
type FilterParser func(v url.Values, now time.Time) (store.Filter, error)

// Options are the collaborators a Service needs besides its configuration.
type Options struct {
	// ParseFilter reads metric filters; required.
	ParseFilter FilterParser
	// DefaultProject is always evaluated, even before spans arrive for it.
	DefaultProject string
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Service owns the metric definitions, the judge client and the background worker.
type Service struct {
	cfg    Config
	store  store.Store
	logger *zap.Logger
	opts   Options
	client *client
	// defs are the configured metrics, normalized.
	defs []Metric

	mu       sync.Mutex
	projects map[string]bool
	status   map[string]map[string]*Status
	// states is only touched by the worker goroutine.
	states map[string]*projectState

	stop chan struct{}
	wake chan struct{}
	wg   sync.WaitGroup
}

// Status is what the API shows about a metric's evaluation in one project.
type Status struct {
	LastRun     *time.Time `json:"last_run"`
	Evaluated   int64      `json:"evaluated"`
	Passed      int64      `json:"passed"`
	Failed      int64      `json:"failed"`
	Errors      int64      `json:"errors"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// warnedAt is when a failure of this metric was last logged at warning level.
	warnedAt time.Time
}

// New builds a Service; cfg must have passed Validate.
func New(cfg Config, st store.Store, logger *zap.Logger, opts Options) (*Service, error) {
	if opts.ParseFilter == nil {
		return nil, errors.New("judge: a filter parser is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg = cfg.withDefaults()
	s := &Service{
		cfg:      cfg,
		store:    st,
		logger:   logger,
		opts:     opts,
		client:   newClient(cfg.Judge),
		projects: map[string]bool{},
		status:   map[string]map[string]*Status{},
		states:   map[string]*projectState{},
		wake:     make(chan struct{}, 1),
	}
	for i, d := range cfg.Definitions {
		m, err := d.normalize()
		if err != nil {
			return nil, fmt.Errorf("metrics.definitions[%d].%w", i, err)
		}
		if _, err := s.parseFilter(m.Filter); err != nil {
			return nil, fmt.Errorf("metrics.definitions[%d].%w", i, err)
		}
		s.defs = append(s.defs, m)
	}
	if opts.DefaultProject != "" {
		s.projects[opts.DefaultProject] = true
	}
	return s, nil
}

// ValidateFilters checks the filters of configured metrics with the records filter parser.
func ValidateFilters(defs []Metric, parse FilterParser) error {
	var errs []error
	for i, d := range defs {
		if _, err := parseFilterWith(parse, d.Filter, time.Now()); err != nil {
			errs = append(errs, fmt.Errorf("metrics.definitions[%d].%w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) parseFilter(expr string) (store.Filter, error) {
	return parseFilterWith(s.opts.ParseFilter, expr, s.opts.Now())
}

// parseFilterWith reads a filter expression: space-separated key=value pairs
// (`source=otlp meta.env=prod q="refund policy"`) or a query string (`status=error&model=x`).
func parseFilterWith(parse FilterParser, expr string, now time.Time) (store.Filter, error) {
	expr = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(expr), "?"))
	if expr == "" {
		return store.Filter{}, nil
	}
	v := url.Values{}
	if !strings.ContainsFunc(expr, unicode.IsSpace) && strings.Contains(expr, "&") {
		q, err := url.ParseQuery(expr)
		if err != nil {
			return store.Filter{}, badField("filter", "not a query string: %v", err)
		}
		v = q
	} else {
		toks, err := splitFields(expr)
		if err != nil {
			return store.Filter{}, badField("filter", "%v", err)
		}
		for _, t := range toks {
			k, val, ok := strings.Cut(t, "=")
			if !ok || k == "" {
				return store.Filter{}, badField("filter", "want key=value pairs such as source=otlp model=gpt-4o meta.env=prod, got %q", t)
			}
			v.Add(k, val)
		}
	}
	for _, k := range []string{"sort", "limit", "cursor"} {
		if v.Has(k) {
			return store.Filter{}, badField("filter", "%s is not a filter (a metric applies to every matching record)", k)
		}
	}
	f, err := parse(v, now)
	if err != nil {
		return store.Filter{}, badField("filter", "%v", err)
	}
	return f, nil
}

// splitFields splits on spaces outside double quotes and removes the quotes.
func splitFields(s string) ([]string, error) {
	var out []string
	var b strings.Builder
	inQ, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQ, have = !inQ, true
		case unicode.IsSpace(r) && !inQ:
			if have {
				out = append(out, b.String())
				b.Reset()
				have = false
			}
		default:
			b.WriteRune(r)
			have = true
		}
	}
	if inQ {
		return nil, errors.New("unbalanced double quote")
	}
	if have {
		out = append(out, b.String())
	}
	return out, nil
}

// noteProject makes the worker evaluate a project.
func (s *Service) noteProject(project string) {
	if project == "" {
		return
	}
	s.mu.Lock()
	known := s.projects[project]
	s.projects[project] = true
	s.mu.Unlock()
	if !known {
		s.Trigger()
	}
}

func (s *Service) projectList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.projects))
	for p := range s.projects {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Observe wraps a store so that the Service learns every project that receives spans. The
// store interface has no list of projects, and metrics from the configuration apply to all.
func (s *Service) Observe(st store.Store) store.Store { return &observedStore{Store: st, s: s} }

type observedStore struct {
	store.Store
	s *Service
}

func (o *observedStore) WriteSpans(ctx context.Context, spans []store.Span) error {
	err := o.Store.WriteSpans(ctx, spans)
	if err == nil {
		last := ""
		for i := range spans {
			if p := spans[i].Project; p != last {
				o.s.noteProject(p)
				last = p
			}
		}
	}
	return err
}

// Trigger asks the worker for a pass now instead of at the next poll.
func (s *Service) Trigger() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start runs the worker until Shutdown.
func (s *Service) Start() {
	if s.cfg.DisableWorker {
		s.logger.Info("Metric evaluation is disabled on this node (metrics.disable_worker); the metrics API still works")
		return
	}
	s.stop = make(chan struct{})
	s.wg.Add(1)
	go s.loop()
	s.logger.Info("Metric evaluation started",
		zap.Int("configured_metrics", len(s.defs)),
		zap.String("judge_endpoint", s.cfg.Judge.Endpoint),
		zap.String("judge_model", s.cfg.Judge.Model),
		zap.Duration("settle", s.cfg.Settle))
}

// Shutdown stops the worker, abandoning judge requests in flight (they produce no score).
func (s *Service) Shutdown(ctx context.Context) error {
	if s.stop == nil {
		return nil
	}
	close(s.stop)
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("judge: stop metric worker: %w", ctx.Err())
	}
}

// compiled is a metric ready to run in a project.
type compiled struct {
	Metric
	tmpl   *template.Template
	filter store.Filter
	tq     store.TextQuery
}

// Origins of a metric.
const (
	originConfig = "config"
	originAPI    = "api"
)

// projectMetrics returns the configured metrics and the project's stored ones. Stored ones
// that no longer validate (e.g. after a config change) are reported in their status.
func (s *Service) projectMetrics(ctx context.Context, project string) ([]Metric, []string, error) {
	out := make([]Metric, 0, len(s.defs))
	origins := make([]string, 0, len(s.defs))
	names := map[string]bool{}
	for _, d := range s.defs {
		out = append(out, d)
		origins = append(origins, originConfig)
		names[d.Name] = true
	}
	objs, err := s.store.ListObjects(ctx, project, kindMetric)
	if err != nil {
		return nil, nil, fmt.Errorf("list metrics of project %q: %w", project, err)
	}
	for _, o := range objs {
		var m Metric
		if err := json.Unmarshal(o.Body, &m); err != nil {
			if s.recordError(project, o.Name, fmt.Errorf("stored definition is not valid JSON: %w", err)) {
				s.logger.Warn("Stored metric definition is not valid JSON; delete and recreate it",
					zap.String("project", project), zap.String("metric", o.Name), zap.Error(err))
			}
			continue
		}
		if names[m.Name] {
			continue
		}
		out = append(out, m)
		origins = append(origins, originAPI)
	}
	return out, origins, nil
}

func (s *Service) compile(m Metric) (*compiled, error) {
	n, err := m.normalize()
	if err != nil {
		return nil, err
	}
	t, err := parseTemplate(n.Name, n.Prompt)
	if err != nil {
		return nil, badField("prompt", "%v", err)
	}
	f, err := s.parseFilter(n.Filter)
	if err != nil {
		return nil, err
	}
	return &compiled{Metric: n, tmpl: t, filter: f, tq: store.ParseText(f.Text)}, nil
}

func (s *Service) statusOf(project, metric string) *Status {
	pm := s.status[project]
	if pm == nil {
		pm = map[string]*Status{}
		s.status[project] = pm
	}
	st := pm[metric]
	if st == nil {
		st = &Status{}
		pm[metric] = st
	}
	return st
}

// snapshotStatus copies a metric's status for the API.
func (s *Service) snapshotStatus(project, metric string) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pm := s.status[project]; pm != nil && pm[metric] != nil {
		return *pm[metric]
	}
	return Status{}
}

// recordError counts a failure in the metric's status. It reports whether the failure
// should be logged at warning level: the first one of a metric in a minute, so that a judge
// outage does not write a line per record.
func (s *Service) recordError(project, metric string, err error) (warn bool) {
	now := s.opts.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statusOf(project, metric)
	warn = st.warnedAt.IsZero() || now.Sub(st.warnedAt) >= time.Minute || now.Before(st.warnedAt)
	st.Errors++
	st.LastError = truncate(err.Error(), 500)
	if warn {
		st.warnedAt = now
	}
	st.LastErrorAt = &now
	return warn
}

func (s *Service) recordResult(project, metric string, passed bool) {
	now := s.opts.Now().UTC()
	s.mu.Lock()
	st := s.statusOf(project, metric)
	st.Evaluated++
	if passed {
		st.Passed++
	} else {
		st.Failed++
	}
	st.LastRun = &now
	s.mu.Unlock()
}

// forgetStatus drops a deleted metric's status.
func (s *Service) forgetStatus(project, metric string) {
	s.mu.Lock()
	if pm := s.status[project]; pm != nil {
		delete(pm, metric)
	}
	s.mu.Unlock()
}
