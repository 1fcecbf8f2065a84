import ArgumentParser
import Foundation
import LabEngines
import ToolSupport

struct Scenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The whole lab by itself on a topology of its own: the pair, the client, a capture on S2, the failures one by one; then the timeline.",
        discussion: """
            For a lecture (each step is printed as it happens) and for the benchmark (--repeat). \
            It writes lab10.pcap, client.jsonl, S1.jsonl and S2.jsonl into --out. Needs root.
            """)
    @Option(help: "The failures, in order: kill, stop, freeze, cut (comma-separated).")
    var failures = "kill,stop,freeze"
    @Option(help: "Run the failures this many times.")
    var `repeat` = 1
    @Option(help: "The heartbeat interval in milliseconds.")
    var interval = 100
    @Option(help: "The folder for the capture and the logs.")
    var out = "lab10"
    @Flag(help: "The timeline as one JSON object.")
    var json = false

    func validate() throws {
        try OptionRange.check(`repeat`, 1...100, "--repeat")
        try OptionRange.check(interval, 10...10_000, "--interval", unit: "ms")
        for name in failures.split(separator: ",") where FailoverScenario.Failure(rawValue: String(name)) == nil {
            throw ValidationError("--failures: \(name) is not a failure the lab knows: use kill, stop, freeze or cut")
        }
    }

    func run() throws {
        let standby = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var options = FailoverScenario.Options(standby: standby, capture: out + "/lab10.pcap", clientLog: out + "/client.jsonl", folder: out)
        options.intervalMilliseconds = interval
        let list = failures.split(separator: ",").compactMap { FailoverScenario.Failure(rawValue: String($0)) }
        options.failures = Array(repeatElement(list, count: `repeat`).joined())
        let json = self.json
        let scenario = try FailoverScenario(options) { if !json { output("scenario: \($0)") } }
        let timeline = try scenario.run()
        output(json ? timeline.json.text : timeline.text)
    }
}
