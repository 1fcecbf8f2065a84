#!/usr/bin/env bash
# labcheck end to end: Lab 01's answers against a capture it makes (right answers pass, each
# kind of wrong answer fails with its hint), and Lab 05's black-box checks on the reference
# servers (Swift and Python: all pass) and on deliberately broken ones (each caught by the
# right check, none hangs labcheck).
#   Tests/e2e/labcheck.sh PATH/TO/labcheck   (echo is taken from the same folder)
set -uo pipefail
labcheck=$1
echo_tool=$(dirname "$1")/tcp-echo
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
# A student's folder: the broken servers below run as nobody (labcheck is root here, without
# sudo), so they must be readable by others, as in a home folder.
chmod 755 "$dir"
trap '"$(dirname "$labcheck")/topology" down > /dev/null 2>&1; rm -rf "$dir"' EXIT
cd "$dir"

check "labcheck list names the labs" bash -c "'$labcheck' list | grep -q '^03 ' && '$labcheck' list | grep -q '^04 ' && '$labcheck' list | grep -q '^02 ' && '$labcheck' list | grep -q '^01 ' && '$labcheck' list | grep -q '^05 ' && '$labcheck' list | grep -q '^06 '"

# Lab 01: labcheck makes the capture; the true answers are read back with the inspector's JSON.
cp "$root/Labs/01-tcp-handshake/answers.toml" template.toml
"$labcheck" 01 --answers template.toml > empty.txt 2>&1; code=$?
check "lab 01, the template as it is: exit 1, all 11 checks fail" bash -c "[[ $code == 1 ]] && [[ \$(grep -c '^FAIL' empty.txt) == 11 ]]"
"$(dirname "$labcheck")/inspector" read --json labcheck-01.pcap > capture.json
python3 - capture.json > right.toml <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
h = next(r for r in records if r["kind"] == "handshake" and r["state"] == "complete")
refused = next(r for r in records if r["kind"] == "handshake" and r["state"] == "refused")
rst = next(r for r in records if r["kind"] == "packet" and r.get("stream") == refused["stream"] and "RST" in r["flags"])
ca, cp = h["client"].rsplit(":", 1); sa, sp = h["server"].rsplit(":", 1)
ca, sa = ca.strip("[]"), sa.strip("[]")
c, s = h["client_options"], h["server_options"]
print(f'client_address = "{ca}"\nclient_port = {cp}\nserver_address = "{sa}"\nserver_port = {sp}')
print(f'syn_isn = {h["client_isn"]}\nsyn_flags = "SYN"\nsynack_isn = {h["server_isn"]}\nsynack_ack = {h["client_isn"] + 1}')
print(f'mss_client = {c["mss"]}\nmss_server = {s["mss"]}\nwscale_client = {c["wscale"]}\nwscale_server = {s["wscale"]}')
print(f'handshake_rtt_us = {round(h["rtt"] * 1e6)}\nrefused_reply_flags = "{",".join(rst["flags"])}"')
PY
"$labcheck" 01 --capture labcheck-01.pcap --answers right.toml > right.txt 2>&1; code=$?
check "lab 01, right answers: all 11 checks pass, exit 0" bash -c "[[ $code == 0 ]] && grep -q 'all 11 checks passed' right.txt"
wrong() {  # wrong KEY VALUE → the output of labcheck with that one answer changed
  sed -E "s/^$1 = .*/$1 = $2/" right.toml > wrong.toml
  "$labcheck" 01 --capture labcheck-01.pcap --answers wrong.toml 2>&1
}
isn=$(grep -oE "^syn_isn = [0-9]+" right.toml | grep -oE "[0-9]+$")
server_isn=$(grep -oE "^synack_isn = [0-9]+" right.toml | grep -oE "[0-9]+$")
client_port=$(grep -oE "^client_port = [0-9]+" right.toml | grep -oE "[0-9]+$")
server_port=$(grep -oE "^server_port = [0-9]+" right.toml | grep -oE "[0-9]+$")
check "relative for raw: SYN-ACK ack 1 gets the relative-number hint" bash -c "wrong_out=\$(sed -E 's/^synack_ack = .*/synack_ack = 1/' right.toml > w.toml; '$labcheck' 01 --capture labcheck-01.pcap --answers w.toml); grep -q 'your SYN-ACK ack is 1' <<<\"\$wrong_out\" && grep -q 'that is the relative number' <<<\"\$wrong_out\""
out=$(wrong synack_ack "$isn")
check "off by one: the ISN itself as the SYN-ACK's ack gets the ISN + 1 hint" grep -q "off by one: a SYN uses one sequence number" <<<"$out"
out=$(wrong syn_isn "$server_isn")
check "swapped sides: the server's ISN as the SYN's gets the swapped-sides hint" grep -q "swapped sides" <<<"$out"
sed -E "s/^client_port = .*/client_port = $server_port/; s/^server_port = .*/server_port = $client_port/" right.toml > swapped.toml
check "swapped sides: client and server ports exchanged" bash -c "'$labcheck' 01 --capture labcheck-01.pcap --answers swapped.toml | grep -q 'swapped sides: the client is the one that sends the SYN'"
out=$(wrong handshake_rtt_us 999999999)
check "a wrong RTT fails and says where to read it" grep -q "FAIL  Q5 handshake RTT" <<<"$out"
# For autograders: the same verdicts as one JSON document, JUnit XML and Gradescope's file.
"$labcheck" 01 --capture labcheck-01.pcap --answers wrong.toml --json --junit junit.xml --gradescope results.json > verdicts.json 2> json.err; code=$?
check "--json: one document, 11 checks, one failed, exit 1 as without it" python3 - verdicts.json "$code" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "1" and r["lab"] == "01" and r["passed"] is False, r
assert len(r["checks"]) == 11 and r["counts"] == {"pass": 10, "fail": 1, "skipped": 0}, r["counts"]
assert next(c for c in r["checks"] if c["verdict"] == "fail")["hint"], r
PY
check "--junit: XML a CI parser reads, 11 testcases and 1 failure" python3 - junit.xml <<'PY'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
assert suite.get("tests") == "11" and suite.get("failures") == "1", suite.attrib
assert len(suite.findall("testcase")) == 11 and len(suite.findall("testcase/failure")) == 1
PY
check "--gradescope: results.json with 10 of 11 points and one entry per check" python3 - results.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["score"] == 10 and r["max_score"] == 11 and len(r["tests"]) == 11, r
assert {t["status"] for t in r["tests"]} == {"passed", "failed"}, r["tests"]
PY
"$labcheck" list --markdown > table.md
check "labcheck list --markdown is the table in Labs/README.md" python3 -c "import sys; assert open('table.md').read() in open('$root/Labs/README.md').read()"
printf 'syn_isn = twelve\n' > broken.toml
"$labcheck" 01 --capture labcheck-01.pcap --answers broken.toml > /dev/null 2> broken.err; code=$?
check "a malformed answers file: exit 2 with the line" bash -c "[[ $code == 2 ]] && grep -q 'line 1' broken.err"

# Lab 02: labcheck makes three connections whose sizes the test knows (1,000 and 3,000 bytes;
# 2,000 after a half-close; an abort by the client); --solution must say so, and pass.
cp "$root/Labs/02-data-and-teardown/answers.toml" template2.toml
"$labcheck" 02 --answers template2.toml > empty2.txt 2>&1; code=$?
check "lab 02, the template as it is: exit 1, all 8 checks fail" bash -c "[[ $code == 1 ]] && [[ \$(grep -c '^FAIL' empty2.txt) == 8 ]]"
"$labcheck" 02 --capture labcheck-02.pcap --solution > right2.toml
check "lab 02, --solution: the sizes and sides the capture was made with" bash -c "grep -qx 'client_bytes = 1000' right2.toml && grep -qx 'server_bytes = 3000' right2.toml && grep -qx 'bytes_after_fin = 2000' right2.toml && grep -qx 'rst_sender = \"client\"' right2.toml && grep -qx 'first_fin = \"client\"' right2.toml"
"$labcheck" 02 --capture labcheck-02.pcap --answers right2.toml > right2.txt 2>&1; code=$?
check "lab 02, right answers: all 8 checks pass" bash -c "[[ $code == 0 ]] && grep -q 'all 8 checks passed' right2.txt"
wrong2() { sed -E "s/^$1 = .*/$1 = $2/" right2.toml > wrong2.toml; "$labcheck" 02 --capture labcheck-02.pcap --answers wrong2.toml 2>&1; }
check "lab 02: the other side's byte count gets the swapped-sides hint" grep -q "swapped sides" <<<"$(wrong2 client_bytes 3000)"
check "lab 02: bytes with headers get the payload hint" grep -q "count payload" <<<"$(wrong2 client_bytes 1404)"
check "lab 02: relative 1 for the raw number gets its hint" grep -q "1 is the relative number" <<<"$(wrong2 first_data_seq_raw 1)"
isn2=$(( $(grep -oE "^first_data_seq_raw = [0-9]+" right2.toml | grep -oE "[0-9]+$") - 1 ))
check "lab 02: the ISN for the first data byte is off by one" grep -q "off by one" <<<"$(wrong2 first_data_seq_raw $isn2)"
check "lab 02: the wrong side for TIME-WAIT fails, naming the rule" grep -q "the side that closes first" <<<"$(wrong2 time_wait_side '"server"')"
check "lab 02: no data after the FIN gets the half-close hint" grep -q "the client only stopped sending" <<<"$(wrong2 bytes_after_fin 0)"

# Lab 03: labcheck makes the capture (three messages over UDP and over TCP); tshark is the
# oracle for the sizes; a udp-vs-tcp run gives the results file.
cp "$root/Labs/03-udp-vs-tcp/answers.toml" template3.toml
# Q5 is about loss: the results come from a lossy run between the two hosts.
"$(dirname "$labcheck")/udp-vs-tcp" --two-hosts --loss 5 --json --messages 200 --round-trips 20 --megabytes 1 > results3.json 2>/dev/null
"$(dirname "$labcheck")/topology" down > /dev/null 2>&1
"$(dirname "$labcheck")/udp-vs-tcp" --json --messages 200 --round-trips 20 --megabytes 1 > loopback3.json 2>/dev/null
"$labcheck" 03 --results results3.json --answers template3.toml > empty3.txt 2>&1; code=$?
check "lab 03, the template as it is: exit 1, all 10 checks fail" bash -c "[[ $code == 1 ]] && [[ \$(grep -c '^FAIL' empty3.txt) == 10 ]]"
"$labcheck" 03 --capture labcheck-03.pcap --results results3.json --solution > right3.toml
udpbytes=$(tshark -r labcheck-03.pcap -Y udp -T fields -e frame.len 2>/dev/null | awk '{s += $1} END {print s}')
tcpbytes=$(tshark -r labcheck-03.pcap -Y tcp -T fields -e frame.len 2>/dev/null | awk '{s += $1} END {print s}')
udplen=$(tshark -r labcheck-03.pcap -Y udp -T fields -e udp.length 2>/dev/null | head -1)
tcphdr=$(tshark -r labcheck-03.pcap -Y "tcp.len > 0" -T fields -e tcp.hdr_len 2>/dev/null | head -1)
check "lab 03, --solution agrees with tshark (wire bytes, UDP length, TCP header)" bash -c "grep -qx 'udp_wire_bytes = $udpbytes' right3.toml && grep -qx 'tcp_wire_bytes = $tcpbytes' right3.toml && grep -qx 'udp_length_first = $udplen' right3.toml && grep -qx 'tcp_header_bytes = $tcphdr' right3.toml"
"$labcheck" 03 --capture labcheck-03.pcap --results results3.json --answers right3.toml > right3.txt 2>&1; code=$?
check "lab 03, right answers: all 10 checks pass" bash -c "[[ $code == 0 ]] && grep -q 'all 10 checks passed' right3.txt"
wrong3() { sed -E "s/^$1 = .*/$1 = $2/" right3.toml > wrong3.toml; "$labcheck" 03 --capture labcheck-03.pcap --results results3.json --answers wrong3.toml 2>&1; }
check "lab 03: 28 for the UDP header gets the IP-header hint" grep -q "counts the IPv4 header" <<<"$(wrong3 udp_header_bytes 28)"
check "lab 03: the UDP length without its header gets its hint" grep -q "counts its own 8-byte header" <<<"$(wrong3 udp_length_first $((udplen - 8)))"
check "lab 03: 20 for a TCP header with options gets the data-offset hint" grep -q "data offset" <<<"$(wrong3 tcp_header_bytes 20)"
check "lab 03: 20 TCP receives (one per message) gets the boundaries hint" grep -q "does not keep message boundaries" <<<"$(wrong3 tcp_receives 20)"
"$labcheck" 03 --capture labcheck-03.pcap --results loopback3.json --solution > loopback3.toml
"$labcheck" 03 --capture labcheck-03.pcap --results loopback3.json --answers loopback3.toml > loopback3.txt 2>&1; code=$?
check "lab 03: results made on loopback fail Q5, saying to rerun with --two-hosts --loss (the copied numbers do not pass)" bash -c "
  [[ $code == 1 ]] && grep -q 'FAIL.*Q5 what loss does.*loopback' loopback3.txt && grep -q 'twohosts up --loss 5' loopback3.txt"
"$labcheck" 03 --capture labcheck-03.pcap --solution > noresults3.toml
check "lab 03 --solution without --results says what it cannot know, no zeros" bash -c "
  ! grep -q '^udp_lost' noresults3.toml && grep -q 'not known without --results' noresults3.toml"

# Lab 04: labcheck makes the capture (two pings, a UDP datagram to a closed port); tshark is
# the oracle for the right answers.
cp "$root/Labs/04-icmp-and-raw-sockets/answers.toml" template4.toml
"$labcheck" 04 --answers template4.toml > empty4.txt 2>&1; code=$?
check "lab 04, the template as it is: exit 1, all 10 checks fail" bash -c "[[ $code == 1 ]] && [[ \$(grep -c '^FAIL' empty4.txt) == 10 ]]"
"$labcheck" 04 --capture labcheck-04.pcap --solution > right4.toml
read -r id4 seq4 sum4 ttl4 < <(tshark -r labcheck-04.pcap -Y "icmp.type == 8" -T fields -e icmp.ident -e icmp.seq -e icmp.checksum -e ip.ttl 2>/dev/null | head -1)
port4=$(tshark -r labcheck-04.pcap -Y "icmp.type == 3" -T fields -e udp.dstport 2>/dev/null | head -1)
check "lab 04, --solution agrees with tshark (identifier, sequence, checksum, quoted port)" bash -c "grep -qx 'identifier = $id4' right4.toml && grep -qx 'sequence = $seq4' right4.toml && grep -qx 'checksum = \"$sum4\"' right4.toml && grep -qx 'quoted_port = $port4' right4.toml"
"$labcheck" 04 --capture labcheck-04.pcap --answers right4.toml > right4.txt 2>&1; code=$?
check "lab 04, right answers: all 10 checks pass" bash -c "[[ $code == 0 ]] && grep -q 'all 10 checks passed' right4.txt"
wrong4() { sed -E "s/^$1 = .*/$1 = $2/" right4.toml > wrong4.toml; "$labcheck" 04 --capture labcheck-04.pcap --answers wrong4.toml 2>&1; }
swapped=$(python3 -c "v=int('$sum4', 16); print(f'\"0x{((v & 0xff) << 8) | (v >> 8):04x}\"')")
check "lab 04: a checksum with its bytes swapped gets the byte-order hint" grep -q "byte order: the bytes are swapped" <<<"$(wrong4 checksum "$swapped")"
complement=$(python3 -c "v=int('$sum4', 16); print(f'\"0x{(~v) & 0xffff:04x}\"')")
check "lab 04: the sum before the complement gets the flip-every-bit hint" grep -q "one's complement" <<<"$(wrong4 checksum "$complement")"
check "lab 04: the reply's type for the request's gets its hint" grep -q "0 is the reply's type" <<<"$(wrong4 request_type 0)"
idswap=$(( (id4 & 0xff) << 8 | id4 >> 8 ))
check "lab 04: an identifier read little-endian gets the byte-order hint" grep -q "big-endian" <<<"$(wrong4 identifier $idswap)"

"$labcheck" 04 --capture labcheck-02.pcap --answers right4.toml > /dev/null 2> wrongcapture.err; code=$?
check "a capture without what the lab asks about: exit 2, saying what is missing" bash -c "[[ $code == 2 ]] && grep -q 'no ICMP echo request' wrongcapture.err"

# Lab 05: the reference servers pass.
"$labcheck" 05 --as-root --server "python3 $root/Labs/05-echo-server/reference.py 9151" --port 9151 > ref-python.txt 2>&1; code=$?
check "lab 05: the Python reference passes all 8 checks" bash -c "[[ $code == 0 ]] && grep -q 'all 8 checks passed' ref-python.txt"
"$labcheck" 05 --as-root --server "$echo_tool server --port 9152" --port 9152 > ref-swift.txt 2>&1; code=$?
check "lab 05: the Swift reference (tcp-echo server on LabServers) passes all 8 checks" bash -c "[[ $code == 0 ]] && grep -q 'all 8 checks passed' ref-swift.txt"

# Broken servers, each caught by its check.
cat > one_recv.py <<'PY'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
def serve(c):
    data = c.recv(65536)          # the bug: one recv() taken as the whole message
    c.sendall(data)
    while c.recv(65536): pass
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat > one_at_a_time.py <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
while True:
    c, _ = s.accept()             # the bug: the next client waits until this one leaves
    try:
        while (data := c.recv(65536)): c.sendall(data)
    except OSError: pass
    c.close()
PY
cat > rst_close.py <<'PY'
import socket, struct, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
def serve(c):
    try:
        while (data := c.recv(65536)): c.sendall(data)
    except OSError: pass
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # the bug: RST on close
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat > line_echo.py <<'PY'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
def serve(c):
    pending = b""
    try:
        while (data := c.recv(65536)):
            pending += data
            line_end = pending.rfind(b"\n") + 1
            c.sendall(pending[:line_end]); pending = pending[line_end:]
    except OSError: pass
    c.close()                     # the bug: at the client's FIN the unfinished line is dropped
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat > drop_on_eagain.py <<'PY'
import select, socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
def serve(c):
    c.setblocking(False)
    while True:
        select.select([c], [], [])
        try: data = c.recv(65536)
        except BlockingIOError: continue
        except OSError: break
        if not data: break
        try: c.send(data)          # the bug: a partial write or EAGAIN drops the rest
        except (BlockingIOError, OSError): pass
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat > crash_on_reset.py <<'PY'
import selectors, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
sel = selectors.DefaultSelector(); sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is s:
            c, _ = s.accept(); sel.register(c, selectors.EVENT_READ); continue
        c = key.fileobj
        data = c.recv(65536)      # the bug: ConnectionResetError is not caught, and kills the server
        if data: c.sendall(data)
        else: sel.unregister(c); c.close()
PY
cat > hang.py <<'PY'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)   # accepts, and never reads or writes
PY
port=9160
for spec in "one_recv:1 MiB echoed intact" "one_at_a_time:50 concurrent clients" "rst_close:closes with FIN, not RST" \
            "line_echo:half-close" "crash_on_reset:a client that resets" "hang:small echo" "drop_on_eagain:back-pressure: 8 MiB to a slow reader"; do
  server=${spec%%:*} caught=${spec#*:}
  port=$((port + 1))
  start=$(date +%s)
  "$labcheck" 05 --server "python3 $dir/$server.py $port" --port $port > "$server.txt" 2>&1; code=$?
  took=$(( $(date +%s) - start ))
  check "lab 05: $server.py is caught by '$caught' (exit 1, ${took} s)" \
    bash -c "[[ $code == 1 ]] && grep -q 'FAIL  $caught' '$server.txt' && grep -q 'hint:' '$server.txt' && (( $took < 90 ))"
done
check "lab 05: a crashed server's report shows its traceback and names the stream tshark gives its last accepted connection" python3 - crash_on_reset.txt <<'PY'
import re, subprocess, sys
text = open(sys.argv[1]).read()
assert "ConnectionResetError" in text and "| Traceback" in text, text[:600]
m = re.search(r"last connection it accepted is stream (\d+) of (\S+) .*its SYN-ACK is frame (\d+)", text)
assert m, text[:600]
rows = subprocess.run(["tshark", "-r", m.group(2), "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 1", "-T", "fields", "-e", "frame.number", "-e", "tcp.stream"],
                      capture_output=True, text=True).stdout.split()
assert rows[-2:] == [m.group(3), m.group(1)], (rows[-2:], m.groups())
PY
# Lab 06: the reference chat servers pass; two broken ones are caught.
"$labcheck" 06 --as-root --server "python3 $root/Labs/06-chat-server/reference.py 9171" --port 9171 > chat-python.txt 2>&1; code=$?
check "lab 06: the Python reference passes all 7 checks" bash -c "[[ $code == 0 ]] && grep -q 'all 7 checks passed' chat-python.txt"
"$labcheck" 06 --as-root --server "$(dirname "$labcheck")/chat-server --port 9172" --port 9172 > chat-swift.txt 2>&1; code=$?
check "lab 06: the Swift reference (chat-server on SocketCore) passes all 7 checks" bash -c "[[ $code == 0 ]] && grep -q 'all 7 checks passed' chat-swift.txt"
cat > chat_drops.py <<'PY'
import selectors, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
sel = selectors.DefaultSelector(); sel.register(s, selectors.EVENT_READ); nick = {}
def others(c, line):
    for o in list(nick):
        if o is not c and nick[o]:
            try: o.sendall(line.encode() + b"\n")
            except OSError: pass
while True:
    for key, _ in sel.select():
        if key.fileobj is s:
            c, _ = s.accept(); nick[c] = None; sel.register(c, selectors.EVENT_READ); continue
        c = key.fileobj
        try: data = c.recv(65536)
        except OSError: data = b""
        if not data:
            sel.unregister(c); name = nick.pop(c); c.close()
            if name: others(c, f"* {name} left")
            continue
        line = data.split(b"\n")[0].decode()   # the bug: one recv() taken as one line; the rest is lost
        if line.startswith("NICK "):
            old, nick[c] = nick[c], line[5:]
            others(c, f"* {nick[c]} joined" if old is None else f"* {old} is now {nick[c]}")
        elif line == "QUIT":
            sel.unregister(c); name = nick.pop(c); c.close(); others(c, f"* {name} left")
        elif nick[c]:
            others(c, f"{nick[c]}: {line}")
PY
cat > chat_blocking.py <<'PY'
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(128)
lock = threading.Lock(); nick = {}
def others(c, line):
    with lock:                    # the bug: a blocking send to a client that does not read holds everyone up
        for o in list(nick):
            if o is not c and nick[o]:
                try: o.sendall(line.encode() + b"\n")
                except OSError: pass
def serve(c):
    buffer = b""
    while True:
        try: data = c.recv(65536)
        except OSError: data = b""
        if not data: break
        buffer += data
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.decode()
            if line.startswith("NICK "):
                old, nick[c] = nick.get(c), line[5:]
                others(c, f"* {nick[c]} joined" if old is None else f"* {old} is now {nick[c]}")
            elif line == "QUIT":
                c.close(); others(c, f"* {nick.pop(c)} left"); return
            elif nick.get(c):
                others(c, f"{nick[c]}: {line}")
    name = nick.pop(c, None); c.close()
    if name: others(c, f"* {name} left")
while True:
    c, _ = s.accept(); nick[c] = None; threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# The reference with one bug: a message goes to its sender too. The 20-client check must say
# that, not blame the line framing.
sed 's/if other is not conn and state\["nick"\] is not None:/if state["nick"] is not None:/' "$root/Labs/06-chat-server/reference.py" > chat_echo.py
check "chat_echo.py differs from the reference only by sending to the sender" bash -c "! diff -q chat_echo.py '$root/Labs/06-chat-server/reference.py' > /dev/null"
for spec in "chat_drops:20 clients, every message once, in order" "chat_blocking:a slow client does not stall the others" "chat_echo:20 clients, every message once, in order"; do
  server=${spec%%:*} caught=${spec#*:}
  port=$((port + 1))
  start=$(date +%s)
  "$labcheck" 06 --server "python3 $dir/$server.py $port" --port $port > "$server.txt" 2>&1; code=$?
  took=$(( $(date +%s) - start ))
  check "lab 06: $server.py is caught by '$caught' (exit 1, ${took} s)" \
    bash -c "[[ $code == 1 ]] && grep -q 'FAIL  $caught' '$server.txt' && grep -q 'hint:' '$server.txt' && (( $took < 120 ))"
done
check "lab 06: chat_echo.py's failure names the echo to the sender, not the line framing" bash -c "
  grep -A2 'FAIL  20 clients' chat_echo.txt | grep -q 'came back to the client that sent them' && grep -q 'except its sender' chat_echo.txt && ! grep -A2 'FAIL  20 clients' chat_echo.txt | grep -q 'TCP merges lines'"

# Lab 12: a SOCKS5 proxy. The references pass (with and without a login); each classic
# mistake, made by one edit of the Python reference, is caught by its check with its hint.
"$labcheck" 12 --server "python3 $root/Labs/12-socks-proxy/reference.py 9191" --port 9191 > socks-python.txt 2>&1; code=$?
check "lab 12: the Python reference passes all 11 checks" bash -c "[[ $code == 0 ]] && grep -q 'all 11 checks passed' socks-python.txt"
"$labcheck" 12 --server "python3 $root/Labs/12-socks-proxy/reference.py 9192 alice:s3cret" --port 9192 --auth alice:s3cret > socks-auth.txt 2>&1; code=$?
check "lab 12: … and with --auth all 13 (auth enforced, version byte, wrong password)" bash -c "[[ $code == 0 ]] && grep -q 'all 13 checks passed' socks-auth.txt"
"$labcheck" 12 --server "$(dirname "$labcheck")/socks-proxy --port 9193" --port 9193 > socks-swift.txt 2>&1; code=$?
check "lab 12: the Swift reference (socks-proxy) passes all 11 checks" bash -c "[[ $code == 0 ]] && grep -q 'all 11 checks passed' socks-swift.txt"
reference12=$root/Labs/12-socks-proxy/reference.py
sed 's/client.sendall(b"\\x01\\x00" if ok else b"\\x01\\x01")/client.sendall(b"\\x05\\x00" if ok else b"\\x05\\x01")/' "$reference12" > socks_version5.py
sed 's/        dst.shutdown(socket.SHUT_WR)/        dst.close(); src.close()/' "$reference12" > socks_closes.py
sed 's/struct.pack("!H", port))$/struct.pack("<H", port))/' "$reference12" > socks_byteorder.py
sed 's/    version, count = recv_exact(client, 2)/    version, count = client.recv(2)/' "$reference12" > socks_onerecv.py
for name in socks_version5 socks_closes socks_byteorder socks_onerecv; do
  check "$name.py differs from the reference" bash -c "! diff -q $name.py '$reference12' > /dev/null"
done
port=9194
for spec in "socks_version5|login: version byte|alice:s3cret" "socks_closes|half-close relayed|" "socks_byteorder|CONNECT to an IPv4 address|" "socks_onerecv|greeting and request in 1-byte pieces|"; do
  IFS='|' read -r server caught credentials <<<"$spec"
  port=$((port + 1))
  login=() arg=""
  [[ -n $credentials ]] && login=(--auth "$credentials") arg=$credentials
  "$labcheck" 12 --server "python3 $dir/$server.py $port $arg" --port $port "${login[@]}" > "$server.txt" 2>&1; code=$?
  check "lab 12: $server.py is caught by '$caught' (exit 1) with a hint" bash -c "[[ $code == 1 ]] && grep -q 'FAIL  $caught' '$server.txt' && grep -q 'hint:' '$server.txt'"
done
check "lab 12: the version-byte hint names RFC 1929's 0x01, the byte-order hint network order" bash -c "
  grep -q 'ITS version, 0x01' socks_version5.txt && grep -q 'network byte order' socks_byteorder.txt"


# Lab 09: labcheck makes the capture (one run, one client killed mid-run); tshark's bytes are
# the oracle for the frames' sizes; the solution passes and each wrong answer has its hint.
"$labcheck" 09 --solution > lab09-solution.txt 2>&1; code=$?
lab09=$(grep -oE "labcheck-09[-0-9]*\.pcap" lab09-solution.txt | head -1)
grep -v '^labcheck:' lab09-solution.txt > lab09-solution.toml
check "lab 09: --solution from the capture it made (exit 0)" bash -c "[[ $code == 0 && -s '$lab09' ]]"
check "lab 09: the challenge and the proof are 32 bytes, the exit status 3" bash -c "
  grep -qx 'challenge_bytes = 32' lab09-solution.toml && grep -qx 'proof_bytes = 32' lab09-solution.toml && grep -qx 'exit_status = 3' lab09-solution.toml"
check "lab 09: tshark sees the hello frame (channel 1, 51 bytes of payload) first from the server" bash -c "
  tshark -r '$lab09' -Y 'tcp.len > 0' -T fields -e tcp.payload 2>/dev/null | head -1 | grep -q '^0100000033'"
"$labcheck" 09 --capture "$lab09" --answers lab09-solution.toml > lab09-right.txt 2>&1; code=$?
check "lab 09: the right answers pass" test "$code" = 0
sed 's/^challenge_bytes = .*/challenge_bytes = 51/; s/^proof_bytes = .*/proof_bytes = 64/; s/^killed_client_sends = .*/killed_client_sends = "nothing"/' lab09-solution.toml > lab09-wrong.toml
"$labcheck" 09 --capture "$lab09" --answers lab09-wrong.toml > lab09-wrong.txt 2>&1; code=$?
check "lab 09: the whole hello, the proof in hex and a silent kill each get their hint" bash -c "
  [[ $code == 1 ]] && grep -q 'banner and its NUL' lab09-wrong.txt && grep -q 'written in hex' lab09-wrong.txt && grep -q 'its kernel closes the socket' lab09-wrong.txt"


# Lab 10: labcheck runs the whole lab on hosts of its own (kill, clean stop, freeze and thaw),
# with the standby program beside it; tshark is the oracle for the frames and times it names.
"$labcheck" 10 --solution > lab10-solution.txt 2>&1; code=$?
lab10=$(grep -oE "labcheck-10[-0-9]*\.pcap" lab10-solution.txt | head -1)
grep -v '^labcheck:' lab10-solution.txt > lab10-solution.toml
check "lab 10: --solution from the capture it made (exit 0), with the client's log beside it" bash -c "
  [[ $code == 0 && -s '$lab10' && -s '${lab10%.pcap}-client.jsonl' ]]"
check "lab 10: interval 100, priorities 200 and 100, S1 first, S2 yields after the thaw" bash -c "
  grep -qx 'interval_ms = 100' lab10-solution.toml && grep -qx 'priority_s1 = 200' lab10-solution.toml &&
  grep -qx 'priority_s2 = 100' lab10-solution.toml && grep -qx 'first_master = \"S1\"' lab10-solution.toml &&
  grep -qx 'split_brain_yielder = \"S2\"' lab10-solution.toml && grep -qx 'kill_predicted_ms = 360.9' lab10-solution.toml"
"$(dirname "$labcheck")/standby" timeline "$lab10" --json > lab10-timeline.json
check "lab 10: the timeline's gratuitous ARPs and heartbeats are tshark's, frame for frame" python3 -c "
import json, subprocess
t = json.load(open('lab10-timeline.json'))
def frames(f):
    out = subprocess.run(['tshark', '-r', '$lab10', '-Y', f, '-T', 'fields', '-e', 'frame.number'], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]
arps = frames('arp.isgratuitous')
beats = frames('udp.port == 1985 && udp.payload[0:4] == 53:4c:48:42')
assert t['gratuitous_arps'] == len(arps) and t['advertisements'] == len(beats), (t, len(arps), len(beats))
for k in t['takeovers']:
    assert k['arp_frame'] in arps, k
    assert k['last_advert_frame'] is None or k['last_advert_frame'] in beats, k"
check "lab 10: the takeover after the kill is tshark's frame time difference" python3 -c "
import json, subprocess
t = json.load(open('lab10-timeline.json'))
k = next(k for k in t['takeovers'] if k['kind'] == 'failure')
def time(n):
    return float(subprocess.run(['tshark', '-r', '$lab10', '-Y', 'frame.number == %d' % n, '-T', 'fields', '-e', 'frame.time_epoch'], capture_output=True, text=True).stdout)
ms = (time(k['arp_frame']) - time(k['last_advert_frame'])) * 1000
assert abs(ms - k['measured_ms']) < 0.01, (ms, k)
assert ms >= 360.9, ms"
"$labcheck" 10 --capture "$lab10" --answers lab10-solution.toml > lab10-right.txt 2>&1; code=$?
check "lab 10: the right answers pass" test "$code" = 0
sed 's/^kill_predicted_ms = .*/kill_predicted_ms = 300/; s/^first_master = .*/first_master = "S2"/; s/^arp_address = .*/arp_address = "10.99.1.2"/' lab10-solution.toml > lab10-wrong.toml
"$labcheck" 10 --capture "$lab10" --answers lab10-wrong.toml > lab10-wrong.txt 2>&1; code=$?
check "lab 10: three intervals without the skew, the wrong master and the wrong address each get their hint" bash -c "
  [[ $code == 1 ]] && grep -q 'add the skew' lab10-wrong.txt && grep -q 'only the master sends heartbeats' lab10-wrong.txt && grep -q 'the virtual address the clients use' lab10-wrong.txt"

# Lab 07: labcheck makes the capture (25 keys with TCP_NODELAY, 25 with Nagle, each against an
# echo peer); tshark is the oracle for the segment counts; the solution passes, mistakes get hints.
"$labcheck" 07 --solution > lab07-solution.txt 2>&1; code=$?
lab07=$(grep -oE "labcheck-07[-0-9]*\.pcap" lab07-solution.txt | head -1)
grep -v '^labcheck:' lab07-solution.txt > lab07-solution.toml
check "lab 07: --solution from the capture it made (exit 0)" bash -c "[[ $code == 0 && -s '$lab07' ]]"
ports=($(tshark -r "$lab07" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e tcp.srcport 2>/dev/null))
tshark_segments() { tshark -r "$lab07" -Y "tcp.srcport == $1 && tcp.len > 0" 2>/dev/null | wc -l; }
check "lab 07: the segment counts are tshark's (${ports[*]})" bash -c "
  grep -qx \"segments_nodelay = $(tshark_segments "${ports[0]}")\" lab07-solution.toml && grep -qx \"segments_nagle = $(tshark_segments "${ports[1]}")\" lab07-solution.toml"
check "lab 07: Nagle merged keys and an ACK waited tens of ms" python3 -c "
import re; t = open('lab07-solution.toml').read()
assert int(re.search(r'segments_nagle = (\d+)', t).group(1)) < 25 and float(re.search(r'longest_ack_ms = ([\d.]+)', t).group(1)) > 20, t"
"$labcheck" 07 --capture "$lab07" --answers lab07-solution.toml > lab07-right.txt 2>&1; code=$?
check "lab 07: the right answers pass" test "$code" = 0
talk=$(dirname "$labcheck")/talk
"$talk" listen --port 7777 --echo --nagle on > /dev/null 2>&1 & talker=$!
sleep 0.3
"$talk" connect 127.0.0.1:7777 --measure 10 --nagle on --json > nagle.json; kill $talker 2>/dev/null
"$labcheck" 07 --capture "$lab07" --results nagle.json --solution > lab07-results.toml 2>&1
p50=$(python3 -c "import json; print('%.1f' % (json.load(open('nagle.json'))['enter_to_echo_us']['p50'] / 1000))")
check "lab 07: with --results, Q7 is talk --measure's own p50 ($p50 ms)" grep -qx "measure_nagle_ms = $p50" lab07-results.toml
sed 's/^segments_nagle = .*/segments_nagle = 25/; s/^shared_segments = .*/shared_segments = 0/' lab07-solution.toml > lab07-wrong.toml
"$labcheck" 07 --capture "$lab07" --answers lab07-wrong.toml > lab07-wrong.txt 2>&1; code=$?
check "lab 07: one segment a key with Nagle, and no shared segment, each get their hint" bash -c "
  [[ $code == 1 ]] && grep -q 'the waiting keys leave together' lab07-wrong.txt && grep -q 'typed while the one before was unacknowledged' lab07-wrong.txt"

if [[ $failed != 0 ]]; then for f in *.txt; do echo "--- $f"; head -20 "$f"; done; fi
finish
