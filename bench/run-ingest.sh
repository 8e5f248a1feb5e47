#!/usr/bin/env bash
# Device ingest benchmark (issue 3 item 15): one TCP connection per message,
# as hologram-python sends, against the acknowledge-only ceiling server and
# the real Thingstead server in the same run, on this machine, loopback only.
#
# Usage: bench/run-ingest.sh
# Environment knobs (defaults in brackets):
#   DURATION        seconds per measurement [10]
#   CONCURRENCIES   concurrent devices [1 64 1024]
#   REPEAT          ceiling/thingstead pairs per concurrency, alternating [1]
#   GEN_THREADS     generator tokio threads [1]
#   SOURCE_IPS      spread client source addresses over 127.0.0.1..N [16]
#   SKIP_BUILD=1    use the existing release binaries (in cargo's target dir)
#   OUT             directory for results and logs [a fresh mktemp dir]
#
# Prints a table and the durability check (acknowledged == stored); the raw
# JSON lines are in $OUT/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONCURRENCIES=${CONCURRENCIES:-"1 64 1024"}
REPEAT=${REPEAT:-1}
GEN_THREADS=${GEN_THREADS:-1}
SOURCE_IPS=${SOURCE_IPS:-16}
OUT=${OUT:-$(mktemp -d /tmp/thingstead-bench.XXXXXX)}
mkdir -p "$OUT"
DATA="$OUT/data"
BIN=${BIN:-$(bash scripts/target-dir)/release}
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --locked -p thingstead-cli -p thingstead-bench
fi

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
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

echo "== machine: $(nproc) cores, $(uname -r), results in $OUT" >&2

# Registry first, with no server running.
"$BIN/thingstead" admin --data-dir "$DATA" org create bench >"$OUT/org.json"
KEY=$("$BIN/thingstead" admin --data-dir "$DATA" device create --org bench | jq -r .devicekey)
APIKEY=$("$BIN/thingstead" admin --data-dir "$DATA" apikey create --org bench | jq -r .apikey)

"$BIN/ack_server" --ready-file "$OUT/ack.ready" >/dev/null 2>"$OUT/ack.log" &
ACK_PID=$!
PIDS+=($ACK_PID)
"$BIN/thingstead" serve --data-dir "$DATA" --http 127.0.0.1:0 --device-tcp 127.0.0.1:0 \
    --ready-file "$OUT/ts.ready" >"$OUT/serve.log" 2>&1 &
TS_PID=$!
PIDS+=($TS_PID)
wait_file "$OUT/ack.ready" 30
wait_file "$OUT/ts.ready" 60
ACK_ADDR=$(jq -r .device_tcp "$OUT/ack.ready")
TS_ADDR=$(jq -r .device_tcp "$OUT/ts.ready")
TS_HTTP=$(jq -r .http "$OUT/ts.ready")
FSYNC_MS=$(python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
t = time.perf_counter()
for _ in range(200):
    os.write(fd, b"x" * 4096); os.fsync(fd)
print("%.2f" % ((time.perf_counter() - t) / 200 * 1000))
os.unlink(sys.argv[1])' "$DATA/fsync-probe")
echo "== fsync of a 4 KiB append in the data dir: $FSYNC_MS ms" >&2
echo "== ceiling $ACK_ADDR, thingstead $TS_ADDR (http $TS_HTTP)" >&2

TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of a process
store_counter() { curl -sf "http://$TS_HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

run() { # label addr concurrency server-pid
    local cmd=("$BIN/ingest" --addr "$2" --key "$KEY" --concurrency "$3" --duration "$DURATION"
        --threads "$GEN_THREADS" --source-ips "$SOURCE_IPS" --label "$1")
    local c0 c1 w0 w1 k0 k1 line
    echo "-- ${cmd[*]}" >&2
    c0=$(cpu_ticks "$4")
    w0=$(store_counter thingstead_store_writes_total)
    k0=$(store_counter thingstead_store_commits_total)
    line=$("${cmd[@]}")
    c1=$(cpu_ticks "$4")
    w1=$(store_counter thingstead_store_writes_total)
    k1=$(store_counter thingstead_store_commits_total)
    # Server CPU per acknowledged message; for thingstead also writes per commit (group-commit batch size).
    line=$(jq -c --argjson cpu "$(((c1 - c0) * 1000000 / TICK))" --argjson w "$((w1 - w0))" --argjson k "$((k1 - k0))" \
        --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
        '. + {server_cpu_us_per_msg: (if .acked > 0 then ($cpu / .acked | round) else null end), loadavg: $load}
           + (if .label == "thingstead" and $k > 0 then {writes_per_commit: ($w / $k * 10 | round / 10)} else {} end)' \
        <<<"$line")
    echo "$line" | tee -a "$RESULTS" >&2
    sleep 2 # let the servers drain
}

# Warm-up: one short run each, not reported (first connections, page cache, store).
"$BIN/ingest" --addr "$ACK_ADDR" --key "$KEY" --concurrency 8 --count 2000 --label warmup >/dev/null
"$BIN/ingest" --addr "$TS_ADDR" --key "$KEY" --concurrency 8 --count 2000 --label warmup >"$OUT/warmup.json"
WARM_ACKED=$(jq .acked "$OUT/warmup.json")

for c in $CONCURRENCIES; do
    for ((r = 0; r < REPEAT; r++)); do
        run ceiling "$ACK_ADDR" "$c" "$ACK_PID"
        run thingstead "$TS_ADDR" "$c" "$TS_PID"
    done
done

# Durability: every acknowledged message is stored, read back over REST and
# then from the database file after the server stopped.
ACKED=$(jq -s "[.[] | select(.label == \"thingstead\") | .acked] | add + $WARM_ACKED" "$RESULTS")
LASTID=$(curl -sf "http://$TS_HTTP/api/1/csr/rdm?apikey=$APIKEY&limit=1" | jq '.lastid // .data[0].id')
kill -TERM "$TS_PID"
wait "$TS_PID" || true
STORED=$(sqlite3 "$DATA/thingstead.db" 'SELECT count(*) FROM messages')

echo
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), generator and servers share them"
echo "one connection per message, ${DURATION}s per measurement x $REPEAT, generator threads $GEN_THREADS, source ips $SOURCE_IPS"
echo "fsync (4 KiB append) ${FSYNC_MS} ms; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rate: mean over repeats; p50/p99: median over repeats; cpu: server CPU per acknowledged message; batch: writes per group commit"
jq -rs '
  def r(x): if x == null then "-" else (x * 100 | round / 100 | tostring) end;
  def mean(f): map(f) | add / length;
  def median(f): map(f) | sort | .[(length - 1) / 2 | floor];
  def side(s): "\(r(s | mean(.msgs_per_s))) msg/s\tp50 \(r(s | median(.p50_ms)))\tp99 \(r(s | median(.p99_ms))) ms"
    + "\terr \(s | map(.errors) | add)\tcpu \(r(s | mean(.server_cpu_us_per_msg))) us/msg";
  "C\tceiling\t\t\t\t\tthingstead\t\t\t\t\tbatch\tratio",
  (group_by(.concurrency)[] as $g
  | ($g | map(select(.label == "ceiling"))) as $c
  | ($g | map(select(.label == "thingstead"))) as $t
  | "\($g[0].concurrency)\t\(side($c))\t\(side($t))\t\(r($t | mean(.writes_per_commit)))"
    + "\t\(r(($t | mean(.msgs_per_s)) / ($c | mean(.msgs_per_s)) * 100))%")
' "$RESULTS" | column -t -s $'\t'
echo
echo "durability: acknowledged $ACKED, REST lastid $LASTID, rows in messages after shutdown $STORED"
if [[ "$ACKED" == "$STORED" ]]; then
    echo "durability: OK (acknowledged == stored)"
else
    echo "durability: MISMATCH (a message may be stored without its ack being read, e.g. on a client timeout; see errors)"
fi
