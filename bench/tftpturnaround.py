#!/usr/bin/env python3
"""A TFTP server's own share of lock-step time, from a capture taken at the server:
`tshark -r CAPTURE -T fields -e frame.time_epoch -e ip.src -e tftp.opcode | tftpturnaround.py
SERVER_ADDRESS` prints the median and the 90th percentile, in microseconds, of the time from
each ACK arriving to the server's next DATA leaving. The wall time of a transfer also holds the
client's and the link's part; this is the part a server can change."""
import sys

server = sys.argv[1]
ack, turns = None, []
for line in sys.stdin:
    fields = line.rstrip("\n").split("\t")
    if len(fields) < 3 or not fields[2]:
        continue
    time, source, opcode = float(fields[0]), fields[1], fields[2]
    if opcode == "4" and source != server:
        ack = time
    elif opcode == "3" and source == server and ack is not None:
        turns.append(time - ack)
        ack = None
if not turns:
    sys.exit("tftpturnaround: no ACK followed by DATA in the capture")
turns.sort()
print("%.1f %.1f %d" % (turns[len(turns) // 2] * 1e6, turns[len(turns) * 9 // 10] * 1e6, len(turns)))
