import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A value that a socket option carries, and how it looks to setsockopt(2).
public protocol SocketOptionValue: Sendable {
    associatedtype Raw: BitwiseCopyable
    init(socketOption raw: Raw)
    var socketOption: Raw { get }
}

extension Bool: SocketOptionValue {
    public init(socketOption raw: Int32) { self = raw != 0 }
    public var socketOption: Int32 { self ? 1 : 0 }
}

extension Int: SocketOptionValue {
    public init(socketOption raw: Int32) { self = Int(raw) }
    public var socketOption: Int32 { Int32(clamping: self) }
}

/// SO_RCVTIMEO / SO_SNDTIMEO carry a `struct timeval`; zero means "wait for ever".
extension Duration: SocketOptionValue {
    public init(socketOption raw: timeval) {
        self = .seconds(raw.tv_sec) + .microseconds(raw.tv_usec)
    }
    public var socketOption: timeval {
        let (seconds, attoseconds) = components
        return timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}

/// What close() does with data still unsent (SO_LINGER).
public enum Linger: SocketOptionValue, Equatable {
    /// The default: close() returns at once and the kernel still delivers the data, then FIN.
    case off
    /// close() waits up to this many seconds for the data to be delivered.
    case wait(seconds: Int)
    /// Zero linger: close() throws unsent data away and sends RST instead of FIN — an abort.
    public static let abort = Linger.wait(seconds: 0)

    public init(socketOption raw: linger) {
        self = raw.l_onoff == 0 ? .off : .wait(seconds: Int(raw.l_linger))
    }
    public var socketOption: linger {
        switch self {
        case .off: return linger(l_onoff: 0, l_linger: 0)
        case .wait(let seconds): return linger(l_onoff: 1, l_linger: Int32(clamping: seconds))
        }
    }
}

/// A named socket option: the level and name setsockopt(2) wants, and the type of its value.
///
/// Swift properties cannot throw from a setter, and setsockopt can fail, so an option is a
/// value you pass to `set` and `get`: `try socket.set(.reuseAddress, true)` is
/// `setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)`.
public struct SocketOption<Value: SocketOptionValue>: Sendable, CustomStringConvertible {
    public let level: Int32
    public let name: Int32
    /// The C name, e.g. `SO_REUSEADDR`, for error messages and the docs.
    public let cName: String

    public init(level: Int32, name: Int32, cName: String) {
        self.level = level
        self.name = name
        self.cName = cName
    }
    public var description: String { cName }
}

extension SocketOption where Value == Bool {
    /// SO_REUSEADDR: bind() a port even while old connections on it sit in TIME_WAIT.
    public static var reuseAddress: Self { .init(level: SOL_SOCKET, name: SO_REUSEADDR, cName: "SO_REUSEADDR") }
    /// SO_REUSEPORT: several sockets bind the same port; the kernel spreads connections.
    public static var reusePort: Self { .init(level: SOL_SOCKET, name: SO_REUSEPORT, cName: "SO_REUSEPORT") }
    /// SO_KEEPALIVE: probe an idle connection so a dead peer is noticed.
    public static var keepAlive: Self { .init(level: SOL_SOCKET, name: SO_KEEPALIVE, cName: "SO_KEEPALIVE") }
    /// SO_BROADCAST: allow sending UDP to a broadcast address.
    public static var broadcast: Self { .init(level: SOL_SOCKET, name: SO_BROADCAST, cName: "SO_BROADCAST") }
    /// TCP_NODELAY: turn Nagle's algorithm off — small writes go out at once.
    /// IP_RECVTTL: deliver each datagram's TTL with it (`receiveMessage`), as ping prints it.
    public static var receiveTTL: Self { .init(level: Int32(IPPROTO_IP), name: socketlab_ip_recvttl(), cName: "IP_RECVTTL") }
    /// SO_TIMESTAMPNS: deliver the kernel's receive time with each datagram (`receiveMessage`).
    public static var receiveTimestamps: Self { .init(level: SOL_SOCKET, name: socketlab_so_timestampns(), cName: "SO_TIMESTAMPNS") }
    /// IPV6_RECVHOPLIMIT: the same for IPv6's hop limit.
    public static var receiveHopLimit: Self { .init(level: Int32(IPPROTO_IPV6), name: socketlab_ipv6_recvhoplimit(), cName: "IPV6_RECVHOPLIMIT") }
    public static var noDelay: Self { .init(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, cName: "TCP_NODELAY") }
    /// IPV6_V6ONLY: an IPv6 socket bound to :: takes IPv6 only (no IPv4-mapped clients).
    public static var v6Only: Self { .init(level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, cName: "IPV6_V6ONLY") }
}

extension SocketOption where Value == Int {
    /// TCP_KEEPIDLE: seconds of silence before the first keep-alive probe.
    public static var keepAliveIdle: Self { .init(level: Int32(IPPROTO_TCP), name: TCP_KEEPIDLE, cName: "TCP_KEEPIDLE") }
    /// TCP_KEEPINTVL: seconds between keep-alive probes.
    public static var keepAliveInterval: Self { .init(level: Int32(IPPROTO_TCP), name: TCP_KEEPINTVL, cName: "TCP_KEEPINTVL") }
    /// TCP_KEEPCNT: unanswered probes before the connection is declared dead (ETIMEDOUT).
    public static var keepAliveCount: Self { .init(level: Int32(IPPROTO_TCP), name: TCP_KEEPCNT, cName: "TCP_KEEPCNT") }
    /// SO_SNDBUF: the kernel's send buffer. Linux doubles the value you set (for its own
    /// bookkeeping) and `get` shows the doubled number.
    public static var sendBufferSize: Self { .init(level: SOL_SOCKET, name: SO_SNDBUF, cName: "SO_SNDBUF") }
    /// SO_RCVBUF: the kernel's receive buffer (doubled like SO_SNDBUF); it bounds the window.
    public static var receiveBufferSize: Self { .init(level: SOL_SOCKET, name: SO_RCVBUF, cName: "SO_RCVBUF") }
    /// IP_TTL: hops an IPv4 packet may take before a router drops it (and sends Time Exceeded).
    public static var ttl: Self { .init(level: Int32(IPPROTO_IP), name: IP_TTL, cName: "IP_TTL") }
    /// IPV6_UNICAST_HOPS: IPv6's TTL.
    public static var hopLimit: Self { .init(level: Int32(IPPROTO_IPV6), name: IPV6_UNICAST_HOPS, cName: "IPV6_UNICAST_HOPS") }
    /// SO_ERROR (read only): the error a non-blocking connect() ended with; reading clears it.
    public static var pendingError: Self { .init(level: SOL_SOCKET, name: SO_ERROR, cName: "SO_ERROR") }
}

extension SocketOption where Value == Duration {
    /// SO_RCVTIMEO: recv() gives up with EAGAIN after this long without data (zero: never).
    public static var receiveTimeout: Self { .init(level: SOL_SOCKET, name: SO_RCVTIMEO, cName: "SO_RCVTIMEO") }
    /// SO_SNDTIMEO: send() gives up with EAGAIN after this long blocked (zero: never).
    public static var sendTimeout: Self { .init(level: SOL_SOCKET, name: SO_SNDTIMEO, cName: "SO_SNDTIMEO") }
}

extension SocketOption where Value == Linger {
    /// SO_LINGER: what close() does with unsent data; `.abort` makes close() send RST.
    public static var linger: Self { .init(level: SOL_SOCKET, name: SO_LINGER, cName: "SO_LINGER") }
}

extension Socket {
    /// `setsockopt(fd, level, name, &value, sizeof value)`.
    public func set<Value>(_ option: SocketOption<Value>, _ value: Value) throws(SocketError) {
        let fd = try open()
        let raw = value.socketOption
        _ = try syscall(.setsockopt(option.cName)) {
            withUnsafeBytes(of: raw) { setsockopt(fd, option.level, option.name, $0.baseAddress, socklen_t($0.count)) }
        }
    }

    /// `getsockopt(fd, level, name, &value, &size)`.
    public func get<Value>(_ option: SocketOption<Value>) throws(SocketError) -> Value {
        let fd = try open()
        let raw = try rawOption(fd, level: option.level, name: option.name, as: Value.Raw.self, call: .getsockopt(option.cName))
        return Value(socketOption: raw)
    }

    /// A getsockopt for any plain C struct: starts from zeroed memory, so a kernel that
    /// returns fewer bytes (an older struct layout) leaves the rest zero.
    func rawOption<Raw>(_ fd: Int32, level: Int32, name: Int32, as: Raw.Type, call: SystemCall) throws(SocketError) -> Raw {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<Raw>.size, alignment: MemoryLayout<Raw>.alignment)
        defer { storage.deallocate() }
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Raw>.size)
        var length = socklen_t(MemoryLayout<Raw>.size)
        _ = try syscall(call) { getsockopt(fd, level, name, storage, &length) }
        return storage.load(as: Raw.self)
    }
}
