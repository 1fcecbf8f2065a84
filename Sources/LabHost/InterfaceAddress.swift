import CLinux
import NetworkAddresses
import SocketCore

#if canImport(Glibc)
import Glibc
#endif

/// An address on an interface, added or removed the way `ip addr add|del` does it: one
/// RTM_NEWADDR or RTM_DELADDR request on a netlink socket, in the calling thread's network
/// namespace. Without `ip` in between, because a failover's takeover waits for it: starting
/// `ip` cost 3 to 4 ms, the netlink request takes tens of microseconds.
public struct InterfaceAddress: Sendable, Equatable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: Int
    public var interface: String

    public init(address: IPAddress, prefixLength: Int, interface: String) {
        self.address = address
        self.prefixLength = prefixLength
        self.interface = interface
    }

    public var description: String { "\(address)/\(prefixLength) dev \(interface)" }

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
        let (family, bytes): (Int32, [UInt8]) = switch address {
        case .v4(let v4): (AF_INET, v4.bytes)
        case .v6(let v6): (AF_INET6, v6.bytes)
        }
        let result = bytes.withUnsafeBytes { socketlab_address_change(add ? 1 : 0, family, index, $0.baseAddress, Int32(prefixLength)) }
        guard result == 0 || -result == harmless else {
            throw .refused(what: "\(add ? "adding" : "removing") \(self)", errno: Errno(rawValue: -result))
        }
    }
}
