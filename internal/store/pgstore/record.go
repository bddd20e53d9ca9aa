package pgstore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// recordColumns are the records columns in the order scanRecord reads and recordArgs writes.
const recordColumns = `project, trace_id, start_ns, end_ns, duration_ms, status, source, name, service,
	run_id, testcase_id, user_id, session_id, models, input, output, expected,
	usage_input, usage_output, usage_total, usage_cache_read, usage_cache_write,
	cost_usd, cost_unknown, span_count, llm_call_count, error_count,
	flags, flag_codes, scores, metadata, search_tokens, assembly`

const numRecordColumns = 33

// upsertRecord writes a whole record; the columns are recordColumns.
var upsertRecord = func() string {
	cols := strings.Split(strings.Join(strings.Fields(recordColumns), " "), ", ")
	var ph, set []string
	for i, c := range cols {
		ph = append(ph, fmt.Sprintf("$%d", i+1))
		if c != "project" && c != "trace_id" {
			set = append(set, c+" = EXCLUDED."+c)
		}
	}
	return "INSERT INTO records (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") +
		") ON CONFLICT (project, trace_id) DO UPDATE SET " + strings.Join(set, ", ")
}()

// clean makes a string storable in a PostgreSQL text or jsonb value, which hold neither NUL
// nor invalid UTF-8: both become U+FFFD.
func clean(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func cleanMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[clean(k)] = clean(v)
	}
	return out
}

// recordArgs are the values of recordColumns for a record.
func recordArgs(r *store.Record) ([]any, error) {
	tid, err := hex.DecodeString(r.TraceID)
	if err != nil {
		return nil, fmt.Errorf("record trace ID %q: %w", r.TraceID, err)
	}
	flags := make([]llmschema.Flag, len(r.Flags))
	codes := make([]string, 0, len(r.Flags))
	for i, f := range r.Flags {
		f.Code, f.Category, f.Severity = clean(f.Code), clean(f.Category), clean(f.Severity)
		f.Message, f.Evidence, f.SpanID, f.Source = clean(f.Message), clean(f.Evidence), clean(f.SpanID), clean(f.Source)
		flags[i] = f
		codes = append(codes, f.Code)
	}
	flagsJSON, err := json.Marshal(flags)
	if err != nil {
		return nil, fmt.Errorf("encode flags: %w", err)
	}
	scores := make(map[string]store.Score, len(r.Scores))
	for k, s := range r.Scores {
		s.Reason, s.Source = clean(s.Reason), clean(s.Source)
		if v, ok := s.Value.(string); ok {
			s.Value = clean(v)
		}
		scores[clean(k)] = s
	}
	scoresJSON, err := json.Marshal(scores)
	if err != nil {
		return nil, fmt.Errorf("encode scores: %w", err)
	}
	metaJSON, err := json.Marshal(cleanMap(r.Metadata))
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	asm := r.Assembly
	asm.InputMessages, asm.OutputMessages = clean(asm.InputMessages), clean(asm.OutputMessages)
	asmJSON, err := json.Marshal(asm)
	if err != nil {
		return nil, fmt.Errorf("encode assembly: %w", err)
	}
	models := make([]string, len(r.Models))
	for i, m := range r.Models {
		models[i] = clean(m)
	}
	tokens := store.IndexTokens(r)
	if tokens == nil {
		tokens = []string{}
	}
	return []any{
		clean(r.ProjectID), tid, r.Assembly.StartNanos, r.Assembly.EndNanos, r.DurationMS, r.Status, clean(r.Source),
		clean(r.Name), clean(r.Service), clean(string(r.RunID)), clean(string(r.TestcaseID)), clean(string(r.UserID)),
		clean(string(r.SessionID)), models, clean(r.Input), clean(r.Output), clean(string(r.Expected)),
		r.Usage.Input, r.Usage.Output, r.Usage.Total, r.Usage.CacheRead, r.Usage.CacheWrite,
		r.CostUSD, r.CostUnknown, r.SpanCount, r.LLMCallCount, r.ErrorCount,
		string(flagsJSON), codes, string(scoresJSON), string(metaJSON), tokens, string(asmJSON),
	}, nil
}

// scanRecord reads one row of recordColumns.
func scanRecord(row pgx.Row) (*store.Record, error) {
	var (
		project, status, source, name, service   string
		runID, testcaseID, userID, sessionID     string
		input, output, expected                  string
		tid                                      []byte
		startNS, endNS                           int64
		durationMS, cost                         float64
		usage                                    store.Usage
		costUnknown                              bool
		spanCount, llmCalls, errCount            int32
		models, codes, tokens                    []string
		flagsJSON, scoresJSON, metaJSON, asmJSON []byte
	)
	err := row.Scan(&project, &tid, &startNS, &endNS, &durationMS, &status, &source, &name, &service,
		&runID, &testcaseID, &userID, &sessionID, &models, &input, &output, &expected,
		&usage.Input, &usage.Output, &usage.Total, &usage.CacheRead, &usage.CacheWrite,
		&cost, &costUnknown, &spanCount, &llmCalls, &errCount,
		&flagsJSON, &codes, &scoresJSON, &metaJSON, &tokens, &asmJSON)
	if err != nil {
		return nil, err
	}
	id := hex.EncodeToString(tid)
	r := store.NewRecord(project, id)
	r.Status, r.Source, r.Name, r.Service = status, source, name, service
	r.RunID, r.TestcaseID = store.OptString(runID), store.OptString(testcaseID)
	r.UserID, r.SessionID = store.OptString(userID), store.OptString(sessionID)
	if models != nil {
		r.Models = models
	}
	r.Input, r.Output, r.Expected = input, output, store.OptString(expected)
	r.Usage, r.CostUSD, r.CostUnknown = usage, cost, costUnknown
	r.SpanCount, r.LLMCallCount, r.ErrorCount = int(spanCount), int(llmCalls), int(errCount)
	r.DurationMS = durationMS
	r.Start, r.End = time.Unix(0, startNS).UTC(), time.Unix(0, endNS).UTC()
	if err := json.Unmarshal(flagsJSON, &r.Flags); err != nil {
		return nil, fmt.Errorf("record %s: decode flags: %w", id, err)
	}
	if r.Flags == nil {
		r.Flags = []llmschema.Flag{}
	}
	if err := json.Unmarshal(scoresJSON, &r.Scores); err != nil {
		return nil, fmt.Errorf("record %s: decode scores: %w", id, err)
	}
	if err := json.Unmarshal(metaJSON, &r.Metadata); err != nil {
		return nil, fmt.Errorf("record %s: decode metadata: %w", id, err)
	}
	if r.Scores == nil {
		r.Scores = map[string]store.Score{}
	}
	if r.Metadata == nil {
		r.Metadata = map[string]string{}
	}
	if err := json.Unmarshal(asmJSON, &r.Assembly); err != nil {
		return nil, fmt.Errorf("record %s: decode assembly: %w", id, err)
	}
	return r, nil
}
