#!/usr/bin/env bash
# `transfer` beside the references, side by side in one run (bench/out/transfer.txt), across
# the veth pair of the two-hosts topology (A sends, B receives into a folder on disk):
#   - TCP: `transfer` moving a file beside socat moving the same file; both until the copy is
#     on disk (ours fsyncs before its rename, so socat's copy gets `sync FILE` too), with the
#     CPU time of both ends per GB;
#   - TFTP: windowsize 16 beside lock-step (same client, same link), and our server beside
#     tftpd-hpa serving the same file to the same clients (ours and tftp-hpa's).
# Each figure is the median of RUNS alternating runs.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
[[ $(id -u) == 0 ]] || { echo "bench-transfer: needs root (network namespaces)"; exit 3; }
RUNS=${RUNS:-3}
MB=${MB:-1000}
TFTP_MB=${TFTP_MB:-50}
# The servers' comparison swings ±15% from run to run on a VM (lock-step is a chain of
# wake-ups), so it takes more runs than the rest.
TFTP_RUNS=${TFTP_RUNS:-9}
swift build -c release --product transfer 2>&1 | grep -E "error:" || true
swift build -c release --product topology 2>&1 | grep -E "error:" || true
bin=$(swift build -c release --show-bin-path)
mkdir -p bench/out
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/bench-transfer.XXXX")  # BENCH_DIR=/dev/shm: memory, not disk
chmod 755 "$work"
trap '"$bin/topology" down > /dev/null 2>&1; pkill -f "in.tftpd -L -a 10.99.0.2" 2> /dev/null; rm -rf "$work"' EXIT
"$bin/topology" up two-hosts > /dev/null
mkdir -p "$work/src" "$work/dst" && chmod 777 "$work/dst"
head -c $((MB * 1000000)) /dev/urandom > "$work/src/file.bin"
head -c $((TFTP_MB * 1000000)) /dev/urandom > "$work/src/tftp.bin"
chmod 644 "$work/src/"*
# TFTP's lock-step time is a chain of wake-ups: on 2 CPUs it swings 2x with where the client
# and the server land, so the TFTP runs pin the client to CPU 0 and the server to CPU 1.
A() { "$bin/topology" exec two-hosts A taskset -c 0 "$@"; }
B() { "$bin/topology" exec two-hosts B taskset -c 1 "$@"; }
# elapsed CMD…: the command's wall time in seconds.
elapsed() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# pair RECEIVER-CMD -- SENDER-CMD: runs both, prints "SECONDS CPU-SECONDS" (wall time until
# both ended; user+system time of both processes, from wait4).
pair() {
  python3 - "$@" <<'PY'
import os, subprocess, sys, time
args = sys.argv[1:]
cut = args.index("--")
receiver, sender = args[:cut], args[cut + 1:]
r = subprocess.Popen(receiver, stdout=subprocess.DEVNULL)
time.sleep(0.5)
start = time.monotonic()
s = subprocess.Popen(sender, stdout=subprocess.DEVNULL)
_, _, su = os.wait4(s.pid, 0)
if receiver[-1] != "--wait":
    r.terminate()
_, _, ru = os.wait4(r.pid, 0)
print(f"{time.monotonic() - start:.3f} {su.ru_utime + su.ru_stime + ru.ru_utime + ru.ru_stime:.3f}")
PY
}

out=bench/out/transfer.txt
{
  echo "transfer beside socat and tftpd-hpa — $(date -u +%F), $(nproc) CPUs, two-hosts veth A → B, folder on $(df --output=source "$work" | tail -1)"
  ours=() theirs=() ourcpu=() theircpu=()
  for _ in $(seq "$RUNS"); do
    rm -f "$work/dst/"*
    read -r t c < <(pair "$bin/topology" exec two-hosts B "$bin/transfer" receive --port 9100 --bind 10.99.0.2 --dir "$work/dst" \
                    -- "$bin/topology" exec two-hosts A "$bin/transfer" send "$work/src/file.bin" 10.99.0.2:9100)
    cmp -s "$work/src/file.bin" "$work/dst/file.bin" || { echo "transfer: the copy differs"; exit 1; }
    ours+=("$t"); ourcpu+=("$c")
    rm -f "$work/dst/"*
    read -r t c < <(pair "$bin/topology" exec two-hosts B sh -c "socat -u TCP-LISTEN:9101,bind=10.99.0.2,reuseaddr OPEN:$work/dst/file.bin,creat,trunc && sync $work/dst/file.bin" --wait \
                    -- "$bin/topology" exec two-hosts A socat -u OPEN:"$work/src/file.bin" TCP:10.99.0.2:9101)
    cmp -s "$work/src/file.bin" "$work/dst/file.bin" || { echo "socat: the copy differs"; exit 1; }
    theirs+=("$t"); theircpu+=("$c")
  done
  o=$(printf '%s\n' "${ours[@]}" | median) s=$(printf '%s\n' "${theirs[@]}" | median)
  oc=$(printf '%s\n' "${ourcpu[@]}" | median) sc=$(printf '%s\n' "${theircpu[@]}" | median)
  echo "TCP, $MB MB into a file, median of $RUNS alternating runs (CPU: user + system time of both ends, the kernel's page-cache writes included):"
  awk -v o="$o" -v s="$s" -v oc="$oc" -v sc="$sc" -v mb="$MB" 'BEGIN {
    printf "  transfer (SHA-256 both ends, fsync, rename)  %6.2f s  %7.1f MB/s  CPU %.2f s per GB\n", o, mb / o, oc * 1000 / mb
    printf "  socat + sync FILE                             %6.2f s  %7.1f MB/s  CPU %.2f s per GB\n", s, mb / s, sc * 1000 / mb
    printf "  transfer / socat rate: %.2f (target at least 0.90)\n", s / o }'

  # TFTP: our server on B, then tftpd-hpa on B, the same file.
  (B "$bin/transfer" tftp-serve --port 69 --bind 10.99.0.2 --dir "$work/src" > /dev/null 2>&1 &)
  sleep 0.5
  lock=() win=()
  for _ in $(seq "$RUNS"); do
    lock+=("$(A "$bin/transfer" tftp get 10.99.0.2:69 tftp.bin -o "$work/dst/l.bin" --blksize 1428 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')")
    win+=("$(A "$bin/transfer" tftp get 10.99.0.2:69 tftp.bin -o "$work/dst/w.bin" --blksize 1428 --windowsize 16 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')")
  done
  l=$(printf '%s\n' "${lock[@]}" | median) w=$(printf '%s\n' "${win[@]}" | median)
  echo "TFTP, $TFTP_MB MB, blksize 1428, our client (CPU 0) and server (CPU 1), median of $RUNS:"
  awk -v l="$l" -v w="$w" -v mb="$TFTP_MB" 'BEGIN {
    printf "  lock-step      %6.2f s  %6.1f MB/s\n  windowsize 16  %6.2f s  %6.1f MB/s\n  window / lock-step throughput: %.1fx (target at least 3x)\n", l, mb / l, w, mb / w, l / w }'
  pkill -f "tftp-serve --port 69 --bind 10.99.0.2" || true
  ours_hpa=() theirs_hpa=() ours_us=() theirs_us=()
  ours_server() {
    (B "$bin/transfer" tftp-serve --port 69 --bind 10.99.0.2 --dir "$work/src" > /dev/null 2>&1 &); sleep 0.5
    ours_us+=("$(A "$bin/transfer" tftp get 10.99.0.2:69 tftp.bin -o "$work/dst/a.bin" --blksize 1428 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')")
    ours_hpa+=("$(elapsed A tftp 10.99.0.2 -m binary -c get tftp.bin "$work/dst/b.bin")")
    pkill -f "tftp-serve --port 69 --bind 10.99.0.2" || true; sleep 0.2
  }
  their_server() {
    (B in.tftpd -L -a 10.99.0.2:69 -s -u root "$work/src" > /dev/null 2>&1 &); sleep 0.5
    theirs_us+=("$(A "$bin/transfer" tftp get 10.99.0.2:69 tftp.bin -o "$work/dst/c.bin" --blksize 1428 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')")
    theirs_hpa+=("$(elapsed A tftp 10.99.0.2 -m binary -c get tftp.bin "$work/dst/d.bin")")
    pkill -f "in.tftpd -L -a 10.99.0.2" || true; sleep 0.2
  }
  for run in $(seq "$TFTP_RUNS"); do  # alternating which goes first
    if ((run % 2)); then ours_server; their_server; else their_server; ours_server; fi
  done
  # The server's own share: from a capture on B, the time from each ACK in to the next DATA
  # out (tftp-hpa's client), median over every block, in separate runs (the capture costs).
  ifb=$("$bin/topology" exec two-hosts B ip -o link | awk -F': ' '$2 !~ /^lo/ {print $2}' | cut -d@ -f1 | head -1)
  turnaround() {  # turnaround SERVER-CMD… → "median p90 blocks" in µs
    (B "$@" > /dev/null 2>&1 &); sleep 0.5
    "$bin/topology" exec two-hosts B tcpdump -i "$ifb" -w "$work/turn.pcap" --immediate-mode -B 65536 udp 2> /dev/null & local dump=$!
    sleep 0.5
    A tftp 10.99.0.2 -m binary -c get tftp.bin "$work/dst/e.bin" > /dev/null
    sleep 0.3; kill -INT $dump; wait $dump 2> /dev/null || true
    pkill -f "tftp-serve --port 69 --bind 10.99.0.2|in.tftpd -L -a 10.99.0.2" || true; sleep 0.2
    tshark -r "$work/turn.pcap" -T fields -e frame.time_epoch -e ip.src -e tftp.opcode 2> /dev/null | python3 bench/tftpturnaround.py 10.99.0.2
  }
  ours_turn=() theirs_turn=()
  for run in $(seq "$TFTP_RUNS"); do
    ours_turn+=("$(turnaround "$bin/transfer" tftp-serve --port 69 --bind 10.99.0.2 --dir "$work/src" | cut -d' ' -f1)")
    theirs_turn+=("$(turnaround in.tftpd -L -a 10.99.0.2:69 -s -u root "$work/src" | cut -d' ' -f1)")
  done
  ot=$(printf '%s\n' "${ours_turn[@]}" | median) tt=$(printf '%s\n' "${theirs_turn[@]}" | median)
  a=$(printf '%s\n' "${ours_us[@]}" | median) b=$(printf '%s\n' "${ours_hpa[@]}" | median)
  c=$(printf '%s\n' "${theirs_us[@]}" | median) d=$(printf '%s\n' "${theirs_hpa[@]}" | median)
  echo "TFTP servers (CPU 1), $TFTP_MB MB lock-step, the same clients (CPU 0), median of $TFTP_RUNS alternating runs:"
  awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN {
    printf "  client `transfer tftp get --blksize 1428`:  our server %6.2f s, tftpd-hpa %6.2f s  (ours / theirs rate %.2f)\n", a, c, c / a
    printf "  client tftp-hpa (512-byte blocks):         our server %6.2f s, tftpd-hpa %6.2f s  (ours / theirs rate %.2f; target at least 1.0)\n", b, d, d / b }'
  echo "  the server's turnaround, ACK in to next DATA out (capture on B, median of $TFTP_RUNS runs' medians): our server $ot µs, tftpd-hpa $tt µs"
} | tee "$out"
