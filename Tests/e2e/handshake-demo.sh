#!/usr/bin/env bash
# handshake-demo end to end: the calls, the packets each one causes, the states, the pcap it
# leaves (checked by tshark), the variants, and the run without capture privilege.
#   Tests/e2e/handshake-demo.sh PATH/TO/handshake-demo
set -uo pipefail
demo=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
trap '"$root/scripts/twohosts" down > /dev/null 2>&1; rm -rf "$dir"' EXIT
cd "$dir"

"$demo" --no-color > normal.txt 2>&1; code=$?
check "runs straight through, exit 0" test "$code" = 0
check "SYN, SYN-ACK, ACK drawn as a ladder in that order under connect()" \
  bash -c "sed -n '/^3\. client/,/^4\./p' normal.txt | grep -oE '(SYN,ACK|SYN|ACK) seq' | tr '\n' ' ' | grep -q '^SYN seq SYN,ACK seq ACK seq'"
check "the states move: LISTEN, ESTABLISHED, FIN-WAIT-2 / CLOSE-WAIT, TIME-WAIT" \
  bash -c "grep -q 'server LISTEN' normal.txt && grep -q 'client ESTABLISHED, server ESTABLISHED' normal.txt && grep -q 'client FIN-WAIT-2, server CLOSE-WAIT' normal.txt && grep -q 'client TIME-WAIT' normal.txt"
check "accept() sends nothing" bash -c "sed -n '/^4\. server: accept/,/^5\./p' normal.txt | grep -q '(no packets)'"
check "the pcap is written and Wireshark's engine reads 11 TCP frames from it" \
  bash -c "[[ \$(tshark -r handshake-demo.pcap -Y tcp 2>/dev/null | wc -l) == 11 ]]"
"$demo" --refused --no-color > refused.txt 2>&1
check "--refused: SYN answered by RST, ECONNREFUSED" bash -c "grep -q 'ACK,RST' refused.txt && grep -q ECONNREFUSED refused.txt"
"$demo" --abort --no-color > abort.txt 2>&1
check "--abort: RST instead of FIN, the server's recv() gets ECONNRESET" bash -c "grep -q 'ACK,RST' abort.txt && ! grep -q 'ACK,FIN' abort.txt && grep -q ECONNRESET abort.txt"
"$demo" --half-close --ipv6 --no-color > half.txt 2>&1
check "--half-close --ipv6: data after the FIN, over ::1" bash -c "grep -q 'the client still receives' half.txt && grep -q 'that was a half-close' half.txt && grep -q '::1' half.txt"
"$demo" --json --write json.pcap > demo.json 2>&1
check "--json: steps, states and packets, every line JSON" python3 -c "
import json
kinds = {json.loads(l)['kind'] for l in open('demo.json')}
assert {'step', 'states', 'packet', 'handshake', 'close'} <= kinds, kinds"
setpriv --reuid=65534 --regid=65534 --clear-groups "$demo" --no-color --write /tmp/unused-$$.pcap > unprivileged.txt 2> unprivileged.err; code=$?
check "without capture privilege: the calls and states still run, one line says how to get the packets" \
  bash -c "[[ $code == 0 ]] && grep -q 'client TIME-WAIT' unprivileged.txt && grep -q 'setcap cap_net_raw,cap_net_admin+eip' unprivileged.err"
yes '' | "$demo" --step --no-color > step.txt 2>&1
check "--step says which call comes next before it waits (the room predicts its packets)" bash -c "grep -q 'next: client: socket(AF_INET, SOCK_STREAM, 0) and connect(127.0.0.1:[0-9]*) — press Enter' step.txt && [[ \$(grep -c '— press Enter' step.txt) -ge 6 ]]"
# On a terminal (a projector at 80 columns) every line fits, notes wrapped under their arrow;
# piped, each note stays on one line.
script -qc "stty cols 80; TERM=xterm '$demo' --write tty.pcap" /dev/null > tty.txt 2>&1
check "on an 80-column terminal: no line longer than 80, notes wrapped under the arrow, the call bold, arrows coloured by role" python3 - tty.txt <<'PY'
import re, sys
raw = open(sys.argv[1], encoding="utf-8").read()
assert "\x1b[1m1. server: socket(" in raw, "the call heading is bold"
assert "\x1b[1;32m" in raw and "\x1b[1;35m" in raw, "handshake and teardown arrows in their colours"
assert "\x1b[36m" not in raw, "no light cyan notes"
text = re.sub(r"\x1b\[[0-9;]*m", "", raw).replace("\r", "")
lines = text.split("\n")
assert len(lines) > 40, len(lines)
over = [l for l in lines if len(l) > 80]
assert not over, over[:3]
assert sum(1 for l in lines if re.match(r"^ +│ ", l)) > 10, "the notes are drawn under the arrows"
PY
"$demo" --write piped.pcap > piped.txt 2>&1
check "piped, a note stays on one line (grep finds it whole)" grep -qE "│ SYN — the client .* asks to open a connection to .* It offers" piped.txt

# Two machines: the network namespaces of scripts/twohosts, server on B, client on A.
twohosts=$root/scripts/twohosts
"$twohosts" up > /dev/null
"$twohosts" exec B "$demo" --server 7000 --no-color --write server.pcap > server.txt 2>&1 & server=$!
for _ in $(seq 100); do "$twohosts" exec B ss -ltn 'sport = :7000' 2>/dev/null | grep -q LISTEN && break; sleep 0.05; done
"$twohosts" exec A "$demo" --client 10.99.0.2:7000 --no-color --write client.pcap > client.txt 2>&1; client=$?
wait $server; server=$?
"$twohosts" down > /dev/null
check "two machines: --server on B and --client on A each see the handshake, MSS 1460 of a real link" \
  bash -c "[[ $client == 0 && $server == 0 ]] && grep -q 'SYN,ACK seq=0 ack=1' server.txt && grep -q 'SYN,ACK seq=0 ack=1' client.txt && grep -q 'MSS 1460' client.txt"
check "two machines: each call's packets under the call that caused them (the request's segment under send(), not recv())" python3 - client.txt server.txt <<'PY'
import re, sys
def section(path, start, end):
    text = open(path).read()
    i = text.index(start); j = text.index(end, i)
    return text[i:j]
send = section(sys.argv[1], ": send(", "client: recv()")
assert re.search(r"(PSH,ACK|ACK,PSH) seq=1 ack=1 len=18", send), send
reply = section(sys.argv[2], "server: send(", "server: recv() until")
assert re.search(r"(PSH,ACK|ACK,PSH) seq=1 ack=19 len=\d+", reply), reply
PY
check "two machines: the server passes CLOSE-WAIT, the client ends in TIME-WAIT" \
  bash -c "grep -q 'server CLOSE-WAIT' server.txt && grep -q 'client TIME-WAIT' client.txt"
"$demo" --abort --refused > /dev/null 2>&1; code=$?
check "two variants at once: exit 2" test "$code" = 2
if [[ $failed != 0 ]]; then echo "--- the demo printed:"; head -60 normal.txt; fi
finish
