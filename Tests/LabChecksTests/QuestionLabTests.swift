import Inspection
import NetworkAddresses
import Testing
@testable import LabChecks

/// The question labs' checks are pure: the facts of a capture (its `Truth`) and a student's
/// answers file in, one verdict per question out. Each lab here: the right answers pass, and
/// each mistake the handout warns about gets the hint written for it. No capture, no root.

/// The answers file for `truth` with one key changed, parsed as labcheck parses it.
func answers(_ file: String, _ changes: [String: String] = [:]) throws -> Answers {
    var lines: [String] = []
    for line in file.split(separator: "\n") {
        let key = line.split(separator: "=").first.map { String($0).trimmingCharacters(in: " ") } ?? ""
        lines.append(changes[key].map { "\(key) = \($0)" } ?? String(line))
    }
    return try Answers(parsing: lines.joined(separator: "\n") + "\n")
}

/// The one failing verdict's hint (and that only one failed).
func hint(of results: [CheckResult], sourceLocation: SourceLocation = #_sourceLocation) -> String {
    let failures = results.filter { $0.verdict == .fail }
    #expect(failures.count == 1, "\(failures.map(\.name))", sourceLocation: sourceLocation)
    return failures.first?.hint ?? ""
}

@Suite("Lab 01: the handshake's answers")
struct Lab01CheckTests {
    static let truth = Lab01.Truth(
        client: Endpoint(.v4(IPv4Address(127, 0, 0, 1)), 41_978), server: Endpoint(.v4(IPv4Address(127, 0, 0, 1)), 8080),
        synISN: 1_815_436_314, synAckISN: 3_019_906_900, synAckAck: 1_815_436_315,
        mssClient: 65_495, mssServer: 65_495, wscaleClient: 7, wscaleServer: 10,
        rttMicroseconds: 48, refusedReply: "ACK,RST")
    static var file: String { Lab01.answersFile(for: truth) }

    @Test("the right answers pass, all 11")
    func rightAnswers() throws {
        let results = Lab01.check(try answers(Self.file), against: Self.truth)
        #expect(results.allSatisfy { $0.verdict == .pass }, "\(results.filter { $0.verdict != .pass })")
        #expect(results.count == 11)
    }

    @Test("a relative ISN (0) gets the --absolute hint")
    func relativeISN() throws {
        #expect(hint(of: Lab01.check(try answers(Self.file, ["syn_isn": "0"]), against: Self.truth)).contains("inspector read --absolute"))
    }

    @Test("the client's ISN itself as the SYN-ACK's ACK is off by one")
    func offByOne() throws {
        #expect(hint(of: Lab01.check(try answers(Self.file, ["synack_ack": "1815436314"]), against: Self.truth)).contains("off by one"))
    }

    @Test("the server's ISN for the SYN's: swapped sides")
    func swappedISN() throws {
        #expect(hint(of: Lab01.check(try answers(Self.file, ["syn_isn": "3019906900"]), against: Self.truth)).contains("swapped sides"))
    }

    @Test("the other side's window scale: swapped, and the factor instead of the shift count")
    func windowScale() throws {
        #expect(hint(of: Lab01.check(try answers(Self.file, ["wscale_client": "10"]), against: Self.truth)).contains("swapped sides"))
        #expect(hint(of: Lab01.check(try answers(Self.file, ["wscale_client": "128"]), against: Self.truth)).contains("shift count"))
    }

    @Test("the RTT in milliseconds instead of microseconds gets the units hint")
    func rttUnits() throws {
        let results = Lab01.check(try answers(Self.file, ["handshake_rtt_us": "48000"]), against: Self.truth)
        #expect(hint(of: results).contains("units"))
    }

    @Test("a SYN to a closed port answered with anything but RST is wrong")
    func refusedReply() throws {
        #expect(hint(of: Lab01.check(try answers(Self.file, ["refused_reply_flags": "\"SYN,ACK\""]), against: Self.truth)).contains("reset"))
        // RST alone for a reply that is RST,ACK: the reset is right, the set is not.
        #expect(hint(of: Lab01.check(try answers(Self.file, ["refused_reply_flags": "\"RST\""]), against: Self.truth)).contains("ACK too"))
        for spelling in ["\"RST,ACK\"", "\"ack rst\"", "\"R.\"", "\"[R.]\"", "\"rst+ack\""] {
            #expect(Lab01.check(try answers(Self.file, ["refused_reply_flags": spelling]), against: Self.truth).allSatisfy { $0.verdict == .pass }, "\(spelling)")
        }
    }
}

@Suite("Lab 02: data and teardown's answers")
struct Lab02CheckTests {
    static let truth = Lab02.Truth(clientBytes: 1000, serverBytes: 3000, firstDataSeqRaw: 1_000_001, firstFIN: "client",
                                   bytesAfterFIN: 2000, rstSender: "client")
    static var file: String { Lab02.answersFile(for: truth) }

        @Test("a decimal RTT (as the capture gives it) passes; a quoted one too")
    func decimalRTT() throws {
        typealias L = Lab01CheckTests
        #expect(Lab01.check(try answers(L.file, ["handshake_rtt_us": "48.7"]), against: L.truth).allSatisfy { $0.verdict == .pass })
        #expect(Lab01.check(try answers(L.file, ["handshake_rtt_us": "\"48\""]), against: L.truth).allSatisfy { $0.verdict == .pass })
    }

@Test("the right answers pass")
    func rightAnswers() throws {
        let results = Lab02.check(try answers(Self.file), against: Self.truth)
        #expect(results.allSatisfy { $0.verdict == .pass }, "\(results.filter { $0.verdict != .pass })")
    }

    @Test("the other side's byte count: swapped sides")
    func swappedBytes() throws {
        #expect(hint(of: Lab02.check(try answers(Self.file, ["client_bytes": "3000"]), against: Self.truth)).contains("swapped sides"))
    }

    @Test("frames counted with their headers: too many bytes")
    func headersCounted() throws {
        #expect(hint(of: Lab02.check(try answers(Self.file, ["client_bytes": "1320"]), against: Self.truth)).contains("headers are not data"))
    }

    @Test("the relative number 1 for the raw one, and the ISN itself: off by one")
    func rawSequence() throws {
        #expect(hint(of: Lab02.check(try answers(Self.file, ["first_data_seq_raw": "1"]), against: Self.truth)).contains("relative number"))
        #expect(hint(of: Lab02.check(try answers(Self.file, ["first_data_seq_raw": "1000000"]), against: Self.truth)).contains("off by one"))
    }

    @Test("the wrong side in TIME-WAIT: the side that closes first waits")
    func timeWait() throws {
        #expect(hint(of: Lab02.check(try answers(Self.file, ["time_wait_side": "\"server\""]), against: Self.truth)).contains("closes first"))
    }

    @Test("no data after a half-close: the client only stopped sending")
    func halfClose() throws {
        #expect(hint(of: Lab02.check(try answers(Self.file, ["bytes_after_fin": "0"]), against: Self.truth)).contains("SHUT_WR"))
    }

    @Test("a capture without a reset connection says which step makes one")
    func noReset() throws {
        var truth = Self.truth
        truth.rstSender = nil
        #expect(hint(of: Lab02.check(try answers(Self.file), against: truth)).contains("handshake-demo --abort"))
    }
}

@Suite("Lab 03: UDP against TCP's answers")
struct Lab03CheckTests {
    static let truth = Lab03.Truth(udpLengthFirst: 18, tcpHeaderFirstData: 32, udpWireBytes: 1_794, tcpWireBytes: 2_774,
                                   loss: (udpLost: 48, tcpLost: 0, retransmissions: 61), receives: (udp: 20, tcp: 4),
                                   resultsSetting: "two hosts (slab-a → slab-b)", resultsLoss: 5)
    static var file: String { Lab03.answersFile(for: truth) }

    @Test("Q5 with results made on loopback (no loss) fails, saying what to rerun, even with their numbers copied")
    func loopbackResultsAreNotALossyRun() throws {
        var loopback = Self.truth
        loopback.resultsSetting = "loopback"
        loopback.resultsLoss = nil
        let results = Lab03.check(try answers(Lab03.answersFile(for: loopback)), against: loopback)
        #expect(hint(of: results).contains("--two-hosts"))
    }

    @Test("--solution without --results says what it cannot know instead of printing zeros")
    func solutionWithoutResults() {
        var noResults = Self.truth
        noResults.loss = nil
        noResults.receives = nil
        let file = Lab03.answersFile(for: noResults)
        #expect(!file.contains("udp_lost = ") && !file.contains("udp_receives = "))
        #expect(file.contains("not known without --results"))
    }

    @Test("the right answers pass")
    func rightAnswers() throws {
        let results = Lab03.check(try answers(Self.file), against: Self.truth)
        #expect(results.allSatisfy { $0.verdict == .pass }, "\(results.filter { $0.verdict != .pass })")
    }

    @Test("the UDP header with the IPv4 header in it: 28")
    func udpHeaderWithIP() throws {
        #expect(hint(of: Lab03.check(try answers(Self.file, ["udp_header_bytes": "28"]), against: Self.truth)).contains("IPv4 header"))
    }

    @Test("the UDP length without its own header, and the IP total length instead")
    func udpLength() throws {
        #expect(hint(of: Lab03.check(try answers(Self.file, ["udp_length_first": "10"]), against: Self.truth)).contains("its own 8-byte header"))
        #expect(hint(of: Lab03.check(try answers(Self.file, ["udp_length_first": "38"]), against: Self.truth)).contains("IPv4 total length"))
    }

    @Test("a TCP header of 20 bytes forgets the options")
    func tcpOptions() throws {
        #expect(hint(of: Lab03.check(try answers(Self.file, ["tcp_header_bytes": "20"]), against: Self.truth)).contains("options"))
    }

    @Test("TCP's wire bytes without the handshake and teardown are too few")
    func tcpCost() throws {
        #expect(hint(of: Lab03.check(try answers(Self.file, ["tcp_wire_bytes": "1500"]), against: Self.truth)).contains("handshake"))
    }

    @Test("20 TCP receives for 20 messages: TCP does not keep boundaries")
    func boundaries() throws {
        #expect(hint(of: Lab03.check(try answers(Self.file, ["tcp_receives": "20"]), against: Self.truth)).contains("message boundaries"))
    }

    @Test("without udp-vs-tcp results the loss questions are skipped, saying how to make them")
    func noResults() throws {
        var truth = Self.truth
        truth.loss = nil
        let skipped = Lab03.check(try answers(Self.file), against: truth).filter { $0.verdict == .skipped }
        #expect(skipped.count == 1 && skipped[0].detail.contains("--results results.json"))
    }
}

@Suite("Lab 04: ICMP's answers")
struct Lab04CheckTests {
    static let truth = Lab04.Truth(identifier: 0x1a2b, sequence: 1, checksum: 0x4c3d, replyTTL: 64,
                                   errorType: 3, errorCode: 3, quotedPort: 33_434)
    static var file: String { Lab04.answersFile(for: truth) }

    @Test("a sum whose carry was not folded (more than 16 bits) gets the folding hint, not a truncated value")
    func carryNotFolded() throws {
        // 0x4c3d is ~0xb3c2; 0x3b3be folds to 0x3 + 0xb3be = 0xb3c1… use one that folds to 0xb3c2.
        let unfolded = 0x2_b3c0  // 0x2 + 0xb3c0 = 0xb3c2, whose complement is 0x4c3d
        let results = Lab04.check(try answers(Self.file, ["checksum": "\"0x\(String(unfolded, radix: 16))\""]), against: Self.truth)
        let text = hint(of: results)
        #expect(text.contains("fold the carry") && text.contains("0x2 + 0xb3c0 = 0xb3c2") && text.contains("gives the right answer"), "\(text)")
        #expect(results.first { $0.verdict == .fail }?.detail == "0x2b3c0")
    }

    @Test("the checksum in hex without 0x, in capitals, passes")
    func checksumSpellings() throws {
        for spelling in ["\"4c3d\"", "\"4C3D\"", "0x4c3d", "\"0x4C3D\""] {
            #expect(Lab04.check(try answers(Self.file, ["checksum": spelling]), against: Self.truth).allSatisfy { $0.verdict == .pass }, "\(spelling)")
        }
    }

    @Test("the right answers pass, the checksum written as 0x…")
    func rightAnswers() throws {
        let results = Lab04.check(try answers(Self.file), against: Self.truth)
        #expect(results.allSatisfy { $0.verdict == .pass }, "\(results.filter { $0.verdict != .pass })")
    }

    @Test("request and reply types swapped")
    func types() throws {
        #expect(hint(of: Lab04.check(try answers(Self.file, ["request_type": "0"]), against: Self.truth)).contains("reply's type"))
    }

    @Test("the identifier read little-endian gets the byte-order hint")
    func byteOrder() throws {
        #expect(hint(of: Lab04.check(try answers(Self.file, ["identifier": String(UInt16(0x1a2b).byteSwapped)]), against: Self.truth)).contains("big-endian"))
    }

    @Test("the checksum byte-swapped, and the sum before its one's complement")
    func checksum() throws {
        #expect(hint(of: Lab04.check(try answers(Self.file, ["checksum": "\"0x3d4c\""]), against: Self.truth)).contains("byte order"))
        #expect(hint(of: Lab04.check(try answers(Self.file, ["checksum": "\"0xb3c2\""]), against: Self.truth)).contains("one's complement"))
    }

    @Test("sequence 0: ping numbers from 1")
    func sequence() throws {
        #expect(hint(of: Lab04.check(try answers(Self.file, ["sequence": "0"]), against: Self.truth)).contains("from 1"))
    }

    @Test("the port the error quotes is the datagram's destination")
    func quotedPort() throws {
        #expect(hint(of: Lab04.check(try answers(Self.file, ["quoted_port": "40000"]), against: Self.truth)).contains("destination port"))
    }
}

@Suite("Lab 08: moving a file")
struct Lab08CheckTests {
    static let truth = Lab08.Truth(
        tcpRetransmissions: 34, tcpSegments: 900,
        lockStep: Lab08.TFTPRead(filename: "file.bin", windowSize: 1, blockSize: 512, dataPackets: 6114, blocks: 5860, acks: 5863, milliseconds: 6515),
        windowed: Lab08.TFTPRead(filename: "file.bin", windowSize: 16, blockSize: 512, dataPackets: 8167, blocks: 5860, acks: 486, milliseconds: 870))
    static var file: String { Lab08.answersFile(for: truth) }

    @Test("the right answers pass, all 7")
    func rightAnswers() throws {
        let results = Lab08.check(try answers(Self.file), against: Self.truth)
        #expect(results.count == 7 && results.allSatisfy { $0.verdict == .pass }, "\(results.filter { $0.verdict != .pass })")
    }

    @Test("counting blocks as the DATA packets gets the hint that resent blocks are in there too")
    func dataPacketsAreNotBlocks() throws {
        let results = Lab08.check(try answers(Self.file, ["tftp_lockstep_data_packets": "5860"]), against: Self.truth)
        #expect(hint(of: results).contains("resent ones included"))
    }

    @Test("one ACK per block in the windowed read gets the window hint")
    func oneAckPerBlock() throws {
        let results = Lab08.check(try answers(Self.file, ["tftp_window_acks": "5860"]), against: Self.truth)
        #expect(hint(of: results).contains("once per 16 blocks"))
    }

    @Test("a duration within 5% passes, one 10% off does not")
    func durationsHaveATolerance() throws {
        #expect(Lab08.check(try answers(Self.file, ["tftp_lockstep_ms": "6700"]), against: Self.truth).allSatisfy { $0.verdict == .pass })
        #expect(hint(of: Lab08.check(try answers(Self.file, ["tftp_window_ms": "960"]), against: Self.truth)).contains("milliseconds"))
    }
}
