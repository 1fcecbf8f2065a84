#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// `SOCK_STREAM`, `SOCK_DGRAM`, `SOCK_SEQPACKET`, `SOCK_RAW`: how data crosses the socket.
public enum SocketType: Sendable, Hashable, CustomStringConvertible {
    /// A byte stream with no message boundaries (TCP, Unix stream).
    case stream
    /// Whole messages that may be lost or reordered (UDP, Unix datagram, ICMP "ping" sockets).
    case datagram
    /// Whole messages over a connection, in order and never lost: a stream that keeps its
    /// boundaries (Unix domain here; SCTP elsewhere).
    case seqPacket
    /// Packets with their protocol header, built and read by the program (needs CAP_NET_RAW).
    case raw

    public var rawValue: Int32 {
        switch self {
        case .stream: return Int32(SOCK_STREAM.rawValue)
        case .datagram: return Int32(SOCK_DGRAM.rawValue)
        case .seqPacket: return Int32(SOCK_SEQPACKET.rawValue)
        case .raw: return Int32(SOCK_RAW.rawValue)
        }
    }
    public var description: String {
        switch self {
        case .stream: return "SOCK_STREAM"
        case .datagram: return "SOCK_DGRAM"
        case .seqPacket: return "SOCK_SEQPACKET"
        case .raw: return "SOCK_RAW"
        }
    }
}

/// An open socket: owns one file descriptor and closes it exactly once.
///
/// The descriptor is closed by `close()` or, if the program forgets, when the last reference
/// goes away — so a lab that throws halfway through never leaks a descriptor. Every method
/// is one BSD call, named in its doc comment, so this file reads beside Beej's guide.
///
/// A `Socket` may be shared between threads (a reader and a writer, as in a chat client);
/// closing it while another thread is blocked in a call on it is a bug in C and here alike.
public final class Socket: Sendable, CustomStringConvertible {
    private let fd: Atomic<Int32>
    public let family: AddressFamily
    public let type: SocketType
    /// The protocol number given to socket(): IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, … (0 for Unix).
    public let protocolNumber: Int32

    /// `socket(family, type | SOCK_CLOEXEC, protocol)`.
    public init(family: AddressFamily, type: SocketType, protocol: Int32 = 0) throws(SocketError) {
        let flags = Int32(SOCK_CLOEXEC.rawValue)
        // Named in full where that changes the advice: raw sockets and ICMP "ping" sockets.
        let isICMP = `protocol` == Int32(IPPROTO_ICMP) || `protocol` == Int32(IPPROTO_ICMPV6)
        let call: SystemCall = type == .raw ? .rawSocket : isICMP ? .pingSocket : .socket
        let descriptor = try syscall(call) { Glibc.socket(family.rawValue, type.rawValue | flags, `protocol`) }
        self.fd = Atomic(descriptor)
        self.family = family
        self.type = type
        self.protocolNumber = `protocol`
    }

    /// Takes ownership of a descriptor that some other call opened (accept, socketpair).
    public init(adopting descriptor: Int32, family: AddressFamily, type: SocketType, protocol: Int32 = 0) {
        self.fd = Atomic(descriptor)
        self.family = family
        self.type = type
        self.protocolNumber = `protocol`
    }

    deinit {
        let descriptor = fd.load(ordering: .relaxed)
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    /// The descriptor number, for poll() and for printing; -1 once closed.
    public var descriptor: Int32 { fd.load(ordering: .acquiring) }

    public var isClosed: Bool { descriptor < 0 }

    /// The open descriptor, or `.closed` — so a use after close names the mistake, not EBADF.
    @inline(__always)
    func open() throws(SocketError) -> Int32 {
        let descriptor = fd.load(ordering: .acquiring)
        guard descriptor >= 0 else { throw .closed }
        return descriptor
    }

    /// `close(fd)`. Closing twice is harmless: the second call does nothing.
    ///
    /// Not retried on EINTR: on Linux the descriptor is gone even then, and a retry could
    /// close a descriptor another thread has just been given.
    public func close() throws(SocketError) {
        let descriptor = fd.exchange(-1, ordering: .acquiringAndReleasing)
        guard descriptor >= 0 else { return }
        if Glibc.close(descriptor) == -1, Errno.current != .EINTR {
            throw .system(call: .close, errno: .current, address: nil)
        }
    }

    public var description: String {
        "Socket(fd \(descriptor), \(family), \(type))"
    }
}

// MARK: - Making sockets

extension Socket {
    /// A TCP socket: `socket(AF_INET or AF_INET6, SOCK_STREAM, IPPROTO_TCP)`.
    public static func tcp(_ family: AddressFamily = .ipv4) throws(SocketError) -> Socket {
        try Socket(family: family, type: .stream, protocol: Int32(IPPROTO_TCP))
    }

    /// A UDP socket: `socket(AF_INET or AF_INET6, SOCK_DGRAM, IPPROTO_UDP)`.
    public static func udp(_ family: AddressFamily = .ipv4) throws(SocketError) -> Socket {
        try Socket(family: family, type: .datagram, protocol: Int32(IPPROTO_UDP))
    }

    /// A Unix-domain stream socket: `socket(AF_UNIX, SOCK_STREAM, 0)`.
    public static func unixStream() throws(SocketError) -> Socket {
        try Socket(family: .unix, type: .stream)
    }

    /// A Unix-domain datagram socket: `socket(AF_UNIX, SOCK_DGRAM, 0)`.
    public static func unixDatagram() throws(SocketError) -> Socket {
        try Socket(family: .unix, type: .datagram)
    }

    /// A Unix-domain sequenced-packet socket: `socket(AF_UNIX, SOCK_SEQPACKET, 0)`.
    public static func unixSeqPacket() throws(SocketError) -> Socket {
        try Socket(family: .unix, type: .seqPacket)
    }

    /// A raw ICMP socket: `socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)` (or ICMPv6).
    /// The program writes the ICMP header itself; on IPv4 it reads back the IP header too.
    /// Needs root or CAP_NET_RAW: the error says how to get it.
    public static func rawICMP(_ family: AddressFamily = .ipv4) throws(SocketError) -> Socket {
        try Socket(family: family, type: .raw, protocol: icmpProtocol(family))
    }

    /// The unprivileged ICMP "ping" socket: `socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`.
    /// The kernel fills in the identifier and checksum; allowed only for groups in
    /// `net.ipv4.ping_group_range` (Debian's default `1 0` allows nobody, not even root).
    public static func pingICMP(_ family: AddressFamily = .ipv4) throws(SocketError) -> Socket {
        try Socket(family: family, type: .datagram, protocol: icmpProtocol(family))
    }

    private static func icmpProtocol(_ family: AddressFamily) -> Int32 {
        family == .ipv6 ? Int32(IPPROTO_ICMPV6) : Int32(IPPROTO_ICMP)
    }

    /// `socketpair(AF_UNIX, type, 0)`: two sockets already connected to each other, the
    /// simplest IPC between a parent and a child process or two threads.
    public static func pair(_ type: SocketType = .stream) throws(SocketError) -> (Socket, Socket) {
        var fds: [Int32] = [-1, -1]
        let flags = Int32(SOCK_CLOEXEC.rawValue)
        _ = try syscall(.socketpair) { Glibc.socketpair(AF_UNIX, type.rawValue | flags, 0, &fds) }
        return (Socket(adopting: fds[0], family: .unix, type: type), Socket(adopting: fds[1], family: .unix, type: type))
    }

    /// A listening TCP (or Unix stream) socket in one step: socket(), setsockopt(SO_REUSEADDR),
    /// bind(), listen(). Port 0 asks the kernel for a free port: read it from `localAddress`.
    ///
    /// For a Unix path it first removes a stale socket file — one a crashed server left behind,
    /// that nobody listens on — which would otherwise make bind() fail with EADDRINUSE.
    public static func listening(on address: SocketAddress, backlog: Int32 = 128, reuseAddress: Bool = true) throws(SocketError) -> Socket {
        let socket = address.family == .unix ? try unixStream() : try tcp(address.family)
        if reuseAddress && address.family != .unix { try socket.set(.reuseAddress, true) }
        if case .unix(.path(let path)) = address, isStaleSocketFile(path) { unlink(path) }
        try socket.bind(to: address)
        try socket.listen(backlog: backlog)
        return socket
    }

    private static func isStaleSocketFile(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return false }
        guard let probe = try? Socket.unixStream() else { return false }
        do {
            try probe.connect(to: .unix(.path(path)))
            return false
        } catch {
            return error.errno == .ECONNREFUSED
        }
    }

    /// A connected TCP (or Unix stream) socket in one step: socket() then connect().
    public static func connected(to address: SocketAddress, timeout: Duration? = nil) throws(SocketError) -> Socket {
        let socket = address.family == .unix ? try unixStream() : try tcp(address.family)
        try socket.connect(to: address, timeout: timeout)
        return socket
    }
}
