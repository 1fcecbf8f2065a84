import LabHost
import Packets

#if canImport(Glibc)
import Glibc
#endif

/// The lab's ways to break one machine of the pair, each what happens to real machines: it
/// dies (every program on it killed), its failover daemon stops cleanly, it freezes (a long
/// garbage-collection pause, a VM migrated: alive but silent) and thaws, its link is cut and
/// healed, its heartbeats are lost. A machine is a network namespace; the failover
/// topology's host names (S1, S2, C) name its namespaces.
public struct FailureInjection: Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case kill, stop, freeze, thaw, cut, heal, loss
    }

    public let namespace: String
    public let label: String

    /// `host`: S1, S2 or C of the failover topology, or a namespace's own name.
    public init(host: String) throws(HostError) {
        let spec = NamedTopology.failover.spec
        if let known = spec.hosts.first(where: { $0.name.lowercased() == host.lowercased() }), let namespace = known.namespace {
            self.namespace = namespace
            label = known.name
        } else {
            namespace = host
            label = host
        }
        guard access("/var/run/netns/\(namespace)", F_OK) == 0 else {
            throw .badValue("\(host): no such host up (sudo topology up failover makes S1, S2 and C)")
        }
    }

    /// Every process whose network namespace is this machine (`ip netns pids`).
    public var processes: [pid_t] {
        guard let (status, output) = try? ChildProcess.run(["ip", "netns", "pids", namespace]), status == 0 else { return [] }
        return output.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }.filter { $0 != getpid() }
    }

    /// The `standby run` processes on this machine, found by their command line.
    public var standbyProcesses: [pid_t] {
        processes.filter { pid in
            let arguments = Self.commandLine(of: pid)
            return arguments.count >= 2 && arguments[0].split(separator: "/").last == "standby" && arguments[1] == "run"
        }
    }

    static func commandLine(of pid: pid_t) -> [String] {
        let fd = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &bytes, bytes.count)
        guard count > 0 else { return [] }
        return bytes[..<count].split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The machine's interface to the link (its one interface other than lo).
    public var interface: String? {
        guard let (status, output) = try? ChildProcess.run(["ip", "-n", namespace, "-o", "link", "show"]), status == 0 else { return nil }
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let name = fields[1].split(separator: ":").first.map { String($0.split(separator: "@").first ?? $0) } ?? ""
            if name != "lo" && !name.isEmpty { return name }
        }
        return nil
    }

    /// Applies `action`; returns what was done, in a sentence.
    public func apply(_ action: Action, lossPercent: Double = 0, every: Int? = nil, port: UInt16 = StandbyHeartbeat.defaultPort) throws(HostError) -> String {
        switch action {
        case .kill:
            let all = processes
            for pid in all { Glibc.kill(pid, SIGKILL) }
            return "\(label) died: SIGKILL to its \(all.count) programs"
        case .stop, .freeze, .thaw:
            let found = standbyProcesses
            guard !found.isEmpty else { throw .badValue("no `standby run` runs on \(label)") }
            let number = action == .stop ? SIGTERM : action == .freeze ? SIGSTOP : SIGCONT
            for pid in found { Glibc.kill(pid, number) }
            let what = action == .stop ? "stopped cleanly (SIGTERM)" : action == .freeze ? "frozen (SIGSTOP)" : "thawed (SIGCONT)"
            return "standby on \(label) \(what)"
        case .cut:
            guard let device = interface else { throw .badValue("\(label) has no interface to cut") }
            // inet for IPv4 and IPv6, arp for ARP (which inet does not see), the same two chains in each.
            try nft(["inet", "arp"].map { family in """
                add table \(family) socketlab_fail
                add chain \(family) socketlab_fail cut_in { type filter hook input priority -10; }
                add chain \(family) socketlab_fail cut_out { type filter hook output priority -10; }
                flush chain \(family) socketlab_fail cut_in
                flush chain \(family) socketlab_fail cut_out
                add rule \(family) socketlab_fail cut_in iifname "\(device)" drop
                add rule \(family) socketlab_fail cut_out oifname "\(device)" drop
                """ }.joined(separator: "\n"))
            return "\(label)'s link \(device) is cut: nothing in or out, ARP included"
        case .heal:
            // Each on its own: a table that is not there (nothing was cut) must not keep the other.
            for family in ["inet", "arp"] { try? nft("delete table \(family) socketlab_fail") }
            return "\(label)'s link is whole again: no cut, no loss"
        case .loss:
            let verdict: String
            if let every {
                verdict = "numgen inc mod \(every) 0 counter drop"
            } else {
                guard lossPercent.isFinite, (0...100).contains(lossPercent) else { throw .badValue("the loss is 0 to 100%, not \(lossPercent)") }
                verdict = "numgen random mod 10000 < \(Int((lossPercent * 100).rounded())) counter drop"
            }
            try nft("""
                add table inet socketlab_fail
                add chain inet socketlab_fail heartbeat_loss { type filter hook input priority -5; }
                flush chain inet socketlab_fail heartbeat_loss
                add rule inet socketlab_fail heartbeat_loss udp dport \(port) \(verdict)
                """)
            return every.map { "every \($0)th heartbeat arriving at \(label) (udp port \(port)) is dropped" }
                ?? "\(lossPercent)% of the heartbeats arriving at \(label) (udp port \(port)) are dropped"
        }
    }

    private func nft(_ script: String) throws(HostError) {
        let command = ["ip", "netns", "exec", namespace, ChildProcess.locate("nft") ?? "nft", script.split(separator: "\n").joined(separator: "; ")]
        let (status, output) = try ChildProcess.run(command)
        guard status == 0 else { throw .stepFailed(command: command.joined(separator: " "), output: output) }
    }
}
