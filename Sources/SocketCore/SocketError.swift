#if canImport(Glibc)
import Glibc
#endif
import ExitStatus

/// Everything SocketCore can throw.
///
/// A student reads these on a terminal, so each one says which call failed, why in the
/// kernel's words (the errno name and number), and what to try next (the hint).
public enum SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed. `address` is the peer or local address the call was about.
    case system(call: SystemCall, errno: Errno, address: SocketAddress?)
    /// Text that is not an address SocketCore understands (bad port, bad IP, missing port…).
    case badAddress(input: String, reason: String)
    /// getaddrinfo could not resolve a name; `code` is its EAI_* value.
    case resolution(host: String, code: Int32, message: String)
    /// A framed message (a line or a length-prefixed frame) larger than the reader allows.
    case messageTooLarge(limit: Int, size: Int)
    /// The peer closed the connection (EOF) before as many bytes as asked for arrived.
    case unexpectedEOF(expected: Int, received: Int)
    /// The socket was already closed by `close()` on this side.
    case closed

    /// The errno behind a `.system` error.
    public var errno: Errno? {
        if case .system(_, let errno, _) = self { return errno }
        return nil
    }

    /// How a command-line tool ends on this error: bad input for an address or a name, a
    /// missing privilege for EPERM/EACCES, a failed operation otherwise.
    public var exitStatus: ExitStatus {
        switch self {
        case .badAddress, .resolution: .badInput
        // EACCES from sendto() is a broadcast address without SO_BROADCAST (bad input), and
        // EPERM from send() a firewall's verdict: neither is a privilege to get.
        case .system(.sendto, .EACCES, _), .system(.send, .EACCES, _), .system(.sendmmsg, .EACCES, _): .badInput
        case .system(.sendto, .EPERM, _), .system(.send, .EPERM, _), .system(.sendmmsg, .EPERM, _): .failure
        case .system(_, let errno, _) where errno == .EPERM || errno == .EACCES: .missingPrivilege
        default: .failure
        }
    }

    public var description: String {
        var text: String
        switch self {
        case .system(let call, let errno, let address):
            let target = address.map { " \($0)" } ?? ""
            text = "\(call)\(target) failed: \(errno)"
        case .badAddress(let input, let reason):
            text = "bad address \"\(input)\": \(reason)"
        case .resolution(let host, _, let message):
            text = "cannot resolve \"\(host)\": \(message)"
        case .messageTooLarge(let limit, let size):
            text = "message of \(size) bytes is over the limit of \(limit) bytes"
        case .unexpectedEOF(let expected, let received):
            text = "the peer closed the connection after \(received) of \(expected) bytes"
        case .closed:
            text = "the socket is already closed"
        }
        if let hint { text += " — \(hint)" }
        return text
    }

    /// What a student can do about it. Written for the common causes in a lab, not all causes.
    public var hint: String? {
        switch self {
        case .system(let call, let errno, let address):
            return Self.hint(call: call, errno: errno, address: address)
        case .badAddress:
            return "write host:port, [IPv6]:port or unix:/path, with a port from 0 to 65535"
        case .resolution(_, let code, _) where code == EAI_FAMILY:
            return "it is an address of the other family: leave out -4/-6, or give one of the family asked for (127.0.0.1 for IPv4, ::1 for IPv6)"
        case .resolution:
            return "check the spelling, or use a numeric address such as 127.0.0.1 or ::1"
        case .messageTooLarge:
            return "the peer sent more than the protocol allows; it may not be speaking this protocol"
        case .unexpectedEOF:
            return "the peer sent less than the protocol promised, then closed (read returned 0)"
        case .closed:
            return "do not use a socket after close()"
        }
    }

    private static func hint(call: SystemCall, errno: Errno, address: SocketAddress?) -> String? {
        let there = address.map { "\($0)" } ?? "that address"
        switch errno {
        case .ECONNREFUSED:
            return "nothing listens on \(there): start the server first, or check the port (the peer answered the SYN with RST)"
        case .EADDRINUSE:
            let port = address?.port.map { " (see: ss -tanp 'sport = :\($0)')" } ?? ""
            return "another socket holds \(there), or an old connection on it is in TIME_WAIT\(port); stop the other process, or set .reuseAddress before bind()"
        case .EADDRNOTAVAIL:
            return "\(there) is not an address of this machine; bind to 0.0.0.0 or :: or an address `ip addr` lists"
        case .EACCES, .EPERM:
            if call == .rawSocket {
                return "raw sockets need root or CAP_NET_RAW: run with sudo, or once: sudo setcap cap_net_raw+eip \(Self.programPath); ping sockets, which need neither, are allowed only to the groups in net.ipv4.ping_group_range (sudo sysctl -w net.ipv4.ping_group_range='0 2147483647' allows everyone)"
            }
            if call == .pingSocket {
                return "unprivileged ICMP sockets are allowed only to groups in net.ipv4.ping_group_range; allow all with: sudo sysctl -w net.ipv4.ping_group_range='0 2147483647', or use a raw socket as root"
            }
            if call == .bind, let port = address?.port, port < 1024 {
                return "ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port of 1024 or more"
            }
            if call == .sendto || call == .send || call == .sendmmsg {
                return errno == .EACCES
                    ? "\(there) looks like a broadcast address: a socket may send there only after setsockopt(SO_BROADCAST)"
                    : "a firewall rule (nftables) on this machine rejected the packet"
            }
            return "permission denied: this needs root or a capability (see man 7 capabilities)"
        case .ETIMEDOUT:
            return "no answer from \(there) in time: the host may be down, or a firewall drops the SYN silently"
        case .ECONNRESET:
            return "the peer aborted the connection with RST: it closed with unread data, used a zero-linger close, or crashed"
        case .EPIPE:
            return "the peer has closed its side; stop writing (a read returning 0 bytes tells you this first)"
        case .ENOTCONN:
            return "the socket is not connected: connect() first, or use sendTo() on a datagram socket"
        case .ENETUNREACH, .EHOSTUNREACH:
            return "no route to \(there): check the address and `ip route`"
        case .EAGAIN:
            return "nothing happened before the send/receive timeout ran out (or a non-blocking socket was not ready: poll first)"
        case .EMFILE:
            return "this process has too many open files: close sockets you no longer need (a leak?), or raise `ulimit -n`"
        case .EMSGSIZE:
            return "the datagram is larger than one packet may carry (65507 bytes for UDP over IPv4)"
        case .EBADF:
            return "the descriptor is not open: was the socket already closed?"
        case .ENOENT:
            return "no socket file at \(there): start the server first, or check the path"
        case .EINVAL where call == .listen || call == .accept:
            return "call bind() and listen() on a stream socket before accept()"
        case .EINVAL where call == .bind:
            return "the socket is already bound, or the address family does not match the socket"
        case .EAFNOSUPPORT:
            return "this address family is not available here (is IPv6 disabled?)"
        default:
            return nil
        }
    }

    /// This program's own path, for advice a student can paste (`setcap … /home/…/raw-ping`).
    public static var programPath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments.first ?? "the program"
    }
}
