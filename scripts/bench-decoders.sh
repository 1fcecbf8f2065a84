#!/usr/bin/env bash
# What each link layer and file form costs the decoder, in instructions a frame (callgrind):
# the benchmark capture's first 20,000 frames rewritten into each encapsulation by
# bench/encapsulate.py (the IP packets stay the same), read by `capture read --quiet`
# (decoding with checksums), and the difference between 20,000 frames and the same three
# times — so the process's start-up drops out. Results: bench/out/decoders.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
source scripts/bench-pcap.sh
command -v valgrind > /dev/null || { echo "bench-decoders: valgrind is not installed (apt-get install valgrind)"; exit 1; }
swift build -c release --product capture 2>&1 | grep -E "error:" || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A stripped copy: valgrind 3.19 gives up on the debug information Swift 6.3 writes
# ("possibly corrupted debuginfo file"); the instruction count needs no symbols.
strip -o "$work/capture" "$(swift build -c release --show-bin-path)/capture"
capture=$work/capture
editcap -F pcap -r "$pcap" "$work/one.pcap" 1-20000
python3 bench/encapsulate.py "$work/one.pcap" "$work/three.pcap" repeat3
instructions() {  # instructions FILE → the instructions callgrind counted for the whole run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$capture" read --quiet "$1" 2>&1 >/dev/null | grep -oE "Collected : [0-9]+" | grep -oE "[0-9]+"
}
per_frame() {  # per_frame KIND → instructions per frame
  local one=$work/one.pcap three=$work/three.pcap
  if [[ $1 != ethernet ]]; then
    python3 bench/encapsulate.py "$work/one.pcap" "$work/one-$1" "$1"
    python3 bench/encapsulate.py "$work/three.pcap" "$work/three-$1" "$1"
    one=$work/one-$1 three=$work/three-$1
  fi
  local a b
  a=$(instructions "$one") b=$(instructions "$three")
  echo $(( (b - a) / 40000 ))
}
out=bench/out/decoders.txt
{
  echo "Instructions per frame, capture read --quiet (callgrind; 60,000 minus 20,000 frames) — $(date -u +%F)"
  base=$(per_frame ethernet)
  printf '  %-46s %6d\n' "Ethernet, IPv4/IPv6, TCP (the benchmark's frames)" "$base"
  for kind in big-endian gzip ppp-ether juniper juniper-nol2 ipoib chdlc-mpls ppp-mpls; do
    n=$(per_frame "$kind")
    printf '  %-46s %6d  (%+d)\n' "$kind" "$n" "$((n - base))"
  done
} | tee "$out"
