package bboltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"sync"

	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/s2"

	"github.com/tracehound/tracehound/internal/store"
)

// Keys: every key starts with the project (2-byte length + bytes), so one project's data is
// one contiguous key range and no lookup can cross into another project.
//
//	traces           P | trace(16)                          → doc(8)
//	records          P | doc(8)                             → record (see encodeRecord)
//	spans            P | doc(8) | span(8)                   → OTLP protobuf
//	records_by_time  P | start(8) | trace(16)               → summary (binary)
//	idx_eq           P | len(2) | field 0 value | start(8) | trace(16)  → -
//	idx_sort         P | sort(1) | value(8) | trace(16)     → start(8)
//	idx_text         P | hour(4) | token                    → open chunk: doc IDs (delta uvarints)
//	                 P | hour(4) | token | 0 | bound(8)     → sealed chunk: doc IDs ≤ bound
//	docs             P | doc(8)                             → start(8) | trace(16)
//	runs             P | run ID                             → run aggregate JSON
//	objects          P | kind 0 name                        → document
//	idx_pending      sequence(8)                            → idx_eq/idx_sort entries changed by
//	                                                          one commit, not yet merged (delta.go)
//
// Records and spans are keyed by doc number, which grows in the order records are created, so
// a commit appends them at the end of their buckets instead of putting each new trace on a
// page of its own somewhere in the middle (trace IDs are random). The traces map from trace
// to doc takes random inserts instead, but its entries are small and go through the index
// delta (delta.go), so a merge writes them many to a page.
//
// A position is start(8) | trace(16) in time order, or value(8) | trace(16) in a sort
// index; positions compare as bytes.
type pos [24]byte

func projectPrefix(project string) []byte {
	b := make([]byte, 2, 2+len(project)+48)
	binary.BigEndian.PutUint16(b, uint16(len(project)))
	return append(b, project...)
}

// traceKey is a trace's key in the traces map; the writer also uses it to tell records apart.
func traceKey(project string, traceID [16]byte) []byte {
	return append(projectPrefix(project), traceID[:]...)
}

// recordKey is a record's key in the records bucket and the prefix of its spans' keys: the
// same bytes as its doc's key in the docs bucket.
func recordKey(pp []byte, doc uint64) []byte { return docKey(pp, doc) }

func spanKey(rk []byte, spanID [8]byte) []byte {
	return append(rk[:len(rk):len(rk)], spanID[:]...)
}

func encodeDoc(doc uint64) []byte { return binary.BigEndian.AppendUint64(nil, doc) }

// keyProject is the project prefix that a key of any bucket but meta starts with; ok is false
// for a key too short to hold one.
func keyProject(k []byte) (pp []byte, ok bool) {
	if len(k) < 2 {
		return nil, false
	}
	n := 2 + int(binary.BigEndian.Uint16(k))
	if len(k) < n {
		return nil, false
	}
	return k[:n], true
}

// splitTraceKey returns the project prefix and trace ID of a trace key.
func splitTraceKey(tk []byte) (pp, tid []byte) {
	return tk[:len(tk)-16], tk[len(tk)-16:]
}

func timePos(start int64, tid []byte) pos {
	var p pos
	binary.BigEndian.PutUint64(p[:8], uint64(start))
	copy(p[8:], tid)
	return p
}

func (p pos) start() int64 { return int64(binary.BigEndian.Uint64(p[:8])) }

// isTraceOf reports whether rec is the record of the trace at time position p.
func (p pos) isTraceOf(rec *store.Record) bool {
	var h [32]byte
	hex.Encode(h[:], p[8:])
	return string(h[:]) == rec.TraceID
}

func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func lenPrefixed(s string) []byte {
	b := make([]byte, 2, 2+len(s))
	binary.BigEndian.PutUint16(b, uint16(len(s)))
	return append(b, s...)
}

// maxIndexedValue bounds equality-index values; longer values are left to verification
// and the planner does not use the index for them.
const maxIndexedValue = 512

func eqIndexable(fv string) bool { return len(fv) <= maxIndexedValue }

func eqField(field, value string) string { return field + "\x00" + value }

func eqPrefix(pp []byte, fv string) []byte { return cat(pp, lenPrefixed(fv)) }

// textKey is hour-major: records arrive roughly in time order, so a commit rewrites the
// few pages of the current hour instead of one page per token all over the index.
func textKey(pp []byte, h uint32, token string) []byte {
	return appendTextKey(make([]byte, 0, len(pp)+4+len(token)), pp, h, token)
}

func appendTextKey(b, pp []byte, h uint32, token string) []byte {
	return append(binary.BigEndian.AppendUint32(append(b, pp...), h), token...)
}

// Posting lists are chunked so that adding a record rewrites a bounded list however common
// the token: the open chunk at textKey holds the newest IDs (above every bound); sealed
// chunks at textKey | 0 | bound hold the IDs in (previous chunk's bound, bound]. Tokens are
// letters and digits, never 0, so a sealed key cannot be another token's open chunk.
const postingChunkIDs = 256

func sealedKey(head []byte, bound uint64) []byte {
	k := append(append(make([]byte, 0, len(head)+9), head...), 0)
	return binary.BigEndian.AppendUint64(k, bound)
}

func isSealedKeyOf(k, head []byte) bool {
	return len(k) == len(head)+9 && k[len(head)] == 0 && bytes.HasPrefix(k, head)
}

// hourOf is the text-index hour of a start time, consistent with position order (which
// compares starts as unsigned).
func hourOf(start int64) uint32 {
	h := uint64(start) / 3600e9
	if h > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(h)
}

// Sort indexes.
var sortIDs = map[store.SortField]byte{store.SortDuration: 'd', store.SortCost: 'c', store.SortTokens: 't'}

// orderedFloat encodes f so that byte order is numeric order.
func orderedFloat(f float64) uint64 {
	b := math.Float64bits(f)
	if f >= 0 {
		return b ^ (1 << 63)
	}
	return ^b
}

func sortKey(pp []byte, f store.SortField, sum *store.Summary, tid []byte) []byte {
	k := append(append([]byte{}, pp...), sortIDs[f])
	k = binary.BigEndian.AppendUint64(k, orderedFloat(sum.SortValue(f)))
	return append(k, tid...)
}

func docKey(pp []byte, doc uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte{}, pp...), doc)
}

func hasPrefix(b, prefix []byte) bool { return bytes.HasPrefix(b, prefix) }

// hexDecode decodes a hex ID of exactly len(dst) bytes.
func hexDecode(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

// storedRecord is a record with its assembly bookkeeping, as persisted.
type storedRecord struct {
	*store.Record
	Asm *store.Assembly `json:"_asm"`
}

// Records and spans are stored S2-compressed behind a marker byte that neither JSON ('{')
// nor protobuf (no field 0) starts with, so values written before compression still read.
const compressedMarker = 0x00

// compressScratch holds encode buffers: S2 needs room for its worst case (more than the
// input), while the value kept is usually a third of that, so it is copied out exactly.
var compressScratch = sync.Pool{New: func() any { return new([]byte) }}

// compress returns the stored form of b: the marker, then b S2-compressed.
func compress(b []byte) []byte {
	bp := compressScratch.Get().(*[]byte)
	if need := s2.MaxEncodedLen(len(b)); cap(*bp) < need {
		*bp = make([]byte, need)
	}
	enc := s2.Encode((*bp)[:cap(*bp)], b)
	v := make([]byte, 1+len(enc))
	v[0] = compressedMarker
	copy(v[1:], enc)
	if cap(*bp) <= 1<<20 { // a rare huge value does not pin its buffer
		compressScratch.Put(bp)
	}
	return v
}

func decompress(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != compressedMarker {
		return b, nil
	}
	out, err := s2.Decode(nil, b[1:])
	if err != nil {
		return nil, fmt.Errorf("decompress stored value: %w", err)
	}
	return out, nil
}

// recordMarker starts a record stored as S2(texts | JSON): the four large texts — input,
// output and the first and last LLM calls' message lists — length-prefixed ahead of the JSON
// of everything else, so that neither writing nor reading a record escapes or scans them as
// JSON. Records written before (compressed or plain JSON) still read.
//
// A message list whose span is known (Assembly.InMsgSpan, OutMsgSpan) is not stored: the
// span holds it, and only the test-case export reads it (fillMessages). Copying a first LLM
// call's prompt into its record made encoding a record of the benchmark corpus take 60%
// longer and its stored value 70% larger.
const recordMarker = 0x02

func encodeRecord(r *store.Record) ([]byte, error) {
	rest, asm := *r, r.Assembly
	rest.Input, rest.Output = "", ""
	asm.InputMessages, asm.OutputMessages = "", ""
	texts := [...]string{r.Input, r.Output, r.Assembly.InputMessages, r.Assembly.OutputMessages}
	if asm.InMsgSpan != "" {
		texts[2] = ""
	}
	if asm.OutMsgSpan != "" {
		texts[3] = ""
	}
	bp := recordScratch.Get().(*[]byte)
	b := (*bp)[:0]
	for _, t := range texts {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	b, err := appendRecordJSON(b, &rest, &asm)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	v := compress(b)
	v[0] = recordMarker
	if cap(b) <= 1<<20 { // a rare huge record does not pin its buffer
		*bp = b
		recordScratch.Put(bp)
	}
	return v, nil
}

// recordScratch holds the uncompressed form of records being encoded.
var recordScratch = sync.Pool{New: func() any { return new([]byte) }}

func decodeRecord(b []byte) (*store.Record, error) {
	var texts [4]string
	var err error
	if len(b) > 0 && b[0] == recordMarker {
		if b, err = s2.Decode(nil, b[1:]); err != nil {
			return nil, fmt.Errorf("decompress record: %w", err)
		}
		for i := range texts {
			n, k := binary.Uvarint(b)
			if k <= 0 || n > uint64(len(b)-k) {
				return nil, fmt.Errorf("decode record: truncated text %d", i)
			}
			texts[i] = string(b[k : k+int(n)])
			b = b[k+int(n):]
		}
	} else if b, err = decompress(b); err != nil {
		return nil, err
	}
	r := &store.Record{}
	// Records are decoded for every listed row and every checked candidate; go-json reads
	// them several times faster than encoding/json, with the same results.
	if err := gojson.Unmarshal(b, &storedRecord{Record: r, Asm: &r.Assembly}); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if texts != [4]string{} {
		r.Input, r.Output, r.Assembly.InputMessages, r.Assembly.OutputMessages = texts[0], texts[1], texts[2], texts[3]
	}
	if r.Scores == nil {
		r.Scores = map[string]store.Score{}
	}
	if r.Metadata == nil {
		r.Metadata = map[string]string{}
	}
	if r.Models == nil {
		r.Models = []string{}
	}
	return r, nil
}

// Summary encoding: version, then fixed numbers, then length-prefixed strings.
const summaryVersion = 1

var statusCodes = map[string]byte{store.StatusOK: 0, store.StatusError: 1, store.StatusFlagged: 2}
var statusNames = [...]string{store.StatusOK, store.StatusError, store.StatusFlagged}

func encodeSummary(s *store.Summary, doc uint64) []byte {
	b := make([]byte, 0, 96)
	b = append(b, summaryVersion, statusCodes[s.Status])
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(s.DurationMS))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(s.CostUSD))
	for _, n := range []int64{s.Usage.Input, s.Usage.Output, s.Usage.CacheRead, s.Usage.CacheWrite, int64(s.FlagCount)} {
		b = binary.AppendVarint(b, n)
	}
	for _, str := range []string{s.Source, s.Service, s.UserID, s.SessionID, s.RunID, s.TestcaseID} {
		b = binary.AppendUvarint(b, uint64(len(str)))
		b = append(b, str...)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Models)))
	for _, m := range s.Models {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	// The record's doc, so that a query goes from a time-index entry straight to its record
	// instead of through the traces map (a random lookup per candidate). Summaries written
	// before it end after the models, and decoders before it ignore it.
	return binary.BigEndian.AppendUint64(b, doc)
}

type reader struct {
	b      []byte
	err    bool
	intern map[string]string
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	l, n := binary.Uvarint(r.b)
	if n <= 0 || uint64(len(r.b)-n) < l {
		r.err = true
		return ""
	}
	raw := r.b[n : n+int(l)]
	r.b = r.b[n+int(l):]
	if r.intern == nil {
		return string(raw)
	}
	// Scans see the same services, models and users over and over: one string each.
	if s, ok := r.intern[string(raw)]; ok {
		return s
	}
	s := string(raw)
	r.intern[s] = s
	return s
}

func decodeSummary(start int64, b []byte) (store.Summary, error) {
	s, _, err := decodeSummaryInterned(start, b, nil)
	return s, err
}

// decodeSummaryInterned decodes with a string table shared across a scan (nil: none), and
// returns the record's doc as well: 0 in a summary written before it held one.
func decodeSummaryInterned(start int64, b []byte, intern map[string]string) (store.Summary, uint64, error) {
	s := store.Summary{Start: start}
	if len(b) < 18 || b[0] != summaryVersion || int(b[1]) >= len(statusNames) {
		return s, 0, fmt.Errorf("decode record summary: unknown format")
	}
	s.Status = statusNames[b[1]]
	s.DurationMS = math.Float64frombits(binary.BigEndian.Uint64(b[2:]))
	s.CostUSD = math.Float64frombits(binary.BigEndian.Uint64(b[10:]))
	r := &reader{b: b[18:], intern: intern}
	s.Usage.Input, s.Usage.Output = r.varint(), r.varint()
	s.Usage.CacheRead, s.Usage.CacheWrite = r.varint(), r.varint()
	s.Usage.Total = s.Usage.Input + s.Usage.Output
	s.FlagCount = int(r.varint())
	s.Source, s.Service, s.UserID, s.SessionID, s.RunID, s.TestcaseID = r.str(), r.str(), r.str(), r.str(), r.str(), r.str()
	nm, n := binary.Uvarint(r.b)
	if n <= 0 {
		return s, 0, fmt.Errorf("decode record summary: truncated")
	}
	r.b = r.b[n:]
	for i := uint64(0); i < nm && !r.err; i++ {
		s.Models = append(s.Models, r.str())
	}
	if r.err {
		return s, 0, fmt.Errorf("decode record summary: truncated")
	}
	var doc uint64
	if len(r.b) == 8 {
		doc = binary.BigEndian.Uint64(r.b)
	}
	return s, doc, nil
}

// Posting lists: ascending doc IDs as delta uvarints.
func decodePostings(b []byte) []uint64 { return appendPostings(nil, b) }

// appendPostings appends the IDs of one encoded list to out.
func appendPostings(out []uint64, b []byte) []uint64 {
	if out == nil && len(b) > 0 {
		out = make([]uint64, 0, len(b)) // at least one byte per ID
	}
	var prev uint64
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			break
		}
		prev += d
		out = append(out, prev)
		b = b[n:]
	}
	return out
}

func encodePostings(ids []uint64) []byte {
	b := make([]byte, 0, len(ids)*2)
	var prev uint64
	for _, id := range ids {
		b = binary.AppendUvarint(b, id-prev)
		prev = id
	}
	return b
}
