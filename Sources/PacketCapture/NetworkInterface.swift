import CPcap
import SocketCore

#if canImport(Glibc)
import Glibc
#endif

/// An interface libpcap can capture on, with its addresses (`pcap_findalldevs`).
public struct NetworkInterface: Hashable, Sendable {
    public struct Address: Hashable, Sendable {
        public var address: SocketAddress
        public var netmask: SocketAddress?
    }
    public var name: String
    public var description: String?
    public var addresses: [Address]
    public var isUp: Bool
    public var isRunning: Bool
    public var isLoopback: Bool

    /// Every interface, in libpcap's order (up and running ones first, loopback last).
    public static func all() throws(CaptureError) -> [NetworkInterface] {
        var error = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &error) == 0 else {
            throw .libpcap(call: "pcap_findalldevs", detail: String(cBuffer: error))
        }
        defer { pcap_freealldevs(list) }
        var interfaces: [NetworkInterface] = []
        var device = list
        while let current = device {
            var addresses: [Address] = []
            var entry = current.pointee.addresses
            while let address = entry {
                let length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                if let socketAddress = SocketAddress(UnsafePointer(address.pointee.addr), length: length) {
                    addresses.append(Address(address: socketAddress, netmask: SocketAddress(UnsafePointer(address.pointee.netmask), length: length)))
                }
                entry = address.pointee.next
            }
            let flags = current.pointee.flags
            interfaces.append(NetworkInterface(
                name: String(cString: current.pointee.name),
                description: current.pointee.description.map { String(cString: $0) },
                addresses: addresses,
                isUp: flags & UInt32(PCAP_IF_UP) != 0,
                isRunning: flags & UInt32(PCAP_IF_RUNNING) != 0,
                isLoopback: flags & UInt32(PCAP_IF_LOOPBACK) != 0))
            device = current.pointee.next
        }
        return interfaces
    }
}
