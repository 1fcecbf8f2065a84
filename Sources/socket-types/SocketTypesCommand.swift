import ArgumentParser
import LabEngines
import SocketCore
import ToolSupport

#if canImport(Glibc)
import Glibc
#endif

@main
struct SocketTypesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socket-types",
        abstract: "The socket types probed live: boundaries, order, reliability, connection, privilege, largest message, where ss shows them.",
        discussion: """
            One row per type: \(SocketTypes.rowIDs.joined(separator: ", ")). Every cell is measured \
            when the command runs — messages sent and what each read returned, a sendto() on a \
            socket that never connected, socket() called as root and as nobody, the largest message \
            found by bisection, the probe socket's own line in `ss -a -e` and /proc/net. As root it \
            also makes a network namespace behind a link that loses --loss percent of what arrives \
            (nftables) and sends numbered messages across it over TCP, UDP and ICMP. Unprivileged, \
            the rows that need CAP_NET_RAW and the lossy link are skipped with the reason. \
            Exit codes: 0 success; 2 bad usage (an unknown row).
            """,
        subcommands: [Probe.self, CreationProbe.self],
        defaultSubcommand: Probe.self)

    static func main() { runAsSocketLabTool() }
}

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "probe", abstract: "Probe every type (the default command).")

    @Option(help: "Print the evidence behind one row's cells: \(SocketTypes.rowIDs.joined(separator: ", ")).")
    var explain: String?
    @Option(help: "Percent loss on the namespace link for the reliability probes (root only; 0 skips them).")
    var loss = 10.0
    @Flag(help: "One JSON object instead of the table.")
    var json = false

    func validate() throws {
        if let explain, !SocketTypes.rowIDs.contains(explain) {
            throw ValidationError("--explain: no row \"\(explain)\"; the rows are \(SocketTypes.rowIDs.joined(separator: ", "))")
        }
        try OptionRange.check(loss, 0...90, "--loss", unit: "percent")
    }

    func run() throws {
        var options = SocketTypes.Options()
        options.lossPercent = loss
        options.probeCommand = [SocketError.programPath, "creation-probe"]
        var standardError = StandardError()
        let rows = try SocketTypes(options: options).run { step in
            if !json { print("  probing \(step)…", to: &standardError) }
        }
        let isRoot = geteuid() == 0
        if let explain, let row = rows.first(where: { $0.id == explain }) {
            for line in SocketTypesReport.explain(row) { print(line) }
            return
        }
        for line in json ? [SocketTypesReport.json(rows, isRoot: isRoot)] : SocketTypesReport.table(rows, isRoot: isRoot) { print(line) }
    }
}

/// What this user may open: run again as nobody by socket-types itself.
struct CreationProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "creation-probe", abstract: "Print, for each row, whether this user's socket() succeeds.", shouldDisplay: false)

    func run() {
        for line in SocketTypes.creationReport() { print(line) }
    }
}
