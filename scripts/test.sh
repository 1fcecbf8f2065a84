#!/usr/bin/env bash
# `make test`: set up, build with zero warnings, run the Swift tests, then the end-to-end
# tests of the command-line tools against real clients.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh test

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== build (debug, with tests)"
swift build --build-tests 2>&1 | tee "$log" | grep -E "error:|warning:|Build complete" || true
if grep -qE "error:" "$log"; then echo "build failed"; exit 1; fi
# Zero warnings in our own code (dependencies are not ours to fix).
if grep -E "^$ROOT/(Sources|Tests)/.*warning:" "$log"; then
  echo "build has warnings in SocketLab's own code: fix them"; exit 1
fi

echo "== swift test"
# Serial: the descriptor-leak test counts this process's open descriptors.
swift test --skip-build --no-parallel > "$log" 2>&1 || true
grep -E "^✘ |recorded an issue|^✔ Suite|Test run with" "$log" || true
swift_passed=0 swift_failed=0
if grep -qE "^✔ Test run with [0-9]+ tests? .*passed" "$log"; then
  swift_passed=$(grep -oE "^✔ Test run with [0-9]+" "$log" | grep -oE "[0-9]+$")
else
  swift_failed=$(grep -cE '^✘ Test .* failed' "$log" || true)
  ((swift_failed > 0)) || swift_failed=1  # a crash or a build problem: no per-test lines
  echo "swift test failed; the full log follows"; cat "$log"
fi

echo "== end-to-end: tools against real clients"
bin=$(swift build --show-bin-path)
e2e_passed=0 e2e_failed=0
for script in tcp-echo capture inspector raw-ping handshake-demo udp-vs-tcp labcheck transfer socks-proxy ipc-compare remote talk standby; do
  echo "-- $script"
  bash "Tests/e2e/$script.sh" "$bin/$script" | tee "$log" || true
  e2e_passed=$((e2e_passed + $(tail -1 "$log" | grep -oE "^[0-9]+" || echo 0)))
  e2e_failed=$((e2e_failed + $(tail -1 "$log" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+" || echo 1)))
done

echo "-- options"
bash Tests/e2e/options.sh "$bin" | tee "$log" || true
e2e_passed=$((e2e_passed + $(tail -1 "$log" | grep -oE "^[0-9]+" || echo 0)))
e2e_failed=$((e2e_failed + $(tail -1 "$log" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+" || echo 1)))

echo "-- topology"
bash Tests/e2e/topology.sh "$bin/topology" | tee "$log" || true
e2e_passed=$((e2e_passed + $(tail -1 "$log" | grep -oE "^[0-9]+" || echo 0)))
e2e_failed=$((e2e_failed + $(tail -1 "$log" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+" || echo 1)))

echo "-- twohosts"
SOCKETLAB_TOPOLOGY=$bin/topology bash Tests/e2e/twohosts.sh scripts/twohosts | tee "$log" || true
e2e_passed=$((e2e_passed + $(tail -1 "$log" | grep -oE "^[0-9]+" || echo 0)))
e2e_failed=$((e2e_failed + $(tail -1 "$log" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+" || echo 1)))

echo "== the inspector on other tools' test captures (tcpdump, Wireshark, gopacket, libpcap)"
# A release inspector: the debug one takes 418 s over the 846 files, the release one 130 s.
if bash scripts/foreign-corpus.sh | tee "$log"; then
  grep -q "skipped" "$log" || e2e_passed=$((e2e_passed + 1))
else
  e2e_failed=$((e2e_failed + 1))
fi

echo "== fuzz: the packet decoder under libFuzzer and AddressSanitizer (${FUZZ_SECONDS:-30} s)"
if bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"; then e2e_passed=$((e2e_passed + 1)); else e2e_failed=$((e2e_failed + 1)); fi

passed=$((swift_passed + e2e_passed)) failed=$((swift_failed + e2e_failed))
echo "total: $passed passed, $failed failed"
((failed == 0))
