#!/usr/bin/env bash
# Ingest on a growing store: one tracehound process, BENCH_GROW_RUNS (default 4) closed-loop
# runs of BENCH_DURATION (default 20s) at BENCH_CONCURRENCY senders (default 64) one after the
# other on the same store, each run's figures printed with the store's size after it. It shows
# how the cost per span moves as the store grows (docs/benchmarks.md, tenth and eleventh rounds).
#
#   bash bench/grow.sh [REV] [-- extra tracehound arguments]
#
# REV builds tracehound at that commit (default: the working tree). Arguments after -- go to
# tracehound, e.g.  -- --config cmd/tracehound/config.yaml --config "yaml:exporters::records::max_batch_spans: 5000"
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REV=
if [ $# -gt 0 ] && [ "$1" != -- ]; then REV=$1; shift; fi
[ "${1:-}" = -- ] && shift
EXTRA=("$@")
RUNS=${BENCH_GROW_RUNS:-4}
DURATION=${BENCH_DURATION:-20s}
C=${BENCH_CONCURRENCY:-64}

TMP=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  [ -d "$TMP/src" ] && git -C "$ROOT" worktree remove --force "$TMP/src" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

SRC=$ROOT
if [ -n "$REV" ]; then git -C "$ROOT" worktree add --detach -q "$TMP/src" "$REV"; SRC=$TMP/src; fi
(cd "$SRC" && go build -o "$TMP/tracehound" ./cmd/tracehound && go build -o "$TMP/loadgen" ./bench/loadgen)

G=$("$TMP/loadgen" -free-port); H=$("$TMP/loadgen" -free-port); A=$("$TMP/loadgen" -free-port)
mkdir -p "$TMP/run"
source "$ROOT/bench/lib.sh"   # wait_port, start_tracehound_at, bearer_from_log
start_tracehound_at "$TMP/tracehound" "$TMP/run" "$G" "$H" "$A" "$TMP/tracehound.log" "${EXTRA[@]}"
AUTH=()
BEARER=$(bearer_from_log "$TMP/tracehound.log")
[ -n "$BEARER" ] && AUTH=(-auth "$BEARER")

echo "tracehound from ${REV:-the working tree}${EXTRA[*]:+ with ${EXTRA[*]}}: $RUNS runs of $DURATION at $C senders on one store"
printf '%-4s %10s %10s %9s %8s %9s\n' run "store MB" "spans/s" "CPU s/10k" "gen CPU" "anon MiB"
for i in $(seq 1 "$RUNS"); do
  "$TMP/loadgen" -name tracehound -protocol grpc -endpoint "127.0.0.1:$G" -duration "$DURATION" \
    -concurrency "$C" -pid "$PID" -probes 0 "${AUTH[@]}" > "$TMP/r$i.json"
  python3 - "$TMP/r$i.json" "$i" "$(du -sb "$TMP/run/data" | cut -f1)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("%-4s %10.0f %10.0f %9.2f %8.2f %9.0f" % (sys.argv[2], int(sys.argv[3]) / 1e6, r["spans_per_sec"],
      r["cpu_seconds_per_10k_spans"], r["loadgen_cpu_seconds_per_10k_spans"], r["peak_anon_mib"]))
PY
done
