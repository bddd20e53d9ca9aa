package bearerauthextension

import (
	"errors"
	"strings"
)

// headerName holds the two spellings seen in practice: gRPC metadata is lower case, and
// net/http canonicalises header names. Any other spelling is found by a scan that
// ignores case.
type headerName struct{ lower, canonical string }

var (
	headerAuthorization = headerName{"authorization", "Authorization"}
	headerTracehoundKey = headerName{"x-tracehound-api-key", "X-Tracehound-Api-Key"}
	headerScorecardKey  = headerName{"x-scorecard-api-key", "X-Scorecard-Api-Key"}
)

// These errors reach the client (HTTP 401 body, gRPC Unauthenticated message) and the
// log, so they never include any part of what the client sent.
var (
	errNoKey      = errors.New(`missing API key: send "Authorization: Bearer <key>" or "x-tracehound-api-key: <key>"`)
	errBadScheme  = errors.New(`unsupported Authorization scheme: send "Authorization: Bearer <key>"`)
	errInvalidKey = errors.New("invalid API key")
)

// keyFromHeaders finds the API key in request headers or gRPC metadata.
//
// The dedicated headers win over Authorization: the llmproxy receiver forwards the
// caller's Authorization header (the provider's key, e.g. an OpenAI key) upstream, so a
// proxied request carries our key in x-tracehound-api-key (or Scorecard's
// x-scorecard-api-key) and Authorization must not be read as ours.
func keyFromHeaders(headers map[string][]string) (string, error) {
	for _, name := range [...]headerName{headerTracehoundKey, headerScorecardKey} {
		if key := strings.TrimSpace(firstValue(headers, name)); key != "" {
			return key, nil
		}
	}
	auth := strings.TrimSpace(firstValue(headers, headerAuthorization))
	if auth == "" {
		return "", errNoKey
	}
	return parseBearer(auth)
}

// parseBearer reads "Bearer <key>" with the scheme in any case. It also takes
// "Bearer%20<key>": TRACELOOP_HEADERS="Authorization=Bearer%20<key>" (the documented
// way to put a space in that variable) reaches us undecoded from some SDKs.
func parseBearer(value string) (string, error) {
	const scheme = "bearer"
	if len(value) < len(scheme) || !strings.EqualFold(value[:len(scheme)], scheme) {
		return "", errBadScheme
	}
	rest := value[len(scheme):]
	switch {
	case rest == "":
		return "", errNoKey
	case strings.HasPrefix(rest, "%20"):
		rest = rest[len("%20"):]
	case rest[0] == ' ' || rest[0] == '\t':
	default:
		// e.g. "BearerXYZ" or "Bearers": not our scheme.
		return "", errBadScheme
	}
	key := strings.TrimSpace(rest)
	if key == "" {
		return "", errNoKey
	}
	return key, nil
}

// firstValue returns the first non-blank value of the header name.
func firstValue(headers map[string][]string, name headerName) string {
	values, ok := headers[name.lower]
	if !ok {
		values, ok = headers[name.canonical]
	}
	if !ok {
		for k, v := range headers {
			if strings.EqualFold(k, name.lower) {
				values = v
				break
			}
		}
	}
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
