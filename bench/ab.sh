#!/usr/bin/env bash
# Interleaved comparison of tracehound's ingest at two commits on this machine: base, new,
# base, new, … (BENCH_AB_ROUNDS pairs, default 3), each a closed-loop run of bench/run.sh at
# BENCH_CONCURRENCY senders (default 64) for BENCH_DURATION (default 20s) on a fresh store.
#
# A shared machine's speed drifts by ±20% within minutes, so one run of each build says little.
# The builds are compared on their CPU per span divided by the load generator's CPU per span in
# the same run ("normalised"): the generator does the same work per span in every run, so the
# ratio cancels most of the drift. docs/benchmarks.md (eighth round) says more.
#
#   bash bench/ab.sh BASE_REV [NEW_REV]     NEW_REV defaults to the working tree as it is
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BASE=${1:?usage: bash bench/ab.sh BASE_REV [NEW_REV]}
NEW=${2:-}
ROUNDS=${BENCH_AB_ROUNDS:-3}
export BENCH_DURATION=${BENCH_DURATION:-20s} BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-64}
export BENCH_SYSTEMS=tracehound BENCH_RATE_SPANS=0 BENCH_PROXY=0
C=${BENCH_CONCURRENCY%% *}
export BENCH_CONCURRENCY=$C

TMP=$(mktemp -d)
cleanup() {
  for d in "$TMP"/base "$TMP"/new; do
    [ -d "$d" ] && git -C "$ROOT" worktree remove --force "$d" >/dev/null 2>&1 || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

git -C "$ROOT" worktree add --detach -q "$TMP/base" "$BASE"
NEWDIR=$ROOT
if [ -n "$NEW" ]; then
  git -C "$ROOT" worktree add --detach -q "$TMP/new" "$NEW"
  NEWDIR=$TMP/new
fi

# run DIR LABEL: one run in DIR; prints LABEL and the run's figures, and appends them to
# $TMP/LABEL.tsv.
run() {
  local dir=$1 label=$2
  (cd "$dir" && bash bench/run.sh >/dev/null 2>"$TMP/$label.err") ||
    { echo "$label: bench/run.sh failed; see its output:" >&2; cat "$TMP/$label.err" >&2; exit 1; }
  python3 - "$dir/bench/out/results/tracehound.c$C.json" "$label" "$TMP/$label.tsv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
norm = r["cpu_seconds_per_10k_spans"] / r["loadgen_cpu_seconds_per_10k_spans"]
row = (r["spans_per_sec"], r["cpu_seconds_per_10k_spans"], r["loadgen_cpu_seconds_per_10k_spans"], norm, r["peak_anon_mib"])
print("%-5s %9.0f spans/s  CPU %.3f s/10k  gen %.3f  normalised %.3f  anon %4.0f MiB" % ((sys.argv[2],) + row))
open(sys.argv[3], "a").write("\t".join(str(x) for x in row) + "\n")
PY
}

echo "base $(git -C "$TMP/base" log --oneline -1)"
if [ -n "$NEW" ]; then echo "new  $(git -C "$NEWDIR" log --oneline -1)"; else echo "new  the working tree"; fi
echo "$ROUNDS pairs, $C senders, $BENCH_DURATION each"
for _ in $(seq 1 "$ROUNDS"); do
  run "$TMP/base" base
  run "$NEWDIR" new
done

python3 - "$TMP/base.tsv" "$TMP/new.tsv" <<'PY'
import sys
def load(p):
    return [list(map(float, l.split("\t"))) for l in open(p) if l.strip()]
base, new = load(sys.argv[1]), load(sys.argv[2])
mean = lambda rows, i: sum(r[i] for r in rows) / len(rows)
for name, i in (("spans/s", 0), ("normalised CPU per span", 3), ("peak anon MiB", 4)):
    b, n = mean(base, i), mean(new, i)
    print("%-24s base %9.3f  new %9.3f  change %+.1f%%" % (name, b, n, 100 * (n - b) / b))
PY
