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
if ! swift build --build-tests 2>&1 | tee "$log" | grep -E "error:|warning:|Compiling|Build complete" | grep -v "^\[.*Compiling" ; then :; fi
if grep -qE "error:" "$log"; then echo "build failed"; exit 1; fi
# Zero warnings in our own code (dependencies are not ours to fix).
if grep -E "^$ROOT/(Sources|Tests)/.*warning:" "$log"; then
  echo "build has warnings in SocketLab's own code: fix them"; exit 1
fi

echo "== swift test"
# Serial: the descriptor-leak test counts this process's open descriptors.
swift test --skip-build --no-parallel 2>&1 | tee "$log" | grep -E "✘|recorded an issue|Test run with|Executed|error" || true
if ! grep -qE "Test run with [0-9]+ tests? .*passed" "$log"; then
  echo "swift test failed"; exit 1
fi

echo "== end-to-end: tools against real clients"
bash Tests/e2e/echo.sh "$(swift build --show-bin-path)/echo"
