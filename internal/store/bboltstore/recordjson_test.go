package bboltstore

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// marshalReference is what appendRecordJSON must produce: encoding/json's output.
func marshalReference(r *store.Record, asm *store.Assembly) ([]byte, error) {
	return json.Marshal(storedRecord{Record: r, Asm: asm})
}

func checkMatchesEncodingJSON(t *testing.T, r *store.Record) {
	t.Helper()
	want, wantErr := marshalReference(r, &r.Assembly)
	got, gotErr := appendRecordJSON(nil, r, &r.Assembly)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("error: encoding/json %v, appendRecordJSON %v", wantErr, gotErr)
	}
	if wantErr == nil && !bytes.Equal(got, want) {
		t.Fatalf("output differs from encoding/json\n got: %s\nwant: %s", got, want)
	}
}

var trickyStrings = []string{
	"", "plain", "tab\tnew\nline\r", "quote\" back\\slash", "<b>&amp;</b>", "\x00\x01\x1f\x7f",
	"\b\f", "héllo wörld ✓ 日本", "bad \xff\xfe utf8", "\xe2\x80", "line\u2028sep\u2029", "😀 emoji",
	strings.Repeat("long text ", 200),
}

var trickyFloats = []float64{
	0, 1, -1, 0.5, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21, 1.2345e22, -3e-8, 123456.789,
	math.SmallestNonzeroFloat64, math.MaxFloat64, 0.1 + 0.2,
}

func randomRecord(rng *rand.Rand) *store.Record {
	str := func() string { return trickyStrings[rng.IntN(len(trickyStrings))] }
	flt := func() float64 { return trickyFloats[rng.IntN(len(trickyFloats))] }
	i64 := func() int64 {
		switch rng.IntN(3) {
		case 0:
			return 0
		case 1:
			return rng.Int64N(1000)
		}
		return rng.Int64() - math.MaxInt64/2
	}
	r := store.NewRecord(str(), str())
	r.RunID, r.TestcaseID, r.UserID = store.OptString(str()), store.OptString(str()), store.OptString(str())
	r.SessionID, r.Expected = store.OptString(str()), store.OptString(str())
	r.Source, r.Status, r.Name, r.Service, r.Input, r.Output = str(), str(), str(), str(), str(), str()
	if rng.IntN(3) > 0 {
		r.Models = []string{str(), str()}[:rng.IntN(3)]
	}
	zone := time.FixedZone("", []int{0, 3600, -5*3600 - 1800}[rng.IntN(3)])
	r.Start = time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(zone)
	r.End = time.Unix(rng.Int64N(4e9), []int64{0, 500, 123456789}[rng.IntN(3)]).UTC()
	r.DurationMS, r.CostUSD, r.CostUnknown = flt(), flt(), rng.IntN(2) == 0
	r.Usage = store.Usage{Input: i64(), Output: i64(), Total: i64(), CacheRead: i64(), CacheWrite: i64()}
	r.SpanCount, r.LLMCallCount, r.ErrorCount = int(i64()), int(i64()), int(i64())
	for range rng.IntN(3) {
		r.Flags = append(r.Flags, llmschema.Flag{Code: str(), Category: str(), Severity: str(), Message: str(),
			Evidence: str(), SpanID: str(), Source: str()})
	}
	for range rng.IntN(3) {
		s := store.Score{Value: []any{nil, 0.75, "pass", true, map[string]any{"k": 1.0}}[rng.IntN(5)],
			Reason: str(), Source: str()}
		if rng.IntN(2) == 0 {
			passed := rng.IntN(2) == 0
			s.Passed = &passed
		}
		if rng.IntN(2) == 0 {
			s.Flag = &llmschema.Flag{Code: str(), Message: str()}
		}
		r.Scores[str()] = s
	}
	for range rng.IntN(4) {
		r.Metadata[str()] = str()
	}
	if rng.IntN(4) == 0 {
		r.Scores, r.Metadata = nil, nil
	}
	a := &r.Assembly
	a.RootSeen, a.InputFromRoot, a.OutputFromRoot = rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0
	a.HasLLMInput, a.HasLLMOutput = rng.IntN(2) == 0, rng.IntN(2) == 0
	a.NameStart, a.FirstLLMStart, a.LastLLMEnd, a.StartNanos, a.EndNanos = i64(), i64(), i64(), i64(), i64()
	a.InputMessages, a.OutputMessages, a.InMsgStart, a.OutMsgEnd = str(), str(), i64(), i64()
	a.InMsgSpan, a.OutMsgSpan = str(), str()
	a.DocID, a.UnknownCostCalls = uint64(i64())*uint64(rng.IntN(2)), int(i64())
	if rng.IntN(2) == 0 {
		a.Calls = map[string]*store.CallPart{}
		for range rng.IntN(3) {
			var c *store.CallPart
			if rng.IntN(5) > 0 {
				c = &store.CallPart{Parent: str(), Usage: store.Usage{Input: i64(), Total: i64()}, CostUSD: flt(),
					CostUnknown: rng.IntN(2) == 0, Model: str(), Counted: rng.IntN(2) == 0, CallKids: int(i64())}
			}
			a.Calls[str()] = c
		}
	}
	if rng.IntN(2) == 0 {
		a.CountedModels = map[string]int{str(): int(i64()), str(): int(i64())}
	}
	return r
}

func TestAppendRecordJSON_MatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		checkMatchesEncodingJSON(t, randomRecord(rng))
	}
	// The zero record and one straight from NewRecord.
	checkMatchesEncodingJSON(t, &store.Record{})
	checkMatchesEncodingJSON(t, store.NewRecord("p", "0123"))
}

func TestAppendRecordJSON_FailsWhereEncodingJSONFails(t *testing.T) {
	for name, mutate := range map[string]func(r *store.Record){
		"NaN cost":        func(r *store.Record) { r.CostUSD = math.NaN() },
		"infinite time":   func(r *store.Record) { r.DurationMS = math.Inf(-1) },
		"year 10000":      func(r *store.Record) { r.Start = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"NaN call cost":   func(r *store.Record) { r.Assembly.Calls = map[string]*store.CallPart{"a": {CostUSD: math.NaN()}} },
		"bad score value": func(r *store.Record) { r.Scores["m"] = store.Score{Value: math.Inf(1)} },
	} {
		t.Run(name, func(t *testing.T) {
			r := store.NewRecord("p", "t")
			mutate(r)
			if _, err := appendRecordJSON(nil, r, &r.Assembly); err == nil {
				t.Fatal("want an error")
			}
			checkMatchesEncodingJSON(t, r)
		})
	}
}

// The encoded record must read back through decodeRecord unchanged, except for the message
// lists whose span it names: those stay in the span (fillMessages reads them).
func TestEncodeRecord_RoundTripsRandomRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		r := randomRecord(rng)
		if r.Scores == nil { // decodeRecord gives every record its maps, as NewRecord does
			r.Scores, r.Metadata = map[string]store.Score{}, map[string]string{}
		}
		v, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeRecord(v)
		if err != nil {
			t.Fatal(err)
		}
		if r.Assembly.InMsgSpan != "" {
			r.Assembly.InputMessages = ""
		}
		if r.Assembly.OutMsgSpan != "" {
			r.Assembly.OutputMessages = ""
		}
		// Compared as decoded JSON: invalid UTF-8 reads back as U+FFFD, as it always has.
		want, have := genericJSON(t, r), genericJSON(t, got)
		if !reflect.DeepEqual(have, want) {
			t.Fatalf("round trip changed the record\n got: %v\nwant: %v", have, want)
		}
	}
}

func genericJSON(t *testing.T, r *store.Record) any {
	t.Helper()
	b, err := marshalReference(r, &r.Assembly)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func FuzzAppendRecordJSON(f *testing.F) {
	for i, s := range trickyStrings {
		f.Add(s, trickyStrings[(i+1)%len(trickyStrings)], trickyFloats[i%len(trickyFloats)], int64(i)*1e15)
	}
	f.Fuzz(func(t *testing.T, s1, s2 string, x float64, n int64) {
		r := store.NewRecord(s1, s2)
		r.Name, r.UserID, r.Models = s2, store.OptString(s1), []string{s1, s2}
		r.DurationMS, r.CostUSD = x, -x
		r.Start = time.Unix(0, n)
		r.Flags = []llmschema.Flag{{Code: s1, Message: s2, Evidence: s1}}
		r.Metadata[s1], r.Metadata[s2] = s2, s1
		r.Assembly.Calls = map[string]*store.CallPart{s1: {Model: s2, CostUSD: x}, s2: nil}
		r.Assembly.CountedModels = map[string]int{s2: int(n)}
		r.Assembly.StartNanos, r.Assembly.InputMessages = n, s1
		checkMatchesEncodingJSON(t, r)
	})
}

// BenchmarkRecordJSON compares the appender with encoding/json on a typical record: an
// agent trace with two LLM calls, a flag, metadata, user and session.
func BenchmarkRecordJSON(b *testing.B) {
	r := store.NewRecord("project", "4bf92f3577b34da6a3ce929d0e0e4736")
	r.Name, r.Service, r.Source, r.Status = "agent.run", "support-bot", "otlp", "flagged"
	r.UserID, r.SessionID, r.Models = "user-1234", "session-99", []string{"gpt-4o", "claude-sonnet-4"}
	r.Start, r.End = time.Unix(1764000000, 123456789).UTC(), time.Unix(1764000003, 987654321).UTC()
	r.DurationMS, r.CostUSD = 3864.197532, 0.01234
	r.Usage = store.Usage{Input: 3120, Output: 410, Total: 3530}
	r.SpanCount, r.LLMCallCount = 6, 2
	r.Flags = []llmschema.Flag{{Code: "refusal", Category: "behavioral", Severity: "warning",
		Message: "The model declined the request", Evidence: "I can't help with that", SpanID: "00f067aa0ba902b7"}}
	r.Metadata["tenant"], r.Metadata["env"] = "acme", "prod"
	r.Assembly = store.Assembly{RootSeen: true, StartNanos: 1764000000123456789, EndNanos: 1764000003987654321,
		FirstLLMStart: 1764000000200000000, LastLLMEnd: 1764000003900000000, DocID: 123456,
		Calls: map[string]*store.CallPart{
			"00f067aa0ba902b7": {Usage: store.Usage{Input: 1800, Output: 200, Total: 2000}, CostUSD: 0.007, Model: "gpt-4o", Counted: true},
			"00f067aa0ba902b8": {Usage: store.Usage{Input: 1320, Output: 210, Total: 1530}, CostUSD: 0.00534, Model: "claude-sonnet-4", Counted: true},
		},
		CountedModels: map[string]int{"gpt-4o": 1, "claude-sonnet-4": 1}}
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := marshalReference(r, &r.Assembly); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("appender", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = appendRecordJSON(buf[:0], r, &r.Assembly); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A field added to a type the record encoder writes must be written by appendRecordJSON too:
// a new omitempty field left at its zero value would slip past the comparison tests above.
func TestAppendRecordJSON_KnowsEveryField(t *testing.T) {
	for _, tt := range []struct {
		typ    reflect.Type
		fields int
	}{
		{reflect.TypeFor[store.Record](), 28},
		{reflect.TypeFor[store.Assembly](), 20},
		{reflect.TypeFor[store.Usage](), 5},
		{reflect.TypeFor[store.CallPart](), 7},
		{reflect.TypeFor[store.Score](), 5},
		{reflect.TypeFor[llmschema.Flag](), 7},
	} {
		if got := tt.typ.NumField(); got != tt.fields {
			t.Errorf("%s has %d fields, appendRecordJSON writes %d: write the new ones in recordjson.go, "+
				"set them in randomRecord, then update this count", tt.typ, got, tt.fields)
		}
	}
}
