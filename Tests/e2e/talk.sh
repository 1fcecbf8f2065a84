#!/usr/bin/env bash
# talk through real terminals (pseudo-terminals from Python's pty module): keys typed on one
# side appear on the other in order, both ways; the terminal's settings (stty -g) are the same
# after every way of ending — Ctrl-D, Ctrl-C, SIGTERM, the peer killed; the peer gone is one
# line and exit 1; TCP_NODELAY gives one segment per key, Nagle fewer; --measure shows the
# delayed ACK. Usage: talk.sh PATH/TO/talk
set -uo pipefail
source "$(dirname "$0")/lib.sh"
talk=$1
dir=$(mktemp -d)
trap 'pkill -f "$talk" 2>/dev/null; rm -rf "$dir"' EXIT

python3 - "$talk" "$dir" > "$dir/pty.txt" 2>&1 <<'PY'
import os, pty, re, select, signal, socket, subprocess, sys, time
talk, folder = sys.argv[1], sys.argv[2]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

class Term:
    """A program in a pseudo-terminal, wrapped in sh so that stty -g is read before and after."""
    def __init__(self, command):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            # As an interactive shell does, the wrapper ignores Ctrl-C itself (talk sets its own
            # handler), so that it lives to run the second stty -g.
            os.execvp("sh", ["sh", "-c", "trap '' INT; stty -g; " + command + "; echo EXIT=$?; stty -g"])
        self.out = b""
    def read(self, seconds=0.5):
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try: self.out += os.read(self.fd, 65536)
                except OSError: break
        return self.out
    def type(self, text, gap=0.05):
        for ch in text:
            os.write(self.fd, ch.encode() if isinstance(ch, str) else bytes([ch])); time.sleep(gap)
    def plain(self):
        """What the screen shows, without the colour escapes around each key."""
        return re.sub(rb"\x1b\[[0-9;]*m", b"", self.out)
    def until(self, needle, seconds=5):
        end = time.time() + seconds
        while needle not in self.plain() and time.time() < end: self.read(0.1)
        return needle in self.plain()
    def settings(self):
        lines = [l for l in self.out.decode(errors="replace").replace("\r", "").split("\n") if l.count(":") > 10]
        return lines
    def talk_pid(self):
        out = subprocess.run(["pgrep", "-P", str(self.pid), "-f", talk], capture_output=True, text=True).stdout.split()
        return int(out[0]) if out else None

def report(name, ok):
    print(("ok   " if ok else "FAIL ") + name)

def pair(port):
    a = Term(f"{talk} listen --port {port}")
    time.sleep(0.4)
    b = Term(f"{talk} connect 127.0.0.1:{port}")
    ok = a.until(b"is here") and b.until(b"connected")
    return a, b, ok

port = free_port()
a, b, ok = pair(port)
report("connect and listen meet", ok)
b.type("hello")
report("keys typed on one side appear on the other, in order", a.until(b"hello"))
a.type("world")
report("... and the other way at the same time", b.until(b"world"))
b.type(b"\x04")
report("Ctrl-D ends: exit 0", b.until(b"EXIT=0"))
b.read(0.3)
s = b.settings()
report("Ctrl-D: the terminal's settings are back (stty -g before = after)", len(s) == 2 and s[0] == s[1])
report("the peer gone: one line, exit 1", a.until(b"peer closed the connection") and a.until(b"EXIT=1"))
a.read(0.3); s = a.settings()
report("the peer gone: the terminal's settings are back", len(s) == 2 and s[0] == s[1])

for how, action in (("Ctrl-C", lambda t: t.type(b"\x03")), ("SIGTERM", lambda t: os.kill(t.talk_pid(), signal.SIGTERM))):
    port = free_port()
    a, b, ok = pair(port)
    action(b)
    b.until(b"EXIT=", 5); b.read(0.3); s = b.settings()
    report(f"{how}: the terminal's settings are back", ok and len(s) == 2 and s[0] == s[1])
    a.until(b"EXIT=", 5)

port = free_port()
a, b, ok = pair(port)
os.kill(a.talk_pid(), signal.SIGKILL)
report("the peer killed: one line, exit 1", b.until(b"peer closed the connection") and b.until(b"EXIT=1"))
b.read(0.3); s = b.settings()
report("the peer killed: the terminal's settings are back", len(s) == 2 and s[0] == s[1])

# Not a terminal: line by line, and it says so.
port = free_port()
a = Term(f"{talk} listen --port {port}")
time.sleep(0.4)
p = subprocess.run(["sh", "-c", f"printf 'line one\\nline two\\n' | {talk} connect 127.0.0.1:{port}"], capture_output=True, text=True, timeout=10)
report("not a terminal: it says so and sends the lines", "not a terminal" in p.stderr and a.until(b"line two"))
PY
cat "$dir/pty.txt" | sed 's/^/  /'
passed=$((passed + $(grep -c '^ok' "$dir/pty.txt"))) failed=$((failed + $(grep -c '^FAIL' "$dir/pty.txt")))
[[ $(grep -c '^ok\|^FAIL' "$dir/pty.txt") -ge 12 ]] || { echo "  FAIL the pty checks did not all run"; failed=$((failed + 1)); }

# One segment per key with TCP_NODELAY; Nagle merges keys typed faster than an ACK comes back.
segments() {  # NAGLE → data segments the client sent for 30 keys typed 2 ms apart, every fifth an Enter the echo side answers (then it delays its ACKs)
  local port=$((20000 + RANDOM % 20000))
  tcpdump -i lo -w "$dir/keys-$1.pcap" -U --immediate-mode "tcp port $port" > /dev/null 2>&1 & local dump=$!
  sleep 0.5
  "$talk" listen --port "$port" --echo --nagle "$1" > /dev/null 2>&1 < /dev/null & local listener=$!
  sleep 0.3
  python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', $port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0 if '$1' == 'on' else 1)
time.sleep(0.3)
for i in range(30):
    s.send(b'\\n' if i % 5 == 4 else b'k'); time.sleep(0.002)
time.sleep(0.3); s.close()"
  sleep 0.5; kill $dump $listener 2>/dev/null; wait $dump 2>/dev/null
  tshark -r "$dir/keys-$1.pcap" -Y "tcp.dstport == $port && tcp.len > 0" 2>/dev/null | wc -l
}
off=$(segments off) on=$(segments on)
check "TCP_NODELAY: 30 keys, 30 segments of one byte ($off)" test "$off" = 30
check "Nagle on: the keys wait for ACKs and share segments ($on of 30)" test "$on" -lt 30

port=$((20000 + RANDOM % 20000))
"$talk" listen --port $port --echo > /dev/null 2>&1 & pid=$!
sleep 0.3
"$talk" connect 127.0.0.1:$port --measure 25 --json > "$dir/off.json"
port2=$((port + 1))
"$talk" listen --port $port2 --echo --nagle on > /dev/null 2>&1 & pid2=$!
sleep 0.3
"$talk" connect 127.0.0.1:$port2 --measure 25 --nagle on --json > "$dir/on.json"
check "--measure: Enter to echo in µs with TCP_NODELAY, tens of ms with Nagle (delayed ACK)" python3 -c "
import json
off = json.load(open('$dir/off.json'))['enter_to_echo_us']['p50']; on = json.load(open('$dir/on.json'))['enter_to_echo_us']['p50']
print('    (p50: %.0f µs without Nagle, %.1f ms with)' % (off, on / 1000))
assert off < 5000 and on > 10000, (off, on)"
"$talk" connect 127.0.0.1:1 > /dev/null 2> "$dir/refused.err" < /dev/null; status=$?
check "connection refused: one clear line, exit 1" bash -c "[[ $status == 1 ]] && grep -q 'ECONNREFUSED' '$dir/refused.err'"
if [[ $(id -u) == 0 ]]; then
  port=$((20000 + RANDOM % 20000))
  "$talk" listen --port $port --echo > /dev/null 2>&1 & pid3=$!
  sleep 0.3
  python3 - "$talk" "$port" > "$dir/show.txt" 2>&1 <<'PY'
import os, pty, re, select, sys, time
talk, port = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(talk, [talk, "connect", "127.0.0.1:" + port, "--show-packets", "--no-color"])
out = b""
def read(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try: out += os.read(fd, 65536)
            except OSError: return
read(1.0)
for ch in b"abc":
    os.write(fd, bytes([ch])); time.sleep(0.2)
read(1.0)
os.write(fd, b"\x04"); read(1.5)
print(re.sub(rb"\x1b\[[0-9;]*m", b"", out).decode(errors="replace"))
PY
  kill $pid3 2>/dev/null
  check "--show-packets: the handshake and each key's own segment of len 1, drawn as the ladder" bash -c "
    grep -q '── SYN seq=0' '$dir/show.txt' && [[ \$(grep -c 'ACK,PSH seq=[123] ack=1 len=1' '$dir/show.txt') == 3 ]]"
fi
finish
