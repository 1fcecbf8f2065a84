#!/usr/bin/env bash
# The echo tool against real clients: nc, Python, and its own client; and its exit codes.
#   Tests/e2e/tcp-echo.sh PATH/TO/tcp-echo
set -uo pipefail
echo_bin=$1
source "$(dirname "$0")/lib.sh"

# Port 0: the kernel picks a free one (a fixed random pick collided once with a port in use
# under CI load), and the server says which.
"$echo_bin" server --host 127.0.0.1 --port 0 --quiet > /tmp/echo-e2e-$$.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f /tmp/echo-e2e-$$.*' EXIT
for _ in $(seq 100); do
  grep -q listening /tmp/echo-e2e-$$.log 2>/dev/null && break
  sleep 0.05
done
port=$(grep -oE "listening on 127.0.0.1:[0-9]+" /tmp/echo-e2e-$$.log | grep -oE "[0-9]+$")

check "the server says where it listens" bash -c "[[ -n '$port' && '$port' != 0 ]]"
check "nc gets its line back" bash -c "[[ \$(printf 'hello from nc\n' | timeout 5 nc -N 127.0.0.1 $port) == 'hello from nc' ]]"
check "python: 1 MiB in one sendall comes back intact, then EOF" timeout 20 python3 - "$port" <<'PY'
import socket, sys, hashlib, os
data = os.urandom(1 << 20)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = bytearray()
while chunk := s.recv(65536):
    got += chunk
sys.exit(0 if bytes(got) == data else 1)
PY
check "python: 20 clients at once each get their own bytes" timeout 20 python3 - "$port" <<'PY'
import socket, sys, threading
port, ok = int(sys.argv[1]), []
def client(i):
    s = socket.create_connection(("127.0.0.1", port))
    msg = (f"client {i} " * 1000).encode()
    s.sendall(msg); s.shutdown(socket.SHUT_WR)
    got = b""
    while chunk := s.recv(65536): got += chunk
    ok.append(got == msg)
threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
[t.start() for t in threads]; [t.join() for t in threads]
sys.exit(0 if len(ok) == 20 and all(ok) else 1)
PY
check "its own client: two messages, two echoes" bash -c "[[ \$('$echo_bin' client 127.0.0.1:$port -m one -m two | tr '\n' ' ') == 'one two ' ]]"
check "the server is still up after all that" kill -0 $server

# Exit codes from DESIGN.md: 1 failed operation, 2 bad input.
"$echo_bin" client 127.0.0.1:1 -m x 2>/tmp/echo-e2e-$$.err; code=$?
check "refused connection: exit 1 with the ECONNREFUSED hint" bash -c "[[ $code == 1 ]] && grep -q 'ECONNREFUSED.*start the server first' /tmp/echo-e2e-$$.err"
"$echo_bin" client 127.0.0.1:70000 2>/tmp/echo-e2e-$$.err; code=$?
check "port out of range: exit 2" bash -c "[[ $code == 2 ]] && grep -q 'out of range' /tmp/echo-e2e-$$.err"
"$echo_bin" client no-such-host.invalid:80 2>/dev/null; code=$?
check "unknown host: exit 2" test "$code" = 2
"$echo_bin" server --port 99999 2>/dev/null; code=$?
check "bad --port: exit 2" test "$code" = 2
"$echo_bin" server --host 127.0.0.1 --port "$port" 2>/tmp/echo-e2e-$$.err; code=$?
check "port in use: exit 1 with EADDRINUSE" bash -c "[[ $code == 1 ]] && grep -q EADDRINUSE /tmp/echo-e2e-$$.err"
"$echo_bin" --help >/dev/null; code=$?
check "--help exits 0" test "$code" = 0

finish
