import ArgumentParser
import LabEngines
import SocketCore
import TextOutput
import ToolSupport

#if canImport(Glibc)
import Glibc
#endif

@main
struct IPCCompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipc-compare",
        abstract: "Pipes, FIFOs, socketpairs, Unix-domain and loopback sockets measured side by side between two processes.",
        discussion: """
            For each mechanism this program starts a child (itself, as `ipc-compare peer`) and the \
            two measure: 1-byte and 100-byte round trips (p50, p99, max from an HdrHistogram), \
            throughput with 100 B, 4 KiB, 64 KiB and 1 MiB messages, read/write calls per message, \
            whether 20 messages of mixed sizes arrive as 20 reads, and 10 MB there and back compared \
            byte for byte. Mechanisms: \(Mechanism.allCases.map { $0.rawValue }.joined(separator: ", ")). \
            A message a mechanism cannot carry whole (64 KiB over UDP, 1 MiB over a Unix datagram) \
            is reported as n/a with the reason. Exit codes: 0 success; 1 a measurement failed; \
            2 bad usage (an unknown mechanism, a path too long for sun_path, a FIFO path that is \
            something else).
            """,
        subcommands: [Compare.self, Peer.self],
        defaultSubcommand: Compare.self)

    static func main() { runAsSocketLabTool() }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "Measure (the default command).")

    @Option(help: "Comma-separated mechanisms, or all.")
    var only = "all"
    @Option(help: "Measured round trips per message size (1 B and 100 B).")
    var roundTrips = 10_000
    @Option(help: "Round trips before measuring, per size.")
    var warmup = 1_000
    @Option(help: "Repetitions of every measurement.")
    var repetitions = 3
    @Option(help: "Scale the bytes of every throughput run (1 = 8 MB at 100 B up to 128 MB at 1 MiB).")
    var scale = 1.0
    @Flag(help: "Pin this process and the child to CPUs (--cpus), so the scheduler's moves stay out of the numbers.")
    var pin = false
    @Option(help: "With --pin: the parent's and the child's CPU (default 0,1; 0,0 on one CPU).")
    var cpus: String?
    @Option(help: "Folder for the FIFOs and Unix socket files (default: a fresh one under /tmp).")
    var dir: String?
    @Option(help: "Prefix of the abstract Unix socket names (default socketlab-ipc-PID).")
    var abstractName: String?
    @Option(help: "Megabytes sent there and back through each mechanism and compared (0: skip).")
    var verifyMegabytes = 10
    @Flag(help: "One JSON object instead of the table.")
    var json = false
    @Option(help: "Also write bar charts of latency and throughput as one SVG file.")
    var svg: String?
    @Option(help: "Also write a page with the charts and the table (self-contained HTML).")
    var html: String?

    func validate() throws {
        guard Mechanism.list(only) != nil else {
            throw ValidationError("--only: \"\(only)\" names no mechanism; choose from all, \(Mechanism.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try OptionRange.check(roundTrips, 1...10_000_000, "--round-trips")
        try OptionRange.check(warmup, 0...10_000_000, "--warmup")
        try OptionRange.check(repetitions, 1...100, "--repetitions")
        try OptionRange.check(scale, 0.0001...100, "--scale")
        try OptionRange.check(verifyMegabytes, 0...10_000, "--verify-megabytes")
        if cpus != nil && !pin { throw ValidationError("--cpus needs --pin") }
        _ = try pinnedCPUs()
        if let dir {
            // Checked before any child starts: the longest name made there must fit in sun_path.
            let longest = dir + "/ipc-parent.sock"
            if longest.utf8.count > SocketAddress.maxUnixPathLength {
                throw ValidationError("--dir: \(longest) is \(longest.utf8.count) bytes, \(longest.utf8.count - SocketAddress.maxUnixPathLength) too many for a Unix socket's sun_path (\(SocketAddress.maxUnixPathLength) bytes and the NUL); choose a shorter folder")
            }
            var info = stat()
            guard stat(dir, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw ValidationError("--dir: \(dir) is not a folder") }
        }
        if let abstractName, abstractName.utf8.count + 8 > SocketAddress.maxUnixPathLength {
            throw ValidationError("--abstract-name: \(abstractName.utf8.count) bytes and a suffix of up to 7 is \(abstractName.utf8.count + 8 - SocketAddress.maxUnixPathLength) too many for sun_path (\(SocketAddress.maxUnixPathLength) after the leading NUL)")
        }
    }

    func pinnedCPUs() throws -> (parent: Int, child: Int)? {
        guard pin else { return nil }
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        guard let cpus else { return online > 1 ? (0, 1) : (0, 0) }
        let parts = cpus.split(separator: ",").map { Int($0) }
        guard parts.count == 2, let parent = parts[0], let child = parts[1], (0..<online).contains(parent), (0..<online).contains(child) else {
            throw ValidationError("--cpus: write PARENT,CHILD with CPUs from 0 to \(online - 1), as in 0,1")
        }
        return (parent, child)
    }

    func run() throws {
        var options = IPCCompare.Options()
        options.mechanisms = Mechanism.list(only)!
        options.roundTrips = roundTrips
        options.warmup = warmup
        options.repetitions = repetitions
        options.scale = scale
        options.cpus = try pinnedCPUs()
        options.directory = dir
        options.abstractName = abstractName
        options.verifyBytes = verifyMegabytes * 1_000_000
        options.peerCommand = [SocketError.programPath, "peer"]
        var standardError = StandardError()
        let result = try IPCCompare(options: options).run { name in
            if !json { print("  measuring \(name)…", to: &standardError) }
        }
        if let svg { try FreshFile.write(IPCCharts.svg(result), to: svg) }
        if let html { try FreshFile.write(IPCCharts.html(result), to: html) }
        for line in json ? [IPCReport.json(result)] : IPCReport.table(result) { print(line) }
    }
}

/// The child: one end of one mechanism, answering the plan its parent gave it.
struct Peer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "The other process of a measurement (started by ipc-compare itself).", shouldDisplay: false)

    @Option var mechanism: String
    @Option var plan: String
    @Option var address: String?
    @Option var bind: String?
    @Option var cpu: Int?

    func run() throws {
        guard let mechanism = Mechanism(rawValue: mechanism) else { throw ValidationError("unknown mechanism \(mechanism)") }
        try IPCPeer.run(mechanism: mechanism, plan: plan, address: address, bind: bind, cpu: cpu)
    }
}
