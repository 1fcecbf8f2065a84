#!/usr/bin/env bash
# The inspector end to end on a capture of real traffic: the notes a student reads, JSON Lines
# a script reads, the stream filter, and broken files.
#   Tests/e2e/inspector.sh PATH/TO/inspector   (the capture tool is taken from the same folder)
set -uo pipefail
inspector=$1
capture=$(dirname "$1")/capture
source "$(dirname "$0")/lib.sh"
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT

start_http_server "$dir"
"$capture" live -q -f "tcp port $port or icmp" -w "$dir/web.pcap" 2> "$dir/live.err" &
live=$!
for _ in $(seq 100); do grep -q "listening on lo" "$dir/live.err" 2>/dev/null && break; sleep 0.05; done
curl -s -o /dev/null "http://127.0.0.1:$port/"
curl -s -o /dev/null "http://127.0.0.1:$port/"
ping -c 1 127.0.0.1 > /dev/null
sleep 0.3
kill -INT $live; wait $live

"$inspector" read "$dir/web.pcap" > "$dir/text" 2>&1; code=$?
check "read exits 0" test "$code" = 0
check "the SYN is explained, with its ISN" grep -q "SYN — the client 127.0.0.1.[0-9]* asks to open a connection to 127.0.0.1.$port and picks its initial sequence number" "$dir/text"
check "the SYN-ACK says why its ACK is ISN + 1" grep -q "is the client's ISN + 1: a SYN uses one sequence number" "$dir/text"
check "the handshake is complete, with its RTT" grep -qE "ACK — handshake complete in [0-9.]+ (µs|ms)" "$dir/text"
check "a handshake block per connection" bash -c "[[ \$(grep -c '^── stream [01] handshake: complete ──' '$dir/text') == 2 ]]"
check "a close block says who closed first" grep -qE "^── stream 0 close: FIN exchange, (client|server) first" "$dir/text"
check "ICMP gets one line and a note" grep -q "ICMP echo request" "$dir/text"
check "relative numbers: the first data segment starts at 1" grep -qE "Flags \[P\.\], seq 1:" "$dir/text"
"$inspector" read --absolute "$dir/web.pcap" > "$dir/absolute"
check "--absolute shows raw sequence numbers" bash -c "! grep -qE 'Flags \[S\], seq 0,' '$dir/absolute'"

"$inspector" read --json "$dir/web.pcap" > "$dir/json"; code=$?
check "--json: every line is a JSON object with kind first" python3 - "$dir/json" <<'PY'
import json, sys
kinds = set()
for line in open(sys.argv[1]):
    assert line.startswith('{"kind":'), line
    record = json.loads(line)
    kinds.add(record["kind"])
    if record["kind"] == "packet" and record["proto"] == "tcp":
        for field in ("frame", "time", "stream", "src", "sport", "dst", "dport", "flags", "seq", "ack",
                      "seq_raw", "ack_raw", "len", "win", "analysis"):
            assert field in record, field
assert kinds == {"packet", "handshake", "close", "summary"}, kinds
PY
check "--stream 1 shows only stream 1" bash -c "'$inspector' read --json --stream 1 '$dir/web.pcap' | python3 -c 'import json,sys; s={json.loads(l)[\"stream\"] for l in sys.stdin}; sys.exit(0 if s=={1} else 1)'"
check "--summary: one row per connection, both closed" bash -c "[[ \$('$inspector' read --summary '$dir/web.pcap' | grep -cE '^[01] .* closed\$') == 2 ]]"
check "--handshakes leaves out the data segments" bash -c "! '$inspector' read --handshakes '$dir/web.pcap' | grep -q 'Flags \[P'"

# Live: explained as the packets arrive, stopped with Ctrl-C, written to a file.
"$inspector" live -f "tcp port $port" -w "$dir/live.pcap" > "$dir/live.txt" 2> "$dir/live.err" &
live=$!
for _ in $(seq 100); do grep -q "capturing on lo" "$dir/live.err" 2>/dev/null && break; sleep 0.05; done
curl -s -o /dev/null "http://127.0.0.1:$port/"
sleep 0.3
kill -INT $live; wait $live; code=$?
check "live: explains the handshake as it happens, exits 0 on Ctrl-C" bash -c "[[ $code == 0 ]] && grep -q 'handshake complete' '$dir/live.txt'"
check "live -w: the file holds the same connection" bash -c "'$inspector' read '$dir/live.pcap' | grep -q '── stream 0 handshake: complete ──'"

size=$(stat -c %s "$dir/web.pcap")
head -c $((size - 7)) "$dir/web.pcap" > "$dir/cut.pcap"
"$inspector" read --json "$dir/cut.pcap" > "$dir/cut.json" 2> "$dir/err"; code=$?
frames=$(python3 -c "import json,sys; print(max(json.loads(l).get('frame',0) for l in open(sys.argv[1])))" "$dir/cut.json")
total=$("$capture" read --quiet "$dir/web.pcap" | grep -oE "^[0-9]+")
check "truncated file: every frame before the cut, then exit 2" bash -c "[[ $code == 2 && $frames == $((total - 1)) ]] && grep -q 'cut short' '$dir/err'"
echo "not a capture" > "$dir/notes.txt"
"$inspector" read "$dir/notes.txt" 2> /dev/null; code=$?
check "not a capture file: exit 2" test "$code" = 2
"$inspector" read --count 0 "$dir/web.pcap" 2> /dev/null; code=$?
check "--count 0: exit 2" test "$code" = 2
check "--absolute: the SYN's note does not claim the numbers are shown from 0" bash -c "
  grep -q 'shown as it is on the wire here' '$dir/absolute' && ! grep -q 'shown as 0 from now on' '$dir/absolute' && grep -q 'shown as 0 from now on' '$dir/text'"
check "--ladder tags arrows with the stream as s0 (a # would read as a frame number)" bash -c "
  '$inspector' read --ladder '$dir/web.pcap' > '$dir/ladder' && grep -qE '^ +[0-9.]+ s0 \|' '$dir/ladder' && ! grep -qE ' #[0-9]+ \|' '$dir/ladder' && grep -q 'stream s0 (tcp.stream 0)' '$dir/ladder'"

# Captures nobody here made: a malformed packet inside a readable file, a record whose
# fraction is a whole second, a pcap read from standard input.
python3 - "$dir" <<'PY'
import struct, sys
d = sys.argv[1]
def record(sec, frac, data, orig=None):
    return struct.pack('<IIII', sec, frac, len(data), orig or len(data)) + data
eth = bytes(6) + bytes(6)
syn = eth + b'\x08\x00' + bytes.fromhex('4500002800010000400600000a0000010a000002') + bytes.fromhex('9c400050000003e8000000005002ffff00000000')
bad = eth + b'\x08\x00' + bytes.fromhex('4f00002800010000400600000a0000010a000002')  # IHL 15: options past the frame
head = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
open(d + '/malformed.pcap', 'wb').write(head + record(1700000000, 0, syn) + record(1700000000, 1000, bad))
open(d + '/fraction.pcap', 'wb').write(head + record(1700000000, 1000000, syn) + record(1700000000, 5, syn))
PY
"$inspector" read "$dir/malformed.pcap" > "$dir/malformed.txt" 2>&1; code=$?
check "a malformed packet in a readable file: its note says what is wrong, exit 0 (as tshark)" bash -c "
  [[ $code == 0 ]] && grep -q 'IPv4 options' '$dir/malformed.txt'"
for view in "" --json --ladder --summary; do
  "$inspector" read $view "$dir/fraction.pcap" > "$dir/fraction.out" 2>&1; code=$?
  check "a record fraction of a whole second: read ${view:-(text)} exits 0, no trap" bash -c "[[ $code == 0 ]] && ! grep -qi 'fatal\|crash' '$dir/fraction.out'"
done
check "the JSON time of that record is tshark's frame.time_epoch" bash -c "
  '$inspector' read --json '$dir/fraction.pcap' | grep -q '\"time\":1700000000.1000000000,' &&
  tshark -r '$dir/fraction.pcap' -T fields -e frame.time_epoch 2>/dev/null | head -1 | grep -qx '1700000000.1000000000'"
"$capture" read "$dir/fraction.pcap" > /dev/null 2>&1; code=$?
check "capture read on it exits 0" test "$code" = 0
check "read - takes the capture from standard input (tcpdump -w - | inspector read -)" bash -c "
  '$inspector' read - < '$dir/web.pcap' | grep -q '── stream 0 handshake: complete ──'"


# The pictures: the page and each SVG open in headless Chromium at a lecture hall's sizes, are
# not blank, hold an arrow per segment, and reach for nothing on the network.
"$inspector" read "$dir/web.pcap" --html "$dir/web.html" 2> /dev/null; code=$?
check "--html writes the page, exit 0" bash -c "[[ $code == 0 && -s '$dir/web.html' ]]"
check "the page is self-contained: no script, no file or font from anywhere" bash -c "
  ! grep -qiE '<script| src=|href=\"http|url\\(http|@import' '$dir/web.html'"
segments=$(tshark -r "$dir/web.pcap" -Y tcp 2>/dev/null | wc -l)
for graph in ladder tsg throughput rtt; do
  for style in screen projector print; do
    "$inspector" read "$dir/web.pcap" --svg "$dir/$graph-$style.svg" --graph "$graph" --style "$style" 2> /dev/null
  done
done
check "--svg draws each graph in each style" bash -c "ls '$dir'/*-screen.svg '$dir'/*-projector.svg '$dir'/*-print.svg | wc -l | grep -qx 12"
if command -v chromium > /dev/null; then
  shot() { chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$2" --window-size="$3" "file://$1" > /dev/null 2>&1; }
  for size in 1280,800 1920,1080; do
    shot "$dir/web.html" "$dir/page-$size.png" "$size"
    check "the page renders at ${size/,/×}, not blank" bash -c "[[ \$(stat -c %s '$dir/page-$size.png') -gt 30000 ]]"
    # Not blank: larger than a screenshot of an empty SVG at the same size by half.
    echo '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"></svg>' > "$dir/empty.svg"
    shot "$dir/empty.svg" "$dir/empty-$size.png" "$size"
    blank=$(stat -c %s "$dir/empty-$size.png")
    small=()
    for svg in "$dir"/*-screen.svg "$dir"/*-projector.svg "$dir"/*-print.svg; do
      shot "$svg" "${svg%.svg}-$size.png" "$size"
      (( $(stat -c %s "${svg%.svg}-$size.png") > blank * 3 / 2 )) || small+=("$(basename "$svg")")
    done
    check "each of the 12 SVGs (4 graphs × 3 styles) renders at ${size/,/×}, not blank${small:+ (blank: ${small[*]})}" test "${#small[@]}" = 0
  done
  dom=$(chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$dir/web.html" 2> /dev/null | grep -o 'class="arrow ' | wc -l)
  check "the page's DOM holds an arrow per TCP segment ($dom of $segments)" test "$dom" = "$segments"
else
  echo "  (chromium not installed: the pictures were not rendered)"
fi
"$inspector" read "$dir/web.pcap" --html "$dir/none.html" --stream 99 > /dev/null 2> "$dir/none.err"; code=$?
check "--stream out of range: exit 2, saying which streams there are" bash -c "[[ $code == 2 ]] && grep -q 'its streams are 0 to' '$dir/none.err' && [[ ! -e '$dir/none.html' ]]"
"$inspector" read "$dir/malformed.pcap" --html "$dir/x.html" --stream 3 > /dev/null 2> "$dir/x.err"
"$inspector" read "$dir/fraction.pcap" --svg "$dir/one.svg" 2> /dev/null; code=$?
check "a capture with only a SYN still draws (one arrow)" bash -c "[[ $code == 0 ]] && [[ \$(grep -o 'class=\"arrow ' '$dir/one.svg' | wc -l) -ge 1 ]]"

if [[ $failed != 0 ]]; then echo "--- what the inspector printed:"; head -30 "$dir/text"; fi
finish
