# Shared by bench/run-pg-ingest.sh and bench/run-pg-latency.sh (sourced, not run):
# a throwaway PostgreSQL 15 cluster and nats-server in temp dirs on ephemeral
# loopback ports, and `thingstead serve` nodes on them. Everything started here
# is stopped by `cluster_cleanup` (the callers trap it on EXIT).
#
# Needs: $OUT (results dir), $BIN (release binaries). Knobs:
#   PG_BIN        PostgreSQL binaries [/usr/lib/postgresql/15/bin]
#   PG_OPTS       extra postgres -c options [""] (the defaults are PostgreSQL's
#                 own, fsync=on and synchronous_commit=on, as the nodes use it)
#   NATS_SERVER   nats-server binary [from scripts/test-engines]
# Sets: PG_PORT PG_URL PG_DIR NATS_URL NODE_TCP[i] NODE_HTTP[i] NODE_PID[i] PM_PID.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
CLUSTER_PIDS=()
PG_DIR=""
NODE_TCP=()
NODE_HTTP=()
NODE_PID=()

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_file() { # file, seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [[ -s "$1" ]] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $1" >&2
    return 1
}

wait_port() { # port, seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for port $1" >&2
    return 1
}

# Runs a PostgreSQL binary, as the postgres user when we are root (initdb refuses root).
pg() {
    local b=$1
    shift
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$PG_BIN/$b" "$@"
    else
        "$PG_BIN/$b" "$@"
    fi
}

psql_bench() { pg psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench "$@"; }

start_postgres() {
    [[ -x "$PG_BIN/initdb" ]] || {
        echo "PostgreSQL 15 not found in $PG_BIN (bash scripts/test-engines installs it)" >&2
        return 1
    }
    PG_DIR=$(mktemp -d /tmp/thingstead-bench-pg.XXXXXX)
    mkdir -p "$PG_DIR/sockets"
    [[ $(id -u) == 0 ]] && chown -R postgres:postgres "$PG_DIR"
    pg initdb -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$OUT/initdb.log" 2>&1
    PG_PORT=$(free_port)
    pg pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 30 start \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR/sockets -c fsync=on -c max_connections=300 ${PG_OPTS:-}" \
        >"$OUT/pg_ctl.log" 2>&1 || {
        tail -20 "$PG_DIR/postgres.log" >&2
        return 1
    }
    PM_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
    pg createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres bench
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/bench"
    echo "== postgres $(pg postgres --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR), synchronous_commit=$(psql_bench -tAc 'SHOW synchronous_commit'), fsync=$(psql_bench -tAc 'SHOW fsync')" >&2
}

start_nats() {
    local nats=${NATS_SERVER:-$(bash scripts/test-engines)}
    local port
    port=$(free_port)
    "$nats" -a 127.0.0.1 -p "$port" >"$OUT/nats.log" 2>&1 &
    CLUSTER_PIDS+=($!)
    NATS_PID=$!
    wait_port "$port" 30
    NATS_URL="nats://127.0.0.1:$port"
    echo "== nats-server $("$nats" --version | awk '{print $NF}') on $NATS_URL" >&2
}

# The environment every node and admin command shares.
export_cluster_env() {
    export THINGSTEAD_STORE__BACKEND=postgres
    export THINGSTEAD_STORE__URL="$PG_URL"
    export THINGSTEAD_SECRETS__MASTER_KEY_FILE="$OUT/master.key"
    export THINGSTEAD_BUS__BACKEND=nats
    export THINGSTEAD_BUS__URL="$NATS_URL"
}

make_master_key() {
    "$BIN/thingstead" admin master-key generate --out "$OUT/master.key" >/dev/null
}

start_node() { # index
    local i=$1
    mkdir -p "$OUT/node$i"
    "$BIN/thingstead" serve --data-dir "$OUT/node$i" --http 127.0.0.1:0 --device-tcp 127.0.0.1:0 \
        --ready-file "$OUT/node$i.ready" >"$OUT/node$i.log" 2>&1 &
    NODE_PID[$i]=$!
    CLUSTER_PIDS+=($!)
    wait_file "$OUT/node$i.ready" 60
    NODE_TCP[$i]=$(jq -r .device_tcp "$OUT/node$i.ready")
    NODE_HTTP[$i]=$(jq -r .http "$OUT/node$i.ready")
    echo "== node $i: device tcp ${NODE_TCP[$i]}, http ${NODE_HTTP[$i]} (pid ${NODE_PID[$i]})" >&2
}

stop_nodes() {
    local pid
    for pid in "${NODE_PID[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${NODE_PID[@]}"; do wait "$pid" 2>/dev/null || true; done
    NODE_PID=()
}

# CPU ticks (utime+stime) of one process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# CPU ticks of PostgreSQL: the postmaster, its live children, and its reaped children.
pg_ticks() {
    local t c
    t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$PM_PID/stat")
    for c in $(pgrep -P "$PM_PID"); do t=$((t + $(cpu_ticks "$c"))); done
    echo "$t"
}

# Busy and total ticks of the whole machine (all cores), from /proc/stat.
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }

node_counter() { # http, metric
    curl -sf "http://$1/metrics" | awk -v m="$2" '$1 == m {print $2}' | head -1
}

cluster_cleanup() {
    local pid
    for pid in "${CLUSTER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n "$PG_DIR" && -d "$PG_DIR/data" ]]; then
        pg pg_ctl -D "$PG_DIR/data" stop -m fast -w >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
