import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Which direction `shutdown(2)` ends.
public enum ShutdownDirection: Sendable {
    /// `SHUT_RD`: no more reading; nothing is sent to the peer.
    case read
    /// `SHUT_WR`: "I have nothing more to say" — TCP sends a FIN, the peer reads EOF,
    /// and this side can still read the reply (a half-close).
    case write
    /// `SHUT_RDWR`: both.
    case both

    var rawValue: Int32 {
        switch self {
        case .read: return Int32(SHUT_RD)
        case .write: return Int32(SHUT_WR)
        case .both: return Int32(SHUT_RDWR)
        }
    }
}

extension Socket {
    /// `bind(fd, address)`: give the socket its local address (a server's well-known port).
    public func bind(to address: SocketAddress) throws(SocketError) {
        let fd = try open()
        _ = try address.withSockAddr { (raw, length) throws(SocketError) in
            try syscall(.bind, address: address) { Glibc.bind(fd, raw, length) }
        }
    }

    /// `listen(fd, backlog)`: the socket becomes passive (TCP state LISTEN); the kernel now
    /// completes handshakes on its own and queues up to `backlog` connections for accept().
    public func listen(backlog: Int32 = 128) throws(SocketError) {
        let fd = try open()
        _ = try syscall(.listen, address: try? localAddress) { Glibc.listen(fd, backlog) }
    }

    /// `accept4(fd, &peer, SOCK_CLOEXEC)`: take one finished connection off the queue.
    /// The handshake happened before this call — accept() only hands it over. Close-on-exec
    /// from the start, so a child another thread spawns at that moment does not inherit it.
    public func accept() throws(SocketError) -> (socket: Socket, peer: SocketAddress) {
        switch try acceptOne() {
        case .ready(let connection): return connection
        // A blocking listener waits instead; this is a receive timeout (SO_RCVTIMEO) running out.
        case .wouldBlock: throw .system(call: .accept, errno: .EAGAIN, address: nil)
        }
    }

    /// The one accept4() both `accept()` and `tryAccept()` make.
    func acceptOne() throws(SocketError) -> NonBlocking<(socket: Socket, peer: SocketAddress)> {
        let fd = try open()
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let outcome = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SocketError) -> NonBlocking<Int32> in
            try nonBlocking(.accept) { socketlab_accept4_cloexec(fd, pointer, &length) }
        }
        guard case .ready(let client) = outcome else { return .wouldBlock }
        let socket = Socket(adopting: client, family: family, type: type, protocol: protocolNumber)
        let peer = SocketAddress(storage: storage, length: length) ?? .unix(.unnamed)
        return .ready((socket, peer))
    }

    /// `connect(fd, address)`: for TCP the kernel sends the SYN and this call returns when the
    /// handshake is done (SYN, SYN-ACK, ACK) or has failed. For UDP it only records the peer.
    ///
    /// With a `timeout`, the socket is made non-blocking, connect() returns EINPROGRESS at once,
    /// and poll() waits for it to become writable — then SO_ERROR says how the handshake ended.
    public func connect(to address: SocketAddress, timeout: Duration? = nil) throws(SocketError) {
        let fd = try open()
        guard let timeout else {
            _ = try address.withSockAddr { (raw, length) throws(SocketError) in
                try syscall(.connect, address: address) { Glibc.connect(fd, raw, length) }
            }
            return
        }
        let wasNonBlocking = try isNonBlocking
        try setNonBlocking(true)
        defer { if !wasNonBlocking { try? setNonBlocking(false) } }
        let started = address.withSockAddr { raw, length in Glibc.connect(fd, raw, length) }
        if started == 0 { return }
        let error = Errno.current
        guard error == .EINPROGRESS || error == .EINTR else {
            throw .system(call: .connect, errno: error, address: address)
        }
        var poller = Poller()
        poller.watch(self, for: .writable)
        if try poller.wait(timeout: timeout).isEmpty {
            throw .system(call: .connect, errno: .ETIMEDOUT, address: address)
        }
        let outcome = try get(.pendingError)
        if outcome != 0 {
            throw .system(call: .connect, errno: Errno(rawValue: Int32(outcome)), address: address)
        }
    }

    /// `shutdown(fd, how)`: end one direction but keep the socket. `.write` sends a FIN.
    public func shutdown(_ direction: ShutdownDirection) throws(SocketError) {
        let fd = try open()
        _ = try syscall(.shutdown, address: try? peerAddress) { Glibc.shutdown(fd, direction.rawValue) }
    }

    /// `getsockname(fd)`: the address this socket is bound to (the port the kernel chose).
    public var localAddress: SocketAddress {
        get throws(SocketError) { try address(call: .getsockname, Glibc.getsockname) }
    }

    /// `getpeername(fd)`: the address of the other end of a connected socket.
    public var peerAddress: SocketAddress {
        get throws(SocketError) { try address(call: .getpeername, Glibc.getpeername) }
    }

    private func address(
        call: SystemCall,
        _ body: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(SocketError) -> SocketAddress {
        let fd = try open()
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SocketError) -> Int32 in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws(SocketError) -> Int32 in
                try syscall(call) { body(fd, raw, &length) }
            }
        }
        return SocketAddress(storage: storage, length: length) ?? .unix(.unnamed)
    }

    /// `fcntl(fd, F_GETFL) & O_NONBLOCK`: whether calls return EAGAIN instead of waiting.
    public var isNonBlocking: Bool {
        get throws(SocketError) {
            let fd = try open()
            return try syscall(.fcntl) { fcntl(fd, F_GETFL) } & O_NONBLOCK != 0
        }
    }

    /// `fcntl(fd, F_SETFL, flags | O_NONBLOCK)`: a server built on poll() makes every socket
    /// non-blocking, so one slow client can never stop the loop.
    public func setNonBlocking(_ on: Bool) throws(SocketError) {
        let fd = try open()
        let flags = try syscall(.fcntl) { fcntl(fd, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if wanted != flags { _ = try syscall(.fcntl) { fcntl(fd, F_SETFL, wanted) } }
    }
}
