import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import LabChecks

/// The repository's root, from this file's place in it.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// One registry says which labs exist; labcheck, its list and the Labs/ table follow it.
@Suite("the lab registry and the result formats")
struct RegistryTests {
    @Test("every lab in the registry has its folder and handout under Labs/, in number order")
    func everyLabHasAFolder() {
        let numbers = LabRegistry.all.map { $0.number }
        // The curriculum of DESIGN.md, whole: every number once, in order.
        #expect(numbers == (1...12).map { $0 < 10 ? "0\($0)" : "\($0)" })
        for lab in LabRegistry.all {
            let (number, slug, kind) = (lab.number, lab.slug, lab.kind)
            let folder = repository.appendingPathComponent("Labs/\(slug)")
            #expect(slug.hasPrefix(number + "-"))
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("README.md").path), "Labs/\(slug)/README.md")
            if kind == .questions {
                #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("answers.toml").path), "Labs/\(slug)/answers.toml")
            }
        }
    }

    @Test("Labs/README.md's table is the registry's (labcheck list --markdown makes it)")
    func readmeTableComesFromTheRegistry() throws {
        let readme = try String(contentsOf: repository.appendingPathComponent("Labs/README.md"), encoding: .utf8)
        #expect(readme.contains(LabRegistry.markdownTable + "\n"), "run `labcheck list --markdown` and paste it into Labs/README.md")
    }

    @Test("labcheck finds a lab by 1 or 01, and no lab by a number it does not have")
    func lookUp() {
        let one = LabRegistry.lab("1").map { $0.number }
        let six = LabRegistry.lab("06").map { $0.kind }
        let missing = [LabRegistry.lab("99"), LabRegistry.lab("one")].map { $0 == nil }
        #expect(one == "01")
        #expect(six == .server)
        #expect(missing == [true, true])
    }

    static let sample = LabReport(lab: Lab01.self, results: [
        .pass("Q1 client and server", "client 127.0.0.1:41978"),
        .fail("Q2 SYN's <ISN>", "your answer is 0 & \"relative\"", hint: "use --absolute"),
        .skipped("closes with FIN", "needs a capture"),
    ])

    @Test("the text report puts the hint under the failure and counts what failed")
    func textReport() {
        let lines = Self.sample.lines
        #expect(lines.contains("FAIL  Q2 SYN's <ISN>: your answer is 0 & \"relative\""))
        #expect(lines.contains("      hint: use --absolute"))
        #expect(lines.last == "1 of 3 checks failed")
    }

    @Test("--json is one document a script can parse, with every check and its verdict")
    func jsonReport() throws {
        let object = try #require(JSONSerialization.jsonObject(with: Data(Self.sample.json.text.utf8)) as? [String: Any])
        #expect(object["lab"] as? String == "01")
        #expect(object["passed"] as? Bool == false)
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.map { $0["verdict"] as? String } == ["pass", "fail", "skipped"])
        #expect(checks[1]["detail"] as? String == "your answer is 0 & \"relative\"")
        #expect(checks[0]["hint"] is NSNull)
    }

    @Test("--junit writes XML a CI system parses: one testcase per check, failures and skips marked")
    func junitReport() throws {
        final class Counter: NSObject, XMLParserDelegate {
            var elements: [String: Int] = [:]
            var failureMessage: String?
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
                elements[name, default: 0] += 1
                if name == "failure" { failureMessage = attributes["message"] }
            }
        }
        let parser = XMLParser(data: Data(Self.sample.junit.utf8))
        let counter = Counter()
        parser.delegate = counter
        #expect(parser.parse(), "\(parser.parserError.map(String.init(describing:)) ?? "")")
        #expect(counter.elements["testcase"] == 3)
        #expect(counter.elements["failure"] == 1)
        #expect(counter.elements["skipped"] == 1)
        #expect(counter.failureMessage == "your answer is 0 & \"relative\"")
    }

    @Test("--gradescope gives a point per check that ran, none for a skip either way")
    func gradescopeReport() throws {
        let object = try #require(JSONSerialization.jsonObject(with: Data(Self.sample.gradescope.text.utf8)) as? [String: Any])
        #expect(object["score"] as? Int == 1)
        #expect(object["max_score"] as? Int == 2)
        let tests = try #require(object["tests"] as? [[String: Any]])
        #expect(tests.map { $0["max_score"] as? Int } == [1, 1, 0])
        #expect((tests[1]["output"] as? String)?.contains("hint: use --absolute") == true)
    }

    @Test("a control character in a student's output cannot break the XML")
    func xmlEscaping() {
        #expect(LabReport.xml("a\u{1}b<c>") == "a\u{FFFD}b&lt;c&gt;")
    }
}

/// Facts the handouts once had wrong, kept right (issue 21's walk-through found them).
@Suite("the handouts' facts")
struct HandoutFactTests {
    func handout(_ slug: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent("Labs/\(slug)/README.md"), encoding: .utf8)
    }

    @Test("Lab 04: an ICMP error quotes at least 8 bytes of data (RFC 792), Linux all that fits")
    func icmpQuote() throws {
        let text = try handout("04-icmp-and-raw-sockets")
        #expect(text.contains("at least the first 8 bytes"))
        #expect(!text.contains("header and the first 8 bytes of\nthe datagram"))
    }

    @Test("Lab 06: a slow reader fills its receive buffer, not its receive window")
    func receiveBuffer() throws {
        let text = try handout("06-chat-server")
        #expect(!text.contains("fills its receive window"))
        #expect(text.contains("receive buffer"))
    }

    @Test("Lab 06: the protocol says what the sender gets and that QUIT closes the connection")
    func quit() throws {
        let text = try handout("06-chat-server")
        #expect(text.contains("| the sender gets |"))
        #expect(text.contains("the server closes the connection"))
    }

    @Test("Lab 01 is answered from a view without the explanations (the inspector's prose prints the answers)")
    func lab01AnswersFromFields() throws {
        let text = try handout("01-tcp-handshake")
        let answerStep = try #require(text.range(of: "Answer from these lines"))
        #expect(text[..<answerStep.lowerBound].contains("capture read lab01.pcap"))
        #expect(text.contains("Before you look: from the SYN's sequence number, predict"))
    }

    @Test("every live capture a handout asks for has a filter, so other loopback traffic stays out of the student's capture")
    func liveCapturesAreFiltered() throws {
        for slug in ["01-tcp-handshake", "02-data-and-teardown", "03-udp-vs-tcp", "04-icmp-and-raw-sockets", "05-echo-server", "06-chat-server"] {
            let text = try handout(slug)
            for line in text.split(separator: "\n") where line.contains("inspector live") {
                #expect(line.contains(" -f "), "Labs/\(slug): \(line)")
            }
        }
    }

    @Test("the students' lab list does not advertise --solution (it is the instructor's)")
    func noSolutionForStudents() throws {
        let text = try String(contentsOf: repository.appendingPathComponent("Labs/README.md"), encoding: .utf8)
        #expect(!text.contains("--solution"))
    }
}
