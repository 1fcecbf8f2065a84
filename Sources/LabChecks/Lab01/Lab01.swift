import Foundation
import LabHost
import LabEngines
import PacketCapture
import Inspection
import Packets

/// Lab 01, the TCP three-way handshake: the true answers come from the student's own capture
/// (the first complete handshake in it, and a connection to a closed port), and each wrong
/// answer gets the hint for the mistake it most likely is — a relative number for a raw one,
/// off by one, the two sides swapped.
public enum Lab01 {
    public struct Truth: Sendable {
        public var client: Endpoint
        public var server: Endpoint
        public var synISN: UInt32
        public var synAckISN: UInt32
        public var synAckAck: UInt32
        public var mssClient: UInt16?, mssServer: UInt16?
        public var wscaleClient: UInt8?, wscaleServer: UInt8?
        public var rttMicroseconds: Double
        /// The flags of the segment that answered a SYN to a closed port ("RST,ACK"), if the
        /// capture has one.
        public var refusedReply: String?
    }

    public enum Problem: LabBadInput {
        case noHandshake(String)
        public var description: String {
            switch self { case .noHandshake(let file): "\(file) holds no complete TCP handshake: capture one (see step 2 of the handout)" }
        }
    }

    /// Reads the capture through the inspector.
    public static func truth(from path: String) throws -> Truth {
        let capture = try CaptureFile(path: path)
        var tracker = ConnectionTracker(detail: .none)
        var records: [ConnectionTracker.Record] = []
        var rstFlags: [Int: String] = [:]  // stream → flags of its first RST
        try capture.forEach { frame in
            let packet = frame.decode(capture.linkType)
            if let report = tracker.add(frame: frame.number, time: frame.timestamp, packet: packet), report.flags.contains(.rst),
               rstFlags[report.stream] == nil {
                rstFlags[report.stream] = report.flags.names.joined(separator: ",")
            }
            records += tracker.takeRecords()
        }
        records += tracker.finish()
        let handshakes = records.compactMap { if case .handshake(let h) = $0 { h } else { nil } }
        guard let h = handshakes.first(where: { $0.state == .complete }), let serverISN = h.serverISN, let rtt = h.rtt else {
            throw Problem.noHandshake(path)
        }
        let refused = handshakes.first { $0.state == .refused }
        return Truth(client: h.client, server: h.server, synISN: h.clientISN, synAckISN: serverISN, synAckAck: h.clientISN &+ 1,
                     mssClient: h.clientOptions.mss, mssServer: h.serverOptions?.mss,
                     wscaleClient: h.clientOptions.windowScale, wscaleServer: h.serverOptions?.windowScale,
                     rttMicroseconds: rtt * 1e6, refusedReply: refused.flatMap { rstFlags[$0.stream] })
    }

    /// The answers file a student starts from (Labs/01-tcp-handshake/answers.toml).
    public static let keys = ["client_address", "client_port", "server_address", "server_port", "syn_isn", "syn_flags",
                              "synack_isn", "synack_ack", "mss_client", "mss_server", "wscale_client", "wscale_server",
                              "handshake_rtt_us", "refused_reply_flags"]

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        func integer(_ key: String) -> Int64? { answers.integer(key) }
        func text(_ key: String) -> String? { answers.text(key) }
        let textKeys: Set<String> = ["client_address", "server_address", "syn_flags", "refused_reply_flags"]
        func missing(_ q: String, _ key: String) -> CheckResult {
            // Q1 names four keys: report the first one that is not an answer.
            let keys = key.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let first = keys.first { k in textKeys.contains(k) ? answers.text(k) == nil : answers.integer(k) == nil } ?? keys[0]
            return answers.unanswered(q, first, expecting: textKeys.contains(first) ? .text : first == "handshake_rtt_us" ? .number : .wholeNumber)
        }

        // Q1: who is who.
        let clientAddress = truth.client.address.description, serverAddress = truth.server.address.description
        if let a = text("client_address"), let p = integer("client_port"), let sa = text("server_address"), let sp = integer("server_port") {
            if a == clientAddress && p == Int64(truth.client.port) && sa == serverAddress && sp == Int64(truth.server.port) {
                results.append(.pass("Q1 client and server", "client \(a):\(p), server \(sa):\(sp)"))
            } else if p == Int64(truth.server.port) && sp == Int64(truth.client.port) {
                results.append(.fail("Q1 client and server", "your client port \(p) is the server's", hint: "swapped sides: the client is the one that sends the SYN (flags [S]); the server answers [S.]"))
            } else {
                results.append(.fail("Q1 client and server", "client \(a):\(p), server \(sa):\(sp) do not match the first handshake in your capture",
                                     hint: "look at the first line with Flags [S]: its source is the client, its destination the server (port after the last dot)"))
            }
        } else {
            results.append(missing("Q1 client and server", "client_address, client_port, server_address, server_port"))
        }

        // Q2: the SYN's ISN, and what marks it a SYN.
        if let isn = integer("syn_isn") {
            if isn == Int64(truth.synISN) {
                results.append(.pass("Q2 SYN's initial sequence number", "\(isn)"))
            } else if isn == 0 {
                results.append(.fail("Q2 SYN's initial sequence number", "your answer is 0", hint: "0 is the relative number Wireshark and the inspector show by default; the question asks for the raw one: inspector read --absolute"))
            } else if isn == Int64(truth.synAckISN) {
                results.append(.fail("Q2 SYN's initial sequence number", "\(isn) is the server's ISN", hint: "swapped sides: the SYN comes from the client; the number you gave is in the SYN-ACK"))
            } else {
                results.append(.fail("Q2 SYN's initial sequence number", "\(isn) is not the SYN's sequence number", hint: "the seq field of the first [S] segment, with --absolute"))
            }
        } else {
            results.append(missing("Q2 SYN's initial sequence number", "syn_isn"))
        }
        if let flags = text("syn_flags")?.uppercased() {
            let set = Set(flags.split(whereSeparator: { ",+ /".contains($0) }).map(String.init))
            if set == ["SYN"] || set == ["S"] {
                results.append(.pass("Q2 what marks a SYN", "the SYN flag alone"))
            } else if set.contains("SYN") || set.contains("S") {
                results.append(.fail("Q2 what marks a SYN", "\(flags)", hint: "the first segment carries SYN and nothing else: no ACK yet, because there is nothing to acknowledge"))
            } else {
                results.append(.fail("Q2 what marks a SYN", "\(flags)", hint: "the SYN flag (tcpdump shows it as [S]) marks it"))
            }
        } else {
            results.append(missing("Q2 what marks a SYN", "syn_flags"))
        }

        // Q3: the SYN-ACK.
        if let isn = integer("synack_isn") {
            if isn == Int64(truth.synAckISN) {
                results.append(.pass("Q3 SYN-ACK's initial sequence number", "\(isn)"))
            } else if isn == 0 {
                results.append(.fail("Q3 SYN-ACK's initial sequence number", "your answer is 0", hint: "0 is the relative number; the server's raw ISN is its own random choice: inspector read --absolute"))
            } else if isn == Int64(truth.synISN) {
                results.append(.fail("Q3 SYN-ACK's initial sequence number", "\(isn) is the client's ISN", hint: "swapped sides: each side picks its own ISN; the server's is the seq of the [S.] segment"))
            } else {
                results.append(.fail("Q3 SYN-ACK's initial sequence number", "\(isn) is not the SYN-ACK's sequence number", hint: "the seq field of the [S.] segment, with --absolute"))
            }
        } else {
            results.append(missing("Q3 SYN-ACK's initial sequence number", "synack_isn"))
        }
        if let ack = integer("synack_ack") {
            if ack == Int64(truth.synAckAck) {
                results.append(.pass("Q3 SYN-ACK's acknowledgement number", "\(ack) = the client's ISN + 1"))
            } else if ack == 1 {
                results.append(.fail("Q3 SYN-ACK's acknowledgement number", "your SYN-ACK ack is 1", hint: "that is the relative number; the question asks for the raw one (inspector read --absolute)"))
            } else if ack == Int64(truth.synISN) {
                results.append(.fail("Q3 SYN-ACK's acknowledgement number", "\(ack) is the client's ISN itself", hint: "off by one: a SYN uses one sequence number, so the server acknowledges ISN + 1 — the next byte it expects"))
            } else if ack == Int64(truth.synAckISN) + 1 {
                results.append(.fail("Q3 SYN-ACK's acknowledgement number", "\(ack) is the server's own ISN + 1", hint: "swapped sides: the SYN-ACK acknowledges the client's SYN, so it is the client's ISN + 1"))
            } else {
                results.append(.fail("Q3 SYN-ACK's acknowledgement number", "\(ack)", hint: "the ack field of the [S.] segment, with --absolute"))
            }
        } else {
            results.append(missing("Q3 SYN-ACK's acknowledgement number", "synack_ack"))
        }

        // Q4: options each side offered.
        func option(_ q: String, _ key: String, _ other: String, _ truthValue: Int64?, _ otherValue: Int64?, what: String) {
            guard let answer = integer(key) else { results.append(missing(q, key)); return }
            let expected = truthValue ?? 0
            if answer == expected {
                results.append(.pass(q, "\(answer)"))
            } else if answer == (otherValue ?? 0) && truthValue != otherValue {
                results.append(.fail(q, "\(answer) is what the other side offered", hint: "swapped sides: \(key) is in the \(key.hasSuffix("client") ? "SYN" : "SYN-ACK"); \(other) in the other"))
            } else {
                results.append(.fail(q, "\(answer)", hint: "\(what) is in the options of the \(key.hasSuffix("client") ? "SYN" : "SYN-ACK") (0 if that side did not offer it)"))
            }
        }
        option("Q4 client's MSS", "mss_client", "mss_server", truth.mssClient.map(Int64.init), truth.mssServer.map(Int64.init), what: "the MSS (\"mss N\")")
        option("Q4 server's MSS", "mss_server", "mss_client", truth.mssServer.map(Int64.init), truth.mssClient.map(Int64.init), what: "the MSS (\"mss N\")")
        option("Q4 client's window scale", "wscale_client", "wscale_server", truth.wscaleClient.map(Int64.init), truth.wscaleServer.map(Int64.init), what: "the shift count (\"wscale N\", not the factor 2^N)")
        option("Q4 server's window scale", "wscale_server", "wscale_client", truth.wscaleServer.map(Int64.init), truth.wscaleClient.map(Int64.init), what: "the shift count (\"wscale N\", not the factor 2^N)")

        // Q5: the handshake RTT, within 10% or 5 µs.
        if let rttValue = answers.number("handshake_rtt_us") {
            // A decimal is welcome: the capture's own figure (25.107 µs) is one.
            let rtt = rttValue == rttValue.rounded() ? String(Int64(rttValue)) : String(rttValue)
            let tolerance = max(5, truth.rttMicroseconds * 0.1)
            if abs(rttValue - truth.rttMicroseconds) <= tolerance {
                results.append(.pass("Q5 handshake RTT", "\(rtt) µs (the capture says \(Int(truth.rttMicroseconds.rounded())) µs)"))
            } else if abs(rttValue * 1000 - truth.rttMicroseconds) <= tolerance * 1000 || abs(rttValue / 1000 - truth.rttMicroseconds) <= tolerance {
                results.append(.fail("Q5 handshake RTT", "\(rtt)", hint: "units: the question asks for microseconds (1 ms = 1000 µs)"))
            } else {
                results.append(.fail("Q5 handshake RTT", "\(rtt) µs", hint: "from the SYN to the ACK that completes the handshake (the inspector's handshake block prints it in seconds)"))
            }
        } else {
            results.append(missing("Q5 handshake RTT", "handshake_rtt_us"))
        }

        // Q6: a connection to a closed port.
        if let reply = truth.refusedReply {
            if let answer = text("refused_reply_flags") {
                let given = Self.flagSet(answer), expected = Self.flagSet(reply)
                if given == expected {
                    results.append(.pass("Q6 a SYN to a closed port", "answered by \(reply)"))
                } else if given.contains("RST") {
                    let missing = expected.subtracting(given).sorted(), extra = given.subtracting(expected).sorted()
                    let what = missing.isEmpty ? "it does not carry \(extra.joined(separator: ", "))" : "it carries \(missing.joined(separator: ", ")) too"
                    results.append(.fail("Q6 a SYN to a closed port", "\(answer)",
                                         hint: "a reset it is, but write every flag of that segment: \(what) — a RST that answers a SYN acknowledges it (RFC 9293 §3.10.7.1), which tcpdump shows as Flags [R.]"))
                } else {
                    results.append(.fail("Q6 a SYN to a closed port", "\(answer)", hint: "nothing listens, so the kernel answers the SYN with a reset: look for Flags [R.] right after the SYN"))
                }
            } else {
                results.append(missing("Q6 a SYN to a closed port", "refused_reply_flags"))
            }
        } else {
            results.append(.fail("Q6 a SYN to a closed port", "your capture has no connection to a closed port",
                                 hint: "step 3: connect to a port nothing listens on while capturing (handshake-demo --refused does it)"))
        }
        return results
    }

    /// The right answers, as a filled-in answers file (for the instructor, and the tests).
    /// A set of TCP flags however a student writes them: "RST,ACK", "ACK RST", "rst+ack", or
    /// tcpdump's letters "R." / "[R.]" (S F R P U E W, and . for ACK).
    static func flagSet(_ text: String) -> Set<String> {
        let upper = text.uppercased().trimmingCharacters(in: CharacterSet(charactersIn: "[] \t"))
        let letters: [Character: String] = ["S": "SYN", "F": "FIN", "R": "RST", "P": "PSH", "U": "URG", "E": "ECE", "W": "CWR", ".": "ACK"]
        if !upper.isEmpty, upper.count <= 8, upper.allSatisfy({ letters[$0] != nil }) {
            return Set(upper.compactMap { letters[$0] })
        }
        let aliases: [String: String] = ["R": "RST", "RESET": "RST", "A": "ACK", "S": "SYN", "F": "FIN", "P": "PSH", "PUSH": "PSH"]
        let separators: Set<Character> = [",", "+", " ", "/", "|", "&"]
        let words = upper.split(whereSeparator: { separators.contains($0) }).map(String.init)
        return Set(words.map { word in aliases[word] ?? word })
    }

    public static func answersFile(for truth: Truth) -> String {
        """
        client_address = "\(truth.client.address)"
        client_port = \(truth.client.port)
        server_address = "\(truth.server.address)"
        server_port = \(truth.server.port)
        syn_isn = \(truth.synISN)
        syn_flags = "SYN"
        synack_isn = \(truth.synAckISN)
        synack_ack = \(truth.synAckAck)
        mss_client = \(truth.mssClient ?? 0)
        mss_server = \(truth.mssServer ?? 0)
        wscale_client = \(truth.wscaleClient ?? 0)
        wscale_server = \(truth.wscaleServer ?? 0)
        handshake_rtt_us = \(Int(truth.rttMicroseconds.rounded()))
        refused_reply_flags = "\(truth.refusedReply ?? "")"

        """
    }
}

extension Lab01: QuestionLab {
    public static let number = "01"
    public static let slug = "01-tcp-handshake"
    public static let title = "The TCP three-way handshake"
    public static let topics = "ISNs, SYN / SYN-ACK / ACK, options, RTT, a refused connection — in your own capture"

    public static func truth(from path: String, request: LabRequest) throws -> Truth { try truth(from: path) }
}
