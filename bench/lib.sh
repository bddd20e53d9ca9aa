# Shell functions shared by bench/run.sh and bench/grow.sh (sourced, not run).

# wait_port PORT: returns once something listens on 127.0.0.1:PORT (fails after 30 s).
wait_port() {
  for _ in $(seq 1 300); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  printf 'port %s never opened\n' "$1" >&2; return 1
}

# start_tracehound_at BIN DIR GRPC HTTP API LOG [ARGS...]: starts tracehound's embedded default
# configuration on those loopback ports with its data in DIR/data, appending its output to LOG,
# and waits for the gRPC and API ports. Sets PID.
start_tracehound_at() {
  local bin=$1 dir=$2 g=$3 h=$4 a=$5 log=$6; shift 6
  ( cd "$dir" && exec env TRACEHOUND_OTLP_GRPC_ENDPOINT=127.0.0.1:$g TRACEHOUND_OTLP_HTTP_ENDPOINT=127.0.0.1:$h \
      TRACEHOUND_API_ENDPOINT=127.0.0.1:$a TRACEHOUND_DATA_DIR="$dir/data" TRACEHOUND_METRICS_LEVEL=none \
      "$bin" "$@" >> "$log" 2>&1 ) & PID=$!
  wait_port "$g"; wait_port "$a"
}

# bearer_from_log LOG: the "Bearer th_…" header of the API key a first start printed into LOG,
# or nothing when it printed none.
bearer_from_log() {
  if grep -q 'Bearer th_' "$1" 2>/dev/null; then
    printf 'Bearer %s' "$(grep -o 'th_[A-Za-z0-9_-]*' "$1" | head -1)"
  fi
}
