#!/usr/bin/env bash
# Every numeric option of every tool: NaN, infinity and one past each bound are bad usage
# (exit 2, a message that gives the range), never a trap; the bounds themselves are accepted.
#   Tests/e2e/options.sh PATH/TO/BIN-FOLDER
set -uo pipefail
bin=$1
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

refused() {  # refused TOOL ARGS… : exit 2, a range in the message, no backtrace
  "$@" > "$dir/out" 2> "$dir/err" < /dev/null
  local code=$?
  [[ $code == 2 ]] && grep -qE "must be|not a|Missing value|Unknown|invalid" "$dir/err" && ! grep -qiE "fatal error|backtrace|Crashed" "$dir/err"
}
for value in nan inf -inf 1e308 0.001; do
  check "raw-ping -i $value is refused" refused "$bin/raw-ping" -c 1 -i "$value" 127.0.0.1
done
for value in nan inf 0 -1 1e308; do
  check "raw-ping -W $value is refused" refused "$bin/raw-ping" -c 1 -W "$value" 127.0.0.1
done
check "raw-ping -c 0 is refused" refused "$bin/raw-ping" -c 0 127.0.0.1
check "raw-ping -c 1000000001 is refused" refused "$bin/raw-ping" -c 1000000001 127.0.0.1
check "raw-ping -s 65508 is refused" refused "$bin/raw-ping" -c 1 -s 65508 127.0.0.1
check "raw-ping -t 256 is refused" refused "$bin/raw-ping" -c 1 -t 256 127.0.0.1
check "raw-ping -t 0 is refused" refused "$bin/raw-ping" -c 1 -t 0 127.0.0.1
check "raw-ping at its bounds runs: -c 1 -i 0.002 -W 0.001 -s 65507 -t 255" bash -c "'$bin/raw-ping' -q -c 1 -i 0.002 -W 0.001 -s 0 -t 255 127.0.0.1 > /dev/null 2>&1; [[ \$? != 2 ]]"
for value in nan inf 0 604801; do
  check "capture live --duration $value is refused" refused "$bin/capture" live --duration "$value"
done
check "capture live -B 1048577 is refused" refused "$bin/capture" live -B 1048577
check "capture live -s 67 is refused" refused "$bin/capture" live -s 67
check "capture live -s 262145 is refused" refused "$bin/capture" live -s 262145
check "capture read -c 0 is refused" refused "$bin/capture" read -c 0 /dev/null
check "inspector read -c 0 and --stream -1 are refused" bash -c "'$bin/inspector' read -c 0 x > /dev/null 2>&1; [[ \$? == 2 ]] && '$bin/inspector' read --stream -1 x > /dev/null 2>&1; [[ \$? == 2 ]]"
for option in "--round-trips 1000001" "--messages 0" "--megabytes 10001" "--two-hosts --loss nan" "--two-hosts --loss 101"; do
  # shellcheck disable=SC2086
  check "udp-vs-tcp $option is refused" refused "$bin/udp-vs-tcp" $option
done
check "tcp-echo client --timeout nan and server --backlog 0 are refused" bash -c "'$bin/tcp-echo' client 127.0.0.1:9 --timeout nan > /dev/null 2>&1; [[ \$? == 2 ]] && '$bin/tcp-echo' server --backlog 0 > /dev/null 2>&1; [[ \$? == 2 ]]"
check "labcheck --port 0 and --port 80 are refused" bash -c "'$bin/labcheck' 05 --server true --port 0 > /dev/null 2>&1; [[ \$? == 2 ]] && '$bin/labcheck' 05 --server true --port 80 > /dev/null 2>&1; [[ \$? == 2 ]]"
check "topology up --loss nan is refused" refused "$bin/topology" up two-hosts --loss nan

# Exit codes that follow the contract, and messages that say what to do.
"$bin/raw-ping" -6 -c 1 127.0.0.1 > /dev/null 2> "$dir/err"; code=$?
check "raw-ping -6 127.0.0.1: bad usage (exit 2), with the family hint" bash -c "[[ $code == 2 ]] && grep -q 'other family' '$dir/err'"
"$bin/raw-ping" -c 1 -W 1 255.255.255.255 > /dev/null 2> "$dir/err"; code=$?
check "raw-ping to a broadcast address: exit 2 naming SO_BROADCAST, not a missing privilege" bash -c "[[ $code == 2 ]] && grep -q SO_BROADCAST '$dir/err'"
"$bin/handshake-demo" --no-color --write /nonexistent/folder/demo.pcap > /dev/null 2> "$dir/err"; code=$?
check "handshake-demo --write into a folder that does not exist: exit 2, said" bash -c "[[ $code == 2 ]] && grep -q 'does not exist' '$dir/err'"
"$bin/tcp-echo" client nosuchhost.invalid:9 > /dev/null 2> "$dir/err"
check "no message names a Swift API" bash -c "! grep -qE 'SocketAddress|\\.broadcast|/path/to' '$dir/err'"
mkdir -p "$dir/planted/scripts" && printf '#!/bin/sh\ntouch %s/planted/ran\n' "$dir" > "$dir/planted/scripts/twohosts" && chmod +x "$dir/planted/scripts/twohosts"
(cd "$dir/planted" && "$bin/udp-vs-tcp" --two-hosts --loss 5 --messages 20 --round-trips 5 --megabytes 1 > /dev/null 2>&1); code=$?
"$bin/topology" down > /dev/null 2>&1
check "udp-vs-tcp --loss sets the loss itself and never runs a program found in the current folder" bash -c "[[ $code == 0 ]] && [[ ! -e '$dir/planted/ran' ]]"

# Hosts are read one way by every server tool.
"$bin/chat-server" --host unix: --port 9000 > /dev/null 2> "$dir/err"; code=$?
check "chat-server --host unix: is refused (exit 2), no socket file made" bash -c "[[ $code == 2 ]] && [[ ! -e ':9000' ]] && grep -q 'not a Unix socket path' '$dir/err'"
"$bin/chat-server" --host ::1 --port 0 > "$dir/chat6" 2>&1 & chat=$!
for _ in $(seq 100); do grep -q listening "$dir/chat6" && break; sleep 0.05; done
check "chat-server --host ::1 listens on [::1]" grep -q 'listening on \[::1\]' "$dir/chat6"
port=$(grep -oE '[0-9]+ \(Ctrl' "$dir/chat6" | grep -oE '^[0-9]+')
"$bin/chat-server" --host ::1 --port "$port" > /dev/null 2> "$dir/err"; code=$?
check "chat-server on a port in use: exit 1 with EADDRINUSE, as its help says" bash -c "[[ $code == 1 ]] && grep -q EADDRINUSE '$dir/err' && '$bin/chat-server' --help | grep -q '1 the port is in use'"
kill $chat 2>/dev/null; wait $chat 2>/dev/null

# standby: every numeric option out of range or not a number is bad usage, never a trap.
for option in "probe 127.0.0.1:9 --duration nan" "probe 127.0.0.1:9 --duration inf" "probe 127.0.0.1:9 --every 0" \
              "probe 127.0.0.1:9 --timeout 60001" "scenario --repeat 0" "scenario --interval 9" "scenario --failures explode" \
              "fail loss S1 101" "fail loss S1 nan" "fail loss S1 --every 0"; do
  # shellcheck disable=SC2086
  check "standby $option is refused" refused "$bin/standby" $option
done
for option in "--interval 9" "--interval nan" "--priority 0" "--priority 255" "--interval 40951"; do
  # shellcheck disable=SC2086
  check "standby run $option: exit 2" bash -c "'$bin/standby' run --name A --peer 10.99.1.2:1985 --priority 100 --interval 100 --key-file /nonexistent $option > /dev/null 2>&1; [[ \$? == 2 ]]"
done

# labcheck in a folder it cannot write: it says so, and does not blame a missing privilege.
mkdir -p "$dir/readonly" && chmod 555 "$dir/readonly"
(cd "$dir/readonly" && setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/labcheck" 05 --server "sleep 5" --port 9390 > "$dir/ro.txt" 2>&1); code=$?
check "labcheck in a folder it cannot write: exit 1, 'not writable', not 'needs root'" bash -c "[[ $code == 1 ]] && grep -q 'not writable' '$dir/ro.txt' && ! grep -qi 'needs root' '$dir/ro.txt'"
finish
