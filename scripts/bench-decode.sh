#!/usr/bin/env bash
# Decoding speed, side by side on one file: SocketLab's `capture read --quiet` (Packets over
# libpcap), a C libpcap walker that decodes the same headers and checksums (bench/pcapwalk.c),
# and `tcpdump -nn -r FILE > /dev/null`. The file is about 1,000,000 frames of real loopback
# TCP (100,000 short connections: handshake, request, reply, teardown), made once in a fresh
# network namespace and cached in bench/out/. Median of RUNS runs each, unpinned and pinned.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
RUNS=${RUNS:-5}
source scripts/bench-pcap.sh
cc -O2 -o bench/out/pcapwalk bench/pcapwalk.c -lpcap
swift build -c release --product capture 2>&1 | grep -E "error:" || true
capture="$(swift build -c release --show-bin-path)/capture"
frames=$("$capture" read --quiet "$pcap" | grep -oE "^[0-9]+")
size=$(du -m "$pcap" | cut -f1)

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() {  # seconds PIN COMMAND… → wall seconds of one run
  local pin=$1; shift
  local prefix=()
  [[ $pin == pinned ]] && prefix=(taskset -c 0)
  local start end
  start=$(date +%s.%N)
  "${prefix[@]}" "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f", b - a}'
}

out=bench/out/decode.txt
{
  echo "Decoding $frames frames ($size MB, real loopback TCP) — $(date -u +%F), $(nproc) CPUs, median of $RUNS runs"
  echo "  SocketLab and the C walker agree: $("$capture" read --quiet "$pcap")"
  echo "                                     $(bench/out/pcapwalk "$pcap")"
  printf '%-9s %12s %12s %12s %10s %10s\n' placement "C walker" SocketLab tcpdump "vs C" "vs tcpdump"
  for pin in unpinned pinned; do
    c=() s=() t=()
    for _ in $(seq "$RUNS"); do
      c+=("$(seconds $pin bench/out/pcapwalk "$pcap")")
      s+=("$(seconds $pin "$capture" read --quiet "$pcap")")
      t+=("$(seconds $pin tcpdump -nn -r "$pcap")")
    done
    cm=$(printf '%s\n' "${c[@]}" | median) sm=$(printf '%s\n' "${s[@]}" | median) tm=$(printf '%s\n' "${t[@]}" | median)
    printf '%-9s %11.3fs %11.3fs %11.3fs %9.2fx %9.2fx\n' "$pin" "$cm" "$sm" "$tm" \
      "$(awk -v s="$sm" -v c="$cm" 'BEGIN {print s / c}')" "$(awk -v s="$sm" -v t="$tm" 'BEGIN {print s / t}')"
  done
  echo "frames/s (unpinned median): SocketLab $(awk -v f="$frames" -v s="$sm" 'BEGIN {printf "%.0f", f / s}')"
  echo "vs C = SocketLab time / C time (target ≤ 1.5); vs tcpdump = SocketLab time / tcpdump time (target < 1)."
} | tee "$out"
