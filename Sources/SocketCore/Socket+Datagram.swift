#if canImport(Glibc)
import Glibc
#endif

/// One datagram as it arrived: UDP, Unix datagram, or a raw/ICMP packet.
public struct Datagram: Sendable, Equatable {
    /// The bytes that fit in the buffer.
    public var bytes: [UInt8]
    /// Who sent it (nil for an unnamed Unix sender).
    public var sender: SocketAddress?
    /// The datagram's real size. Larger than `bytes.count` when it was truncated.
    public var size: Int
    /// The buffer was too small and the kernel threw the rest of the datagram away: a
    /// datagram is read whole or cut, never split over two receives as a stream would be.
    public var isTruncated: Bool { size > bytes.count }
}

extension Socket {
    /// `sendto(fd, buf, len, MSG_NOSIGNAL, address)`: one datagram to `address`.
    /// A datagram is sent whole or not at all (EMSGSIZE when it is too large).
    @discardableResult
    public func send(_ buffer: UnsafeRawBufferPointer, to address: SocketAddress) throws(SocketError) -> Int {
        let fd = try open()
        return try address.withSockAddr { (raw, length) throws(SocketError) -> Int in
            try syscall("sendto", address: address) {
                Glibc.sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), raw, length)
            }
        }
    }

    /// `sendto()` of `bytes` as one datagram.
    @discardableResult
    public func send(_ bytes: [UInt8], to address: SocketAddress) throws(SocketError) -> Int {
        try bytes.withBytes { (buffer) throws(SocketError) -> Int in try send(buffer, to: address) }
    }

    /// `recvfrom(fd, buf, len, MSG_TRUNC, &from)` into `buffer`: one datagram. Returns the
    /// datagram's real size (MSG_TRUNC makes Linux report it even when the buffer was
    /// smaller) and the sender; a size over `buffer.count` means the datagram was truncated.
    public func receiveFrom(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> (size: Int, sender: SocketAddress?) {
        let fd = try open()
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let size = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SocketError) -> Int in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws(SocketError) -> Int in
                try syscall("recvfrom") { Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC), raw, &length) }
            }
        }
        return (size, SocketAddress(storage: storage, length: length))
    }

    /// Receives one datagram of at most `maxBytes` bytes; `isTruncated` tells if it was cut.
    public func receiveFrom(upTo maxBytes: Int = 65_536) throws(SocketError) -> Datagram {
        var bytes = [UInt8](repeating: 0, count: maxBytes)
        let (size, sender) = try bytes.withMutableBytes { (buffer) throws(SocketError) in try receiveFrom(into: buffer) }
        bytes.removeSubrange(min(size, maxBytes)...)
        return Datagram(bytes: bytes, sender: sender, size: size)
    }
}
