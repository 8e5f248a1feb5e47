#!/usr/bin/env bash
# Broadcast fan-out on one node (issue 8 item 11): N subscribed websocket
# connections (WIRE.md B.7), then idle RSS per connection, delivery latency
# from the POST to every listener (paced, and again with one subscriber that
# stopped reading), and broadcasts/s. Thingstead against the bare socketioxide
# baseline (bench/src/bin/bare_socketio.rs) in the same run, alternating, each
# measurement on a freshly started server (so RSS starts clean). Loopback only.
#
# Usage: bench/run-fanout.sh
# Environment knobs (defaults in brackets):
#   CONNECTIONS      listener counts [1000 10000]
#   REPEAT           rounds per count, each round every server once [1]
#   BROADCASTS       broadcasts per paced latency run [100]
#   BURST            broadcasts per throughput run [100]
#   POSTERS          concurrent posters of the throughput runs [1,4]
#   PAYLOAD_BYTES    padding per broadcast payload [256]
#   SERVERS          which servers, in order [bare thingstead]; also
#                    bare-tuned (the baseline with BARE_TUNED_FLAGS)
#   BARE_FLAGS       extra flags of the bare server [none: library defaults]
#   BARE_TUNED_FLAGS flags of bare-tuned [--ws-read-buffer-size 1024 --max-buffer-size 64,
#                    the values of Thingstead's [realtime] defaults]
#   MALLOC_*         glibc malloc variables set here reach every server
#                    (e.g. MALLOC_MMAP_THRESHOLD_=8192, see BENCHMARKS.md)
#   GEN_THREADS      generator tokio threads [2]
#   SKIP_BUILD=1     use the existing release binaries (in cargo's target dir)
#   TS_BIN           the thingstead binary measured [$BIN/thingstead] (e.g. a
#                    copy built from an earlier commit, for a before/after)
#   OUT              directory for results and logs [a fresh mktemp dir]
#
# Prints a table; the raw JSON lines are in $OUT/results.jsonl. With the
# defaults it takes about 4 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-"1000 10000"}
REPEAT=${REPEAT:-1}
BROADCASTS=${BROADCASTS:-100}
BURST=${BURST:-100}
POSTERS=${POSTERS:-1,4}
PAYLOAD_BYTES=${PAYLOAD_BYTES:-256}
SERVERS=${SERVERS:-"bare thingstead"}
BARE_FLAGS=${BARE_FLAGS:-}
BARE_TUNED_FLAGS=${BARE_TUNED_FLAGS:-"--ws-read-buffer-size 1024 --max-buffer-size 64"}
GEN_THREADS=${GEN_THREADS:-2}
OUT=${OUT:-$(mktemp -d /tmp/thingstead-bench.XXXXXX)}
mkdir -p "$OUT"
DATA="$OUT/data"
BIN=${BIN:-$(bash scripts/target-dir)/release}
TS_BIN=${TS_BIN:-$BIN/thingstead}
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --locked -p thingstead-cli -p thingstead-bench
fi

# Every connection is a file descriptor in the server and one in the generator.
ulimit -n "$(ulimit -Hn)"
MAX_N=$(tr ' ' '\n' <<<"$CONNECTIONS" | sort -n | tail -1)
if (($(ulimit -n) < MAX_N + 256)); then
    echo "ulimit -n is $(ulimit -n): too low for $MAX_N connections (raise the hard limit)" >&2
    exit 1
fi

SERVER_PID=
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

wait_file() { # file, seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [[ -s "$1" ]] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $1" >&2
    return 1
}

echo "== machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), results in $OUT" >&2

# Registry first, with no server running: one organization, one user.
PASSWORD=fanout-bench-password
"$TS_BIN" admin --data-dir "$DATA" org create bench >/dev/null
"$TS_BIN" admin --data-dir "$DATA" user create --org bench --username bench --password-stdin \
    <<<"$PASSWORD" >/dev/null

# Thingstead's connection caps (HTTP 1024 and 64 per address; realtime 10,000
# per node and per organization) are raised to let every listener and the
# stalled one in; nothing else differs from the defaults.
export THINGSTEAD_HTTP_LIMITS__MAX_CONNECTIONS=$((MAX_N + 1024))
export THINGSTEAD_HTTP_LIMITS__MAX_CONNECTIONS_PER_IP=$((MAX_N + 1024))
export THINGSTEAD_REALTIME__MAX_CONNECTIONS=$((MAX_N + 1024))
export THINGSTEAD_REALTIME__MAX_CONNECTIONS_PER_ORG=$((MAX_N + 1024))

start_server() { # name; sets SERVER_PID, HTTP, TOKEN, ORG
    local ready="$OUT/$1.ready"
    rm -f "$ready"
    case "$1" in
    bare | bare-tuned)
        local flags=$BARE_FLAGS
        [[ "$1" == bare-tuned ]] && flags=$BARE_TUNED_FLAGS
        # shellcheck disable=SC2086
        "$BIN/bare_socketio" --ready-file "$ready" $flags >/dev/null 2>>"$OUT/$1.log" &
        SERVER_PID=$!
        wait_file "$ready" 30
        HTTP=$(jq -r .http "$ready")
        TOKEN=bench
        ORG=bench
        ;;
    thingstead)
        "$TS_BIN" serve --data-dir "$DATA" --http 127.0.0.1:0 --device-tcp 127.0.0.1:0 \
            --ready-file "$ready" >>"$OUT/serve.log" 2>&1 &
        SERVER_PID=$!
        wait_file "$ready" 60
        HTTP=$(jq -r .http "$ready")
        curl -sf "http://$HTTP/api/auth/login" -H 'content-type: application/json' \
            -d "{\"username\":\"bench\",\"password\":\"$PASSWORD\",\"organization\":\"bench\"}" >"$OUT/login.json"
        TOKEN=$(jq -r .token "$OUT/login.json")
        ORG=$(jq -r '.identity.organization // "bench"' "$OUT/login.json")
        ;;
    *)
        echo "unknown server $1" >&2
        exit 1
        ;;
    esac
    sleep 1 # let start-up allocations settle before the RSS baseline
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

measure() { # server, connections
    start_server "$1"
    local cmd=("$BIN/fanout" --http "$HTTP" --pid "$SERVER_PID" --token "$TOKEN" --org "$ORG"
        --connections "$2" --broadcasts "$BROADCASTS" --burst "$BURST" --posters "$POSTERS"
        --payload-bytes "$PAYLOAD_BYTES" --threads "$GEN_THREADS" --label "$1")
    if [[ "$1" == thingstead ]]; then echo "-- ${cmd[*]/$TOKEN/TOKEN}" >&2; else echo "-- ${cmd[*]}" >&2; fi
    "${cmd[@]}" | jq -c --arg flags "$([[ $1 == bare-tuned ]] && echo "$BARE_TUNED_FLAGS" || true)" \
        '. + {server_flags: $flags}' | tee -a "$RESULTS" >&2 || echo "fanout failed against $1 ($2)" >&2
    stop_server
    sleep 2 # sockets of the last run leave the loopback
}

for n in $CONNECTIONS; do
    for ((r = 0; r < REPEAT; r++)); do
        for s in $SERVERS; do
            measure "$s" "$n"
        done
    done
done

echo
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); generator ($GEN_THREADS threads) and servers share them"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); payload pad $PAYLOAD_BYTES B; $BROADCASTS paced broadcasts, $BURST per throughput run"
echo "KiB/conn: server VmRSS growth per idle subscribed connection; latency: POST -> each listener, p50/p99 over all pairs (median over repeats);"
echo "last p99: time to the slowest listener; stalled: same paced run with one subscriber not reading; bcast/s per poster count; ratio: thingstead / bare"
jq -rs --arg posters "$POSTERS" '
  def r(x): if x == null then "-" else (x * 10 | round / 10 | tostring) end;
  def ratio(a; b): if a == null or b == null or b == 0 then null else a / b end;
  def median(f): map(f) | map(select(. != null)) | sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
  def tput(rs; $p): rs | median(.throughput[] | select(.posters == $p) | .broadcasts_per_s);
  def row(rs): [r(rs | median(.idle_kib_per_conn)), r(rs | median(.latency.p50_ms)), r(rs | median(.latency.p99_ms)),
      r(rs | median(.latency.last_p99_ms)), r(rs | median(.latency_with_stalled.p99_ms)),
      (rs | map("\(.latency_with_stalled.stalled.broadcasts_received // "-")/\(.latency_with_stalled.stalled.broadcasts_sent // "-")\(if .latency_with_stalled.stalled.closed_by_server then " closed" else "" end)") | join(",")),
      ($posters | split(",") | map(tonumber) | map(r(tput(rs; .))) | join(" / ")),
      (rs | map(.connected) | min), (rs | map(.missing_total // (.latency.missing + (.latency_with_stalled.missing // 0))) | add)];
  ["N", "server", "KiB/conn", "p50 ms", "p99 ms", "last p99", "p99 stalled", "stalled got", "bcast/s (P=\($posters))", "connected", "missing"],
  (group_by(.connections)[] as $g
   | ($g | group_by(.label)[] | . as $rs | [$rs[0].connections, $rs[0].label] + row($rs)),
     (($g | map(select(.label == "bare"))) as $b | ($g | map(select(.label == "thingstead"))) as $t
      | if ($b | length) > 0 and ($t | length) > 0 then
          [$g[0].connections, "ratio ts/bare",
           r(ratio($t | median(.idle_kib_per_conn); $b | median(.idle_kib_per_conn))),
           r(ratio($t | median(.latency.p50_ms); $b | median(.latency.p50_ms))),
           r(ratio($t | median(.latency.p99_ms); $b | median(.latency.p99_ms))),
           r(ratio($t | median(.latency.last_p99_ms); $b | median(.latency.last_p99_ms))),
           r(ratio($t | median(.latency_with_stalled.p99_ms); $b | median(.latency_with_stalled.p99_ms))),
           "", "", "", ""]
        else empty end))
  | map(tostring) | join("\t")
' "$RESULTS" | column -t -s $'\t'
