package llmproxyreceiver

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
)

const scopeName = "github.com/tracehound/tracehound/receiver/llmproxyreceiver"

// serviceName names the resource of proxy spans; the records exporter shows it as the
// record's service.
const serviceName = "llmproxy"

// maxStatusMessage bounds the error text copied onto a span.
const maxStatusMessage = 1024

// streamAssembler rebuilds the response from a stream's events. event reports whether
// the event carried generated content, which times the first token.
// done reports that the stream's terminal event has arrived, after which the client
// closing the connection is normal.
type streamAssembler interface {
	event(name string, data []byte) bool
	done() bool
	finish(ex *exchange)
}

// call is everything about one proxied model call that the span needs. The handler
// fills it; an emitter worker turns it into a span after the client has its response.
type call struct {
	kind     routeKind
	upstream *upstream
	method   string
	path     string
	project  string
	info     client.Info

	traceID      pcommon.TraceID
	parentSpanID pcommon.SpanID
	traceState   string

	runID, userID, sessionID string
	metadata                 [][2]string

	// secrets are the request's credentials, kept only to scrub them from upstream
	// error text; they are never written anywhere.
	secrets []string

	reqBody  []byte
	respBody []byte

	start, sent, firstToken, upstreamDone, end time.Time

	status       int
	streaming    bool
	truncated    bool
	assembler    streamAssembler
	errorType    string
	errorMessage string
}

func newCall(r *http.Request, kind routeKind, up *upstream, body []byte, start time.Time, project string, info client.Info) *call {
	c := &call{
		kind:     kind,
		upstream: up,
		method:   r.Method,
		path:     r.URL.Path,
		project:  project,
		info:     withoutCredentials(info),
		reqBody:  body,
		start:    start,
	}
	c.traceID, c.parentSpanID = parseTraceparent(r.Header.Get("Traceparent"))
	if !c.traceID.IsEmpty() {
		c.traceState = r.Header.Get("Tracestate")
	}
	for k, vv := range r.Header {
		if len(vv) == 0 || !strings.HasPrefix(k, tracehoundHeaderPrefix) {
			continue
		}
		switch k {
		case headerRunID:
			c.runID = vv[0]
		case headerUserID:
			c.userID = vv[0]
		case headerSessionID:
			c.sessionID = vv[0]
		default:
			if name, ok := strings.CutPrefix(k, headerMetadataPrefix); ok && name != "" {
				c.metadata = append(c.metadata, [2]string{strings.ToLower(name), vv[0]})
			}
		}
	}
	bearer, _ := strings.CutPrefix(r.Header.Get(headerAuthorization), "Bearer ")
	c.secrets = []string{bearer, r.Header.Get(headerAnthropicKey), r.Header.Get(headerAzureKey), r.Header.Get(headerTracehoundKey), r.Header.Get(headerScorecardKey)}
	return c
}

// credentialHeaders never travel down the pipeline, even with include_metadata on.
var credentialHeaders = map[string]bool{
	"authorization": true, "x-api-key": true, "api-key": true,
	"x-tracehound-api-key": true, "x-scorecard-api-key": true,
	"cookie": true, "proxy-authorization": true,
}

// withoutCredentials drops the request's keys from the client metadata that
// include_metadata copies from the headers; the address and auth data stay.
func withoutCredentials(info client.Info) client.Info {
	md := map[string][]string{}
	dropped := false
	for k := range info.Metadata.Keys() {
		if credentialHeaders[strings.ToLower(k)] {
			dropped = true
			continue
		}
		md[k] = info.Metadata.Get(k)
	}
	if dropped {
		info.Metadata = client.NewMetadata(md)
	}
	return info
}

// size is what the call holds in memory while it waits in the queue.
func (c *call) size() int64 { return int64(len(c.reqBody) + len(c.respBody) + 1024) }

func (c *call) newAssembler() streamAssembler {
	switch c.kind {
	case routeMessages:
		return &anStream{}
	case routeResponses:
		return &oaResponsesStream{}
	case routeCompletions:
		return &oaChatStream{completion: true}
	}
	return &oaChatStream{}
}

// clientGone records that the client went away while the response was being relayed,
// unless the stream had already delivered its terminal event.
func (c *call) clientGone(_ *http.Request) {
	if c.assembler != nil && c.assembler.done() {
		return
	}
	c.errorType = llmschema.ErrorTypeClientCancelled
	c.errorMessage = "client disconnected before the response completed"
}

// readFailed records why reading the upstream response stopped early.
func (c *call) readFailed(r *http.Request, err error) {
	if c.assembler != nil && c.assembler.done() {
		return
	}
	if r.Context().Err() != nil {
		c.clientGone(r)
		return
	}
	c.errorType = llmschema.ErrorTypeUpstreamInterrupted
	c.errorMessage = "upstream response ended early: " + err.Error()
}

// parseTraceparent reads a W3C traceparent header; it returns empty IDs when the header
// is absent or malformed, and the span then starts a new trace.
func parseTraceparent(v string) (pcommon.TraceID, pcommon.SpanID) {
	var tid pcommon.TraceID
	var sid pcommon.SpanID
	// version "-" trace-id "-" parent-id "-" flags; later versions may append fields.
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || (len(v) > 55 && v[55] != '-') {
		return tid, sid
	}
	if v[:2] == "ff" || (v[:2] == "00" && len(v) != 55) {
		return tid, sid
	}
	var ver [1]byte
	var flags [1]byte
	if _, err := hex.Decode(ver[:], []byte(v[:2])); err != nil {
		return tid, sid
	}
	if _, err := hex.Decode(flags[:], []byte(v[53:55])); err != nil {
		return tid, sid
	}
	if !isLowerHex(v[3:35]) || !isLowerHex(v[36:52]) {
		return tid, sid
	}
	var t pcommon.TraceID
	var s pcommon.SpanID
	_, _ = hex.Decode(t[:], []byte(v[3:35]))
	_, _ = hex.Decode(s[:], []byte(v[36:52]))
	if t.IsEmpty() || s.IsEmpty() {
		return tid, sid
	}
	return t, s
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			return false
		}
	}
	return true
}

func newTraceID() pcommon.TraceID {
	var t pcommon.TraceID
	binary.BigEndian.PutUint64(t[:8], rand.Uint64())
	binary.BigEndian.PutUint64(t[8:], rand.Uint64()|1)
	return t
}

func newSpanID() pcommon.SpanID {
	var s pcommon.SpanID
	binary.BigEndian.PutUint64(s[:], rand.Uint64()|1)
	return s
}

// exchange parses the bodies of the call.
func (c *call) exchange() *exchange {
	ex := &exchange{operation: llmschema.OperationChat, spanKind: llmschema.SpanKindLLM}
	switch c.kind {
	case routeCompletions:
		ex.operation = llmschema.OperationTextCompletion
	case routeEmbeddings:
		ex.operation, ex.spanKind = llmschema.OperationEmbeddings, llmschema.SpanKindEmbedding
	}
	if c.kind == routeMessages {
		parseAnthropicRequest(c.reqBody, ex)
	} else {
		parseOpenAIRequest(c.reqBody, ex)
	}
	if ex.requestModel == "" {
		// Azure OpenAI names the deployment in the path instead of the body.
		ex.requestModel = azureDeployment(c.path)
	}
	switch {
	case c.status >= 400:
		if c.kind == routeMessages {
			parseAnthropicError(c.respBody, ex)
		} else {
			parseOpenAIError(c.respBody, ex)
		}
	case c.assembler != nil:
		c.assembler.finish(ex)
	case c.kind == routeMessages:
		parseAnthropicResponse(c.respBody, ex)
	case c.kind == routeEmbeddings:
		parseEmbeddingsResponse(c.respBody, ex)
	case len(c.respBody) > 0:
		parseOpenAIResponse(c.respBody, c.kind == routeResponses, ex)
	}
	return ex
}

func azureDeployment(p string) string {
	_, rest, ok := strings.Cut(p, "/deployments/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func parseEmbeddingsResponse(body []byte, ex *exchange) {
	// Only the head fields: the vectors are the bulk of the body and are not kept.
	var resp struct {
		Model string   `json:"model"`
		Usage *oaUsage `json:"usage"`
	}
	if json.Unmarshal(body, &resp) != nil {
		return
	}
	ex.responseModel = resp.Model
	resp.Usage.apply(&ex.usage)
}

// traces builds the span of the call.
func (c *call) traces() ptrace.Traces {
	ex := c.exchange()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr(llmschema.ServiceName, serviceName)
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(scopeName)
	span := ss.Spans().AppendEmpty()

	if c.traceID.IsEmpty() {
		span.SetTraceID(newTraceID())
	} else {
		span.SetTraceID(c.traceID)
		span.SetParentSpanID(c.parentSpanID)
		span.TraceState().FromRaw(c.traceState)
	}
	span.SetSpanID(newSpanID())
	span.SetKind(ptrace.SpanKindClient)
	name := ex.operation
	if ex.requestModel != "" {
		name += " " + ex.requestModel
	}
	span.SetName(name)
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(c.start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(c.end))

	a := span.Attributes()
	a.EnsureCapacity(40)
	a.PutStr(llmschema.Source, llmschema.SourceProxy)
	a.PutStr(llmschema.SpanKind, ex.spanKind)
	a.PutBool(llmschema.LLMCall, true)
	a.PutStr(llmschema.OperationName, ex.operation)
	a.PutStr(llmschema.ProviderName, c.upstream.provider)
	a.PutStr(llmschema.ProxyUpstream, c.upstream.name)
	a.PutStr(llmschema.ProjectID, c.project)
	a.PutStr(llmschema.HTTPRequestMethod, c.method)
	a.PutStr(llmschema.URLPath, c.path)
	a.PutStr(llmschema.ServerAddress, c.upstream.host)
	a.PutInt(llmschema.ServerPort, int64(c.upstream.port))
	a.PutBool(llmschema.ProxyStreaming, c.streaming)
	if c.status != 0 {
		a.PutInt(llmschema.HTTPResponseStatus, int64(c.status))
	}
	putStr(a, llmschema.RequestModel, ex.requestModel)
	putStr(a, llmschema.ResponseModel, ex.responseModel)
	putStr(a, llmschema.ResponseID, ex.responseID)
	putStr(a, llmschema.RunID, c.runID)
	putStr(a, llmschema.UserID, c.userID)
	putStr(a, llmschema.SessionID, c.sessionID)
	for _, kv := range c.metadata {
		a.PutStr(llmschema.MetadataPrefix+kv[0], kv[1])
	}
	putParams(a, &ex.params)
	if len(ex.systemInstructions) > 0 {
		putJSON(a, llmschema.SystemInstructions, ex.systemInstructions)
	}
	if len(ex.inputMessages) > 0 {
		putJSON(a, llmschema.InputMessages, ex.inputMessages)
	}
	if len(ex.outputMessages) > 0 {
		putJSON(a, llmschema.OutputMessages, ex.outputMessages)
	}
	putStr(a, llmschema.Input, ex.inputText)
	putStr(a, llmschema.Output, ex.outputText)
	if len(ex.finishReasons) > 0 {
		s := a.PutEmptySlice(llmschema.FinishReasons)
		for _, f := range ex.finishReasons {
			s.AppendEmpty().SetStr(f)
		}
	}
	putInt(a, llmschema.UsageInputTokens, ex.usage.input)
	putInt(a, llmschema.UsageOutputTokens, ex.usage.output)
	putInt(a, llmschema.UsageCacheRead, ex.usage.cacheRead)
	putInt(a, llmschema.UsageCacheCreation, ex.usage.cacheCreation)
	if !c.sent.IsZero() && !c.upstreamDone.IsZero() {
		a.PutDouble(llmschema.ProxyUpstreamLatencyMillis, millis(c.upstreamDone.Sub(c.sent)))
	}
	if c.streaming && !c.firstToken.IsZero() {
		a.PutDouble(llmschema.TTFTMillis, millis(c.firstToken.Sub(c.sent)))
	}
	if c.truncated {
		a.PutBool(llmschema.ProxyCaptureTruncated, true)
	}
	c.setStatus(span, ex)
	return td
}

func (c *call) setStatus(span ptrace.Span, ex *exchange) {
	errType, msg := c.errorType, c.errorMessage
	switch {
	case errType != "":
		// A transport failure or cancellation; a provider error seen before it is
		// still the better description of what went wrong.
		if ex.providerErrorMessage != "" && errType == llmschema.ErrorTypeUpstreamInterrupted {
			msg += ": " + ex.providerErrorMessage
		}
	case c.status >= 400:
		errType = ex.providerErrorType
		if errType == "" {
			errType = strconv.Itoa(c.status)
		}
		msg = ex.providerErrorMessage
		if msg == "" {
			msg = "upstream answered " + strconv.Itoa(c.status) + " " + http.StatusText(c.status)
		}
	case ex.providerErrorType != "" || ex.providerErrorMessage != "":
		errType, msg = ex.providerErrorType, ex.providerErrorMessage
		if errType == "" {
			errType = "error"
		}
	default:
		span.Status().SetCode(ptrace.StatusCodeUnset)
		return
	}
	span.Attributes().PutStr(llmschema.ErrorType, errType)
	span.Status().SetCode(ptrace.StatusCodeError)
	span.Status().SetMessage(truncate(scrubSecret(msg, c.secrets...), maxStatusMessage))
}

func putParams(a pcommon.Map, p *requestParams) {
	putDouble(a, llmschema.RequestTemperature, p.temperature)
	putDouble(a, llmschema.RequestTopP, p.topP)
	putDouble(a, llmschema.RequestTopK, p.topK)
	putDouble(a, llmschema.RequestFrequencyPenalty, p.frequencyPenalty)
	putDouble(a, llmschema.RequestPresencePenalty, p.presencePenalty)
	putInt(a, llmschema.RequestMaxTokens, p.maxTokens)
	putInt(a, llmschema.RequestSeed, p.seed)
	putInt(a, llmschema.RequestChoiceCount, p.choiceCount)
	putInt(a, llmschema.EmbeddingsDimensionCnt, p.dimensions)
	if len(p.stop) > 0 {
		s := a.PutEmptySlice(llmschema.RequestStopSequences)
		for _, v := range p.stop {
			s.AppendEmpty().SetStr(v)
		}
	}
	if p.encodingFormat != "" {
		a.PutEmptySlice(llmschema.RequestEncodingFormats).AppendEmpty().SetStr(p.encodingFormat)
	}
}

func putStr(a pcommon.Map, k, v string) {
	if v != "" {
		a.PutStr(k, v)
	}
}

func putInt(a pcommon.Map, k string, v *int64) {
	if v != nil {
		a.PutInt(k, *v)
	}
}

func putDouble(a pcommon.Map, k string, v *float64) {
	if v != nil {
		a.PutDouble(k, *v)
	}
}

// putJSON writes v as JSON without HTML escaping, so that "<" in prompts stays readable.
func putJSON(a pcommon.Map, k string, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return
	}
	a.PutStr(k, strings.TrimSuffix(b.String(), "\n"))
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

var errQueueFull = errors.New("llmproxy: span queue is full")
