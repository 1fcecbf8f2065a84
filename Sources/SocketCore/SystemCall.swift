/// The system call a `SocketError` is about. A value, not text: the hint a student gets is
/// chosen from it (EPERM from `socket(SOCK_RAW)` means "needs CAP_NET_RAW", from `sendto()` "a
/// firewall said no"), and its name is written one way — `connect()`, `setsockopt(SO_REUSEADDR)`.
public enum SystemCall: Hashable, Sendable, CustomStringConvertible {
    /// socket(2) for TCP, UDP and Unix sockets.
    case socket
    /// socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): needs CAP_NET_RAW.
    case rawSocket
    /// socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP): Linux's unprivileged ping socket.
    case pingSocket
    case socketpair, bind, listen, accept, connect, shutdown, close
    case send, sendto, sendmmsg, recv, recvfrom, recvmsg
    case poll, fcntl, getsockname, getpeername, pipe, splice
    /// read(2) and write(2) on a pipe or a FIFO; open(2) and mkfifo(3) for a FIFO by its path.
    case read, write, open, mkfifo
    /// sched_setaffinity(2): a benchmark pins itself to a CPU.
    case sched_setaffinity
    /// ioctl(2) with the request's C name: `FIONREAD`.
    case ioctl(String)
    /// setsockopt(2) and getsockopt(2) with the option's C name: `SO_REUSEADDR`, `TCP_INFO`.
    case setsockopt(String)
    case getsockopt(String)

    public var description: String {
        switch self {
        case .socket: "socket()"
        case .rawSocket: "socket(SOCK_RAW)"
        case .pingSocket: "socket(SOCK_DGRAM, IPPROTO_ICMP)"
        case .socketpair: "socketpair()"
        case .bind: "bind()"
        case .listen: "listen()"
        case .accept: "accept()"
        case .connect: "connect()"
        case .shutdown: "shutdown()"
        case .close: "close()"
        case .send: "send()"
        case .sendto: "sendto()"
        case .sendmmsg: "sendmmsg()"
        case .recv: "recv()"
        case .recvfrom: "recvfrom()"
        case .recvmsg: "recvmsg()"
        case .poll: "poll()"
        case .fcntl: "fcntl()"
        case .getsockname: "getsockname()"
        case .getpeername: "getpeername()"
        case .pipe: "pipe2()"
        case .splice: "splice()"
        case .read: "read()"
        case .write: "write()"
        case .open: "open()"
        case .mkfifo: "mkfifo()"
        case .sched_setaffinity: "sched_setaffinity()"
        case .ioctl(let request): "ioctl(\(request))"
        case .setsockopt(let option): "setsockopt(\(option))"
        case .getsockopt(let option): "getsockopt(\(option))"
        }
    }
}
