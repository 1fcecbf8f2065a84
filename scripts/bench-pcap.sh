#!/usr/bin/env bash
# The benchmark capture the decode and inspector benchmarks share: about 1,000,000 frames of
# real loopback TCP (CONNECTIONS short connections: handshake, request, reply, teardown), made
# once in a fresh network namespace and cached in bench/out/. Sourced: sets $pcap.
mkdir -p bench/out
pcap=bench/out/loopback-${CONNECTIONS:-100000}.pcap
cc -O2 -pthread -o bench/out/trafficgen bench/trafficgen.c
if [[ ! -s $pcap ]]; then
  echo "bench: generating $pcap (${CONNECTIONS:-100000} connections; once, then cached)"
  [[ $(id -u) == 0 ]] || { echo "bench: making the capture needs root (a network namespace and tcpdump)"; exit 3; }
  # A fresh namespace: no other traffic on its loopback, and no TIME_WAIT from earlier runs.
  unshare -n bash -c '
    ip link set lo up
    tcpdump -i lo -B 524288 -w "$1.tmp" 2>"$1.log" & dump=$!
    for _ in $(seq 100); do grep -q "listening on" "$1.log" 2>/dev/null && break; sleep 0.05; done
    bench/out/trafficgen "$2"
    sleep 1.5; kill -INT $dump; wait $dump' _ "$pcap" "${CONNECTIONS:-100000}"
  grep -E "captured|dropped" "$pcap.log" | sed 's/^/bench: tcpdump: /'
  mv "$pcap.tmp" "$pcap"
fi
