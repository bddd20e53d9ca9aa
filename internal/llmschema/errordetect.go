package llmschema

// Flag codes that the errordetect processor writes into Flags. The records exporter and the
// UI filter on these values, so they are part of the stored data format: add, never rename.
const (
	// Technical errors, from standard trace data (category technical).
	FlagCodeSpanError       = "span_error"
	FlagCodeException       = "exception"
	FlagCodeRateLimit       = "rate_limit"
	FlagCodeTimeout         = "timeout"
	FlagCodeAuth            = "auth"
	FlagCodeProviderError   = "provider_error"
	FlagCodeTruncated       = "truncated"
	FlagCodeContentFiltered = "content_filtered"
	FlagCodeToolError       = "tool_error"

	// Silent failures (category behavioral).
	FlagCodeRefusal              = "refusal"
	FlagCodeEmptyOutput          = "empty_output"
	FlagCodeRepetition           = "repetition"
	FlagCodeOffTopic             = "off_topic"
	FlagCodeWorkflowInterruption = "workflow_interruption"
	FlagCodeSafetyViolation      = "safety_violation"
	FlagCodeHallucination        = "hallucination"
	FlagCodeContextLoss          = "context_loss"
)

// Values of Flag.Source.
const (
	FlagSourceRule  = "rule"
	FlagSourceJudge = "judge"
)
