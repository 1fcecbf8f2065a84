#!/usr/bin/env bash
# The inspector's speed and memory, side by side in one run on the benchmark capture (about
# 1,000,000 frames of short loopback connections, bench/out/):
#   - `inspector read --json` beside `tcpdump -nn -r` and `tshark -T fields` (stream, flags,
#     seq, ack): targets at least tcpdump's speed and 10x tshark's;
#   - `inspector read --summary` (full analysis, no per-packet output): target 2M frames/s;
#   - peak RSS on the first 100,000 frames and on the whole file: target < 64 MiB on both;
#   - `inspector live` annotating a storm of 20,000 loopback connections in text: kernel
#     drops in each of 5 runs, beside tcpdump's own text output on the same storm.
# Median of RUNS runs (tshark: one run, it takes half a minute). Results: bench/out/inspector.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
RUNS=${RUNS:-5}
STORM=${STORM:-20000}
source scripts/bench-pcap.sh
swift build -c release --product inspector 2>&1 | grep -E "error:" || true
inspector="$(swift build -c release --show-bin-path)/inspector"
small=bench/out/first-100k.pcap
[[ -s $small ]] || editcap -r "$pcap" "$small" 1-100000
frames=$(capinfos -c -M "$pcap" | awk '/Number of packets/ {print $NF}')

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() {  # seconds COMMAND… → wall seconds of one run, output thrown away
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f", b - a}'
}
peak_rss_mib() {  # peak resident memory of one run, in MiB (getrusage of the child)
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("%.1f" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))' "$@"
}
rate() { awk -v f="$frames" -v s="$1" 'BEGIN {printf "%.0f", f / s}'; }

# One storm in a fresh network namespace: COMMAND captures lo while trafficgen runs; prints
# the kernel drops the capturer reports on exit.
storm() {
  unshare -n bash -c '
    ip link set lo up
    "$@" > /dev/null 2> /tmp/storm.$$ & capturer=$!
    for _ in $(seq 100); do grep -qE "capturing on|listening on" /tmp/storm.$$ && break; sleep 0.05; done
    bench/out/trafficgen '"$STORM"' > /dev/null
    sleep 1; kill -INT $capturer; wait $capturer
    grep -oE "[0-9]+ (packets )?dropped by kernel" /tmp/storm.$$ | grep -oE "^[0-9]+"
    grep -oE "^[0-9]+ packets captured|[0-9]+ packets received by filter" /tmp/storm.$$ | head -1 | grep -oE "^[0-9]+" >&2
    rm -f /tmp/storm.$$' _ "$@"
}

out=bench/out/inspector.txt
{
  echo "Inspector on $frames frames of real loopback TCP ($(du -m "$pcap" | cut -f1) MB) — $(date -u +%F), $(nproc) CPUs"
  j=() t=() s=()
  for _ in $(seq "$RUNS"); do
    j+=("$(seconds "$inspector" read --json "$pcap")")
    t+=("$(seconds tcpdump -nn -r "$pcap")")
    s+=("$(seconds "$inspector" read --summary "$pcap")")
  done
  jm=$(printf '%s\n' "${j[@]}" | median) tm=$(printf '%s\n' "${t[@]}" | median) sm=$(printf '%s\n' "${s[@]}" | median)
  shark=$(seconds tshark -r "$pcap" -n -T fields -e tcp.stream -e tcp.flags -e tcp.seq -e tcp.ack)
  printf '%-44s %8.2f s %10s frames/s\n' "inspector read --json (median of $RUNS)" "$jm" "$(rate "$jm")"
  printf '%-44s %8.2f s %10s frames/s\n' "tcpdump -nn -r (median of $RUNS)" "$tm" "$(rate "$tm")"
  printf '%-44s %8.2f s %10s frames/s\n' "tshark -T fields stream,flags,seq,ack (1 run)" "$shark" "$(rate "$shark")"
  printf '%-44s %8.2f s %10s frames/s\n' "inspector read --summary (median of $RUNS)" "$sm" "$(rate "$sm")"
  echo "  --json vs tcpdump: $(awk -v a="$tm" -v b="$jm" 'BEGIN {printf "%.2fx", a / b}') as fast (target ≥ 1);" \
       "vs tshark: $(awk -v a="$shark" -v b="$jm" 'BEGIN {printf "%.1fx", a / b}') (target ≥ 10)"
  echo "  --summary: $(rate "$sm") frames/s (target ≥ 2,000,000)"
  echo "Peak RSS (MiB):          --json   --summary"
  printf '  first 100,000 frames  %7s  %9s\n' "$(peak_rss_mib "$inspector" read --json "$small")" "$(peak_rss_mib "$inspector" read --summary "$small")"
  printf '  all %d frames    %7s  %9s   (target < 64 on both)\n' "$frames" "$(peak_rss_mib "$inspector" read --json "$pcap")" "$(peak_rss_mib "$inspector" read --summary "$pcap")"
  if [[ $(id -u) == 0 ]]; then
    echo "Live storm: $STORM loopback connections, text output, default settings; kernel drops per run"
    mine=() theirs=()
    for _ in $(seq 5); do
      mine+=("$(storm "$inspector" live -i lo 2>/dev/null)")
      theirs+=("$(storm tcpdump -i lo -nn 2>/dev/null)")
    done
    echo "  inspector live: ${mine[*]}"
    echo "  tcpdump -nn:    ${theirs[*]}"
  else
    echo "Live storm: skipped (needs root for a network namespace)"
  fi
} | tee "$out"
