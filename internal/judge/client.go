package judge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// client calls OpenAI-compatible chat completions APIs (OpenAI, Azure OpenAI, Ollama, vLLM,
// LiteLLM, ...) with bounded concurrency, a request-rate limit and retries.
type client struct {
	http       *http.Client
	timeout    time.Duration
	maxRetries int
	sem        chan struct{}
	limiter    *rateLimiter
	// backoff is the first retry delay; it doubles per attempt.
	backoff time.Duration
	// plain remembers endpoint+model pairs that rejected response_format, which are then
	// asked without it.
	plain sync.Map
}

func newClient(cfg JudgeConfig) *client {
	return &client{
		http:       &http.Client{},
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		sem:        make(chan struct{}, cfg.Concurrency),
		limiter:    newRateLimiter(cfg.MaxRequestsPerMinute),
		backoff:    500 * time.Millisecond,
	}
}

// chatRequest is one judge call.
type chatRequest struct {
	Endpoint   string
	Model      string
	APIKey     string
	APIKeyEnv  string
	System     string
	User       string
	OutputType string
}

// statusError is a non-2xx answer.
type statusError struct {
	Status int
	Body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body)
}

// complete sends the request and returns the reply's text.
func (c *client) complete(ctx context.Context, req chatRequest) (string, error) {
	key := req.Endpoint + "\x00" + req.Model
	_, plain := c.plain.Load(key)
	text, err := c.completeWithRetries(ctx, req, !plain)
	var se *statusError
	if !plain && errors.As(err, &se) && se.Status == http.StatusBadRequest && mentionsResponseFormat(se.Body) {
		c.plain.Store(key, true)
		text, err = c.completeWithRetries(ctx, req, false)
	}
	if err != nil {
		return "", redact(err, req.APIKey)
	}
	return text, nil
}

func mentionsResponseFormat(body string) bool {
	b := strings.ToLower(body)
	return strings.Contains(b, "response_format") || strings.Contains(b, "json_schema") || strings.Contains(b, "structured output")
}

func (c *client) completeWithRetries(ctx context.Context, req chatRequest, schema bool) (string, error) {
	body, err := json.Marshal(requestBody(req, schema))
	if err != nil {
		return "", fmt.Errorf("encode judge request: %w", err)
	}
	target, err := chatURL(req.Endpoint)
	if err != nil {
		return "", err
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		text, retryAfter, err := c.once(ctx, target, req, body)
		if err == nil {
			return text, nil
		}
		lastErr = err
		if retryAfter < 0 || attempt >= c.maxRetries || ctx.Err() != nil {
			if attempt > 0 {
				return "", fmt.Errorf("%w (after %d attempts)", lastErr, attempt+1)
			}
			return "", lastErr
		}
		delay := c.backoff << attempt
		delay += time.Duration(rand.Int64N(int64(delay)/2 + 1))
		if retryAfter > delay {
			delay = retryAfter
		}
		if delay > 30*time.Second {
			delay = 30 * time.Second
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("%w (gave up retrying: %w)", lastErr, ctx.Err())
		case <-t.C:
		}
	}
}

// once sends one request. retryAfter < 0 means the error is final; otherwise the request may
// be retried after at least retryAfter.
func (c *client) once(ctx context.Context, target string, req chatRequest, body []byte) (string, time.Duration, error) {
	if err := c.limiter.wait(ctx); err != nil {
		return "", -1, fmt.Errorf("wait for the request rate limit: %w", err)
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return "", -1, ctx.Err()
	}
	defer func() { <-c.sem }()

	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(rctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "", -1, fmt.Errorf("build judge request for %s: %w", target, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	if req.APIKey != "" {
		if isAzure(target) {
			hreq.Header.Set("api-key", req.APIKey)
		} else {
			hreq.Header.Set("Authorization", "Bearer "+req.APIKey)
		}
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return "", -1, fmt.Errorf("POST %s: %w", target, ctx.Err())
		}
		return "", 0, fmt.Errorf("POST %s: %w", target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", 0, fmt.Errorf("read judge reply from %s: %w", target, err)
	}
	if resp.StatusCode/100 != 2 {
		se := &statusError{Status: resp.StatusCode, Body: truncate(strings.TrimSpace(string(raw)), 300)}
		err := fmt.Errorf("POST %s: %w", target, se)
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			hint := "no API key was sent; set api_key_env"
			if req.APIKeyEnv != "" {
				hint = "check the key in the environment variable " + req.APIKeyEnv
			}
			return "", -1, fmt.Errorf("%w (%s)", err, hint)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
			return "", retryAfterOf(resp.Header), err
		}
		return "", -1, err
	}
	text, err := replyText(raw)
	if err != nil {
		return "", -1, fmt.Errorf("judge reply from %s: %w", target, err)
	}
	return text, 0, nil
}

func retryAfterOf(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// chatURL appends /chat/completions to the base URL, keeping its query (Azure's api-version).
func chatURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("judge endpoint %q: %w", endpoint, err)
	}
	if !strings.HasSuffix(u.Path, "/chat/completions") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/chat/completions"
	}
	return u.String(), nil
}

func isAzure(target string) bool {
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return strings.HasSuffix(h, ".openai.azure.com") || strings.HasSuffix(h, ".cognitiveservices.azure.com")
}

// requestBody is the chat completions request; with schema, the reply is constrained to
// {"reason", "score"} through response_format.
func requestBody(req chatRequest, schema bool) map[string]any {
	body := map[string]any{
		"model":       req.Model,
		"temperature": 0,
		"messages": []map[string]string{
			{"role": "system", "content": req.System},
			{"role": "user", "content": req.User},
		},
	}
	if schema {
		body["response_format"] = map[string]any{
			"type": "json_schema",
			"json_schema": map[string]any{
				"name":   "judge_verdict",
				"strict": true,
				"schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"reason": map[string]any{"type": "string", "description": "a short justification, written before the score"},
						"score":  scoreSchema(req.OutputType),
					},
					"required":             []string{"reason", "score"},
					"additionalProperties": false,
				},
			},
		}
	}
	return body
}

func scoreSchema(outputType string) map[string]any {
	switch outputType {
	case OutputScale15:
		return map[string]any{"type": "integer", "description": "from 1 (worst) to 5 (best)"}
	case OutputFloat01:
		return map[string]any{"type": "number", "description": "from 0 (worst) to 1 (best)"}
	}
	return map[string]any{"type": "string", "enum": []string{"PASS", "FAIL"}}
}

// replyText extracts the first choice's text: a string content, an array of text parts, or
// (for servers that implement structured output as a tool call) the call's arguments.
func replyText(raw []byte) (string, error) {
	var r struct {
		Choices []struct {
			Message struct {
				Content   json.RawMessage `json:"content"`
				Refusal   string          `json:"refusal"`
				ToolCalls []struct {
					Function struct {
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return "", fmt.Errorf("not a chat completions response: %w", err)
	}
	if r.Error != nil && r.Error.Message != "" {
		return "", fmt.Errorf("error: %s", truncate(r.Error.Message, 300))
	}
	if len(r.Choices) == 0 {
		return "", errors.New("no choices in the response")
	}
	m := r.Choices[0].Message
	var s string
	if len(m.Content) > 0 && string(m.Content) != "null" {
		if json.Unmarshal(m.Content, &s) != nil {
			var parts []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			if err := json.Unmarshal(m.Content, &parts); err != nil {
				return "", fmt.Errorf("message content is neither text nor parts: %w", err)
			}
			var b strings.Builder
			for _, p := range parts {
				b.WriteString(p.Text)
			}
			s = b.String()
		}
	}
	if strings.TrimSpace(s) == "" && len(m.ToolCalls) > 0 {
		s = m.ToolCalls[0].Function.Arguments
	}
	if strings.TrimSpace(s) == "" && m.Refusal != "" {
		return "", fmt.Errorf("the judge refused: %s", truncate(m.Refusal, 300))
	}
	if strings.TrimSpace(s) == "" {
		return "", errors.New("the judge's reply is empty")
	}
	return s, nil
}

// redact removes the API key from an error's text, in case a provider echoed it.
func redact(err error, key string) error {
	if err == nil || len(key) < 4 || !strings.Contains(err.Error(), key) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), key, "[redacted]"))
}

// rateLimiter spaces requests evenly to at most perMinute per minute.
type rateLimiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newRateLimiter(perMinute int) *rateLimiter {
	if perMinute <= 0 {
		return &rateLimiter{}
	}
	return &rateLimiter{interval: time.Minute / time.Duration(perMinute)}
}

func (l *rateLimiter) wait(ctx context.Context) error {
	if l.interval == 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
