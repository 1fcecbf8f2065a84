import Testing
@testable import LabChecks

/// The answers file a student fills in: the TOML subset labcheck reads, and the errors it gives.
@Test func answersFilesReadLikeTheTemplate() throws {
    let answers = try Answers(parsing: """
        # Lab 01
        client_address = "127.0.0.1"   # a comment after a value
        client_port = 41_978
        syn_flags = "SYN # not a comment"
        half_close = true

        """)
    #expect(answers["client_address"] == .string("127.0.0.1"))
    #expect(answers["client_port"] == .integer(41978))
    #expect(answers["syn_flags"] == .string("SYN # not a comment"))
    #expect(answers["half_close"] == .boolean(true))
    #expect(answers["missing"] == nil)
}

@Test func aMalformedAnswersFileNamesTheLine() {
    #expect(throws: Answers.SyntaxError.self) { try Answers(parsing: "a = 1\nsyn_isn = twelve\n") }
    do {
        _ = try Answers(parsing: "a = 1\nsyn_isn = twelve\n")
    } catch {
        #expect(error.line == 2)
        #expect(error.description.contains("\"twelve\" is not a number"))
    }
    #expect(throws: Answers.SyntaxError.self) { try Answers(parsing: "just words\n") }
}
