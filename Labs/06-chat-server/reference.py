#!/usr/bin/env python3
"""A reference chat server for Lab 06: one thread, a selector over every connection, a line
buffer in and a queue out per client, so no client ever waits for another.
    python3 reference.py PORT"""
import selectors, socket, sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", port))
listener.listen(128)
listener.setblocking(False)
selector = selectors.DefaultSelector()
selector.register(listener, selectors.EVENT_READ)
clients = {}  # socket -> {"nick": str or None, "inbox": bytes, "outbox": bytes}

def watch(conn):
    selector.modify(conn, selectors.EVENT_READ | (selectors.EVENT_WRITE if clients[conn]["outbox"] else 0))

def send(conn, line):
    clients[conn]["outbox"] += line.encode() + b"\n"
    watch(conn)

def others(conn, line):
    for other, state in clients.items():
        if other is not conn and state["nick"] is not None:
            send(other, line)

def leave(conn):
    state = clients.pop(conn)
    selector.unregister(conn)
    conn.close()
    if state["nick"] is not None:
        others(conn, f"* {state['nick']} left")

def handle(conn, line):
    state = clients[conn]
    if line.startswith("NICK "):
        nick = line[5:].strip()
        if state["nick"] is None:
            others(conn, f"* {nick} joined")
        else:
            others(conn, f"* {state['nick']} is now {nick}")
        state["nick"] = nick
    elif line == "QUIT":
        return False
    elif state["nick"] is None:
        send(conn, "! send NICK <name> first")
    else:
        others(conn, f"{state['nick']}: {line}")
    return True

while True:
    for key, mask in selector.select():
        conn = key.fileobj
        if conn is listener:
            new, _ = listener.accept()
            new.setblocking(False)
            clients[new] = {"nick": None, "inbox": b"", "outbox": b""}
            selector.register(new, selectors.EVENT_READ)
            continue
        if conn not in clients:
            continue
        try:
            if mask & selectors.EVENT_WRITE and clients[conn]["outbox"]:
                sent = conn.send(clients[conn]["outbox"])
                clients[conn]["outbox"] = clients[conn]["outbox"][sent:]
                watch(conn)
            if mask & selectors.EVENT_READ:
                data = conn.recv(65536)
                if not data:
                    leave(conn)
                    continue
                clients[conn]["inbox"] += data
                *lines, clients[conn]["inbox"] = clients[conn]["inbox"].split(b"\n")
                for raw in lines:
                    if not handle(conn, raw.decode(errors="replace").rstrip("\r")):
                        leave(conn)
                        break
        except (ConnectionResetError, BrokenPipeError):
            if conn in clients:
                leave(conn)
