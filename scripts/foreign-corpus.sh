#!/usr/bin/env bash
# `make foreign`: the inspector over other packet tools' own test captures — tcpdump's,
# Wireshark's, gopacket's and libpcap's, from their Debian source packages (the archive apt
# already uses; nothing on this machine's apt configuration changes). Two checks:
#   1. every view (text, --explain, --handshakes, --ladder, --json, --summary, --summary
#      --json, --html) and `capture read` on every file: no crash, no hang (20 s each), and an
#      exit code of 0 or 2 only;
#   2. the Swift test ForeignCorpusTests: every TCP segment's core fields and every handshake
#      are tshark's.
# CORPUS=DIR keeps the files (default .build/foreign-corpus); a second run reuses them.
# BIN=DIR runs the inspector and capture found there (make test passes its debug build);
# by default a release build.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
corpus=${CORPUS:-$ROOT/.build/foreign-corpus}
packages=(tcpdump wireshark gopacket libpcap)

fetch() {
  local work=$corpus/.download
  mkdir -p "$work/lists/partial" "$work/src"
  # A private apt state with the deb-src line the machine may lack.
  cat > "$work/sources.list" <<LIST
deb-src http://deb.debian.org/debian bookworm main
LIST
  local apt=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$work/lists"
             -o "APT::Sandbox::User=root" -o "Acquire::Languages=none")
  apt-get "${apt[@]}" update -qq >/dev/null
  (cd "$work/src" && apt-get "${apt[@]}" source --download-only -qq "${packages[@]}" >/dev/null)
  for archive in "$work"/src/*.orig.tar.*; do
    local name; name=$(basename "$archive" | sed 's/_.*//')
    mkdir -p "$corpus/$name"
    # Only the capture files: .pcap, .pcapng, .cap and their gzip forms.
    tar -xf "$archive" -C "$work" --wildcards --no-anchored '*.pcap' '*.pcapng' '*.cap' '*.pcap.gz' '*.pcapng.gz' 2>/dev/null || true
    # Named by their path in the source tree (gopacket has a be/ and an le/ test001.pcapng).
    while IFS= read -r -d '' file; do
      local relative=${file#"$work"/*/}
      mv "$file" "$corpus/$name/${relative//\//_}"
    done < <(find "$work" -mindepth 2 -path "$work/src" -prune -o -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) -print0)
    find "$work" -mindepth 1 -maxdepth 1 -type d ! -name src ! -name lists -exec rm -rf {} +
  done
  rm -rf "$work"
}

if [[ ! -d $corpus/tcpdump ]]; then
  echo "== fetching the captures of ${packages[*]} (Debian source packages)"
  if ! fetch; then
    echo "foreign-corpus: could not fetch the source packages (offline?): skipped"
    exit 0
  fi
fi
files=$(find "$corpus" -type f | wc -l)
echo "== $files captures in $corpus: $(for d in "$corpus"/*/; do printf '%s %s  ' "$(basename "$d")" "$(ls "$d" | wc -l)"; done)"

if [[ -n ${BIN:-} ]]; then
  bin=$BIN
else
  swift build -c release --product inspector 2>&1 | grep -E "error:" || true
  swift build -c release --product capture 2>&1 | grep -E "error:" || true
  bin=$(swift build -c release --show-bin-path)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
crashes=0 runs=0
start=$SECONDS
while IFS= read -r -d '' file; do
  for view in "" --explain --handshakes --ladder --json --summary "--summary --json" "--html $out/page.html" capture; do
    runs=$((runs + 1))
    # shellcheck disable=SC2086
    rc=0
    if [[ $view == capture ]]; then timeout 20 "$bin/capture" read "$file" >/dev/null 2>"$out/err" || rc=$?
    else timeout 20 "$bin/inspector" read $view "$file" >/dev/null 2>"$out/err" || rc=$?; fi
    if ((rc != 0 && rc != 2)); then
      crashes=$((crashes + 1))
      echo "CRASH or HANG (exit $rc): ${view:-text} $file: $(head -c 300 "$out/err" | tr '\n' ' ')"
    fi
  done
done < <(find "$corpus" -type f -print0 | sort -z)
echo "foreign-corpus: $runs runs (9 views × $files files) in $((SECONDS - start)) s, $crashes crashed or hung"

echo "== ForeignCorpusTests: tshark's numbers on every TCP segment and handshake"
SOCKETLAB_CORPUS=$corpus swift test ${BIN:+--skip-build} --filter ForeignCorpusTests >"$out/test.log" 2>&1 || true
grep -E "foreign corpus|✘|↳ /|^  /|Test run with" "$out/test.log" || true
agree=no
grep -qE "^✔ Test run with 1 test" "$out/test.log" && agree=yes
((crashes == 0)) && [[ $agree == yes ]]
