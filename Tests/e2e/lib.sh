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

# start_http_server DIR: python3 -m http.server on 127.0.0.1 with a port the kernel picks;
# sets $port and $http_pid once it answers (up to 20 s), or fails the script.
start_http_server() {
  local log
  log=$(mktemp)
  PYTHONUNBUFFERED=1 python3 -m http.server --bind 127.0.0.1 0 --directory "$1" > "$log" 2>&1 &
  http_pid=$!
  port=
  for _ in $(seq 400); do
    port=$(grep -oE "port [0-9]+" "$log" | grep -oE "[0-9]+" || true)
    [[ -n $port ]] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.05
  done
  if [[ -z $port ]] || ! curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "  python3 -m http.server did not start: $(cat "$log")"
    exit 1
  fi
}
