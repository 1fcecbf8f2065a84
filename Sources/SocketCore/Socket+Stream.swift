#if canImport(Glibc)
import Glibc
#endif

/// Sending and receiving on a connected socket.
///
/// The lesson of stream sockets is that send() and recv() move *some* bytes, not messages:
/// a send may take only part of the buffer, and a recv returns whatever has arrived. The
/// calls here make that visible: `send` loops until everything is written, `receive(upTo:)`
/// is one recv(), and `receive(exactly:)` loops until N bytes or EOF.
extension Socket {
    /// One `send(fd, buf, len, MSG_NOSIGNAL)`: returns how many bytes the kernel took, which
    /// may be fewer than asked (its send buffer is full). MSG_NOSIGNAL turns the SIGPIPE that
    /// would kill the process when the peer has gone into an EPIPE error.
    public func sendSome(_ buffer: UnsafeRawBufferPointer) throws(SocketError) -> Int {
        let fd = try open()
        return try syscall(.send) { Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Writes every byte, calling send() as often as it takes (partial writes are normal).
    public func send(_ buffer: UnsafeRawBufferPointer) throws(SocketError) {
        var offset = 0
        while offset < buffer.count {
            offset += try sendSome(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
        }
    }

    /// Writes every byte of `bytes`.
    public func send(_ bytes: [UInt8]) throws(SocketError) {
        try bytes.withBytes { (buffer) throws(SocketError) in try send(buffer) }
    }

    /// Writes the UTF-8 bytes of `text`.
    public func send(_ text: String) throws(SocketError) {
        try send(Array(text.utf8))
    }

    /// One `recv(fd, buf, len, 0)` into `buffer`: returns the byte count, 0 meaning EOF
    /// (the peer sent FIN and everything before it has been read).
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> Int {
        let fd = try open()
        return try syscall(.recv) { Glibc.recv(fd, buffer.baseAddress, buffer.count, 0) }
    }

    /// One recv() of at most `maxBytes`: whatever has arrived, maybe less than was sent in
    /// one send() at the other end, maybe two sends merged. Empty means EOF.
    public func receive(upTo maxBytes: Int) throws(SocketError) -> [UInt8] {
        var error: SocketError?
        let bytes = [UInt8](unsafeUninitializedCapacity: max(maxBytes, 0)) { buffer, count in
            do throws(SocketError) {
                count = try receive(into: UnsafeMutableRawBufferPointer(buffer))
            } catch let failure {
                error = failure
                count = 0
            }
        }
        if let error { throw error }
        return bytes
    }

    /// recv() in a loop until exactly `count` bytes have arrived; EOF before that is an error
    /// (`unexpectedEOF`) that says how many did arrive.
    public func receive(exactly count: Int) throws(SocketError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try bytes.withMutableBytes { (buffer) throws(SocketError) -> Int in
                try receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            }
            if got == 0 { throw .unexpectedEOF(expected: count, received: filled) }
            filled += got
        }
        return bytes
    }

    /// recv() until EOF: everything the peer sends before it closes. More than `limit`
    /// bytes is an error (`messageTooLarge`), so a peer that never stops cannot fill memory.
    public func receiveUntilEOF(limit: Int = 64 << 20) throws(SocketError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let got = try chunk.withMutableBytes { (buffer) throws(SocketError) -> Int in try receive(into: buffer) }
            if got == 0 { return bytes }
            guard bytes.count + got <= limit else { throw .messageTooLarge(limit: limit, size: bytes.count + got) }
            bytes.append(contentsOf: chunk[..<got])
        }
    }
}
