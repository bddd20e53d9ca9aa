package llmschema

// Keys written by the llmproxy receiver that keys.go does not name yet.

// Request parameters of the OpenTelemetry GenAI semantic conventions.
const (
	RequestTemperature      = "gen_ai.request.temperature"
	RequestMaxTokens        = "gen_ai.request.max_tokens"
	RequestTopP             = "gen_ai.request.top_p"
	RequestTopK             = "gen_ai.request.top_k"
	RequestFrequencyPenalty = "gen_ai.request.frequency_penalty"
	RequestPresencePenalty  = "gen_ai.request.presence_penalty"
	RequestStopSequences    = "gen_ai.request.stop_sequences"
	RequestSeed             = "gen_ai.request.seed"
	RequestChoiceCount      = "gen_ai.request.choice.count"
	RequestEncodingFormats  = "gen_ai.request.encoding_formats"
	EmbeddingsDimensionCnt  = "gen_ai.embeddings.dimension.count"
)

// HTTP and network keys of the OpenTelemetry semantic conventions.
const (
	HTTPRequestMethod = "http.request.method"
	URLPath           = "url.path"
	ServerAddress     = "server.address"
	ServerPort        = "server.port"
)

// tracehound keys that describe a proxied call.
const (
	// TTFTMillis is the time from sending the request upstream to the first content
	// token of a streamed response, in milliseconds.
	TTFTMillis = "tracehound.ttft_ms"
	// ProxyUpstream is the configured name of the upstream that served the call.
	ProxyUpstream = "tracehound.proxy.upstream"
	// ProxyStreaming is true when the response was a server-sent-event stream.
	ProxyStreaming = "tracehound.proxy.streaming"
	// ProxyUpstreamLatencyMillis is the time from sending the request upstream until
	// the upstream finished its response (or failed), in milliseconds.
	ProxyUpstreamLatencyMillis = "tracehound.proxy.upstream_latency_ms"
	// ProxyCaptureTruncated is true when the response was larger than the proxy
	// keeps for parsing, so output and usage may be missing.
	ProxyCaptureTruncated = "tracehound.proxy.capture_truncated"
)

// Values of ErrorType that the llmproxy receiver writes besides provider error types
// and HTTP status codes.
const (
	ErrorTypeClientCancelled     = "client_cancelled"
	ErrorTypeUpstreamUnreachable = "upstream_unreachable"
	ErrorTypeUpstreamTimeout     = "upstream_timeout"
	ErrorTypeUpstreamInterrupted = "upstream_interrupted"
)
