#!/usr/bin/env bash
# ipc-compare beside bench/ipcbench.c (the same workload in C, fork() and libc), one mechanism
# at a time, C and Swift alternating, unpinned and pinned (parent on CPU 0, child on CPU 1):
# 1-byte round-trip median and p99, 100-byte median, throughput at 4 KiB and 64 KiB. Target:
# Swift within 10% of C. Then whether the lab's order (pipes and socketpairs ahead of Unix
# sockets ahead of TCP loopback, 1-byte median) held for each. Results: bench/out/ipc.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
TRIPS=${TRIPS:-5000} WARMUP=${WARMUP:-500} SCALE=${SCALE:-0.25} RUNS=${RUNS:-5}
mkdir -p bench/out
gcc -O2 -o bench/out/ipcbench bench/ipcbench.c
swift build -c release --product ipc-compare 2>&1 | grep -E "error:" || true
ours="$(swift build -c release --show-bin-path)/ipc-compare"
mechanisms=(pipe fifo socketpair-stream socketpair-dgram socketpair-seqpacket unix-stream unix-dgram
            unix-stream-abstract unix-dgram-abstract tcp4 tcp6 udp4 udp6)
cpus=$(nproc)
out=bench/out/ipc.txt
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
swift_line() {  # MECH [--pin] → the same fields as ipcbench prints
  "$ours" --only "$1" --round-trips "$TRIPS" --warmup "$WARMUP" --repetitions 3 --scale "$SCALE" --verify-megabytes 0 --json "${@:2}" |
    python3 -c 'import json,sys; m=json.load(sys.stdin)["mechanisms"][0]; t=m["throughput_bytes_per_s"]
print(m["name"], m["latency_us"]["p50"], m["latency_us"]["p99"], m["latency_100b_us"]["p50"], *[t[k] or 0 for k in ("100","4096","65536","1048576")])'
}
{
  echo "ipc-compare beside C (bench/ipcbench.c) — $(date -u +%F), $cpus CPUs, $TRIPS round trips after $WARMUP, throughput scale $SCALE, median of $RUNS runs each, alternating"
  echo "ratios are Swift ÷ C: latency under 1.10 and throughput over 0.90 meet the target"
  for pin in unpinned pinned; do
    cargs=() sargs=()
    if [[ $pin == pinned ]]; then
      if ((cpus > 1)); then cargs=(0 1) sargs=(--pin --cpus 0,1); else cargs=(0 0) sargs=(--pin --cpus 0,0); fi
    fi
    echo
    echo "== $pin"
    printf '%-22s %9s %9s %7s %9s %9s %7s %11s %11s %7s %11s %11s %7s\n' mechanism "C 1B p50" "Swift" ratio "C 100B" Swift ratio "C 4KiB" Swift ratio "C 64KiB" Swift ratio
    for m in "${mechanisms[@]}"; do
      # RUNS runs of each, C and Swift alternating; the medians are compared.
      c1=() s1=() c100=() s100=() c4k=() s4k=() c64k=() s64k=()
      for _ in $(seq "$RUNS"); do
        read -r _ a _ b _ c d _ < <(bench/out/ipcbench "$m" "$TRIPS" "$WARMUP" "$SCALE" "${cargs[@]}")
        c1+=("$a") c100+=("$b") c4k+=("$c") c64k+=("$d")
        read -r _ a _ b _ c d _ < <(swift_line "$m" "${sargs[@]}")
        s1+=("$a") s100+=("$b") s4k+=("$c") s64k+=("$d")
      done
      awk -v m="$m" -v c1="$(median "${c1[@]}")" -v s1="$(median "${s1[@]}")" -v c100="$(median "${c100[@]}")" -v s100="$(median "${s100[@]}")" \
          -v c4="$(median "${c4k[@]}")" -v s4="$(median "${s4k[@]}")" -v c64="$(median "${c64k[@]}")" -v s64="$(median "${s64k[@]}")" 'BEGIN {
        printf "%-22s %9.1f %9.1f %7.2f %9.1f %9.1f %7.2f %11.0f %11.0f %7s %11.0f %11.0f %7s\n", m, c1, s1, s1 / c1, c100, s100, s100 / c100,
          c4 / 1e6, s4 / 1e6, (c4 > 0 ? sprintf("%.2f", s4 / c4) : "n/a"), c64 / 1e6, s64 / 1e6, (c64 > 0 ? sprintf("%.2f", s64 / c64) : "n/a") }'
    done
  done
  echo
  echo "(throughput columns in MB/s; n/a: the mechanism cannot carry a 64 KiB message whole)"
} | tee "$out"
