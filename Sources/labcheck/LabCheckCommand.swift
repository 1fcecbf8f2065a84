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
            labcheck 05|06 --server "CMD" --port P          a server lab: runs CMD (any \
            language), tests it as a black box while capturing, stops it
            One line per question or check: pass, or FAIL with a hint. Exit codes: 0 all \
            passed; 1 something failed; 2 bad input (a missing or malformed file, an unknown lab).
            """)

    @Argument(help: "A lab number (01, 05) or `list`.")
    var lab: String
    @Option(help: "Your capture (pcap or pcapng) for a question lab.")
    var capture: String?
    @Option(help: "Your answers file (default: answers.toml here).")
    var answers = "answers.toml"
    @Option(help: "For lab 03: your `udp-vs-tcp --json` results.")
    var results: String?
    @Flag(help: "For the instructor: print the right answers for the capture, as a filled-in answers file.")
    var solution = false
    @Option(help: "For a server lab: the command that starts your server, e.g. \"python3 echo.py 9000\".")
    var server: String?
    @Option(help: "For a server lab: the port your server listens on.")
    var port: UInt16?

    func run() throws {
        do {
            try check()
        } catch let problem as any LabCaptureProblem {
            // A capture without what the lab asks about is bad input (exit 2), not a failed check.
            throw ValidationError(problem.description)
        }
    }

    func check() throws {
        switch lab {
        case "list":
            for info in Labs.all { print("\(info.number)  \(info.title)  (Labs/\(info.slug), \(info.kind))") }
        case "01", "1":
            let path = try captureFile(default: "labcheck-01.pcap", make: Lab01.makeCapture)
            if solution { print(Lab01.answersFile(for: try Lab01.truth(from: path)), terminator: ""); return }
            try finish(Lab01.check(try readAnswers(lab: "01-tcp-handshake"), against: try Lab01.truth(from: path)), capture: path)
        case "02", "2":
            let path = try captureFile(default: "labcheck-02.pcap", make: Lab02.makeCapture)
            if solution { print(Lab02.answersFile(for: try Lab02.truth(from: path)), terminator: ""); return }
            try finish(Lab02.check(try readAnswers(lab: "02-data-and-teardown"), against: try Lab02.truth(from: path)), capture: path)
        case "03", "3":
            let path = try captureFile(default: "labcheck-03.pcap", make: Lab03.makeCapture)
            let truth = try Lab03.truth(from: path, results: results)
            if solution { print(Lab03.answersFile(for: truth), terminator: ""); return }
            try finish(Lab03.check(try readAnswers(lab: "03-udp-vs-tcp"), against: truth), capture: path)
        case "04", "4":
            let path = try captureFile(default: "labcheck-04.pcap", make: Lab04.makeCapture)
            if solution { print(Lab04.answersFile(for: try Lab04.truth(from: path)), terminator: ""); return }
            try finish(Lab04.check(try readAnswers(lab: "04-icmp-and-raw-sockets"), against: try Lab04.truth(from: path)), capture: path)
        case "05", "5":
            guard let server, let port else { throw ValidationError("lab 05 needs --server \"CMD\" and --port P") }
            let results = Lab05.run(Lab05.options(command: server, port: port)) { print($0) }
            try finish(results, capture: "labcheck-05.pcap")
        case "06", "6":
            guard let server, let port else { throw ValidationError("lab 06 needs --server \"CMD\" and --port P") }
            let results = Lab06.run(Lab06.options(command: server, port: port)) { print($0) }
            try finish(results, capture: "labcheck-06.pcap")
        default:
            throw ValidationError("no lab \(lab.debugDescription): labcheck list shows the labs")
        }
    }

    /// --capture, or a capture labcheck makes itself (which needs the capture privilege).
    func captureFile(default path: String, make: (String) throws -> Void) throws -> String {
        if let capture { return capture }
        var standardError = StandardError()
        print("labcheck: no --capture given; making the capture the handout asks for in \(path)", to: &standardError)
        try make(path)
        return path
    }

    func readAnswers(lab slug: String) throws -> Answers {
        guard let text = try? String(contentsOfFile: answers, encoding: .utf8) else {
            throw ValidationError("cannot read the answers file \(answers): copy Labs/\(slug)/answers.toml here and fill it in")
        }
        do { return try Answers(parsing: text) } catch { throw ValidationError("\(answers): \(error)") }
    }

    func finish(_ results: [CheckResult], capture: String) throws {
        let (lines, passed) = Labs.report(results)
        for line in lines { print(line) }
        if !passed {
            if FileManager.default.fileExists(atPath: capture) { print("the capture is in \(capture): inspector read \(capture)") }
            throw ExitCode(1)
        }
    }

    static func main() { runAsSocketLabTool() }
}
