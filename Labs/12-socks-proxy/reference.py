#!/usr/bin/env python3
"""Lab 12's reference in Python: a SOCKS5 proxy (RFC 1928) with username/password (RFC 1929),
CONNECT over IPv4, domain names and IPv6, a thread per client, and a relay that passes a
half-close on. Usage: reference.py PORT [USER:PASS]   (listens on 127.0.0.1 only)"""
import errno, socket, struct, sys, threading

def recv_exact(sock, n):
    """TCP keeps no message boundaries: a message may come one byte at a time."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the client closed mid-message")
        data += chunk
    return data

REPLY = {errno.ECONNREFUSED: 5, errno.ENETUNREACH: 3, errno.EHOSTUNREACH: 4, errno.ETIMEDOUT: 4}

def reply(sock, code, address=("0.0.0.0", 0)):
    host, port = address[0], address[1]
    if ":" in host:
        packed = b"\x04" + socket.inet_pton(socket.AF_INET6, host)
    else:
        packed = b"\x01" + socket.inet_aton(host)
    sock.sendall(b"\x05" + bytes([code]) + b"\x00" + packed + struct.pack("!H", port))

def pump(src, dst):
    """One direction of the relay: EOF from src becomes shutdown(SHUT_WR) on dst."""
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def serve(client, login):
    with client:
        client.settimeout(10)
        version, count = recv_exact(client, 2)
        methods = recv_exact(client, count)
        if version != 5:
            return
        wanted = 2 if login else 0
        if wanted not in methods:
            client.sendall(b"\x05\xff")
            return
        client.sendall(bytes([5, wanted]))
        if login:
            if recv_exact(client, 1) != b"\x01":
                return
            user = recv_exact(client, recv_exact(client, 1)[0])
            password = recv_exact(client, recv_exact(client, 1)[0])
            ok = (user.decode(errors="replace"), password.decode(errors="replace")) == login
            client.sendall(b"\x01\x00" if ok else b"\x01\x01")   # version 1 here, not 5
            if not ok:
                return
        version, command, _, atyp = recv_exact(client, 4)
        if atyp == 1:
            host = socket.inet_ntoa(recv_exact(client, 4))
        elif atyp == 3:
            host = recv_exact(client, recv_exact(client, 1)[0]).decode()
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, recv_exact(client, 16))
        else:
            return reply(client, 8)
        port = struct.unpack("!H", recv_exact(client, 2))[0]
        if command != 1:
            return reply(client, 7)
        try:
            target = socket.create_connection((host, port), timeout=10)
        except socket.gaierror:
            return reply(client, 4)
        except OSError as error:
            return reply(client, REPLY.get(error.errno, 1))
        with target:
            target.settimeout(None)
            client.settimeout(None)
            reply(client, 0, target.getsockname())
            other = threading.Thread(target=pump, args=(target, client), daemon=True)
            other.start()
            pump(client, target)
            other.join()

def main():
    port = int(sys.argv[1])
    login = tuple(sys.argv[2].split(":", 1)) if len(sys.argv) > 2 else None
    listener = socket.create_server(("127.0.0.1", port))
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, login), daemon=True).start()

if __name__ == "__main__":
    main()
