#!/usr/bin/env bash
# ipc-compare and socket-types, run for real: every mechanism moves 10 MB there and back
# intact and keeps (or merges) boundaries as its type says; the JSON is complete; the charts
# open in headless Chromium; Python's socket module agrees with every socket-types cell it can
# probe; run as nobody, the privileged rows are skipped with the reason; bad input exits 2;
# labcheck 11 passes the right answers and hints at wrong ones.
# Usage: ipc-compare.sh PATH/TO/ipc-compare (socket-types and labcheck beside it)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
ipc=$1
bin=$(cd "$(dirname "$ipc")" && pwd)
types=$bin/socket-types
labcheck=$bin/labcheck
dir=$(mktemp -d)
chmod 755 "$dir"
trap 'rm -rf "$dir"' EXIT

"$ipc" --round-trips 300 --warmup 30 --repetitions 1 --scale 0.01 --verify-megabytes 10 --json > "$dir/ipc.json" 2> "$dir/ipc.err"
echo "  (ipc-compare exit $?: $(tail -1 "$dir/ipc.err"))"
python3 - "$dir/ipc.json" > "$dir/ipc.check" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = ["pipe", "fifo", "socketpair-stream", "socketpair-dgram", "socketpair-seqpacket", "unix-stream", "unix-dgram",
         "unix-stream-abstract", "unix-dgram-abstract", "tcp4", "tcp6", "udp4", "udp6"]
message = {"socketpair-dgram", "socketpair-seqpacket", "unix-dgram", "unix-dgram-abstract", "udp4", "udp6"}
ms = {m["name"]: m for m in r["mechanisms"]}
problems = []
if sorted(ms) != sorted(names): problems.append("mechanisms: %s" % sorted(ms))
for name, m in ms.items():
    for key in ("boundaries_kept", "latency_us", "throughput_bytes_per_s", "syscalls_per_message"):
        if key not in m: problems.append("%s: no %s" % (name, key))
    if m["intact_bytes"] != 10_000_000: problems.append("%s: %d bytes intact" % (name, m["intact_bytes"]))
    if m["boundaries_kept"] != (name in message): problems.append("%s: boundaries_kept %s" % (name, m["boundaries_kept"]))
    if name not in message and len(m["reads_returned"]) >= 20: problems.append("%s: a stream returned %d reads" % (name, len(m["reads_returned"])))
    if name in message and m["reads_returned"] != m["sent_sizes"]: problems.append("%s: reads %s" % (name, m["reads_returned"]))
    lat = m["latency_us"]
    if not (0 < lat["p50"] <= lat["p99"] <= lat["max"]): problems.append("%s: latency %s" % (name, lat))
    t = m["throughput_bytes_per_s"]
    if sorted(t) != ["100", "1048576", "4096", "65536"]: problems.append("%s: throughput keys %s" % (name, sorted(t)))
    for size, value in t.items():
        if value is None and size not in m["throughput_not_measured"]: problems.append("%s: %s missing with no reason" % (name, size))
    if not (m["syscalls_per_message"] >= 2): problems.append("%s: %s calls per message" % (name, m["syscalls_per_message"]))
for name in ("udp4", "udp6"):
    if ms[name]["throughput_bytes_per_s"]["65536"] is not None: problems.append(name + " carried a 64 KiB datagram")
if ms["pipe"]["throughput_bytes_per_s"]["1048576"] is None: problems.append("pipe could not carry 1 MiB")
print("\n".join(problems) if problems else "ok")
PY
check "every mechanism: 10 MB intact both ways, boundaries as its type says, the JSON complete" grep -qx ok "$dir/ipc.check"
[[ $(cat "$dir/ipc.check") == ok ]] || cat "$dir/ipc.check"

"$ipc" --only pipe,socketpair-dgram,tcp4 --round-trips 200 --warmup 10 --repetitions 1 --scale 0.005 --verify-megabytes 0 \
  --svg "$dir/ipc.svg" --html "$dir/ipc.html" > "$dir/table.txt" 2>/dev/null
check "the table ranks fastest first with ratios" grep -q "×fastest" "$dir/table.txt"
check "the SVG has a bar per mechanism with its number" bash -c "[[ \$(grep -c 'data-mechanism=\"pipe\"' '$dir/ipc.svg') -ge 4 ]]"
if command -v chromium > /dev/null; then
  chromium --headless --no-sandbox --disable-gpu --screenshot="$dir/ipc.png" --window-size=1000,1600 "file://$dir/ipc.html" > /dev/null 2>&1
  check "the page renders in headless Chromium" bash -c "[[ -s '$dir/ipc.png' && \$(stat -c %s '$dir/ipc.png') -gt 20000 ]]"
else
  echo "  (chromium not installed: the page was not rendered)"
fi

# Bad input: exit 2 and the reason.
long=$dir/$(printf 'd%.0s' $(seq 100))
mkdir -p "$long"
"$ipc" --only unix-stream --dir "$long" > /dev/null 2> "$dir/long.err"; status=$?
check "a folder too long for sun_path: exit 2, by how much" bash -c "[[ $status == 2 ]] && grep -q 'too many for a Unix socket' '$dir/long.err'"
mkdir -p "$dir/f" && touch "$dir/f/ipc-to-peer"
"$ipc" --only fifo --dir "$dir/f" --round-trips 10 --warmup 0 > /dev/null 2> "$dir/fifo.err"; status=$?
check "a FIFO path that is a regular file: exit 2" bash -c "[[ $status == 2 ]] && grep -q 'is a regular file, not a FIFO' '$dir/fifo.err'"
"$ipc" --only carrier-pigeon > /dev/null 2>&1; status=$?
check "an unknown mechanism: exit 2" test "$status" = 2

# socket-types, and Python's socket module as the oracle for what it can probe.
"$types" --json > "$dir/types.json" 2> /dev/null
python3 - "$dir/types.json" > "$dir/types.check" <<'PY'
import json, os, socket, sys, time
rows = {r["id"]: r for r in json.load(open(sys.argv[1]))["rows"]}
problems = []
def value(row, cell): return rows[row][cell]["value"]
def expect(row, cell, got):
    if value(row, cell) != got: problems.append("%s %s: socket-types %r, Python %r" % (row, cell, value(row, cell), got))

def boundaries(a, b, stream):
    for n in (1, 100, 7): a.send(b"c" * n)
    time.sleep(0.05)
    reads, total = [], 0
    b.settimeout(1)
    while total < 108 and len(reads) < 3:
        got = len(b.recv(65536)); reads.append(got); total += got
    return reads == [1, 100, 7]
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
expect("stream-tcp", "boundaries_kept", boundaries(c, s, True))
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0)); u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect(r.getsockname())
expect("dgram-udp", "boundaries_kept", boundaries(u, r, False))
for row, kind in (("seqpacket", socket.SOCK_SEQPACKET), ("unix-stream", socket.SOCK_STREAM), ("unix-dgram", socket.SOCK_DGRAM)):
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    expect(row, "boundaries_kept", boundaries(a, b, kind == socket.SOCK_STREAM))

def needs_connection(kind, family, address):
    x = socket.socket(family, kind)
    try: x.sendto(b"x", address); return False
    except OSError: return True
expect("stream-tcp", "connection", needs_connection(socket.SOCK_STREAM, socket.AF_INET, l.getsockname()))
expect("dgram-udp", "connection", needs_connection(socket.SOCK_DGRAM, socket.AF_INET, r.getsockname()))
for row, kind in (("seqpacket", socket.SOCK_SEQPACKET), ("unix-stream", socket.SOCK_STREAM), ("unix-dgram", socket.SOCK_DGRAM)):
    path = "/tmp/py-types-%d-%s" % (os.getpid(), row)
    n = socket.socket(socket.AF_UNIX, kind); n.bind(path)
    if kind != socket.SOCK_DGRAM: n.listen()
    expect(row, "connection", needs_connection(kind, socket.AF_UNIX, path)); os.unlink(path)

def largest(send, top):
    low, high = 1, top
    while low < high:
        mid = (low + high + 1) // 2
        try: send(mid); low = mid
        except OSError as e:
            if e.errno in (11, 105): low = mid  # EAGAIN, ENOBUFS: it fitted as a message
            else: high = mid - 1
    return low
q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
expect("dgram-udp", "largest_message", largest(lambda n: q.sendto(b"\0" * n, r.getsockname()), 70000))
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM); a.setblocking(False)
def unix_send(n):
    a.send(b"\0" * n)
    try: b.recv(1 << 21)
    except OSError: pass
expect("unix-dgram", "largest_message", largest(unix_send, 1 << 21))

if os.geteuid() == 0:
    pid = os.fork()
    if pid == 0:
        os.setgid(65534); os.setuid(65534)
        try: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); os._exit(0)
        except PermissionError: os._exit(1)
    _, status = os.waitpid(pid, 0)
    expect("raw-icmp", "privilege", "none" if os.WEXITSTATUS(status) == 0 else "CAP_NET_RAW")
    pid = os.fork()
    if pid == 0:
        os.setgid(65534); os.setuid(65534)
        try: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)); os._exit(0)
        except PermissionError: os._exit(1)
    _, status = os.waitpid(pid, 0)
    expect("packet", "privilege", "none" if os.WEXITSTATUS(status) == 0 else "CAP_NET_RAW")
    expect("stream-tcp", "reliable", True)
print("\n".join(problems) if problems else "ok")
PY
check "Python's socket module agrees with socket-types' cells" grep -qx ok "$dir/types.check"
[[ $(cat "$dir/types.check") == ok ]] || cat "$dir/types.check"
check "every row has every cell, each with evidence or a reason" python3 -c "
import json,sys
rows = json.load(open('$dir/types.json'))['rows']
cells = ['boundaries_kept','ordered','reliable','connection','privilege','largest_message','shown_by']
assert [r['id'] for r in rows] == ['stream-tcp','dgram-udp','seqpacket','raw-icmp','ping-icmp','unix-stream','unix-dgram','packet']
for r in rows:
    for c in cells: assert r[c]['text'], (r['id'], c)
"
"$types" --explain dgram-udp > "$dir/explain.txt" 2>/dev/null
check "--explain shows the evidence (the bisection, the ss line)" bash -c "grep -q 'bisection by send()' '$dir/explain.txt' && grep -q '/proc/net/udp' '$dir/explain.txt'"
"$types" --explain nothing > /dev/null 2>&1; status=$?
check "--explain an unknown row: exit 2" test "$status" = 2
if [[ $(id -u) == 0 ]]; then
  cp "$types" "$dir/socket-types" && chmod 755 "$dir/socket-types"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$dir/socket-types" --json > "$dir/nobody.json" 2> /dev/null; status=$?
  check "as nobody: exit 0, the privileged rows skipped with the reason" python3 -c "
import json,sys
r = json.load(open('$dir/nobody.json')); rows = {x['id']: x for x in r['rows']}
assert $status == 0 and r['root'] is False
for row in ('raw-icmp', 'packet'):
    b = rows[row]['boundaries_kept']
    assert not b['measured'] and 'EPERM' in b['text'], b
    assert rows[row]['privilege']['value'] == 'CAP_NET_RAW', rows[row]['privilege']
assert not rows['stream-tcp']['reliable']['measured'] and 'root' in rows['stream-tcp']['reliable']['text']
assert rows['dgram-udp']['boundaries_kept']['value'] is True
"
fi

# Lab 11 on these results: the solution passes, a wrong answer gets its hint.
(cd "$dir" && "$labcheck" 11 --results ipc.json --types types.json --solution > answers.toml 2> /dev/null)
(cd "$dir" && "$labcheck" 11 --results ipc.json --types types.json --answers answers.toml > right.txt 2>&1); status=$?
check "labcheck 11: the right answers pass" bash -c "[[ $status == 0 ]]"
sed -i 's/^pipe_reads = .*/pipe_reads = 20/; s/^udp_largest = .*/udp_largest = 65535/' "$dir/answers.toml"
(cd "$dir" && "$labcheck" 11 --results ipc.json --types types.json --answers answers.toml > wrong.txt 2>&1); status=$?
check "labcheck 11: wrong answers fail with their hints" bash -c "[[ $status == 1 ]] && grep -q 'one read per message' '$dir/wrong.txt' && grep -q 'IPv4 header (20)' '$dir/wrong.txt'"
(cd "$dir" && "$labcheck" 11 --answers answers.toml > none.txt 2>&1); status=$?
check "labcheck 11 without results: exit 2 and how to make them" bash -c "[[ $status == 2 ]] && grep -q 'ipc-compare --json' '$dir/none.txt'"
finish
