#!/usr/bin/env bash
# udp-vs-tcp end to end: on loopback (nothing lost, boundaries differ), between two hosts with
# 10% loss (UDP loses about that, TCP loses nothing and retransmits), and without privilege.
#   Tests/e2e/udp-vs-tcp.sh PATH/TO/udp-vs-tcp
set -uo pipefail
tool=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
trap '"$root/scripts/twohosts" down > /dev/null 2>&1; rm -rf "$dir"' EXIT

"$tool" --json --messages 500 --round-trips 100 --megabytes 5 > "$dir/loopback.json" 2> "$dir/err"; code=$?
check "loopback: exit 0, one JSON object" bash -c "[[ $code == 0 ]] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$dir/loopback.json'"
check "loopback: UDP keeps each of the 20 datagrams whole; TCP's receives ignore the message boundaries" python3 - "$dir/loopback.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sent = [10, 200, 1400, 3000, 50, 8000, 1, 700, 20000, 100] * 2
assert r["udp"]["receive_sizes"] == sent, r["udp"]["receive_sizes"]
assert sum(r["tcp"]["receive_sizes"]) == sum(sent) and r["tcp"]["receive_sizes"] != sent, r["tcp"]["receive_sizes"]
PY
check "loopback: every numbered message arrives over both, once, in order" python3 - "$dir/loopback.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for p in ("tcp", "udp"):
    assert (r[p]["delivered"], r[p]["lost"], r[p]["duplicated"], r[p]["out_of_order"]) == (500, 0, 0, 0), r[p]
PY
check "loopback: wire bytes counted from the capture; TCP's set-up time measured" python3 - "$dir/loopback.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["tcp"]["wire_bytes"] > r["tcp"]["payload_bytes"] and r["udp"]["wire_bytes"] > r["udp"]["payload_bytes"], r
assert r["tcp"]["setup_us"] > 0 and r["tcp"]["throughput_bps"] > 0 and r["udp"]["latency_p50_us"] > 0, r
PY

"$tool" --two-hosts --loss 10 --json --messages 500 --round-trips 30 --megabytes 1 > "$dir/lossy.json" 2> "$dir/err"; code=$?
check "two hosts, 10% loss: UDP loses about 10%, TCP none, and the capture shows TCP retransmitting" python3 - "$dir/lossy.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["setting"].startswith("two hosts") and r["loss_percent"] == 10, r
assert r["tcp"]["delivered"] == 500 and r["tcp"]["lost"] == 0, r["tcp"]
assert 400 <= r["udp"]["delivered"] <= 490, r["udp"]
assert r["tcp"]["retransmissions"] > 0, r["tcp"]
PY
"$root/scripts/twohosts" down > /dev/null

setpriv --reuid=65534 --regid=65534 --clear-groups "$tool" --messages 200 --round-trips 50 --megabytes 1 > "$dir/user.txt" 2>&1; code=$?
check "without privilege: loopback still runs, and says the wire figures need a capture" \
  bash -c "[[ $code == 0 ]] && grep -q 'no capture' '$dir/user.txt' && grep -q 'not captured' '$dir/user.txt'"
"$tool" --loss 5 > /dev/null 2>&1; code=$?
check "--loss without --two-hosts: exit 2" test "$code" = 2
if [[ $failed != 0 ]]; then echo "--- stderr:"; cat "$dir/err"; cat "$dir/lossy.json"; fi
finish
