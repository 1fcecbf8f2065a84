import ArgumentParser
import LabEngines
import LabHost
import SocketCore
import ToolSupport

@main
struct UDPvsTCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "udp-vs-tcp",
        abstract: "The same workloads over TCP and UDP, side by side: boundaries, loss and order, cost, latency, throughput.",
        discussion: """
            Sends mixed-size messages (what does each receive return?), numbered messages (how \
            many arrive, twice, out of order?), request/response pairs (latency p50/p99) and a \
            bulk transfer (throughput) over TCP and over UDP, captures the traffic and counts \
            bytes on the wire per payload byte and TCP's retransmissions as the inspector sees \
            them. --two-hosts runs between the network namespaces of scripts/twohosts \
            (`sudo scripts/twohosts up --loss 5`), where the loss is; without it, loopback, \
            where nothing is lost. Capturing needs root or CAP_NET_RAW; without it the wire \
            figures are left out and the table says so. Exit codes: 0 success; 2 bad usage; \
            3 a missing privilege (the two hosts need root).
            """)

    @Flag(help: "Run between slab-a (client) and slab-b (server) of scripts/twohosts.")
    var twoHosts = false
    @Option(help: "With --two-hosts: first set the loss on the link to PCT% each way (makes the two hosts if they are not up).")
    var loss: Double?
    @Option(help: "Numbered messages for the loss-and-order run.")
    var messages = 1000
    @Option(help: "Request/response round trips for the latency run.")
    var roundTrips = 500
    @Option(help: "Megabytes for the throughput run.")
    var megabytes = 20
    @Flag(help: "One JSON object instead of the table.")
    var json = false

    func validate() throws {
        try OptionRange.check(messages, 1...1_000_000, "--messages")
        try OptionRange.check(roundTrips, 1...1_000_000, "--round-trips")
        try OptionRange.check(megabytes, 1...10_000, "--megabytes")
        if let loss { try OptionRange.check(loss, 0...100, "--loss", unit: "percent") }
        if loss != nil && !twoHosts { throw ValidationError("--loss needs --two-hosts: loopback cannot lose packets") }
    }

    func run() throws {
        let spec = NamedTopology.twoHosts.spec
        if let loss {
            // The same topology `scripts/twohosts up` makes, built here if it is not up yet.
            let hosts = Topology(existing: spec).isUp ? Topology(existing: spec) : try Topology(spec, owned: false)
            try hosts.setLoss(loss)
            var standardError = StandardError()
            print("udp-vs-tcp: \(spec.summary), loss \(loss)% each way", to: &standardError)
        }
        if twoHosts && !Topology(existing: spec).isUp {
            throw ValidationError("the two hosts are not up: sudo scripts/twohosts up [--loss PCT]")
        }
        var options = UDPvsTCP.Options()
        options.twoHosts = twoHosts
        options.messages = messages
        options.roundTrips = roundTrips
        options.bulkBytes = megabytes * 1_000_000
        let result = try UDPvsTCP(options: options).run()
        for line in json ? [ComparisonReport.json(result)] : ComparisonReport.table(result) { print(line) }
    }

    static func main() { runAsSocketLabTool() }
}
