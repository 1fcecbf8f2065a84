#!/usr/bin/env bash
# transfer end to end: files over TCP (digest, refusals, resume, several senders), TFTP with
# real peers both ways (curl, atftp and tftp-hpa against our server; our client against
# tftpd-hpa and atftpd), block-number rollover, and a lossy router between client and server.
#   Tests/e2e/transfer.sh PATH/TO/transfer
set -uo pipefail
tool=$1
bin=$(dirname "$tool")
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null; done
  wait 2> /dev/null
  "$bin/topology" down > /dev/null 2>&1
  mountpoint -q "$dir/tiny" && umount "$dir/tiny"
  rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"  # the receiver run as nobody must reach its folder
mkdir -p "$dir/out" "$dir/in" "$dir/get" "$dir/srv"
chmod 777 "$dir/srv"
for size in 0 1 511 512 513 1000000; do head -c $size /dev/urandom > "$dir/out/f$size"; done
head -c 34000000 /dev/urandom > "$dir/out/big"       # 66,407 blocks of 512: past 65,535
head -c 200000000 /dev/urandom > "$dir/out/huge"     # TCP only
cp "$dir/out/"* "$dir/srv/" && chmod 644 "$dir/srv/"*
same() { cmp -s "$1" "$2"; }
# wait_for FILE TEXT: until FILE contains TEXT (a server says it is listening), 10 s at most.
wait_for() { for _ in $(seq 200); do grep -q "$2" "$1" 2> /dev/null && return 0; sleep 0.05; done; echo "  no \"$2\" in $1: $(cat "$1")"; return 1; }

# ---- TCP ----
"$tool" receive --port 9451 --dir "$dir/in" --json > "$dir/receive.log" 2>&1 & pids+=($!)
wait_for "$dir/receive.log" listening
"$tool" send "$dir/out/f0" "$dir/out/f1" "$dir/out/f511" "$dir/out/f512" "$dir/out/f513" "$dir/out/big" "$dir/out/huge" 127.0.0.1:9451 --json > "$dir/send.json"; code=$?
check "TCP: 0, 1, 511, 512, 513 bytes, 34 MB and 200 MB arrive with equal SHA-256, exit 0" bash -c "
  [[ $code == 0 ]] && for f in f0 f1 f511 f512 f513 big huge; do cmp -s '$dir/out/'\$f '$dir/in/'\$f || exit 1; done"
check "TCP: --json gives bytes, seconds, rate and the digest sha256sum prints" python3 - "$dir/send.json" "$(sha256sum "$dir/out/huge" | cut -c1-64)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
huge = [f for f in r["files"] if f["name"] == "huge"][0]
assert huge["sha256"] == sys.argv[2] and huge["bytes_sent"] == 200000000 and huge["verdict"] == "ok", huge
assert huge["seconds"] > 0 and huge["rate_bytes_per_s"] > 0 and huge["resumed_from"] == 0, huge
assert r["bytes_sent"] == sum(f["bytes_sent"] for f in r["files"]), r
PY
check "TCP: no partial file is left after the transfers" bash -c "! ls -a '$dir/in' | grep -q '\.part$'"

"$tool" send "$dir/out/f513" 127.0.0.1:9451 > "$dir/refused.txt"; code=$?
check "TCP: an existing file is refused without --overwrite (exit 1, the reason named)" bash -c "[[ $code == 1 ]] && grep -q 'exists already' '$dir/refused.txt'"
raw() { printf "$1" | nc -q 2 127.0.0.1 9451; }
check "TCP: \"../x\", an absolute path and a NUL in the name are refused, nothing written outside" bash -c "
  [[ \$(printf 'OFFER socketlab-transfer/1\nname: ../x\nsize: 1\n\n' | nc -q 2 127.0.0.1 9451) == REFUSED*separator* ]] &&
  [[ \$(printf 'OFFER socketlab-transfer/1\nname: /etc/x\nsize: 1\n\n' | nc -q 2 127.0.0.1 9451) == REFUSED*absolute* ]] &&
  [[ \$(printf 'OFFER socketlab-transfer/1\nname: a\0b\nsize: 1\n\n' | nc -q 2 127.0.0.1 9451 | tr -d '\0') == REFUSED*NUL* ]] &&
  [[ ! -e '$dir/x' && ! -e /etc/x ]]"
check "TCP: a client that is not a transfer sender is told so; the receiver keeps serving" bash -c "
  printf 'GET / HTTP/1.0\r\n\r\n' | nc -q 2 127.0.0.1 9451; cp '$dir/out/f1' '$dir/out/after-http' &&
  '$tool' send '$dir/out/after-http' 127.0.0.1:9451 > /dev/null && cmp -s '$dir/out/f1' '$dir/in/after-http'"

"$tool" receive --port 9452 --dir "$dir/in" --max-size 1000 > "$dir/limit.log" 2>&1 & pids+=($!)
wait_for "$dir/limit.log" receiving
"$tool" send "$dir/out/f1000000" 127.0.0.1:9452 > "$dir/limit.txt"; code=$?
check "TCP: a file over --max-size is refused from the offer, before any data" bash -c "
  [[ $code == 1 ]] && grep -q 'over the receiver.s limit of 1000 bytes' '$dir/limit.txt' && [[ ! -e '$dir/in/.f1000000.part' ]]"

mkdir -p "$dir/tiny" && mount -t tmpfs -o size=512k tmpfs "$dir/tiny"
"$tool" receive --port 9453 --dir "$dir/tiny" > "$dir/tiny.log" 2>&1 & pids+=($!)
wait_for "$dir/tiny.log" receiving
"$tool" send "$dir/out/f1000000" 127.0.0.1:9453 > "$dir/tiny.txt"; code=$?
check "TCP: a disk too small for the file: refused, saying how much is free" bash -c "[[ $code == 1 ]] && grep -q 'disk has' '$dir/tiny.txt'"

mkdir -p "$dir/locked" && chmod 755 "$dir/locked"
setpriv --reuid nobody --regid nogroup --clear-groups "$tool" receive --port 9454 --dir "$dir/locked" > "$dir/locked.log" 2>&1 & pids+=($!)
wait_for "$dir/locked.log" receiving
"$tool" send "$dir/out/f1" 127.0.0.1:9454 > "$dir/locked.txt"; code=$?
check "TCP: a folder the receiver may not write: refused with EACCES and a hint" bash -c "[[ $code == 1 ]] && grep -q 'EACCES' '$dir/locked.txt'"

"$tool" send "$dir/out/f1000000" "$dir/out/big" 127.0.0.1:9451 --overwrite > "$dir/one.txt" & one=$!
mkdir -p "$dir/out2" && cp "$dir/out/huge" "$dir/out2/huge2"
"$tool" send "$dir/out2/huge2" 127.0.0.1:9451 > "$dir/two.txt" & two=$!
wait $one; c1=$?; wait $two; c2=$?
check "TCP: two senders at once both arrive intact (the receiver only overwrites with --overwrite on both sides)" bash -c "
  [[ $c1 == 1 && $c2 == 0 ]] && grep -q 'exists already' '$dir/one.txt' && cmp -s '$dir/out/huge' '$dir/in/huge2'"

# Interrupted at half, then resumed: the second run sends only the rest.
head -c 20000000 /dev/urandom > "$dir/out/resume"
"$tool" send "$dir/out/resume" 127.0.0.1:9451 --limit-rate 10000000 > /dev/null 2>&1 & sender=$!
for _ in $(seq 600); do
  size=$(stat -c %s "$dir/in/.resume.part" 2> /dev/null || echo 0)
  ((size >= 10000000)) && break; sleep 0.01
done
kill $sender; wait $sender 2> /dev/null
sleep 0.2
check "TCP: a sender killed halfway leaves only the partial file, never the real name" bash -c "[[ -e '$dir/in/.resume.part' && ! -e '$dir/in/resume' ]]"
"$tool" send "$dir/out/resume" 127.0.0.1:9451 --resume --json > "$dir/resume.json"; code=$?
check "TCP: --resume sends at most 55% of the file and the result equals the source" python3 - "$dir/resume.json" "$code" "$dir/out/resume" "$dir/in/resume" <<'PY'
import json, sys, filecmp
r = json.load(open(sys.argv[1]))["files"][0]
assert sys.argv[2] == "0" and r["verdict"] == "ok", r
assert r["resumed_from"] >= 9_000_000 and r["bytes_sent"] <= 0.55 * 20_000_000, r
assert filecmp.cmp(sys.argv[3], sys.argv[4], shallow=False)
PY
check "TCP: the receiver logged the cut and the resumed transfer" bash -c "grep -q '\"event\":\"cut\"' '$dir/receive.log' && grep -q '\"resumed_from\":[1-9]' '$dir/receive.log'"
head -c 500000 /dev/urandom > "$dir/in/.changed.part"; cp "$dir/out/f1000000" "$dir/out/changed"
"$tool" send "$dir/out/changed" 127.0.0.1:9451 --resume --json > "$dir/changed.json"
check "TCP: --resume onto a partial file that is not the start of the source sends it all" python3 - "$dir/changed.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["files"][0]
assert r["resumed_from"] == 0 and r["partial_mismatch"] is True and r["verdict"] == "ok", r
PY
"$tool" send "$dir/out/nonexistent" 127.0.0.1:9451 2> "$dir/err"; code=$?
check "TCP: a missing file is bad input (exit 2), before connecting" bash -c "[[ $code == 2 ]] && grep -q ENOENT '$dir/err'"
"$tool" send "$dir/out/f1" 127.0.0.1:9 2> "$dir/err"; code=$?
check "TCP: nothing listening: exit 1 and ECONNREFUSED" bash -c "[[ $code == 1 ]] && grep -q ECONNREFUSED '$dir/err'"

# ---- TFTP: our server, real clients ----
"$tool" tftp-serve --port 9469 --dir "$dir/srv" --write > "$dir/tftp.log" 2>&1 & pids+=($!)
wait_for "$dir/tftp.log" serving
tftp_edges_ok() {  # CLIENT-COMMAND-PREFIX: get f0 f511 f512 f513 with it
  for f in f0 f511 f512 f513; do "$@" "$f" || return 1; same "$dir/srv/$f" "$dir/get/$f" || return 1; rm -f "$dir/get/$f"; done
}
curl_get() { curl -sf -o "$dir/get/$1" "tftp://127.0.0.1:9469/$1"; }
check "curl gets 0, 511, 512 and 513 bytes from our server intact" tftp_edges_ok curl_get
check "curl --tftp-blksize 1428 gets 34 MB past block 65,535 intact" bash -c "
  curl -sf --tftp-blksize 1428 -o '$dir/get/big' tftp://127.0.0.1:9469/big && cmp -s '$dir/srv/big' '$dir/get/big' && rm '$dir/get/big'"
check "curl with 512-byte blocks: 66,407 blocks, the block number wraps, the file is intact" bash -c "
  curl -sf -o '$dir/get/big' tftp://127.0.0.1:9469/big && cmp -s '$dir/srv/big' '$dir/get/big' && rm '$dir/get/big'"
atftp_get() { (cd "$dir/get" && atftp -g -r "$1" -l "$1" 127.0.0.1 9469 > /dev/null 2>&1); }
check "atftp gets 0, 511, 512 and 513 bytes intact" tftp_edges_ok atftp_get
check "atftp with blksize 8192 and windowsize 8 (RFC 7440) gets 34 MB intact" bash -c "
  cd '$dir/get' && atftp --option 'blksize 8192' --option 'windowsize 8' -g -r big -l big 127.0.0.1 9469 > /dev/null 2>&1 && cmp -s '$dir/srv/big' big && rm big"
hpa_get() { (cd "$dir/get" && tftp 127.0.0.1 9469 -m binary -c get "$1" "$1" > /dev/null 2>&1); }
check "tftp-hpa gets 0, 511, 512 and 513 bytes intact" tftp_edges_ok hpa_get
check "tftp-hpa and atftp put files to our server (--write), intact" bash -c "
  cd '$dir/out' && tftp 127.0.0.1 9469 -m binary -c put f513 hpa-put > /dev/null 2>&1 && cmp -s f513 '$dir/srv/hpa-put' &&
  atftp -p -l f1000000 -r atftp-put 127.0.0.1 9469 > /dev/null 2>&1 && cmp -s f1000000 '$dir/srv/atftp-put'"
check "two TFTP clients at once (curl and ours), each on its own transfer port, both intact" bash -c "
  curl -sf -o '$dir/get/c1' tftp://127.0.0.1:9469/f1000000 & p=\$!
  '$tool' tftp get 127.0.0.1:9469 f1000000 -o '$dir/get/c2' > /dev/null; r=\$?
  wait \$p && [[ \$r == 0 ]] && cmp -s '$dir/srv/f1000000' '$dir/get/c1' && cmp -s '$dir/srv/f1000000' '$dir/get/c2'"
printf 'line one\nline two\r\nend' > "$dir/srv/text.txt"
check "netascii: tftp-hpa in ascii mode gets the text back as it was (LF ↔ CR LF on the wire)" bash -c "
  cd '$dir/get' && tftp 127.0.0.1 9469 -m ascii -c get text.txt text.txt > /dev/null 2>&1 && cmp -s '$dir/srv/text.txt' text.txt"
curl -s -o /dev/null tftp://127.0.0.1:9469/missing; code=$?
check "a missing file is ERROR 1: curl says File Not Found (exit 68)" bash -c "[[ $code == 68 ]]"
check "a name with ../ is refused (ERROR 2), and no file outside the folder is read" bash -c "
  ! curl -sf -o /dev/null 'tftp://127.0.0.1:9469/..%2Fout%2Ff1' && grep -q 'refused RRQ ../out/f1' '$dir/tftp.log'"
check "the server's log names each transfer with its options and counters" bash -c "grep -q 'sent big (octet).*blksize 8192, windowsize 8' '$dir/tftp.log'"

# ---- TFTP: our client, real servers ----
"$tool" tftp-serve --port 9470 --dir "$dir/srv" > "$dir/ro.log" 2>&1 & pids+=($!)
wait_for "$dir/ro.log" serving
"$tool" tftp put 127.0.0.1:9470 "$dir/out/f1" -o nope > "$dir/ro.txt" 2>&1; code=$?
check "a write to a read-only server: ERROR 2, exit 1, the reason given" bash -c "[[ $code == 1 ]] && grep -q 'read-only' '$dir/ro.txt'"
check "our client gets 34 MB in lock-step (512-byte blocks, rollover) from our server intact" bash -c "
  '$tool' tftp get 127.0.0.1:9469 big -o '$dir/get/big' > /dev/null && cmp -s '$dir/srv/big' '$dir/get/big' && rm '$dir/get/big'"
in.tftpd -L -a 127.0.0.1:9471 -s -c -u root "$dir/srv" > /dev/null 2>&1 & pids+=($!)
sleep 0.3
check "our client gets 0, 511, 512, 513 bytes from tftpd-hpa intact" tftp_edges_ok bash -c "'$tool' tftp get 127.0.0.1:9471 \"\$0\" -o '$dir/get/'\"\$0\" > /dev/null"
check "our client gets 34 MB from tftpd-hpa with 512-byte blocks (past 65,535) and puts to it" bash -c "
  '$tool' tftp get 127.0.0.1:9471 big -o '$dir/get/big' > /dev/null && cmp -s '$dir/srv/big' '$dir/get/big' && rm '$dir/get/big' &&
  '$tool' tftp put 127.0.0.1:9471 '$dir/out/f1000000' -o hpa-from-us > /dev/null && cmp -s '$dir/out/f1000000' '$dir/srv/hpa-from-us'"
atftpd=$(ls /var/cache/socketlab/atftpd/usr/sbin/atftpd 2> /dev/null)
if [[ -n $atftpd ]]; then
  "$atftpd" --daemon --no-fork --port 9472 --bind-address 127.0.0.1 --user root.root "$dir/srv" > /dev/null 2>&1 & pids+=($!)
  sleep 0.3
  check "our client gets from atftpd with windowsize 8 and puts to it, intact" bash -c "
    '$tool' tftp get 127.0.0.1:9472 big -o '$dir/get/big' --blksize 1428 --windowsize 8 > /dev/null && cmp -s '$dir/srv/big' '$dir/get/big' &&
    '$tool' tftp put 127.0.0.1:9472 '$dir/out/f513' -o atftpd-from-us > /dev/null && cmp -s '$dir/out/f513' '$dir/srv/atftpd-from-us'"
else
  check "atftpd is unpacked by scripts/setup.sh test (/var/cache/socketlab/atftpd)" false
fi

# ---- TFTP through a lossy router ----
"$bin/topology" up router --loss 2 > /dev/null
"$bin/topology" exec router S "$tool" tftp-serve --port 69 --bind 0.0.0.0 --dir "$dir/srv" --write > "$dir/router.log" 2>&1 & pids+=($!)
wait_for "$dir/router.log" serving
"$bin/topology" exec router S "$tool" receive --port 9000 --bind 0.0.0.0 --dir "$dir/in" > "$dir/router-tcp.log" 2>&1 & pids+=($!)
wait_for "$dir/router-tcp.log" receiving
"$bin/topology" exec router S tcpdump -i slab-s-eth --immediate-mode -w "$dir/lab08.pcap" 'tcp port 9000 or udp' > /dev/null 2>&1 & dump=$!
sleep 1
cp "$dir/out/f1000000" "$dir/out/lab08.bin"
"$bin/topology" exec router C "$tool" send "$dir/out/lab08.bin" 10.99.3.1:9000 > /dev/null
"$bin/topology" exec router C "$tool" tftp get 10.99.3.1:69 f1000000 -o "$dir/get/lossy" --json > "$dir/lossy.json"; code=$?
"$bin/topology" exec router C "$tool" tftp get 10.99.3.1:69 f1000000 -o "$dir/get/lossy16" --windowsize 16 > /dev/null
check "2% loss through the router, lock-step: intact, and the report counts timeouts and retransmissions" python3 - "$dir/lossy.json" "$code" <<PY
import json, sys, filecmp
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "0" and r["bytes"] == 1000000 and r["blocks"] == 1954, r
assert r["retransmissions"] + r["timeouts"] > 0, r
assert filecmp.cmp("$dir/srv/f1000000", "$dir/get/lossy", shallow=False)
PY
"$bin/topology" exec router C "$tool" tftp put 10.99.3.1:69 "$dir/out/f1000000" -o lossy-put --windowsize 16 --json > "$dir/lossyput.json"; code=$?
check "2% loss, windowsize 16, put: intact, retransmissions reported" python3 - "$dir/lossyput.json" "$code" <<PY
import json, sys, filecmp
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "0" and r["options"]["windowsize"] == 16 and r["retransmissions"] > 0, r
assert filecmp.cmp("$dir/out/f1000000", "$dir/srv/lossy-put", shallow=False)
PY
sleep 1; kill $dump; wait $dump 2> /dev/null
"$bin/labcheck" 08 --capture "$dir/lab08.pcap" --solution > "$dir/lab08.toml" 2> /dev/null
check "labcheck 08 reads the lossy capture as tshark does: retransmissions, DATA packets, ACKs, durations" python3 - "$dir/lab08.toml" "$dir/lab08.pcap" <<'PY'
import subprocess, sys
answers = dict(l.split(" = ") for l in open(sys.argv[1]).read().split("\n") if " = " in l)
a = {k: int(v) for k, v in answers.items()}
def tshark(filter, *fields):
    out = subprocess.run(["tshark", "-r", sys.argv[2], "-d", "udp.port==69,tftp", "-Y", filter, "-T", "fields", *sum([["-e", f] for f in fields], [])],
                         capture_output=True, text=True).stdout
    return [l.split("\t") for l in out.splitlines() if l]
assert a["tcp_retransmissions"] == len(tshark("tcp.analysis.retransmission", "frame.number")), a
# The two reads, by the client port of their RRQs, in order. Under 2% loss a client may send
# its RRQ again (the server's first answer was lost): one read, its port twice.
requests = tshark("tftp.opcode == 1", "udp.srcport", "frame.time_relative")
ports = list(dict.fromkeys(r[0] for r in requests))
assert len(ports) == 2, ports
lock, window = ports
data = lambda p: len(tshark(f"tftp.opcode == 3 && udp.dstport == {p}", "frame.number"))
acks = lambda p: len(tshark(f"tftp.opcode == 4 && udp.srcport == {p}", "frame.number"))
assert a["tftp_lockstep_data_packets"] == data(lock) and a["tftp_lockstep_blocks"] == 1954, (a, data(lock))
assert a["tftp_lockstep_retransmitted"] == data(lock) - 1954 and a["tftp_window_acks"] == acks(window), (a, acks(window))
# From the read's last RRQ (labcheck's rule: a repeated request restarts a read with no data yet).
start = max(float(r[1]) for r in requests if r[0] == lock)
times = [float(t[0]) for t in tshark(f"udp.port == {lock}", "frame.time_relative")]
assert abs(a["tftp_lockstep_ms"] - round((times[-1] - start) * 1000)) <= 1, (a, start, times[-1])
PY
"$bin/topology" down > /dev/null

finish
