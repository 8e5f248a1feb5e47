#!/usr/bin/env bash
# Things API benchmark (issue 9 item 10), on this machine, loopback only,
# with its baseline in the same run (BENCHMARKS.md section 6):
#
# A. durable property updates: C HTTP/1.1 keep-alive connections doing
#    PUT /spaces/bench/things/{t}/properties/temperature with a bearer token
#    of a real OAuth2 client, against `thingstead serve` (default settings,
#    fresh SQLite data dir), alternating with the baseline: the store's own
#    write path (same schema, rows, durability and group commit, C writers)
#    with no HTTP, auth, JSON or TD validation (`things_props store`).
# B. property history reads: HISTORY_THINGS things x one day at 1 Hz
#    (86,400 points each; 116 things = 10,022,400 points) put in the store
#    with the server stopped, then GET .../properties-history?at=DAY&limit=1000
#    of random things: one page per request, and whole-day walks following
#    next_cursor (87 pages).
#
# Usage: bench/run-things.sh
# Environment knobs (defaults in brackets):
#   DURATION        seconds per measurement [10]
#   CONCURRENCY     connections / store writers for A [64]
#   THINGS          things A's load is spread over [64]
#   REPEAT          baseline/server pairs for A, alternating [3]
#   HISTORY_THINGS  things filled for B, 0 skips B [116]
#   HISTORY_C       concurrent connections for B [1]
#   GEN_THREADS     generator tokio threads [1]
#   SKIP_BUILD=1    use the existing release binaries (in cargo's target dir)
#   TS_BIN          the thingstead binary measured [$BIN/thingstead] (e.g. a
#                   copy built from an earlier commit, for a before/after)
#   OUT             directory for results and logs [a fresh mktemp dir]
#
# Prints tables and checks; raw JSON lines are in $OUT/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-64}
THINGS=${THINGS:-64}
REPEAT=${REPEAT:-3}
HISTORY_THINGS=${HISTORY_THINGS:-116}
HISTORY_C=${HISTORY_C:-1}
GEN_THREADS=${GEN_THREADS:-1}
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

TS_PID=
cleanup() {
    [[ -n "$TS_PID" ]] && kill "$TS_PID" 2>/dev/null || true
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

start_server() {
    rm -f "$OUT/ts.ready"
    "$TS_BIN" serve --data-dir "$DATA" --http 127.0.0.1:0 --device-tcp 127.0.0.1:0 \
        --ready-file "$OUT/ts.ready" >>"$OUT/serve.log" 2>&1 &
    TS_PID=$!
    wait_file "$OUT/ts.ready" 120
    TS_HTTP=$(jq -r .http "$OUT/ts.ready")
}

stop_server() {
    kill -TERM "$TS_PID"
    wait "$TS_PID" || true
    TS_PID=
}

echo "== machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), results in $OUT" >&2

"$TS_BIN" admin --data-dir "$DATA" org create bench >"$OUT/org.json"
"$TS_BIN" admin --data-dir "$DATA" client create --org bench --scopes thing >"$OUT/client.json"
CLIENT=(--client-id "$(jq -r .client_id "$OUT/client.json")" --client-secret "$(jq -r .client_secret "$OUT/client.json")")
start_server
FSYNC_MS=$(python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
t = time.perf_counter()
for _ in range(200):
    os.write(fd, b"x" * 4096); os.fsync(fd)
print("%.2f" % ((time.perf_counter() - t) / 200 * 1000))
os.unlink(sys.argv[1])' "$DATA/fsync-probe")
echo "== fsync of a 4 KiB append in the data dir: $FSYNC_MS ms; thingstead http $TS_HTTP" >&2

TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a process
store_counter() { curl -sf "http://$TS_HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

run() { # label, then the things_props arguments; $SERVER=1 counts the server's CPU and commits
    local label=$1 c0=0 c1=0 w0=0 w1=0 k0=0 k1=0 line
    shift
    local cmd=("$BIN/things_props" "$@" --concurrency "$CONCURRENCY" --duration "$DURATION"
        --threads "$GEN_THREADS" --label "$label")
    echo "-- ${cmd[*]}" >&2
    if [[ ${SERVER:-0} == 1 ]]; then
        c0=$(cpu_ticks "$TS_PID")
        w0=$(store_counter thingstead_store_writes_total)
        k0=$(store_counter thingstead_store_commits_total)
    fi
    line=$("${cmd[@]}")
    if [[ ${SERVER:-0} == 1 ]]; then
        c1=$(cpu_ticks "$TS_PID")
        w1=$(store_counter thingstead_store_writes_total)
        k1=$(store_counter thingstead_store_commits_total)
    else
        w1=$(jq ".store_writes // 0" <<<"$line")
        k1=$(jq ".store_commits // 0" <<<"$line")
    fi
    line=$(jq -c --argjson cpu "$(((c1 - c0) * 1000000 / TICK))" --argjson w "$((w1 - w0))" --argjson k "$((k1 - k0))" \
        --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson server "${SERVER:-0}" \
        '. + {loadavg: $load}
           + (if $server == 1 and .ok > 0 then {server_cpu_us_per_op: ($cpu / .ok | round)} else {} end)
           + (if $k > 0 then {writes_per_commit: ($w / $k * 10 | round / 10)} else {} end)' <<<"$line")
    echo "$line" | tee -a "$RESULTS" >&2
    sleep 2
}

# --- A. property updates
# Warm-up, not reported: the things, first connections, token, caches.
"$BIN/things_props" put --http "$TS_HTTP" --space bench "${CLIENT[@]}" --things "$THINGS" \
    --concurrency 8 --duration 2 --label warmup >"$OUT/warmup.json"
# The baseline keeps one store across its runs, as the server does: both
# stores grow by every run's rows, so each pair compares inserts into
# stores of about the same size (a fresh store for each baseline run made
# the server's later runs look slower than they are).
rm -rf "$OUT/store"
for ((r = 0; r < REPEAT; r++)); do
    run store store --data-dir "$OUT/store" --things "$THINGS"
    SERVER=1 run thingstead put --http "$TS_HTTP" --space bench "${CLIENT[@]}" --things "$THINGS"
done

# Consistency, after the server stopped: every thing's current value is
# its newest history value, and history holds no more rows than 200s.
ACKED=$(jq -s "[.[] | select(.mode == \"put\") | .ok] | add + $(jq .ok "$OUT/warmup.json")" "$RESULTS")
stop_server
HIST=$(sqlite3 "$DATA/thingstead.db" "SELECT count(*) FROM thing_history WHERE uuid LIKE 'bench-%'")
MISMATCH=$(sqlite3 "$DATA/thingstead.db" "
    SELECT count(*) FROM thing_status s
    WHERE s.uuid LIKE 'bench-%' AND s.name = 'temperature' AND s.value IS NOT (
        SELECT h.value FROM thing_history h
        WHERE h.org_id = s.org_id AND h.collection = s.collection AND h.uuid = s.uuid AND h.name = s.name
        ORDER BY h.at DESC LIMIT 1)")

# --- B. history reads
if [[ "$HISTORY_THINGS" -gt 0 ]]; then
    echo "-- fill: $HISTORY_THINGS things x $((86400)) points" >&2
    "$BIN/things_props" fill --data-dir "$DATA" --space bench --things "$HISTORY_THINGS" --label fill | tee -a "$RESULTS" >&2
    start_server
    HIST_ARGS=(--http "$TS_HTTP" --space bench "${CLIENT[@]}" --things "$HISTORY_THINGS")
    "$BIN/things_props" history "${HIST_ARGS[@]}" --concurrency 1 --duration 2 --label warmup >/dev/null
    CONCURRENCY=$HISTORY_C run history-page history "${HIST_ARGS[@]}" --limit 1000
    CONCURRENCY=$HISTORY_C run history-walk history "${HIST_ARGS[@]}" --limit 1000 --walk
    stop_server
    POINTS=$(sqlite3 "$DATA/thingstead.db" "SELECT count(*) FROM thing_history")
fi

echo
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), generator and server share them"
echo "fsync (4 KiB append) ${FSYNC_MS} ms; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A: C=$CONCURRENCY over $THINGS things, ${DURATION}s per measurement x $REPEAT alternating; rate: mean; p50/p99: median over repeats"
jq -rs '
  def r(x): if x == null then "-" else (x * 100 | round / 100 | tostring) end;
  def mean(f): map(f) | add / length;
  def median(f): map(f) | sort | .[(length - 1) / 2 | floor];
  (map(select(.mode == "store")) | mean(.per_s)) as $base
  | "what\tupdates/s\tp50 ms\tp99 ms\terrors\tserver cpu us/op\tbatch\tvs baseline\tper repeat",
    (map(select(.mode == "store" or .mode == "put")) | group_by(.mode) | reverse[] as $g
     | "\($g[0].label)\t\(r($g | mean(.per_s)))\t\(r($g | median(.p50_ms)))\t\(r($g | median(.p99_ms)))"
       + "\t\($g | map(.errors) | add)\t\(if $g[0].server_cpu_us_per_op then r($g | mean(.server_cpu_us_per_op)) else "-" end)"
       + "\t\(r($g | mean(.writes_per_commit)))\t\(r(($g | mean(.per_s)) / $base * 100))%"
       + "\t\($g | map(.per_s | round | tostring) | join(", "))")
' "$RESULTS" | column -t -s $'\t'
# Each server run against the baseline run just before it: on a shared
# machine whose speed drifts, a pair measured seconds apart is the fairer
# ratio than means over the whole run.
jq -rs '
  [map(select(.mode == "store" or .mode == "put")) | _nwise(2) | select(length == 2)
   | (.[1].per_s / .[0].per_s * 1000 | round / 10)] as $r
  | "pairs (server / the baseline just before it): \($r | map(tostring + "%") | join(", ")); median \($r | sort | .[(length - 1) / 2 | floor])%, mean \($r | add / length * 10 | round / 10)%"
' "$RESULTS"
echo
echo "A consistency: 200s $ACKED (runs + warm-up), history rows $HIST (<= 200s: two writes of one thing in one ms share a row), status != newest history: $MISMATCH"
if [[ "$MISMATCH" == 0 && "$HIST" -le "$ACKED" ]]; then echo "A consistency: OK"; else echo "A consistency: MISMATCH"; fi
if [[ "$HISTORY_THINGS" -gt 0 ]]; then
    echo
    echo "B: $POINTS history points in the store; GET .../properties-history?at=2025-01-01&limit=1000, C=$HISTORY_C, ${DURATION}s each"
    jq -rs '
      def r(x): if x == null then "-" else (x * 100 | round / 100 | tostring) end;
      "what\trequests\treq/s\tp50 ms\tp99 ms\tmax ms\terrors\twalks\twalk p50 ms\twalk p99 ms",
      (.[] | select(.mode | startswith("history"))
       | "\(.mode)\t\(.ok)\t\(r(.per_s))\t\(r(.p50_ms))\t\(r(.p99_ms))\t\(r(.max_ms))\t\(.errors)\t\(.walks // "-")\t\(r(.walk_p50_ms))\t\(r(.walk_p99_ms))")
    ' "$RESULTS" | column -t -s $'\t'
fi
