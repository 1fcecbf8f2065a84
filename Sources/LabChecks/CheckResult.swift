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
