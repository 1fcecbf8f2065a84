#!/usr/bin/env bash
# The lab tools beside their references, side by side in one run (bench/out/labtools.txt):
#   - raw-ping's round-trip times on loopback beside iputils ping, same count and interval,
#     alternating (target: medians within 10 µs);
#   - udp-vs-tcp's TCP and UDP throughput on loopback beside iperf3's (the ratio).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
COUNT=${COUNT:-200}
RUNS=${RUNS:-3}
swift build -c release --product raw-ping 2>&1 | grep -E "error:" || true
swift build -c release --product udp-vs-tcp 2>&1 | grep -E "error:" || true
bin=$(swift build -c release --show-bin-path)
mkdir -p bench/out

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

out=bench/out/labtools.txt
{
  echo "Lab tools beside their references — $(date -u +%F), $(nproc) CPUs"
  if [[ $(id -u) == 0 ]]; then
    ours=() theirs=()
    for _ in $(seq "$RUNS"); do
      ours+=("$("$bin/raw-ping" -c "$COUNT" -i 0.01 --json 127.0.0.1 | python3 -c '
import json, sys, statistics
print(statistics.median(o["time_us"] for o in map(json.loads, sys.stdin) if o["kind"] == "reply"))')")
      theirs+=("$(ping -c "$COUNT" -i 0.01 127.0.0.1 | grep -oE 'time=[0-9.]+' | cut -d= -f2 | awk '{print $1 * 1000}' | median)")
    done
    r=$(printf '%s\n' "${ours[@]}" | median) p=$(printf '%s\n' "${theirs[@]}" | median)
    echo "raw-ping vs ping, 127.0.0.1, $COUNT requests at 10 ms, median of per-run medians ($RUNS runs each, alternating):"
    echo "  raw-ping ${r} µs, ping ${p} µs: difference $(awk -v a="$r" -v b="$p" 'BEGIN {printf "%+.1f", a - b}') µs (target within ±10)"
  else
    echo "raw-ping vs ping: skipped (raw sockets need root)"
  fi
  json=$("$bin/udp-vs-tcp" --json --megabytes 500 --messages 200 --round-trips 100)
  tcp=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["tcp"]["throughput_bps"] / 1e9)' "$json")
  udp=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1])["udp"]; print(r["throughput_bps"] / 1e9, r["throughput_loss_percent"])' "$json")
  port=$((30000 + RANDOM % 20000))
  iperf3 -s -p "$port" -D -1 > /dev/null 2>&1; sleep 0.5
  itcp=$(iperf3 -c 127.0.0.1 -p "$port" -t 3 -J 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)')
  iperf3 -s -p "$port" -D -1 > /dev/null 2>&1; sleep 0.5
  iudp=$(iperf3 -c 127.0.0.1 -p "$port" -u -b 0 -l 1400 -t 3 -J 2>/dev/null | python3 -c 'import json,sys; s=json.load(sys.stdin)["end"]["sum"]; print(s["bits_per_second"] * (1 - s["lost_percent"] / 100) / 1e9, s["lost_percent"])')
  read -r udpg udploss <<<"$udp"
  read -r iudpg iudploss <<<"$iudp"
  echo "Throughput on loopback (Gbit/s): udp-vs-tcp beside iperf3"
  printf '  TCP  udp-vs-tcp %6.2f   iperf3 %6.2f   ratio %.2f\n' "$tcp" "$itcp" "$(awk -v a="$tcp" -v b="$itcp" 'BEGIN {print a / b}')"
  printf '  UDP  udp-vs-tcp %6.2f   iperf3 %6.2f   ratio %.2f   (delivered; lost: %.1f%% and %.1f%%; 1400-byte datagrams)\n' \
    "$udpg" "$iudpg" "$(awk -v a="$udpg" -v b="$iudpg" 'BEGIN {print a / b}')" "$udploss" "$iudploss"
} | tee "$out"
