import LabHost
import NetworkAddresses
import Packets
import SocketCore

#if canImport(Glibc)
import Glibc
#endif

/// The address clients use, which belongs to whichever machine is master: added to its
/// interface when it takes over, announced — a gratuitous ARP for IPv4, an unsolicited
/// neighbour advertisement for IPv6 — so that every host's cache moves to the new master's
/// MAC at once, removed when it gives up the role.
public struct VirtualAddress: Sendable, Equatable {
    public var address: IPAddress
    public var prefixLength: Int
    public var device: String

    /// "10.99.1.100/24" or "fd00:99:1::100/64" on `device`.
    public init(parsing text: String, device: String) throws(StandbyProblem) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let host = String(parts.first ?? "")
        let address: IPAddress
        if let v4 = IPv4Address(host), parts.count <= 2 {
            address = .v4(v4)
        } else if let v6 = IPv6Address(host), parts.count <= 2 {
            address = .v6(v6)
        } else {
            throw .badOption("--vip \(text) is not an address with a prefix length, such as 10.99.1.100/24 or fd00:99:1::100/64")
        }
        let longest = if case .v6 = address { 128 } else { 32 }
        let prefix = parts.count == 2 ? Int(parts[1]) : longest
        guard let prefix, (1...longest).contains(prefix) else { throw .badOption("--vip \(text): the prefix length is 1 to \(longest)") }
        guard !device.isEmpty, if_nametoindex(device) > 0 else {
            throw .badOption("--dev \(device.isEmpty ? "(none)" : device): no network interface of that name here (see `ip link`)")
        }
        self.address = address
        prefixLength = prefix
        self.device = device
    }

    public var cidr: String { "\(address)/\(prefixLength)" }

    /// Whether the address is on the interface now (`ip -o addr show dev DEVICE`).
    public var isAssignedHere: Bool {
        guard let (status, output) = try? ChildProcess.run(["ip", "-o", "addr", "show", "dev", device]), status == 0 else { return false }
        return output.contains(" \(address)/")
    }

    private var interfaceAddress: InterfaceAddress { InterfaceAddress(address: address, prefixLength: prefixLength, interface: device) }

    /// `ip addr add ADDRESS/PREFIX dev DEVICE`, as one netlink request.
    public func add() throws(StandbyProblem) {
        do { try interfaceAddress.add() } catch { throw .failed(error.description) }
    }

    /// `ip addr del ADDRESS/PREFIX dev DEVICE`; nothing when it is not there.
    public func remove() {
        try? interfaceAddress.remove()
    }
}

/// ARP on one interface through an AF_PACKET socket: announcements (gratuitous ARP) and the
/// probe that finds out whether an address is already in use on the link, and by whom.
public final class ARPSpeaker: @unchecked Sendable {
    // @unchecked: used by the one thread of the node that owns it.
    private let socket: PacketSocket
    public let mac: MACAddress
    public let device: String

    public init(device: String) throws(SocketError) {
        socket = try PacketSocket(interface: device)
        mac = MACAddress(bytes: try socket.hardwareAddress(of: device))
        self.device = device
    }

    /// RFC 5227 §3's announcement of an IPv4 address at this interface's MAC, broadcast; for
    /// IPv6, RFC 4861 §7.2.6's unsolicited neighbour advertisement to all nodes.
    public func announce(_ address: IPAddress) throws(SocketError) {
        let frame = switch address {
        case .v4(let v4): ARPPacket.announcement(of: v4, from: mac).broadcastFrame()
        case .v6(let v6): UnsolicitedNeighborAdvertisement.frame(announcing: v6, from: mac)
        }
        _ = try frame.withBytes { (buffer) throws(SocketError) in try socket.send(frame: buffer) }
    }

    /// Asks "who has" each address (RFC 5227's probe: sender address 0.0.0.0, so no cache
    /// learns from the question) and collects the replies for `wait`: address → the MAC that
    /// answered. An address nobody has is absent.
    public func probe(_ addresses: [IPv4Address], wait: Duration) throws(SocketError) -> [IPv4Address: MACAddress] {
        for address in addresses {
            let frame = ARPPacket.probe(for: address, from: mac).broadcastFrame()
            _ = try frame.withBytes { (buffer) throws(SocketError) in try socket.send(frame: buffer) }
        }
        var answers: [IPv4Address: MACAddress] = [:]
        let deadline = ContinuousClock.now + wait
        var buffer = [UInt8](repeating: 0, count: 2048)
        var poller = Poller()
        poller.watch(descriptor: socket.descriptor, for: .readable)
        while answers.count < addresses.count {
            let left = deadline - ContinuousClock.now
            guard left > .zero, !(try poller.wait(timeout: left)).isEmpty else { break }
            let size = try buffer.withMutableBytes { (raw) throws(SocketError) in try socket.receive(into: raw) }
            guard size >= 14 + ARPPacket.length, buffer[12] == 0x08, buffer[13] == 0x06 else { continue }
            guard let arp = buffer.withUnsafeBytes({ ARPPacket(decoding: UnsafeRawBufferPointer(rebasing: $0[14..<min(size, $0.count)])) }),
                  arp.operation == .reply, arp.senderMAC != mac, addresses.contains(arp.senderAddress) else { continue }
            answers[arp.senderAddress] = arp.senderMAC
        }
        return answers
    }

    public func close() { socket.close() }
}
