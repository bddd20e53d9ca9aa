package judge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// maxAttempts is how many passes try a record+metric whose judge call failed before the
// worker gives up on it until the record changes.
const maxAttempts = 3

// projectState is the worker's memory of one project.
type projectState struct {
	// watermark is the start time from which the worker scans; persisted so that a restart
	// catches up on records that arrived before it stopped.
	watermark time.Time
	savedAt   time.Time
	records   map[string]*recordState
}

// recordState tracks one record between passes.
type recordState struct {
	fingerprint string
	changedAt   time.Time
	// judged maps a metric to the fingerprint it was judged (or skipped) at.
	judged   map[string]string
	attempts map[string]int
}

type persistedState struct {
	Watermark time.Time `json:"watermark"`
}

// job is one record to judge with one or more metrics.
type job struct {
	project string
	rec     *store.Record
	rs      *recordState
	metrics []*compiled
}

func (s *Service) loop() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.stop
		cancel()
	}()
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		for _, p := range s.projectList() {
			if ctx.Err() != nil {
				return
			}
			if err := s.pass(ctx, p); err != nil && ctx.Err() == nil {
				s.logger.Warn("Metric evaluation pass failed; will retry at the next poll",
					zap.String("project", p), zap.Error(err))
			}
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// pass evaluates one project: every settled record in the watched window that a metric has
// not judged at its current state.
func (s *Service) pass(ctx context.Context, project string) error {
	now := s.opts.Now()
	ps, err := s.state(ctx, project, now)
	if err != nil {
		return err
	}
	defs, _, err := s.projectMetrics(ctx, project)
	if err != nil {
		return err
	}
	var metrics []*compiled
	for _, d := range defs {
		if !d.IsEnabled() {
			continue
		}
		c, err := s.compile(d)
		if err != nil {
			if s.recordError(project, d.Name, fmt.Errorf("definition is invalid, metric not run: %w", err)) {
				s.logger.Warn("Metric definition is invalid; it does not run until fixed",
					zap.String("project", project), zap.String("metric", d.Name), zap.Error(err))
			}
			continue
		}
		metrics = append(metrics, c)
	}
	if len(metrics) == 0 {
		// Nothing to judge: a metric defined later starts with the lookback window.
		ps.watermark = now.Add(-s.cfg.Lookback)
		clear(ps.records)
		return nil
	}
	from := now.Add(-s.cfg.Lookback)
	if ps.watermark.Before(from) {
		from = ps.watermark
	}
	// pendingFrom is the earliest start of a record still to be judged: the watermark may
	// not pass it.
	pendingFrom := time.Time{}
	pending := func(start time.Time) {
		if pendingFrom.IsZero() || start.Before(pendingFrom) {
			pendingFrom = start
		}
	}
	var jobs []*job
	seen := make(map[string]bool)
	q := store.Query{Filter: store.Filter{From: from}, Sort: store.Sort{Field: store.SortTime, Asc: true}, Limit: 200}
	err = store.Each(ctx, s.store, project, q, func(rec *store.Record) error {
		seen[rec.ID] = true
		if j := s.consider(ps, rec, metrics, now); j != nil {
			j.project = project
			jobs = append(jobs, j)
		} else if rs := ps.records[rec.ID]; now.Sub(rs.changedAt) < s.cfg.Settle {
			pending(rec.Start)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan records of project %q: %w", project, err)
	}
	for id := range ps.records {
		if !seen[id] {
			delete(ps.records, id)
		}
	}
	if limit := s.jobsPerPass(); len(jobs) > limit {
		// A backlog is worked off over several passes, so that other projects get their
		// turn and progress is saved between them.
		for _, j := range jobs[limit:] {
			pending(j.rec.Start)
		}
		jobs = jobs[:limit]
		s.Trigger()
	}
	s.run(ctx, jobs)
	for _, j := range jobs {
		for _, m := range j.metrics {
			if j.rs.judged[m.Name] != j.rs.fingerprint {
				pending(j.rec.Start)
			}
		}
	}
	wm := now.Add(-s.cfg.Lookback)
	if !pendingFrom.IsZero() && pendingFrom.Before(wm) {
		wm = pendingFrom
	}
	return s.saveWatermark(ctx, project, ps, now, wm)
}

// consider updates what the worker knows of a record and returns the metrics to judge it
// with now, or nil when it is unsettled or has nothing to judge.
func (s *Service) consider(ps *projectState, rec *store.Record, metrics []*compiled, now time.Time) *job {
	rs, known := ps.records[rec.ID]
	fp := fingerprint(rec)
	switch {
	case !known:
		rs = &recordState{fingerprint: fp, changedAt: now, judged: map[string]string{}, attempts: map[string]int{}}
		ps.records[rec.ID] = rs
		// Scores written before a restart count as judged at the record's current state.
		for _, m := range metrics {
			if sc, ok := rec.Scores[m.Name]; ok && sc.Source == ScoreSource {
				rs.judged[m.Name] = fp
			}
		}
	case rs.fingerprint != fp:
		rs.fingerprint, rs.changedAt = fp, now
		clear(rs.attempts)
	}
	if now.Sub(rs.changedAt) < s.cfg.Settle {
		return nil
	}
	j := &job{rec: rec, rs: rs}
	for _, m := range metrics {
		if rs.judged[m.Name] == fp {
			continue
		}
		if sc, ok := rec.Scores[m.Name]; ok && sc.Source != ScoreSource {
			// A person or an external evaluator set this score: never overwrite it.
			rs.judged[m.Name] = fp
			continue
		}
		if !sampled(rec.TraceID, m.Rate()) {
			rs.judged[m.Name] = fp
			continue
		}
		if !m.filter.Match(rec, m.tq) {
			// A filter on other scores (metric=...) may match once those are written, which
			// does not change the fingerprint: check it again next pass.
			if len(m.filter.Metrics) == 0 {
				rs.judged[m.Name] = fp
			}
			continue
		}
		j.metrics = append(j.metrics, m)
	}
	if len(j.metrics) == 0 {
		return nil
	}
	return j
}

// state loads (once) a project's persisted watermark.
func (s *Service) state(ctx context.Context, project string, now time.Time) (*projectState, error) {
	if ps, ok := s.states[project]; ok {
		return ps, nil
	}
	ps := &projectState{watermark: now.Add(-s.cfg.Lookback), records: map[string]*recordState{}}
	body, err := s.store.GetObject(ctx, project, kindState, "worker")
	switch {
	case err == nil:
		var st persistedState
		if json.Unmarshal(body, &st) == nil && !st.Watermark.IsZero() {
			ps.watermark, ps.savedAt = st.Watermark, now
		}
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("load the metric worker's state of project %q: %w", project, err)
	}
	s.states[project] = ps
	return ps, nil
}

// saveWatermark moves the watermark, persisting it at most once a minute.
func (s *Service) saveWatermark(ctx context.Context, project string, ps *projectState, now, wm time.Time) error {
	ps.watermark = wm
	if now.Sub(ps.savedAt) < time.Minute && !ps.savedAt.IsZero() {
		return nil
	}
	body, err := json.Marshal(persistedState{Watermark: wm.UTC()})
	if err != nil {
		return err
	}
	if err := s.store.PutObject(ctx, project, kindState, "worker", body); err != nil {
		return fmt.Errorf("save the metric worker's watermark of project %q: %w", project, err)
	}
	ps.savedAt = now
	return nil
}

// jobsPerPass bounds the records one pass over a project judges.
func (s *Service) jobsPerPass() int { return 16 * s.cfg.Judge.Concurrency }

// run judges the jobs with at most concurrency records in flight.
func (s *Service) run(ctx context.Context, jobs []*job) {
	if len(jobs) == 0 {
		return
	}
	sem := make(chan struct{}, s.cfg.Judge.Concurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.judgeRecord(ctx, j)
		}()
	}
	wg.Wait()
}

// judgeRecord renders every metric of the job for one record and writes the verdicts. Only
// this job's goroutine touches j.rs while it runs.
func (s *Service) judgeRecord(ctx context.Context, j *job) {
	fp := j.rs.fingerprint
	fail := func(m *compiled, err error) {
		if ctx.Err() != nil {
			return
		}
		j.rs.attempts[m.Name]++
		if j.rs.attempts[m.Name] >= maxAttempts {
			j.rs.judged[m.Name] = fp
		}
		if s.recordError(j.project, m.Name, fmt.Errorf("record %s: %w", j.rec.TraceID, err)) {
			s.logger.Warn("Judge evaluation failed; further failures of this metric are logged at debug level for a minute",
				zap.String("project", j.project), zap.String("metric", m.Name),
				zap.String("trace_id", j.rec.TraceID), zap.Int("attempt", j.rs.attempts[m.Name]), zap.Error(err))
		} else {
			s.logger.Debug("Judge evaluation failed",
				zap.String("project", j.project), zap.String("metric", m.Name),
				zap.String("trace_id", j.rec.TraceID), zap.Int("attempt", j.rs.attempts[m.Name]), zap.Error(err))
		}
	}
	spans, err := s.store.GetSpans(ctx, j.project, j.rec.TraceID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		for _, m := range j.metrics {
			fail(m, fmt.Errorf("read spans: %w", err))
		}
		return
	}
	data, err := buildData(j.rec, spans, s.cfg.MaxFieldChars)
	if err != nil {
		for _, m := range j.metrics {
			fail(m, fmt.Errorf("read spans: %w", err))
		}
		return
	}
	for _, m := range j.metrics {
		if ctx.Err() != nil {
			return
		}
		v, err := s.evaluate(ctx, m, data)
		if err != nil {
			fail(m, err)
			continue
		}
		passed := v.Passed
		score := store.Score{Value: v.Value, Passed: &passed, Reason: v.Reason, Source: ScoreSource, Flag: raisedFlag(&m.Metric, v)}
		if err := s.store.PutScore(ctx, j.project, j.rec.TraceID, m.Name, score); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				// Deleted by retention meanwhile.
				j.rs.judged[m.Name] = fp
				continue
			}
			fail(m, fmt.Errorf("store score: %w", err))
			continue
		}
		j.rs.judged[m.Name] = fp
		s.recordResult(j.project, m.Name, passed)
		s.logger.Debug("Judge verdict stored",
			zap.String("project", j.project), zap.String("metric", m.Name),
			zap.String("trace_id", j.rec.TraceID), zap.Any("value", v.Value), zap.Bool("passed", passed))
	}
}

// evaluate renders the prompt, asks the judge and parses the verdict.
func (s *Service) evaluate(ctx context.Context, m *compiled, data *Data) (verdict, error) {
	prompt, err := render(m.tmpl, data)
	if err != nil {
		return verdict{}, err
	}
	endpoint, model, keyEnv := s.target(&m.Metric)
	text, err := s.client.complete(ctx, chatRequest{
		Endpoint:   endpoint,
		Model:      model,
		APIKey:     apiKey(keyEnv),
		APIKeyEnv:  keyEnv,
		System:     systemPrompt(&m.Metric),
		User:       prompt,
		OutputType: m.OutputType,
	})
	if err != nil {
		return verdict{}, err
	}
	v, err := parseVerdict(text, m.OutputType, m.Threshold())
	if err != nil {
		return verdict{}, err
	}
	return v, nil
}

// raisedFlag is the record flag a failing verdict of m raises, or nil.
func raisedFlag(m *Metric, v verdict) *llmschema.Flag {
	if v.Passed || m.Flag == nil {
		return nil
	}
	msg := m.Flag.Message
	if msg == "" {
		msg = "AI-judge metric " + m.Name + " failed"
	}
	evidence := v.Reason
	if len(evidence) > maxFlagEvidence {
		cut := maxFlagEvidence
		for cut > 0 && !utf8.RuneStart(evidence[cut]) {
			cut--
		}
		evidence = evidence[:cut] + "…"
	}
	return &llmschema.Flag{
		Code: m.Flag.Code, Category: llmschema.CategoryBehavioral, Severity: m.Flag.Severity,
		Message: msg, Evidence: evidence, Source: ScoreSource,
	}
}

// maxFlagEvidence caps the judge's reason quoted as a flag's evidence.
const maxFlagEvidence = 200

// target is the endpoint, model and key variable a metric uses. A metric with its own
// endpoint never inherits the default endpoint's key.
func (s *Service) target(m *Metric) (endpoint, model, keyEnv string) {
	endpoint, model, keyEnv = m.Endpoint, m.Model, m.APIKeyEnv
	if endpoint == "" {
		endpoint = s.cfg.Judge.Endpoint
	}
	if model == "" {
		model = s.cfg.Judge.Model
	}
	if keyEnv == "" && strings.TrimSuffix(endpoint, "/") == strings.TrimSuffix(s.cfg.Judge.Endpoint, "/") {
		keyEnv = s.cfg.Judge.APIKeyEnv
	}
	return endpoint, model, keyEnv
}

// systemPrompt states the judge's role and the reply format for the metric's output type.
func systemPrompt(m *Metric) string {
	var format string
	switch m.OutputType {
	case OutputScale15:
		format = `{"reason": "<one to three sentences>", "score": <integer from 1 (worst) to 5 (best)>}`
	case OutputFloat01:
		format = `{"reason": "<one to three sentences>", "score": <number from 0.0 (worst) to 1.0 (best)>}`
	default:
		format = `{"reason": "<one to three sentences>", "score": "PASS" or "FAIL"}`
	}
	return "You are an impartial evaluator of AI application traces. Apply the criteria you are given strictly and consistently; do not reward length or confident tone. " +
		"Reply with only this JSON object and nothing else: " + format
}

// fingerprint changes whenever a span is folded into the record (scores do not change it).
func fingerprint(r *store.Record) string {
	return fmt.Sprintf("%d/%d/%d/%d", r.SpanCount, r.Assembly.StartNanos, r.Assembly.EndNanos, len(r.Flags))
}

// sampled decides deterministically from the trace ID whether a record is in the sample, so
// that every replica and every pass agree, and metrics with the same rate pick the same
// records.
func sampled(traceID string, rate float64) bool {
	if rate >= 1 {
		return true
	}
	if rate <= 0 {
		return false
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(strings.ToLower(traceID)))
	// FNV alone leaves the high bits of similar IDs correlated; the murmur3 finalizer mixes them.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return float64(x)/math.MaxUint64 < rate
}
