# SocketLab — the commands a student, an instructor and CI use.
#   make demo    the live demo on loopback (installs what it needs when run as root)
#   make test    every test: Swift tests on real sockets, then the tools end to end
#   make bench   SocketCore beside C (and iperf3) on loopback; prints ratios
SHELL := /bin/bash

.PHONY: all build demo test bench setup clean
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

clean:
	rm -rf .build bench/out
