#if canImport(Glibc)
import Glibc
#endif

/// What a call on a non-blocking socket did: it went through, or it would have had to wait.
/// Waiting is not a failure: a poll() server meets it on almost every client, so it is a value
/// to switch on, not an error to throw and catch (and a real failure still throws).
public enum NonBlocking<Value> {
    case ready(Value)
    /// EAGAIN/EWOULDBLOCK: the kernel had nothing to give or no room to take; poll() says when.
    case wouldBlock
}

extension NonBlocking: Sendable where Value: Sendable {}
extension NonBlocking: Equatable where Value: Equatable {}

extension Socket {
    /// One `send(fd, buf, len, MSG_NOSIGNAL)` on a non-blocking socket: how many bytes the
    /// kernel took (maybe fewer than asked), or `.wouldBlock` when its send buffer is full.
    public func trySendSome(_ buffer: UnsafeRawBufferPointer) throws(SocketError) -> NonBlocking<Int> {
        let fd = try open()
        return try nonBlocking(.send) { Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
    }

    /// One `recv(fd, buf, len, 0)` on a non-blocking socket: the byte count (0 is EOF), or
    /// `.wouldBlock` when nothing has arrived.
    public func tryReceive(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> NonBlocking<Int> {
        let fd = try open()
        return try nonBlocking(.recv) { Glibc.recv(fd, buffer.baseAddress, buffer.count, 0) }
    }

    /// `accept4()` on a non-blocking listener: a connection, or `.wouldBlock` when the queue
    /// is empty.
    public func tryAccept() throws(SocketError) -> NonBlocking<(socket: Socket, peer: SocketAddress)> {
        try acceptOne()
    }
}

/// `syscall` for a non-blocking call: EINTR retried, EAGAIN/EWOULDBLOCK a value, the rest thrown.
@inline(__always)
func nonBlocking<Result: FixedWidthInteger>(_ call: SystemCall, _ body: () -> Result) throws(SocketError) -> NonBlocking<Result> {
    while true {
        let result = body()
        if result != -1 { return .ready(result) }
        let error = Errno.current
        if error == .EINTR { continue }
        if error == .EAGAIN || error == .EWOULDBLOCK { return .wouldBlock }
        throw SocketError.system(call: call, errno: error, address: nil)
    }
}
