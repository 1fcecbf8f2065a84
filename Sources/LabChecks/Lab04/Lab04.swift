import LabHost
import LabEngines
import PacketCapture
import Packets
import SocketCore

/// Lab 04, ICMP and raw sockets: the echo request and reply raw-ping built and received, a
/// checksum worked out by hand, the TTL, and what an ICMP error quotes — all from the
/// student's capture (IPv4).
public enum Lab04 {
    public struct Truth: Sendable {
        public var identifier: UInt16, sequence: UInt16
        public var checksum: UInt16
        public var replyTTL: UInt8
        public var errorType: UInt8?, errorCode: UInt8?
        public var quotedPort: UInt16?
    }

    public enum Problem: LabBadInput {
        case missing(String)
        public var description: String {
            switch self { case .missing(let what): "the capture has no \(what): see the steps of the handout (labcheck 04 without --capture makes one)" }
        }
    }

    public static func truth(from path: String) throws -> Truth {
        let capture = try CaptureFile(path: path)
        var request: (id: UInt16, seq: UInt16, checksum: UInt16)?
        var ttl: UInt8?
        var error: (type: UInt8, code: UInt8, port: UInt16?)?
        try capture.forEach { frame in
            let packet = frame.decode(capture.linkType)
            guard let icmp = packet.icmp, let ip = packet.ipv4 else { return }
            switch icmp.message {
            case .echoRequest(let id, let seq) where request == nil:
                request = (id, seq, icmp.checksum)
            case .echoReply(let id, let seq) where ttl == nil && request.map({ $0.id == id && $0.seq == seq }) == true:
                ttl = ip.ttl
            case .destinationUnreachable(let quoted) where error == nil:
                error = (icmp.type, icmp.code, quoted?.destinationPort)
            case .timeExceeded(let quoted) where error == nil:
                error = (icmp.type, icmp.code, quoted?.destinationPort)
            default:
                break
            }
        }
        guard let request else { throw Problem.missing("ICMP echo request") }
        guard let ttl else { throw Problem.missing("echo reply to the first request") }
        return Truth(identifier: request.id, sequence: request.seq, checksum: request.checksum, replyTTL: ttl,
                     errorType: error?.type, errorCode: error?.code, quotedPort: error?.port)
    }

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        func integer(_ key: String) -> Int64? { key == "checksum" ? answers.hexInteger(key) : answers.integer(key) }
        func missing(_ q: String, _ key: String) -> CheckResult {
            answers.unanswered(q, key, expecting: key == "checksum" ? .hex : .wholeNumber)
        }
        func simple(_ q: String, _ key: String, _ expected: Int64, hint: (Int64) -> String) {
            guard let answer = integer(key) else { results.append(missing(q, key)); return }
            results.append(answer == expected ? .pass(q, "\(answer)") : .fail(q, "\(answer)", hint: hint(answer)))
        }
        simple("Q1 echo request: type", "request_type", 8) { $0 == 0 ? "0 is the reply's type; a request is type 8" : "the first byte of the ICMP header: 8 for an echo request (RFC 792)" }
        simple("Q1 echo request: code", "request_code", 0) { _ in "echo messages always have code 0" }
        simple("Q1 echo reply: type", "reply_type", 0) { $0 == 8 ? "8 is the request's type; the reply is type 0" : "the first byte of the reply's ICMP header: 0 for an echo reply" }
        simple("Q2 identifier of the first request", "identifier", Int64(truth.identifier)) { answer in
            answer == Int64(truth.identifier.byteSwapped) ? "byte order: the two bytes read the other way round — network order is big-endian (most significant byte first)"
                : "bytes 4–5 of the ICMP header (raw-ping uses its process id); tshark: icmp.ident"
        }
        simple("Q2 sequence of the first request", "sequence", Int64(truth.sequence)) { answer in
            answer == 0 ? "raw-ping, like ping, numbers requests from 1" : "bytes 6–7 of the ICMP header (icmp_seq in raw-ping's output)"
        }
        if let answer = integer("checksum") {
            if answer > 0xFFFF || answer < 0 {
                // More than 16 bits: a carry was never folded back in. Say so; never truncate.
                var folded = answer & 0xFFFF_FFFF
                while folded > 0xFFFF { folded = (folded & 0xFFFF) + (folded >> 16) }
                let given = "0x" + String(answer, radix: 16)
                results.append(.fail("Q3 checksum of the first request", given,
                                     hint: "\(given) does not fit the 16-bit checksum field: fold the carry back in — add the part above 16 bits to the low 16 bits (0x\(String(answer >> 16, radix: 16)) + 0x\(String(answer & 0xFFFF, radix: 16)) = 0x\(String(folded, radix: 16))) — then flip every bit"
                                        + (UInt16(truncatingIfNeeded: ~folded) == truth.checksum ? " (that gives the right answer)" : "")))
            } else if answer == Int64(truth.checksum) {
                results.append(.pass("Q3 checksum of the first request", String(format4hex: truth.checksum)))
            } else if answer == Int64(truth.checksum.byteSwapped) {
                results.append(.fail("Q3 checksum of the first request", String(format4hex: UInt16(truncatingIfNeeded: answer)),
                                     hint: "byte order: the bytes are swapped; write the checksum as it appears on the wire, high byte first"))
            } else if answer == Int64(~truth.checksum) {
                results.append(.fail("Q3 checksum of the first request", String(format4hex: UInt16(truncatingIfNeeded: answer)),
                                     hint: "that is the sum before the last step: the checksum is its one's complement (flip every bit)"))
            } else {
                results.append(.fail("Q3 checksum of the first request", String(format4hex: UInt16(truncatingIfNeeded: answer)),
                                     hint: "add the 16-bit words with the checksum field as 0, fold the carries back in, then flip every bit; raw-ping --explain shows every step"))
            }
        } else {
            results.append(missing("Q3 checksum of the first request", "checksum"))
        }
        simple("Q4 TTL of the first reply", "reply_ttl", Int64(truth.replyTTL)) { _ in "the TTL field of the reply's IPv4 header (ttl= in raw-ping's line)" }
        if let type = truth.errorType, let code = truth.errorCode {
            simple("Q5 the ICMP error: type", "error_type", Int64(type)) { _ in "destination unreachable is type 3, time exceeded 11" }
            simple("Q5 the ICMP error: code", "error_code", Int64(code)) { _ in "for destination unreachable: 0 net, 1 host, 3 port (nothing listens on that UDP port)" }
            if let port = truth.quotedPort {
                simple("Q5 the port quoted in the error", "quoted_port", Int64(port)) { answer in
                    "an ICMP error quotes the datagram that caused it — its IP header and at least 8 bytes of data (RFC 792), Linux all that fits: the quoted UDP header's destination port is there"
                        + (answer == 0 ? "" : " (is \(answer) the source port?)")
                }
            }
        } else {
            results.append(.fail("Q5 the ICMP error", "your capture has no ICMP error", hint: "step 3: send a UDP datagram to a port nothing listens on while capturing"))
        }
        return results
    }

    public static func answersFile(for truth: Truth) -> String {
        """
        request_type = 8
        request_code = 0
        reply_type = 0
        identifier = \(truth.identifier)
        sequence = \(truth.sequence)
        checksum = "\(String(format4hex: truth.checksum))"
        reply_ttl = \(truth.replyTTL)
        error_type = \(truth.errorType ?? 0)
        error_code = \(truth.errorCode ?? 0)
        quoted_port = \(truth.quotedPort ?? 0)

        """
    }

    /// `labcheck 04` without `--capture`: two pings of 127.0.0.1 and a UDP datagram to a
    /// closed port (answered by ICMP port unreachable).
    public static func makeCapture(to path: String) throws -> String {
        return try record(path, filter: "icmp") {
            var pingOptions = Pinger.Options()
            pingOptions.count = 2
            pingOptions.interval = .milliseconds(200)
            pingOptions.timeout = .seconds(2)
            _ = try Pinger(host: "127.0.0.1", options: pingOptions).run(stop: { false }) { _ in }
            let closed = try Socket.udp()
            try closed.bind(to: .loopback(0))
            let port = try closed.localAddress
            try closed.close()
            let udp = try Socket.udp()
            _ = try udp.send(Array("anyone there?".utf8), to: port)
        }
    }
}

extension String {
    /// "0x1a2b".
    init(format4hex value: UInt16) {
        let digits = String(value, radix: 16)
        self = "0x" + String(repeating: "0", count: 4 - digits.count) + digits
    }
}

extension Lab04: QuestionLab {
    public static let number = "04"
    public static let slug = "04-icmp-and-raw-sockets"
    public static let title = "ICMP and raw sockets"
    public static let topics = "echo request and reply, identifier and sequence, a checksum by hand, TTL, what an error quotes"

    public static func truth(from path: String, request: LabRequest) throws -> Truth { try truth(from: path) }
}
