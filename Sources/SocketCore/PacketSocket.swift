import CLinux
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// `socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))`: whole link-layer frames of one interface,
/// in and out — what libpcap opens underneath a capture. Needs CAP_NET_RAW. It has its own
/// type because its address is an interface, not an IP address and a port, and socket-types
/// probes it beside the others.
public final class PacketSocket: Sendable {
    private let fd: Atomic<Int32>
    /// The interface it was bound to (if_nametoindex).
    public let interfaceIndex: Int32

    /// `socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL))`, then `bind()` to
    /// `interface` (its index from if_nametoindex).
    public init(interface: String) throws(SocketError) {
        let index = Int32(if_nametoindex(interface))
        guard index > 0 else { throw .badAddress(input: interface, reason: "no network interface of that name (see `ip link`)") }
        let descriptor = try syscall(.rawSocket) { socketlab_packet_socket() }
        fd = Atomic(descriptor)
        interfaceIndex = index
        _ = try syscall(.bind) { socketlab_packet_bind(descriptor, index) }
    }

    deinit {
        let descriptor = fd.load(ordering: .relaxed)
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    public var descriptor: Int32 { fd.load(ordering: .acquiring) }

    /// One `sendto(fd, frame, len, 0, {AF_PACKET, ifindex})`: the frame as given, header and all.
    @discardableResult
    public func send(frame: UnsafeRawBufferPointer) throws(SocketError) -> Int {
        let descriptor = descriptor
        return try syscall(.sendto) { socketlab_packet_send(descriptor, interfaceIndex, frame.baseAddress, UInt(frame.count)) }
    }

    /// One `recv(fd, buf, len, MSG_TRUNC)`: one frame; the result is its real size.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SocketError) -> Int {
        let descriptor = descriptor
        return try syscall(.recv) { Glibc.recv(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC)) }
    }

    /// SO_RCVTIMEO, as `Socket.set(.receiveTimeout, …)`.
    public func setReceiveTimeout(_ timeout: Duration) throws(SocketError) {
        var value = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        let descriptor = descriptor
        _ = try syscall(.setsockopt("SO_RCVTIMEO")) {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// `ioctl(fd, SIOCGIFHWADDR, interface)`: the MAC address of the interface this socket is
    /// bound to, the sender of every frame it builds (a gratuitous ARP names it twice).
    public func hardwareAddress(of interface: String) throws(SocketError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 6)
        let descriptor = descriptor
        _ = try syscall(.ioctl("SIOCGIFHWADDR")) { socketlab_interface_hardware_address(descriptor, interface, &bytes) }
        return bytes
    }

    public func close() {
        let descriptor = fd.exchange(-1, ordering: .acquiringAndReleasing)
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }
}
