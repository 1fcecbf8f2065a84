import ArgumentParser
import Foundation
import LabKit
import ToolSupport

@main
struct LabCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labcheck",
        abstract: "Check yourself: your answers against your own capture, or your server as a black box.",
        discussion: """
            labcheck list                                   the labs it knows
            labcheck 01 [--capture FILE] [--answers FILE]   a question lab: the true answers \
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
    @Option(help: "For a server lab: the command that starts your server, e.g. \"python3 echo.py 9000\".")
    var server: String?
    @Option(help: "For a server lab: the port your server listens on.")
    var port: UInt16?

    func run() throws {
        switch lab {
        case "list":
            for info in Labs.all { print("\(info.number)  \(info.title)  (Labs/\(info.slug), \(info.kind))") }
        case "01", "1":
            let path: String
            if let capture {
                path = capture
            } else {
                path = "labcheck-01.pcap"
                print("labcheck: no --capture given; capturing a connection and a refused one into \(path)")
                try Lab01.makeCapture(to: path)
            }
            let truth = try Lab01.truth(from: path)
            guard let text = try? String(contentsOfFile: answers, encoding: .utf8) else {
                throw ValidationError("cannot read the answers file \(answers): copy Labs/01-tcp-handshake/answers.toml here and fill it in")
            }
            let parsed: Answers
            do { parsed = try Answers(parsing: text) } catch { throw ValidationError("\(answers): \(error)") }
            try finish(Lab01.check(parsed, against: truth), capture: path)
        case "05", "5":
            guard let server, let port else { throw ValidationError("lab 05 needs --server \"CMD\" and --port P") }
            let results = Lab05.run(Lab05.Options(command: server, port: port)) { print($0) }
            try finish(results, capture: "labcheck-05.pcap")
        case "06", "6":
            guard let server, let port else { throw ValidationError("lab 06 needs --server \"CMD\" and --port P") }
            let results = Lab06.run(Lab06.Options(command: server, port: port)) { print($0) }
            try finish(results, capture: "labcheck-06.pcap")
        default:
            throw ValidationError("no lab \(lab.debugDescription): labcheck list shows the labs")
        }
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
