#!/usr/bin/env bash
# Durable device ingest on PostgreSQL with 1, 2 and 3 nodes (issue 7 item 13),
# one TCP connection per message as hologram-python sends, with two
# baselines in the same run, on this machine, loopback only:
#   ceiling   the acknowledge-only server (bench/src/bin/ack_server.rs);
#   pgbench   the raw insert rate of the same PostgreSQL: one row of the
#             messages table per transaction (same columns, indexes, payload
#             size, synchronous_commit), at the same client concurrency;
#   ts×N      Thingstead nodes on that PostgreSQL (NATS bus), the generator
#             sending message i to node i mod N.
# It starts and removes its own PostgreSQL 15 cluster and nats-server.
#
# Usage: bench/run-pg-ingest.sh
# Environment knobs (defaults in brackets):
#   DURATION        seconds per measurement [10]
#   CONCURRENCY     concurrent devices, and pgbench clients [64]
#   NODES           node counts measured [1 2 3]
#   REPEAT          rounds of (ceiling, pgbench, ts×N...), alternating [2]
#   GEN_THREADS     generator tokio threads, and pgbench threads (-j) [1]
#   SOURCE_IPS      spread client source addresses over 127.0.0.1..N [16]
#   SKIP_BUILD=1    use the existing release binaries (in cargo's target dir)
#   OUT             directory for results and logs [a fresh mktemp dir]
#   PG_BIN, PG_OPTS, NATS_SERVER: see bench/cluster.sh
#
# Prints a table and the durability check (acknowledged == rows stored by
# Thingstead, counted in PostgreSQL after the nodes stopped); the raw JSON
# lines are in $OUT/results.jsonl. A full run with the defaults takes about
# 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONCURRENCY=${CONCURRENCY:-64}
NODES=${NODES:-"1 2 3"}
REPEAT=${REPEAT:-2}
GEN_THREADS=${GEN_THREADS:-1}
SOURCE_IPS=${SOURCE_IPS:-16}
OUT=${OUT:-$(mktemp -d /tmp/thingstead-bench.XXXXXX)}
mkdir -p "$OUT"
BIN=${BIN:-$(bash scripts/target-dir)/release}
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
MAX_NODES=$(tr ' ' '\n' <<<"$NODES" | sort -n | tail -1)

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

# Registry first (this also runs the migrations), with no node running.
"$BIN/thingstead" admin --data-dir "$OUT/admin" org create bench >"$OUT/org.json"
KEY=$("$BIN/thingstead" admin --data-dir "$OUT/admin" device create --org bench | jq -r .devicekey)

"$BIN/ack_server" --ready-file "$OUT/ack.ready" >/dev/null 2>"$OUT/ack.log" &
ACK_PID=$!
CLUSTER_PIDS+=($ACK_PID)
for ((i = 1; i <= MAX_NODES; i++)); do start_node "$i"; done
wait_file "$OUT/ack.ready" 30
ACK_ADDR=$(jq -r .device_tcp "$OUT/ack.ready")

# The pgbench transaction: the row Thingstead writes for one message (read
# back from a real one below), one INSERT in its own transaction; device_uuid
# 'pgbench' tells its rows apart for the durability count.
"$BIN/ingest" --addr "${NODE_TCP[1]}" --key "$KEY" --concurrency 1 --count 1 --label probe >/dev/null
psql_bench -tAc "SELECT org_id, array_to_string(topics, ','), octet_length(payload), peer, coalesce(sdk, ''), coalesce(modem, '')
                 FROM messages ORDER BY id DESC LIMIT 1" -F $'\t' >"$OUT/row.txt"
IFS=$'\t' read -r ORG_ID TOPIC PAYLOAD_LEN PEER SDK MODEM <"$OUT/row.txt"
echo "== a stored message: org $ORG_ID, topics {$TOPIC}, payload $PAYLOAD_LEN bytes ('msg-N'), peer $PEER, sdk '$SDK', modem '$MODEM'" >&2
sql_text() { if [[ -z "$1" ]]; then echo NULL; else echo "'${1//\'/\'\'}'"; fi; }
cat >"$OUT/insert.sql" <<EOF
\set n random(1, 999999)
INSERT INTO messages (org_id, device_uuid, topics, payload, received_at, peer, sdk, modem)
VALUES ($ORG_ID, 'pgbench', ARRAY['$TOPIC'], convert_to('msg-' || :n, 'UTF8'),
        (extract(epoch FROM clock_timestamp()) * 1000)::int8, $(sql_text "$PEER"), $(sql_text "$SDK"), $(sql_text "$MODEM"));
EOF
chmod 644 "$OUT/insert.sql"
cp "$OUT/insert.sql" "$PG_DIR/insert.sql"
[[ $(id -u) == 0 ]] && chown postgres "$PG_DIR/insert.sql"

TICK=$(getconf CLK_TCK)
PG_ACKED=0

# Measures one thing; $1 label, $2 nodes (0 = not Thingstead), then the command.
measure() {
    local label=$1 nodes=$2
    shift 2
    local c0 c1 p0 p1 m0 m1 w0=0 w1=0 k0=0 k1=0 line i pid
    local pids=()
    if [[ $label == ceiling ]]; then pids=("$ACK_PID"); fi
    for ((i = 1; i <= nodes; i++)); do pids+=("${NODE_PID[$i]}"); done
    echo "-- $label: $*" >&2
    c0=0
    for pid in "${pids[@]}"; do c0=$((c0 + $(cpu_ticks "$pid"))); done
    p0=$(pg_ticks)
    read -r m0 t0 < <(machine_ticks)
    for ((i = 1; i <= nodes; i++)); do
        w0=$((w0 + $(node_counter "${NODE_HTTP[$i]}" thingstead_store_writes_total)))
        k0=$((k0 + $(node_counter "${NODE_HTTP[$i]}" thingstead_store_commits_total)))
    done
    line=$("$@")
    c1=0
    for pid in "${pids[@]}"; do c1=$((c1 + $(cpu_ticks "$pid"))); done
    p1=$(pg_ticks)
    read -r m1 t1 < <(machine_ticks)
    for ((i = 1; i <= nodes; i++)); do
        w1=$((w1 + $(node_counter "${NODE_HTTP[$i]}" thingstead_store_writes_total)))
        k1=$((k1 + $(node_counter "${NODE_HTTP[$i]}" thingstead_store_commits_total)))
    done
    line=$(jq -c --arg lab "$label" --argjson nodes "$nodes" \
        --argjson cpu "$(((c1 - c0) * 1000000 / TICK))" --argjson pgcpu "$(((p1 - p0) * 1000000 / TICK))" \
        --argjson busy "$((m1 - m0))" --argjson total "$((t1 - t0))" \
        --argjson w "$((w1 - w0))" --argjson k "$((k1 - k0))" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
        '. + {label: $lab, nodes: $nodes, loadavg: $load,
              machine_busy_pct: (if $total > 0 then ($busy / $total * 1000 | round / 10) else null end),
              server_cpu_us_per_msg: (if $lab == "pgbench" or .acked == 0 then null else ($cpu / .acked | round) end),
              pg_cpu_us_per_msg: (if .acked > 0 then ($pgcpu / .acked | round) else null end)}
           + (if $k > 0 then {writes_per_commit: ($w / $k * 10 | round / 10)} else {} end)' <<<"$line")
    echo "$line" | tee -a "$RESULTS" >&2
    sleep 2 # let the servers drain
}

# pgbench's summary as the generator's JSON shape.
pgbench_json() {
    local log="$OUT/pgbench.$RANDOM.log"
    pg pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared -c "$CONCURRENCY" -j "$GEN_THREADS" \
        -T "$DURATION" -f "$PG_DIR/insert.sql" bench >"$log" 2>&1 || {
        cat "$log" >&2
        return 1
    }
    local tps lat n failed
    tps=$(awk '/^tps = / {print $3}' "$log")
    lat=$(awk '/^latency average = / {print $4}' "$log")
    n=$(awk '/number of transactions actually processed/ {print $NF}' "$log" | cut -d/ -f1)
    failed=$(awk '/number of failed transactions/ {print $5}' "$log")
    jq -nc --argjson tps "$tps" --argjson lat "${lat:-null}" --argjson n "$n" --argjson failed "${failed:-0}" \
        --argjson c "$CONCURRENCY" \
        '{concurrency: $c, acked: $n, msgs_per_s: $tps, p50_ms: null, p99_ms: null, mean_ms: $lat, errors: $failed}'
}

ingest() { # label, addresses
    "$BIN/ingest" --addr "$2" --key "$KEY" --concurrency "$CONCURRENCY" --duration "$DURATION" \
        --threads "$GEN_THREADS" --source-ips "$SOURCE_IPS" --label "$1"
}

targets() { # first N node addresses, comma-separated
    local i a=()
    for ((i = 1; i <= $1; i++)); do a+=("${NODE_TCP[$i]}"); done
    (IFS=,; echo "${a[*]}")
}

# Warm-up, not reported: every node, the ceiling, pgbench (first connections, caches, the table).
"$BIN/ingest" --addr "$ACK_ADDR" --key "$KEY" --concurrency 8 --count 2000 --label warmup >/dev/null
"$BIN/ingest" --addr "$(targets "$MAX_NODES")" --key "$KEY" --concurrency 8 --count 3000 --label warmup >"$OUT/warmup.json"
WARM_ACKED=$(( $(jq .acked "$OUT/warmup.json") + 1 ))  # + the probe message
pg pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -M prepared -c 8 -t 250 -f "$PG_DIR/insert.sql" bench >/dev/null 2>&1

for ((r = 0; r < REPEAT; r++)); do
    measure ceiling 0 ingest ceiling "$ACK_ADDR"
    measure pgbench 0 pgbench_json
    for n in $NODES; do
        measure "ts×$n" "$n" ingest "ts×$n" "$(targets "$n")"
    done
done

# Durability: stop the nodes (they finish what they acknowledged), then count
# Thingstead's rows in PostgreSQL.
ACKED=$(jq -s "[.[] | select(.label | startswith(\"ts\")) | .acked] | add + $WARM_ACKED" "$RESULTS")
stop_nodes
STORED=$(psql_bench -tAc "SELECT count(*) FROM messages WHERE device_uuid <> 'pgbench'")
PGROWS=$(psql_bench -tAc "SELECT count(*) FROM messages WHERE device_uuid = 'pgbench'")

echo
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); generator, PostgreSQL, NATS and nodes share them"
echo "one connection per message, C=$CONCURRENCY, ${DURATION}s per measurement x $REPEAT alternating, generator threads $GEN_THREADS, source ips $SOURCE_IPS"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rate: mean over repeats; p50/p99: median over repeats (pgbench: mean latency); cpu: CPU per acknowledged message of the"
echo "server processes (ack_server or the target nodes) and of PostgreSQL; busy: whole machine; batch: writes per group commit"
jq -rs '
  def r(x): if x == null then "-" else (x * 100 | round / 100 | tostring) end;
  def mean(f): map(f) | if any(. == null) then null else add / length end;
  def median(f): map(f) | sort | .[(length - 1) / 2 | floor];
  (map(select(.label == "pgbench")) | mean(.msgs_per_s)) as $pg
  | (map(select(.label == "ceiling")) | mean(.msgs_per_s)) as $ceil
  | "what\tmsg/s\tp50 ms\tp99 ms\terrors\tcpu us/msg\tpg cpu us/msg\tbusy %\tbatch\tvs pgbench\tvs ceiling",
    (group_by(.label) | sort_by(.[0].nodes, .[0].label)[] as $g
     | "\($g[0].label)\t\(r($g | mean(.msgs_per_s)))\t\(r($g | median(.p50_ms // .mean_ms)))\t\(r($g | median(.p99_ms)))"
       + "\t\($g | map(.errors) | add)\t\(r($g | mean(.server_cpu_us_per_msg)))\t\(r($g | mean(.pg_cpu_us_per_msg)))"
       + "\t\(r($g | mean(.machine_busy_pct)))\t\(r($g | mean(.writes_per_commit)))"
       + "\t\(r(($g | mean(.msgs_per_s)) / $pg * 100))%\t\(r(($g | mean(.msgs_per_s)) / $ceil * 100))%")
' "$RESULTS" | column -t -s $'\t'
echo
echo "per repeat (msg/s):"
jq -rs 'group_by(.label) | sort_by(.[0].nodes, .[0].label)[] | "  \(.[0].label): \(map(.msgs_per_s | round) | map(tostring) | join(", "))"' "$RESULTS"
echo
echo "durability: acknowledged $ACKED (runs + warm-up + probe), rows stored by the nodes $STORED; pgbench rows $PGROWS"
if [[ "$ACKED" == "$STORED" ]]; then
    echo "durability: OK (acknowledged == stored)"
else
    echo "durability: MISMATCH (a message may be stored without its ack being read, e.g. on a client timeout; see errors)"
fi
