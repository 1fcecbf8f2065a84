#!/usr/bin/env bash
# `make demo`: until handshake-demo exists, the SocketCore echo example end to end on loopback.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh build
swift build --product echo 2>&1 | grep -E "error|warning:|Build complete" || true
bin="$(swift build --show-bin-path)/echo"
port=${PORT:-9000}

echo
echo "== 1. The server: socket() → bind(127.0.0.1:$port) → listen() → poll() loop"
"$bin" server --host 127.0.0.1 --port "$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  ss -tln "sport = :$port" 2>/dev/null | grep -q LISTEN && break
  sleep 0.05
done
echo
echo "== 2. The kernel's view of it (ss): a socket in LISTEN"
ss -tln "sport = :$port" 2>/dev/null || true
echo
echo "== 3. The client: connect() sends the SYN; the handshake completes in the kernel"
echo "   It sends two lines, then shutdown(SHUT_WR) (a FIN); the server echoes and closes."
"$bin" client "127.0.0.1:$port" -m "hello, SocketLab" -m "every byte comes back"
echo
echo "== 4. Connection refused: nothing listens on port 1, the SYN is answered by RST"
"$bin" client 127.0.0.1:1 -m x || echo "   (exit code $?: the error names the call, the errno and a hint)"
echo
echo "Done. Try it yourself: $bin server --port $port   and in another terminal:   $bin client 127.0.0.1:$port"
