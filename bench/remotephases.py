"""Where the time of one `remote run -- true` goes, phase by phase, over N runs: connect
(the handshake), the challenge (the server's hello), the proof answered (welcome), and the
program run to its exit frame (spawn, run, reap). Speaks the protocol of
Sources/Packets/RemoteFrame.swift. Usage: remotephases.py PORT TOKEN_FILE N"""
import hashlib, hmac, socket, statistics, struct, sys, time

port, token_file, runs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
token = open(token_file, "rb").read().strip()

def frame(sock, buf):
    while len(buf) < 5:
        buf += sock.recv(65536)
    channel, length = buf[0], struct.unpack("!I", buf[1:5])[0]
    while len(buf) < 5 + length:
        buf += sock.recv(65536)
    return channel, buf[5:5 + length], buf[5 + length:]

phases = {"connect": [], "hello": [], "auth": [], "run": []}
for _ in range(runs):
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t1 = time.perf_counter()
    channel, payload, rest = frame(s, b"")
    t2 = time.perf_counter()
    challenge = payload[payload.index(0) + 1:]
    proof = hmac.new(token, challenge, hashlib.sha256).digest()
    s.sendall(bytes([2]) + struct.pack("!I", len(proof)) + proof)
    channel, payload, rest = frame(s, rest)
    t3 = time.perf_counter()
    command = struct.pack("!I", 0) + b"true\0"
    s.sendall(bytes([0x10]) + struct.pack("!I", len(command)) + command + bytes([0x20, 0, 0, 0, 0]))
    while True:
        channel, payload, rest = frame(s, rest)
        if channel == 0x30:
            break
    t4 = time.perf_counter()
    s.close()
    for name, value in (("connect", t1 - t0), ("hello", t2 - t1), ("auth", t3 - t2), ("run", t4 - t3)):
        phases[name].append(value * 1000)
print(" ".join("%s=%.3f" % (name, statistics.median(values)) for name, values in phases.items()))
