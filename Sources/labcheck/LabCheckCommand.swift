import ArgumentParser
import Foundation
import LabChecks
import ToolSupport

@main
struct LabCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labcheck",
        abstract: "Check yourself: your answers against your own capture, or your server as a black box.",
        discussion: """
            labcheck list                                   the labs it knows
            labcheck 01|02|03|04 [--capture FILE] [--answers FILE]  a question lab: the true answers \
            come from your capture (without --capture it makes one, which needs root or \
            CAP_NET_RAW); your answers file is TOML: `key = value` lines, as in the lab's \
            answers.toml
            labcheck 05|06|12 --server "CMD" --port P [--auth USER:PASS]  a server lab: runs CMD (any \
            language), tests it as a black box while capturing, stops it
            One line per question or check: pass, or FAIL with a hint. For autograders: --json \
            prints one JSON document instead; --junit FILE and --gradescope FILE write JUnit XML \
            and Gradescope's results.json as well. Exit codes: 0 all passed; 1 something failed; \
            2 bad input (a missing or malformed file, an unknown lab).
            """)

    @Argument(help: "A lab number (01, 05) or `list`.")
    var lab: String
    @Option(help: "Your capture (pcap or pcapng) for a question lab.")
    var capture: String?
    @Option(help: "Your answers file (default: answers.toml here).")
    var answers = "answers.toml"
    @Option(help: "For lab 03: your `udp-vs-tcp --json` results; lab 07: `talk connect --measure N --nagle on --json`; lab 11: `ipc-compare --json`.")
    var results: String?
    @Option(help: "For lab 11: your `socket-types --json` results.")
    var types: String?
    @Flag(help: "For the instructor: print the right answers for the capture, as a filled-in answers file.")
    var solution = false
    @Option(help: "For a server lab: the command that starts your server, e.g. \"python3 echo.py 9000\".")
    var server: String?
    @Option(help: "For a server lab: the port your server listens on (1024 to 65535).")
    var port: UInt16?
    @Flag(help: "For a server lab: run your server as root. Without it, under sudo it runs as you, and as nobody when labcheck is root without sudo.")
    var asRoot = false
    @Option(help: "For lab 12: the login your proxy requires, USER:PASS (then the login checks run too).")
    var auth: String?
    @Flag(help: "One JSON document with every check instead of the lines (for scripts and autograders).")
    var json = false
    @Option(help: "Also write the results as JUnit XML to FILE (for CI-based classrooms).")
    var junit: String?
    @Option(help: "Also write the results as Gradescope's results.json to FILE.")
    var gradescope: String?
    @Flag(help: "With `list`: the table of Labs/README.md, in Markdown.")
    var markdown = false

    func run() throws {
        if lab == "list" {
            if markdown { print(LabRegistry.markdownTable); return }
            for lab in LabRegistry.all { print("\(lab.number)  \(lab.title)  (Labs/\(lab.slug), \(lab.kind.rawValue))") }
            return
        }
        guard let chosen = LabRegistry.lab(lab) else {
            throw ValidationError("no lab \(lab.debugDescription): labcheck list shows the labs")
        }
        var request = LabRequest()
        request.capture = capture
        request.answers = answers
        request.results = results
        request.types = types
        request.solution = solution
        request.server = server
        request.port = port
        request.asRoot = asRoot
        request.login = auth
        let outcome: LabOutcome
        do {
            // Progress goes to standard error when the output is JSON, so the document stays whole.
            outcome = try chosen.run(request) { line in
                if json { var standardError = StandardError(); print(line, to: &standardError) } else { print(line) }
            }
        } catch let problem as any LabBadInput {
            // A capture without what the lab asks about is bad input (exit 2), not a failed check.
            throw ValidationError(problem.description)
        }
        switch outcome {
        case .solution(let text):
            print(text, terminator: "")
        case .checked(let results, let capture):
            let report = LabReport(lab: chosen, results: results)
            if let junit { try write(report.junit, to: junit) }
            if let gradescope { try write(report.gradescope.text + "\n", to: gradescope) }
            if json {
                print(report.json.text)
            } else {
                for line in report.lines { print(line) }
                if !report.allPassed, let capture, FileManager.default.fileExists(atPath: capture) {
                    print("the capture is in \(capture): inspector read \(capture)")
                }
            }
            if !report.allPassed { throw ExitCode(.failure) }
        }
    }

    func validate() throws {
        if let port, port < 1024 {
            throw ValidationError(port == 0 ? "--port 0 is not a port a server can be tested on: give the port your server listens on"
                                            : "--port \(port): ports below 1024 need root, and your server does not run as root; use 1024 to 65535")
        }
    }

    func write(_ text: String, to path: String) throws {
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func main() { runAsSocketLabTool() }
}
