#!/usr/bin/env bash
# socks-proxy beside microsocks (a small C SOCKS5 proxy, Debian's package) on loopback, side by
# side in one run, with the same Python load for both (bench/socksload.py):
#   - throughput: 2 GB through one CONNECT (target: ≥ 90% of microsocks', ≥ half of direct);
#   - memory: RSS with 1,000 relayed connections held open, per connection;
#   - set-up rate: 2,000 connections opened, CONNECTed and closed one after another.
# Median of RUNS runs. Results: bench/out/socks.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
RUNS=${RUNS:-3}
BYTES=${BYTES:-2000000000}
mkdir -p bench/out
swift build -c release --product socks-proxy 2>&1 | grep -E "error:" || true
ours="$(swift build -c release --show-bin-path)/socks-proxy"
command -v microsocks > /dev/null || { echo "bench-socks: microsocks is not installed (scripts/setup.sh bench)"; exit 1; }
ulimit -n 8192
port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
p1=$(port) p2=$(port)
"$ours" --port "$p1" --max-clients 2000 > /dev/null 2>&1 & ours_pid=$!
microsocks -i 127.0.0.1 -p "$p2" > /dev/null 2>&1 & micro_pid=$!
trap 'kill $ours_pid $micro_pid 2>/dev/null' EXIT
sleep 1
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
held() {  # held PID PORT → KiB per connection with 1,000 held
  local before after
  before=$(rss "$1")
  (sleep 6 | python3 bench/socksload.py hold "$2" 1000 > /dev/null 2>&1 &)
  sleep 4
  after=$(rss "$1")
  sleep 3
  awk -v a="$before" -v b="$after" 'BEGIN {printf "%.1f", (b - a) / 1000}'
}
out=bench/out/socks.txt
{
  echo "SOCKS5 proxies on loopback — $(date -u +%F), $(nproc) CPUs, median of $RUNS runs, $BYTES bytes each"
  o=() m=() d=()
  for _ in $(seq "$RUNS"); do
    o+=("$(python3 bench/socksload.py throughput "$p1" "$BYTES")")
    m+=("$(python3 bench/socksload.py throughput "$p2" "$BYTES")")
    d+=("$(python3 bench/socksload.py direct "$BYTES")")
  done
  om=$(printf '%s\n' "${o[@]}" | median) mm=$(printf '%s\n' "${m[@]}" | median) dm=$(printf '%s\n' "${d[@]}" | median)
  rate() { awk -v b="$BYTES" -v s="$1" 'BEGIN {printf "%.2f GB/s", b / s / 1e9}'; }
  printf '%-34s %8.3f s  %s\n' "socks-proxy" "$om" "$(rate "$om")"
  printf '%-34s %8.3f s  %s\n' "microsocks" "$mm" "$(rate "$mm")"
  printf '%-34s %8.3f s  %s\n' "direct (no proxy)" "$dm" "$(rate "$dm")"
  echo "  socks-proxy vs microsocks: $(awk -v a="$mm" -v b="$om" 'BEGIN {printf "%.2fx", a / b}') (target ≥ 0.90); vs direct: $(awk -v a="$dm" -v b="$om" 'BEGIN {printf "%.2f", a / b}') (target ≥ 0.50)"
  echo "RSS per held connection (1,000 at once): socks-proxy $(held $ours_pid "$p1") KiB, microsocks $(held $micro_pid "$p2") KiB"
  so=$(python3 bench/socksload.py setup "$p1" 2000) sm=$(python3 bench/socksload.py setup "$p2" 2000)
  echo "Set-up, 2,000 connections in a row: socks-proxy $(awk -v s="$so" 'BEGIN {printf "%.0f", 2000 / s}')/s, microsocks $(awk -v s="$sm" 'BEGIN {printf "%.0f", 2000 / s}')/s"
} | tee "$out"
