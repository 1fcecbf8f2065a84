# Shared by the end-to-end scripts: `check NAME COMMAND...` runs one check and counts it;
# `finish` prints "N passed, M failed" (scripts/test.sh reads that line) and sets the status.
passed=0 failed=0
check() {  # check NAME COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "  ok   $name"
  else failed=$((failed + 1)); echo "  FAIL $name"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [[ $failed == 0 ]]
}
