#!/usr/bin/env bash
# standby (Lab 10) on the failover topology — S1, S2 and a client C on one bridge, in namespaces
# of this test's own — broken in each of the lab's ways: the master killed, stopped cleanly,
# frozen and thawed, its link cut and healed; after each, the right machine is master, the
# virtual address is on exactly one of them, the service answers on it and the log says why.
# Forged and replayed heartbeats change nothing; a tenth of the heartbeats lost for 60 s
# makes no flap; bad settings are refused with exit 2; nothing is left behind.
# Usage: standby.sh PATH/TO/standby
set -uo pipefail
source "$(dirname "$0")/lib.sh"
standby=$1
bin=$(dirname "$standby")
dir=$(mktemp -d)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null
  for ns in "${namespaces[@]:-}"; do [[ -n $ns ]] && ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; done
  kill "$hold" 2>/dev/null; wait "$hold" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
[[ -n ${STANDBY_KEEP:-} ]] && trap - EXIT
export PATH=$PATH:/usr/sbin:/sbin

"$bin/topology" hold failover --prefix sbt > "$dir/hold.log" 2>&1 & hold=$!
for _ in $(seq 200); do grep -q "is up" "$dir/hold.log" && break; sleep 0.05; done
grep -q "is up" "$dir/hold.log" || { echo "  the failover topology did not come up: $(cat "$dir/hold.log")"; echo "0 passed, 1 failed"; exit 1; }
first=$(grep -oE "sbt[0-9]+-s1" "$dir/hold.log" | head -1); tag=${first#sbt}; tag=${tag%-s1}
s1=sbt$tag-s1 s2=sbt$tag-s2 c=sbt$tag-c
namespaces=("$s1" "$s2" "$c")
if1=sbt${tag}s1-eth if2=sbt${tag}s2-eth ifc=sbt${tag}c-eth
vip=10.99.1.100 prefix=24 service=10.99.1.100:8080
"$standby" keygen "$dir/key" > /dev/null

# node NAME NAMESPACE PEER PRIORITY DEVICE INTERVAL [EXTRA…]: starts standby run, JSON log in $dir/NAME.jsonl.
node() {
  local name=$1 ns=$2 peer=$3 priority=$4 device=$5 interval=$6; shift 6
  ip netns exec "$ns" "$standby" run --name "$name" --peer "$peer:1985" --priority "$priority" --interval "$interval" \
    --vip "$vip/$prefix" --dev "$device" --on-master "$standby serve --bind $service --name $name" \
    --key-file "$dir/key" --json "$@" >> "$dir/$name.jsonl" 2>> "$dir/$name.err" &
  pids+=($!)
  disown $!  # killed on purpose: no "Killed" line from bash
}
start_s1() { node S1 "$s1" 10.99.1.2 200 "$if1" "${1:-50}"; }
start_s2() { node S2 "$s2" 10.99.1.1 100 "$if2" "${1:-50}"; }
# master_is NAME: waits (up to 3 s) until NAME's last transition is to MASTER and the other's is not.
state_of() { grep '"kind":"transition"' "$dir/$1.jsonl" 2>/dev/null | tail -1 | grep -oE '"to":"[A-Z]+"' | cut -d'"' -f4; }
master_is() {
  local other=S2; [[ $1 == S2 ]] && other=S1
  for _ in $(seq 150); do
    [[ $(state_of "$1") == MASTER && $(state_of "$other") != MASTER ]] && return 0
    sleep 0.02
  done
  return 1
}
# vip_only_on NS: the virtual address is on that namespace's interface and on no other.
vip_only_on() {
  for _ in $(seq 100); do
    local count=0 where=
    for ns in "$s1" "$s2" "$c"; do
      ip -n "$ns" -o addr 2>/dev/null | grep -q " $vip/" && { count=$((count + 1)); where=$ns; }
    done
    [[ $count == 1 && $where == "$1" ]] && return 0
    sleep 0.02
  done
  return 1
}
# serves NAME: the service on the virtual address answers with NAME (from C).
serves() {
  for _ in $(seq 100); do
    [[ $(ip netns exec "$c" curl -s -m 1 "http://$service/") == "$1" ]] && return 0
    sleep 0.03
  done
  return 1
}
# became_master NAME: waits (up to 3 s) until NAME's last transition is to MASTER.
became_master() {
  for _ in $(seq 150); do [[ $(state_of "$1") == MASTER ]] && return 0; sleep 0.02; done
  return 1
}
last_reason() { grep '"kind":"transition"' "$dir/$1.jsonl" | tail -1 | grep -oE '"reason":"[a-z_]+"' | cut -d'"' -f4; }

# Bad settings: refused before anything is sent.
refused() {  # refused NAME PATTERN ARGS…: exit 2 and the reason on standard error
  local name=$1 pattern=$2; shift 2
  ip netns exec "$s1" "$standby" run "$@" > /dev/null 2> "$dir/refused.err"; local status=$?
  check "$name: exit 2, and why" bash -c "[[ $status == 2 ]] && grep -qiE '$pattern' '$dir/refused.err'"
}
base=(--name S1 --peer 10.99.1.2:1985 --priority 200)
refused "an interval under 10 ms" "under 10 ms" "${base[@]}" --interval 5 --key-file "$dir/key"
refused "priority 255" "1 to 254" --name S1 --peer 10.99.1.2:1985 --priority 255 --interval 50 --key-file "$dir/key"
cp "$dir/key" "$dir/open-key"; chmod 644 "$dir/open-key"
refused "a key file others can read" "can be read by others" "${base[@]}" --interval 50 --key-file "$dir/open-key"
refused "a peer that is this machine itself" "this machine itself" --name S1 --peer 10.99.1.1:1985 --priority 200 --interval 50 --key-file "$dir/key"
ip -n "$c" addr add "$vip/24" dev "$ifc"
refused "a virtual address another host holds" "already in use" "${base[@]}" --interval 50 --vip "$vip/24" --dev "$if1" --key-file "$dir/key"
ip -n "$c" addr del "$vip/24" dev "$ifc"

# The pair comes up: the higher priority is master, the service answers on the address.
start_s1; start_s2
check "S1 (priority 200) becomes master, S2 stays backup" master_is S1
check "the virtual address is on S1 only" vip_only_on "$s1"
check "the service on the virtual address answers: S1" serves S1
ip netns exec "$c" "$standby" probe "$vip:8080" --every 10 --timeout 100 --json > "$dir/client.jsonl" 2>&1 & probe=$!
pids+=($probe)

# Forged and replayed heartbeats change nothing.
ip netns exec "$s2" tcpdump -i "$if2" -c 3 -w "$dir/heartbeats.pcap" "udp dst port 1985" > /dev/null 2>&1
payload=$(tshark -r "$dir/heartbeats.pcap" -T fields -e udp.payload 2>/dev/null | head -1 | tr -d ':')
cat > "$dir/inject.py" <<'EOF'
import socket, sys, binascii
kind, payload = sys.argv[1], bytearray(binascii.unhexlify(sys.argv[2]))
if kind == "forged":
    payload[6] = 254                   # priority 254: "I am better, yield to me"
    payload[-1] ^= 0xFF                # and a signature that cannot be right
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[3], 0))
for _ in range(5): s.sendto(bytes(payload), ("10.99.1.2", 1985))
EOF
ip netns exec "$s1" python3 "$dir/inject.py" replayed "$payload" 10.99.1.1
ip netns exec "$s1" python3 "$dir/inject.py" forged "$payload" 10.99.1.1
ip netns exec "$c" python3 "$dir/inject.py" forged "$payload" 10.99.1.10
sleep 0.3
check "replayed heartbeats are dropped and counted" grep -q '"kind":"dropped".*"why":"replayed"' "$dir/S2.jsonl"
check "forged heartbeats are dropped and counted" grep -q '"kind":"dropped".*"why":"forged"' "$dir/S2.jsonl"
check "and S1 is still master, S2 backup" master_is S1

# Killed: the machine dies; S2 takes over after 3 × interval + skew.
"$standby" fail kill "$s1" > /dev/null
mv "$dir/S1.jsonl" "$dir/S1-killed.jsonl"  # its last word was MASTER: a dead machine says nothing more
check "S1 killed: S2 becomes master" master_is S2
check "  because heartbeats were missed" bash -c "[[ $(last_reason S2) == master_down ]]"
check "  and the service answers: S2" serves S2
start_s1
check "S1 restarted: it preempts (priority 200 > 100)" master_is S1
check "  and the address is on S1 only (its leftover removed, S2's given up)" vip_only_on "$s1"
check "  the service answers: S1" serves S1

# Stopped cleanly: priority 0, S2 takes over after one skew.
"$standby" fail stop "$s1" > /dev/null
check "S1 stopped (SIGTERM): S2 becomes master" master_is S2
check "  because S1 said priority 0" bash -c "[[ $(last_reason S2) == peer_stepped_down ]]"
check "  and the address is on S2 only" vip_only_on "$s2"
check "  S1's last heartbeat said priority 0 and its log counts" grep -q '"kind":"stopped".*"sent"' "$dir/S1.jsonl"
start_s1
check "S1 back: master again" master_is S1

# Frozen, then thawed: split brain, then the lower priority yields.
"$standby" fail freeze "$s1" > /dev/null
check "S1 frozen: S2 becomes master" became_master S2
sleep 0.3
"$standby" fail thaw "$s1" > /dev/null
check "S1 thawed: S2 yields at once" master_is S1
check "  and says split brain" bash -c "[[ $(last_reason S2) == split_brain ]]"
check "  the address is on S1 only" vip_only_on "$s1"
check "  the service answers: S1" serves S1

# Cut, then healed: both master while cut; after, one.
"$standby" fail cut "$s1" > /dev/null
check "S1's link cut: S2 becomes master" became_master S2
check "  while S1 (which cannot know) stays master too: split brain" bash -c "[[ $(state_of S1) == MASTER ]]"
"$standby" fail heal "$s1" > /dev/null
check "healed: S2 yields" master_is S1
check "  the address is on S1 only" vip_only_on "$s1"
check "  S1 announces the address again" bash -c "for _ in \$(seq 100); do grep -q '\"kind\":\"split_brain\"' '$dir/S1.jsonl' && exit 0; sleep 0.02; done; exit 1"
check "  and the client is served by S1 again" serves S1

# The client's record: every request with its time and who answered, and the outages.
kill -INT "$probe"; wait "$probe" 2>/dev/null
check "the client logged its requests, outages and a summary" bash -c "
  grep -q '\"kind\":\"request\".*\"ok\":true.*\"server\":\"S1\"' '$dir/client.jsonl' &&
  grep -q '\"kind\":\"request\".*\"server\":\"S2\"' '$dir/client.jsonl' &&
  grep -q '\"kind\":\"outage\"' '$dir/client.jsonl' && tail -1 '$dir/client.jsonl' | grep -q '\"kind\":\"summary\"'"
check "every JSON line of every log parses" bash -c "cat '$dir/S1.jsonl' '$dir/S2.jsonl' '$dir/client.jsonl' | python3 -c '
import json, sys
for line in sys.stdin: json.loads(line)'"

# An IPv6 virtual address: announced with an unsolicited neighbour advertisement (Override set),
# which moves the client's neighbour cache to the new master as the gratuitous ARP does.
kill -TERM "${pids[@]}" 2>/dev/null; sleep 0.3
: > "$dir/S1.jsonl"; : > "$dir/S2.jsonl"
vip=fd00:99:1::100 prefix=64 service="[fd00:99:1::100]:8080"
ip -n "$c" addr add fd00:99:1::10/64 dev "$ifc" nodad
ip netns exec "$c" tcpdump -i "$ifc" -U --immediate-mode -w "$dir/na.pcap" icmp6 > /dev/null 2>&1 & dump=$!
sleep 0.5
start_s1; start_s2
check "IPv6 address: S1 becomes master, the address on S1 only" bash -c "$(declare -f state_of master_is vip_only_on); dir='$dir' s1='$s1' s2='$s2' c='$c' vip='$vip'; master_is S1 && vip_only_on '$s1'"
check "  the service answers over IPv6: S1" serves S1
"$standby" fail kill "$s1" > /dev/null
mv "$dir/S1.jsonl" "$dir/S1-killed6.jsonl"
check "  S1 killed: S2 takes the IPv6 address and serves (the dead S1 still holds it, unheard)" bash -c "$(declare -f state_of master_is vip_only_on serves); dir='$dir' s1='$s1' s2='$s2' c='$c' vip='$vip' service='$service'; master_is S2 && serves S2 && ip -n '$s2' -o addr | grep -q ' $vip/'"
sleep 0.3; kill "$dump"; wait "$dump" 2>/dev/null
mac2=$(ip -n "$s2" link show "$if2" | grep -oE "link/ether [0-9a-f:]+" | cut -d' ' -f2)
check "  tshark: S2's unsolicited neighbour advertisement for fd00:99:1::100, Override set, hop limit 255, to ff02::1" bash -c "
  tshark -r '$dir/na.pcap' -Y 'icmpv6.type == 136 && icmpv6.nd.na.flag.o == 1 && icmpv6.nd.na.flag.s == 0 && icmpv6.nd.na.target_address == fd00:99:1::100 && ipv6.hlim == 255 && ipv6.dst == ff02::1 && eth.src == $mac2 && icmpv6.checksum.status == 1' 2>/dev/null | grep -q ."
check "  and the timeline reads it as the takeover" bash -c "'$standby' timeline '$dir/na.pcap' --json | grep -q '\"gratuitous_arps\":[1-9]'"
vip=10.99.1.100 prefix=24 service=10.99.1.100:8080

# A tenth of the heartbeats lost, at interval 100 ms, for 60 s: no flap (it takes 3 in a row).
kill -TERM "${pids[@]}" 2>/dev/null; sleep 0.3
: > "$dir/S1.jsonl"; : > "$dir/S2.jsonl"
start_s1 100; start_s2 100
master_is S1
"$standby" fail loss "$s2" 10 --every 10 > /dev/null
transitions_before=$(grep -c '"kind":"transition"' "$dir/S2.jsonl")
sleep "${STANDBY_LOSS_SECONDS:-60}"
dropped=$(ip netns exec "$s2" nft list chain inet socketlab_fail heartbeat_loss 2>/dev/null | grep -oE "packets [0-9]+" | grep -oE "[0-9]+")
check "every 10th heartbeat dropped for ${STANDBY_LOSS_SECONDS:-60} s ($dropped dropped): S2 never takes over" bash -c "
  (( ${dropped:-0} >= 5 )) && [[ \$(grep -c '\"kind\":\"transition\"' '$dir/S2.jsonl') == $transitions_before ]]"
"$standby" fail heal "$s2" > /dev/null

# Nothing left: no standby, no service, no namespace once the topology goes.
kill -TERM "${pids[@]}" 2>/dev/null; sleep 0.5
kill "$hold"; wait "$hold" 2>/dev/null
check "after: no namespace of the test and no standby or service running" bash -c "
  ! ip netns list | grep -q 'sbt$tag-' && ! pgrep -f '$standby (run|serve)' > /dev/null"
finish
