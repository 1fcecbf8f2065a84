#!/usr/bin/env bash
# `make bench`: SocketCore beside a C program doing the same work, side by side in one run,
# unpinned and pinned to one CPU (loopback figures swing 2–3x with CPU placement on 2 cores).
# Each figure is the median of RUNS alternating runs. Results: bench/out/socketcore.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh bench

RUNS=${RUNS:-5}
BYTES=${BYTES:-4000000000}
ROUNDS=${ROUNDS:-100000}
CONNECTIONS=${CONNECTIONS:-10000}

mkdir -p bench/out
cc -O2 -pthread -o bench/out/sockbench bench/sockbench.c
swift build -c release --product socketcore-bench 2>&1 | grep -E "error|warning:" || true
swift_bin="$(swift build -c release --show-bin-path)/socketcore-bench"
c_bin=bench/out/sockbench

# A fresh network namespace per connect run (as root), so TIME_WAIT from one run does not
# slow the next; elsewhere, plain loopback.
isolate() {
  if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null; then
    unshare -n bash -c 'ip link set lo up && "$@"' _ "$@"
  else
    "$@"
  fi
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

measure() {  # measure PIN MODE N BIN → one number
  local pin=$1 mode=$2 n=$3 bin=$4 prefix=()
  [[ $pin == pinned ]] && prefix=(taskset -c 0)
  isolate "${prefix[@]}" "$bin" "$mode" "$n" | awk '{print $2}'
}

out=bench/out/socketcore.txt
{
  echo "SocketCore vs C on loopback — $(date -u +%F), $(nproc) CPUs, median of $RUNS runs"
  printf '%-11s %-9s %14s %14s %8s  %s\n' mode placement C SocketCore ratio unit
  for pin in unpinned pinned; do
    for spec in "throughput $BYTES Gbit/s" "pingpong $ROUNDS round-trips/s" "connect $CONNECTIONS connections/s"; do
      read -r mode n unit <<<"$spec"
      c_values=() s_values=()
      for _ in $(seq "$RUNS"); do
        c_values+=("$(measure "$pin" "$mode" "$n" "$c_bin")")
        s_values+=("$(measure "$pin" "$mode" "$n" "$swift_bin")")
      done
      c=$(printf '%s\n' "${c_values[@]}" | median)
      s=$(printf '%s\n' "${s_values[@]}" | median)
      ratio=$(awk -v s="$s" -v c="$c" 'BEGIN {printf "%.3f", s / c}')
      printf '%-11s %-9s %14s %14s %8s  %s\n' "$mode" "$pin" "$c" "$s" "$ratio" "$unit"
    done
  done
  if command -v iperf3 >/dev/null; then
    port=$((30000 + RANDOM % 20000))
    iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
    sleep 0.5
    gbps=$(iperf3 -c 127.0.0.1 -p "$port" -t 3 -J 2>/dev/null | python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))' || echo "n/a")
    wait || true
    echo "iperf3 (reference, unpinned, 3 s): $gbps Gbit/s"
  fi
  echo "ratio = SocketCore / C; 1.000 is parity, above 0.900 is within the 10% target."
} | tee "$out"

# Decoding: Packets beside tcpdump and a C libpcap walker (bench/out/decode.txt); then the
# inspector beside tcpdump and tshark, with its memory and a live storm (bench/out/inspector.txt).
bash scripts/bench-decode.sh
bash scripts/bench-decoders.sh
bash scripts/bench-inspector.sh
bash scripts/bench-labtools.sh
bash scripts/bench-transfer.sh
bash scripts/bench-socks.sh
bash scripts/bench-ipc.sh
bash scripts/bench-pictures.sh
bash scripts/bench-remote.sh
bash scripts/bench-standby.sh
