import LabHost
import LabEngines
import PacketCapture
import Foundation
import Packets
import SocketCore

/// Lab 03, UDP against TCP: header sizes and the UDP length field, bytes on the wire for the
/// same three messages over each, from the student's capture; and what loss did to each, from
/// the student's `udp-vs-tcp --json` results.
public enum Lab03 {
    public struct Truth: Sendable {
        public var udpLengthFirst: Int
        public var tcpHeaderFirstData: Int
        public var udpWireBytes: Int, tcpWireBytes: Int
        /// From udp-vs-tcp's JSON: UDP's lost messages, TCP's lost messages, TCP's retransmissions.
        public var loss: (udpLost: Int, tcpLost: Int, retransmissions: Int)?
        /// From udp-vs-tcp's JSON: how many receive calls the 20 mixed-size messages took.
        public var receives: (udp: Int, tcp: Int)?
        /// From udp-vs-tcp's JSON: where the results were made ("loopback", "two hosts …")
        /// and with what loss; Q5 is about a lossy run.
        public var resultsSetting: String? = nil
        public var resultsLoss: Double? = nil
    }

    public enum Problem: LabBadInput {
        case missing(String)
        public var description: String {
            switch self { case .missing(let what): "\(what): see the steps of the handout (labcheck 03 without --capture makes the capture)" }
        }
    }

    public static func truth(from path: String, results: String?) throws -> Truth {
        let capture = try CaptureFile(path: path)
        var udpFirst: Int?, tcpFirstData: Int?
        var udpBytes = 0, tcpBytes = 0
        try capture.forEach { frame in
            let packet = frame.decode(capture.linkType)
            if let udp = packet.udp {
                udpBytes += frame.originalLength
                if udpFirst == nil { udpFirst = Int(udp.length) }
            } else if let tcp = packet.tcp {
                tcpBytes += frame.originalLength
                if tcpFirstData == nil && tcp.payloadLength > 0 { tcpFirstData = tcp.headerLength }
            }
        }
        guard let udpFirst else { throw Problem.missing("the capture has no UDP datagram") }
        guard let tcpFirstData else { throw Problem.missing("the capture has no TCP data segment") }
        var loss: (Int, Int, Int)?
        var receives: (Int, Int)?
        if let results {
            guard let data = FileManager.default.contents(atPath: results),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let udp = object["udp"] as? [String: Any], let tcp = object["tcp"] as? [String: Any],
                  let udpLost = udp["lost"] as? Int, let tcpLost = tcp["lost"] as? Int else {
                throw Problem.missing("\(results) is not the output of udp-vs-tcp --json")
            }
            loss = (udpLost, tcpLost, tcp["retransmissions"] as? Int ?? 0)
            if let u = udp["receives"] as? Int, let t = tcp["receives"] as? Int { receives = (u, t) }
            var truth = Truth(udpLengthFirst: udpFirst, tcpHeaderFirstData: tcpFirstData, udpWireBytes: udpBytes, tcpWireBytes: tcpBytes,
                              loss: loss, receives: receives)
            truth.resultsSetting = object["setting"] as? String
            truth.resultsLoss = (object["loss_percent"] as? NSNumber)?.doubleValue
            return truth
        }
        return Truth(udpLengthFirst: udpFirst, tcpHeaderFirstData: tcpFirstData, udpWireBytes: udpBytes, tcpWireBytes: tcpBytes,
                     loss: loss, receives: receives)
    }

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        func integer(_ key: String) -> Int64? { answers.integer(key) }
        func ask(_ q: String, _ key: String, _ expected: Int, hint: (Int64) -> String) {
            guard let answer = integer(key) else {
                results.append(answers.unanswered(q, key, expecting: .wholeNumber))
                return
            }
            results.append(answer == Int64(expected) ? .pass(q, "\(answer)") : .fail(q, "\(answer)", hint: hint(answer)))
        }
        ask("Q1 UDP header size", "udp_header_bytes", 8) { $0 == 28 ? "28 counts the IPv4 header (20 bytes) too; the UDP header alone is smaller" : "source port, destination port, length, checksum: four 16-bit fields (RFC 768)" }
        ask("Q2 UDP length field of the first datagram", "udp_length_first", truth.udpLengthFirst) { answer in
            answer == Int64(truth.udpLengthFirst - 8) ? "the UDP length counts its own 8-byte header as well as the data"
                : answer == Int64(truth.udpLengthFirst + 20) ? "that is the IPv4 total length; the UDP length leaves out the IP header"
                : "the length field of the first UDP datagram (udp.length in tshark)"
        }
        ask("Q3 TCP header size of the first data segment", "tcp_header_bytes", truth.tcpHeaderFirstData) { answer in
            answer == 20 ? "20 is the header without options; this segment carries options (timestamps): the data offset field × 4 gives the real size"
                : "the data offset field × 4 (tcp.hdr_len in tshark), options included"
        }
        ask("Q4 bytes on the wire, UDP exchange", "udp_wire_bytes", truth.udpWireBytes) { _ in "add the lengths of every UDP frame, both directions, headers included (frame.len)" }
        ask("Q4 bytes on the wire, TCP connection", "tcp_wire_bytes", truth.tcpWireBytes) { answer in
            answer < Int64(truth.tcpWireBytes) ? "count every TCP frame: the handshake, the ACKs and the teardown too — that is TCP's cost" : "add the lengths of every TCP frame, both directions (frame.len)"
        }
        if truth.loss != nil, !truth.isLossyRun {
            // A loopback run (or one with 0% loss) answers nothing about loss: say what to rerun.
            let made = truth.resultsSetting.map { "on \($0)" } ?? "without a setting"
            results.append(.fail("Q5 what loss does", "your results were made \(made)\(truth.resultsLoss.map { ", loss \($0)%" } ?? ", with no loss")",
                                 hint: "Q5 is about a lossy link: sudo scripts/twohosts up --loss 5, then udp-vs-tcp --two-hosts --json > results.json, and check again"))
        } else if let loss = truth.loss {
            ask("Q5 messages UDP lost (your udp-vs-tcp run)", "udp_lost", loss.udpLost) { _ in "the lost count in the UDP column of your udp-vs-tcp results" }
            ask("Q5 messages TCP lost", "tcp_lost", loss.tcpLost) { _ in "TCP resends what is lost: look at the TCP column — the application saw every message" }
            ask("Q5 TCP's retransmissions", "tcp_retransmissions", loss.retransmissions) { _ in "the retransmissions row of your udp-vs-tcp results (counted from its capture)" }
        } else {
            results.append(.skipped("Q5 what loss does", "no --results given: run udp-vs-tcp --two-hosts --loss 5 --json > results.json and pass --results results.json"))
        }
        if let receives = truth.receives {
            ask("Q6 receive calls for the 20 messages, UDP", "udp_receives", receives.udp) { _ in "UDP keeps each datagram whole: one receive per datagram that arrived (the receives row)" }
            ask("Q6 receive calls for the 20 messages, TCP", "tcp_receives", receives.tcp) { answer in
                answer == 20 ? "TCP does not keep message boundaries: its receiver got the bytes in fewer, larger pieces — see the receives row"
                    : "the TCP column's receives row of your udp-vs-tcp results"
            }
        }
        return results
    }

    /// The right answers. What needs the student's udp-vs-tcp results is left out, with the
    /// reason, when there are none: a 0 there would read as a measured zero.
    public static func answersFile(for truth: Truth) -> String {
        var lines = [
            "udp_header_bytes = 8",
            "udp_length_first = \(truth.udpLengthFirst)",
            "tcp_header_bytes = \(truth.tcpHeaderFirstData)",
            "udp_wire_bytes = \(truth.udpWireBytes)",
            "tcp_wire_bytes = \(truth.tcpWireBytes)",
        ]
        if let loss = truth.loss {
            if !truth.isLossyRun { lines.append("# Q5: these results were made without loss (\(truth.resultsSetting ?? "no setting")): the student must rerun with --two-hosts --loss 5") }
            lines += ["udp_lost = \(loss.udpLost)", "tcp_lost = \(loss.tcpLost)", "tcp_retransmissions = \(loss.retransmissions)"]
        } else {
            lines.append("# udp_lost, tcp_lost, tcp_retransmissions (Q5): not known without --results (the student's udp-vs-tcp --json)")
        }
        if let receives = truth.receives {
            lines += ["udp_receives = \(receives.udp)", "tcp_receives = \(receives.tcp)"]
        } else {
            lines.append("# udp_receives, tcp_receives (Q6): not known without --results")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `labcheck 03` without `--capture`: the same three messages (10, 200, 1,400 bytes) sent
    /// as UDP datagrams and over a TCP connection, each answered with the same bytes.
    public static func makeCapture(to path: String) throws -> String {
        let messages = [10, 200, 1400].map { [UInt8](repeating: 0x6D, count: $0) }
        let udpServer = try Socket.udp()
        try udpServer.bind(to: .loopback(0))
        let listener = try Socket.listening(on: .loopback(0))
        return try record(path, filter: "udp port \(try udpServer.localAddress.port ?? 0) or tcp port \(try listener.localAddress.port ?? 0)") {
            let udpTarget = try udpServer.localAddress
            let udpEcho = Peer { () throws -> Void in
                for _ in messages {
                    let datagram = try udpServer.receiveFrom(upTo: 2048)
                    if let sender = datagram.sender { _ = try udpServer.send(datagram.bytes, to: sender) }
                }
            }
            let client = try Socket.udp()
            try client.set(.receiveTimeout, .seconds(2))
            for message in messages {
                _ = try client.send(message, to: udpTarget)
                _ = try client.receiveFrom(upTo: 2048)
            }
            try udpEcho.value()
            let tcpEcho = Peer { () throws -> Void in
                let (connection, _) = try listener.accept()
                for message in messages { try connection.send(try connection.receive(exactly: message.count)) }
                _ = try connection.receiveUntilEOF()
                try connection.close()
            }
            let tcp = try Socket.connected(to: try listener.localAddress, timeout: .seconds(3))
            for message in messages {
                try tcp.send(message)
                _ = try tcp.receive(exactly: message.count)
            }
            try tcp.shutdown(.write)
            _ = try tcp.receiveUntilEOF()
            try tcp.close()
            try tcpEcho.value()
        }
    }
}

extension Lab03.Truth {
    /// Whether the results come from a run with loss (two hosts, loss above 0).
    public var isLossyRun: Bool { (resultsLoss ?? 0) > 0 && (resultsSetting?.hasPrefix("two hosts") ?? false) }
}

extension Lab03: QuestionLab {
    public static let number = "03"
    public static let slug = "03-udp-vs-tcp"
    public static let title = "UDP against TCP"
    public static let topics = "headers, the UDP length, bytes on the wire, what loss does to each"
    public static let checkCommand = "labcheck 03 --capture lab03.pcap --results results.json --answers answers.toml"

    public static func truth(from path: String, request: LabRequest) throws -> Truth {
        try truth(from: path, results: request.results)
    }
}
