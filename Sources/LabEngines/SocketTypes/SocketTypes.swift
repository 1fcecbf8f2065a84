#if canImport(Glibc)
import Glibc
#endif
import LabHost
import Packets
import SocketCore

/// socket-types: one row per kind of socket, every cell measured by a probe on this machine
/// when the command runs — what each read returns, whether a send needs a connection first,
/// what an unprivileged user may open, the largest message, how `ss` and /proc/net list it,
/// and (as root, across a lossy link between this machine and a network namespace) whether
/// the type delivers everything and in order.
public struct SocketTypes {
    public struct Options: Sendable {
        /// Loss on the namespace link for the reliability probes (root only; 0 skips them).
        public var lossPercent = 10.0
        /// This program and the arguments that make it print `SocketTypes.creationReport()`,
        /// run as nobody to see what an unprivileged user may open.
        public var probeCommand: [String] = []
        public init() {}
    }

    public static let rowIDs = ["stream-tcp", "dgram-udp", "seqpacket", "raw-icmp", "ping-icmp", "unix-stream", "unix-dgram", "packet"]

    let options: Options

    public init(options: Options) {
        self.options = options
    }

    public func run(progress: (String) -> Void = { _ in }) throws -> [SocketTypeRow] {
        signal(SIGPIPE, SIG_IGN)
        let isRoot = geteuid() == 0
        progress("privilege")
        let privilege = privilegeCells(isRoot: isRoot)
        var lossy: LossyLink?
        if isRoot && options.lossPercent > 0 {
            progress("a lossy link to a network namespace (\(JSONNumber.text(options.lossPercent))% loss)")
            lossy = try? LossyLink(loss: options.lossPercent)
        }
        defer { lossy?.close() }
        var rows: [SocketTypeRow] = []
        for id in Self.rowIDs {
            progress(id)
            var row = Probes.row(id, lossy: lossy, isRoot: isRoot)
            if id == "ping-icmp", !row.boundaries.measured, let lossy, let inside = Self.pingInNamespace(lossy) { row = inside }
            if let cell = privilege[id] { row.privilege = cell }
            rows.append(row)
        }
        return rows
    }

    /// The ping socket where this machine's net.ipv4.ping_group_range allows nobody (Debian's
    /// `1 0`, which shuts out root too): probed inside the lossy link's namespace, whose own
    /// copy of the setting is opened to every group. The machine's setting is left as it is.
    static func pingInNamespace(_ lossy: LossyLink) -> SocketTypeRow? {
        let setting = "net.ipv4.ping_group_range=0 2147483647"
        guard let (status, _) = try? lossy.topology.run(on: "far", ["sysctl", "-qw", setting]), status == 0 else { return nil }
        guard var row = try? lossy.topology.within("far", { Probes.row("ping-icmp", lossy: nil, isRoot: true) }), row.boundaries.measured else { return nil }
        let note = "measured inside the network namespace \(lossy.topology.spec.namespaces.first ?? "far"), where `sysctl -w \(setting)` let every group open ping sockets (this machine's own setting is unchanged)"
        row.boundaries.evidence.append(note)
        row.connection.evidence.append(note)
        row.largest.evidence.append(note)
        row.shownBy.evidence.append(note)
        let across = "probed at the far end of the lossy link, so nothing to cross: the raw-icmp row's ICMP echo across the loss says the same for ICMP"
        row.ordered = .notMeasured(across)
        row.reliable = .notMeasured(across)
        return row
    }

    /// `id ok` or `id ERRNO` for every row: whether this user may call socket() for it.
    public static func creationReport() -> [String] {
        rowIDs.map { id in
            do {
                try Probes.create(id)
                return "\(id) ok"
            } catch {
                return "\(id) \(Probes.errno(error)?.name ?? "\(error)")"
            }
        }
    }

    /// Who may open each type: measured as this user, and — when this is root — as nobody,
    /// through this program run again with nobody's identity.
    func privilegeCells(isRoot: Bool) -> [String: Cell<String>] {
        let mine = Self.parse(Self.creationReport())
        var theirs: [String: String]?
        var how = "run as this user (uid \(geteuid()))"
        if isRoot, !options.probeCommand.isEmpty {
            theirs = Self.runAsNobody(options.probeCommand)
            how = theirs == nil ? "could not run the probe as nobody" : "socket() called as root and, in a child, as nobody (uid 65534)"
        }
        let range = Probes.readFile("/proc/sys/net/ipv4/ping_group_range") ?? "?"
        var cells: [String: Cell<String>] = [:]
        for id in Self.rowIDs {
            let asMe = mine[id] ?? "?"
            let unprivileged = theirs?[id] ?? (isRoot ? nil : asMe)
            var evidence = ["\(how)", "socket() as uid \(geteuid()): \(asMe)"]
            if let theirs { evidence.append("socket() as nobody: \(theirs[id] ?? "?")") }
            guard let unprivileged else {
                cells[id] = .notMeasured("only root's result is known (\(asMe)); the probe as nobody did not run", evidence)
                continue
            }
            switch (id, unprivileged) {
            case (_, "ok"):
                cells[id] = .measured("none", "none: any user may open it", evidence)
            case ("ping-icmp", _):
                evidence.append("net.ipv4.ping_group_range = \(range.split(whereSeparator: \.isWhitespace).joined(separator: " "))")
                cells[id] = .measured("net.ipv4.ping_group_range", "a group in net.ipv4.ping_group_range (\(unprivileged) here; root \(asMe))", evidence)
            default:
                cells[id] = .measured("CAP_NET_RAW", "CAP_NET_RAW (\(unprivileged) without it; root \(asMe))", evidence)
            }
        }
        return cells
    }

    static func parse(_ lines: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { result[parts[0]] = parts[1] }
        }
        return result
    }

    static func runAsNobody(_ command: [String]) -> [String: String]? {
        guard let (reading, writing) = try? PipeEnd.makePipe() else { return nil }
        guard let child = try? ChildProcess(command, output: writing.descriptor, identity: .nobody) else { return nil }
        try? writing.close()
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while text.count < 65_536, let got = try? chunk.withUnsafeMutableBytes({ try reading.read(into: $0) }), got > 0 { text += chunk[..<got] }
        child.stop(grace: .seconds(1))
        let found = parse(String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init))
        return found.count == rowIDs.count ? found : nil
    }
}

enum JSONNumber {
    static func text(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// This machine and one network namespace on a veth pair, with nftables dropping a share of
/// what arrives at the far end: the link the reliability probes cross.
final class LossyLink {
    let topology: Topology
    let farAddress: String
    let lossPercent: Double

    init(loss: Double) throws {
        lossPercent = loss
        topology = try Topology(NamedTopology.machineAndHost(prefix: "slabst", subnet: 61))
        farAddress = try topology.address(of: "far")
        try topology.setLoss(loss)
    }

    func close() { _ = try? topology.setLoss(0) }
}
