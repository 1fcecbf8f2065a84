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
# Build first and stop on a failed build: a lecture must not run yesterday's binary.
echo "demo: building handshake-demo (swift build --product handshake-demo)…" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build --product handshake-demo > "$log" 2>&1; then
  grep -E "error:" "$log" >&2 || cat "$log" >&2
  echo "demo: the build failed; nothing was run" >&2
  exit 1
fi
# shellcheck disable=SC2086
bin=$(swift build --show-bin-path)
rm -f "$log"
# The demo ends by drawing the connection as a page (handshake-demo.html, or the next free
# name) and says where it is: the ladder and graphs for the projector or a slide.
html=(--html handshake-demo.html)
[[ " ${DEMO_ARGS:-} " == *" --html "* ]] && html=()
exec "$bin/handshake-demo" "${html[@]}" ${DEMO_ARGS:-}
