package llmproxyreceiver

import "bytes"

// sseParser decodes a server-sent-event stream incrementally, following the WHATWG
// event-stream rules: lines end in CR, LF or CRLF (also split across chunks), "data"
// lines accumulate, a blank line dispatches, comments and unknown fields are ignored.
// It never fails; a stream that grows one event beyond limit bytes sets overflow and
// stops producing events, while the caller keeps forwarding the raw bytes.
type sseParser struct {
	onEvent func(event string, data []byte)
	limit   int

	line      []byte
	event     []byte
	data      []byte
	hasData   bool
	skipLF    bool
	overflow  bool
	dataBytes int
}

func newSSEParser(limit int, onEvent func(event string, data []byte)) *sseParser {
	return &sseParser{onEvent: onEvent, limit: limit}
}

// Feed consumes the next chunk of the stream.
func (p *sseParser) Feed(b []byte) {
	for len(b) > 0 && !p.overflow {
		if p.skipLF {
			p.skipLF = false
			if b[0] == '\n' {
				b = b[1:]
				continue
			}
		}
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			if len(p.line)+len(b) > p.limit {
				p.setOverflow()
				return
			}
			p.line = append(p.line, b...)
			return
		}
		if len(p.line)+i > p.limit {
			p.setOverflow()
			return
		}
		var line []byte
		if len(p.line) > 0 {
			p.line = append(p.line, b[:i]...)
			line = p.line
		} else {
			line = b[:i]
		}
		if b[i] == '\r' {
			p.skipLF = true
		}
		b = b[i+1:]
		p.processLine(line)
		p.line = p.line[:0]
	}
}

// Close dispatches an event that the stream ended without a blank line after: a
// truncated stream still yields what it carried.
func (p *sseParser) Close() {
	if p.overflow {
		return
	}
	if len(p.line) > 0 {
		p.processLine(p.line)
		p.line = p.line[:0]
	}
	p.dispatch()
}

func (p *sseParser) setOverflow() {
	p.overflow = true
	p.line, p.data, p.event = nil, nil, nil
}

func (p *sseParser) processLine(line []byte) {
	if len(line) == 0 {
		p.dispatch()
		return
	}
	if line[0] == ':' {
		return
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "event":
		p.event = append(p.event[:0], value...)
	case "data":
		if p.dataBytes+len(value)+1 > p.limit {
			p.setOverflow()
			return
		}
		if p.hasData {
			p.data = append(p.data, '\n')
		}
		p.data = append(p.data, value...)
		p.hasData = true
		p.dataBytes += len(value) + 1
	}
}

func (p *sseParser) dispatch() {
	if p.hasData {
		event := "message"
		if len(p.event) > 0 {
			event = string(p.event)
		}
		p.onEvent(event, p.data)
	}
	p.data = p.data[:0]
	p.event = p.event[:0]
	p.hasData = false
	p.dataBytes = 0
}
