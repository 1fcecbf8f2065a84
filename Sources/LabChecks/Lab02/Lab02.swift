import LabHost
import LabEngines
import PacketCapture
import Inspection
import Packets
import SocketCore

/// Lab 02, data and teardown: bytes each way, raw against relative numbers, who closes first
/// and waits in TIME-WAIT, a half-close, and an abort — all read from the student's capture
/// of three connections (an ordinary one, a half-close, a zero-linger close).
public enum Lab02 {
    public struct Truth: Sendable {
        public var clientBytes: Int, serverBytes: Int
        public var firstDataSeqRaw: UInt32
        public var firstFIN: String
        public var bytesAfterFIN: Int?
        public var rstSender: String?
    }

    public enum Problem: LabBadInput {
        case missing(String)
        public var description: String {
            switch self { case .missing(let what): "the capture has no \(what): see the steps of the handout (labcheck 02 without --capture makes all three)" }
        }
    }

    struct Stream {
        var client: Endpoint?
        var clientISN: UInt32?
        var bytes = [0, 0]  // client → server, server → client
        var clientFINFrame: Int?
        var bytesAfterClientFIN = 0
        var close: CloseRecord?
    }

    public static func truth(from path: String) throws -> Truth {
        let capture = try CaptureFile(path: path)
        var tracker = ConnectionTracker(detail: .none)
        var streams: [Int: Stream] = [:]
        try capture.forEach { frame in
            guard let report = tracker.add(frame: frame.number, time: frame.timestamp, packet: frame.decode(capture.linkType)) else { return }
            var stream = streams[report.stream] ?? Stream()
            if report.flags.contains(.syn) && !report.flags.contains(.ack) {
                stream.client = report.source
                stream.clientISN = report.seqRaw
            }
            let fromClient = stream.client.map { $0 == report.source } ?? report.fromClient
            stream.bytes[fromClient ? 0 : 1] += report.length
            if !fromClient, stream.clientFINFrame != nil { stream.bytesAfterClientFIN += report.length }
            if fromClient, report.flags.contains(.fin), stream.clientFINFrame == nil { stream.clientFINFrame = report.frame }
            streams[report.stream] = stream
            for case .close(let close) in tracker.takeRecords() { streams[close.stream]?.close = close }
        }
        for case .close(let close) in tracker.finish() { streams[close.stream]?.close = close }
        let ordered = streams.sorted { $0.key < $1.key }.map(\.value)
        guard let normal = ordered.first(where: { $0.close?.how == .fin && $0.close?.complete == true }), let isn = normal.clientISN else {
            throw Problem.missing("connection closed with FINs")
        }
        let half = ordered.first { $0.close?.how == .halfClose }
        let abort = ordered.first { $0.close?.how == .rst }
        return Truth(clientBytes: normal.bytes[0], serverBytes: normal.bytes[1], firstDataSeqRaw: isn &+ 1,
                     firstFIN: (normal.close?.first ?? .client).rawValue, bytesAfterFIN: half?.bytesAfterClientFIN, rstSender: abort?.close?.first.rawValue)
    }

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        func integer(_ key: String) -> Int64? { answers.integer(key) }
        func text(_ key: String) -> String? { answers.text(key)?.lowercased() }
        let textKeys: Set<String> = ["first_fin", "time_wait_side", "rst_sender"]
        func missing(_ q: String, _ key: String) -> CheckResult {
            answers.unanswered(q, key, expecting: textKeys.contains(key) ? .text : .wholeNumber)
        }

        for (q, key, expected, other) in [("Q1 bytes the client sent", "client_bytes", truth.clientBytes, truth.serverBytes),
                                          ("Q1 bytes the server sent", "server_bytes", truth.serverBytes, truth.clientBytes)] {
            guard let answer = integer(key) else { results.append(missing(q, key)); continue }
            if answer == Int64(expected) {
                results.append(.pass(q, "\(answer) bytes of payload"))
            } else if answer == Int64(other) && expected != other {
                results.append(.fail(q, "\(answer) is what the other side sent", hint: "swapped sides: count the len of the segments from this side only"))
            } else if answer > Int64(expected) {
                results.append(.fail(q, "\(answer)", hint: "count payload (the len field, or tcp.len), not whole frames: headers are not data"))
            } else {
                results.append(.fail(q, "\(answer)", hint: "add the lengths of every data segment from that side; the last ACK number minus the ISN minus 1 (minus 1 more for the FIN) gives it too"))
            }
        }
        if let raw = integer("first_data_seq_raw") {
            if raw == Int64(truth.firstDataSeqRaw) {
                results.append(.pass("Q2 raw sequence number of the first data byte", "\(raw) = ISN + 1"))
            } else if raw == 1 {
                results.append(.fail("Q2 raw sequence number of the first data byte", "1", hint: "1 is the relative number; the raw one is the client's ISN + 1 (inspector read --absolute)"))
            } else if raw == Int64(truth.firstDataSeqRaw) - 1 {
                results.append(.fail("Q2 raw sequence number of the first data byte", "\(raw) is the ISN itself", hint: "off by one: the SYN used the ISN, so data starts at ISN + 1"))
            } else {
                results.append(.fail("Q2 raw sequence number of the first data byte", "\(raw)", hint: "the seq of the client's first segment with data, with --absolute"))
            }
        } else {
            results.append(missing("Q2 raw sequence number of the first data byte", "first_data_seq_raw"))
        }
        if let relative = integer("first_data_seq_relative") {
            results.append(relative == 1 ? .pass("Q2 its relative number", "1")
                                         : .fail("Q2 its relative number", "\(relative)", hint: relative == 0 ? "the SYN is 0; it used one sequence number, so data starts at 1" : "relative numbers count from the ISN: the SYN is 0"))
        } else {
            results.append(missing("Q2 its relative number", "first_data_seq_relative"))
        }
        for (q, key, hintText) in [("Q3 who sent the first FIN", "first_fin", "the side whose FIN comes first, [F.] in tcpdump's flags"),
                                   ("Q3 which side waits in TIME-WAIT", "time_wait_side", "the side that closes first (sends the first FIN) is the one that waits in TIME-WAIT")] {
            guard let answer = text(key) else { results.append(missing(q, key)); continue }
            results.append(answer == truth.firstFIN ? .pass(q, answer)
                           : .fail(q, answer.isEmpty ? "not answered" : answer,
                                   hint: "\(hintText); answer \"client\" or \"server\" — the client is the side that sent the SYN"))
        }
        if let expected = truth.bytesAfterFIN {
            if let answer = integer("bytes_after_fin") {
                results.append(answer == Int64(expected) ? .pass("Q4 data after the client's FIN (half-close)", "\(answer) bytes")
                               : .fail("Q4 data after the client's FIN (half-close)", "\(answer)", hint: answer == 0
                                   ? "after shutdown(SHUT_WR) the client only stopped sending; the server can still send: count its data after the client's FIN"
                                   : "the payload the server sent after the client's FIN, in the half-closed connection"))
            } else {
                results.append(missing("Q4 data after the client's FIN (half-close)", "bytes_after_fin"))
            }
        } else {
            results.append(.fail("Q4 data after the client's FIN (half-close)", "your capture has no half-closed connection", hint: "step 3: handshake-demo --half-close while capturing"))
        }
        if let sender = truth.rstSender {
            if let answer = text("rst_sender") {
                results.append(answer == sender ? .pass("Q5 who sent the RST (zero-linger close)", answer)
                               : .fail("Q5 who sent the RST (zero-linger close)", answer, hint: "the side that called close() with SO_LINGER 0 sends the RST: look at the source of the [R] segment"))
            } else {
                results.append(missing("Q5 who sent the RST (zero-linger close)", "rst_sender"))
            }
        } else {
            results.append(.fail("Q5 who sent the RST (zero-linger close)", "your capture has no reset connection", hint: "step 4: handshake-demo --abort while capturing"))
        }
        return results
    }

    /// The right answers, as a filled-in answers file (`labcheck 02 --solution`).
    public static func answersFile(for truth: Truth) -> String {
        """
        client_bytes = \(truth.clientBytes)
        server_bytes = \(truth.serverBytes)
        first_data_seq_raw = \(truth.firstDataSeqRaw)
        first_data_seq_relative = 1
        first_fin = "\(truth.firstFIN)"
        time_wait_side = "\(truth.firstFIN)"
        bytes_after_fin = \(truth.bytesAfterFIN ?? 0)
        rst_sender = "\(truth.rstSender ?? "")"

        """
    }

    /// `labcheck 02` without `--capture`: the three connections the handout asks for.
    public static func makeCapture(to path: String) throws -> String {
        let listener = try Socket.listening(on: .loopback(0))
        let port = try listener.localAddress.port ?? 0
        return try record(path, filter: "tcp port \(port)") {
            let server = Peer { () throws -> Void in
                // 1: a request and a reply, then the client's FIN, then ours.
                let (one, _) = try listener.accept()
                _ = try one.receive(exactly: 1000)
                try one.send([UInt8](repeating: 0x73, count: 3000))
                _ = try one.receiveUntilEOF()
                try one.close()
                // 2: everything the client sends, to its FIN; only then the reply: a half-close.
                let (two, _) = try listener.accept()
                _ = try two.receiveUntilEOF()
                try two.send([UInt8](repeating: 0x73, count: 2000))
                try two.close()
                // 3: the client aborts.
                let (three, _) = try listener.accept()
                _ = try? three.receiveUntilEOF()
                try? three.close()
            }
            // 1: 1,000 bytes out, 3,000 back, then the client closes first.
            let first = try Socket.connected(to: .loopback(port), timeout: .seconds(3))
            try first.send([UInt8](repeating: 0x63, count: 1000))
            _ = try first.receive(exactly: 3000)
            try first.shutdown(.write)
            _ = try first.receiveUntilEOF()
            try first.close()
            // 2: a half-close: 500 bytes, shutdown(SHUT_WR), and 2,000 bytes still come back.
            let second = try Socket.connected(to: .loopback(port), timeout: .seconds(3))
            try second.send([UInt8](repeating: 0x63, count: 500))
            try second.shutdown(.write)
            _ = try second.receiveUntilEOF()
            try second.close()
            // 3: an abort: 10 bytes, then close() with SO_LINGER 0.
            let third = try Socket.connected(to: .loopback(port), timeout: .seconds(3))
            try third.send([UInt8](repeating: 0x63, count: 10))
            try third.set(.linger, .abort)
            try third.close()
            try server.value()
        }
    }
}

extension Lab02: QuestionLab {
    public static let number = "02"
    public static let slug = "02-data-and-teardown"
    public static let title = "Data and teardown"
    public static let topics = "bytes each way, raw and relative numbers, who closes first, half-close, abort"

    public static func truth(from path: String, request: LabRequest) throws -> Truth { try truth(from: path) }
}
