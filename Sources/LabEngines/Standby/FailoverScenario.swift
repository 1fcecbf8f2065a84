import Foundation
import LabHost
import PacketCapture
import Packets
import SocketCore

#if canImport(Glibc)
import Glibc
#endif

/// The whole of Lab 10 run by itself on a failover topology of its own: S1 (priority 200) and
/// S2 (priority 100) running `standby` with the lab's service on the virtual address, the
/// client probing it from C, a capture on S2's interface (which sees both machines'
/// heartbeats and every gratuitous ARP), and the lab's failures one after another, each
/// followed by the recovery. `labcheck 10` without a capture, the instructor's demo and the
/// benchmark run it; the real programs run in it, started as a student starts them.
public final class FailoverScenario {
    public enum Failure: String, Sendable, CaseIterable {
        /// SIGKILL to every program on S1; then S1 restarted (and preempting).
        case kill
        /// SIGTERM to standby on S1; then restarted.
        case stop
        /// SIGSTOP, then SIGCONT: split brain, then the lower priority yields.
        case freeze
        /// nftables cuts S1's link, then heals it.
        case cut
    }

    public struct Options: Sendable {
        /// The standby executable.
        public var standby: String
        public var intervalMilliseconds = 100
        public var failures: [Failure] = [.kill, .stop, .freeze]
        public var capture: String
        /// The client's JSON Lines log.
        public var clientLog: String
        /// Where the two nodes' JSON logs go (NAME.jsonl).
        public var folder: String
        /// A short prefix for the topology's names (run beside a student's own).
        public var prefix = "slfo"

        public init(standby: String, capture: String, clientLog: String, folder: String) {
            self.standby = standby
            self.capture = capture
            self.clientLog = clientLog
            self.folder = folder
        }
    }

    public static let virtualAddress = "10.99.1.100"
    public static let servicePort = 8080

    let options: Options
    let topology: Topology
    let say: (String) -> Void
    private var nodes: [String: ChildProcess] = [:]
    private var probe: ChildProcess?
    private let keyFile: String

    public init(_ options: Options, say: @escaping (String) -> Void = { _ in }) throws {
        guard access(options.standby, X_OK) == 0 else {
            throw StandbyProblem.badOption("\(options.standby) is not there: build standby beside this program (swift build)")
        }
        self.options = options
        self.say = say
        topology = try Topology(NamedTopology.failover.forTest(prefix: options.prefix))
        try FileManager.default.createDirectory(atPath: options.folder, withIntermediateDirectories: true)
        keyFile = options.folder + "/key"
        try SharedKeyFile.create(at: keyFile, mode: .replace)
    }

    private func log(_ name: String) -> String { options.folder + "/\(name).jsonl" }
    private func namespace(_ host: String) -> String { (try? topology.host(host).namespace ?? "") ?? "" }
    private func device(_ host: String) -> String { topology.interfaces(of: host).first?.name ?? "" }

    /// Starts standby on S1 or S2, its JSON events appended to NAME.jsonl.
    func start(_ name: String) throws {
        let peer = name == "S1" ? "10.99.1.2" : "10.99.1.1"
        let priority = name == "S1" ? "200" : "100"
        // Events to NAME.jsonl, and apart from them what the node and its service say on
        // standard error, so that the log stays JSON Lines.
        let fd = open(log(name), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let errors = open(options.folder + "/\(name).err", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer {
            if fd >= 0 { close(fd) }
            if errors >= 0 { close(errors) }
        }
        nodes[name] = try ChildProcess(topology.inside(name, [
            options.standby, "run", "--name", name, "--peer", "\(peer):\(StandbyHeartbeat.defaultPort)", "--priority", priority,
            "--interval", "\(options.intervalMilliseconds)", "--vip", "\(Self.virtualAddress)/24", "--dev", device(name),
            "--on-master", "\(options.standby) serve --bind \(Self.virtualAddress):\(Self.servicePort) --name \(name)",
            "--key-file", keyFile, "--json",
        ]), standardInput: nil, standardOutput: fd >= 0 ? fd : nil, standardError: errors >= 0 ? errors : nil)
    }

    /// The state `name` last logged a transition to.
    func state(of name: String) -> String? {
        guard let text = try? String(contentsOfFile: log(name), encoding: .utf8) else { return nil }
        guard let line = text.split(separator: "\n").last(where: { $0.contains("\"kind\":\"transition\"") }),
              let range = line.range(of: "\"to\":\"") else { return nil }
        return String(line[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Waits until `name` is master (and, unless `alone` is false, the other is not).
    @discardableResult
    func waitForMaster(_ name: String, alone: Bool = true, timeout: Duration = .seconds(5)) -> Bool {
        let other = name == "S1" ? "S2" : "S1"
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state(of: name) == "MASTER" && (!alone || state(of: other) != "MASTER") { return true }
            usleep(10_000)
        }
        return false
    }

    /// Runs the failures, captures, and reads the capture back.
    public func run() throws -> FailoverTimeline {
        for name in ["S1", "S2"] { try? FileManager.default.removeItem(atPath: log(name)) }
        var captureOptions = LiveCapture.Options()
        captureOptions.interface = device("S2")
        captureOptions.filter = "arp or udp port \(StandbyHeartbeat.defaultPort) or tcp port \(Self.servicePort)"
        captureOptions.writeTo = options.capture
        captureOptions.writeMode = .fresh
        let recorder = try topology.within("S2") { try CaptureRecorder(captureOptions) }
        defer { recorder.stop() }
        try start("S1")
        usleep(50_000)
        try start("S2")
        guard waitForMaster("S1") else { throw StandbyProblem.failed("S1 did not become master: see \(log("S1"))") }
        say("S1 is master; the client starts")
        let clientFD = open(options.clientLog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        defer { if clientFD >= 0 { close(clientFD) } }
        probe = try ChildProcess(topology.inside("C", [options.standby, "probe", "\(Self.virtualAddress):\(Self.servicePort)", "--json"]),
                                 output: clientFD >= 0 ? clientFD : nil)
        usleep(500_000)
        let s1 = try FailureInjection(host: namespace("S1"))
        for failure in options.failures {
            // At a random point of the master's heartbeat interval, as a real failure comes:
            // what the client sees depends on how long before it the last heartbeat went.
            usleep(UInt32.random(in: 0..<UInt32(options.intervalMilliseconds * 1000)))
            switch failure {
            case .kill:
                say(try s1.apply(.kill))
                // A dead machine logs nothing more: its last word was MASTER.
                try? FileManager.default.moveItem(atPath: log("S1"), toPath: log("S1") + ".\(Int(Date().timeIntervalSince1970 * 1000))")
                nodes["S1"] = nil
                guard waitForMaster("S2") else { throw StandbyProblem.failed("S2 did not take over after the kill: see \(log("S2"))") }
                usleep(300_000)
                try start("S1")
            case .stop:
                say(try s1.apply(.stop))
                guard waitForMaster("S2") else { throw StandbyProblem.failed("S2 did not take over after the clean stop") }
                nodes["S1"]?.stop(grace: .seconds(1))
                usleep(300_000)
                try start("S1")
            case .freeze:
                say(try s1.apply(.freeze))
                guard waitForMaster("S2", alone: false) else { throw StandbyProblem.failed("S2 did not take over from the frozen S1") }
                usleep(300_000)
                say(try s1.apply(.thaw))
            case .cut:
                say(try s1.apply(.cut))
                guard waitForMaster("S2", alone: false) else { throw StandbyProblem.failed("S2 did not take over from the cut-off S1") }
                usleep(300_000)
                say(try s1.apply(.heal))
            }
            guard waitForMaster("S1") else { throw StandbyProblem.failed("S1 did not become master again after \(failure.rawValue)") }
            say("S1 is master again")
            usleep(500_000)
        }
        if let probe { kill(probe.pid, SIGINT) }
        _ = probe?.stop(grace: .seconds(2))
        for node in nodes.values { node.stop(grace: .seconds(2)) }
        nodes = [:]
        recorder.settle()
        recorder.stop()
        return try FailoverTimeline(capture: recorder.capture.writtenTo ?? options.capture)
    }

    deinit {
        for node in nodes.values { node.stop(grace: .milliseconds(500)) }
        for host in ["S1", "S2", "C"] {
            if let injection = try? FailureInjection(host: namespace(host)) { for pid in injection.processes { kill(pid, SIGKILL) } }
        }
    }
}
