/// What every lab check shares: the verdict on one question or one black-box check, and the
/// report a student reads (one line each; a hint that teaches under each failure).
public struct CheckResult: Sendable {
    public enum Verdict: String, Sendable { case pass, fail, skipped }
    /// "Q3" or "small echo".
    public var name: String
    public var verdict: Verdict
    /// What was expected and what was found, or for a black-box check the evidence.
    public var detail: String
    /// For a failure: what the mistake usually is and how to see the right answer.
    public var hint: String?

    public static func pass(_ name: String, _ detail: String) -> CheckResult {
        CheckResult(name: name, verdict: .pass, detail: detail, hint: nil)
    }
    public static func fail(_ name: String, _ detail: String, hint: String) -> CheckResult {
        CheckResult(name: name, verdict: .fail, detail: detail, hint: hint)
    }
    public static func skipped(_ name: String, _ why: String) -> CheckResult {
        CheckResult(name: name, verdict: .skipped, detail: why, hint: nil)
    }

    /// A failed check as an error, for code that stops at the first one.
    struct Failure: Error {
        let result: CheckResult
        init(_ result: CheckResult) { self.result = result }
    }
}

/// One numbered lab as labcheck knows it.
public struct LabInfo: Sendable {
    public var number: String
    public var slug: String
    public var title: String
    /// "questions" (answers checked against a capture) or "server" (a program tested as a black box).
    public var kind: String
}

public enum Labs {
    public static let all: [LabInfo] = [
        LabInfo(number: "01", slug: "01-tcp-handshake", title: "The TCP three-way handshake", kind: "questions"),
        LabInfo(number: "02", slug: "02-data-and-teardown", title: "Data and teardown", kind: "questions"),
        LabInfo(number: "03", slug: "03-udp-vs-tcp", title: "UDP against TCP", kind: "questions"),
        LabInfo(number: "04", slug: "04-icmp-and-raw-sockets", title: "ICMP and raw sockets", kind: "questions"),
        LabInfo(number: "05", slug: "05-echo-server", title: "Write an echo server (any language)", kind: "server"),
        LabInfo(number: "06", slug: "06-chat-server", title: "A chat server with poll/select (any language)", kind: "server"),
    ]

    /// The lines labcheck prints, and whether everything passed.
    public static func report(_ results: [CheckResult]) -> (lines: [String], passed: Bool) {
        var lines: [String] = []
        for result in results {
            let mark = switch result.verdict { case .pass: "pass"; case .fail: "FAIL"; case .skipped: "skip" }
            lines.append("\(mark)  \(result.name): \(result.detail)")
            if let hint = result.hint { lines.append("      hint: \(hint)") }
        }
        let failed = results.filter { $0.verdict == .fail }.count
        let passed = results.filter { $0.verdict == .pass }.count
        lines.append("")
        lines.append(failed == 0 ? "all \(passed) checks passed" + (results.count > passed ? " (\(results.count - passed) skipped)" : "")
                                 : "\(failed) of \(results.count) checks failed")
        return (lines, failed == 0)
    }
}

/// A capture that lacks what a question lab asks about (no handshake, no ICMP echo…): bad
/// input, which labcheck reports with exit code 2.
public protocol LabCaptureProblem: Error, CustomStringConvertible {}
