package llmschema

// Flag is one detected problem on a span, as errordetect writes it into Flags.
type Flag struct {
	Code     string `json:"code"`
	Category string `json:"category"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Evidence string `json:"evidence,omitempty"`
	// SpanID is filled in by the records exporter when it rolls flags up to a record.
	SpanID string `json:"span_id,omitempty"`
	// Source says what raised the flag: "rule" (deterministic checks, the default) or "judge".
	Source string `json:"source,omitempty"`
}

// Flag categories.
const (
	CategoryTechnical  = "technical"
	CategoryBehavioral = "behavioral"
)

// Flag severities, in increasing order.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityError    = "error"
	SeverityCritical = "critical"
)

// SeverityAtLeastWarning reports whether a flag of severity s makes a record "flagged".
func SeverityAtLeastWarning(s string) bool {
	switch s {
	case SeverityWarning, SeverityError, SeverityCritical:
		return true
	}
	return false
}

// Message is one message in the semantic-convention JSON message format used by
// InputMessages and OutputMessages.
type Message struct {
	Role         string `json:"role"`
	Parts        []Part `json:"parts"`
	Name         string `json:"name,omitempty"`
	FinishReason string `json:"finish_reason,omitempty"`
}

// Part is one part of a Message: type "text" (Content), "tool_call" (ID, Name,
// Arguments), "tool_call_response" (ID, Response), or another modality ("blob",
// "uri", "reasoning", ...) whose fields are kept as given.
type Part struct {
	Type      string `json:"type"`
	Content   any    `json:"content,omitempty"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Arguments any    `json:"arguments,omitempty"`
	Response  any    `json:"response,omitempty"`
	MIMEType  string `json:"mime_type,omitempty"`
	Modality  string `json:"modality,omitempty"`
	URI       string `json:"uri,omitempty"`
}

// Document is one retrieved document kept for groundedness checks.
type Document struct {
	ID      string  `json:"id,omitempty"`
	Content string  `json:"content"`
	Score   float64 `json:"score,omitempty"`
}
