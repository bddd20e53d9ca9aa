#!/usr/bin/env bash
# Ingest benchmark: the same seeded load against (a) a stock otlp → nop pipeline built from this
# repository's builder config, (b) Jaeger v2 with a Badger store, (c) tracehound's default
# pipeline, one after the other on this machine, then ratios, then the proxy overhead bench.
# `make bench` runs it; BENCH_QUERY_RECORDS=1000000 adds the records query bench; BENCH_SMOKE=1
# runs a few seconds per system without Jaeger or the other benches (CI keeps it from rotting).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
BIN=$OUT/bin
mkdir -p "$BIN" "$OUT/results"
rm -f "$OUT"/results/*.json   # ratios only between systems measured in this run

SMOKE=${BENCH_SMOKE:-}
DURATION=${BENCH_DURATION:-20s}
# Closed-loop senders: each level is one run per system. A system that answers only after a
# durable write (tracehound) is latency-bound at few senders and reaches saturation with more;
# every system gets the same levels, and the report compares each level and the best.
# (128 senders halve the CPU that tracehound leaves idle at 64 on the 2-core machine, but in
# one run after the other levels, on their larger store, they made fewer spans/s: see
# docs/benchmarks.md, eighth round.)
CONCURRENCY=${BENCH_CONCURRENCY:-8 64}
# Open-loop run of tracehound at this many spans/s (memory at a fixed rate); 0 skips it.
RATE_SPANS=${BENCH_RATE_SPANS:-10000}
PROTOCOL=${BENCH_PROTOCOL:-grpc}
PROBES=${BENCH_PROBES:-50}
JAEGER_VERSION=v1.76.0   # the Go module keeps v1 tags for Jaeger v2 releases
SYSTEMS=${BENCH_SYSTEMS:-stock jaeger tracehound}   # a subset runs only those, e.g. for profiling
if [ -n "$SMOKE" ]; then DURATION=3s; PROBES=5; CONCURRENCY=8; RATE_SPANS=0; fi
runs() { case " $SYSTEMS " in *" $1 "*) return 0;; *) return 1;; esac; }

say() { printf '%s\n' "$*" >&2; }

say "building tracehound and the load generator"
go build -o "$BIN/tracehound" ./cmd/tracehound
go build -o "$BIN/loadgen" ./bench/loadgen

port() { "$BIN/loadgen" -free-port; }

PID=
stop_sut() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
  fi
  PID=
}
trap stop_sut EXIT

source "$ROOT/bench/lib.sh"   # wait_port, start_tracehound_at, bearer_from_log

# run_load NAME GRPC_PORT HTTP_PORT [QUERY_URL]: one closed-loop run per CONCURRENCY level
# (send → queryable probes after the last), each result in results/NAME.cN.json.
run_load() {
  local name=$1 grpc=$2 http=$3 query=${4:-}
  local endpoint=127.0.0.1:$grpc
  [ "$PROTOCOL" = http ] && endpoint=http://127.0.0.1:$http/v1/traces
  local levels=($CONCURRENCY) c
  for c in "${levels[@]}"; do
    local args=(-name "$name" -protocol "$PROTOCOL" -endpoint "$endpoint" -duration "$DURATION"
                -concurrency "$c" -pid "$PID" -probes "$PROBES")
    [ -n "$query" ] && [ "$c" = "${levels[-1]}" ] && args+=(-query-url "$query")
    [ -n "${AUTH:-}" ] && args+=(-auth "$AUTH")
    "$BIN/loadgen" "${args[@]}" > "$OUT/results/$name.c$c.json"
  done
}

# run_rate NAME GRPC_PORT: open loop at RATE_SPANS spans/s (≈ 46 spans per request).
run_rate() {
  local args=(-name "$1" -protocol grpc -endpoint "127.0.0.1:$2" -duration "$DURATION" -concurrency 64
              -rate "$(( RATE_SPANS / 46 ))" -pid "$PID" -probes 0)
  [ -n "${AUTH:-}" ] && args+=(-auth "$AUTH")
  "$BIN/loadgen" "${args[@]}" > "$OUT/results/$1.rate.json"
}

disk_bytes() { du -sb "$1" | cut -f1; }

# (a) stock pipeline: otlp → nop, same binary, same receiver settings. It runs first and, unless
# BENCH_STOCK_AFTER=0, again after tracehound (as stock-after): a shared machine's speed drifts
# over minutes, and the two runs show by how much, so a ratio is read against that spread.
run_stock() {
  G=$(port); H=$(port)
  cat > "$OUT/stock.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:$G}
      http: {endpoint: 127.0.0.1:$H}
exporters:
  nop: {}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [nop]}
  telemetry: {metrics: {level: none}}
YAML
  "$BIN/tracehound" --config "$OUT/stock.yaml" > "$OUT/$1.log" 2>&1 & PID=$!
  wait_port "$G"; wait_port "$H"
  say "(a) stock otlp → nop${2:-}"
  run_load "$1" "$G" "$H"
  stop_sut
}
if runs stock; then run_stock stock; fi

# (b) Jaeger v2 with Badger, sync writes on.
JAEGER=$BIN/jaeger-$JAEGER_VERSION
if [ -z "$SMOKE" ] && runs jaeger && [ ! -x "$JAEGER" ]; then
  # `go install ...@version` refuses modules with replace directives, so build the module's
  # main package from its module cache copy instead (same source, same go.mod).
  say "building Jaeger $JAEGER_VERSION (first run only, several minutes)"
  JSRC=$(go env GOMODCACHE)/github.com/jaegertracing/jaeger@$JAEGER_VERSION
  if (cd "$ROOT" && go mod download "github.com/jaegertracing/jaeger@$JAEGER_VERSION") >"$OUT/jaeger-build.log" 2>&1 &&
     (cd "$JSRC" && go build -o "$JAEGER" ./cmd/jaeger) >>"$OUT/jaeger-build.log" 2>&1; then
    say "built $JAEGER"
  else
    say "Jaeger build failed; see $OUT/jaeger-build.log"
  fi
fi
if [ -z "$SMOKE" ] && runs jaeger && [ -x "$JAEGER" ]; then
  G=$(port); H=$(port); Q=$(port); QG=$(port)
  JDIR=$(mktemp -d); rm -rf "$JDIR"; mkdir -p "$JDIR/keys" "$JDIR/values"
  cat > "$OUT/jaeger.yaml" <<YAML
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry: {metrics: {level: none}}
extensions:
  jaeger_query:
    storage: {traces: main}
    http: {endpoint: 127.0.0.1:$Q}
    grpc: {endpoint: 127.0.0.1:$QG}
  jaeger_storage:
    backends:
      main:
        badger:
          directories: {keys: $JDIR/keys, values: $JDIR/values}
          ephemeral: false
          consistency: true
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:$G}
      http: {endpoint: 127.0.0.1:$H}
processors:
  batch: {}
exporters:
  jaeger_storage_exporter: {trace_storage: main}
YAML
  "$JAEGER" --config "$OUT/jaeger.yaml" > "$OUT/jaeger.log" 2>&1 & PID=$!
  wait_port "$G"; wait_port "$Q"
  say "(b) Jaeger $JAEGER_VERSION, Badger, consistency (sync writes) on"
  run_load jaeger "$G" "$H" "http://127.0.0.1:$Q/api/traces/%s"
  stop_sut
  echo "{\"name\":\"jaeger\",\"disk_bytes\":$(disk_bytes "$JDIR")}" > "$OUT/results/jaeger.disk.json"
  rm -rf "$JDIR"
else
  rm -f "$OUT/results/jaeger.json" "$OUT/results/jaeger.disk.json"
fi

# (c) tracehound, embedded default configuration, on a fresh data directory.
G=$(port); H=$(port); A=$(port)
TDIR=$(mktemp -d)
# BENCH_PROFILE=1: the same default configuration plus the pprof extension, and CPU and heap
# profiles of the loaded process saved under bench/out (go tool pprof -top bench/out/...).
TH_ARGS=()
if [ -n "${BENCH_PROFILE:-}" ]; then
  command -v curl >/dev/null || { say "BENCH_PROFILE needs curl to fetch the profiles: apt-get install curl"; exit 1; }
  P=$(port)
  TH_ARGS=(--config "$ROOT/cmd/tracehound/config.yaml"
           --config "yaml:extensions::pprof::endpoint: 127.0.0.1:$P"
           --config "yaml:service::extensions: [bearerauth, pathalias, bodylimit, pprof]")
fi
start_tracehound() { start_tracehound_at "$BIN/tracehound" "$TDIR" "$G" "$H" "$A" "$OUT/tracehound.log" "${TH_ARGS[@]}"; }
: > "$OUT/tracehound.log"
start_tracehound
if [ -n "${BENCH_PROFILE:-}" ]; then
  wait_port "$P"
  secs=$(( $(wc -w <<< "$CONCURRENCY") * ${DURATION%s} - 2 )); [ "$secs" -ge 2 ] || secs=2
  ( sleep 1; curl -sf -o "$OUT/tracehound.cpu.prof" "http://127.0.0.1:$P/debug/pprof/profile?seconds=$secs" &&
    curl -sf -o "$OUT/tracehound.heap.prof" "http://127.0.0.1:$P/debug/pprof/heap" &&
    say "profiles: bench/out/tracehound.cpu.prof, bench/out/tracehound.heap.prof" ||
    say "could not fetch the profiles from the pprof extension on 127.0.0.1:$P" ) & PROF_PID=$!
fi
AUTH=$(bearer_from_log "$OUT/tracehound.log")
say "(c) tracehound default pipeline"
run_load tracehound "$G" "$H" "http://127.0.0.1:$A/api/v1/records/%s"
if [ "$RATE_SPANS" -gt 0 ]; then
  # A restarted process on the same store: memory at this rate, not what the Go runtime still
  # holds from the saturated runs before (it returns freed memory to the OS over minutes).
  [ -n "${PROF_PID:-}" ] && wait "$PROF_PID"
  stop_sut; start_tracehound
  say "(c) tracehound, open loop at $RATE_SPANS spans/s (restarted on the same store)"
  run_rate tracehound "$G"
fi
stop_sut
echo "{\"name\":\"tracehound\",\"disk_bytes\":$(disk_bytes "$TDIR/data")}" > "$OUT/results/tracehound.disk.json"
rm -rf "$TDIR"

if [ -z "$SMOKE" ] && runs stock && runs tracehound && [ "${BENCH_STOCK_AFTER:-1}" != 0 ]; then
  run_stock stock-after ", again after tracehound"
fi

go run ./bench/report "$OUT/results"

# The proxy overhead bench (in-process: fake upstream, llmproxy, clients) and, when asked for
# with BENCH_QUERY_RECORDS=1000000, the records query bench at that many records.
if [ -z "$SMOKE" ] && [ "${BENCH_PROXY:-1}" != 0 ]; then
  say "LLM proxy overhead"
  go run ./bench/proxy -n "${BENCH_PROXY_REQUESTS:-2000}"
fi
if [ -n "${BENCH_QUERY_RECORDS:-}" ]; then
  say "records query bench at $BENCH_QUERY_RECORDS records (loads first; see docs/benchmarks.md)"
  QDIR=$(mktemp -d)
  go run ./bench/records -n "$BENCH_QUERY_RECORDS" -batch 500 -dir "$QDIR" -queries 200
  rm -rf "$QDIR"
fi
