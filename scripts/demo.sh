#!/usr/bin/env bash
# `make demo`: the life of a TCP connection on loopback, call by call, with its packets drawn
# as a ladder and the states of both sockets. As root (or with CAP_NET_RAW) it shows the
# packets; otherwise the calls and states, and how to get the packets. DEMO_ARGS adds options:
#   make demo DEMO_ARGS="--step"     pause before each call (for a lecture)
#   make demo DEMO_ARGS="--refused"  (or --abort, --half-close, --ipv6)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh build
swift build --product handshake-demo 2>&1 | grep -E "error|warning:" || true
# shellcheck disable=SC2086
exec "$(swift build --show-bin-path)/handshake-demo" ${DEMO_ARGS:-}
