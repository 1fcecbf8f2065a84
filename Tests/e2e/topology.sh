#!/usr/bin/env bash
# topology: every named topology comes up, its hosts ping each other with raw-ping, loss is
# applied and reported, `down` leaves nothing, and a killed `topology hold` leaves nothing.
#   Tests/e2e/topology.sh PATH/TO/topology
set -uo pipefail
topology=$1
raw_ping=$(dirname "$1")/raw-ping
source "$(dirname "$0")/lib.sh"
trap '"$topology" down > /dev/null 2>&1' EXIT

leftovers() { ip netns list | grep -E "^(slab-|slk[0-9])" || true; ip -brief link | grep -E "slab-|slk[0-9]" || true; }

"$topology" up two-hosts > /dev/null
check "two-hosts: A reaches B with raw-ping" "$topology" exec two-hosts A "$raw_ping" -c 2 -i 0.05 -W 1 -q 10.99.0.2
"$topology" up failover > /dev/null
check "failover: C reaches S1 and S2, S1 reaches S2 (raw-ping, one switch)" bash -c "
  '$topology' exec failover C '$raw_ping' -c 1 -W 1 -q 10.99.1.1 > /dev/null &&
  '$topology' exec failover C '$raw_ping' -c 1 -W 1 -q 10.99.1.2 > /dev/null &&
  '$topology' exec failover S1 '$raw_ping' -c 1 -W 1 -q 10.99.1.2 > /dev/null"
"$topology" up router --loss 100 > /dev/null
check "router: loss 100 on R stops C → S" bash -c "! '$topology' exec router C '$raw_ping' -c 2 -i 0.05 -W 1 -q 10.99.3.1 > /dev/null"
"$topology" loss router 0 > /dev/null
check "router: loss 0 on R, C reaches S through R (raw-ping)" "$topology" exec router C "$raw_ping" -c 2 -i 0.05 -W 1 -q 10.99.3.1
"$topology" loss router 12.5 > /dev/null
check "status reports each topology and the loss it set" bash -c "'$topology' status | grep -q 'loss 12.5% through R' && '$topology' status | grep -q '^two-hosts: up'"
"$topology" exec router S nft list ruleset > /tmp/topology-e2e-$$.txt 2>&1
check "the loss lives on the router's forward chain, not on a sender's output" bash -c "! grep -q 'hook output' /tmp/topology-e2e-$$.txt && ! '$topology' exec router C nft list tables | grep -q socketlab"
rm -f /tmp/topology-e2e-$$.txt
"$topology" down > /dev/null
check "down: no namespace, veth or bridge left" bash -c "[[ -z \"\$(ip netns list | grep -E '^slab-'; ip -brief link | grep -E 'slab-')\" ]]"

"$topology" hold two-hosts --prefix slk > /tmp/topology-hold-$$.log 2>&1 & holder=$!
for _ in $(seq 200); do grep -q "is up" /tmp/topology-hold-$$.log 2>/dev/null && break; sleep 0.05; done
check "hold: a private topology is up while the command runs" bash -c "ip netns list | grep -qE '^slk[0-9]+-a'"
kill -KILL $holder; wait $holder 2>/dev/null
for _ in $(seq 100); do [[ -z $(leftovers) ]] && break; sleep 0.05; done
check "hold killed with SIGKILL: its watchdog removes every namespace and veth" bash -c "[[ -z \"$(leftovers)\" ]]"
rm -f /tmp/topology-hold-$$.log

"$topology" exec two-hosts A true > /dev/null 2>&1; code=$?
check "exec on a topology that is down: exit 1 with how to bring it up" test "$code" = 1
"$topology" up nowhere > /dev/null 2>&1; code=$?
check "an unknown topology: exit 2" test "$code" = 2
"$topology" up two-hosts --loss 101 > /dev/null 2>&1; code=$?
check "a loss over 100: exit 2" test "$code" = 2
"$topology" down > /dev/null
if id nobody > /dev/null 2>&1 && command -v setpriv > /dev/null; then
  setpriv --reuid nobody --regid nogroup --clear-groups "$topology" up two-hosts > /dev/null 2>&1; code=$?
  check "not root: exit 3" test "$code" = 3
fi
finish
