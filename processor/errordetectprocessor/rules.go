package errordetectprocessor

import (
	"context"
	"fmt"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottlspan"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// rule is a parsed user rule.
type rule struct {
	cfg       RuleConfig
	condition *ottl.Condition[*ottlspan.TransformContext]
}

func nopTelemetry() component.TelemetrySettings {
	return component.TelemetrySettings{
		Logger:         zap.NewNop(),
		MeterProvider:  noop.NewMeterProvider(),
		TracerProvider: tracenoop.NewTracerProvider(),
	}
}

// parseCondition parses an OTTL span condition. Conditions may name paths with or without
// the "span." context prefix, as in the filter and transform processors.
func parseCondition(set component.TelemetrySettings, condition string) (*ottl.Condition[*ottlspan.TransformContext], error) {
	plain, err := ottlspan.NewParser(ottlfuncs.StandardConverters[*ottlspan.TransformContext](), set)
	if err != nil {
		return nil, fmt.Errorf("create OTTL parser: %w", err)
	}
	c, plainErr := plain.ParseCondition(condition)
	if plainErr == nil {
		return c, nil
	}
	prefixed, err := ottlspan.NewParser(ottlfuncs.StandardConverters[*ottlspan.TransformContext](), set, ottlspan.EnablePathContextNames())
	if err != nil {
		return nil, fmt.Errorf("create OTTL parser: %w", err)
	}
	if c, err := prefixed.ParseCondition(condition); err == nil {
		return c, nil
	}
	return nil, fmt.Errorf("invalid OTTL condition: %w", plainErr)
}

func compileRules(set component.TelemetrySettings, cfgs []RuleConfig) ([]rule, error) {
	rules := make([]rule, 0, len(cfgs))
	for i, rc := range cfgs {
		c, err := parseCondition(set, rc.Condition)
		if err != nil {
			return nil, fmt.Errorf("rules[%d] (%s).condition: %w", i, rc.Name, err)
		}
		if rc.Category == "" {
			rc.Category = llmschema.CategoryBehavioral
		}
		if rc.Severity == "" {
			rc.Severity = llmschema.SeverityWarning
		}
		if rc.Message == "" {
			rc.Message = "rule " + rc.Name + " matched"
		}
		rules = append(rules, rule{cfg: rc, condition: c})
	}
	return rules, nil
}

// evalRules returns the flags of the rules whose condition holds on the span. A rule that
// fails to evaluate (e.g. a type mismatch on this span) does not match; the count of such
// failures is returned so that the caller can log once per batch.
func evalRules(ctx context.Context, rules []rule, rs ptrace.ResourceSpans, ss ptrace.ScopeSpans, span ptrace.Span) (flags []llmschema.Flag, failed int) {
	if len(rules) == 0 {
		return nil, 0
	}
	tCtx := ottlspan.NewTransformContext(rs, ss, span)
	defer tCtx.Close()
	for _, r := range rules {
		ok, err := r.condition.Eval(ctx, tCtx)
		if err != nil {
			failed++
			continue
		}
		if ok {
			flags = append(flags, llmschema.Flag{
				Code:     r.cfg.Code,
				Category: r.cfg.Category,
				Severity: r.cfg.Severity,
				Message:  r.cfg.Message,
				Evidence: "rule " + r.cfg.Name + ": " + r.cfg.Condition,
			})
		}
	}
	return flags, failed
}
