#!/usr/bin/env bash
# remote beside OpenSSH on loopback, side by side: `remote run -- true` against
# `ssh root@127.0.0.1 true` (a key, an sshd this script starts with a config of its own on a
# free port), N runs each, the time per run and where remote's goes (bench/remotephases.py:
# connect, challenge, proof, run); then 1 GB through `cat` each way (ssh with its default
# cipher: remote has none, which is the difference). Target: at least 5× faster per run.
# Results: bench/out/remote.txt.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
N=${N:-50} BYTES=${BYTES:-1000000000}
mkdir -p bench/out
swift build -c release --product remote 2>&1 | grep -E "error:" || true
remote="$(swift build -c release --show-bin-path)/remote"
[[ -x /usr/sbin/sshd ]] || { echo "bench-remote: openssh-server is not installed (scripts/setup.sh bench)"; exit 1; }
dir=$(mktemp -d)
trap 'kill $(cat "$dir/sshd.pid" 2>/dev/null) $server 2>/dev/null; rm -rf "$dir"' EXIT
port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
sp=$(port) rp=$(port)
ssh-keygen -q -t ed25519 -N '' -f "$dir/host"
ssh-keygen -q -t ed25519 -N '' -f "$dir/id"
cp "$dir/id.pub" "$dir/authorized_keys"
mkdir -p /run/sshd
cat > "$dir/sshd_config" <<CONF
Port $sp
ListenAddress 127.0.0.1
HostKey $dir/host
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
CONF
/usr/sbin/sshd -f "$dir/sshd_config"
ssh_run() { ssh -q -i "$dir/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -p "$sp" root@127.0.0.1 "$@"; }
head -c 32 /dev/urandom | base64 > "$dir/token"; chmod 600 "$dir/token"
"$remote" serve --port "$rp" --token-file "$dir/token" > "$dir/serve.log" 2>&1 & server=$!
for _ in $(seq 100); do grep -q serving "$dir/serve.log" && break; sleep 0.05; done
for _ in $(seq 50); do ssh_run true 2>/dev/null && break; sleep 0.1; done
per_run() {  # COMMAND… → milliseconds per run over N runs
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$N"); do "$@" > /dev/null; done
  end=$(date +%s%N)
  awk -v s="$start" -v e="$end" -v n="$N" 'BEGIN {printf "%.2f", (e - s) / n / 1e6}'
}
{
  echo "remote beside OpenSSH on loopback — $(date -u +%F), $(nproc) CPUs, $N runs each"
  r=$(per_run "$remote" run "127.0.0.1:$rp" --token-file "$dir/token" -- true)
  s=$(per_run ssh_run true)
  echo "per run of true: remote $r ms, ssh $s ms: remote is $(awk -v r="$r" -v s="$s" 'BEGIN {printf "%.1f", s / r}')x faster (target ≥ 5x)"
  echo "remote's phases, median ms (bench/remotephases.py): $(python3 bench/remotephases.py "$rp" "$dir/token" "$N")"
  t0=$(date +%s%N); head -c "$BYTES" /dev/zero | "$remote" run "127.0.0.1:$rp" --token-file "$dir/token" -- cat > /dev/null; t1=$(date +%s%N)
  head -c "$BYTES" /dev/zero | ssh_run cat > /dev/null; t2=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$BYTES" 'BEGIN {printf "%d bytes through cat: remote %.2f s (%.0f MB/s), ssh %.2f s (%.0f MB/s, with its cipher)\n", n, (b - a) / 1e9, n / (b - a) * 1e3, (c - b) / 1e9, n / (c - b) * 1e3}'
} | tee bench/out/remote.txt
