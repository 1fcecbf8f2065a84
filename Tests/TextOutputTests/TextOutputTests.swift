import Foundation
import Testing
import TextOutput

/// The one JSON writer and the one colour rule every tool uses.
@Suite("what every tool writes with")
struct TextOutputTests {
    @Test("JSON keeps keys in order, escapes what RFC 8259 says, and writes no NaN")
    func json() throws {
        let value = JSON.object([
            ("kind", "step"), ("call", .string("send(\"GET /\r\n\")\u{1}")), ("n", .integer(3)),
            ("rtt", .decimal(0.000123456, places: 6)), ("lost", .optional(nil as Int?)), ("nan", .decimal(.nan, places: 2)),
            ("ok", true), ("list", .array([.integer(-1), .decimal(-2.5, places: 1)])),
        ])
        let text = value.text
        #expect(text.hasPrefix(#"{"kind":"step","call":"send(\"GET /\r\n\")\u0001","n":3,"rtt":0.000123,"#))
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(parsed["call"] as? String == "send(\"GET /\r\n\")\u{1}")
        #expect(parsed["nan"] is NSNull)
        #expect(parsed["lost"] is NSNull)
        #expect((parsed["list"] as? [Double]) == [-1, -2.5])
    }

    @Test("colour only on a terminal, without NO_COLOR, with a TERM that is not dumb, and no --no-color")
    func colorRule() {
        func rule(flag: Bool = false, tty: Bool = true, _ environment: [String: String] = ["TERM": "xterm-256color"]) -> Bool {
            ColorRule.enabled(noColorFlag: flag, isTerminal: tty, environment: { environment[$0] })
        }
        #expect(rule())
        #expect(!rule(flag: true))
        #expect(!rule(tty: false), "a pipe, a file, an autograder")
        #expect(!rule(["TERM": "xterm", "NO_COLOR": "1"]))
        #expect(rule(["TERM": "xterm", "NO_COLOR": ""]), "no-color.org: an empty NO_COLOR does not count")
        #expect(!rule(["TERM": "dumb"]))
        #expect(!rule([:]), "no TERM at all: not a terminal that draws colour")
    }
}

@Test func notesWrapAtSpacesWithAHangingIndent() {
    let lines = TerminalWidth.wrap("SYN — the client asks to open a connection and picks its initial sequence number", width: 30, indent: "  ")
    #expect(lines.allSatisfy { $0.count <= 30 }, "\(lines)")
    #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("  ") })
    #expect(lines.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") == "SYN — the client asks to open a connection and picks its initial sequence number")
    #expect(TerminalWidth.wrap("short", width: 80) == ["short"])
}
