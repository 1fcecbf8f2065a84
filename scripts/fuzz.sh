#!/usr/bin/env bash
# `make fuzz [FUZZ_SECONDS=60]`: libFuzzer with AddressSanitizer over the packet decoder.
# Inputs that crash are saved as fuzz/crash-*; replay one with
#   swift build --product packets-fuzz && .build/debug/packets-fuzz fuzz/crash-…
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
seconds=${1:-${FUZZ_SECONDS:-60}}

echo "== build packets-fuzz with -sanitize=fuzzer,address"
# The sanitizers are joined with a comma: a second -sanitize= flag would replace the first.
swift build --build-path .build-fuzz --product packets-fuzz --sanitize fuzzer \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING 2>&1 | grep -E "error:|Build complete" || true
fuzzer="$(swift build --build-path .build-fuzz --show-bin-path)/packets-fuzz"
[[ -x $fuzzer ]] || { echo "fuzz: build failed"; exit 1; }

mkdir -p .build-fuzz/corpus .build-fuzz/seeds fuzz
swift build --product packets-fuzz 2>&1 | grep -E "error" || true
"$(swift build --show-bin-path)/packets-fuzz" --seeds .build-fuzz/seeds

echo "== fuzz the decoder for $seconds s"
SWIFT_BACKTRACE=enable=no "$fuzzer" -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 \
  -artifact_prefix=fuzz/ .build-fuzz/corpus .build-fuzz/seeds 2>&1 | tee .build-fuzz/last-run.txt | grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|ERROR|SUMMARY|Done [0-9]+ runs" || true
if grep -qE "ERROR: (libFuzzer|AddressSanitizer)|deadly signal|SUMMARY: AddressSanitizer" .build-fuzz/last-run.txt; then
  echo "fuzz: the decoder crashed; the input is in fuzz/ and the report in .build-fuzz/last-run.txt"
  exit 1
fi
runs=$(grep -oE "stat::number_of_executed_units: [0-9]+" .build-fuzz/last-run.txt | grep -oE "[0-9]+$" || echo "?")
echo "fuzz: $runs inputs in $seconds s, no crash; corpus of $(ls .build-fuzz/corpus | wc -l) inputs in .build-fuzz/corpus"
