import Crypto
import Foundation
import SocketCore

/// `transfer send`: offers each file, continues a partial one when asked to (`resume`) and
/// the receiver's bytes are the start of this file, streams the rest hashing as it goes, and
/// reads the receiver's verdict.
public struct TransferSender: Sendable {
    public struct Options: Sendable {
        public var resume = false
        public var overwrite = false
        /// Bytes per second at most (curl's --limit-rate): a slow link on loopback, so a
        /// student can interrupt a transfer halfway and resume it.
        public var limitRate: Int64?
        public var connectTimeout: Duration = .seconds(10)
        public init() {}
    }

    /// What became of one file.
    public struct Sent: Sendable {
        public var name: String
        public var size: Int64
        /// Where the data started: the receiver's partial file when resumed, else 0.
        public var resumedFrom: Int64
        /// With `resume`: the receiver held bytes that are not the start of this file.
        public var partialMismatch = false
        public var bytesSent: Int64
        public var seconds: Double
        public var sha256: String
        public var verdict: Verdict

        public enum Verdict: Sendable, Equatable {
            case ok
            case refused(String)
            case failed(String)
        }
    }

    /// Progress of the file being sent, for the tty line.
    public struct Progress: Sendable {
        public var name: String
        public var done: Int64
        public var size: Int64
        public var resumedFrom: Int64
        public var seconds: Double
    }

    public let options: Options
    public init(options: Options) { self.options = options }

    /// Sends `files` (opened already: a missing file is bad input before any connection).
    public func send(_ files: [OutgoingFile], to address: SocketAddress, progress: ((Progress) -> Void)? = nil) throws -> [Sent] {
        let socket = try Socket.connected(to: address, timeout: options.connectTimeout)
        defer { try? socket.close() }
        // The protocol alternates small lines with data: without TCP_NODELAY the trailer
        // after a file's last bytes waits for their ACK, which the receiver delays 40 ms.
        try socket.set(.noDelay, true)
        var stream = MessageStream(socket, maxMessageSize: TransferProtocol.maxHeaderLine)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var results: [Sent] = []
        for file in files {
            results.append(try send(file, &stream, &buffer, progress: progress))
        }
        try socket.shutdown(.write)
        return results
    }

    private func send(_ file: OutgoingFile, _ stream: inout MessageStream, _ buffer: inout [UInt8],
                      progress: ((Progress) -> Void)?) throws -> Sent {
        let offer = TransferProtocol.Offer(name: file.name, size: file.size, mode: file.mode, resume: options.resume, overwrite: options.overwrite)
        try stream.socket.send(Array(offer.lines.joined(separator: "\n").utf8) + [10])
        var sent = Sent(name: file.name, size: file.size, resumedFrom: 0, bytesSent: 0, seconds: 0, sha256: "", verdict: .ok)
        let reply = try readReply(&stream, after: "the offer of \(file.name)")
        let (word, rest) = TransferProtocol.split(reply)
        if word == "REFUSED" {
            sent.verdict = .refused(rest)
            return sent
        }
        guard word == "READY" else { throw TransferProtocol.Violation("expected READY or REFUSED, got \"\(reply.prefix(60))\"") }
        let fields = rest.split(separator: " ")
        var hasher = SHA256()
        if options.resume, fields.count == 2, let held = Int64(fields[0]), held > 0, held <= file.size {
            let prefix = try file.prefixDigest(held)
            if prefix.hex == fields[1].lowercased() {
                sent.resumedFrom = held
                hasher = prefix.state
            } else {
                sent.partialMismatch = true
            }
        }
        try stream.writeLine("START \(sent.resumedFrom)")
        let clock = ContinuousClock()
        let began = clock.now
        var offset = sent.resumedFrom
        var lastReport = began
        while offset < file.size {
            let want = Int(min(Int64(buffer.count), file.size - offset, options.limitRate.map { max($0 / 10, 1) } ?? Int64.max))
            let got = try buffer.withUnsafeMutableBytes { try file.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
            guard got > 0 else { throw FileProblem("read()", file.path, .ioError) }  // the file shrank while being sent
            try buffer.withUnsafeBytes { bytes throws in
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[..<got])
                hasher.update(bufferPointer: chunk)
                do { try stream.socket.send(chunk) } catch let error as SocketError {
                    throw error.errno == .EPIPE || error.errno == .ECONNRESET
                        ? TransferProtocol.Violation("the receiver closed the connection after \(offset - sent.resumedFrom) bytes of \(file.name): its log says why")
                        : error
                }
            }
            offset += Int64(got)
            let now = clock.now
            if let limit = options.limitRate {
                let due = Double(offset - sent.resumedFrom) / Double(limit)
                let elapsed = Self.seconds(now - began)
                if due > elapsed { usleep(UInt32(min((due - elapsed) * 1e6, 1e6))) }
            }
            if let progress, now - lastReport >= .milliseconds(200) {
                lastReport = now
                progress(Progress(name: file.name, done: offset, size: file.size, resumedFrom: sent.resumedFrom, seconds: Self.seconds(now - began)))
            }
        }
        sent.sha256 = Digest.hex(hasher.finalize())
        try stream.writeLine("SHA256 \(sent.sha256)")
        let verdict = try readReply(&stream, after: "the data of \(file.name)")
        sent.seconds = Self.seconds(clock.now - began)
        sent.bytesSent = file.size - sent.resumedFrom
        progress?(Progress(name: file.name, done: file.size, size: file.size, resumedFrom: sent.resumedFrom, seconds: sent.seconds))
        let (verdictWord, reason) = TransferProtocol.split(verdict)
        switch verdictWord {
        case "OK": sent.verdict = .ok
        case "FAILED": sent.verdict = .failed(reason)
        default: throw TransferProtocol.Violation("expected OK or FAILED, got \"\(verdict.prefix(60))\"")
        }
        return sent
    }

    private func readReply(_ stream: inout MessageStream, after what: String) throws -> String {
        guard let line = try stream.readLine() else {
            throw TransferProtocol.Violation("the receiver closed the connection after \(what) without an answer: its log says why")
        }
        return line
    }

    static func seconds(_ duration: Duration) -> Double { Double(duration / .nanoseconds(1)) / 1e9 }
}
