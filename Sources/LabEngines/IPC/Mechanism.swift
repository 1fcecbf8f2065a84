/// One way for two processes on one machine to talk, as ipc-compare names it in its table and
/// its JSON. The order is the seed documents': pipes first, then socketpair, then Unix-domain
/// sockets, then the Internet sockets that a byte through loopback still pays the full stack for.
public enum Mechanism: String, CaseIterable, Sendable, CustomStringConvertible {
    case pipe
    case fifo
    case socketpairStream = "socketpair-stream"
    case socketpairDgram = "socketpair-dgram"
    case socketpairSeqpacket = "socketpair-seqpacket"
    case unixStream = "unix-stream"
    case unixDgram = "unix-dgram"
    case unixStreamAbstract = "unix-stream-abstract"
    case unixDgramAbstract = "unix-dgram-abstract"
    case tcp4, tcp6, udp4, udp6

    public var description: String { rawValue }

    /// Whether each read returns one whole message as it was written (datagram and
    /// seqpacket sockets), or whatever bytes have arrived (pipes and streams).
    public var keepsBoundaries: Bool {
        switch self {
        case .socketpairDgram, .socketpairSeqpacket, .unixDgram, .unixDgramAbstract, .udp4, .udp6: true
        default: false
        }
    }

    /// Whether the kernel can drop a message without telling anyone: only UDP. (A Unix
    /// datagram sender blocks when the receiver's queue is full instead.)
    public var mayLose: Bool { self == .udp4 || self == .udp6 }

    /// The child gets its end already open, as standard input and output (pipe(), socketpair()
    /// before the fork), rather than finding the parent by a name.
    public var isInherited: Bool {
        switch self {
        case .pipe, .socketpairStream, .socketpairDgram, .socketpairSeqpacket: true
        default: false
        }
    }

    /// The largest message this mechanism carries in one piece, when it has a limit of its own;
    /// nil for byte streams. UDP's is the IP datagram's 65,535 bytes less the headers; a Unix
    /// datagram's is the socket's send buffer, which the caller measures.
    public var datagramLimit: Int? {
        switch self {
        case .udp4: 65_507
        case .udp6: 65_527
        default: nil
        }
    }

    /// The C calls that make it, for the table's legend and the handout.
    public var howMade: String {
        switch self {
        case .pipe: "pipe2() twice, one pipe each way, inherited by the child"
        case .fifo: "mkfifo() twice; each process open()s them by name"
        case .socketpairStream: "socketpair(AF_UNIX, SOCK_STREAM), one end inherited by the child"
        case .socketpairDgram: "socketpair(AF_UNIX, SOCK_DGRAM), one end inherited by the child"
        case .socketpairSeqpacket: "socketpair(AF_UNIX, SOCK_SEQPACKET), one end inherited by the child"
        case .unixStream: "socket(AF_UNIX, SOCK_STREAM), bind() to a path, connect() by the path"
        case .unixDgram: "socket(AF_UNIX, SOCK_DGRAM), each bound to a path, connect()ed to the other's"
        case .unixStreamAbstract: "socket(AF_UNIX, SOCK_STREAM) on an abstract name (no file)"
        case .unixDgramAbstract: "socket(AF_UNIX, SOCK_DGRAM) on abstract names (no file)"
        case .tcp4: "socket(AF_INET, SOCK_STREAM) over 127.0.0.1, TCP_NODELAY"
        case .tcp6: "socket(AF_INET6, SOCK_STREAM) over ::1, TCP_NODELAY"
        case .udp4: "socket(AF_INET, SOCK_DGRAM) over 127.0.0.1, connect()ed both ways"
        case .udp6: "socket(AF_INET6, SOCK_DGRAM) over ::1, connect()ed both ways"
        }
    }

    /// Parses a comma-separated list (`pipe,tcp4`), `all` meaning every one.
    public static func list(_ text: String) -> [Mechanism]? {
        if text == "all" { return allCases }
        var found: [Mechanism] = []
        for name in text.split(separator: ",") {
            guard let mechanism = Mechanism(rawValue: String(name)) else { return nil }
            if !found.contains(mechanism) { found.append(mechanism) }
        }
        return found.isEmpty ? nil : found
    }
}
