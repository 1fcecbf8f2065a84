import ArgumentParser
import Foundation
import LabEngines
import LabHost
import LabServers
import Packets
import SocketCore
import TextOutput
import ToolSupport

#if canImport(Glibc)
import Glibc
#endif

/// Lab 10: two machines, one service, and heartbeats that decide which of them serves it.
@main
struct StandbyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standby",
        abstract: "Hot-standby failover by heartbeat (VRRP's rules): who serves now, and how fast the other takes over.",
        discussion: """
            On each of two machines, `standby run` sends signed heartbeats to the other over \
            UDP. The master sends one every interval; a backup that hears none for 3 × interval \
            + skew (skew = (256 − priority) × interval / 256) takes over: it adds the virtual \
            address, announces it with a gratuitous ARP and starts the service (--on-master). \
            A master stopped with SIGTERM says priority 0, and the backup takes over after one \
            skew. In the lab's failover topology (sudo topology up failover):

              standby keygen key                                   (the shared key, chmod 600)
              sudo topology exec failover S1 standby run --name S1 --peer 10.99.1.2:1985 \\
                  --priority 200 --interval 100 --vip 10.99.1.100/24 --dev slab-s1-eth \\
                  --on-master "standby serve --bind 10.99.1.100:8080 --name S1" --key-file key
              (S2 the same with --name S2 --peer 10.99.1.1:1985 --priority 100 --dev slab-s2-eth)
              sudo topology exec failover C standby probe 10.99.1.100:8080 --json > client.jsonl
              sudo standby fail kill S1       (or stop, freeze, thaw, cut, heal, loss)

            Exit codes: 0 stopped cleanly; 1 something it needed failed (ip, a socket); 2 bad \
            input (an interval under 10 ms, a key file others can read, a peer that is this \
            machine, a virtual address another host holds); 3 not root (the virtual address \
            and the ARP need it).
            """,
        subcommands: [Run.self, Serve.self, Probe.self, Fail.self, Timeline.self, Scenario.self, Keygen.self])

    static func main() { runAsSocketLabTool() }
}

/// Prints what happened, one line each, at once (a log read live, or by a script).
func output(_ line: String) {
    print(line)
    flushOutput()
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One machine of the pair: heartbeats, the state machine, the virtual address, the hooks.")

    @Option(help: "This machine's name in heartbeats and logs (1 to 32 bytes).")
    var name: String
    @Option(help: "The other machine's heartbeat address, ADDRESS:PORT (numeric).")
    var peer: String
    @Option(help: "Where to listen for heartbeats (default: every address, the peer's port).")
    var listen: String?
    @Option(help: "1 to 254: the higher one is master when both run.")
    var priority: Int
    @Option(help: "Milliseconds between a master's heartbeats (at least 10).")
    var interval: Int
    @Flag(inversion: .prefixedNo, help: "A returning machine with the higher priority takes the role back (VRRP's default).")
    var preempt = true
    @Option(help: "The virtual address, ADDRESS/PREFIX: on whichever machine is master.")
    var vip: String?
    @Option(help: "The interface the virtual address goes on.")
    var dev: String?
    @Option(help: "A shell command run on becoming master (it may be the service itself: it is stopped when the role is given up).")
    var onMaster: String?
    @Option(help: "A shell command run on becoming backup.")
    var onBackup: String?
    @Option(help: "The shared key: 16 to 4096 bytes, readable by its owner only (chmod 600); `standby keygen FILE` makes one.")
    var keyFile: String
    @Flag(help: "One JSON object per event (kind first, then time and node).")
    var json = false

    func run() throws {
        let settings = try StandbySettings(name: name, peer: peer, listen: listen, priority: priority, intervalMilliseconds: interval,
                                           preempt: preempt, vip: vip, device: dev, onMaster: onMaster, onBackup: onBackup, keyFile: keyFile)
        StandbyNode.stopOnSignals()
        let json = self.json
        let node = try StandbyNode(settings) { event in output(json ? event.json.text : event.text) }
        try node.run()
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The lab's service: answers every HTTP request with this machine's name (curl http://ADDRESS:PORT/).")

    @Option(help: "ADDRESS:PORT to listen on (the virtual address, on the master).")
    var bind: String
    @Option(help: "The name to answer with.")
    var name: String

    func run() throws {
        let server = try WhoServer(listeningOn: try SocketAddress(bind), name: name)
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for number in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&blocked, number) }
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        let signals = blocked
        let stopper = Thread {
            var waitingFor = signals
            var received: Int32 = 0
            sigwait(&waitingFor, &received)
            server.stop()
        }
        stopper.start()
        output("serve: \(name) answers on \(server.address)")
        try server.run()
    }
}

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The client: a request every few milliseconds, each success and failure with its time, and every outage.")

    @Argument(help: "ADDRESS:PORT of the service (the virtual address).")
    var target: String
    @Option(help: "Milliseconds between requests.")
    var every = 10
    @Option(help: "Milliseconds one request may take.")
    var timeout = 100
    @Option(help: "Stop after this many seconds (default: at Ctrl-C).")
    var duration: Double?
    @Flag(help: "Every request, every outage and the summary as JSON Lines (labcheck 10 reads it).")
    var json = false

    func validate() throws {
        try OptionRange.check(every, 1...60_000, "--every", unit: "ms")
        try OptionRange.check(timeout, 1...60_000, "--timeout", unit: "ms")
        if let duration { try OptionRange.check(duration, 0.001...86_400, "--duration", unit: "seconds") }
    }

    func run() throws {
        var options = ServiceProbe.Options(target: try SocketAddress(target))
        options.every = .milliseconds(every)
        options.timeout = .milliseconds(timeout)
        options.duration = duration.map { .milliseconds(Int($0 * 1000)) }
        ServiceProbe.stopOnSignals()
        var lastServer: String?? = .none
        let json = self.json
        let tally = ServiceProbe(options).run(shouldStop: { ServiceProbe.stopRequested }) { attempt, outage in
            if json {
                output(attempt.json.text)
                if let outage { output(outage.json.text) }
                return
            }
            // For people: only the changes.
            if let outage { output("\(StandbyEvent.clock(attempt.time)) \(outage.text)") }
            if lastServer == nil || lastServer! != attempt.server {
                output("\(StandbyEvent.clock(attempt.time)) " + (attempt.server.map { "\($0) answers" } ?? "no answer: \(attempt.error ?? "?")"))
                lastServer = .some(attempt.server)
            }
        }
        output(json ? tally.json.text : tally.text)
    }
}

struct Fail: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Break one machine of the failover topology, in one of the lab's ways.",
        discussion: """
              kill HOST     the machine dies: SIGKILL to every program on it
              stop HOST     standby stops cleanly (SIGTERM): a master says priority 0 first
              freeze HOST   SIGSTOP to standby: alive but silent (split brain when it thaws)
              thaw HOST     SIGCONT
              cut HOST      its link is cut (nftables drops everything in and out, ARP too)
              heal HOST     the cut or the loss is lifted
              loss HOST PCT drop PCT% of the heartbeats arriving at HOST (--every N: every Nth)
            HOST is S1, S2 or C of the failover topology, or a network namespace's name.
            """)

    @Argument(help: "kill, stop, freeze, thaw, cut, heal or loss.")
    var action: FailureInjection.Action
    @Argument(help: "S1, S2, C, or a namespace.")
    var host: String
    @Argument(help: "For loss: the percentage (0 to 100).")
    var percent: Double?
    @Option(help: "For loss: drop exactly every Nth heartbeat instead of at random.")
    var every: Int?
    @Option(help: "For loss: the heartbeat port.")
    var port: UInt16 = StandbyHeartbeat.defaultPort

    func validate() throws {
        if action == .loss && percent == nil && every == nil { throw ValidationError("loss needs a percentage (or --every N)") }
        if let percent { try OptionRange.check(percent, 0...100, "the loss", unit: "%") }
        if let every { try OptionRange.check(every, 1...1_000_000, "--every") }
    }

    func run() throws {
        let injection = try FailureInjection(host: host)
        let done = try injection.apply(action, lossPercent: percent ?? 0, every: every, port: port)
        output("fail: \(done)")
    }
}

extension FailureInjection.Action: ExpressibleByArgument {}

struct Timeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a capture of the pair: the interval, the priorities, who was master when, each takeover against VRRP's prediction, each split brain.",
        discussion: "It reads standby's heartbeats and VRRP's advertisements (keepalived) alike, and the gratuitous ARPs.")
    @Argument(help: "A pcap or pcapng file (capture on a server's interface: it sees both machines' advertisements).")
    var file: String
    @Flag(help: "One JSON object.")
    var json = false

    func run() throws {
        let timeline = try FailoverTimeline(capture: file)
        output(json ? timeline.json.text : timeline.text)
    }
}

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a new shared key (32 random bytes, base64) to FILE, readable by you only.")
    @Argument(help: "The key file to create (it must not exist).")
    var file: String

    func run() throws {
        // A key never replaces another, nor goes under a new name beside it (lstat: a symbolic
        // link there, even a dangling one, counts as taken).
        var info = stat()
        guard lstat(file, &info) != 0 else { throw ValidationError("cannot create \(file): File exists (it must not exist yet)") }
        do { try SharedKeyFile.create(at: file, mode: .fresh) } catch { throw ValidationError("cannot create \(error.path): \(error.reason)") }
        output("keygen: \(file) (32 random bytes, mode 600): copy it to both machines")
    }
}
