#!/usr/bin/env bash
# Multi-host test: the server in one Linux network namespace, two "hosts" of clients in two
# others, joined by veth pairs with addresses of this test's own. CURVE is on (the server
# binds 0.0.0.0, which it refuses to do without it). Checks that the run completes, that
# the server saw both hosts' addresses, that the bytes crossed the veth links, and that
# every checkpoint verifies.
#
# Usage: IntegrationTests/multihost.sh [BIN_DIR]   (root; needs iproute2 and the dataset)
set -euo pipefail

bin=$(realpath "${1:-.build/release}")
for tool in sextant sextant-server sextant-client; do
    [[ -x "$bin/$tool" ]] || { echo "multihost: $bin/$tool not found: build with swift build -c release" >&2; exit 1; }
done
if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null; then
    echo "multihost: SKIPPED: needs root and iproute2 (ip netns)" >&2
    exit 0
fi

tag="sx$$"
server_ns="$tag-server"
host_a="$tag-a"
host_b="$tag-b"
work=$(mktemp -d /tmp/sextant-multihost.XXXXXX)

cleanup() {
    local status=$?
    for ns in "$server_ns" "$host_a" "$host_b"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    if [[ $status -ne 0 ]]; then
        echo "multihost: FAILED; logs in $work" >&2
        tail -n 30 "$work"/server.log "$work"/logs-*/client-*.log 2>/dev/null >&2 || true
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

if ! ip netns add "$server_ns" 2>/dev/null; then
    echo "multihost: SKIPPED: cannot create network namespaces here (no CAP_SYS_ADMIN?)" >&2
    trap - EXIT
    rm -rf "$work"
    exit 0
fi
ip netns add "$host_a"
ip netns add "$host_b"
# One point-to-point link per client host: 10.77.1.0/24 to host a, 10.77.2.0/24 to host b.
link() {
    local ns=$1 subnet=$2
    ip link add "$tag-s$subnet" type veth peer name "$tag-c$subnet"
    ip link set "$tag-s$subnet" netns "$server_ns"
    ip link set "$tag-c$subnet" netns "$ns"
    ip -n "$server_ns" addr add "10.77.$subnet.1/24" dev "$tag-s$subnet"
    ip -n "$ns" addr add "10.77.$subnet.2/24" dev "$tag-c$subnet"
    ip -n "$server_ns" link set "$tag-s$subnet" up
    ip -n "$ns" link set "$tag-c$subnet" up
    ip -n "$ns" link set lo up
}
ip -n "$server_ns" link set lo up
link "$host_a" 1
link "$host_b" 2

cd "$work"
"$bin/sextant" keygen --out keys server client-0 client-1 client-2 client-3 >/dev/null
cat keys/client-*.pub > keys/allowed_clients
cat > federation.yaml <<YAML
run: {name: multihost, seed: 3}
model: logreg
data: {dataset: fashion-mnist, training_limit: 8000, evaluation_limit: 2000}
training: {learning_rate: 0.05, batch_size: 32}
scheduler: {kind: compass, min_clients: 4, min_local_steps: 10, max_local_steps: 40}
stop: {max_versions: 12}
server: {bind: "tcp://0.0.0.0:7070", database: checkpoints.sqlite, client_timeout: 30}
clients: {count: 4, mean_time_per_step: 0.01, speed_distribution: normal}
security:
  server_secret_key: keys/server.key
  allowed_clients: keys/allowed_clients
  server_public_key: keys/server.pub
  client_key: keys/client-{index}.key
YAML

ip netns exec "$server_ns" "$bin/sextant-server" --config federation.yaml >server.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do grep -q "] serving" server.log && break; sleep 0.2; done
grep -q "security=CURVE" server.log || { echo "multihost: the server is not serving with CURVE" >&2; exit 1; }

# Host a runs clients 0 and 1, host b clients 2 and 3, each reaching the server over its own link.
ip netns exec "$host_a" "$bin/sextant" launch --config federation.yaml --clients-only \
    --server tcp://10.77.1.1:7070 --first-index 0 --clients 2 --logs logs-a >launch-a.log 2>&1 &
launch_a=$!
ip netns exec "$host_b" "$bin/sextant" launch --config federation.yaml --clients-only \
    --server tcp://10.77.2.1:7070 --first-index 2 --clients 2 --logs logs-b >launch-b.log 2>&1 &
launch_b=$!

# A host with no route to the server must not reach it: the namespaces are really apart.
if ip netns exec "$host_a" bash -c 'exec 3<>/dev/tcp/10.77.2.1/7070' 2>/dev/null; then
    echo "multihost: host a reached host b's link: the namespaces are not isolated" >&2
    exit 1
fi

wait "$server_pid" || { echo "multihost: the server failed" >&2; exit 1; }
wait "$launch_a" || { echo "multihost: a client on host a failed" >&2; exit 1; }
wait "$launch_b" || { echo "multihost: a client on host b failed" >&2; exit 1; }

grep -q "completed at version 12" server.log || { echo "multihost: the run did not complete" >&2; exit 1; }
for peer in 10.77.1.2 10.77.2.2; do
    grep "client joined" server.log | grep -q "peer=$peer" ||
        { echo "multihost: no client joined from $peer" >&2; exit 1; }
done
# Models and deltas crossed both links: at least 8 logreg vectors (31 KB each) each way.
for subnet in 1 2; do
    sent=$(ip netns exec "$server_ns" cat "/sys/class/net/$tag-s$subnet/statistics/tx_bytes")
    received=$(ip netns exec "$server_ns" cat "/sys/class/net/$tag-s$subnet/statistics/rx_bytes")
    echo "multihost: link $subnet carried $sent bytes to and $received bytes from its host"
    (( sent > 251200 && received > 251200 )) || { echo "multihost: too little traffic on link $subnet" >&2; exit 1; }
done
"$bin/sextant" checkpoints verify checkpoints.sqlite >verify.log
echo "multihost: passed: $(grep 'completed at' server.log | tail -n 1)"
