#!/usr/bin/env bash
# The inspector's page for a long capture: 100,000 packets (50,000 request/response pairs on
# one loopback connection), how long `inspector read --html` takes, how large the page is, and
# how long headless Chromium takes to load it beside a page of one handshake (Chromium's own
# start), median of RUNS. Target: the page opens in under 2 s. Results: bench/out/pictures.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
RUNS=${RUNS:-3}
mkdir -p bench/out
swift build -c release --product inspector 2>&1 | grep -E "error:" || true
inspector="$(swift build -c release --show-bin-path)/inspector"
command -v chromium > /dev/null || { echo "bench-pictures: chromium is not installed (scripts/setup.sh test)"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
tcpdump -i lo -w "$dir/big.pcap" --immediate-mode -U -B 65536 "tcp port $port" > /dev/null 2>&1 & dump=$!
sleep 1
python3 - "$port" <<'PY'
import socket, sys, threading
port = int(sys.argv[1])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", port)); l.listen()
def serve():
    c, _ = l.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        d = c.recv(100)
        if not d: break
        c.send(d[:10])
    c.close()
t = threading.Thread(target=serve); t.start()
s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for _ in range(50000):
    s.send(b"x" * 100); s.recv(10)
s.close(); t.join()
PY
sleep 1; kill $dump; wait $dump 2>/dev/null || true
packets=$(capinfos -c -M "$dir/big.pcap" | awk '/Number of packets/ {print $NF}')
"$inspector" read "$dir/big.pcap" -c 20 --html "$dir/small.html" 2> /dev/null
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
d=() b=() s=()
for _ in $(seq "$RUNS"); do
  d+=("$(seconds "$inspector" read "$dir/big.pcap" --html "$dir/big.html")")
  b+=("$(seconds chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$dir/big.html")")
  s+=("$(seconds chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$dir/small.html")")
done
dm=$(printf '%s\n' "${d[@]}" | median) bm=$(printf '%s\n' "${b[@]}" | median) sm=$(printf '%s\n' "${s[@]}" | median)
{
  echo "inspector pictures — $(date -u +%F), $(nproc) CPUs, median of $RUNS"
  echo "capture: $packets packets; page: $(stat -c %s "$dir/big.html") bytes"
  echo "inspector read --html: ${dm} s"
  echo "headless Chromium, the page: ${bm} s; a one-handshake page: ${sm} s; the page's own share: $(awk -v b="$bm" -v s="$sm" 'BEGIN {printf "%.2f", b - s}') s (target < 2 s)"
} | tee bench/out/pictures.txt
