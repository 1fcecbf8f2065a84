import Packets

/// Colours for a terminal: opening segments green, closing ones yellow, resets and analysis
/// verdicts red, notes in cyan, so a student's eye finds the handshake in a screenful. Off
/// when the output is not a terminal, when NO_COLOR is set, and with `--no-color`.
struct TextStyle {
    var enabled: Bool

    private func paint(_ code: String, _ text: String) -> String {
        enabled ? "\u{1B}[" + code + "m" + text + "\u{1B}[0m" : text
    }

    func note(_ text: String) -> String { paint("36", text) }
    func warning(_ text: String) -> String { paint("31", text) }
    func heading(_ text: String) -> String { paint("1", text) }

    /// The colour of a segment's line, by what it does to the connection.
    func segment(_ text: String, flags: TCPFlags, analysis: AnalysisFlags) -> String {
        guard enabled else { return text }
        if flags.contains(.rst) || !analysis.isEmpty { return paint("31", text) }
        if flags.contains(.syn) { return paint("32", text) }
        if flags.contains(.fin) { return paint("33", text) }
        return text
    }
}
