import TextOutput

/// A lab's verdicts in the forms their readers want: lines for the student, one JSON
/// document for a script, JUnit XML for CI-based classrooms, and Gradescope's results.json
/// for the autograder instructors use. Every form says the same: one entry per check, its
/// verdict, its evidence and its hint.
public struct LabReport: Sendable {
    public var lab: any Lab.Type
    public var results: [CheckResult]

    public init(lab: any Lab.Type, results: [CheckResult]) {
        self.lab = lab
        self.results = results
    }

    public var passed: Int { results.filter { $0.verdict == .pass }.count }
    public var failed: Int { results.filter { $0.verdict == .fail }.count }
    public var skipped: Int { results.filter { $0.verdict == .skipped }.count }
    public var allPassed: Bool { failed == 0 }

    /// One line per check — pass, FAIL with the hint under it, or skip — and the count.
    public var lines: [String] {
        var lines: [String] = []
        for result in results {
            let mark = switch result.verdict { case .pass: "pass"; case .fail: "FAIL"; case .skipped: "skip" }
            lines.append("\(mark)  \(result.name): \(result.detail)")
            if let hint = result.hint { lines.append("      hint: \(hint)") }
        }
        lines.append("")
        lines.append(summary)
        return lines
    }

    public var summary: String {
        failed == 0 ? "all \(passed) checks passed" + (skipped > 0 ? " (\(skipped) skipped)" : "")
                    : "\(failed) of \(results.count) checks failed"
    }

    /// `{"lab": "01", "title": …, "passed": true, "counts": {…}, "checks": [{…}]}`.
    public var json: JSON {
        .object([
            ("lab", .string(lab.number)),
            ("title", .string(lab.title)),
            ("passed", .bool(allPassed)),
            ("counts", .object([("pass", .integer(passed)), ("fail", .integer(failed)), ("skipped", .integer(skipped))])),
            ("checks", .array(results.map { result in
                .object([
                    ("name", .string(result.name)),
                    ("verdict", .string(result.verdict.rawValue)),
                    ("detail", .string(result.detail)),
                    ("hint", .optional(result.hint)),
                ])
            })),
        ])
    }

    /// JUnit XML (the schema Jenkins, GitLab and GitHub's test reporters read): one
    /// testsuite for the lab, one testcase per check; a failure carries the evidence as its
    /// message and the hint as its text.
    public var junit: String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites tests=\"\(results.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\">\n"
        xml += "  <testsuite name=\"\(Self.xml("labcheck \(lab.number): \(lab.title)"))\" tests=\"\(results.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\" errors=\"0\">\n"
        for result in results {
            let open = "    <testcase classname=\"labcheck.lab\(lab.number)\" name=\"\(Self.xml(result.name))\""
            switch result.verdict {
            case .pass:
                xml += open + ">\n      <system-out>\(Self.xml(result.detail))</system-out>\n    </testcase>\n"
            case .fail:
                xml += open + ">\n      <failure message=\"\(Self.xml(result.detail))\">\(Self.xml(result.hint ?? ""))</failure>\n    </testcase>\n"
            case .skipped:
                xml += open + ">\n      <skipped message=\"\(Self.xml(result.detail))\"/>\n    </testcase>\n"
            }
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    /// Gradescope's results.json: one point per check that ran; a skipped check (it could
    /// not run, e.g. without the capture privilege) is worth nothing either way and says why.
    public var gradescope: JSON {
        .object([
            ("score", .integer(passed)),
            ("max_score", .integer(passed + failed)),
            ("output", .string(summary)),
            ("tests", .array(results.map { result in
                var output = result.detail
                if let hint = result.hint { output += "\nhint: \(hint)" }
                return .object([
                    ("name", .string(result.name)),
                    ("score", .integer(result.verdict == .pass ? 1 : 0)),
                    ("max_score", .integer(result.verdict == .skipped ? 0 : 1)),
                    ("status", .string(result.verdict == .fail ? "failed" : "passed")),
                    ("output", .string(output)),
                ])
            })),
        ])
    }

    /// Text for XML attributes and elements: the five predefined entities, and control
    /// characters (which XML 1.0 forbids) as U+FFFD, so a student's odd output cannot break
    /// the file a CI system parses.
    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default: if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
