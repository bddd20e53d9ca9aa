package errordetectprocessor

// Hand-written scanners for the two patterns that run over every trace's whole grounding
// text. They match exactly what numberPattern and clockPattern (kept in numscan_test.go, where
// a differential fuzz test holds the scanners to them) would match, at a fraction of the cost
// of Go's regexp engine, which dominated the processor's CPU profile on multi-KB prompts.

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isASCIIWordByte is regexp's ASCII \w.
func isASCIIWordByte(c byte) bool { return asciiWordBytes[c] }

// asciiWordBytes is a table: the scans that call isASCIIWordByte on every byte of a prompt
// spend less on one load than on four comparisons.
var asciiWordBytes = func() (t [256]bool) {
	for c := range t {
		b := byte(c)
		t[c] = isDigit(b) || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b == '_'
	}
	return t
}()

// numberSpans returns the non-overlapping leftmost-first matches of
// `\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?` as [start, end) pairs.
func numberSpans(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		run := i
		for run < len(s) && isDigit(s[run]) {
			run++
		}
		end := -1
		// First alternative: 1–3 digits followed by at least one ",ddd" group. The optional
		// {1,3} can give back digits, but a comma must follow the digits it keeps, so only
		// the whole run (when it is at most 3 long) can be followed by one.
		if run-i <= 3 && hasThousandsGroup(s, run) {
			j := run
			for hasThousandsGroup(s, j) {
				j += 4
			}
			end = decimalTail(s, j)
		} else {
			end = decimalTail(s, run)
		}
		out = append(out, [2]int{i, end})
		i = end
	}
	return out
}

func hasThousandsGroup(s string, j int) bool {
	return j+3 < len(s) && s[j] == ',' && isDigit(s[j+1]) && isDigit(s[j+2]) && isDigit(s[j+3])
}

// decimalTail extends a match ending at j by an optional `\.\d+`.
func decimalTail(s string, j int) int {
	if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	return j
}

// clockTimes returns "H:MM" for each non-overlapping match of
// `\b([01]?\d|2[0-3])[:h]([0-5]\d)\b`, with the hour's leading zeros removed.
func clockTimes(s string) []string {
	var out []string
	lastEnd := 0
	for i := 1; i+2 < len(s); i++ {
		if s[i] != ':' && s[i] != 'h' {
			continue
		}
		if !('0' <= s[i+1] && s[i+1] <= '5') || !isDigit(s[i+2]) || (i+3 < len(s) && isASCIIWordByte(s[i+3])) {
			continue
		}
		start := hourStart(s, i, lastEnd)
		if start < 0 {
			continue
		}
		h := s[start:i]
		for len(h) > 1 && h[0] == '0' {
			h = h[1:]
		}
		if h == "0" || h == "" {
			h = "0"
		}
		out = append(out, h+":"+s[i+1:i+3])
		lastEnd = i + 3
		i += 2
	}
	return out
}

// hourStart finds where the hour before the separator at i starts, or -1. The regexp scans
// left to right, so a two-digit hour (starting earlier) wins over a one-digit one.
func hourStart(s string, i, lastEnd int) int {
	boundaryBefore := func(p int) bool { return p == 0 || !isASCIIWordByte(s[p-1]) }
	if p := i - 2; p >= lastEnd && isDigit(s[p]) && isDigit(s[p+1]) && boundaryBefore(p) {
		if s[p] == '0' || s[p] == '1' || (s[p] == '2' && s[p+1] <= '3') {
			return p
		}
	}
	if p := i - 1; p >= lastEnd && isDigit(s[p]) && boundaryBefore(p) {
		return p
	}
	return -1
}
