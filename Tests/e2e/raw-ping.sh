#!/usr/bin/env bash
# raw-ping against iputils ping, the oracle, on the same targets: 127.0.0.1 and ::1 (line for
# line, numbers aside), a host in a network namespace behind 30% loss (loss within sampling
# noise, counts that add up), a host that answers with ICMP host unreachable, and tshark's
# verdict on the checksums. Then the unprivileged paths and bad input.
#   Tests/e2e/raw-ping.sh PATH/TO/raw-ping
set -uo pipefail
ping_tool=$1
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
ns=slabping-$$
cleanup() { ip netns del "$ns" 2>/dev/null; ip link del "slp$$h" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

# Numbers that differ run to run become placeholders: what remains must be identical.
shape() { sed -E 's/time=[0-9.]+ ms/time=T ms/; s/time [0-9]+ms/time Tms/; s/= [0-9.]+\/[0-9.]+\/[0-9.]+\/[0-9.]+ ms/= R ms/'; }
export -f shape

for target in 127.0.0.1 ::1; do
  "$ping_tool" -c 3 -i 0.2 "$target" > "$dir/ours" 2>&1; ours=$?
  ping -c 3 -i 0.2 "$target" > "$dir/theirs" 2>&1; theirs=$?
  check "$target: the same lines as iputils ping (numbers aside), exit 0" \
    bash -c "[[ $ours == 0 && $theirs == 0 ]] && diff <(shape < '$dir/ours') <(shape < '$dir/theirs')"
  "$ping_tool" -q -c 2 -i 0.2 "$target" > "$dir/ours" 2>&1
  ping -q -c 2 -i 0.2 "$target" > "$dir/theirs" 2>&1
  check "$target -q: the same lines as ping -q" diff <(shape < "$dir/ours") <(shape < "$dir/theirs")
done

# tshark checks the checksums raw-ping computed (IPv4) and the kernel filled in (IPv6).
tcpdump -i lo --immediate-mode -U -w "$dir/ping.pcap" icmp or icmp6 2> "$dir/tcpdump.err" & dump=$!
for _ in $(seq 100); do grep -q "listening on" "$dir/tcpdump.err" && break; sleep 0.05; done
"$ping_tool" -c 2 -i 0.2 -s 100 127.0.0.1 > /dev/null
"$ping_tool" -c 2 -i 0.2 ::1 > /dev/null
sleep 0.3; kill -INT $dump; wait $dump 2>/dev/null
statuses=$(tshark -r "$dir/ping.pcap" -T fields -e icmp.checksum.status -e icmpv6.checksum.status 2>/dev/null | tr -d '\t' | sort | uniq -c)
check "tshark: every checksum good (8 ICMP and ICMPv6 messages)" bash -c "[[ '$(echo $statuses)' == '8 1' ]]"

# A second host behind a veth link, 30% of echo requests dropped by nftables on arrival.
ip netns add "$ns"
ip link add "slp$$h" type veth peer name "slp$$p"
ip link set "slp$$p" netns "$ns"
ip addr add 10.231.9.1/30 dev "slp$$h"; ip link set "slp$$h" up
ip -n "$ns" addr add 10.231.9.2/30 dev "slp$$p"; ip -n "$ns" link set "slp$$p" up
ip netns exec "$ns" nft "add table inet loss; add chain inet loss input { type filter hook input priority 0; }; add rule inet loss input icmp type echo-request numgen random mod 100 < 30 drop"
"$ping_tool" -c 200 -i 0.005 -W 1 -q 10.231.9.2 > "$dir/ours" 2>&1
ping -c 200 -i 0.005 -W 1 -q 10.231.9.2 > "$dir/theirs" 2>&1
loss() { grep -oE "[0-9.]+% packet loss" "$1" | grep -oE "^[0-9.]+"; }
received() { grep -oE "[0-9]+ received" "$1" | grep -oE "^[0-9]+"; }
echo "  (30% loss: raw-ping $(loss "$dir/ours")%, ping $(loss "$dir/theirs")%)"
check "30% loss: both see 15-45% (200 requests each), within 15 points of each other" \
  awk -v a="$(loss "$dir/ours")" -v b="$(loss "$dir/theirs")" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a >= 15 && a <= 45 && b >= 15 && b <= 45 && d <= 15) }'
check "30% loss: transmitted = received + lost" \
  awk -v r="$(received "$dir/ours")" -v l="$(loss "$dir/ours")" 'BEGIN { exit !(r + 200 * l / 100 == 200) }'

# The host refuses pings with ICMP host unreachable: reported from its address, as ping does.
ip netns exec "$ns" nft "flush ruleset; add table inet refuse; add chain inet refuse input { type filter hook input priority 0; }; add rule inet refuse input icmp type echo-request reject with icmp type host-unreachable"
"$ping_tool" -c 2 -i 0.2 -W 1 10.231.9.2 > "$dir/ours" 2>&1; ours=$?
ping -c 2 -i 0.2 -W 1 10.231.9.2 > "$dir/theirs" 2>&1; theirs=$?
check "unreachable: 'From 10.231.9.2 icmp_seq=N Destination Host Unreachable', +2 errors, exit 1 like ping" \
  bash -c "[[ $ours == 1 && $theirs == 1 ]] && grep -q 'From 10.231.9.2 icmp_seq=1 Destination Host Unreachable' '$dir/ours' && diff <(shape < '$dir/ours') <(shape < '$dir/theirs')"

"$ping_tool" -c 1 --json 127.0.0.1 > "$dir/json"
check "--json: a reply and the statistics" python3 -c "
import json, sys
lines = [json.loads(l) for l in open('$dir/json')]
assert lines[0]['kind'] == 'reply' and lines[0]['icmp_seq'] == 1 and lines[0]['ttl'] == 64, lines
assert lines[-1]['kind'] == 'statistics' and lines[-1]['received'] == 1 and lines[-1]['socket'] == 'raw', lines"
# Lab 04 Q3 has the student check the drawn checksum against the capture: it must be the
# request that was sent (its send time is in the data), so tshark reads the same number.
unshare -n bash -c "ip link set lo up
  tcpdump -i lo --immediate-mode -U -w '$dir/explain.pcap' icmp 2> /dev/null & d=\$!; sleep 1
  '$ping_tool' -c 1 --explain 127.0.0.1 > '$dir/explain'; sleep 0.5; kill \$d; wait \$d"
wire=$(grep -oE "checksum = 0x[0-9a-f]{4}" "$dir/explain" | grep -oE "0x[0-9a-f]{4}")
captured=$(tshark -r "$dir/explain.pcap" -Y "icmp.type == 8 && icmp.seq == 1" -T fields -e icmp.checksum 2> /dev/null | head -1)
check "--explain draws the request as sent: its checksum ($wire) is the one tshark reads in the capture ($captured)" \
  bash -c "[[ -n '$wire' && '$wire' == '$captured' ]]"
check "--explain: the diagram's checksum is the one worked out by hand" grep -q "one's complement: ~0x[0-9a-f]* = $wire" "$dir/explain"

# Privilege: inside a fresh namespace (its own ping_group_range), as an unprivileged user.
unshare -n bash -c "ip link set lo up; sysctl -qw net.ipv4.ping_group_range='1 0'; setpriv --reuid=65534 --regid=65534 --clear-groups '$ping_tool' -c 1 127.0.0.1" > "$dir/out" 2> "$dir/err"; code=$?
check "no raw socket and no ping socket: exit 3 with the fix" bash -c "[[ $code == 3 ]] && grep -q 'setcap cap_net_raw' '$dir/err'"
unshare -n bash -c "ip link set lo up; sysctl -qw net.ipv4.ping_group_range='0 2147483647'; setpriv --reuid=65534 --regid=65534 --clear-groups '$ping_tool' -c 1 127.0.0.1" > "$dir/out" 2> "$dir/err"; code=$?
check "unprivileged ping socket: used, said so, and the reply comes" bash -c "[[ $code == 0 ]] && grep -q \"kernel's ping socket\" '$dir/err' && grep -q 'icmp_seq=1 ttl=64' '$dir/out'"

"$ping_tool" -c 1 no-such-host.invalid > /dev/null 2> "$dir/err"; code=$?
check "unknown host: exit 2 with a message" bash -c "[[ $code == 2 ]] && [[ -s '$dir/err' ]]"
"$ping_tool" -c 0 127.0.0.1 > /dev/null 2>&1; code=$?
check "-c 0: exit 2" test "$code" = 2
finish
