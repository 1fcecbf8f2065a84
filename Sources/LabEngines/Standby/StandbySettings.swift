import ExitStatus
import LabServers
import NetworkAddresses
import Packets
import SocketCore

#if canImport(Glibc)
import Glibc
#endif

/// Why standby refused to start or had to stop.
public enum StandbyProblem: ExitStatusError, Sendable {
    /// A setting that cannot work: exit 2, before anything is sent.
    case badOption(String)
    /// Something the node needed did not work (ip, the socket): exit 1.
    case failed(String)
    case notPrivileged(String)

    public var exitStatus: ExitStatus {
        switch self {
        case .badOption: .badInput
        case .failed: .failure
        case .notPrivileged: .missingPrivilege
        }
    }

    public var description: String {
        switch self {
        case .badOption(let message), .failed(let message): "standby: \(message)"
        case .notPrivileged(let what): "standby: \(what) needs root (or CAP_NET_ADMIN and CAP_NET_RAW): run it with sudo"
        }
    }
}

/// Everything `standby run` is told, checked before the node starts.
public struct StandbySettings: Sendable {
    public var name: String
    public var peer: SocketAddress
    public var listen: SocketAddress
    public var priority: UInt8
    public var interval: Duration
    public var preempt = true
    public var virtualAddress: VirtualAddress?
    public var onMaster: String?
    public var onBackup: String?
    public var key: RemoteToken

    /// The shortest interval: below 10 ms a busy machine's scheduling delay alone is a
    /// missed heartbeat, and the pair would flap.
    public static let shortestInterval = Duration.milliseconds(10)

    /// Parses and checks the options of `standby run`. The peer must be a numeric address
    /// (a name that resolves differently later would move the heartbeats), not this node
    /// itself; the key file must be the owner's alone.
    public init(name: String, peer: String, listen: String?, priority: Int, intervalMilliseconds: Int, preempt: Bool,
                vip: String?, device: String?, onMaster: String?, onBackup: String?, keyFile: String) throws(StandbyProblem) {
        guard !name.isEmpty, name.utf8.count <= StandbyHeartbeat.maxNameLength, name.allSatisfy({ !$0.isWhitespace && !$0.isNewline }) else {
            throw .badOption("--name \(name.debugDescription): 1 to \(StandbyHeartbeat.maxNameLength) bytes, no spaces")
        }
        guard (1...254).contains(priority) else {
            throw .badOption("--priority \(priority): 1 to 254 (VRRP keeps 255 for the address's owner and 0 for \"leaving\")")
        }
        guard intervalMilliseconds >= 10 else {
            throw .badOption("--interval \(intervalMilliseconds) ms is under 10 ms: a scheduling delay alone would look like a dead master, and the pair would flap")
        }
        guard intervalMilliseconds <= 40_950 else { throw .badOption("--interval \(intervalMilliseconds) ms: at most 40950 (VRRP's 4095 centiseconds)") }
        let peerAddress: SocketAddress
        do { peerAddress = try SocketAddress(peer) } catch {
            throw .badOption("--peer \(peer): \(error.description) (a numeric address and port, such as 10.99.1.2:\(StandbyHeartbeat.defaultPort))")
        }
        guard let peerPort = peerAddress.port, peerPort > 0 else { throw .badOption("--peer \(peer): give the peer's port, such as 10.99.1.2:\(StandbyHeartbeat.defaultPort)") }
        let listenAddress: SocketAddress
        if let listen {
            do { listenAddress = try SocketAddress(listen) } catch { throw .badOption("--listen \(listen): \(error.description)") }
        } else {
            listenAddress = peerAddress.family == .ipv6 ? .any(peerPort, family: .ipv6) : .any(peerPort)
        }
        guard listenAddress.family == peerAddress.family else { throw .badOption("--listen \(listen ?? "") and --peer \(peer) are not the same address family") }
        if Self.isLocal(peerAddress) && (listenAddress.port == peerPort) {
            throw .badOption("--peer \(peer) is this machine itself, on the port it listens on: it would hear its own heartbeats. Give the other machine's address")
        }
        if (vip == nil) != (device == nil) { throw .badOption("--vip and --dev go together: the address, and the interface it goes on") }
        if let vip, let device { virtualAddress = try VirtualAddress(parsing: vip, device: device) }
        do { key = try RemoteToken(file: keyFile, grants: "sign heartbeats and take the virtual address over") } catch {
            throw .badOption(error.description)
        }
        self.name = name
        self.peer = peerAddress
        self.listen = listenAddress
        self.priority = UInt8(priority)
        interval = .milliseconds(intervalMilliseconds)
        self.preempt = preempt
        self.onMaster = onMaster
        self.onBackup = onBackup
    }

    /// Whether `address` is one of this machine's own: bind() to it (port 0) succeeds only then.
    static func isLocal(_ address: SocketAddress) -> Bool {
        guard let socket = try? Socket.udp(address.family) else { return false }
        defer { try? socket.close() }
        return (try? socket.bind(to: address.with(port: 0))) != nil
    }
}
