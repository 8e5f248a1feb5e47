#!/usr/bin/env bash
# Cross-node event latency (issue 7 item 14): from a device's send to node A
# until a subscriber of node B's message stream (GET /api/1/csr/rdm/stream)
# receives it, over PostgreSQL and NATS, with the single-node baseline (A's
# own stream) in the same run, alternating. Loopback only. It starts and
# removes its own PostgreSQL 15 cluster, nats-server and two nodes.
#
# Usage: bench/run-pg-latency.sh
# Environment knobs (defaults in brackets):
#   COUNT           messages per measurement [500]
#   RATE            messages per second [100]
#   REPEAT          (A→A, A→B) pairs, alternating [3]
#   SKIP_BUILD=1    use the existing release binaries (in cargo's target dir)
#   OUT             directory for results and logs [a fresh mktemp dir]
#   PG_BIN, PG_OPTS, NATS_SERVER: see bench/cluster.sh
#
# Prints a table; the raw JSON lines are in $OUT/results.jsonl. A full run
# with the defaults takes about 1 minute.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-500}
RATE=${RATE:-100}
REPEAT=${REPEAT:-3}
OUT=${OUT:-$(mktemp -d /tmp/thingstead-bench.XXXXXX)}
mkdir -p "$OUT"
BIN=${BIN:-$(bash scripts/target-dir)/release}
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release --locked -p thingstead-cli -p thingstead-bench
fi

# shellcheck source=bench/cluster.sh
source bench/cluster.sh
trap cluster_cleanup EXIT

echo "== machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), results in $OUT" >&2
start_postgres
start_nats
make_master_key
export_cluster_env
"$BIN/thingstead" admin --data-dir "$OUT/admin" org create bench >"$OUT/org.json"
KEY=$("$BIN/thingstead" admin --data-dir "$OUT/admin" device create --org bench | jq -r .devicekey)
APIKEY=$("$BIN/thingstead" admin --data-dir "$OUT/admin" apikey create --org bench | jq -r .apikey)
start_node 1
start_node 2

latency() { # label, stream node
    local cmd=("$BIN/latency" --addr "${NODE_TCP[1]}" --stream "${NODE_HTTP[$2]}" --apikey "$APIKEY" --key "$KEY"
        --count "$COUNT" --rate "$RATE" --label "$1")
    echo "-- ${cmd[*]/$APIKEY/APIKEY}" >&2
    "${cmd[@]}" | jq -c --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '. + {loadavg: $load}' | tee -a "$RESULTS" >&2
}

for ((r = 0; r < REPEAT; r++)); do
    latency "A→A" 1
    latency "A→B" 2
done

echo
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); sender, PostgreSQL, NATS and both nodes share them"
echo "$COUNT messages at $RATE/s per measurement x $REPEAT alternating; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "latency: send (just before the frame is written) to receipt on the stream; ack: send to [0,0]; after ack: [0,0] to receipt"
echo "p50/p99: median over repeats; max: over all repeats"
jq -rs '
  def r(x): if x == null then "-" else (x * 100 | round / 100 | tostring) end;
  def median(f): map(f) | sort | .[(length - 1) / 2 | floor];
  "path\tp50 ms\tp99 ms\tmax ms\tack p50 ms\tafter ack p50 / p99 ms\treceived / sent\tlost after ack\terrors",
  (group_by(.label)[] as $g
   | "\($g[0].label)\t\(r($g | median(.p50_ms)))\t\(r($g | median(.p99_ms)))\t\(r($g | map(.max_ms) | max))"
     + "\t\(r($g | median(.ack_p50_ms)))\t\(r($g | median(.after_ack_p50_ms))) / \(r($g | median(.after_ack_p99_ms)))"
     + "\t\($g | map(.received) | add) / \($g | map(.count) | add)\t\($g | map(.lost_acked) | add)\t\($g | map(.errors) | add)")
' "$RESULTS" | column -t -s $'\t'
echo
echo "per repeat (p50 / p99 / ack p50 ms):"
jq -rs 'group_by(.label)[] | "  \(.[0].label): \(map("\(.p50_ms) / \(.p99_ms) / \(.ack_p50_ms)") | join(", "))"' "$RESULTS"
