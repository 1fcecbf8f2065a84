import CLinux
import SocketCore

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 address on an interface, added or removed the way `ip addr add|del` does it: one
/// RTM_NEWADDR or RTM_DELADDR request on a netlink socket, in the calling thread's network
/// namespace. Without `ip` in between, because a failover's takeover waits for it: starting
/// `ip` cost 3 to 4 ms, the netlink request takes tens of microseconds.
public struct InterfaceAddress: Sendable, Equatable, CustomStringConvertible {
    /// The address in network byte order's value as host order: 10.99.1.100 is 0x0A63_0164.
    public var address: UInt32
    public var prefixLength: Int
    public var interface: String

    public init(address: UInt32, prefixLength: Int, interface: String) {
        self.address = address
        self.prefixLength = prefixLength
        self.interface = interface
    }

    public var description: String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)/\(prefixLength) dev \(interface)"
    }

    public enum Problem: Error, Sendable, CustomStringConvertible {
        case noInterface(String)
        case refused(what: String, errno: Errno)
        public var description: String {
            switch self {
            case .noInterface(let name): "no network interface \(name) here (see `ip link`)"
            case .refused(let what, let errno): "\(what): \(errno.name) (\(errno.message))"
            }
        }
    }

    /// RTM_NEWADDR; an address already there counts as added.
    public func add() throws(Problem) { try change(add: true, ignoring: EEXIST) }
    /// RTM_DELADDR; an address not there counts as removed.
    public func remove() throws(Problem) { try change(add: false, ignoring: EADDRNOTAVAIL) }

    private func change(add: Bool, ignoring harmless: Int32) throws(Problem) {
        let index = Int32(if_nametoindex(interface))
        guard index > 0 else { throw .noInterface(interface) }
        let result = socketlab_ipv4_address_change(add ? 1 : 0, index, address.bigEndian, Int32(prefixLength))
        guard result == 0 || -result == harmless else {
            throw .refused(what: "\(add ? "adding" : "removing") \(self)", errno: Errno(rawValue: -result))
        }
    }
}
