# SocketLab — the commands a student, an instructor and CI use.
#   make demo    the live demo on loopback (installs what it needs when run as root)
#   make test    every test: Swift tests on real sockets, then the tools end to end
#   make bench   SocketCore beside C (and iperf3) on loopback; decoding beside tcpdump and C
#   make fuzz    libFuzzer + AddressSanitizer over the packet decoder (FUZZ_SECONDS=60)
#   make foreign the inspector on tcpdump's, Wireshark's, gopacket's and libpcap's test captures
SHELL := /bin/bash

.PHONY: all build demo test bench fuzz foreign setup clean
all: build

setup:
	bash scripts/setup.sh test

build:
	bash scripts/setup.sh build
	source scripts/env.sh && swift build

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

FUZZ_SECONDS ?= 60
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

foreign:
	bash scripts/foreign-corpus.sh

clean:
	rm -rf .build .build-fuzz bench/out
