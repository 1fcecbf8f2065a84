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

/// What a student writes for a number is read as the number it means (issue 21).
@Test func numbersAreReadHoweverTheyAreWritten() throws {
    let answers = try Answers(parsing: """
        rtt = 25.107
        quoted = "25"
        quoted_decimal = "25.5"
        hex = 0x1fc5
        hex_text = "0x1FC5"
        bare_hex = "1fc5"
        whole = 25.0
        underscores = 1_000_000
        empty = ""
        flag = true

        """)
    #expect(answers.number("rtt") == 25.107)
    #expect(answers.integer("rtt") == nil, "25.107 is not a whole number")
    #expect(answers.integer("quoted") == 25 && answers.number("quoted_decimal") == 25.5)
    #expect(answers.integer("hex") == 0x1fc5 && answers.hexInteger("hex_text") == 0x1fc5 && answers.hexInteger("bare_hex") == 0x1fc5)
    #expect(answers.integer("whole") == 25 && answers.integer("underscores") == 1_000_000)
    #expect(answers.number("empty") == nil && answers.number("flag") == nil)
}

@Test func aValueOfTheWrongTypeSaysWhatToWrite() throws {
    let answers = try Answers(parsing: "count = 25.4\nflag = true\nleft = \"\"\n")
    #expect(answers.unanswered("Q", "count", expecting: .wholeNumber).detail.contains("is not a whole number"))
    #expect(answers.unanswered("Q", "flag", expecting: .number).hint?.contains("without quotes") == true)
    #expect(answers.unanswered("Q", "left", expecting: .number).detail == "left is not answered")
    #expect(answers.unanswered("Q", "absent", expecting: .number).detail.contains("not in the answers file"))
}
