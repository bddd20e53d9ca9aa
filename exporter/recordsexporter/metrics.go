package recordsexporter

import (
	"context"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/judge"
	"github.com/tracehound/tracehound/internal/store"
)

// The AI-judge metrics (internal/judge) run inside the records exporter: they read records
// from its store, write scores back, and serve /api/v1/metrics on its API. This file is the
// glue; the exporter calls these at config validation, start and shutdown.

// metricsFilterParser reads a metric's filter with the records API's filter parameters.
func metricsFilterParser(v url.Values, now time.Time) (store.Filter, error) {
	q, err := parseQuery(v, now)
	if err != nil {
		return store.Filter{}, err
	}
	return q.Filter, nil
}

// validateMetrics checks the metrics section, including the definitions' filters.
func (c *Config) validateMetrics() error {
	if err := c.Metrics.Validate(); err != nil {
		return err
	}
	return judge.ValidateFilters(c.Metrics.Definitions, metricsFilterParser)
}

// startMetrics builds the metric service on the opened store and returns the store the
// exporter should use from then on (it tells the service which projects receive spans).
func (e *recordsExporter) startMetrics(st store.Store) (store.Store, error) {
	svc, err := judge.New(e.cfg.Metrics, st, e.logger.With(zap.String("part", "metrics")), judge.Options{
		ParseFilter:    metricsFilterParser,
		DefaultProject: e.cfg.DefaultProject,
	})
	if err != nil {
		return nil, err
	}
	e.metrics = svc
	return svc.Observe(st), nil
}

// stopMetrics stops the worker before the store closes.
func (e *recordsExporter) stopMetrics(ctx context.Context) error {
	if e.metrics == nil {
		return nil
	}
	return e.metrics.Shutdown(ctx)
}
