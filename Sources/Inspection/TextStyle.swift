import Packets
import TextOutput

/// Colours for a terminal, chosen to read on a white projector as on a dark terminal: every
/// segment of the handshake (the last ACK too) green, of the teardown (the last ACK too)
/// magenta, resets and analysis verdicts red, headings bold; notes in the terminal's own
/// colour (light cyan vanished on white). Off when the output is not a terminal, when
/// NO_COLOR is set, and with `--no-color`. `width`: wrap notes to it (a terminal), or nil
/// (a pipe: one line per note).
struct TextStyle {
    var enabled: Bool
    var width: Int? = nil

    private func paint(_ code: String, _ text: String) -> String {
        enabled ? "\u{1B}[" + code + "m" + text + "\u{1B}[0m" : text
    }

    func note(_ text: String) -> String { text }
    func warning(_ text: String) -> String { paint("31", text) }
    func heading(_ text: String) -> String { paint("1", text) }

    /// A note's lines after `lead` (what goes before its first line, counted for the width):
    /// wrapped with a hanging indent under its first word on a terminal, one line otherwise.
    func noteLines(_ text: String, lead: String, continuation: String) -> [String] {
        guard let width else { return [lead + note(text)] }
        let lines = TerminalWidth.wrap(text, width: width - lead.count)
        return lines.enumerated().map { (index, line) in (index == 0 ? lead : continuation) + note(line) }
    }

    /// The colour of a segment's line, by its role in the connection's life.
    func segment(_ text: String, flags: TCPFlags, analysis: AnalysisFlags, events: [SegmentEvent] = []) -> String {
        guard enabled else { return text }
        if flags.contains(.rst) || !analysis.isEmpty { return paint("31", text) }
        if flags.contains(.syn) || events.contains(where: { if case .established = $0 { true } else { false } }) { return paint("1;32", text) }
        if flags.contains(.fin) || events.contains(where: { if case .closed = $0 { true } else { false } }) { return paint("1;35", text) }
        return text
    }
}
