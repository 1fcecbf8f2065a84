import Foundation
import LabEngines
import LabHost
import PacketCapture
import Packets
import SocketCore

/// Lab 07, two machines, key by key: two `talk connect --measure` runs against
/// `talk listen --echo` — the first with TCP_NODELAY, the second with Nagle's algorithm — in
/// the student's capture. How many segments the keys took each time, how long the echo side
/// held its ACK of a key, and how long an Enter waited for its echo.
public enum Lab07 {
    /// One talk connection as the capture shows it.
    public struct Conversation: Sendable {
        public var keys = 0
        public var keySegments = 0
        /// The longest time from a key's segment to the first ACK that covers it, in ms.
        public var longestAckMilliseconds = 0.0
        /// The client's data segments that carried more than one key: the keys Nagle held.
        public var sharedSegments = 0
    }

    public struct Truth: Sendable {
        public var first: Conversation
        public var second: Conversation
        /// From the student's `talk connect --measure … --nagle on --json` (given with
        /// `--results`): the median Enter-to-echo time, in ms.
        public var measuredNagleMilliseconds: Double?
    }

    struct Problem: LabBadInput {
        let description: String
    }

    public static func truth(from path: String) throws -> Truth {
        struct Open {
            var conversation = Conversation()
            /// Client data segments not yet ACKed: (end sequence number, time).
            var unacked: [(end: UInt32, time: Timestamp)] = []
            var ackGaps: [Double] = []
            var enters: [Timestamp] = []
            var echoes: [Double] = []
        }
        var open: [Open] = []
        try CapturedConnections.forEachSegment(in: path) { segment in
            if segment.connection == open.count { open.append(Open()) }
            var state = open[segment.connection]
            let tcp = segment.tcp, payload = segment.payload
            if segment.fromClient {
                if !payload.isEmpty {
                    state.conversation.keys += payload.count
                    state.conversation.keySegments += 1
                    if payload.count > 1 { state.conversation.sharedSegments += 1 }
                    state.unacked.append((tcp.sequenceNumber &+ UInt32(payload.count), segment.time))
                    for byte in payload where byte == UInt8(ascii: "\n") { state.enters.append(segment.time) }
                }
            } else {
                if tcp.flags.contains(.ack) {
                    while let first = state.unacked.first, Int32(bitPattern: tcp.acknowledgementNumber &- first.end) >= 0 {
                        state.ackGaps.append(segment.time.seconds(since: first.time) * 1000)
                        state.unacked.removeFirst()
                    }
                }
                for byte in payload where byte == UInt8(ascii: "\n") {
                    if let enter = state.enters.first {
                        state.echoes.append(segment.time.seconds(since: enter) * 1000)
                        state.enters.removeFirst()
                    }
                }
            }
            open[segment.connection] = state
        }
        let talks = open.filter { !$0.echoes.isEmpty }.map { state -> Conversation in
            var conversation = state.conversation
            conversation.longestAckMilliseconds = state.ackGaps.max() ?? 0
            return conversation
        }
        guard talks.count >= 2 else {
            throw Problem(description: "\(path) holds \(talks.count) talk conversation\(talks.count == 1 ? "" : "s") with echoed lines; the lab needs two (steps 3 and 4 of the handout; labcheck 07 without --capture makes them)")
        }
        return Truth(first: talks[0], second: talks[1])
    }

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        func ask(_ q: String, _ key: String, _ expected: Int, hint: (Int64) -> String) {
            guard let answer = answers.integer(key) else { return results.append(answers.unanswered(q, key, expecting: .wholeNumber)) }
            results.append(answer == Int64(expected) ? .pass(q, "\(answer)") : .fail(q, "\(answer)", hint: hint(answer)))
        }
        func near(_ q: String, _ key: String, _ expected: Double, hint: String) {
            guard let answer = answers.number(key) else { return results.append(answers.unanswered(q, key, expecting: .number)) }
            // Within 10%, or 1 ms for the small ones: a student reads times off tshark's columns.
            let close = abs(answer - expected) <= max(expected * 0.1, 1)
            results.append(close ? .pass(q, "\(answer)") : .fail(q, "\(answer)", hint: hint + " (it is \(String(format: "%.1f", expected)) ms in your capture)"))
        }
        ask("Q1 keys the client sent (first conversation)", "keys", truth.first.keys) { _ in "add the payload lengths of the client's segments (tcp.len): one byte a key, Enter included" }
        ask("Q2 segments they took with TCP_NODELAY", "segments_nodelay", truth.first.keySegments) { answer in
            answer < Int64(truth.first.keySegments) ? "with TCP_NODELAY nothing waits: count every client segment with data in the first conversation" : "count only the client's segments that carry data, not its ACKs"
        }
        ask("Q3 segments they took with Nagle", "segments_nagle", truth.second.keySegments) { answer in
            answer == Int64(truth.second.keys) ? "that is one a key; with Nagle a key typed while the previous is unacknowledged waits, and the waiting keys leave together" : "count the client's data segments in the second conversation (tshark: tcp.len > 0)"
        }
        near("Q4 the longest wait for the ACK of a key, with Nagle (ms)", "longest_ack_ms", truth.second.longestAckMilliseconds,
             hint: "from a key's segment to the first server segment whose ACK covers it: the echo side, with no data to send until Enter, delays its ACK (Linux: at least 40 ms after its first few segments)")
        ask("Q5 segments that carried more than one key, with Nagle", "shared_segments", truth.second.sharedSegments) { answer in
            answer == 0 ? "look at tcp.len in the second conversation: some segments carry 2 or more keys — those typed while the one before was unacknowledged"
                : "count the client's segments with tcp.len > 1 in the second conversation"
        }
        if let measured = truth.measuredNagleMilliseconds {
            near("Q7 Enter to echo with Nagle, as talk --measure printed it (ms)", "measure_nagle_ms", measured,
                 hint: "the p50 of enter_to_echo_us in your talk --measure --nagle on --json results, in ms (÷ 1000)")
        } else {
            results.append(.skipped("Q7 Enter to echo with Nagle", "give your talk connect --measure 25 --nagle on --json output with --results to check it"))
        }
        if let answer = answers.text("nodelay_changes") {
            results.append(answer.lowercased() == "b" ? .pass("Q6 what TCP_NODELAY changes", answer)
                : .fail("Q6 what TCP_NODELAY changes", answer, hint: "it is a sender's option: the receiver's ACKs, the MSS and the window are what they were"))
        } else {
            results.append(answers.unanswered("Q6 what TCP_NODELAY changes", "nodelay_changes", expecting: .text))
        }
        return results
    }

    public static func answersFile(for truth: Truth) -> String {
        ["keys = \(truth.first.keys)", "segments_nodelay = \(truth.first.keySegments)", "segments_nagle = \(truth.second.keySegments)",
         "longest_ack_ms = " + String(format: "%.1f", truth.second.longestAckMilliseconds),
         "shared_segments = \(truth.second.sharedSegments)", "nodelay_changes = \"b\"",
         truth.measuredNagleMilliseconds.map { "measure_nagle_ms = " + String(format: "%.1f", $0) } ?? "# measure_nagle_ms: not known without --results"].joined(separator: "\n") + "\n"
    }

    /// `labcheck 07` without `--capture`: the handout's two measurements on loopback, an echo
    /// peer on a thread of this program for each.
    public static func makeCapture(to path: String) throws -> String {
        let listeners = [try Socket.listening(on: .loopback(0)), try Socket.listening(on: .loopback(0))]
        let ports = try listeners.map { try $0.localAddress.port ?? 0 }
        return try record(path, filter: "tcp port \(ports[0]) or tcp port \(ports[1])") {
            for (index, listener) in listeners.enumerated() {
                let nagle = index == 1
                let echo = Peer { () throws -> Void in
                    let (connection, _) = try listener.accept()
                    try connection.set(.noDelay, !nagle)
                    try Talk.echoLines(over: connection)
                }
                let client = try Socket.connected(to: try listener.localAddress, timeout: .seconds(3))
                try client.set(.noDelay, !nagle)
                _ = try Talk.measure(over: client, keys: 25, interval: .milliseconds(2), nagle: nagle)
                try client.close()
                try echo.value()
            }
            usleep(100_000)
        }
    }
}

extension Lab07: QuestionLab {
    public static let number = "07"
    public static let slug = "07-key-by-key"
    public static let title = "Two machines, key by key"
    public static let topics = "one key, one segment; Nagle's algorithm and delayed ACKs; TCP_NODELAY"
    public static let checkCommand = "labcheck 07 --capture lab07.pcap --results nagle.json --answers answers.toml"

    public static func truth(from path: String, request: LabRequest) throws -> Truth {
        var truth = try truth(from: path)
        if let results = request.results {
            guard let data = FileManager.default.contents(atPath: results),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["tool"] as? String == "talk",
                  let p50 = ((object["enter_to_echo_us"] as? [String: Any])?["p50"] as? NSNumber)?.doubleValue else {
                throw Problem(description: "\(results) is not the output of talk connect --measure N --json")
            }
            truth.measuredNagleMilliseconds = p50 / 1000
        }
        return truth
    }
}
