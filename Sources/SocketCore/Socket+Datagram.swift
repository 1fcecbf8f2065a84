import CLinux
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
    /// The TTL (IPv4) or hop limit (IPv6) it arrived with, when asked for with
    /// `.receiveTTL` / `.receiveHopLimit` and read with `receiveMessage`.
    public var hopLimit: Int? = nil
    /// When the kernel received it (CLOCK_REALTIME, as time since 1970), when asked for with
    /// `.receiveTimestamps` and read with `receiveMessage`: what ping measures round trips
    /// against, so that the time a process takes to wake up is not counted.
    public var kernelTimestamp: Duration? = nil
}

extension Socket {
    /// `sendto(fd, buf, len, MSG_NOSIGNAL, address)`: one datagram to `address`.
    /// A datagram is sent whole or not at all (EMSGSIZE when it is too large).
    @discardableResult
    public func send(_ buffer: UnsafeRawBufferPointer, to address: SocketAddress) throws(SocketError) -> Int {
        let fd = try open()
        return try address.withSockAddr { (raw, length) throws(SocketError) -> Int in
            try syscall(.sendto, address: address) {
                Glibc.sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), raw, length)
            }
        }
    }

    /// `sendmmsg()` on a connected datagram socket: the datagrams `buffers` (at most 64) in one
    /// system call; how many the kernel took. A sender with a window of datagrams to put on the
    /// wire at once pays for one call instead of one each.
    public func sendDatagrams(_ buffers: UnsafeBufferPointer<UnsafeRawBufferPointer>) throws(SocketError) -> Int {
        let fd = try open()
        let count = min(buffers.count, 64)
        return try withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: count) { starts throws(SocketError) -> Int in
            try withUnsafeTemporaryAllocation(of: UInt.self, capacity: count) { lengths throws(SocketError) -> Int in
                for index in 0..<count {
                    starts[index] = buffers[index].baseAddress
                    lengths[index] = UInt(buffers[index].count)
                }
                return try syscall(.sendmmsg) { Int(socketlab_send_datagrams(fd, starts.baseAddress, lengths.baseAddress, UInt32(count))) }
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
        return try receivingFrom { (raw, length) throws(SocketError) in
            try syscall(.recvfrom) { Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC), raw, length) }
        }
    }

    /// `recvfrom(fd, buf, len, MSG_TRUNC | MSG_DONTWAIT, &from)`: the same, or `.wouldBlock`
    /// at once when no datagram is queued, on a blocking socket too. A receiver that expects
    /// a burst (a window of TFTP blocks) reads what is there without a poll() per datagram.
    public func tryReceiveFrom(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> NonBlocking<(size: Int, sender: SocketAddress?)> {
        let fd = try open()
        let (result, sender) = try receivingFrom { (raw, length) throws(SocketError) in
            try nonBlocking(.recvfrom) { Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC | MSG_DONTWAIT), raw, length) }
        }
        guard case .ready(let size) = result else { return .wouldBlock }
        return .ready((size, sender))
    }

    /// Runs a recvfrom() with room for the sender's address, and reads the address it wrote.
    private func receivingFrom<Result>(
        _ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) throws(SocketError) -> Result
    ) throws(SocketError) -> (Result, SocketAddress?) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SocketError) -> Result in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (raw) throws(SocketError) -> Result in try call(raw, &length) }
        }
        return (result, SocketAddress(storage: storage, length: length))
    }

    /// Receives one datagram of at most `maxBytes` bytes; `isTruncated` tells if it was cut.
    public func receiveFrom(upTo maxBytes: Int = 65_536) throws(SocketError) -> Datagram {
        var bytes = [UInt8](repeating: 0, count: maxBytes)
        let (size, sender) = try bytes.withMutableBytes { (buffer) throws(SocketError) in try receiveFrom(into: buffer) }
        bytes.removeSubrange(min(size, maxBytes)...)
        return Datagram(bytes: bytes, sender: sender, size: size)
    }

    /// `recvmsg()`: one datagram, and the TTL or hop limit it arrived with when the socket
    /// asked for it (`set(.receiveTTL, true)` or `set(.receiveHopLimit, true)`). An IPv6 raw
    /// socket delivers no IP header, so this is the only way ping can print `ttl=` for ::1.
    public func receiveMessage(upTo maxBytes: Int = 65_536) throws(SocketError) -> Datagram {
        let fd = try open()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, maxBytes), alignment: 8)
        let control = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 8)
        let address = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
        let vector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
        defer {
            buffer.deallocate()
            control.deallocate()
            address.deallocate()
            vector.deallocate()
        }
        address.initialize(to: sockaddr_storage())
        vector.initialize(to: iovec(iov_base: buffer.baseAddress, iov_len: maxBytes))
        var message = msghdr()
        let size = try syscall(.recvmsg) { () -> Int in
            message = msghdr()
            message.msg_name = UnsafeMutableRawPointer(address)
            message.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            message.msg_iov = vector
            message.msg_iovlen = 1
            message.msg_control = control.baseAddress
            message.msg_controllen = control.count
            return Glibc.recvmsg(fd, &message, Int32(MSG_TRUNC))
        }
        let bytes = Array(UnsafeRawBufferPointer(rebasing: buffer[..<min(size, maxBytes)]))
        let (hopLimit, timestamp) = Self.ancillary(in: UnsafeRawBufferPointer(rebasing: control[..<min(Int(message.msg_controllen), control.count)]))
        return Datagram(bytes: bytes, sender: SocketAddress(storage: address.pointee, length: message.msg_namelen), size: size,
                        hopLimit: hopLimit, kernelTimestamp: timestamp)
    }

    /// The TTL or hop limit and the kernel's receive time from the control messages,
    /// walked in C with CMSG_FIRSTHDR/CMSG_NXTHDR (macros Swift does not import, and whose
    /// header layout and padding are the C library's business, not ours).
    private static func ancillary(in control: UnsafeRawBufferPointer) -> (hopLimit: Int?, timestamp: Duration?) {
        guard let base = control.baseAddress, !control.isEmpty else { return (nil, nil) }
        let found = socketlab_read_ancillary(UnsafeMutableRawPointer(mutating: base), UInt(control.count))
        let hopLimit = found.hop_limit >= 0 ? Int(found.hop_limit) : nil
        let timestamp: Duration? = found.has_timestamp != 0 ? .seconds(found.seconds) + .nanoseconds(found.nanoseconds) : nil
        return (hopLimit, timestamp)
    }
}
