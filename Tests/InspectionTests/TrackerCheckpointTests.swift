import PacketCapture
import Inspection
import Packets
import Foundation
import Testing

/// A conversation built segment by segment and fed to a real `ConnectionTracker`, the way
/// CS144's checkpoint tests drive a TCP: no network, no root, no tshark. The client is
/// 10.0.0.1:40000, the server 10.0.0.2:80; sequence numbers are written relative (the harness
/// adds each side's ISN), times in milliseconds.
struct Conversation {
    var tracker = ConnectionTracker(detail: .notable)
    var frame = 0
    var records: [ConnectionTracker.Record] = []
    /// Every frame sent and what the tracker flagged on it, for `expectTsharkAgrees()`.
    var sent: [(time: Timestamp, bytes: [UInt8], analysis: AnalysisFlags)] = []
    let clientISN: UInt32 = 1_000_000, serverISN: UInt32 = 7_000_000

    enum Side { case client, server }
    static let syn = 0x02, ack = 0x10, fin = 0x01, rst = 0x04, psh = 0x08

    /// One segment from `side`: `seq` and `ack` relative, `length` payload bytes.
    @discardableResult
    mutating func send(_ side: Side, seq: UInt32, ack: UInt32 = 0, flags: Int = Conversation.ack, length: Int = 0,
                       window: Int = 65_535, at milliseconds: Double) -> SegmentReport {
        let fromServer = side == .server
        let (ownISN, otherISN) = fromServer ? (serverISN, clientISN) : (clientISN, serverISN)
        let segment = FrameBuilder.tcp(
            sourcePort: fromServer ? 80 : 40_000, destinationPort: fromServer ? 40_000 : 80,
            seq: ownISN &+ seq, ack: flags & Self.ack != 0 ? otherISN &+ ack : 0, flags: flags, window: window,
            payload: [UInt8](repeating: 0x61, count: length))
        let bytes = FrameBuilder.ethernet(FrameBuilder.ipv4(protocol: 6, reply: fromServer, segment))
        frame += 1
        let nanoseconds = Int64(milliseconds * 1_000_000)
        let time = Timestamp(seconds: 1_700_000_000 + nanoseconds / 1_000_000_000, nanoseconds: UInt32(nanoseconds % 1_000_000_000))
        let report = tracker.add(frame: frame, time: time, packet: Packet(decoding: bytes, linkType: .ethernet))!
        records += tracker.takeRecords()
        sent.append((time, bytes, report.analysis))
        return report
    }

    /// The same frames through tshark, when it is here (CI always has it): every analysis flag
    /// on every frame must be the one tshark sets. The checkpoints then test tshark's rules, not
    /// our reading of them.
    func expectTsharkAgrees(sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard ChildProcess.locate("tshark") != nil || ProcessInfo.processInfo.environment["CI"] != nil else { return }
        let path = try temporaryDirectory("checkpoint") + "/conversation.pcap"
        let writer = try CaptureWriter(path: path, linkType: .ethernet, precision: .nanoseconds)
        for frame in sent { frame.bytes.withUnsafeBytes { writer.write(timestamp: frame.time, originalLength: frame.bytes.count, bytes: $0) } }
        try writer.flush()
        let names = AnalysisFlags.named.map(\.1)
        let (status, output) = try run(["tshark", "-r", path, "-n", "-T", "fields", "-e", "frame.number"] + names.flatMap { ["-e", "tcp.analysis.\($0)"] }, separateErrors: true)
        try #require(status == 0, "tshark could not read \(path)", sourceLocation: sourceLocation)
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard let number = Int(fields[0]), number >= 1, number <= sent.count else { continue }
            let theirs = Set(names.enumerated().filter { fields.count > $0.offset + 1 && !fields[$0.offset + 1].isEmpty }.map(\.element))
            let ours = Set(sent[number - 1].analysis.names)
            #expect(ours == theirs, "frame \(number): tshark \(theirs.sorted()), inspector \(ours.sorted())", sourceLocation: sourceLocation)
        }
    }

    /// SYN at 0 ms, SYN-ACK at 1 ms, ACK at 2 ms: both sides' next byte is 1.
    mutating func handshake() {
        send(.client, seq: 0, flags: Self.syn, at: 0)
        send(.server, seq: 0, ack: 1, flags: Self.syn | Self.ack, at: 1)
        send(.client, seq: 1, ack: 1, at: 2)
    }
}

@Suite("the tracker, checkpoint by checkpoint (hand-built segments, no root, no tshark)")
struct TrackerCheckpointTests {
    @Test("the handshake: SYN opens with the client's ISN, SYN-ACK accepts, the ACK establishes with the RTT")
    func handshakeEvents() throws {
        var c = Conversation()
        let syn = c.send(.client, seq: 0, flags: Conversation.syn, at: 0)
        let synAck = c.send(.server, seq: 0, ack: 1, flags: Conversation.syn | Conversation.ack, at: 1)
        let ack = c.send(.client, seq: 1, ack: 1, at: 2)
        guard case .open(let client, let server, let isn, _)? = syn.events.first else { Issue.record("\(syn.events)"); return }
        #expect(client.port == 40_000 && server.port == 80 && isn == c.clientISN)
        guard case .accept(let acked, let serverISN, _, _)? = synAck.events.first else { Issue.record("\(synAck.events)"); return }
        #expect(acked == c.clientISN + 1, "the SYN-ACK acknowledges ISN + 1")
        #expect(serverISN == c.serverISN)
        guard case .established(let rtt)? = ack.events.first, let rtt else { Issue.record("\(ack.events)"); return }
        #expect(abs(rtt - 0.002) < 1e-6, "from the SYN to the ACK: 2 ms")
        #expect(ack.seq == 1 && ack.ack == 1, "relative numbers, as tshark shows them")
        let handshakes = c.records.compactMap { if case .handshake(let h) = $0 { h } else { nil } }
        #expect(handshakes.map(\.state) == [.complete])
        try c.expectTsharkAgrees()
    }

    @Test("a SYN answered by RST: refused, and the record says so")
    func refused() throws {
        var c = Conversation()
        c.send(.client, seq: 0, flags: Conversation.syn, at: 0)
        let reset = c.send(.server, seq: 0, ack: 1, flags: Conversation.rst | Conversation.ack, at: 1)
        #expect(reset.events.contains { if case .refused = $0 { true } else { false } })
        let handshakes = c.records.compactMap { if case .handshake(let h) = $0 { h } else { nil } }
        #expect(handshakes.map(\.state) == [.refused])
        try c.expectTsharkAgrees()
    }

    @Test("a close: FIN from the client, FIN from the server, the last ACK — the client closed first")
    func orderlyClose() throws {
        var c = Conversation()
        c.handshake()
        let first = c.send(.client, seq: 1, ack: 1, flags: Conversation.fin | Conversation.ack, at: 10)
        let second = c.send(.server, seq: 1, ack: 2, flags: Conversation.fin | Conversation.ack, at: 11)
        let last = c.send(.client, seq: 2, ack: 2, at: 12)
        #expect(first.events == [.firstFIN(by: .client)])
        #expect(second.events == [.secondFIN(by: .server, afterHalfClose: false)])
        #expect(last.events == [.closed(firstCloser: .client)])
        let closes = c.records.compactMap { if case .close(let record) = $0 { record } else { nil } }
        #expect(closes.map(\.first) == [.client])
        #expect(closes.first?.how == .fin && closes.first?.complete == true)
        try c.expectTsharkAgrees()
    }

    @Test("a segment sent again after a timeout is a retransmission of the frame that first carried it")
    func retransmission() throws {
        var c = Conversation()
        c.handshake()
        c.send(.client, seq: 1, ack: 1, flags: Conversation.ack | Conversation.psh, length: 100, at: 10)  // frame 4
        let again = c.send(.client, seq: 1, ack: 1, flags: Conversation.ack | Conversation.psh, length: 100, at: 210)
        #expect(again.analysis == .retransmission)
        guard case .retransmission(let firstFrame, let elapsed)? = again.facts.first else { Issue.record("\(again.facts)"); return }
        #expect(firstFrame == 4)
        #expect(abs(elapsed - 0.2) < 1e-6)
        #expect(Sentences.sentence(again.facts[0]) == "Retransmission — resends bytes first sent in frame 4, 200.0 ms earlier, not yet acknowledged.")
        try c.expectTsharkAgrees()
    }

    @Test("an ACK that repeats the last one (same ack, same window, no data) is a duplicate ACK, counted")
    func duplicateAcks() throws {
        var c = Conversation()
        c.handshake()
        c.send(.client, seq: 1, ack: 1, length: 100, at: 10)
        c.send(.client, seq: 101, ack: 1, length: 100, at: 11)
        let ack = c.send(.server, seq: 1, ack: 101, at: 12)  // frame 6
        let first = c.send(.server, seq: 1, ack: 101, at: 13)
        let second = c.send(.server, seq: 1, ack: 101, at: 14)
        #expect(ack.analysis.isEmpty)
        #expect(first.facts == [.duplicateAck(count: 1, frame: 6)])
        #expect(second.facts == [.duplicateAck(count: 2, frame: 6)])
        try c.expectTsharkAgrees()
    }

    @Test("three duplicate ACKs asking for a byte, then that byte within 20 ms: a fast retransmission")
    func fastRetransmission() throws {
        var c = Conversation()
        c.handshake()
        for k in 0..<4 { c.send(.client, seq: 1 + UInt32(k) * 100, ack: 1, length: 100, at: 10 + Double(k)) }
        c.send(.server, seq: 1, ack: 101, at: 20)
        for k in 0..<3 { c.send(.server, seq: 1, ack: 101, at: 21 + Double(k)) }
        let resent = c.send(.client, seq: 101, ack: 1, length: 100, at: 25)
        #expect(resent.analysis == .fastRetransmission)
        #expect(resent.facts == [.fastRetransmission(duplicateAcks: 3)])
        try c.expectTsharkAgrees()
    }

    @Test("a full receive buffer: zero window, a one-byte probe, its ACK, then the window update that reopens it")
    func zeroWindow() throws {
        var c = Conversation()
        c.handshake()
        c.send(.client, seq: 1, ack: 1, length: 1000, at: 10)
        let full = c.send(.server, seq: 1, ack: 1001, window: 0, at: 11)
        let probe = c.send(.client, seq: 1001, ack: 1, length: 1, at: 300)
        let probeAck = c.send(.server, seq: 1, ack: 1001, window: 0, at: 301)
        let update = c.send(.server, seq: 1, ack: 1001, window: 65_535, at: 500)
        #expect(full.facts == [.zeroWindow])
        #expect(probe.facts == [.zeroWindowProbe])
        #expect(probeAck.analysis.contains(.zeroWindowProbeAck))
        #expect(update.facts == [.windowUpdate(from: 0, to: 65_535)])
        try c.expectTsharkAgrees()
    }

    @Test("on an idle connection, a segment one byte below the next sequence number is a keep-alive; its answer a keep-alive ACK")
    func keepAlive() throws {
        var c = Conversation()
        c.handshake()
        c.send(.client, seq: 1, ack: 1, length: 10, at: 10)
        c.send(.server, seq: 1, ack: 11, at: 11)
        let probe = c.send(.client, seq: 10, ack: 1, at: 1_011)
        let answer = c.send(.server, seq: 1, ack: 11, at: 1_012)
        #expect(probe.facts == [.keepAlive(length: 0)])
        #expect(answer.analysis == .keepAliveAck)
        #expect(!probe.analysis.contains(.retransmission), "a keep-alive is not a retransmission")
        try c.expectTsharkAgrees()
    }

    @Test("a capture that missed a segment: data beyond the next byte is a lost segment, with the gap")
    func lostSegment() throws {
        var c = Conversation()
        c.handshake()
        c.send(.client, seq: 1, ack: 1, length: 100, at: 10)
        let after = c.send(.client, seq: 201, ack: 1, length: 100, at: 11)  // 101..200 never seen
        #expect(after.facts == [.lostSegment(gap: 100)])
        try c.expectTsharkAgrees()
    }

    @Test("ACKs of data the capture never saw are flagged once per gap, as tshark does, not on every later ACK")
    func ackedUnseenSegment() throws {
        var c = Conversation()
        c.handshake()
        // The client's 5 bytes at 1..5 are not in the capture.
        let first = c.send(.server, seq: 1, ack: 6, at: 10)
        let data = c.send(.server, seq: 1, ack: 6, flags: Conversation.ack | Conversation.psh, length: 5, at: 11)
        let clientAck = c.send(.client, seq: 6, ack: 6, at: 12)
        let fin = c.send(.server, seq: 6, ack: 6, flags: Conversation.fin | Conversation.ack, at: 13)
        c.send(.client, seq: 6, ack: 7, flags: Conversation.fin | Conversation.ack, at: 14)
        let last = c.send(.server, seq: 7, ack: 7, at: 15)
        #expect(first.analysis.contains(.ackLostSegment))
        #expect(!data.analysis.contains(.ackLostSegment), "the same gap, the other side has sent nothing since")
        #expect(clientAck.facts == [.lostSegment(gap: 5)])
        #expect(fin.analysis.contains(.ackLostSegment), "the client has sent past the gap since: flagged again")
        #expect(!last.analysis.contains(.ackLostSegment))
        try c.expectTsharkAgrees()
    }

    @Test("a segment that goes back within one RTT of the highest is out of order, not a retransmission")
    func outOfOrder() throws {
        var c = Conversation()
        c.handshake()  // handshake RTT 2 ms
        c.send(.client, seq: 101, ack: 1, length: 100, at: 10)
        let earlier = c.send(.client, seq: 1, ack: 1, length: 100, at: 10.5)
        #expect(earlier.facts.first.map { if case .outOfOrder = $0 { true } else { false } } == true, "\(earlier.facts)")
        #expect(earlier.analysis == .outOfOrder)
        try c.expectTsharkAgrees()
    }

    @Test("data resent after its ACK had passed is a spurious retransmission")
    func spuriousRetransmission() throws {
        var c = Conversation()
        c.handshake()
        c.send(.client, seq: 1, ack: 1, length: 100, at: 10)
        c.send(.server, seq: 1, ack: 101, at: 11)
        let resent = c.send(.client, seq: 1, ack: 1, length: 100, at: 300)
        #expect(resent.facts == [.spuriousRetransmission])
        try c.expectTsharkAgrees()
    }

    @Test("data that reaches exactly the edge of the receiver's window fills it")
    func windowFull() throws {
        var c = Conversation()
        c.handshake()
        c.send(.server, seq: 1, ack: 1, window: 1000, at: 5)
        let edge = c.send(.client, seq: 1, ack: 1, length: 1000, at: 10)
        #expect(edge.facts == [.windowFull])
        try c.expectTsharkAgrees()
    }

    @Test("with no detail asked for (a lab check, --summary), the tracker keeps the numbers and records no facts")
    func noDetail() {
        var c = Conversation()
        c.tracker = ConnectionTracker(detail: .none)
        c.handshake()
        c.send(.client, seq: 1, ack: 1, length: 100, at: 10)
        let again = c.send(.client, seq: 1, ack: 1, length: 100, at: 210)
        #expect(again.analysis == .retransmission, "the verdict is the same")
        #expect(again.facts.isEmpty && again.events.isEmpty)
    }
}
