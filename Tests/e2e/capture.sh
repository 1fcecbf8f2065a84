#!/usr/bin/env bash
# The capture tool end to end: its one-line output beside tcpdump's for the same file, a clean
# stop on Ctrl-C that keeps every frame, and the exit code and advice for each kind of error.
#   Tests/e2e/capture.sh PATH/TO/capture
set -uo pipefail
capture=$1
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT

# Live capture of real traffic (python http.server and curl, ping, a UDP datagram), stopped
# with Ctrl-C (SIGINT) as a student would.
start_http_server "$dir"
"$capture" live -f "tcp port $port or icmp or udp port $((port + 1))" -w "$dir/live.pcap" > "$dir/live.txt" 2> "$dir/live.err" &
live=$!
for _ in $(seq 100); do grep -q "listening on lo" "$dir/live.err" 2>/dev/null && break; sleep 0.05; done
curl -s -o /dev/null "http://127.0.0.1:$port/"
ping -c 2 -i 0.2 127.0.0.1 >/dev/null
echo hello | nc -u -w1 -q0 127.0.0.1 $((port + 1))
sleep 0.3
kill -INT $live; wait $live; code=$?
check "Ctrl-C stops the capture with exit 0" test "$code" = 0
frames=$(grep -oE "^[0-9]+ packets captured" "$dir/live.err" | grep -oE "^[0-9]+")
check "the counters are printed at the end" grep -q "packets dropped by kernel" "$dir/live.err"
check "every frame printed was written to the file ($frames)" bash -c "[[ $frames -ge 15 && \$(wc -l < '$dir/live.txt') == $frames && \$(tcpdump -r '$dir/live.pcap' 2>/dev/null | wc -l) == $frames ]]"
# One line per frame in tcpdump's shape: the same text as `tcpdump -nn -S` (raw sequence
# numbers), except the options tcpdump abbreviates. Compare from the flags on.
"$capture" read "$dir/live.pcap" > "$dir/ours.txt"; code=$?
tcpdump -nn -S -r "$dir/live.pcap" 2>/dev/null > "$dir/tcpdump.txt"
check "read exits 0" test "$code" = 0
check "read prints the same lines as tcpdump -nn -S" diff "$dir/ours.txt" "$dir/tcpdump.txt"
check "read --quiet counts per protocol" grep -qE "^$frames frames: [0-9]+ TCP, 1 UDP, [0-9]+ ICMP" <("$capture" read --quiet "$dir/live.pcap")

# Errors: each with its exit code and a message that says what to do.
setpriv --bounding-set -net_raw,-net_admin "$capture" live -c 1 > /dev/null 2> "$dir/err"; code=$?
check "no capture privilege: exit 3 with sudo and setcap advice" bash -c "[[ $code == 3 ]] && grep -q 'sudo setcap cap_net_raw,cap_net_admin+eip /' '$dir/err'"
"$capture" live -i nosuch0 -c 1 2> "$dir/err"; code=$?
check "unknown interface: exit 2, names it" bash -c "[[ $code == 2 ]] && grep -q 'no interface named nosuch0' '$dir/err'"
"$capture" live -f "tcp prot 80" -c 1 2> "$dir/err"; code=$?
check "bad filter: exit 2 with examples" bash -c "[[ $code == 2 ]] && grep -q 'not valid BPF syntax' '$dir/err'"
size=$(stat -c %s "$dir/live.pcap")
head -c $((size - 10)) "$dir/live.pcap" > "$dir/cut.pcap"
"$capture" read "$dir/cut.pcap" > "$dir/cut.txt" 2> "$dir/err"; code=$?
check "truncated file: every whole frame printed, then exit 2" bash -c "[[ $code == 2 && \$(wc -l < '$dir/cut.txt') == $((frames - 1)) ]] && grep -q 'cut short after $((frames - 1)) whole frames' '$dir/err'"
echo "not a capture" > "$dir/notes.txt"
"$capture" read "$dir/notes.txt" 2> "$dir/err"; code=$?
check "not a capture file: exit 2" bash -c "[[ $code == 2 ]] && grep -q 'cannot read .*notes.txt as a capture' '$dir/err'"
"$capture" live -c 0 2> /dev/null; code=$?
check "--count 0: usage error, exit 2" test "$code" = 2
"$capture" interfaces > "$dir/ifaces"; code=$?
check "interfaces lists lo with 127.0.0.1" bash -c "[[ $code == 0 ]] && grep -A3 '^lo ' '$dir/ifaces' | grep -q 127.0.0.1"
finish
