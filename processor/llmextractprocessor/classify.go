// Classification: span kind, provider-call detection and provider names.

package llmextractprocessor

import (
	"strings"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// vercelIsCall reports whether a Vercel AI operation ID is a provider call; the parents
// of these spans (ai.generateText, ...) repeat the usage and must not be counted again.
func vercelIsCall(op string) bool {
	return strings.HasSuffix(op, ".doGenerate") || strings.HasSuffix(op, ".doStream") || strings.HasSuffix(op, ".doEmbed")
}

// vectorDBs are db.system values of vector databases, whose query spans are retrievers.
var vectorDBs = map[string]bool{
	"chroma": true, "chromadb": true, "pinecone": true, "qdrant": true, "weaviate": true,
	"milvus": true, "lancedb": true, "marqo": true, "pgvector": true, "redis.vector": true,
}

// classify decides the span kind and whether the span is a billable provider call.
func classify(f *facts, name string) (kind string, llmCall bool) {
	hasUsage := f.input.set() || f.output.set()
	switch {
	case f.oiKind != "":
		kind = map[string]string{
			"LLM": llmschema.SpanKindLLM, "EMBEDDING": llmschema.SpanKindEmbedding,
			"CHAIN": llmschema.SpanKindChain, "TOOL": llmschema.SpanKindTool,
			"AGENT": llmschema.SpanKindAgent, "RETRIEVER": llmschema.SpanKindRetriever,
			"RERANKER": llmschema.SpanKindReranker, "GUARDRAIL": llmschema.SpanKindGuardrail,
		}[f.oiKind]
	case f.aiOp != "" || strings.HasPrefix(name, "ai."):
		op := f.aiOp
		if op == "" {
			op = name
		}
		switch {
		case op == "ai.toolCall":
			kind = llmschema.SpanKindTool
		case strings.HasSuffix(op, ".doEmbed"):
			kind, llmCall = llmschema.SpanKindEmbedding, true
		case vercelIsCall(op):
			kind, llmCall = llmschema.SpanKindLLM, true
		case strings.HasPrefix(op, "ai.embed"):
			kind = llmschema.SpanKindChain
		case strings.HasPrefix(op, "ai."):
			kind = llmschema.SpanKindChain
		}
		if kind != "" {
			return kind, llmCall
		}
	case name == llmschema.ClaudeSpanLLMRequest:
		return llmschema.SpanKindLLM, true
	case name == llmschema.ClaudeSpanInteraction:
		return llmschema.SpanKindAgent, false
	case name == llmschema.ClaudeSpanTool:
		return llmschema.SpanKindTool, false
	case name == llmschema.ClaudeSpanToolExecution:
		return llmschema.SpanKindTask, false
	}
	if kind == "" && f.tlKind != "" {
		switch f.tlKind {
		case "workflow", "task", "agent", "tool":
			kind = f.tlKind
		}
	}
	if kind == "" && f.lfKind != "" {
		switch f.lfKind {
		case "generation":
			kind = llmschema.SpanKindLLM
		case "embedding", "agent", "tool", "chain", "retriever", "guardrail":
			kind = f.lfKind
		}
	}
	if kind == "" && f.lsKind != "" {
		switch f.lsKind {
		case "llm":
			kind = llmschema.SpanKindLLM
		case "chain", "tool", "retriever", "embedding":
			kind = f.lsKind
		}
	}
	if kind == "" {
		switch f.opName {
		case llmschema.OperationChat, llmschema.OperationTextCompletion, llmschema.OperationGenerateContent:
			kind = llmschema.SpanKindLLM
		case llmschema.OperationEmbeddings:
			kind = llmschema.SpanKindEmbedding
		case llmschema.OperationExecuteTool:
			kind = llmschema.SpanKindTool
		case llmschema.OperationCreateAgent, llmschema.OperationInvokeAgent:
			kind = llmschema.SpanKindAgent
		case llmschema.OperationInvokeWorkflow:
			kind = llmschema.SpanKindWorkflow
		}
	}
	if kind == "" {
		switch f.reqType {
		case "chat", "completion":
			kind = llmschema.SpanKindLLM
		case "embedding":
			kind = llmschema.SpanKindEmbedding
		case "rerank":
			kind = llmschema.SpanKindReranker
		}
	}
	// A span with a whole run's history sums its children's usage: an agent, not a call.
	if kind == "" && f.agentHistory {
		kind = llmschema.SpanKindAgent
	}
	if kind == "" && (len(f.legacyIn) > 0 || len(f.legacyOut) > 0 || len(f.eventIn) > 0 || len(f.eventOut) > 0 ||
		len(f.oiIn) > 0 || f.inMsgs != "" || f.adkRequest != "") && (f.model.s != "" || hasUsage) {
		kind = llmschema.SpanKindLLM
	}
	if kind == "" && (vectorDBs[f.dbSystem] || f.hasTopK || (len(f.docs) > 0 && f.dbSystem != "")) {
		kind = llmschema.SpanKindRetriever
	}
	if kind == "" && f.hasToolName && (f.hasToolArgs || f.hasToolResp) {
		kind = llmschema.SpanKindTool
	}
	if kind == "" {
		return llmschema.SpanKindOther, false
	}
	// A provider call is an llm or embedding span of a leaf kind; agent spans that sum
	// their children's usage (invoke_agent) never reach here as llm.
	if kind == llmschema.SpanKindLLM || kind == llmschema.SpanKindEmbedding {
		llmCall = f.opName != llmschema.OperationInvokeAgent
	}
	return kind, llmCall
}

// normalizeProvider maps instrumentation-specific provider spellings (Vercel AI
// "openai.chat", "google.generative-ai", ...) onto gen_ai.provider.name values.
func normalizeProvider(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "az.ai.inference":
		return "azure.ai.inference"
	case "az.ai.openai":
		return "azure.ai.openai"
	}
	head, _, _ := strings.Cut(s, ".")
	switch head {
	case "google":
		if strings.Contains(s, "vertex") {
			return "gcp.vertex_ai"
		}
		return "gcp.gemini"
	case "vertex":
		return "gcp.vertex_ai"
	case "amazon-bedrock", "bedrock":
		return "aws.bedrock"
	case "azure-openai":
		return "azure.ai.openai"
	case "mistral", "mistralai":
		return "mistral_ai"
	case "xai":
		return "x_ai"
	case "openai", "anthropic", "groq", "deepseek", "cohere", "perplexity", "togetherai",
		"fireworks", "cerebras", "deepinfra", "ollama", "openrouter":
		// Vercel AI spells the API next to the provider: "openai.chat", "anthropic.messages".
		return head
	}
	// Anything else is kept: it is a semconv name ("aws.bedrock", "gcp.gemini") or unknown.
	return s
}

func operationFor(f *facts) string {
	switch {
	case f.adkRequest != "":
		return llmschema.OperationGenerateContent
	case f.oiKind == "LLM" || f.reqType == "chat" || strings.HasSuffix(f.aiOp, ".doGenerate") || strings.HasSuffix(f.aiOp, ".doStream"):
		if len(f.oiPrompts) > 0 {
			return llmschema.OperationTextCompletion
		}
		return llmschema.OperationChat
	case f.reqType == "completion":
		return llmschema.OperationTextCompletion
	case f.oiKind == "EMBEDDING" || f.reqType == "embedding" || strings.HasSuffix(f.aiOp, ".doEmbed"):
		return llmschema.OperationEmbeddings
	case f.aiOp == "ai.toolCall" || f.oiKind == "TOOL":
		return llmschema.OperationExecuteTool
	}
	return ""
}
