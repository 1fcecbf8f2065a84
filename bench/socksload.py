#!/usr/bin/env python3
"""Load for a SOCKS5 proxy, the same for every proxy measured: `throughput PROXY_PORT BYTES`
sends BYTES through a CONNECT to a local sink and prints the seconds (the sink's count must
match); `direct BYTES` the same without a proxy; `hold PROXY_PORT N` opens N relayed
connections at once and waits for a line on stdin; `setup PROXY_PORT N` opens, CONNECTs and
closes N connections one after another and prints the seconds."""
import socket, struct, sys, threading, time

def sink():
    server = socket.create_server(("127.0.0.1", 0))
    counts = []
    def run():
        while True:
            c, _ = server.accept()
            def drain(c=c):
                # The length first: microsocks, like many proxies, does not pass a half-close on.
                head = b""
                while len(head) < 8:
                    part = c.recv(8 - len(head))
                    if not part: return c.close()
                    head += part
                expected, total = struct.unpack("!Q", head)[0], 0
                while total < expected and (data := c.recv(1 << 20)): total += len(data)
                c.sendall(struct.pack("!Q", total)); c.close()
            threading.Thread(target=drain, daemon=True).start()
    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]

def through(proxy_port, target_port):
    s = socket.create_connection(("127.0.0.1", proxy_port))
    s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", target_port))
    reply = b""
    while len(reply) < 10: reply += s.recv(10 - len(reply))
    assert reply[1] == 0, reply
    return s

def send(s, total):
    chunk = b"\0" * (1 << 20)
    start = time.perf_counter()
    s.sendall(struct.pack("!Q", total))
    left = total
    while left > 0:
        n = min(left, len(chunk)); s.sendall(chunk[:n]); left -= n
    got = b""
    while len(got) < 8:
        part = s.recv(8 - len(got))
        if not part: raise SystemExit("the connection closed before the sink's count")
        got += part
    elapsed = time.perf_counter() - start
    assert struct.unpack("!Q", got)[0] == total
    return elapsed

mode = sys.argv[1]
target = sink()
if mode == "throughput":
    print("%.4f" % send(through(int(sys.argv[2]), target), int(sys.argv[3])))
elif mode == "direct":
    print("%.4f" % send(socket.create_connection(("127.0.0.1", target)), int(sys.argv[2])))
elif mode == "hold":
    held = [through(int(sys.argv[2]), target) for _ in range(int(sys.argv[3]))]
    print("holding", len(held), flush=True)
    sys.stdin.readline()
elif mode == "setup":
    start = time.perf_counter()
    for _ in range(int(sys.argv[3])):
        s = through(int(sys.argv[2]), target); s.close()
    print("%.4f" % (time.perf_counter() - start))
