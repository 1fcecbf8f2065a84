import Foundation
import Packets
import SocketCore

/// What a transfer did on the wire, the numbers Lab 08 asks a student to find in a capture:
/// every retransmission and timeout is TFTP's own work, the work TCP does below `transfer`.
public struct TFTPCounters: Sendable, Equatable {
    public var bytes: Int64 = 0
    /// DATA blocks in the file (the last one shorter than the block size).
    public var blocks: Int64 = 0
    /// DATA packets (sender) or ACK packets (receiver) sent again.
    public var retransmissions = 0
    public var timeouts = 0
    /// Duplicate DATA or ACK packets that arrived (late or repeated ones: ignored, never
    /// answered with more data — the Sorcerer's Apprentice bug of RFC 1123 §4.2.3.1).
    public var duplicates = 0
    /// Packets from another port than the transfer's (answered with ERROR 5).
    public var strangers = 0
    public var seconds: Double = 0
    public init() {}
}

/// The retransmission timer: fixed when RFC 2349's timeout was negotiated; otherwise
/// RFC 6298's estimator (SRTT + 4·RTTVAR, samples only from packets sent once — Karn), from
/// 1 s before the first sample, at least 20 ms, doubled on each timeout.
struct RetransmitTimer {
    private var smoothed: Double?
    private var variance = 0.0
    private var backoff = 1.0
    let fixed: Double?
    static let minimum = 0.020, initial = 1.0, maximum = 10.0

    init(fixedSeconds: Int?) { fixed = fixedSeconds.map(Double.init) }

    var seconds: Double {
        if let fixed { return fixed }
        guard let smoothed else { return min(Self.initial * backoff, Self.maximum) }
        return min(max(Self.minimum, smoothed + 4 * variance) * backoff, Self.maximum)
    }

    mutating func sample(_ rtt: Double) {
        backoff = 1
        guard let old = smoothed else {
            smoothed = rtt
            variance = rtt / 2
            return
        }
        variance = 0.75 * variance + 0.25 * abs(old - rtt)
        smoothed = 0.875 * old + 0.125 * rtt
    }

    mutating func timedOut() { if fixed == nil { backoff = min(backoff * 2, 64) } }
    mutating func progressed() { backoff = 1 }
}

/// One side of one transfer: the socket, the peer's transfer ID (its address and port), the
/// counters. `send` and `receive` are the two halves of RFC 1350 with RFC 7440's window.
final class TFTPEndpoint {
    let socket: Socket
    /// The peer's TID; nil until the first answer to a client's request fixes it.
    var peer: SocketAddress?
    var counters = TFTPCounters()
    var timer: RetransmitTimer
    let maxRetries: Int
    private var buffer = [UInt8](repeating: 0, count: 65536 + 4)
    private var poller = Poller()

    init(socket: Socket, peer: SocketAddress?, settings: TFTPSettings, maxRetries: Int = 6) {
        self.socket = socket
        self.peer = peer
        timer = RetransmitTimer(fixedSeconds: settings.timeoutSeconds)
        self.maxRetries = maxRetries
        poller.watch(socket, for: .readable)
    }

    func send(_ packet: TFTPPacket, to address: SocketAddress? = nil) throws {
        guard let target = address ?? peer else { return }
        _ = try socket.send(packet.encoded(), to: target)
    }

    /// The next packet from the peer within `seconds`, or nil on timeout. A packet from
    /// another port gets ERROR 5 and is otherwise ignored (RFC 1350 §4); the first answer
    /// to a client's request fixes the peer's port.
    func next(within seconds: Double) throws -> TFTPPacket? {
        let deadline = ContinuousClock.now + .nanoseconds(Int64(seconds * 1e9))
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            guard !(try poller.wait(timeout: left)).isEmpty else { return nil }
            let (size, sender) = try buffer.withUnsafeMutableBytes { try socket.receiveFrom(into: $0) }
            guard let sender else { continue }
            if let peer, peer != sender {
                counters.strangers += 1
                try? send(.error(code: TFTPErrorCode.unknownTransferID.rawValue, message: "unknown transfer ID: this port serves another transfer"), to: sender)
                continue
            }
            guard size <= buffer.count, let packet = try? TFTPPacket(decoding: buffer[..<size]) else {
                try? send(.error(code: TFTPErrorCode.illegalOperation.rawValue, message: "not a TFTP packet"), to: sender)
                throw TFTPFailure.protocolViolation("a datagram of \(size) bytes that is not a TFTP packet")
            }
            if peer == nil { peer = sender }
            return packet
        }
    }

    /// Sends `packet` and waits for its answer, sending it again after each timeout (at
    /// most `maxRetries` times) — the request of a client, the OACK of a server. A packet for
    /// which `isAnswer` says no is a duplicate: counted, and the wait goes on. The answer's
    /// round trip is a timer sample unless the packet had to be sent again (Karn). With
    /// `address` (a client's request to the server's request port) each resend forgets the
    /// peer: the answer comes from the transfer's own port, whichever request it answers.
    func exchange(_ packet: TFTPPacket, to address: SocketAddress? = nil, waitingFor what: String,
                  isAnswer: (TFTPPacket) -> Bool = { _ in true }) throws -> TFTPPacket {
        try send(packet, to: address)
        var retries = 0
        let sent = ContinuousClock.now
        while true {
            guard let answer = try next(within: timer.seconds) else {
                counters.timeouts += 1
                retries += 1
                guard retries <= maxRetries else { throw TFTPFailure.timedOut(retries: maxRetries, waitingFor: what) }
                timer.timedOut()
                counters.retransmissions += 1
                if address != nil { peer = nil }
                try send(packet, to: address)
                continue
            }
            guard isAnswer(answer) else {
                counters.duplicates += 1
                continue
            }
            if retries == 0 { timer.sample(Double((ContinuousClock.now - sent) / .nanoseconds(1)) / 1e9) }
            return answer
        }
    }

    /// Applies the server's OACK to `settings`; an option not asked for (or a larger value)
    /// gets ERROR 8 back, as RFC 2347 says, and ends the transfer.
    func acceptOptions(_ accepted: [TFTPOption], requested: [TFTPOption], into settings: inout TFTPSettings) throws {
        do { try settings.apply(oack: accepted, requested: requested) } catch {
            try? send(.error(code: TFTPErrorCode.optionNegotiation.rawValue, message: error.description))
            throw error
        }
    }

    // MARK: Sending a file (RRQ's server, WRQ's client)

    /// Sends everything `source` yields as DATA blocks of `settings.blockSize`, `windowSize`
    /// at a time, until the short last block is acknowledged. `firstBlockNumber` is 1.
    func sendFile(_ source: some BlockSource, settings: TFTPSettings) throws {
        let started = ContinuousClock.now
        let window = Int64(settings.windowSize)
        var base: Int64 = 1           // the oldest block not yet acknowledged
        var next: Int64 = 1           // the next block to put on the wire
        var highestSent: Int64 = 0
        var lastBlock: Int64?         // the short one, once read
        var cache: [Int64: [UInt8]] = [:]
        var sentAt: [Int64: ContinuousClock.Instant] = [:]
        var retransmitted: Set<Int64> = []
        var retries = 0
        while true {
            while next < base + window, lastBlock.map({ next <= $0 }) ?? true {
                if cache[next] == nil {
                    let block = try source.nextBlock(size: settings.blockSize)
                    cache[next] = block
                    counters.bytes += Int64(block.count)
                    if block.count < settings.blockSize { lastBlock = next }
                }
                try send(.data(block: UInt16(truncatingIfNeeded: next), payload: cache[next]!))
                if next <= highestSent {
                    counters.retransmissions += 1
                    retransmitted.insert(next)
                } else {
                    highestSent = next
                    sentAt[next] = ContinuousClock.now
                }
                next += 1
            }
            guard let packet = try self.next(within: timer.seconds) else {
                counters.timeouts += 1
                retries += 1
                guard retries <= maxRetries else { throw TFTPFailure.timedOut(retries: maxRetries, waitingFor: "the ACK of block \(base)") }
                timer.timedOut()
                next = base  // go back: resend the whole unacknowledged window
                continue
            }
            switch packet {
            case .ack(let number):
                // The 64-bit block this ACK names: the one in [base-1, highestSent] whose low
                // 16 bits match (a window is at most 65,535 blocks, so there is one).
                let offset = Int64(UInt16(truncatingIfNeeded: Int64(number) - (base - 1)))
                let acked = base - 1 + offset
                guard offset > 0, acked <= highestSent else {
                    counters.duplicates += 1  // an old ACK: ignored, not answered with data
                    continue
                }
                if !retransmitted.contains(acked), let sent = sentAt[acked] {
                    timer.sample(Double((ContinuousClock.now - sent) / .nanoseconds(1)) / 1e9)
                }
                timer.progressed()
                retries = 0
                for block in base...acked {
                    cache[block] = nil
                    sentAt[block] = nil
                    retransmitted.remove(block)
                }
                base = acked + 1
                if let lastBlock, acked == lastBlock {
                    counters.blocks = lastBlock
                    counters.seconds = Double((ContinuousClock.now - started) / .nanoseconds(1)) / 1e9
                    return
                }
                // The receiver saw a gap (RFC 7440): go on from the block after its ACK.
                if next > base { next = base }
            case .error(let code, let message):
                throw TFTPFailure.peerError(code: code, message: message)
            case .data, .readRequest, .writeRequest, .optionAck:
                counters.duplicates += 1  // e.g. a repeated request or a late OACK-time packet
            }
        }
    }

    // MARK: Receiving a file (RRQ's client, WRQ's server)

    /// Receives DATA blocks into `sink`, acknowledging each window (every block in lock-step),
    /// the last block, and — once per gap — the last block received in order. `resendFirst`
    /// is what to send again while the first block has not come (ACK 0 or the OACK).
    /// `store` runs before the last ACK, so that the ACK means the file is stored (a failure
    /// there becomes the peer's ERROR). Returns the last block's number, for `dally(afterLast:)`.
    @discardableResult
    func receiveFile(into sink: (ArraySlice<UInt8>) throws -> Void, settings: TFTPSettings, startingAt first: Int64 = 1,
                     resendFirst: () throws -> Void, store: () throws -> Void) throws -> Int64 {
        let started = ContinuousClock.now
        let window = settings.windowSize
        var expected = first
        var unacknowledged = 0         // blocks received in order since the last ACK
        var answeredGap = false
        var retries = 0
        var lastAckSent = ContinuousClock.now
        func ack(_ block: Int64) throws {
            try send(.ack(block: UInt16(truncatingIfNeeded: block)))
            unacknowledged = 0
            lastAckSent = ContinuousClock.now
        }
        while true {
            // The receiver waits longer than the sender, whose timer should fire first.
            guard let packet = try next(within: timer.seconds * 2) else {
                counters.timeouts += 1
                retries += 1
                guard retries <= maxRetries else { throw TFTPFailure.timedOut(retries: maxRetries, waitingFor: "DATA block \(expected)") }
                timer.timedOut()
                counters.retransmissions += 1
                if expected == first { try resendFirst() } else { try ack(expected - 1) }
                continue
            }
            switch packet {
            case .data(let number, let payload):
                let distance = UInt16(truncatingIfNeeded: Int64(number) - expected)
                if distance == 0 {
                    guard payload.count <= settings.blockSize else {
                        try? send(.error(code: TFTPErrorCode.illegalOperation.rawValue, message: "block of \(payload.count) bytes is larger than blksize \(settings.blockSize)"))
                        throw TFTPFailure.protocolViolation("DATA block \(expected) has \(payload.count) bytes, more than the block size \(settings.blockSize)")
                    }
                    // The first block after an ACK came one round trip after it (Karn: not after a retry).
                    if retries == 0 && unacknowledged == 0 && expected > first {
                        timer.sample(Double((ContinuousClock.now - lastAckSent) / .nanoseconds(1)) / 1e9)
                    }
                    retries = 0
                    answeredGap = false
                    try sink(payload[...])
                    counters.bytes += Int64(payload.count)
                    unacknowledged += 1
                    if payload.count < settings.blockSize {
                        counters.blocks = expected
                        try store()
                        try ack(expected)
                        counters.seconds = Double((ContinuousClock.now - started) / .nanoseconds(1)) / 1e9
                        return expected
                    }
                    if unacknowledged >= window { try ack(expected) }
                    expected += 1
                } else if distance < 0x8000 {
                    // A block from the future: one in between was lost. Say once where we are.
                    if !answeredGap {
                        answeredGap = true
                        counters.retransmissions += 1
                        try ack(expected - 1)
                    }
                } else {
                    counters.duplicates += 1
                    // The sender did not hear our ACK (it resends what we have): say it again,
                    // once until new data comes.
                    if !answeredGap {
                        answeredGap = true
                        counters.retransmissions += 1
                        try ack(expected - 1)
                    }
                }
            case .error(let code, let message):
                throw TFTPFailure.peerError(code: code, message: message)
            case .optionAck, .ack, .readRequest, .writeRequest:
                counters.duplicates += 1
            }
        }
    }

    /// After the last ACK (and after the file is stored: the transfer is complete here), a
    /// repeated last block means that ACK was lost; answer it for a few round trips.
    func dally(afterLast block: Int64) {
        let until = ContinuousClock.now + .nanoseconds(Int64(min(timer.seconds * 3, 2.0) * 1e9))
        while ContinuousClock.now < until {
            guard let packet = try? next(within: Double((until - ContinuousClock.now) / .nanoseconds(1)) / 1e9) else { return }
            if case .data(let number, _) = packet, number == UInt16(truncatingIfNeeded: block) {
                counters.duplicates += 1
                counters.retransmissions += 1
                try? send(.ack(block: number))
            }
        }
    }
}
