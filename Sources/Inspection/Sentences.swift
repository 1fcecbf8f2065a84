/// The words: what every view (text, ladder, JSON Lines' `note`, and the HTML to come) says
/// about the facts the tracker recorded. The analysis never composes a sentence; a view never
/// decides a fact.
public enum Sentences {
    /// The notes under a segment: what it does in the connection's life, then each analysis
    /// verdict with its numbers.
    /// `absolute`: the view shows raw sequence numbers (`--absolute`), so no note may say
    /// they are shown relative to the ISN.
    public static func notes(for report: SegmentReport, absolute: Bool = false) -> [String] {
        if report.events.isEmpty && report.facts.isEmpty && report.socks.isEmpty { return [] }
        return report.events.map { sentence($0, absolute: absolute) } + report.facts.map { sentence($0) } + report.socks.map(\.sentence)
    }

    public static func sentence(_ event: SegmentEvent, absolute: Bool = false) -> String {
        switch event {
        case .open(let client, let server, let isn, let options):
            let shown = absolute ? "shown as it is on the wire here; relative numbering would show it as 0" : "shown as 0 from now on"
            return "SYN — the client \(client) asks to open a connection to \(server) and picks its initial sequence number \(isn) (\(shown)). It offers \(options.text)."
        case .synRetransmitted(let attempt):
            return "SYN again (attempt \(attempt)) — no SYN-ACK came back, so the client retransmits its SYN with the same ISN; Linux waits 1 s, then 2 s, 4 s… before giving up with ETIMEDOUT."
        case .simultaneousOpen:
            return "SYN from the other side too — a simultaneous open: both ends called connect() at once (RFC 9293 §3.5)."
        case .accept(let ack, let isn, let offered, let client):
            var text = "SYN-ACK — the server agrees; its ACK \(ack) is the client's ISN + 1: a SYN uses one sequence number. Its own ISN is \(isn). It offers \(offered.text)."
            if client.windowScale != nil && offered.windowScale != nil {
                text += " Both offered window scaling, so from now on each side's window field is multiplied by its own factor."
            } else if client.windowScale != nil || offered.windowScale != nil {
                text += " Only one side offered window scaling, so neither scales: windows stay below 64 KiB."
            }
            if client.sackPermitted && offered.sackPermitted { text += " SACK is on: a receiver can report the blocks it holds beyond a gap." }
            if let a = client.mss, let b = offered.mss { text += " Each side will send segments of at most the other's MSS (\(b) and \(a) bytes)." }
            return text
        case .established(let rtt):
            return "ACK — handshake complete\(rtt.map { " in " + milliseconds($0) } ?? ""); both sides are now ESTABLISHED and accept() returns on the server."
        case .refused(let server):
            return "RST — nothing listens on \(server): the server's kernel refuses the connection, and the client's connect() fails with ECONNREFUSED."
        case .reset(let by):
            return "RST — the \(by.rawValue) aborts the connection: no FIN exchange, no TIME_WAIT; unread data is thrown away. (A close() with SO_LINGER set to 0 does this, and so does data arriving for a socket that is already closed.)"
        case .firstFIN(let by):
            return "FIN — the \(by.rawValue) has nothing more to send (it called close() or shutdown(SHUT_WR)); it closes first, so it is the side that will wait in TIME_WAIT."
        case .secondFIN(let by, let afterHalfClose):
            return "FIN — the \(by.rawValue) closes its direction too" + (afterHalfClose ? ", after sending more data: that was a half-close." : ".")
        case .dataAfterFIN(let closer, let sender):
            return "Data after the other side's FIN — a half-close: the \(closer.rawValue) stopped sending but still receives, so the \(sender.rawValue) goes on."
        case .closed(let firstCloser):
            return "ACK of the last FIN — the connection is closed. The \(firstCloser.rawValue) closed first and now waits in TIME_WAIT (2 × MSL) so that a late segment cannot confuse a new connection on the same ports."
        case .data(let from, let firstByte, let length):
            return "Data — \(length) bytes from the \(from.rawValue), its bytes \(firstByte)–\(firstByte &+ UInt32(truncatingIfNeeded: length) &- 1) (relative numbers); the other side acknowledges them with ACK \(firstByte &+ UInt32(truncatingIfNeeded: length))."
        case .acknowledgement(let from, let ack, let window):
            return "ACK — the \(from.rawValue) has received every byte before \(ack) of the other side's stream, and has room for \(window) more (its window)."
        }
    }

    /// "Retransmission — resends bytes first sent in frame 12, 204.1 ms earlier, not yet acknowledged."
    public static func sentence(_ fact: AnalysisFact) -> String {
        let why: String
        switch fact {
        case .zeroWindowProbe:
            why = "1 byte at the next expected sequence number while the receiver's window is 0"
        case .zeroWindow:
            why = "the sender advertises a window of 0: its receive buffer is full"
        case .lostSegment(let gap):
            why = "seq is \(gap) bytes beyond the next expected byte: the segments in between were lost before this capture point, or only the capture missed them (it cannot tell which)"
        case .keepAlive(let length):
            why = "\(length) byte\(length == 1 ? "" : "s") at one below the next sequence number: a probe to see whether the peer is still there"
        case .windowUpdate(let from, let to):
            why = "no data, same ack, window changed from \(from) to \(to)"
        case .windowFull:
            why = "the data reaches exactly the edge of the receiver's window"
        case .duplicateAck(let count, let frame):
            why = "duplicate ACK #\(count) of frame \(frame): same ack, same window, no data"
        case .ackLostSegment:
            why = "acknowledges data this capture never saw (the capture point missed it)"
        case .fastRetransmission(let duplicateAcks):
            why = "resent within 20 ms of \(duplicateAcks) duplicate ACKs asking for exactly this byte"
        case .spuriousRetransmission:
            why = "resends data whose ACK had already passed this capture point; the sender may simply not have received that ACK yet, so it is unnecessary as seen from here"
        case .outOfOrder(let threshold):
            why = "goes back in sequence space less than one RTT (\(milliseconds(threshold))) after the highest segment, so Wireshark's rule calls it reordered rather than resent; from one capture point a very quick retransmission looks the same, so this verdict is a judgement, not a certainty"
        case .retransmission(let firstFrame, let elapsed):
            why = elapsed >= 0
                ? "resends bytes first sent in frame \(firstFrame), \(milliseconds(elapsed)) earlier, not yet acknowledged"
                : "resends bytes first sent in frame \(firstFrame), not yet acknowledged (the capture's clock runs backwards here: this frame is stamped \(milliseconds(-elapsed)) before that one)"
        }
        let label = (fact.flag.name ?? "analysis").split(separator: "_").joined(separator: " ")
        return label.prefix(1).uppercased() + label.dropFirst() + " — " + why + "."
    }

    /// "204.1 ms", or "87 µs" below a millisecond.
    static func milliseconds(_ seconds: Double) -> String {
        abs(seconds) < 0.001 ? JSONLines.fixed(seconds * 1_000_000, digits: 0) + " µs"
            : JSONLines.fixed(seconds * 1000, digits: 1) + " ms"
    }
}

extension OfferedOptions {
    /// "MSS 65495, window scale 7 (windows ×128), SACK, timestamps".
    var text: String {
        var parts: [String] = []
        if let mss { parts.append("MSS \(mss)") }
        if let windowScale { parts.append("window scale \(windowScale) (windows ×\(1 << Int(min(windowScale, 14))))") }
        if sackPermitted { parts.append("SACK") }
        if timestamps { parts.append("timestamps") }
        return parts.isEmpty ? "no options" : parts.joined(separator: ", ")
    }
}
