#!/usr/bin/env bash
# scripts/twohosts: two hosts that talk, loss that bites, and nothing left behind.
#   Tests/e2e/twohosts.sh PATH/TO/scripts/twohosts
set -uo pipefail
twohosts=$1
source "$(dirname "$0")/lib.sh"
trap '"$twohosts" down > /dev/null 2>&1' EXIT

"$twohosts" up > /dev/null
check "up: A reaches B at 10.99.0.2" bash -c "'$twohosts' exec A ping -c 2 -i 0.05 -W 1 -q 10.99.0.2 > /dev/null"
check "exec B runs on B (its address is 10.99.0.2)" bash -c "'$twohosts' exec B ip -brief addr | grep -q 10.99.0.2"
"$twohosts" loss 100 > /dev/null
check "loss 100: nothing gets through" bash -c "! '$twohosts' exec A ping -c 2 -i 0.05 -W 1 -q 10.99.0.2 > /dev/null"
"$twohosts" up --loss 25 > /dev/null
received=$("$twohosts" exec A ping -c 200 -i 0.005 -W 1 -q 10.99.0.2 | grep -oE "[0-9]+ received" | grep -oE "^[0-9]+")
echo "  (25% each way: $received of 200 round trips came back; expected about 112)"
check "up --loss 25: about 56% of round trips survive (two crossings)" bash -c "(( $received >= 85 && $received <= 140 ))"
"$twohosts" down > /dev/null
check "down: both namespaces gone" bash -c "! ip netns list | grep -qE 'slab-(a|b)'"
"$twohosts" loss nonsense > /dev/null 2>&1; code=$?
check "a bad loss value: exit 2" test "$code" = 2
finish
