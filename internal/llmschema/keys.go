// Package llmschema names the canonical span attributes that tracehound's components
// exchange. It is the only place in the tree that spells an attribute key: llmextract
// writes these keys, errordetect and the records exporter read them.
package llmschema

// Current OpenTelemetry GenAI semantic-convention keys that form the canonical view.
const (
	OperationName      = "gen_ai.operation.name"
	ProviderName       = "gen_ai.provider.name"
	RequestModel       = "gen_ai.request.model"
	ResponseModel      = "gen_ai.response.model"
	ResponseID         = "gen_ai.response.id"
	InputMessages      = "gen_ai.input.messages"
	OutputMessages     = "gen_ai.output.messages"
	SystemInstructions = "gen_ai.system_instructions"
	UsageInputTokens   = "gen_ai.usage.input_tokens"
	UsageOutputTokens  = "gen_ai.usage.output_tokens"
	UsageCacheRead     = "gen_ai.usage.cache_read.input_tokens"
	UsageCacheCreation = "gen_ai.usage.cache_creation.input_tokens"
	FinishReasons      = "gen_ai.response.finish_reasons"
	ConversationID     = "gen_ai.conversation.id"
	AgentName          = "gen_ai.agent.name"
	ToolName           = "gen_ai.tool.name"
	ToolCallID         = "gen_ai.tool.call.id"
	ToolCallArguments  = "gen_ai.tool.call.arguments"
	ToolCallResult     = "gen_ai.tool.call.result"
	SessionID          = "session.id"
	UserID             = "user.id"
	ErrorType          = "error.type"
	ServiceName        = "service.name"
	HTTPResponseStatus = "http.response.status_code"
	ExceptionEventName = "exception"
	ExceptionType      = "exception.type"
	ExceptionMessage   = "exception.message"
)

// tracehound's own canonical keys.
const (
	// SpanKind is one of the SpanKind* values below.
	SpanKind = "tracehound.span.kind"
	// Input and Output are plain text for display and search.
	Input  = "tracehound.input"
	Output = "tracehound.output"
	// LLMCall is true on the spans that are billable provider calls, so that records,
	// runs and stats count tokens and cost once even when wrapper spans repeat them.
	LLMCall = "tracehound.llm.call"
	// CostUSD is the call's price in US dollars; absent when the price is unknown.
	CostUSD = "tracehound.cost.usd"
	// PriceUnknown is true when the model has no entry in the price table.
	PriceUnknown = "tracehound.cost.unknown"
	// RunID groups records into a run (from scorecard.tracing_group_id and friends).
	RunID = "tracehound.run.id"
	// ProjectID is stamped from the authenticated request, overwriting client claims.
	ProjectID = "tracehound.project.id"
	// TestcaseID and Expected link a record to an evaluation test case.
	TestcaseID = "tracehound.testcase.id"
	Expected   = "tracehound.expected"
	// Source is where the span came from: SourceOTLP (default), SourceProxy or SourceAPI.
	Source = "tracehound.source"
	// Flags is a JSON list of Flag values.
	Flags = "tracehound.flags"
	// MetadataPrefix starts user metadata keys: tracehound.metadata.<key>.
	MetadataPrefix = "tracehound.metadata."
	// RetrievalDocuments is a JSON list of Document values kept for groundedness checks.
	RetrievalDocuments = "tracehound.retrieval.documents"
)

// Values of SpanKind.
const (
	SpanKindLLM       = "llm"
	SpanKindEmbedding = "embedding"
	SpanKindTool      = "tool"
	SpanKindAgent     = "agent"
	SpanKindChain     = "chain"
	SpanKindWorkflow  = "workflow"
	SpanKindTask      = "task"
	SpanKindRetriever = "retriever"
	SpanKindReranker  = "reranker"
	SpanKindGuardrail = "guardrail"
	SpanKindOther     = "other"
)

// Values of Source.
const (
	SourceOTLP  = "otlp"
	SourceProxy = "proxy"
	SourceAPI   = "api"
)

// ProjectAuthAttribute is the client.Info auth attribute that carries the project ID of
// the authenticated caller (set by the bearerauth extension).
const ProjectAuthAttribute = "project.id"

// DefaultProject is used when no authenticator names a project.
const DefaultProject = "default"
