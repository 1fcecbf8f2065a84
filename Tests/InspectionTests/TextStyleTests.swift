import Packets
import Testing
@testable import Inspection

/// Colours for the lecture hall (issue 21): readable on a white projector as on a dark
/// terminal, every arrow of the handshake and of the teardown coloured by its role.
@Suite struct TextStyleTests {
    let style = TextStyle(enabled: true)
    let green = "\u{1B}[1;32m", magenta = "\u{1B}[1;35m", red = "\u{1B}[31m"

    @Test func theWholeHandshakeIsGreenItsLastACKToo() {
        #expect(style.segment("SYN", flags: .syn, analysis: []).hasPrefix(green))
        #expect(style.segment("SYN-ACK", flags: [.syn, .ack], analysis: []).hasPrefix(green))
        #expect(style.segment("ACK", flags: .ack, analysis: [], events: [.established(rtt: 0.00004)]).hasPrefix(green))
    }

    @Test func theWholeTeardownIsMagentaItsLastACKToo() {
        #expect(style.segment("FIN", flags: [.fin, .ack], analysis: []).hasPrefix(magenta))
        #expect(style.segment("ACK", flags: .ack, analysis: [], events: [.closed(firstCloser: .client)]).hasPrefix(magenta))
    }

    @Test func resetsAreRedAndPlainACKsAndNotesKeepTheTerminalsColour() {
        #expect(style.segment("RST", flags: .rst, analysis: []).hasPrefix(red))
        #expect(style.segment("ACK", flags: .ack, analysis: []) == "ACK")
        #expect(style.note("SYN — the client asks…") == "SYN — the client asks…", "no light cyan: it vanishes on white")
        #expect(TextStyle(enabled: false).segment("SYN", flags: .syn, analysis: []) == "SYN", "--no-color, NO_COLOR, a pipe")
    }
}
