package judge

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// verdict is a judge's answer, normalized for a metric's output type.
type verdict struct {
	// Value is a bool (boolean) or a float64 (scale_1_5, float_0_1).
	Value  any
	Passed bool
	Reason string
}

// maxReasonChars bounds the reason stored with a score.
const maxReasonChars = 2000

// maxReplyBytes bounds the reply text parsed; a verdict is short, and the tail of a longer
// reply (a model that kept talking) is ignored.
const maxReplyBytes = 64 << 10

// maxObjectCandidates bounds the '{' positions tried as the start of a JSON object.
const maxObjectCandidates = 32

var (
	thinkCloseRE = regexp.MustCompile(`(?i)</think>`)
	thinkRE      = regexp.MustCompile(`(?is)<(think|thinking|reasoning)>.*?</(think|thinking|reasoning)>`)
	fenceRE      = regexp.MustCompile("(?s)```[a-zA-Z]*\\s*\n?(.*?)```")
	labelRE      = regexp.MustCompile(`(?i)\b(?:verdict|result|score|rating|grade|judge?ment|decision|label)\b\s*\**\s*(?:is\s*)?[:=\-]?\s*\**\s*"?([A-Za-z]+|\d+(?:\.\d+)?(?:\s*/\s*\d+)?%?)`)
	numberRE     = regexp.MustCompile(`(?:^|[^\w.])(\d+(?:\.\d+)?)(\s*/\s*(\d+)|%)?`)
	passWordRE   = regexp.MustCompile(`(?i)\b(pass|passed|passes|yes|true|correct)\b`)
	failWordRE   = regexp.MustCompile(`(?i)\b(fail|failed|fails|no|false|incorrect)\b`)
)

// scoreKeys and reasonKeys are the field names judges use, in order of preference.
var (
	scoreKeys  = []string{"score", "verdict", "result", "rating", "grade", "value", "passed", "pass", "label", "answer", "judgement", "judgment", "decision"}
	reasonKeys = []string{"reason", "reasoning", "explanation", "rationale", "justification", "comment", "comments", "analysis", "feedback"}
)

// parseVerdict reads a judge's reply: JSON (possibly inside a code fence or prose), or plain
// text such as "PASS", "FAIL: ...", "Score: 4/5", "0.8". Reasoning blocks (<think>) are
// ignored.
func parseVerdict(content, outputType string, threshold float64) (verdict, error) {
	text := strings.TrimSpace(content)
	// Index the original bytes: lower-casing would shift offsets in invalid UTF-8.
	if locs := thinkCloseRE.FindAllStringIndex(text, -1); len(locs) > 0 {
		text = text[locs[len(locs)-1][1]:]
	}
	text = strings.TrimSpace(thinkRE.ReplaceAllString(text, ""))
	if len(text) > maxReplyBytes {
		text = text[:maxReplyBytes]
	}
	if text == "" {
		return verdict{}, errors.New("the judge's reply is empty")
	}
	for _, cand := range jsonCandidates(text) {
		raw, reason, ok := fromJSON(cand)
		if !ok {
			continue
		}
		v, err := normalize(raw, outputType, threshold)
		if err != nil {
			return verdict{}, fmt.Errorf("the judge's JSON reply has an unusable score: %w", err)
		}
		v.Reason = truncate(strings.TrimSpace(reason), maxReasonChars)
		return v, nil
	}
	raw, err := fromText(text, outputType)
	if err != nil {
		return verdict{}, fmt.Errorf("%w (reply starts %q)", err, truncate(text, 120))
	}
	v, err := normalize(raw, outputType, threshold)
	if err != nil {
		return verdict{}, fmt.Errorf("the judge's reply has an unusable score: %w", err)
	}
	v.Reason = truncate(text, maxReasonChars)
	return v, nil
}

// jsonCandidates are the texts that may hold the verdict object: fenced blocks, the whole
// reply, and every balanced {...} in it.
func jsonCandidates(text string) []string {
	var out []string
	for _, m := range fenceRE.FindAllStringSubmatch(text, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	out = append(out, text)
	// Bounded: a reply full of braces must not cost quadratic time.
	for i, n := 0, 0; i < len(text) && n < maxObjectCandidates; i++ {
		if text[i] != '{' {
			continue
		}
		n++
		if end := matchBrace(text, i); end > i {
			out = append(out, text[i:end+1])
		}
	}
	return out
}

// matchBrace returns the index of the '}' closing the '{' at start, honouring JSON strings,
// or -1.
func matchBrace(s string, start int) int {
	depth, inStr, esc := 0, false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// fromJSON reads the score and reason of a JSON object (keys matched case-insensitively; an
// object nested one level, e.g. {"evaluation": {...}}, is searched too).
func fromJSON(s string) (score any, reason string, ok bool) {
	var obj map[string]any
	if json.Unmarshal([]byte(s), &obj) != nil {
		return nil, "", false
	}
	lower := make(map[string]any, len(obj))
	for k, v := range obj {
		lower[strings.ToLower(strings.TrimSpace(k))] = v
	}
	for _, k := range reasonKeys {
		if r, ok := lower[k]; ok {
			reason = anyText(r)
			break
		}
	}
	for _, k := range scoreKeys {
		if v, ok := lower[k]; ok && v != nil {
			if _, isObj := v.(map[string]any); !isObj {
				return v, reason, true
			}
		}
	}
	for _, v := range lower {
		if nested, isObj := v.(map[string]any); isObj {
			b, _ := json.Marshal(nested)
			if sc, r, ok := fromJSON(string(b)); ok {
				if r == "" {
					r = reason
				}
				return sc, r, true
			}
		}
	}
	return nil, "", false
}

// fromText finds the verdict in prose: a labelled value ("Verdict: PASS", "Score: 4/5"), a
// leading word or number, or the only pass/fail word or number in the text.
func fromText(text, outputType string) (any, error) {
	for _, m := range labelRE.FindAllStringSubmatch(text, -1) {
		if _, ok := boolWord(m[1]); ok && outputType == OutputBoolean {
			return m[1], nil
		}
		if outputType != OutputBoolean && isNumeric(m[1]) {
			return m[1], nil
		}
	}
	first := strings.Trim(strings.Fields(text)[0], "*_.:,!#`\"'()[]")
	if outputType == OutputBoolean {
		if _, ok := boolWord(first); ok {
			return first, nil
		}
		p, f := passWordRE.FindAllString(text, -1), failWordRE.FindAllString(text, -1)
		switch {
		case len(p) > 0 && len(f) == 0:
			return p[0], nil
		case len(f) > 0 && len(p) == 0:
			return f[0], nil
		case len(p) > 0:
			return nil, errors.New("the judge's reply says both pass and fail and has no labelled verdict")
		}
		return nil, errors.New("the judge's reply holds no PASS/FAIL verdict")
	}
	ms := numberRE.FindAllStringSubmatch(text, -1)
	if len(ms) == 0 {
		return nil, errors.New("the judge's reply holds no number")
	}
	return ms[0][1] + strings.TrimSpace(ms[0][2]), nil
}

func isNumeric(s string) bool {
	_, err := parseNumber(s)
	return err == nil
}

// boolWord reads the words judges use for a boolean verdict.
func boolWord(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pass", "passed", "passes", "yes", "y", "true", "correct", "ok", "good", "1":
		return true, true
	case "fail", "failed", "fails", "no", "n", "false", "incorrect", "bad", "0":
		return false, true
	}
	return false, false
}

// parseNumber reads "4", "4.5", "4/5" (as 4 on a 5 scale → returned with its denominator
// applied by the caller), "85%".
func parseNumber(s string) (float64, error) {
	s = strings.Trim(strings.TrimSpace(s), "*_\"'`.")
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return 0, err
		}
		return f / 100, nil
	}
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
		d, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err1 != nil || err2 != nil || d <= 0 {
			return 0, fmt.Errorf("not a number: %q", s)
		}
		return n / d, nil
	}
	return strconv.ParseFloat(s, 64)
}

// normalize turns a raw score (bool, number or string) into the metric's value.
func normalize(raw any, outputType string, threshold float64) (verdict, error) {
	switch outputType {
	case OutputBoolean:
		var b bool
		switch x := raw.(type) {
		case bool:
			b = x
		case float64:
			if x != 0 && x != 1 {
				return verdict{}, fmt.Errorf("want PASS/FAIL (or 1/0), got %v", x)
			}
			b = x == 1
		case string:
			var ok bool
			if b, ok = boolWord(strings.Trim(x, "*_.!\"'`")); !ok {
				return verdict{}, fmt.Errorf("want PASS or FAIL, got %q", x)
			}
		default:
			return verdict{}, fmt.Errorf("want PASS or FAIL, got %v", raw)
		}
		return verdict{Value: b, Passed: b}, nil
	case OutputScale15, OutputFloat01:
		var f float64
		switch x := raw.(type) {
		case float64:
			f = x
		case string:
			s := strings.TrimSpace(x)
			if num, den, ok := strings.Cut(s, "/"); ok {
				n, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
				d, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
				if err1 != nil || err2 != nil || d <= 0 {
					return verdict{}, fmt.Errorf("want a number, got %q", x)
				}
				f = rescale(n, d, outputType)
				break
			}
			v, err := parseNumber(s)
			if err != nil {
				if b, ok := boolWord(s); ok && outputType == OutputFloat01 {
					v = map[bool]float64{true: 1, false: 0}[b]
				} else {
					return verdict{}, fmt.Errorf("want a number, got %q", x)
				}
			}
			f = v
		case bool:
			if outputType != OutputFloat01 {
				return verdict{}, fmt.Errorf("want a number from 1 to 5, got %v", x)
			}
			f = map[bool]float64{true: 1, false: 0}[x]
		default:
			return verdict{}, fmt.Errorf("want a number, got %v", raw)
		}
		lo, hi := 0.0, 1.0
		if outputType == OutputScale15 {
			lo, hi = 1, 5
		}
		if math.IsNaN(f) || f < lo || f > hi {
			return verdict{}, fmt.Errorf("want a number from %g to %g, got %g", lo, hi, f)
		}
		return verdict{Value: f, Passed: f >= threshold}, nil
	}
	return verdict{}, fmt.Errorf("unknown output type %q", outputType)
}

// rescale maps "n/d" onto the metric's range: "4/5" is 4 on scale_1_5 and 0.8 on float_0_1.
func rescale(n, d float64, outputType string) float64 {
	if outputType == OutputScale15 {
		if d == 5 {
			return n
		}
		return 1 + (n/d)*4
	}
	return n / d
}
