#!/usr/bin/env bash
# standby beside keepalived (Debian's, VRRPv3 with unicast peers), each on a failover topology
# of its own with the same interval (100 ms), priorities (200, 100) and virtual address, the
# same client (standby probe, a request every 10 ms) and the same capture on S2's interface:
#   - takeover after SIGKILL of the master: from its last advertisement to the new master's
#     first gratuitous ARP (target: at most 3 × interval + skew + 20 ms = 380.9 ms);
#   - the client's outage after it (target: at most 500 ms);
#   - takeover after a clean stop, SIGTERM (target: at most one interval, 100 ms);
#   - and not slower than keepalived, in the same run.
# Medians of ROUNDS failovers each, read from the captures by `standby timeline` (VRRP's
# adverts and standby's heartbeats alike). Results: bench/out/standby.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
ROUNDS=${ROUNDS:-10}
export PATH=$PATH:/usr/sbin:/sbin
mkdir -p bench/out
for product in standby topology; do swift build -c release --product "$product" 2>&1 | grep -E "error:" || true; done
bin="$(swift build -c release --show-bin-path)"
standby=$bin/standby
command -v keepalived > /dev/null || { echo "bench-standby: keepalived is not installed (scripts/setup.sh bench)"; exit 1; }
work=$(mktemp -d)
hold=
cleanup() {
  [[ -n $hold ]] && { for ns in $(ip netns list | grep -oE "^sbk[0-9]+-[a-z0-9]+"); do ip netns pids "$ns" | xargs -r kill -9; done; kill "$hold" 2>/dev/null; wait "$hold" 2>/dev/null; }
  [[ -n ${KEEP:-} ]] && echo "bench-standby: kept $work" || rm -rf "$work"
}
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "?"; else print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# takeovers JSON KIND → the measured ms of each takeover of that kind, one a line
takeovers() { python3 -c "
import json, sys
for k in json.load(open(sys.argv[1]))['takeovers']:
    if k['kind'] == sys.argv[2] and k['measured_ms'] is not None: print('%.1f' % k['measured_ms'])" "$1" "$2"; }
# ready PCAP TIMELINE.json KIND → ms from each takeover's gratuitous ARP to the new master's
# first SYN-ACK from the service (its program started and listening), one a line
ready() { python3 -c "
import json, subprocess, sys
pcap, timeline, kind = sys.argv[1:4]
out = subprocess.run(['tshark', '-r', pcap, '-Y', 'tcp.srcport == 8080 && tcp.flags.syn == 1 && tcp.flags.ack == 1',
                      '-T', 'fields', '-e', 'frame.time_epoch'], capture_output=True, text=True).stdout.split()
synacks = sorted(float(x) for x in out)
for k in json.load(open(timeline))['takeovers']:
    if k['kind'] != kind: continue
    later = [t for t in synacks if t >= k['time']]
    if later: print('%.1f' % ((later[0] - k['time']) * 1000))" "$1" "$2" "$3"; }
# outages CLIENT.jsonl → the ms of each outage from S1 to S2 (the failovers, not the hand-backs)
outages() { python3 -c "
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o['kind'] == 'outage' and o['before'] == 'S1' and o['after'] == 'S2': print('%.1f' % o['ms'])" "$1"; }

# standby: the lab's own scenario, kills then clean stops.
"$standby" scenario --failures kill --repeat "$ROUNDS" --out "$work/sk" --json > "$work/sk.json"
"$standby" scenario --failures stop --repeat "$ROUNDS" --out "$work/ss" --json > "$work/ss.json"

# keepalived on the same topology, started and broken the same way.
"$bin/topology" hold failover --prefix sbk > "$work/hold.log" 2>&1 & hold=$!
for _ in $(seq 200); do grep -q "is up" "$work/hold.log" && break; sleep 0.05; done
first=$(grep -oE "sbk[0-9]+-s1" "$work/hold.log" | head -1); tag=${first#sbk}; tag=${tag%-s1}
s1=sbk$tag-s1 s2=sbk$tag-s2 c=sbk$tag-c
vip=10.99.1.100
conf() {  # conf NAME PRIORITY DEVICE SELF PEER
  # The service starts on becoming master and stops on leaving the role, as standby's
  # --on-master does: the same work on both takeover paths.
  printf '#!/bin/sh\nsetsid %s serve --bind %s:8080 --name %s < /dev/null > /dev/null 2>&1 &\n' "$standby" "$vip" "$1" > "$work/$1-master.sh"
  printf '#!/bin/sh\npkill -f "serve --bind %s:8080 --name %s"\nexit 0\n' "$vip" "$1" > "$work/$1-backup.sh"
  chmod 700 "$work/$1-master.sh" "$work/$1-backup.sh"
  cat > "$work/$1.conf" <<EOF
global_defs {
  router_id $1
  vrrp_version 3
  vrrp_garp_master_delay 0
  script_user root
  enable_script_security
}
vrrp_instance lab10 {
  state BACKUP
  interface $3
  virtual_router_id 10
  priority $2
  advert_int 0.1
  unicast_src_ip $4
  unicast_peer {
    $5
  }
  virtual_ipaddress {
    $vip/24
  }
  notify_master $work/$1-master.sh
  notify_backup $work/$1-backup.sh
  notify_stop $work/$1-backup.sh
}
EOF
}
conf S1 200 "sbk${tag}s1-eth" 10.99.1.1 10.99.1.2
conf S2 100 "sbk${tag}s2-eth" 10.99.1.2 10.99.1.1
keep() {  # keep NAME NAMESPACE: keepalived in the foreground of its own
  rm -f "$work/$1.pid" "$work/$1-vrrp.pid"  # a killed one leaves them, and keepalived then says "already running"
  ip netns exec "$2" keepalived -n -l -P -f "$work/$1.conf" -p "$work/$1.pid" -r "$work/$1-vrrp.pid" > "$work/$1.log" 2>&1 &
}
has_vip() { ip -n "$1" -4 -o addr | grep -q " $vip/"; }
wait_vip() {  # wait_vip NS [OTHER]: the address on NS (and not on OTHER)
  for _ in $(seq 500); do
    if has_vip "$1" && { [[ -z ${2:-} ]] || ! has_vip "$2"; }; then return 0; fi
    sleep 0.01
  done
  echo "bench-standby: keepalived did not move the address to $1" >&2; return 1
}
keepalived_run() {  # keepalived_run kill|stop OUT
  local action=$1 out=$2
  keep S1 "$s1"; sleep 0.05; keep S2 "$s2"
  wait_vip "$s1" "$s2"
  ip netns exec "$s2" tcpdump -i "sbk${tag}s2-eth" --immediate-mode -w "$out.pcap" "arp or vrrp or tcp port 8080" > /dev/null 2>&1 & local dump=$!
  ip netns exec "$c" "$standby" probe "$vip:8080" --json > "$out-client.jsonl" 2>/dev/null & local probe=$!
  sleep 1
  for _ in $(seq "$ROUNDS"); do
    sleep "0.$(printf '%03d' $((RANDOM % 100)))"  # a random point of the heartbeat interval, as in standby scenario
    if [[ $action == kill ]]; then
      "$standby" fail kill "$s1" > /dev/null
    else
      kill -TERM "$(cat "$work/S1.pid")" 2>/dev/null || true
    fi
    wait_vip "$s2"
    sleep 0.5
    ip netns pids "$s1" | xargs -r kill -9 2>/dev/null || true
    for _ in $(seq 50); do [[ -z $(ip netns pids "$s1") ]] && break; sleep 0.02; done
    keep S1 "$s1"
    wait_vip "$s1" "$s2"
    sleep 0.7
  done
  kill -INT "$probe"; wait "$probe" 2>/dev/null || true
  sleep 0.3; kill "$dump"; wait "$dump" 2>/dev/null || true
  for ns in "$s1" "$s2"; do ip netns pids "$ns" | xargs -r kill -9 2>/dev/null || true; done
  sleep 0.3
  "$standby" timeline "$out.pcap" --json > "$out.json"
}
keepalived_run kill "$work/kk"
keepalived_run stop "$work/ks"

out=bench/out/standby.txt
{
  echo "Hot-standby failover, interval 100 ms, priorities 200/100 — $(date -u +%F), $(nproc) CPUs, median of $ROUNDS failovers each"
  echo "  keepalived $(keepalived --version 2>&1 | head -1 | grep -oE 'v[0-9.]+' | head -1), VRRPv3 unicast, advert_int 0.1; standby release build"
  printf '%-44s %10s %12s %10s\n' "" standby keepalived target
  printf '%-44s %10s %12s %10s\n' "takeover after SIGKILL (ms, capture)" "$(takeovers "$work/sk.json" failure | median)" "$(takeovers "$work/kk.json" failure | median)" "≤ 380.9"
  printf '%-44s %10s %12s %10s\n' "client outage after SIGKILL (ms, its log)" "$(outages "$work/sk/client.jsonl" | median)" "$(outages "$work/kk-client.jsonl" | median)" "≤ 500"
  printf '%-44s %10s %12s %10s\n' "  gratuitous ARP → service's first SYN-ACK (ms)" "$(ready "$work/sk/lab10.pcap" "$work/sk.json" failure | median)" "$(ready "$work/kk.pcap" "$work/kk.json" failure | median)" ""
  printf '%-44s %10s %12s %10s\n' "takeover after SIGTERM (ms, capture)" "$(takeovers "$work/ss.json" clean_stop | median)" "$(takeovers "$work/ks.json" clean_stop | median)" "≤ 100"
  printf '%-44s %10s %12s %10s\n' "client outage after SIGTERM (ms, its log)" "$(outages "$work/ss/client.jsonl" | median)" "$(outages "$work/ks-client.jsonl" | median)" ""
  echo "  takeovers seen (kill / stop): standby $(takeovers "$work/sk.json" failure | wc -l) / $(takeovers "$work/ss.json" clean_stop | wc -l), keepalived $(takeovers "$work/kk.json" failure | wc -l) / $(takeovers "$work/ks.json" clean_stop | wc -l)"
  echo "  predicted: 3 × 100 + (256 − 100) × 100 / 256 = 360.9 ms after a kill; one skew, 60.9 ms, after a clean stop"
} | tee "$out"
