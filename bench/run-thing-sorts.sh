#!/usr/bin/env bash
# Sorted thing lists (issue 9 item 3): N things imported through the CLI
# into a fresh space, then GET /spaces/bench/things?sort=KEY&limit=50 timed
# with curl, three times per key, for a TD path holding texts (title), one
# holding numbers (-properties.temperature.maximum), and the baseline of
# the same run: sort=created (an indexed column, no search terms read).
# Loopback only; a fresh data dir per run.
#
# Usage: bench/run-thing-sorts.sh [N...]      (default: 2000 10000)
# Environment: TS_BIN the thingstead binary [cargo's release build];
#              SKIP_BUILD=1 to use it as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${TS_BIN:-$(bash scripts/target-dir)/release/thingstead}
if [[ "${SKIP_BUILD:-0}" != 1 && -z "${TS_BIN:-}" ]]; then
    cargo build --release --locked -p thingstead-cli
fi
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(2000 10000)

PID=
D=
cleanup() {
    [[ -n "$PID" ]] && kill "$PID" 2>/dev/null || true
    wait 2>/dev/null || true
    [[ -n "$D" ]] && rm -rf "$D"
}
trap cleanup EXIT

echo "n	sort	seconds (3 requests)	items"
for N in "${SIZES[@]}"; do
    D=$(mktemp -d /tmp/thing-sorts.XXXXXX)
    "$BIN" admin --data-dir "$D/data" org create bench >/dev/null 2>&1
    C=$("$BIN" admin --data-dir "$D/data" client create --org bench --scopes thing)
    ID=$(jq -r .client_id <<<"$C")
    SECRET=$(jq -r .client_secret <<<"$C")
    "$BIN" serve --data-dir "$D/data" --http 127.0.0.1:0 --device-tcp 127.0.0.1:0 \
        --ready-file "$D/ready" >"$D/log" 2>&1 &
    PID=$!
    for _ in $(seq 200); do [[ -s "$D/ready" ]] && break; sleep 0.1; done
    H=$(jq -r .http "$D/ready")
    python3 -c "
import json, random
random.seed(7)
for i in range($N):
    print(json.dumps({'title': 't%06d' % random.randint(0, 999999),
                      'properties': {'temperature': {'type': 'number', 'maximum': random.randint(0, 1000)}}}))" >"$D/things.jsonl"
    "$BIN" things import "$D/things.jsonl" --url "http://$H" --space bench --client-id "$ID" \
        --client-secret "$SECRET" --concurrency 8 >/dev/null 2>&1
    TOKEN=$(curl -sf -d "grant_type=client_credentials&client_id=$ID&client_secret=$SECRET" \
        "http://$H/oauth2/token" | jq -r .access_token)
    for sort in created title -properties.temperature.maximum; do
        times=()
        for _ in 1 2 3; do
            times+=("$(curl -s -o "$D/out.json" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
                "http://$H/spaces/bench/things?sort=$sort&limit=50")")
        done
        echo "$N	$sort	${times[*]}	$(jq '.data | length' "$D/out.json" 2>/dev/null || echo error)"
    done
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
    rm -rf "$D"
    D=
done
