#!/usr/bin/env bash
# socks-proxy against real clients: curl (--socks5, --socks5-hostname, socks5h://user:pass@),
# Python's PySocks (Debian's python3-socks), ncat --proxy-type socks5, proxychains4 running curl
# unmodified; and a raw RFC 1928 client in Python for what no client exercises: every reply
# code, UDP ASSOCIATE, BIND, the half-close, the sub-negotiation's version byte, descriptors
# after 300 connections. Usage: socks-proxy.sh PATH/TO/socks-proxy
set -uo pipefail
source "$(dirname "$0")/lib.sh"
proxy=$1
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT

echo "hello through socks" > "$dir/index.html"
start_http_server "$dir"; web=$port; pids+=("$http_pid")
PYTHONUNBUFFERED=1 python3 -m http.server --bind ::1 0 --directory "$dir" > "$dir/web6.log" 2>&1 & pids+=($!)
for _ in $(seq 200); do web6=$(grep -oE "port [0-9]+" "$dir/web6.log" | grep -oE "[0-9]+"); [[ -n $web6 ]] && break; sleep 0.05; done

# logged FILE PATTERN: the proxy writes a connection's line when the relay ends, a moment
# after the client has its answer; wait for it (up to 5 s).
logged() {
  for _ in $(seq 100); do grep -q "$2" "$1" && return 0; sleep 0.05; done
  return 1
}
export -f logged

# start_proxy NAME ARGS…: a proxy on a free port; sets $proxy_port, logs in $dir/NAME.log.
start_proxy() {
  local name=$1; shift
  "$proxy" --port 0 --log "$@" > "$dir/$name.log" 2>&1 & pids+=($!)
  proxy_pid=$!
  for _ in $(seq 200); do
    proxy_port=$(grep -oE "listening on 127.0.0.1:[0-9]+" "$dir/$name.log" | grep -oE "[0-9]+$")
    [[ -n $proxy_port ]] && return 0
    sleep 0.05
  done
  echo "  socks-proxy did not start: $(cat "$dir/$name.log")"; exit 1
}

start_proxy open
open=$proxy_port open_pid=$proxy_pid
start_proxy auth --auth alice:s3cret
auth=$proxy_port
start_proxy limited --allow 10.0.0.0/8
limited=$proxy_port

check "curl --socks5: an IPv4 target (ATYP 1), the page comes back" bash -c "
  [[ \$(curl -sS --max-time 10 --socks5 127.0.0.1:$open http://127.0.0.1:$web/) == 'hello through socks' ]]"
check "curl --socks5-hostname: the proxy resolves the name (ATYP 3)" bash -c "
  [[ \$(curl -sS --max-time 10 --socks5-hostname 127.0.0.1:$open http://localhost:$web/) == 'hello through socks' ]] && logged '$dir/open.log' 'CONNECT localhost:$web'"
check "curl to an IPv6 target on ::1 (ATYP 4)" bash -c "
  [[ \$(curl -sS --max-time 10 --socks5 127.0.0.1:$open 'http://[::1]:$web6/') == 'hello through socks' ]] && logged '$dir/open.log' 'CONNECT \[::1\]:$web6'"
check "socks5h://user:pass@: the login is accepted" bash -c "
  [[ \$(curl -sS --max-time 10 -x socks5h://alice:s3cret@127.0.0.1:$auth http://localhost:$web/) == 'hello through socks' ]]"
curl -sS --max-time 10 -x socks5h://alice:wrong@127.0.0.1:$auth http://localhost:$web/ > /dev/null 2> "$dir/curl.err"; code=$?
check "a wrong password: curl exits 97, the proxy logs the refusal" bash -c "[[ $code == 97 ]] && logged '$dir/auth.log' 'login as \"alice\" refused'"
curl -sS --max-time 10 --socks5 127.0.0.1:$auth http://127.0.0.1:$web/ > /dev/null 2>&1; code=$?
check "no login offered where one is required: refused (0xFF), curl exits 97" test "$code" = 97
closed_port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
curl -sS --max-time 10 --socks5 127.0.0.1:$open http://127.0.0.1:$closed_port/ 2> "$dir/curl.err" > /dev/null; code=$?
check "a target that refuses: REP 5, curl exits 97 and says (5)" bash -c "[[ $code == 97 ]] && grep -q '(5)' '$dir/curl.err'"
curl -sS --max-time 10 --socks5-hostname 127.0.0.1:$open http://no-such-host.invalid/ 2> "$dir/curl.err" > /dev/null; code=$?
check "a name that does not resolve: REP 4 (host unreachable)" bash -c "[[ $code == 97 ]] && grep -q '(4)' '$dir/curl.err'"
curl -sS --max-time 10 --socks5 127.0.0.1:$limited http://127.0.0.1:$web/ 2> "$dir/curl.err" > /dev/null; code=$?
check "--allow 10.0.0.0/8: 127.0.0.1 is not allowed, REP 2" bash -c "[[ $code == 97 ]] && grep -q '(2)' '$dir/curl.err'"

check "PySocks (python3-socks): a connection through the proxy, with and without a login" /usr/bin/python3 - "$open" "$auth" "$web" <<'PY'
import socks, sys
open_port, auth_port, web = map(int, sys.argv[1:4])
def get(port, **login):
    s = socks.socksocket()
    s.set_proxy(socks.SOCKS5, "127.0.0.1", port, rdns=True, **login)
    s.settimeout(10)
    s.connect(("localhost", web))
    s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    return data
assert b"hello through socks" in get(open_port)
assert b"hello through socks" in get(auth_port, username="alice", password="s3cret")
PY

check "ncat --proxy-type socks5: bytes to a server and back" bash -c "
  printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 ncat --proxy 127.0.0.1:$open --proxy-type socks5 127.0.0.1 $web | grep -q 'hello through socks'"

cat > "$dir/proxychains.conf" <<EOF
strict_chain
quiet_mode
tcp_read_time_out 15000
tcp_connect_time_out 8000
[ProxyList]
socks5 127.0.0.1 $open
EOF
before=$(grep -c CONNECT "$dir/open.log")
check "proxychains4 runs curl unmodified through the proxy" bash -c "
  [[ \$(timeout 20 proxychains4 -q -f '$dir/proxychains.conf' curl -sS --max-time 10 http://127.0.0.1:$web/) == 'hello through socks' ]] &&
  for _ in \$(seq 100); do [[ \$(grep -c CONNECT '$dir/open.log') -gt $before ]] && exit 0; sleep 0.05; done; exit 1"

# A raw RFC 1928 client for the rest.
cat > "$dir/raw.py" <<'PY'
import socket, struct, sys, os
proxy = ("127.0.0.1", int(sys.argv[1]))
def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk: raise EOFError(f"EOF after {len(data)} of {n}")
        data += chunk
    return data
def reply(s):
    head = recv_exact(s, 4)
    atyp = head[3]
    rest = recv_exact(s, {1: 4, 4: 16}.get(atyp, 0) + 2) if atyp != 3 else recv_exact(s, recv_exact(s, 1)[0] + 2)
    return head[1], atyp, rest
def greet(methods=b"\x00", piecewise=False):
    s = socket.create_connection(proxy, timeout=10)
    msg = b"\x05" + bytes([len(methods)]) + methods
    for b in ([msg[i:i+1] for i in range(len(msg))] if piecewise else [msg]):
        s.sendall(b)
    assert recv_exact(s, 2)[0] == 5
    return s
def connect(s, host, port, piecewise=False):
    if isinstance(host, str) and not host.replace(".", "").isdigit():
        addr = b"\x03" + bytes([len(host)]) + host.encode()
    else:
        addr = b"\x01" + socket.inet_aton(host)
    msg = b"\x05\x01\x00" + addr + struct.pack("!H", port)
    for b in ([msg[i:i+1] for i in range(len(msg))] if piecewise else [msg]):
        s.sendall(b)
    return reply(s)
test = sys.argv[2]
if test == "codes":
    s = greet(); s.sendall(b"\x05\x09\x00\x01\x7f\x00\x00\x01\x00\x50"); assert reply(s)[0] == 7, "unknown command: REP 7"
    s = greet(); s.sendall(b"\x05\x01\x00\x09\x7f\x00\x00\x01\x00\x50"); assert s.recv(10)[1] == 8, "bad ATYP: REP 8"
    s = greet(piecewise=True); rep = connect(s, "127.0.0.1", int(sys.argv[3]), piecewise=True)
    assert rep[0] == 0 and rep[1] == 1, f"1-byte pieces: {rep}"
    port = struct.unpack("!H", rep[2][4:6])[0]
    assert port == s.getsockname()[1] or port > 0, "BND.PORT in network order"
    print("codes ok")
elif test == "halfclose":
    # The target reads to EOF, then answers: the client's shutdown(SHUT_WR) must reach it.
    srv = socket.create_server(("127.0.0.1", 0)); target = srv.getsockname()[1]
    pid = os.fork()
    if pid == 0:
        c, _ = srv.accept(); data = b""
        while chunk := c.recv(65536): data += chunk
        c.sendall(b"got %d bytes" % len(data)); c.close(); os._exit(0)
    s = greet(); assert connect(s, "127.0.0.1", target)[0] == 0
    s.sendall(b"x" * 300000); s.shutdown(socket.SHUT_WR)
    answer = b""
    while chunk := s.recv(4096): answer += chunk
    os.waitpid(pid, 0)
    assert answer == b"got 300000 bytes", answer
    print("half-close ok")
elif test == "udp":
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); echo.bind(("127.0.0.1", 0)); eport = echo.getsockname()[1]
    s = greet(); s.sendall(b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
    code, atyp, rest = reply(s); assert code == 0, code
    relay = (socket.inet_ntoa(rest[:4]), struct.unpack("!H", rest[4:6])[0])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5); echo.settimeout(5)
    header = b"\x00\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", eport)
    u.sendto(header + b"ping", relay)
    data, back = echo.recvfrom(100); assert data == b"ping", data
    echo.sendto(b"pong", back)
    data, _ = u.recvfrom(100)
    assert data[3] == 1 and data[4:8] == socket.inet_aton("127.0.0.1") and struct.unpack("!H", data[8:10])[0] == eport and data[10:] == b"pong", data
    u.sendto(b"\x00\x00\x01\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", eport) + b"frag", relay)
    echo.settimeout(0.5)
    try: echo.recvfrom(100); raise AssertionError("a fragment was relayed")
    except socket.timeout: pass
    print("udp ok")
elif test == "bind":
    s = greet(); s.sendall(b"\x05\x02\x00\x01" + socket.inet_aton("127.0.0.1") + b"\x00\x00")
    code, atyp, rest = reply(s); assert code == 0, code
    where = (socket.inet_ntoa(rest[:4]), struct.unpack("!H", rest[4:6])[0])
    other = socket.create_connection(where, timeout=5)
    code, atyp, rest = reply(s); assert code == 0 and struct.unpack("!H", rest[4:6])[0] == other.getsockname()[1], rest
    other.sendall(b"from the target"); assert recv_exact(s, 15) == b"from the target"
    s.sendall(b"back"); assert recv_exact(other, 4) == b"back"
    print("bind ok")
elif test == "login-version":
    s = greet(b"\x02"); s.sendall(b"\x01\x05alice\x06s3cret")
    v = recv_exact(s, 2); assert v == b"\x01\x00", f"RFC 1929 reply {v!r}: version 1, status 0"
    s = greet(b"\x02"); s.sendall(b"\x01\x05alice\x05wrong")
    v = recv_exact(s, 2); assert v[0] == 1 and v[1] != 0, v
    assert s.recv(10) == b"", "a failed login closes the connection"
    print("login ok")
elif test == "many":
    for i in range(300):
        s = greet(); assert connect(s, "127.0.0.1", int(sys.argv[3]))[0] == 0
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while s.recv(4096): pass
        s.close()
    print("300 ok")
PY
check "unknown command REP 7, bad address type REP 8; greeting and request in 1-byte pieces" python3 "$dir/raw.py" "$open" codes "$web"
check "half-close: the client's FIN reaches the target, whose answer still comes back" python3 "$dir/raw.py" "$open" halfclose
check "UDP ASSOCIATE: a datagram out with its header, the reply back with one; FRAG ≠ 0 dropped" python3 "$dir/raw.py" "$open" udp
check "BIND: the first reply says where to connect, the second who came; data both ways" python3 "$dir/raw.py" "$open" bind
check "RFC 1929: the login reply's version byte is 1 (not 5); a failed login closes" python3 "$dir/raw.py" "$auth" login-version
fds_before=$(ls /proc/$open_pid/fd | wc -l)
check "300 connections one after another" python3 "$dir/raw.py" "$open" many "$web"
sleep 0.5
fds_after=$(ls /proc/$open_pid/fd | wc -l)
check "… and the proxy's descriptors do not grow ($fds_before before, $fds_after after)" test "$fds_after" -le $((fds_before + 2))

# The steps on the wire: the inspector names each SOCKS5 message where tshark's SOCKS
# dissector (told the port) finds it, with the same fields.
inspector=$(dirname "$proxy")/inspector
tcpdump -i lo -U --immediate-mode -w "$dir/socks.pcap" "tcp port $auth or tcp port $open" > "$dir/tcpdump.log" 2>&1 & dump=$!
for _ in $(seq 100); do grep -q "listening on" "$dir/tcpdump.log" && break; sleep 0.05; done
curl -sS --max-time 10 -x socks5h://alice:s3cret@127.0.0.1:$auth http://localhost:$web/ > /dev/null
curl -sS --max-time 10 --socks5 127.0.0.1:$open http://127.0.0.1:$closed_port/ > /dev/null 2>&1
python3 "$dir/raw.py" "$open" codes "$web" > /dev/null
sleep 0.5; kill -INT $dump; wait $dump
"$inspector" read --json --socks "$auth" --socks "$open" "$dir/socks.pcap" > "$dir/socks.json"
check "the inspector and tshark find the same SOCKS5 messages with the same fields" python3 - "$dir/socks.pcap" "$dir/socks.json" "$auth" "$open" <<'PY'
import json, subprocess, sys
pcap, ours, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
fields = ["socks.auth_method", "socks.auth_accepted_method", "socks.username", "socks.auth_status", "socks.command",
          "socks.remote_name", "socks.dst", "socks.port", "socks.results"]
args = ["tshark", "-r", pcap, "-n", "-T", "fields", "-E", "separator=\t", "-e", "frame.number", "-e", "tcp.len"]
for port in ports: args += ["-d", f"tcp.port=={port},socks"]
for f in fields: args += ["-e", f]
theirs = {}
for line in subprocess.run(args, capture_output=True, text=True).stdout.splitlines():
    c = line.split("\t")
    theirs[int(c[0])] = dict(zip(fields, c[2:]), length=int(c[1] or 0))
mine = {}
for line in open(ours):
    o = json.loads(line)
    if o.get("kind") == "packet" and "socks" in o: mine[o["frame"]] = o["socks"]
checked = 0
for frame, steps in mine.items():
    t = theirs[frame]
    for step in steps:
        m = step["message"]
        if m == "greeting": ok = t["socks.auth_method"] == ",".join(map(str, step["methods"]))
        elif m == "method": ok = t["socks.auth_accepted_method"] == str(step["method"])
        elif m == "login": ok = t["socks.username"] == step["username"]
        elif m == "login_status": ok = t["socks.auth_status"] == ("0" if step["succeeded"] else "1")
        elif m == "request" and "address" in step:
            ok = t["socks.command"] == str(step["command"]) and (t["socks.remote_name"] == step["address"] or t["socks.dst"] == step["address"]) and t["socks.port"] == str(step["port"])
        elif m == "request": ok = t["socks.command"] == str(step["command"])
        elif m == "reply": ok = t["socks.results"] == str(step["reply"]) and t["socks.port"] == str(step["port"])
        else: ok = False
        # 1-byte pieces: tshark does not reassemble SOCKS, so only whole messages are compared.
        def size(step):
            m = step["message"]
            if m == "greeting": return 2 + len(step["methods"])
            if m == "login": return 3 + len(step["username"]) + step["password_length"]
            if "address_type" in step:
                return 6 + {"IPv4": 4, "IPv6": 16}.get(step["address_type"], 1 + len(step["address"]))
            return 2
        if not ok and t["length"] >= size(step):
            sys.exit(f"frame {frame} {m}: inspector {step}, tshark {t}")
        checked += ok
names = [s["message"] for steps in mine.values() for s in steps]
for m in ["greeting", "method", "login", "login_status", "request", "reply"]:
    assert m in names, f"no {m} found: {names}"
assert any(s.get("reply") == 5 for steps in mine.values() for s in steps), "the refused target's REP 5"
print(f"{checked} SOCKS5 messages agree with tshark")
PY
check "the text view tells the steps in the seed's words" bash -c "
  '$inspector' read --socks $auth '$dir/socks.pcap' > '$dir/socks.txt' &&
  grep -q '2. The client asks to be let in' '$dir/socks.txt' && grep -q '4. The client names the host and port it wants: CONNECT to localhost:$web' '$dir/socks.txt' &&
  grep -q 'password crosses the wire in clear text' '$dir/socks.txt' && grep -q '6. succeeded: the proxy' '$dir/socks.txt'"

# Across hosts: client C – router R – server S (network namespaces). The proxy runs on R and
# listens on R's client-side address, which it will do only with its targets limited.
topology=$(dirname "$proxy")/topology
if [[ $(id -u) == 0 ]] && "$topology" up router > "$dir/topology.log" 2>&1; then
  "$topology" exec router S python3 -m http.server --bind 10.99.3.1 --directory "$dir" 8080 > "$dir/s-web.log" 2>&1 & pids+=($!)
  "$topology" exec router R "$proxy" --bind 10.99.2.254 --port 1080 --allow 10.99.3.0/24 --log > "$dir/r-proxy.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$dir/r-proxy.log" && "$topology" exec router S ss -ltn 2>/dev/null | grep -q ':8080 ' && break; sleep 0.1; done
  check "across hosts: curl on C fetches S's page through the proxy on R (--allow 10.99.3.0/24)" bash -c "
    [[ \$('$topology' exec router C curl -sS --max-time 10 --socks5 10.99.2.254:1080 http://10.99.3.1:8080/) == 'hello through socks' ]]"
  "$topology" exec router C curl -sS --max-time 10 --socks5 10.99.2.254:1080 http://10.99.2.1:9/ > /dev/null 2> "$dir/c-curl.err"; code=$?
  check "across hosts: a target outside --allow (C itself) is refused with REP 2" bash -c "[[ $code == 97 ]] && grep -q '(2)' '$dir/c-curl.err'"
  check "across hosts: PySocks on C through R" "$topology" exec router C /usr/bin/python3 -c "
import socks
s = socks.socksocket(); s.set_proxy(socks.SOCKS5, '10.99.2.254', 1080); s.settimeout(10)
s.connect(('10.99.3.1', 8080)); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')
data = b''
while chunk := s.recv(4096): data += chunk
assert b'hello through socks' in data, data"
  check "across hosts: ncat --proxy-type socks5 on C through R" bash -c "
    printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 '$topology' exec router C ncat --proxy 10.99.2.254:1080 --proxy-type socks5 10.99.3.1 8080 | grep -q 'hello through socks'"
  sed "s/^socks5 127.0.0.1 .*/socks5 10.99.2.254 1080/" "$dir/proxychains.conf" > "$dir/proxychains-r.conf"
  check "across hosts: proxychains4 runs curl on C unmodified through R" bash -c "
    [[ \$(timeout 20 '$topology' exec router C proxychains4 -q -f '$dir/proxychains-r.conf' curl -sS --max-time 10 http://10.99.3.1:8080/) == 'hello through socks' ]]"
  kill "${pids[@]}" 2>/dev/null
  "$topology" down > /dev/null 2>&1
else
  check "across hosts (needs root and network namespaces)" false
fi

"$proxy" --port 0 --bind 0.0.0.0 > "$dir/public.log" 2>&1; code=$?
check "0.0.0.0 with no --auth and no --allow: refused, exit 2, and says why" bash -c "[[ $code == 2 ]] && grep -q 'open proxy' '$dir/public.log'"
printf 'alice:s3cret\n' > "$dir/logins"; chmod 644 "$dir/logins"
"$proxy" --port 0 --auth-file "$dir/logins" > "$dir/file.log" 2>&1; code=$?
check "an auth file others can read: refused, exit 2, with the chmod to run" bash -c "[[ $code == 2 ]] && grep -q 'chmod 600' '$dir/file.log'"
finish
