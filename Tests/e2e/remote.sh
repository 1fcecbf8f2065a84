#!/usr/bin/env bash
# remote against the shell: a corpus of commands run through `remote run` and locally, their
# stdout, stderr and exit status compared byte for byte; the token rules; a timeout and a
# client killed mid-run leave no process behind; a hostile client (a frame over the limit,
# garbage) does not stop the server serving. Usage: remote.sh PATH/TO/remote
set -uo pipefail
source "$(dirname "$0")/lib.sh"
remote=$1
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT
head -c 32 /dev/urandom | base64 > "$dir/token"
chmod 600 "$dir/token"
"$remote" serve --port 0 --token-file "$dir/token" > "$dir/serve.log" 2>&1 & pids+=($!)
server_pid=$!
for _ in $(seq 100); do address=$(grep -oE "serving on 127.0.0.1:[0-9]+" "$dir/serve.log" | grep -oE "[0-9.]+:[0-9]+$"); [[ -n $address ]] && break; sleep 0.05; done
[[ -n $address ]] || { echo "  remote serve did not start: $(cat "$dir/serve.log")"; exit 1; }
run() { "$remote" run "$address" --token-file "$dir/token" "$@"; }

# same NAME COMMAND…: stdout, stderr and status through remote equal those run here.
same() {
  local name=$1; shift
  "$@" < "$dir/input" > "$dir/local.out" 2> "$dir/local.err"; local here=$?
  run -- "$@" < "$dir/input" > "$dir/remote.out" 2> "$dir/remote.err"; local there=$?
  check "$name: stdout, stderr and exit status ($here) the same" bash -c "
    [[ $here == $there ]] && cmp -s '$dir/local.out' '$dir/remote.out' && cmp -s '$dir/local.err' '$dir/remote.err'"
}
printf 'line one\nline two\n' > "$dir/input"
same "exit 0" true
same "exit 1" false
same "exit 2" sh -c 'echo usage >&2; exit 2'
same "exit 255" sh -c 'exit 255'
same "killed by SIGTERM (143)" sh -c 'echo before; kill -TERM $$'
same "killed by SIGKILL (137)" sh -c 'kill -KILL $$'
same "binary output with NUL bytes" printf 'a\000b\000\377\001'
same "10 MB of output" sh -c 'head -c 10000000 /dev/zero | tr "\000" x'
same "stdout and stderr interleaved, each in order" sh -c 'for i in 1 2 3 4 5; do echo out $i; echo err $i >&2; done'
same "reads its standard input to the end" sh -c 'cat; echo done'
head -c 3000000 /dev/urandom > "$dir/input"
same "3 MB through stdin and back" cat
run -- no-such-program-here > /dev/null 2> "$dir/missing.err"; status=$?
check "a program that does not exist: 127 and the reason" bash -c "[[ $status == 127 ]] && grep -q 'no such program' '$dir/missing.err'"

# The token.
head -c 32 /dev/urandom | base64 > "$dir/wrong"; chmod 600 "$dir/wrong"
"$remote" run "$address" --token-file "$dir/wrong" -- true > /dev/null 2> "$dir/wrong.err"; status=$?
check "a wrong token: refused, exit 3" bash -c "[[ $status == 3 ]] && grep -q 'authentication failed' '$dir/wrong.err'"
check "the refusal is logged" grep -q "refused, wrong token" "$dir/serve.log"
check "the token never crosses the wire (HMAC of a challenge)" bash -c "
  tcpdump -i lo -w '$dir/token.pcap' -U --immediate-mode 'tcp port ${address##*:}' > /dev/null 2>&1 & t=\$!; sleep 0.5
  '$remote' run '$address' --token-file '$dir/token' -- true; sleep 0.3; kill \$t; wait \$t 2>/dev/null
  ! tshark -r '$dir/token.pcap' -T fields -e tcp.payload 2>/dev/null | tr -d '\n:' | xxd -r -p | grep -qF \"\$(cat '$dir/token')\""
"$remote" serve --port 0 --token-file "$dir/nothing" > /dev/null 2> "$dir/none.err"; status=$?
check "no token file: the server refuses to start, exit 2" bash -c "[[ $status == 2 ]] && grep -q 'cannot read the token file' '$dir/none.err'"
cp "$dir/token" "$dir/open"; chmod 644 "$dir/open"
"$remote" serve --port 0 --token-file "$dir/open" > /dev/null 2> "$dir/open.err"; status=$?
check "a token file others can read: refused, exit 2" bash -c "[[ $status == 2 ]] && grep -q 'can be read by others' '$dir/open.err'"

# Nothing left running.
marker="socketlab-remote-test-$$"
# (Durations no other test uses, so that pgrep finds only these.)
run --timeout 1 -- sh -c "sleep 37 & sleep 38; : $marker" > /dev/null 2>&1; status=$?
sleep 0.5
check "a timeout: exit 124, the whole process group killed (no sleep left)" bash -c "[[ $status == 124 ]] && ! pgrep -f 'sleep 3[78]' > /dev/null"
"$remote" run "$address" --token-file "$dir/token" -- sh -c "sleep 41; : $marker" > /dev/null 2>&1 & client=$!
sleep 0.7
kill -9 $client; wait $client 2>/dev/null
for _ in $(seq 40); do pgrep -f 'sleep 41' > /dev/null || break; sleep 0.1; done
check "the client killed mid-run: the program is killed too" bash -c "! pgrep -f 'sleep 4[1]' > /dev/null"
check "... and the server says so" grep -q "the client went away" "$dir/serve.log"

# A hostile client, then the server still serves.
python3 - "${address##*:}" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port)); s.recv(100)
s.sendall(bytes([0x02, 0x7f, 0xff, 0xff, 0xff]) + b"x" * 100)  # a 2 GiB proof
s.settimeout(10)
try:
    while s.recv(4096): pass
except OSError: pass
s = socket.create_connection(("127.0.0.1", port)); s.recv(100); s.sendall(b"GET / HTTP/1.0\r\n\r\n"); s.settimeout(10)
try:
    while s.recv(4096): pass
except OSError: pass
PY
run -- echo still here > "$dir/after.out" 2>&1
check "a frame over the limit and an HTTP request: the server closes them and keeps serving" grep -qx "still here" "$dir/after.out"

"$remote" serve --port 0 --token-file "$dir/token" --allow echo > "$dir/allow.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do allowed=$(grep -oE "127.0.0.1:[0-9]+" "$dir/allow.log"); [[ -n $allowed ]] && break; sleep 0.05; done
"$remote" run "$allowed" --token-file "$dir/token" -- echo allowed > "$dir/allowed.out"
"$remote" run "$allowed" --token-file "$dir/token" -- cat /etc/hostname > /dev/null 2> "$dir/denied.err"; status=$?
check "--allow echo: echo runs, cat does not (126, the reason)" bash -c "grep -qx allowed '$dir/allowed.out' && [[ $status == 126 ]] && grep -q 'not allowed' '$dir/denied.err'"
check "every run is logged: who, what, status, duration" grep -qE "run sh -c .*exited 2 in [0-9.]+ s" "$dir/serve.log"

# Between two hosts (network namespaces of a private two-hosts topology): remote across the
# link, and talk's measurement.
if [[ $(id -u) == 0 ]]; then
  bin=$(cd "$(dirname "$remote")" && pwd)
  "$bin/topology" hold two-hosts --prefix slrm > "$dir/hold.log" 2>&1 & holder=$!
  pids+=($holder)
  for _ in $(seq 200); do grep -q "is up" "$dir/hold.log" 2>/dev/null && break; sleep 0.05; done
  a=$(ip netns list | grep -oE "^slrm[0-9]+-a" | head -1) b=$(ip netns list | grep -oE "^slrm[0-9]+-b" | head -1)
  ip netns exec "$b" "$remote" serve --port 7009 --bind 10.99.0.2 --token-file "$dir/token" > "$dir/b.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do grep -q serving "$dir/b.log" && break; sleep 0.05; done
  ip netns exec "$a" "$remote" run 10.99.0.2:7009 --token-file "$dir/token" -- sh -c 'ip -4 -o addr show | grep -o "10.99.0.[0-9]*"; exit 7' > "$dir/across.out" 2>&1; status=$?
  check "between two hosts: A runs a command on B (it sees B's address), status 7" bash -c "[[ $status == 7 ]] && grep -qx 10.99.0.2 '$dir/across.out'"
  ip netns exec "$b" "$bin/talk" listen --port 7007 --echo > /dev/null 2>&1 & pids+=($!)
  sleep 0.3
  ip netns exec "$a" "$bin/talk" connect 10.99.0.2:7007 --measure 10 --json > "$dir/talk-across.json" 2>&1
  check "between two hosts: talk --measure across the link" grep -q '"lines":2' "$dir/talk-across.json"
  kill $holder; wait $holder 2>/dev/null
fi
finish
