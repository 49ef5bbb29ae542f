#!/usr/bin/env bash
# The same pipeline three ways — Torvyn (Wasm component boundary), gRPC on
# localhost, a Unix domain socket — measured in one run, then compared.
#
#   ./bench.sh [ITERATIONS] [PAYLOAD_SIZE]        (defaults: 100000 64)
#
# Prerequisites: a Rust toolchain with the wasm32-wasip2 target
# (`rustup target add wasm32-wasip2`) and jq. No protoc: the gRPC baseline
# parses its .proto with protox (pure Rust). Set TORVYN=/path/to/torvyn to
# use an installed binary; otherwise the repository's is built (release).
set -euo pipefail

ITERATIONS=${1:-100000}
PAYLOAD_SIZE=${2:-64}
WARMUP=1000
TORVYN_DURATION=${TORVYN_DURATION:-5s}
HERE=$(cd "$(dirname "$0")" && pwd)
RESULTS="$HERE/results"

command -v jq >/dev/null || { echo "bench.sh needs jq (apt-get install jq)" >&2; exit 2; }
mkdir -p "$RESULTS"

if [ -z "${TORVYN:-}" ]; then
    echo "--- building torvyn (release) ---" >&2
    cargo build --release -q -p torvyn-cli --manifest-path "$HERE/../../Cargo.toml"
    TORVYN="$HERE/../../target/release/torvyn"
fi
echo "--- building the guests and the baselines (release) ---" >&2
(cd "$HERE/torvyn" && cargo build -q --release --target wasm32-wasip2)
(cd "$HERE" && cargo build -q --release)

echo "=== Torvyn benchmark comparison ==="
echo "Iterations: $ITERATIONS | Payload: ${PAYLOAD_SIZE}B | Warmup: $WARMUP messages (Torvyn: 1s)"
echo

# 1. Torvyn: the flow runs 100,000-message passes back to back for
#    $TORVYN_DURATION after a 1 s warmup (torvyn bench restarts a flow
#    whose source ran out).
echo "--- Torvyn (Wasm component boundary) ---"
(cd "$HERE/torvyn" && "$TORVYN" bench flow.main \
    --duration "$TORVYN_DURATION" --warmup 1s \
    --input "{\"count\": $ITERATIONS, \"payload_size\": $PAYLOAD_SIZE}" \
    --report-format json --report "$RESULTS/torvyn.json" 2>/dev/null)

# 1b. Torvyn with the batch forms of the same three components
#     (torvyn:batching): many elements per component call.
echo "--- Torvyn batch (Wasm component boundary, batch calls) ---"
(cd "$HERE/torvyn" && "$TORVYN" bench flow.batch \
    --duration "$TORVYN_DURATION" --warmup 1s \
    --input "{\"count\": $ITERATIONS, \"payload_size\": $PAYLOAD_SIZE}" \
    --report-format json --report "$RESULTS/torvyn-batch.json" 2>/dev/null)

# 1c. The same flow with `replicas = 2` (flow.replicas): two copies on two
#     worker arbiters, throughput added up (each replica emits its own
#     messages). Its ratio to row 1 is what the second core buys.
echo "--- Torvyn replicas (flow.replicas, replicas = 2) ---"
(cd "$HERE/torvyn" && "$TORVYN" bench flow.replicas \
    --duration "$TORVYN_DURATION" --warmup 1s \
    --input "{\"count\": $ITERATIONS, \"payload_size\": $PAYLOAD_SIZE}" \
    --report-format json --report "$RESULTS/torvyn-replicas.json" 2>/dev/null)

# 1d. Both: the batch forms with `replicas = 2` (flow.batch_replicas).
echo "--- Torvyn batch + replicas (flow.batch_replicas, replicas = 2) ---"
(cd "$HERE/torvyn" && "$TORVYN" bench flow.batch_replicas \
    --duration "$TORVYN_DURATION" --warmup 1s \
    --input "{\"count\": $ITERATIONS, \"payload_size\": $PAYLOAD_SIZE}" \
    --report-format json --report "$RESULTS/torvyn-batch-replicas.json" 2>/dev/null)

# 2-3. The baselines: one message in flight (a synchronous call chain, as
#      a Torvyn flow moves one element at a time), then 64 (pipelined,
#      like the flow's queue depth).
for window in 1 64; do
    echo "--- gRPC localhost (window $window) ---"
    "$HERE/target/release/grpc-baseline" --iterations "$ITERATIONS" \
        --payload-size "$PAYLOAD_SIZE" --warmup "$WARMUP" --window "$window" \
        --output json > "$RESULTS/grpc-w$window.json"
    echo "--- Unix domain socket (window $window) ---"
    "$HERE/target/release/unix-socket-baseline" --iterations "$ITERATIONS" \
        --payload-size "$PAYLOAD_SIZE" --warmup "$WARMUP" --window "$window" \
        --output json > "$RESULTS/unix-socket-w$window.json"
done

echo
echo "=== Comparison Report ==="
echo
printf "%-25s %10s %10s %14s %12s\n" "Method" "p50 (us)" "p99 (us)" "Throughput/s" "Copies/elem"
printf "%-25s %10s %10s %14s %12s\n" "------" "--------" "--------" "------------" "-----------"
row() {
    local name=$1 file=$2
    printf "%-25s %10s %10s %14s %12s\n" "$name" \
        "$(jq -r '.latency_p50_us' "$file")" \
        "$(jq -r '.latency_p99_us' "$file")" \
        "$(jq -r '.throughput_eps | floor' "$file")" \
        "$(jq -r '.copies_per_element // "N/A"' "$file")"
}
row "torvyn" "$RESULTS/torvyn.json"
row "torvyn batch" "$RESULTS/torvyn-batch.json"
row "torvyn replicas (2)" "$RESULTS/torvyn-replicas.json"
row "torvyn batch+replicas (2)" "$RESULTS/torvyn-batch-replicas.json"
for window in 1 64; do
    row "grpc (window $window)" "$RESULTS/grpc-w$window.json"
    row "unix-socket (window $window)" "$RESULTS/unix-socket-w$window.json"
done

echo
for torvyn in torvyn torvyn-batch torvyn-replicas torvyn-batch-replicas; do
    echo "$torvyn ÷ baseline (throughput ratio, p50 ratio = baseline p50 ÷ Torvyn p50):"
    t_eps=$(jq '.throughput_eps' "$RESULTS/$torvyn.json")
    t_p50=$(jq '.latency_p50_us' "$RESULTS/$torvyn.json")
    for f in grpc-w1 unix-socket-w1 grpc-w64 unix-socket-w64; do
        jq -r --argjson eps "$t_eps" --argjson p50 "$t_p50" \
            '"  \(.method): throughput \(($eps / .throughput_eps * 100 | round) / 100)x, p50 \((.latency_p50_us / $p50 * 100 | round) / 100)x lower"' \
            "$RESULTS/$f.json"
    done
done
t_eps=$(jq '.throughput_eps' "$RESULTS/torvyn.json")
jq -r --argjson eps "$t_eps" \
    '"  torvyn replicas (2): throughput \((.throughput_eps / $eps * 100 | round) / 100)x flow.main (\(.copies_per_element) copies per element)"' \
    "$RESULTS/torvyn-replicas.json"
echo
echo "Full results in results/"
echo "Hardware: $(uname -m), $(nproc) CPUs | OS: $(uname -s) $(uname -r) | Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
