import PacketCapture

/// What kind of check a lab has: questions answered from the student's own capture, or the
/// student's own server tested as a black box.
public enum LabKind: String, Sendable {
    case questions
    case server
}

/// What labcheck was asked to do, as its options say it.
public struct LabRequest: Sendable {
    /// The student's capture; nil: the lab makes the capture the handout asks for.
    public var capture: String?
    public var answers = "answers.toml"
    /// Lab 03: the student's `udp-vs-tcp --json` results; lab 11: `ipc-compare --json`.
    public var results: String?
    /// Lab 11: the student's `socket-types --json` results.
    public var types: String?
    /// Print the right answers for the capture instead of checking (for the instructor).
    public var solution = false
    /// A server lab: the command that starts the student's server, and its port.
    public var server: String?
    public var port: UInt16?
    /// Run the student's server as root (only when asked for: it is code labcheck did not write).
    public var asRoot = false
    /// Lab 12: the login the student's proxy requires, `USER:PASS`.
    public var login: String?

    public init() {}
}

/// What a lab's check produced.
public enum LabOutcome: Sendable {
    /// One verdict per question or check; `capture` names the file to look at after a failure.
    case checked([CheckResult], capture: String?)
    /// `--solution`: the right answers, as a filled-in answers file.
    case solution(String)
}

/// A capture that lacks what a question lab asks about (no handshake, no ICMP echo…), an
/// unreadable answers file, a missing option: bad input, which labcheck reports with exit 2.
public protocol LabBadInput: Error, CustomStringConvertible {}

/// One numbered lab as labcheck knows it. Everything labcheck, `labcheck list` and the table
/// in Labs/README.md say about a lab comes from here, so adding a lab is a type that conforms
/// and one line in `LabRegistry.all`.
public protocol Lab: SendableMetatype {
    /// "01".
    static var number: String { get }
    /// "01-tcp-handshake": the folder under Labs/.
    static var slug: String { get }
    static var title: String { get }
    static var kind: LabKind { get }
    /// What the lab is about, for the table: "ISNs, SYN / SYN-ACK / ACK, options…".
    static var topics: String { get }
    /// The check command the handout ends with.
    static var checkCommand: String { get }
    /// Runs the check (or makes the solution); `say` gets progress lines for the student.
    static func run(_ request: LabRequest, say: (String) -> Void) throws -> LabOutcome
}

/// A lab whose questions are answered from a capture: the truth comes from the capture, the
/// answers file is compared with it, each wrong answer gets the hint for its likely mistake.
public protocol QuestionLab: Lab {
    associatedtype Truth
    /// Makes the capture the handout asks for (needs the capture privilege) at `path`, or
    /// the next free name if it is taken; returns where it went.
    static func makeCapture(to path: String) throws -> String
    static func truth(from path: String, request: LabRequest) throws -> Truth
    static func check(_ answers: Answers, against truth: Truth) -> [CheckResult]
    static func answersFile(for truth: Truth) -> String
}

/// A lab that tests the student's own server (any language) as a black box.
public protocol ServerLab: Lab {
    static func run(_ options: ServerLabOptions, say: (String) -> Void) -> [CheckResult]
}

struct MissingInput: LabBadInput {
    let description: String
}

extension QuestionLab {
    public static var kind: LabKind { .questions }
    public static var checkCommand: String { "labcheck \(number) --capture lab\(number).pcap --answers answers.toml" }
    /// Where labcheck writes the capture it makes.
    public static var defaultCapture: String { "labcheck-\(number).pcap" }

    public static func run(_ request: LabRequest, say: (String) -> Void) throws -> LabOutcome {
        let path: String
        if let capture = request.capture {
            path = capture
        } else {
            path = try makeCapture(to: defaultCapture)
            say("labcheck: no --capture given; made the capture the handout asks for: \(path)")
        }
        let truth = try truth(from: path, request: request)
        if request.solution { return .solution(answersFile(for: truth)) }
        return .checked(check(try readAnswers(request.answers), against: truth), capture: path)
    }

    /// Runs `traffic` while capturing what `filter` matches into `path` (or the next free
    /// name: a capture a student answered from is never replaced); returns where it went.
    static func record(_ path: String, filter: String, _ traffic: () throws -> Void) throws -> String {
        var options = LiveCapture.Options()
        options.filter = filter
        options.writeTo = path
        options.writeMode = .fresh
        let recorder = try CaptureRecorder(options)
        try traffic()
        recorder.settle()
        recorder.stop()
        return recorder.capture.writtenTo ?? path
    }

    /// The student's answers file, or bad input that says how to get one.
    static func readAnswers(_ path: String) throws -> Answers {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MissingInput(description: "cannot read the answers file \(path): copy Labs/\(slug)/answers.toml here and fill it in")
        }
        do { return try Answers(parsing: text) } catch { throw MissingInput(description: "\(path): \(error)") }
    }
}

extension ServerLab {
    public static var kind: LabKind { .server }
    public static var checkCommand: String { "sudo labcheck \(number) --server \"CMD\" --port P" }

    public static func run(_ request: LabRequest, say: (String) -> Void) throws -> LabOutcome {
        guard let server = request.server, let port = request.port else {
            throw MissingInput(description: "lab \(number) needs --server \"CMD\" and --port P")
        }
        var options = ServerLabOptions(command: server, port: port, lab: number)
        if request.asRoot { options.runAs = .thisProcess }
        options.login = request.login
        // Where the capture and the log went is said by the run itself (fresh names).
        return .checked(run(options, say: say), capture: nil)
    }
}

/// Every lab labcheck knows, in order.
public enum LabRegistry {
    public static let all: [any Lab.Type] = [Lab01.self, Lab02.self, Lab03.self, Lab04.self, Lab05.self, Lab06.self, Lab07.self, Lab08.self, Lab09.self, Lab10.self, Lab11.self, Lab12.self]

    /// The lab numbered `number` ("1", "01").
    public static func lab(_ number: String) -> (any Lab.Type)? {
        guard let value = Int(number) else { return nil }
        return all.first { Int($0.number) == value }
    }

    /// The table of Labs/README.md (a test keeps the file equal to it).
    public static var markdownTable: String {
        var lines = ["| lab | what | check |", "|---|---|---|"]
        for lab in all {
            lines.append("| [\(lab.number) \(lab.title)](\(lab.slug)/README.md) | \(lab.topics) | `\(lab.checkCommand)` |")
        }
        return lines.joined(separator: "\n")
    }
}

#if canImport(Foundation)
import Foundation
#endif
