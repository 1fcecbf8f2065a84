#!/usr/bin/env python3
"""A reference echo server for Lab 05: one thread, poll() over every connection, and every
byte written back even when the client writes faster than it reads or half-closes.
    python3 reference.py PORT"""
import selectors, socket, sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", port))
listener.listen(128)
listener.setblocking(False)
selector = selectors.DefaultSelector()
selector.register(listener, selectors.EVENT_READ, None)
pending = {}   # connection -> bytes still to write back
finished = set()  # connections whose client has half-closed

def update(conn):
    events = (0 if conn in finished else selectors.EVENT_READ) | (selectors.EVENT_WRITE if pending[conn] else 0)
    if events:
        selector.modify(conn, events, None)
    else:  # the client is done sending and has everything back: our FIN
        selector.unregister(conn); del pending[conn]; finished.discard(conn); conn.close()

while True:
    for key, mask in selector.select():
        if key.fileobj is listener:
            conn, _ = listener.accept()
            conn.setblocking(False)
            pending[conn] = b""
            selector.register(conn, selectors.EVENT_READ, None)
            continue
        conn = key.fileobj
        try:
            if mask & selectors.EVENT_READ:
                data = conn.recv(65536)
                if data:
                    pending[conn] += data
                else:
                    finished.add(conn)
            if mask & selectors.EVENT_WRITE and pending[conn]:
                sent = conn.send(pending[conn])
                pending[conn] = pending[conn][sent:]
            update(conn)
        except (ConnectionResetError, BrokenPipeError):
            selector.unregister(conn); pending.pop(conn, None); finished.discard(conn); conn.close()
