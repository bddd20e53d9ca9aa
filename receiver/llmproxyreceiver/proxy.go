package llmproxyreceiver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/client"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// Headers the proxy reads. Every header starting with tracehoundHeaderPrefix is
// consumed by the proxy and never forwarded.
const (
	tracehoundHeaderPrefix = "X-Tracehound-"
	headerTracehoundKey    = "X-Tracehound-Api-Key"
	headerScorecardKey     = "X-Scorecard-Api-Key"
	headerUpstream         = "X-Tracehound-Upstream"
	headerRunID            = "X-Tracehound-Run-Id"
	headerUserID           = "X-Tracehound-User-Id"
	headerSessionID        = "X-Tracehound-Session-Id"
	headerMetadataPrefix   = "X-Tracehound-Metadata-"
	headerAuthorization    = "Authorization"
	headerAnthropicKey     = "X-Api-Key"
	headerAzureKey         = "Api-Key"
)

// hopHeaders apply to one connection and are not forwarded (RFC 9110 section 7.6.1).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

type routeKind int

const (
	routePassthrough routeKind = iota
	routeModels
	routeChat
	routeCompletions
	routeEmbeddings
	routeResponses
	routeMessages
)

// classify names the route by the path's ending, so that OpenAI-compatible APIs under
// other prefixes are traced too: Azure OpenAI (/openai/deployments/<name>/chat/completions),
// Gemini (/v1beta/openai/chat/completions), vLLM, Ollama, LiteLLM.
func classify(method, p string) routeKind {
	if method == http.MethodGet && (p == "/v1/models" || strings.HasPrefix(p, "/v1/models/")) {
		return routeModels
	}
	if method != http.MethodPost {
		return routePassthrough
	}
	switch {
	case strings.HasSuffix(p, "/chat/completions"):
		return routeChat
	case strings.HasSuffix(p, "/completions"):
		return routeCompletions
	case strings.HasSuffix(p, "/embeddings"):
		return routeEmbeddings
	case strings.HasSuffix(p, "/responses"):
		return routeResponses
	case strings.HasSuffix(p, "/v1/messages"):
		// Not any ".../messages": OpenAI's /v1/threads/<id>/messages is something else.
		return routeMessages
	}
	return routePassthrough
}

func (k routeKind) traced() bool { return k >= routeChat }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// ServeHTTP proxies one call.
func (p *proxyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	up, upPath := p.selectUpstream(r)
	kind := classify(r.Method, upPath)
	errAPI := errorAPI(kind, upPath, up)
	if up == nil {
		writeProviderError(w, errAPI, http.StatusNotFound, codeUnknownUpstream,
			"llmproxy: no upstream is configured for this path or x-tracehound-upstream value; configured upstreams are reachable as /<name>/v1/...")
		return
	}
	if kind == routePassthrough && !p.cfg.Passthrough {
		writeProviderError(w, errAPI, http.StatusNotFound, codeNotProxied,
			"llmproxy: "+r.Method+" "+upPath+" is not proxied (passthrough is off)")
		return
	}

	authCtx, project, bearerIsProjectKey, authErr := p.authenticate(r)
	if authErr != nil {
		code := codeInvalidKey
		if errors.Is(authErr, errMissingProjectKey) {
			code = codeMissingKey
		}
		writeProviderError(w, errAPI, http.StatusUnauthorized, code, "llmproxy: "+authErr.Error())
		return
	}

	body, err := readBody(r, p.cfg.MaxRequestBodyBytes)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProviderError(w, errAPI, http.StatusRequestEntityTooLarge, codeBodyTooLarge,
				"llmproxy: request body is larger than max_request_body_bytes")
			return
		}
		writeProviderError(w, errAPI, http.StatusBadRequest, codeBadRequest, "llmproxy: read request body: "+err.Error())
		return
	}

	out, err := http.NewRequestWithContext(r.Context(), r.Method, up.targetURL(upPath, r.URL.RawQuery), bytes.NewReader(body))
	if err != nil {
		writeProviderError(w, errAPI, http.StatusBadRequest, codeBadRequest, "llmproxy: build upstream request: "+err.Error())
		return
	}
	out.ContentLength = int64(len(body))
	if len(body) == 0 && r.ContentLength <= 0 {
		out.Body = http.NoBody
	}
	copyRequestHeaders(out.Header, r.Header, bearerIsProjectKey)

	var c *call
	if kind.traced() {
		c = newCall(r, kind, up, body, start, project, client.FromContext(authCtx))
	}

	sent := time.Now()
	resp, err := up.client.Do(out)
	if err != nil {
		clientGone := r.Context().Err() != nil
		status, errType, code, msg := upstreamFailure(up, err)
		if !clientGone {
			writeProviderError(w, errAPI, status, code, msg)
		}
		if c == nil {
			return
		}
		c.sent, c.upstreamDone = sent, time.Now()
		if clientGone {
			c.errorType, c.errorMessage = llmschema.ErrorTypeClientCancelled, "client disconnected before the upstream answered"
		} else {
			c.errorType, c.errorMessage, c.status = errType, msg, status
		}
		c.end = time.Now()
		p.emitter.enqueue(c)
		return
	}
	defer resp.Body.Close()

	h := w.Header()
	for k, vv := range resp.Header {
		h[k] = vv
	}
	removeHopHeaders(h)
	w.WriteHeader(resp.StatusCode)

	if c == nil {
		bp := bufPool.Get().(*[]byte)
		_, err := io.CopyBuffer(flushWriter{w}, resp.Body, *bp)
		bufPool.Put(bp)
		if err != nil {
			// Abort the client's response too, so that it does not look complete.
			panic(http.ErrAbortHandler)
		}
		return
	}
	c.sent, c.status = sent, resp.StatusCode
	if resp.StatusCode < 400 && isEventStream(resp.Header) {
		p.relayStream(w, r, resp, c)
	} else {
		p.relayBody(w, r, resp, c)
	}
	c.end = time.Now()
	p.emitter.enqueue(c)
	if c.errorType == llmschema.ErrorTypeUpstreamInterrupted {
		// Abort the client's response too, so that it does not look complete.
		panic(http.ErrAbortHandler)
	}
}

// relayBody copies a response that is not an event stream and keeps up to
// max_capture_bytes for parsing. It flushes after every read as well, so that a
// server streaming under another content type is not held back.
func (p *proxyReceiver) relayBody(w http.ResponseWriter, r *http.Request, resp *http.Response, c *call) {
	limit := p.cfg.MaxCaptureBytes
	if resp.ContentLength > 0 && resp.ContentLength <= limit {
		c.respBody = make([]byte, 0, resp.ContentLength)
	}
	rc := http.NewResponseController(w)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				c.clientGone(r)
				break
			}
			if ferr := rc.Flush(); ferr != nil {
				c.clientGone(r)
				break
			}
			if !c.truncated && int64(len(c.respBody)+n) <= limit {
				c.respBody = append(c.respBody, buf[:n]...)
			} else {
				// Once bytes are skipped the capture is not a prefix of the body
				// any more; keep it as it was.
				c.truncated = true
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			c.readFailed(r, rerr)
			break
		}
	}
	c.upstreamDone = time.Now()
}

// relayStream forwards server-sent events as they arrive, flushing after every read,
// and feeds the same bytes to the stream assembler after the client has them.
func (p *proxyReceiver) relayStream(w http.ResponseWriter, r *http.Request, resp *http.Response, c *call) {
	c.streaming = true
	asm := c.newAssembler()
	c.assembler = asm
	parser := newSSEParser(int(p.cfg.MaxCaptureBytes), func(event string, data []byte) {
		if asm.event(event, data) && c.firstToken.IsZero() {
			c.firstToken = time.Now()
		}
	})
	rc := http.NewResponseController(w)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				c.clientGone(r)
				break
			}
			if ferr := rc.Flush(); ferr != nil {
				c.clientGone(r)
				break
			}
			parser.Feed(buf[:n])
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			c.readFailed(r, rerr)
			break
		}
	}
	c.upstreamDone = time.Now()
	parser.Close()
	c.truncated = c.truncated || parser.overflow
}

// flushWriter flushes after every write so that untraced streams are not held back.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if err == nil {
		err = http.NewResponseController(f.w).Flush()
	}
	return n, err
}

func isEventStream(h http.Header) bool {
	return strings.HasPrefix(strings.ToLower(h.Get("Content-Type")), "text/event-stream")
}

func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	var buf []byte
	if r.ContentLength > 0 {
		buf = make([]byte, 0, r.ContentLength)
	}
	b := bytes.NewBuffer(buf)
	// confighttp already wraps the body in http.MaxBytesReader; this bound also
	// covers a decompressed body.
	_, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, limit))
	return b.Bytes(), err
}

// selectUpstream picks the upstream by path prefix (/<name>/...), else by the
// x-tracehound-upstream header, else by the route (/v1/messages is Anthropic's, every
// other /v1 path OpenAI's). It returns the path to send upstream.
func (p *proxyReceiver) selectUpstream(r *http.Request) (*upstream, string) {
	clean := cleanPath(r.URL.Path)
	if clean == "/v1" || strings.HasPrefix(clean, "/v1/") {
		name := r.Header.Get(headerUpstream)
		if name == "" {
			name = apiOpenAI
			if isMessagesPath(clean) {
				name = apiAnthropic
			}
		}
		return p.upstreams[name], clean
	}
	name, rest, _ := strings.Cut(clean[1:], "/")
	return p.upstreams[name], "/" + rest
}

func isMessagesPath(p string) bool {
	return p == "/v1/messages" || strings.HasPrefix(p, "/v1/messages/")
}

// errorAPI is the dialect the client most likely speaks: the route's own when the
// proxy knows the route, else the upstream's.
func errorAPI(kind routeKind, upPath string, u *upstream) string {
	switch {
	case kind == routeMessages || isMessagesPath(upPath):
		return apiAnthropic
	case kind != routePassthrough || u == nil:
		return apiOpenAI
	}
	return u.api
}

// cleanPath resolves dot segments so that a path cannot climb out of an upstream's
// base path; the host is never taken from the request.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

func (u *upstream) targetURL(p, rawQuery string) string {
	t := *u.base
	t.Path = u.base.Path + p
	t.RawQuery = rawQuery
	return t.String()
}

// upstreamFailure describes a request that got no response: 504 when the configured
// timeout ran out, else 502. The request URL is left out of the message because some
// providers take the key in the query (Azure's api-key).
func upstreamFailure(u *upstream, err error) (status int, errType, code, msg string) {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var nerr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return http.StatusGatewayTimeout, llmschema.ErrorTypeUpstreamTimeout, codeTimeout,
			"llmproxy: upstream " + u.name + " (" + u.base.Host + ") did not answer within its timeout: " + err.Error()
	}
	return http.StatusBadGateway, llmschema.ErrorTypeUpstreamUnreachable, codeUnreachable,
		"llmproxy: upstream " + u.name + " (" + u.base.Host + ") is unreachable: " + err.Error()
}

func copyRequestHeaders(dst, src http.Header, dropAuthorization bool) {
	for k, vv := range src {
		switch {
		case strings.HasPrefix(k, tracehoundHeaderPrefix), k == headerScorecardKey:
			continue
		case k == headerAuthorization && dropAuthorization:
			continue
		case k == "Accept-Encoding", k == "Content-Length", k == "Host":
			// The transport negotiates compression and decodes it, so the proxy can
			// read the response; the client receives identity encoding.
			continue
		}
		dst[k] = vv
	}
	removeHopHeaders(dst)
}

func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

var errMissingProjectKey = errors.New(`missing project key: send "x-tracehound-api-key: <key>" (or "x-scorecard-api-key"), or "Authorization: Bearer <key>" when the provider key travels in x-api-key`)

// authenticate finds the project key, asks the configured authenticator for the
// project, and reports whether Authorization carried the project key (and so must not
// be forwarded). Only the project key's header is shown to the authenticator, so a
// provider key in Authorization is never mistaken for ours.
func (p *proxyReceiver) authenticate(r *http.Request) (context.Context, string, bool, error) {
	var name, value string
	bearer := false
	switch {
	case r.Header.Get(headerTracehoundKey) != "":
		name, value = headerTracehoundKey, r.Header.Get(headerTracehoundKey)
	case r.Header.Get(headerScorecardKey) != "":
		name, value = headerScorecardKey, r.Header.Get(headerScorecardKey)
	case r.Header.Get(headerAuthorization) != "" && r.Header.Get(headerAnthropicKey) != "":
		name, value, bearer = headerAuthorization, r.Header.Get(headerAuthorization), true
	}
	if p.auth == nil {
		return r.Context(), llmschema.DefaultProject, bearer, nil
	}
	if name == "" {
		return nil, "", false, errMissingProjectKey
	}
	ctx, err := p.auth.Authenticate(r.Context(), map[string][]string{name: {value}})
	if err != nil {
		return nil, "", false, err
	}
	project := llmschema.DefaultProject
	if info := client.FromContext(ctx); info.Auth != nil {
		if s, ok := info.Auth.GetAttribute(llmschema.ProjectAuthAttribute).(string); ok && s != "" {
			project = s
		}
	}
	return ctx, project, bearer, nil
}
