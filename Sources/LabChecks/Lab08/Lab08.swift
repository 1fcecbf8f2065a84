import Foundation
import Inspection
import LabEngines
import LabHost
import PacketCapture
import Packets
import SocketCore

/// Lab 08, moving a file: the same file over `transfer` (TCP) and over TFTP in lock-step and
/// with windowsize 16, through a lossy router. From the student's capture: what TCP resent
/// below the program, what TFTP had to resend itself, how many ACKs a window saves, and how
/// long each took.
public enum Lab08 {
    /// One TFTP read as the capture shows it: from its RRQ to its last packet.
    public struct TFTPRead: Sendable {
        public var filename: String
        public var windowSize = 1
        public var blockSize = 512
        public var dataPackets = 0
        /// Distinct blocks, counting the block number's wraps past 65,535.
        public var blocks: Int64 = 0
        public var acks = 0
        public var milliseconds = 0
        public var retransmittedData: Int { dataPackets - Int(blocks) }
    }

    public struct Truth: Sendable {
        public var tcpRetransmissions: Int
        public var tcpSegments: Int
        public var lockStep: TFTPRead
        public var windowed: TFTPRead
    }

    public enum Problem: LabBadInput {
        case missing(String)
        public var description: String {
            switch self { case .missing(let what): "\(what): see the steps of the handout (labcheck 08 without --capture makes a capture on loopback)" }
        }
    }

    public static func truth(from path: String) throws -> Truth {
        let capture = try CaptureFile(path: path)
        var tracker = ConnectionTracker(detail: .none)
        var tcpRetransmissions = 0, tcpSegments = 0
        // A TFTP read is keyed by the client's address and port (its transfer ID).
        struct Open { var read: TFTPRead; var started: Timestamp; var last: Timestamp; var requestPort: UInt16; var lastBlock: Int64 = 0; var seen: Set<Int64> = [] }
        var reads: [String: Open] = [:]
        var order: [String] = []
        try capture.forEach { frame in
            let packet = frame.decode(capture.linkType)
            if packet.tcp != nil {
                tcpSegments += 1
                if let report = tracker.add(frame: frame.number, time: frame.timestamp, packet: packet),
                   !report.analysis.isDisjoint(with: [.retransmission, .fastRetransmission, .spuriousRetransmission]) {
                    tcpRetransmissions += 1
                }
                return
            }
            guard let udp = packet.udp, let source = packet.sourceAddress, let destination = packet.destinationAddress,
                  udp.capturedPayloadLength == udp.payloadLength,
                  let tftp = try? TFTPPacket(decoding: UnsafeRawBufferPointer(rebasing: frame.bytes[udp.payloadOffset..<udp.payloadOffset + udp.payloadLength])) else { return }
            let clientKey = "\(source):\(udp.sourcePort)", serverKey = "\(destination):\(udp.destinationPort)"
            if case .readRequest(let request) = tftp, ["octet", "netascii"].contains(request.mode.lowercased()) {
                if reads[clientKey] == nil { order.append(clientKey) }
                if reads[clientKey] == nil || reads[clientKey]!.read.dataPackets == 0 {
                    reads[clientKey] = Open(read: TFTPRead(filename: request.filename), started: frame.timestamp, last: frame.timestamp, requestPort: udp.destinationPort)
                }
                return
            }
            // From the client (ACKs) or to it (DATA, OACK): the client's side names the read.
            let key = reads[clientKey] != nil ? clientKey : serverKey
            guard var open = reads[key] else { return }
            open.last = frame.timestamp
            switch tftp {
            case .optionAck(let options):
                for option in options {
                    if option.name.lowercased() == "windowsize", let value = Int(option.value) { open.read.windowSize = value }
                    if option.name.lowercased() == "blksize", let value = Int(option.value) { open.read.blockSize = value }
                }
            case .data(let number, _):
                open.read.dataPackets += 1
                // Unwrap: the block nearest to the last one seen with these low 16 bits.
                let base = open.lastBlock
                var candidate = (base & ~0xFFFF) | Int64(number)
                if candidate < base - 0x8000 { candidate += 0x10000 } else if candidate > base + 0x8000 { candidate -= 0x10000 }
                if open.seen.insert(candidate).inserted { open.read.blocks += 1 }
                open.lastBlock = max(open.lastBlock, candidate)
                if open.seen.count > 200_000 { open.seen.removeAll() }  // bounded: only recent blocks repeat
            case .ack:
                if key == clientKey { open.read.acks += 1 }
            default:
                break
            }
            open.read.milliseconds = Int((open.last.seconds(since: open.started) * 1000).rounded())
            reads[key] = open
        }
        let all = order.compactMap { reads[$0]?.read }.filter { $0.dataPackets > 0 }
        guard tcpSegments > 0 else { throw Problem.missing("the capture has no TCP segment (the `transfer send` run)") }
        guard let lockStep = all.first(where: { $0.windowSize == 1 }) else { throw Problem.missing("the capture has no lock-step TFTP read (a `transfer tftp get` without --windowsize)") }
        guard let windowed = all.first(where: { $0.windowSize > 1 }) else { throw Problem.missing("the capture has no TFTP read with a window (`transfer tftp get … --windowsize 16`)") }
        return Truth(tcpRetransmissions: tcpRetransmissions, tcpSegments: tcpSegments, lockStep: lockStep, windowed: windowed)
    }

    public static func check(_ answers: Answers, against truth: Truth) -> [CheckResult] {
        var results: [CheckResult] = []
        func ask(_ q: String, _ key: String, _ expected: Int, tolerance: Double = 0, hint: (Int64) -> String) {
            guard let answer = answers.integer(key) else {
                results.append(answers.unanswered(q, key, expecting: .wholeNumber))
                return
            }
            let close = abs(Double(answer) - Double(expected)) <= tolerance * Double(max(expected, 1))
            results.append(close ? .pass(q, "\(answer)") : .fail(q, "\(answer)", hint: hint(answer)))
        }
        let l = truth.lockStep, w = truth.windowed
        ask("Q1 TCP segments retransmitted under `transfer`", "tcp_retransmissions", truth.tcpRetransmissions) { _ in
            "count the TCP segments tshark marks as retransmissions (tcp.analysis.retransmission) in your capture: the kernel resent them, the program never knew"
        }
        ask("Q2 blocks in the lock-step TFTP read", "tftp_lockstep_blocks", Int(l.blocks)) { answer in
            answer == Int64(l.blocks) - 1 ? "a file whose size is a multiple of \(l.blockSize) still ends with a short block: an empty one" :
                "the file's size divided by the block size (\(l.blockSize)), rounded up — plus one empty block if it divides exactly; past 65,535 the block number starts again at 0"
        }
        ask("Q3 DATA packets in the lock-step read", "tftp_lockstep_data_packets", l.dataPackets) { answer in
            answer == Int64(l.blocks) ? "that is the number of blocks: count the DATA packets (tftp.opcode == 3) of that transfer, resent ones included"
                : "count the DATA packets (tftp.opcode == 3) from the server's port to your client's port in the lock-step transfer"
        }
        ask("Q4 DATA packets TFTP resent in lock-step", "tftp_lockstep_retransmitted", l.retransmittedData) { _ in
            "DATA packets minus blocks: every block sent more than once was TFTP's own retransmission after a timeout"
        }
        ask("Q5 ACKs your client sent in the windowsize \(w.windowSize) read", "tftp_window_acks", w.acks) { answer in
            answer == Int64(w.blocks) ? "with a window the client acknowledges once per \(w.windowSize) blocks (and once per gap), not every block: count tftp.opcode == 4 from your client"
                : "count the ACK packets (tftp.opcode == 4) your client sent in the windowed transfer, the ACK of the OACK (block 0) included"
        }
        ask("Q6 duration of the lock-step read (ms)", "tftp_lockstep_ms", l.milliseconds, tolerance: 0.05) { _ in
            "from the RRQ to the last packet of that transfer, in milliseconds (the difference of their frame.time_relative × 1000)"
        }
        ask("Q6 duration of the windowed read (ms)", "tftp_window_ms", w.milliseconds, tolerance: 0.05) { _ in
            "from the windowed transfer's RRQ to its last packet, in milliseconds"
        }
        return results
    }

    public static func answersFile(for truth: Truth) -> String {
        """
        tcp_retransmissions = \(truth.tcpRetransmissions)
        tftp_lockstep_blocks = \(truth.lockStep.blocks)
        tftp_lockstep_data_packets = \(truth.lockStep.dataPackets)
        tftp_lockstep_retransmitted = \(truth.lockStep.retransmittedData)
        tftp_window_acks = \(truth.windowed.acks)
        tftp_lockstep_ms = \(truth.lockStep.milliseconds)
        tftp_window_ms = \(truth.windowed.milliseconds)

        """
    }

    /// `labcheck 08` without `--capture`: a 1 MB file over `transfer` and twice over TFTP
    /// (lock-step, then windowsize 16), all on loopback, where nothing is lost.
    public static func makeCapture(to path: String) throws -> String {
        let folder = NSTemporaryDirectory() + "labcheck-08-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder + "/in", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var bytes = [UInt8](repeating: 0, count: 1_000_000)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 2654435761 >> 13) }
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/file.bin"))
        let listener = try Socket.listening(on: .loopback(0))
        let tftpSocket = try Socket.udp()
        try tftpSocket.bind(to: .loopback(0))
        let tcpPort = try listener.localAddress.port ?? 0, tftpPort = try tftpSocket.localAddress.port ?? 0
        var receiverOptions = TransferReceiver.Options()
        receiverOptions.folder = folder + "/in"
        let receiver = TransferReceiver(options: receiverOptions)
        var serverOptions = TFTPServer.Options()
        serverOptions.folder = folder
        let server = TFTPServer(options: serverOptions)
        return try record(path, filter: "tcp port \(tcpPort) or udp") {
            let tcp = Peer { () throws -> Void in
                let (connection, peer) = try listener.accept()
                receiver.handle(connection, peer: "\(peer)", events: { _ in })
            }
            _ = try TransferSender(options: .init()).send([try OutgoingFile(path: folder + "/file.bin")], to: try listener.localAddress)
            try tcp.value()
            for window in [1, 16] {
                let serving = Peer { () throws -> Void in
                    var buffer = [UInt8](repeating: 0, count: 2048)
                    let (size, sender) = try buffer.withUnsafeMutableBytes { try tftpSocket.receiveFrom(into: $0) }
                    guard let sender, case .readRequest(let request) = try TFTPPacket(decoding: buffer[..<size]) else { return }
                    _ = server.handle(request, isRead: true, from: sender, localAddress: try tftpSocket.localAddress)
                }
                var options = TFTPClient.Options()
                if window > 1 { options.windowSize = window }
                _ = try TFTPClient(options: options).get("file.bin", from: .loopback(tftpPort), to: folder + "/got-\(window).bin")
                try serving.value()
            }
        }
    }
}

extension Lab08: QuestionLab {
    public static let number = "08"
    public static let slug = "08-moving-a-file"
    public static let title = "Moving a file"
    public static let topics = "a digest over TCP, TFTP's blocks, ACKs, timeouts and windows, through loss"

    public static func truth(from path: String, request: LabRequest) throws -> Truth { try truth(from: path) }
}
