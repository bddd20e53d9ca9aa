package llmschema

// Source-convention keys that llmextract reads and maps onto the canonical keys. Each
// group was checked against the convention's own source or spec and, where available,
// against the captured payloads in shared/fixtures.

// OpenTelemetry GenAI: keys that are deprecated or non-standard but common in the wild,
// and the event names of the older event-based message form.
const (
	GenAISystem              = "gen_ai.system" // deprecated spelling of ProviderName
	GenAIUsagePromptTokens   = "gen_ai.usage.prompt_tokens"
	GenAIUsageCompletionToks = "gen_ai.usage.completion_tokens"
	GenAIUsageCacheReadAlt   = "gen_ai.usage.cache_read_input_tokens"
	GenAIUsageCacheCreateAlt = "gen_ai.usage.cache_creation_input_tokens"
	GenAIUsageCacheWriteAlt  = "gen_ai.usage.cache_write.input_tokens"

	// Indexed legacy prompt/completion attributes: gen_ai.prompt.<i>.<field>.
	GenAIPromptPrefix     = "gen_ai.prompt."
	GenAICompletionPrefix = "gen_ai.completion."

	// Span event names of the event-based form, and their attribute keys.
	GenAIEventSystemMessage    = "gen_ai.system.message"
	GenAIEventUserMessage      = "gen_ai.user.message"
	GenAIEventAssistantMessage = "gen_ai.assistant.message"
	GenAIEventToolMessage      = "gen_ai.tool.message"
	GenAIEventChoice           = "gen_ai.choice"
	GenAIEventOperationDetails = "gen_ai.client.inference.operation.details"
	// Older still: one event per direction, with the JSON in gen_ai.prompt / gen_ai.completion.
	GenAIEventContentPrompt     = "gen_ai.content.prompt"
	GenAIEventContentCompletion = "gen_ai.content.completion"
	// Azure AI Inference / Semantic Kernel put the event body JSON in this attribute.
	EventAttrGenAIContent = "gen_ai.event.content"
	EventAttrContent      = "content"
	EventAttrRole         = "role"
	EventAttrID           = "id"
	EventAttrToolCalls    = "tool_calls"
	EventAttrMessage      = "message"
	EventAttrFinishReason = "finish_reason"
)

// Values of OperationName.
const (
	OperationChat            = "chat"
	OperationTextCompletion  = "text_completion"
	OperationGenerateContent = "generate_content"
	OperationEmbeddings      = "embeddings"
	OperationExecuteTool     = "execute_tool"
	OperationCreateAgent     = "create_agent"
	OperationInvokeAgent     = "invoke_agent"
	OperationInvokeWorkflow  = "invoke_workflow"
)

// Message part types of the semantic-convention message format.
const (
	PartText             = "text"
	PartToolCall         = "tool_call"
	PartToolCallResponse = "tool_call_response"
	PartBlob             = "blob"
	PartURI              = "uri"
	PartFile             = "file"
	PartReasoning        = "reasoning"
)

// Message roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// OpenLLMetry / Traceloop.
const (
	TraceloopSpanKind         = "traceloop.span.kind"
	TraceloopEntityName       = "traceloop.entity.name"
	TraceloopEntityInput      = "traceloop.entity.input"
	TraceloopEntityOutput     = "traceloop.entity.output"
	TraceloopWorkflowName     = "traceloop.workflow.name"
	TraceloopAssociationProps = "traceloop.association.properties."
	LLMRequestType            = "llm.request.type"
	LLMUsageTotalTokens       = "llm.usage.total_tokens"
	// Association property names that carry identities rather than metadata.
	AssocSessionID = "session_id"
	AssocUserID    = "user_id"
)

// OpenInference (Arize): flattened keys; message lists are llm.input_messages.<i>.message.*.
const (
	OpenInferenceSpanKind  = "openinference.span.kind"
	OIInputValue           = "input.value"
	OIInputMimeType        = "input.mime_type"
	OIOutputValue          = "output.value"
	OIOutputMimeType       = "output.mime_type"
	OIModelName            = "llm.model_name"
	OIRequestModelName     = "llm.request.model_name"
	OIResponseModelName    = "llm.response.model_name"
	OIProvider             = "llm.provider"
	OISystem               = "llm.system"
	OIInvocationParameters = "llm.invocation_parameters"
	OIFinishReason         = "llm.finish_reason"
	OITokenPrompt          = "llm.token_count.prompt"
	OITokenCompletion      = "llm.token_count.completion"
	OITokenCacheRead       = "llm.token_count.prompt_details.cache_read"
	OITokenCacheWrite      = "llm.token_count.prompt_details.cache_write"
	OIInputMessagesPrefix  = "llm.input_messages."
	OIOutputMessagesPrefix = "llm.output_messages."
	OIPromptsPrefix        = "llm.prompts."
	OIChoicesPrefix        = "llm.choices."
	OIEmbeddingModelName   = "embedding.model_name"
	OIToolName             = "tool.name"
	OIToolID               = "tool.id"
	OIMetadata             = "metadata"
	OIRetrievalDocsPrefix  = "retrieval.documents."

	// Field paths inside one flattened message, after "<prefix><i>.".
	OIMessageRole          = "message.role"
	OIMessageContent       = "message.content"
	OIMessageName          = "message.name"
	OIMessageToolCallID    = "message.tool_call_id"
	OIMessageFuncCallName  = "message.function_call_name"
	OIMessageFuncCallArgs  = "message.function_call_arguments_json"
	OIMessageContentsPart  = "message.contents."
	OIMessageToolCallsPart = "message.tool_calls."
	OIContentType          = "message_content.type"
	OIContentText          = "message_content.text"
	OIContentImageURL      = "message_content.image.image.url"
	OIToolCallID           = "tool_call.id"
	OIToolCallFuncName     = "tool_call.function.name"
	OIToolCallFuncArgs     = "tool_call.function.arguments"
	OIDocumentID           = "document.id"
	OIDocumentContent      = "document.content"
	OIDocumentScore        = "document.score"
	OIPromptText           = "prompt.text"
	OICompletionText       = "completion.text"
)

// Vercel AI SDK (experimental_telemetry), v4 and v5 spellings.
const (
	AIOperationID            = "ai.operationId"
	AIModelID                = "ai.model.id"
	AIModelProvider          = "ai.model.provider"
	AIPrompt                 = "ai.prompt"
	AIPromptMessages         = "ai.prompt.messages"
	AIResponseText           = "ai.response.text"
	AIResponseToolCalls      = "ai.response.toolCalls"
	AIResponseObject         = "ai.response.object"
	AIResponseFinishReason   = "ai.response.finishReason"
	AIResponseModel          = "ai.response.model"
	AIResponseID             = "ai.response.id"
	AIResponseMsToFirstChunk = "ai.response.msToFirstChunk"
	AIUsagePromptTokens      = "ai.usage.promptTokens"
	AIUsageCompletionTokens  = "ai.usage.completionTokens"
	AIUsageInputTokens       = "ai.usage.inputTokens"
	AIUsageOutputTokens      = "ai.usage.outputTokens"
	AIUsageCachedInputTokens = "ai.usage.cachedInputTokens"
	AIUsageTokens            = "ai.usage.tokens" // embeddings
	// AI SDK v6 input token details.
	AIUsageCacheReadTokens  = "ai.usage.inputTokenDetails.cacheReadTokens"
	AIUsageCacheWriteTokens = "ai.usage.inputTokenDetails.cacheWriteTokens"
	AITelemetryMetadata     = "ai.telemetry.metadata."
	AIToolCallName          = "ai.toolCall.name"
	AIToolCallID            = "ai.toolCall.id"
	AIToolCallArgs          = "ai.toolCall.args"
	AIToolCallResult        = "ai.toolCall.result"
	AIValue                 = "ai.value"
	AIValues                = "ai.values"
	// Metadata keys that carry identities.
	AIMetadataSessionID = "sessionId"
	AIMetadataUserID    = "userId"
)

// Claude Code / Claude Agent SDK detailed beta tracing.
const (
	ClaudeSpanInteraction   = "claude_code.interaction"
	ClaudeSpanLLMRequest    = "claude_code.llm_request"
	ClaudeSpanTool          = "claude_code.tool"
	ClaudeSpanToolExecution = "claude_code.tool.execution"
	ClaudeNewContext        = "new_context"
	ClaudeResponseOutput    = "response.model_output"
	ClaudeUserPrompt        = "user_prompt"
	ClaudeToolInput         = "tool_input"
	ClaudeStopReason        = "stop_reason"
	ClaudeTTFTMillis        = "ttft_ms"
	ClaudeRedacted          = "<REDACTED>"
	ClaudeUserSystemPrompt  = "user_system_prompt"
)

// Langfuse OpenTelemetry attributes.
const (
	LangfuseObservationType   = "langfuse.observation.type"
	LangfuseObservationInput  = "langfuse.observation.input"
	LangfuseObservationOutput = "langfuse.observation.output"
	LangfuseObservationModel  = "langfuse.observation.model.name"
	LangfuseUsageDetails      = "langfuse.observation.usage_details"
	LangfuseTraceInput        = "langfuse.trace.input"
	LangfuseTraceOutput       = "langfuse.trace.output"
	LangfuseSessionID         = "langfuse.session.id"
	LangfuseUserID            = "langfuse.user.id"
	LangfuseTraceMetadata     = "langfuse.trace.metadata."
	LangfuseObsMetadata       = "langfuse.observation.metadata."
)

// LangSmith OpenTelemetry attributes. Its message JSON travels in the unindexed
// gen_ai.prompt / gen_ai.completion keys; conversation and user identities in metadata.
const (
	LangSmithSpanKind   = "langsmith.span.kind"
	LangSmithMetadata   = "langsmith.metadata."
	GenAIPromptJSON     = "gen_ai.prompt"
	GenAICompletionJSON = "gen_ai.completion"
	LSMetaThreadID      = "thread_id"
	LSMetaConversation  = "conversation_id"
)

// Pydantic AI / Logfire. Instrumentation version 1 puts the gen_ai events as a JSON list of
// {"event.name": ..., ...} objects in "events" (model requests) and "all_messages_events"
// (agent runs); later versions put semconv messages in pydantic_ai.all_messages.
const (
	LogfireEvents            = "events"
	LogfireAllMessagesEvents = "all_messages_events"
	LogfireEventName         = "event.name"
	PydanticAIAllMessages    = "pydantic_ai.all_messages"
	PydanticAIFinalResult    = "final_result"
)

// Google Agent Development Kit: Gemini-format request and response JSON, and tool I/O.
const (
	ADKLLMRequest   = "gcp.vertex.agent.llm_request"
	ADKLLMResponse  = "gcp.vertex.agent.llm_response"
	ADKToolCallArgs = "gcp.vertex.agent.tool_call_args"
	ADKToolResponse = "gcp.vertex.agent.tool_response"
)

// MLflow span attributes.
const (
	MLflowSpanInputs  = "mlflow.spanInputs"
	MLflowSpanOutputs = "mlflow.spanOutputs"
)

// Vector-database client spans (OpenLLMetry vector DB instrumentations).
const (
	DBSystem           = "db.system"
	DBSystemName       = "db.system.name"
	DBVectorQueryTopK  = "db.vector.query.top_k"
	DBQueryResultEvent = "db.query.result"
	DBQueryResultID    = "db.query.result.id"
	DBQueryResultScore = "db.query.result.score"
	DBQueryResultDist  = "db.query.result.distance"
	DBQueryResultDoc   = "db.query.result.document"
)

// Scorecard-compatible and tracehound project keys.
const (
	ScorecardTracingGroupID = "scorecard.tracing_group_id"
	ScorecardTestcaseID     = "scorecard.testcase_id"
	ScorecardExpected       = "scorecard.expected"
	ScorecardProjectID      = "scorecard.project_id"
	TracehoundProjectIDRes  = "tracehound.project_id"
	TestcaseIDAlt           = "testcase.id"
)
