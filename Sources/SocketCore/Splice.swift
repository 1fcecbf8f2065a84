import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A kernel pipe through which `splice(2)` moves a connection's bytes from one socket to
/// another without copying them into the process: what a relay (a proxy) wants, since it never
/// looks at the bytes it passes on. Both ends are non-blocking and close-on-exec; the pipe
/// holds up to its capacity (64 KiB on Linux by default) in flight.
public final class SplicePipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    /// `pipe2(O_CLOEXEC | O_NONBLOCK)`.
    public init() throws(SocketError) {
        var fds: [Int32] = [-1, -1]
        let result = fds.withUnsafeMutableBufferPointer { socketlab_pipe_cloexec($0.baseAddress!) }
        guard result == 0 else { throw .system(call: .pipe, errno: .current, address: nil) }
        readEnd = fds[0]
        writeEnd = fds[1]
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        Glibc.close(readEnd)
        Glibc.close(writeEnd)
    }

    /// One `splice(socket → pipe)`: bytes taken from the socket (0 at EOF), or `.wouldBlock`
    /// when it has none or the pipe is full.
    public func fill(from socket: Socket, upTo count: Int) throws(SocketError) -> NonBlocking<Int> {
        let fd = try socket.open()
        return try nonBlocking(.splice) { socketlab_splice(fd, writeEnd, UInt(count)) }
    }

    /// One `splice(pipe → socket)`: bytes given to the socket, or `.wouldBlock` when its send
    /// buffer is full.
    public func drain(to socket: Socket, upTo count: Int) throws(SocketError) -> NonBlocking<Int> {
        let fd = try socket.open()
        return try nonBlocking(.splice) { socketlab_splice(readEnd, fd, UInt(count)) }
    }
}
