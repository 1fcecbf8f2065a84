#if canImport(Glibc)
import Glibc
#endif
import CLinux
import SocketCore

/// Hosts on one machine, for the labs and the tests: each host a network namespace (or this
/// machine's own), joined by veth pairs or by a Linux bridge, with addresses, routes, loss
/// (nftables, random) and rate limits (tc tbf). Nothing leaves this machine.
///
/// Everything a topology makes lives inside its namespaces — the bridge in a namespace of its
/// own, a veth's far end in its host — so deleting the namespaces removes every interface and
/// every nft table with them. That is what makes teardown certain: `down()` deletes them, `up`
/// first deletes what an earlier run left, and an owned topology has a watchdog process that
/// deletes them when this process dies, however it dies.
public final class Topology: @unchecked Sendable {
    // @unchecked: the only mutable state is the watchdog, touched by init and teardown only.

    /// One host: a network namespace, or this machine's own namespace (`namespace == nil`),
    /// which lets a test keep its own sockets here and capture on its end of the link.
    public struct Host: Sendable, Hashable {
        public var name: String
        public var namespace: String?
        /// Forwards IPv4 between its interfaces (a router).
        public var forwards = false
        /// The address its default route points at (a router's, on the same link).
        public var gateway: String?

        public init(name: String, namespace: String?, forwards: Bool = false, gateway: String? = nil) {
            self.name = name
            self.namespace = namespace
            self.forwards = forwards
            self.gateway = gateway
        }
    }

    /// One end of a link: an interface on a host, with its address in CIDR form.
    public struct Interface: Sendable, Hashable {
        public var host: String
        public var name: String
        public var address: String

        public init(host: String, name: String, address: String) {
            self.host = host
            self.name = name
            self.address = address
        }

        /// The address without its prefix length: 10.99.0.1.
        public var ip: String { String(address.split(separator: "/").first ?? "") }
    }

    public enum Link: Sendable, Hashable {
        /// A cable between two interfaces.
        case veth(Interface, Interface)
        /// A switch: a Linux bridge in namespace `namespace`, one port per interface.
        case bridge(namespace: String, [Interface])

        var interfaces: [Interface] {
            switch self {
            case .veth(let a, let b): [a, b]
            case .bridge(_, let ends): ends
            }
        }
    }

    /// Where `--loss` drops packets: arriving at a host on one interface, or crossing a
    /// router. Never on a sender's own output hook: that is not loss on the wire (the local
    /// TCP gets EPERM and resends at once).
    public enum LossPoint: Sendable, Hashable {
        case input(host: String, interface: String)
        case forward(router: String)

        var host: String {
            switch self {
            case .input(let host, _), .forward(let host): host
            }
        }
    }

    public struct Spec: Sendable {
        /// "two-hosts": the name the command line and the status use.
        public var name: String
        /// What `status` and `up` say it is for.
        public var summary: String
        public var hosts: [Host]
        public var links: [Link]
        /// Where a topology-wide loss applies.
        public var lossPoints: [LossPoint]
        /// Namespaces with this prefix and a dead owner's pid in their name are an earlier
        /// run's leftovers (see `ownedSpec`); `up` deletes them.
        public var leftoverPrefix: String?
        /// false: TSO/GSO/GRO off on every interface, so that the links carry MSS-sized
        /// packets as a real Ethernet would (not 64 KiB super-packets), and loss hits single
        /// segments, as a lab about retransmissions needs.
        public var segmentationOffload = false

        public init(name: String, summary: String, hosts: [Host], links: [Link], lossPoints: [LossPoint],
                    leftoverPrefix: String? = nil, segmentationOffload: Bool = false) {
            self.name = name
            self.summary = summary
            self.hosts = hosts
            self.links = links
            self.lossPoints = lossPoints
            self.leftoverPrefix = leftoverPrefix
            self.segmentationOffload = segmentationOffload
        }

        /// Every namespace the topology makes (hosts' and bridges').
        public var namespaces: [String] {
            var names = hosts.compactMap(\.namespace)
            for case .bridge(let namespace, _) in links where !names.contains(namespace) { names.append(namespace) }
            return names
        }

        public var interfaces: [Interface] { links.flatMap(\.interfaces) }

        /// The namespace of host `name`; nil for this machine's own (or an unknown host).
        func namespace(of name: String) -> String? { hosts.first { $0.name == name }?.namespace }

        /// The interfaces this topology puts in this machine's namespace: deleting a namespace
        /// does not remove these, so teardown deletes them itself.
        var interfacesHere: [Interface] { interfaces.filter { namespace(of: $0.host) == nil } }
    }

    public let spec: Spec
    private var watchdog: ChildProcess?
    private var watchdogPipe: Int32 = -1
    private let owned: Bool

    /// Builds `spec` from scratch (deleting what an earlier run left of it). `owned`: this
    /// process owns the topology — it is torn down when the object goes, and by a watchdog
    /// process if this one dies first. Not owned (the command line's `up`): it stays until
    /// `down`.
    public init(_ spec: Spec, owned: Bool = true) throws(HostError) {
        guard geteuid() == 0 else { throw .notPrivileged(what: "the \(spec.name) topology") }
        self.spec = spec
        self.owned = owned
        Self.removeLeftovers(spec)
        if owned { try startWatchdog() }
        do {
            try build()
        } catch {
            teardown()
            throw error
        }
    }

    /// A topology already up (made by another process, e.g. `topology up`), to use or take down.
    public init(existing spec: Spec) {
        self.spec = spec
        owned = false
    }

    deinit { if owned { teardown() } }

    /// Whether every namespace of the topology exists.
    public var isUp: Bool { spec.namespaces.allSatisfy { access("/var/run/netns/\($0)", F_OK) == 0 } }

    public func host(_ name: String) throws(HostError) -> Host {
        guard let host = spec.hosts.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw .unknownHost(name, known: spec.hosts.map(\.name))
        }
        return host
    }

    /// The interfaces of host `name`, in link order.
    public func interfaces(of name: String) -> [Interface] {
        spec.interfaces.filter { $0.host.lowercased() == name.lowercased() }
    }

    /// The first address of host `name` (without the prefix length).
    public func address(of name: String) throws(HostError) -> String {
        guard let interface = interfaces(of: try host(name).name).first else { throw .unknownHost(name, known: spec.hosts.map(\.name)) }
        return interface.ip
    }

    /// The arguments that run `command` on host `name`.
    public func inside(_ name: String, _ command: [String]) throws(HostError) -> [String] {
        guard let namespace = try host(name).namespace else { return command }
        // ip looks the program up with execvp; give it the path, /usr/sbin may not be on PATH.
        let program = command.first.flatMap { ChildProcess.locate($0) } ?? command.first ?? ""
        return ["ip", "netns", "exec", namespace, program] + command.dropFirst()
    }

    /// Runs `command` on host `name` to the end.
    @discardableResult
    public func run(on name: String, _ command: [String]) throws(HostError) -> (status: Int32, output: String) {
        try ChildProcess.run(inside(name, command))
    }

    /// Runs `body` with the calling thread inside host `name`'s namespace, then moves it back.
    /// Sockets stay in the namespace they were made in, so one process can hold a server
    /// socket on one host and a client socket on another; a live capture opened inside sees
    /// that host's interfaces.
    public func within<T>(_ name: String, _ body: () throws -> T) throws -> T {
        guard let namespace = try host(name).namespace else { return try body() }
        return try Self.within(namespace: namespace, body)
    }

    /// `within` for a namespace by name ("slab-a"), for code that has no Topology at hand.
    public static func within<T>(namespace: String, _ body: () throws -> T) throws -> T {
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw HostError.namespaceUnavailable(name: "this thread's", call: "open(/proc/thread-self/ns/net)", errno: .current) }
        defer { close(home) }
        try enter(namespace)
        defer { _ = socketlab_enter_network_namespace(home) }
        return try body()
    }

    /// Moves the calling thread into namespace `name` for good (a thread made for that host).
    public static func enter(_ name: String) throws(HostError) {
        let path = "/var/run/netns/\(name)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .namespaceUnavailable(name: name, call: "open(\(path))", errno: .current) }
        defer { close(fd) }
        guard socketlab_enter_network_namespace(fd) == 0 else {
            throw .namespaceUnavailable(name: name, call: "setns(CLONE_NEWNET)", errno: .current)
        }
    }

    // MARK: Loss and rate

    /// Sets the loss at every loss point of the topology to `percent` (0 removes it).
    public func setLoss(_ percent: Double) throws(HostError) {
        for point in spec.lossPoints { try setLoss(percent, at: point) }
    }

    /// Sets the loss at one point: nftables drops `percent`% of the packets there at random
    /// (numgen draws 0..9999, so hundredths of a percent work).
    public func setLoss(_ percent: Double, at point: LossPoint) throws(HostError) {
        guard percent.isFinite, percent >= 0, percent <= 100 else {
            throw .badValue("loss must be a percentage from 0 to 100, not \(percent)")
        }
        let per10k = Int((percent * 100).rounded())
        let (chain, match): (String, String) = switch point {
        case .input(_, let interface): ("input_\(interface.replacingDashes)", "iifname \"\(interface)\"")
        case .forward: ("forward", "")
        }
        let hook = chain == "forward" ? "forward" : "input"
        // One table per host, one chain per loss point: flushing the chain changes only this
        // point's loss. The rule carries the percentage as its comment, for `loss(at:)`.
        var script = "add table inet socketlab\n"
            + "add chain inet socketlab \(chain) { type filter hook \(hook) priority 0; }\n"
            + "flush chain inet socketlab \(chain)\n"
        if per10k > 0 {
            let verdict = per10k >= 10_000 ? "drop" : "numgen random mod 10000 < \(per10k) drop"
            script += "add rule inet socketlab \(chain) \(match) \(verdict) comment \"loss \(per10k)\"\n"
        }
        try nft(on: point.host, script)
    }

    /// The loss now set at `point` (0 when none), read back from the kernel's ruleset.
    public func loss(at point: LossPoint) -> Double {
        let chain: String = switch point {
        case .input(_, let interface): "input_\(interface.replacingDashes)"
        case .forward: "forward"
        }
        guard let listing = try? run(on: point.host, ["nft", "list", "chain", "inet", "socketlab", chain]), listing.status == 0 else { return 0 }
        // The comment this type wrote: `comment "loss 1000"` is 10.00%.
        guard let range = listing.output.range(of: "comment \"loss ") else { return 0 }
        let digits = listing.output[range.upperBound...].prefix { $0.isNumber }
        return (Double(digits) ?? 0) / 100
    }

    /// Limits what `interface` on `host` sends to `rate` (tc's units: "10mbit", "1gbit"),
    /// with a token bucket (tbf). nil removes the limit.
    public func setRate(_ rate: String?, host: String, interface: String) throws(HostError) {
        if let rate {
            guard rate.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." }) else { throw .badValue("rate \(rate.debugDescription) is not a tc rate such as 10mbit") }
            try step(inside(host, ["tc", "qdisc", "replace", "dev", interface, "root", "tbf", "rate", rate, "burst", "32kbit", "latency", "50ms"]))
        } else {
            _ = try? run(on: host, ["tc", "qdisc", "del", "dev", interface, "root"])
        }
    }

    /// Runs an nft script on `host`.
    public func nft(on host: String, _ script: String) throws(HostError) {
        try step(inside(host, ["nft", script.replacingNewlines]))
    }

    // MARK: Building and tearing down

    private func build() throws(HostError) {
        for namespace in spec.namespaces {
            try step(["ip", "netns", "add", namespace])
            try step(["ip", "-n", namespace, "link", "set", "lo", "up"])
        }
        for link in spec.links {
            switch link {
            case .veth(let a, let b):
                try step(["ip", "link", "add", a.name] + netns(a.host) + ["type", "veth", "peer", "name", b.name] + netns(b.host))
            case .bridge(let switchNamespace, let ends):
                try step(["ip", "-n", switchNamespace, "link", "add", "br0", "type", "bridge"])
                try step(["ip", "-n", switchNamespace, "link", "set", "br0", "up"])
                for (index, end) in ends.enumerated() {
                    let port = "port\(index)"
                    try step(["ip", "link", "add", end.name] + netns(end.host) + ["type", "veth", "peer", "name", port, "netns", switchNamespace])
                    try step(["ip", "-n", switchNamespace, "link", "set", port, "master", "br0"])
                    try step(["ip", "-n", switchNamespace, "link", "set", port, "up"])
                    if !spec.segmentationOffload { offloadOff(switchNamespace, port) }
                }
            }
        }
        for interface in spec.interfaces {
            try step(ipCommand(interface.host) + ["addr", "add", interface.address, "dev", interface.name])
            try step(ipCommand(interface.host) + ["link", "set", interface.name, "up"])
            if !spec.segmentationOffload { offloadOff(try host(interface.host).namespace, interface.name) }
        }
        for host in spec.hosts {
            if host.forwards, let namespace = host.namespace {
                try step(["ip", "netns", "exec", namespace, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
            }
            if let gateway = host.gateway {
                try step(ipCommand(host.name) + ["route", "add", "default", "via", gateway])
            }
        }
    }

    /// Deletes every namespace of the topology (and with them every interface and nft table
    /// in them) and any interface it made in this machine's namespace.
    public func teardown() {
        if let watchdog {
            // Stopped first: it must not fire later, on a topology a later run built anew.
            kill(watchdog.pid, SIGKILL)
            watchdog.stop(grace: .zero)
            self.watchdog = nil
        }
        if watchdogPipe >= 0 { close(watchdogPipe); watchdogPipe = -1 }
        Self.delete(spec)
    }

    private static func delete(_ spec: Spec) {
        for interface in spec.interfacesHere { _ = try? ChildProcess.run(["ip", "link", "del", interface.name]) }
        for namespace in spec.namespaces { _ = try? ChildProcess.run(["ip", "netns", "del", namespace]) }
    }

    /// The commands that delete the topology, as one shell line for the watchdog.
    private var deleteCommands: String {
        var commands: [String] = []
        for interface in spec.interfacesHere { commands.append("ip link del \(interface.name)") }
        for namespace in spec.namespaces { commands.append("ip netns del \(namespace)") }
        return commands.map { "\($0) 2>/dev/null" }.joined(separator: "; ")
    }

    /// A process in a session of its own that waits on a pipe only this process writes to:
    /// when this process ends (exit, crash, SIGKILL) the pipe closes, its read returns, and
    /// it deletes the topology.
    private func startWatchdog() throws(HostError) {
        var fds: [Int32] = [-1, -1]
        guard socketlab_pipe_cloexec(&fds) == 0 else { throw .spawnFailed(program: "the topology's watchdog", errno: .current) }
        defer { close(fds[0]) }
        let path = (getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        watchdog = try ChildProcess(["/bin/sh", "-c", "export PATH=\(path); read _ ; \(deleteCommands)"],
                                    session: true, standardInput: fds[0])
        watchdogPipe = fds[1]
    }

    /// Deletes namespaces a crashed or killed run left: the spec's own, and those with its
    /// leftover prefix whose owning process (the pid in the name) is gone.
    private static func removeLeftovers(_ spec: Spec) {
        delete(spec)
        guard let prefix = spec.leftoverPrefix, let folder = opendir("/var/run/netns") else { return }
        defer { closedir(folder) }
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix) else { continue }
            let digits = name.dropFirst(prefix.count).prefix { $0.isNumber }
            if let pid = Int32(digits), kill(pid, 0) != 0 && errno == ESRCH {
                _ = try? ChildProcess.run(["ip", "netns", "del", name])
            }
        }
    }

    private func netns(_ hostName: String) -> [String] {
        guard let namespace = spec.namespace(of: hostName) else { return [] }
        return ["netns", namespace]
    }

    private func ipCommand(_ hostName: String) -> [String] {
        guard let namespace = spec.namespace(of: hostName) else { return ["ip"] }
        return ["ip", "-n", namespace]
    }

    private func offloadOff(_ namespace: String?, _ interface: String) {
        let command = ["ethtool", "-K", interface, "tso", "off", "gso", "off", "gro", "off"]
        _ = try? ChildProcess.run(namespace.map { ["ip", "netns", "exec", $0, ChildProcess.locate("ethtool") ?? "ethtool"] + command.dropFirst() } ?? command)
    }

    private func step(_ command: [String]) throws(HostError) {
        let (status, output) = try ChildProcess.run(command)
        guard status == 0 else { throw .stepFailed(command: command.joined(separator: " "), output: output.trimmedLines) }
    }
}

extension String {
    var replacingDashes: String { String(map { $0 == "-" ? "_" : $0 }) }
    var replacingNewlines: String { split(separator: "\n").joined(separator: "; ") }
    var trimmedLines: String { split(separator: "\n").joined(separator: " / ") }
}
