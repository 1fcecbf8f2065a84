#!/usr/bin/env bash
# Installs what SocketLab needs on a fresh Debian or Ubuntu machine.
#   scripts/setup.sh [build|test|bench]   (default: build)
# As root it installs missing apt packages itself; otherwise it prints the exact command.
set -euo pipefail

purpose=${1:-build}

# command-or-file to look for  →  apt package that provides it
declare -A need=(
  [pkg-config]=pkg-config
  [/usr/include/pcap/pcap.h]=libpcap-dev
  [/usr/include/zlib.h]=zlib1g-dev  # gzip-compressed capture files
  [cc]=gcc
)
if [[ $purpose == test || $purpose == bench ]]; then
  need[ip]=iproute2        # network namespaces for the test hosts
  need[nft]=nftables       # dropping SYNs, imposing loss
  need[python3]=python3    # a real client in the end-to-end tests
  need[nc]=netcat-openbsd  # another real client
  need[curl]=curl          # a real HTTP client for captures
  need[ping]=iputils-ping  # real ICMP echo for captures (and the raw-ping oracle)
  need[tcpdump]=tcpdump    # writes the SLL2 files the tests decode; its output is an oracle
  need[tshark]=tshark      # the oracle for every decoded field
  need[tcptrace]=tcptrace  # the oracle for the time-sequence graph (PictureTests)
  need[editcap]=tshark     # (wireshark-common) converts captures to pcapng
  need[dumpcap]=tshark     # writes pcapng live
  need[setpriv]=util-linux # drops capabilities to test the missing-privilege path
  need[ethtool]=ethtool    # MSS-sized packets on the test links (TSO/GSO off)
  need[atftp]=atftp        # a TFTP client beside ours (windowsize, RFC 7440)
  need[tftp]=tftp-hpa      # another TFTP client
  need[in.tftpd]=tftpd-hpa # a TFTP server beside ours
  need[ncat]=ncat          # a SOCKS5 client (--proxy-type socks5)
  need[proxychains4]=proxychains4  # runs a program unmodified through a SOCKS5 proxy
  need[/usr/lib/python3/dist-packages/socks.py]=python3-socks  # PySocks, Python's SOCKS client
  need[chromium]=chromium  # renders the pages the tools write (ipc-compare --html), headless
  need[tar]=tar            # unpacks the other tools' test captures (make foreign)
  need[bzip2]=bzip2        # (Wireshark's source is a .tar.bz2)
  need[xz]=xz-utils
fi
if [[ $purpose == bench ]]; then
  need[microsocks]=microsocks  # the reference SOCKS5 proxy
  need[iperf3]=iperf3      # the reference for loopback throughput
  need[socat]=socat        # the reference for moving a file over TCP
  need[in.tftpd]=tftpd-hpa # the reference TFTP server
  need[taskset]=util-linux # pinned runs
  need[/usr/bin/time]=time # seconds of a whole command (bench-pictures)
  need[chromium]=chromium  # loads the long page (bench-pictures)
  need[/usr/sbin/sshd]=openssh-server  # the reference for remote (bench-remote)
  need[ssh]=openssh-client
  need[keepalived]=keepalived  # the reference for standby (bench-standby): VRRP with unicast peers
  need[valgrind]=valgrind  # instructions per frame (bench-decoders)
fi

missing=()
for thing in "${!need[@]}"; do
  if [[ $thing == /* ]]; then
    [[ -e $thing ]] || missing+=("${need[$thing]}")
  else
    command -v "$thing" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$thing" >/dev/null 2>&1 || missing+=("${need[$thing]}")
  fi
done

if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [[ $(id -u) == 0 ]]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: install them with:  sudo apt-get install ${missing[*]}" >&2
    exit 2
  fi
fi

# atftpd, the second TFTP server our client is tested against, conflicts with tftpd-hpa as a
# package (both are "tftpd"): it is unpacked, not installed, and run from there.
if [[ $purpose == test && ! -x /var/cache/socketlab/atftpd/usr/sbin/atftpd && $(id -u) == 0 ]]; then
  work=$(mktemp -d)
  if (cd "$work" && apt-get download atftpd >/dev/null 2>&1); then
    mkdir -p /var/cache/socketlab/atftpd && dpkg-deb -x "$work"/atftpd_*.deb /var/cache/socketlab/atftpd
  else
    echo "setup: could not download atftpd; the test against it will fail" >&2
  fi
  rm -rf "$work"
fi

if ! command -v swift >/dev/null 2>&1 && [[ ! -x /opt/swift/usr/bin/swift ]]; then
  echo "setup: Swift 6 is not installed. Get the toolchain for your distribution from swift.org" >&2
  echo "setup: and put its usr/bin on PATH (this project expects /opt/swift/usr/bin or PATH)." >&2
  exit 2
fi
