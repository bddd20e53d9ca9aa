package errordetectprocessor

import (
	"encoding/json"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tracehound/tracehound/internal/llmschema"
)

func technical(code, message, evidence string) llmschema.Flag {
	sev := llmschema.SeverityError
	if code == llmschema.FlagCodeTruncated {
		sev = llmschema.SeverityWarning
	}
	return llmschema.Flag{Code: code, Category: llmschema.CategoryTechnical, Severity: sev, Message: message, Evidence: evidence}
}

// detectTechnical flags errors that standard trace data states outright.
func detectTechnical(v *spanView) {
	a := v.attrs
	status := v.span.Status()
	errType := str(a, llmschema.ErrorType)
	httpStatus := httpStatusCode(a)

	var excEvidence []string
	events := v.span.Events()
	for i := 0; i < events.Len(); i++ {
		e := events.At(i)
		if e.Name() != llmschema.ExceptionEventName {
			continue
		}
		typ := str(e.Attributes(), llmschema.ExceptionType)
		msg := str(e.Attributes(), llmschema.ExceptionMessage)
		excEvidence = append(excEvidence, strings.TrimPrefix(strings.TrimSpace(typ+": "+msg), ": "))
	}

	errored := v.isError()
	if errored {
		ev := status.Message()
		if ev == "" {
			ev = errType
		}
		if v.isTool() {
			v.add(technical(llmschema.FlagCodeToolError, "tool call failed", ev))
		} else {
			v.add(technical(llmschema.FlagCodeSpanError, "span ended with error status", ev))
		}
	} else if v.isTool() {
		if ev, ok := toolResultError(v.toolResult()); ok {
			v.add(technical(llmschema.FlagCodeToolError, "tool returned an error", ev))
		}
	}
	if len(excEvidence) > 0 {
		v.add(technical(llmschema.FlagCodeException, "exception recorded", excEvidence[0]))
	}

	// Classify the failure when there is one: an error status, an HTTP error, error.type
	// or an exception.
	if errored || httpStatus >= 400 || errType != "" || len(excEvidence) > 0 {
		texts := append([]string{errType, status.Message()}, excEvidence...)
		if code, msg, ev := classifyFailure(httpStatus, texts); code != "" {
			v.add(technical(code, msg, ev))
		}
	}

	for _, fr := range v.finish {
		switch {
		case truncationReason(fr):
			v.add(technical(llmschema.FlagCodeTruncated, "output stopped at the token limit", "finish_reason="+fr))
		case filterReason(fr):
			v.add(technical(llmschema.FlagCodeContentFiltered, "provider filtered the output", "finish_reason="+fr))
		}
	}
}

// truncationReason and filterReason recognize the finish reasons of OpenAI, Anthropic,
// Gemini, Bedrock and friends, in any case.
func truncationReason(fr string) bool {
	switch strings.ToLower(fr) {
	case "length", "max_tokens", "max_output_tokens", "model_length", "token_limit":
		return true
	}
	return false
}

func filterReason(fr string) bool {
	switch strings.ToLower(fr) {
	case "content_filter", "safety", "recitation", "blocklist", "prohibited_content", "spii", "refusal", "guardrail_intervened":
		return true
	}
	return false
}

func httpStatusCode(a pcommon.Map) int64 {
	v, ok := a.Get(llmschema.HTTPResponseStatus)
	if !ok {
		return 0
	}
	if v.Type() == pcommon.ValueTypeInt {
		return v.Int()
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(v.AsString()), 10, 64)
	return n
}

type failureClass struct {
	code, message string
	markers       []string
}

// failureClasses are tried in order; the markers are lower-case substrings of error.type,
// the status message or exception text as SDKs spell them (openai.RateLimitError,
// anthropic overloaded_error, context.DeadlineExceeded, botocore ThrottlingException, ...).
var failureClasses = []failureClass{
	{llmschema.FlagCodeRateLimit, "rate limited by the provider", []string{"ratelimit", "rate_limit", "rate limit", "too many requests", "throttl", "quota exceeded", "resource_exhausted", "resourceexhausted", "insufficient_quota"}},
	{llmschema.FlagCodeTimeout, "request timed out", []string{"timeout", "timed out", "deadline", "time out"}},
	{llmschema.FlagCodeAuth, "authentication or permission failure", []string{"authentication", "unauthorized", "unauthenticated", "permissiondenied", "permission_denied", "permission denied", "forbidden", "invalid api key", "invalid_api_key", "incorrect api key", "access denied", "accessdenied"}},
	{llmschema.FlagCodeProviderError, "provider server error", []string{"internalserver", "internal server", "internal_error", "service unavailable", "serviceunavailable", "unavailable", "overloaded", "bad gateway", "badgateway", "server error", "servererror", "server had an error", "apiconnectionerror", "connection reset"}},
}

func classifyFailure(httpStatus int64, texts []string) (code, message, evidence string) {
	switch {
	case httpStatus == 429:
		return llmschema.FlagCodeRateLimit, "rate limited by the provider", "http.response.status_code=429"
	case httpStatus == 408 || httpStatus == 504:
		return llmschema.FlagCodeTimeout, "request timed out", "http.response.status_code=" + strconv.FormatInt(httpStatus, 10)
	case httpStatus == 401 || httpStatus == 403:
		return llmschema.FlagCodeAuth, "authentication or permission failure", "http.response.status_code=" + strconv.FormatInt(httpStatus, 10)
	case httpStatus >= 500 && httpStatus < 600:
		return llmschema.FlagCodeProviderError, "provider server error", "http.response.status_code=" + strconv.FormatInt(httpStatus, 10)
	}
	for _, c := range failureClasses {
		for _, t := range texts {
			lt := strings.ToLower(t)
			if lt == "" {
				continue
			}
			for _, m := range c.markers {
				if strings.Contains(lt, m) {
					return c.code, c.message, t
				}
			}
			if n, err := strconv.Atoi(strings.TrimSpace(lt)); err == nil && n >= 400 {
				return classifyFailure(int64(n), nil)
			}
		}
	}
	return "", "", ""
}

// toolResultError recognizes tool results that report a failure without an error status:
// {"error": ...}, {"is_error": true}, or text that starts with Error/Exception/Traceback.
func toolResultError(r string) (string, bool) {
	t := strings.TrimSpace(r)
	if t == "" {
		return "", false
	}
	if strings.HasPrefix(t, "{") {
		var m map[string]any
		if json.Unmarshal([]byte(t), &m) == nil {
			if e, ok := m["error"]; ok && e != nil && e != false && e != "" {
				return t, true
			}
			if e, ok := m["is_error"].(bool); ok && e {
				return t, true
			}
		}
		return "", false
	}
	if hasToolErrorPrefix(t) {
		return t, true
	}
	return "", false
}

// toolErrorPrefixes start, in lower case, a tool result that reports a failure as text.
var toolErrorPrefixes = []string{"error:", "error -", "exception:", "traceback (most recent call last)"}

// toolResultHead is how many bytes of a result are lower-cased to compare with
// toolErrorPrefixes. Lower-casing maps a text rune by rune (an invalid byte is one rune),
// each of at most four bytes to at least one byte, so the runes wholly within the first
// 4n+3 bytes give at least n bytes, the same as in the whole text.
const toolResultHead = 4*len("traceback (most recent call last)") + 3

// hasToolErrorPrefix reports whether the lower-cased t starts with one of toolErrorPrefixes.
// Tool results run to kilobytes; only their head is lower-cased.
func hasToolErrorPrefix(t string) bool {
	lt := strings.ToLower(t[:min(len(t), toolResultHead)])
	for _, p := range toolErrorPrefixes {
		if strings.HasPrefix(lt, p) {
			return true
		}
	}
	return false
}
