package llmproxyreceiver

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// writeProviderError answers in the error format of the API the client speaks, so its
// SDK raises its usual exception with our message.
func writeProviderError(w http.ResponseWriter, api string, status int, code, message string) {
	var body any
	if api == apiAnthropic {
		body = map[string]any{
			"type":  "error",
			"error": map[string]any{"type": anthropicErrorType(status), "message": message},
		}
	} else {
		body = map[string]any{
			"error": map[string]any{"message": message, "type": openAIErrorType(status), "param": nil, "code": code},
		}
	}
	data, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("X-Tracehound-Error", code)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// anthropicErrorType maps a status to the type names of Anthropic's error reference.
func anthropicErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	}
	return "api_error"
}

func openAIErrorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status < 500:
		return "invalid_request_error"
	}
	return "server_error"
}

// Error codes of the errors the proxy itself answers with.
const (
	codeUnknownUpstream = "unknown_upstream"
	codeNotProxied      = "path_not_proxied"
	codeMissingKey      = "missing_project_key"
	codeInvalidKey      = "invalid_project_key"
	codeBodyTooLarge    = "request_too_large"
	codeBadRequest      = "bad_request"
	codeUnreachable     = "upstream_unreachable"
	codeTimeout         = "upstream_timeout"
)

// keyLike matches provider API keys and their masked echoes ("sk-proj-abc***xyz") so
// that upstream error messages are stored without them.
var keyLike = regexp.MustCompile(`(?i)\b(sk|pk|rk)-[A-Za-z0-9_\-*]{6,}`)

// scrubSecret removes the provider key (exact) and key-shaped tokens from text that is
// about to be stored on a span.
func scrubSecret(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 8 {
			text = strings.ReplaceAll(text, s, "[REDACTED]")
		}
	}
	return keyLike.ReplaceAllString(text, "[REDACTED]")
}
