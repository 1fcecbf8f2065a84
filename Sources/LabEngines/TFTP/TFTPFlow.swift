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
    /// Once the socket is connect()ed to the peer: a second socket on the same port, where the
    /// kernel then delivers what anyone else sends to it (see `connectToPeer`).
    private var strangers: Socket?
    /// One datagram, the largest UDP can carry (so a bigger one than expected is seen whole).
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536 + 4, alignment: 16)

    init(socket: Socket, peer: SocketAddress?, settings: TFTPSettings, maxRetries: Int = 6) {
        self.socket = socket
        self.peer = peer
        timer = RetransmitTimer(fixedSeconds: settings.timeoutSeconds)
        self.maxRetries = maxRetries
    }

    deinit { buffer.deallocate() }

    /// Connects the socket to the peer, whose TID is known. The kernel then keeps the route
    /// and matches incoming datagrams to the connected socket early, instead of looking both
    /// up for every block: across the two-hosts veth link that made lock-step blocks about 10%
    /// faster (tftpd-hpa connects too). So that another sender still gets its ERROR 5 (RFC 1350
    /// §4) rather than the kernel's ICMP port unreachable, a second socket is bound to the
    /// same address and port first (both with SO_REUSEADDR): a datagram from the peer matches
    /// the connected socket better, the rest go to that one. If it cannot be made, the socket
    /// stays unconnected and sorts strangers out itself, as before.
    func connectToPeer() {
        guard let peer, strangers == nil, let local = try? socket.localAddress, let other = try? Socket.udp(local.family) else { return }
        do {
            try other.set(.reuseAddress, true)
            try other.bind(to: local)
            try socket.connect(to: peer)
            strangers = other
        } catch {
            try? other.close()
        }
    }

    /// A datagram that came to this transfer's port from another TID: ERROR 5, from the same
    /// port, and the transfer goes on undisturbed.
    private func answerStranger(on other: Socket) {
        guard let (_, sender) = try? other.receiveFrom(into: buffer), let sender else { return }
        refuse(stranger: sender, from: other)
    }

    /// ERROR 5 to `sender`, from `socket` (this transfer's port), counted.
    private func refuse(stranger sender: SocketAddress, from socket: Socket) {
        counters.strangers += 1
        let error = TFTPPacket.error(code: TFTPErrorCode.unknownTransferID.rawValue, message: "unknown transfer ID: this port serves another transfer")
        _ = try? socket.send(error.encoded(), to: sender)
    }

    func send(_ packet: TFTPPacket, to address: SocketAddress? = nil) throws {
        guard let target = address ?? peer else { return }
        _ = try socket.send(packet.encoded(), to: target)
    }

    /// The next packet from the peer within `seconds`, or nil on timeout. A packet from
    /// another port gets ERROR 5 and is otherwise ignored (RFC 1350 §4); the first answer
    /// to a client's request fixes the peer's port.
    ///
    /// `expectingMore`: in the middle of a window the next block is usually queued already,
    /// so a receive is tried before waiting (one call a block instead of poll and recvfrom).
    func next(within seconds: Double, expectingMore: Bool = false) throws -> TFTPPacket? {
        let deadline = ContinuousClock.now + .nanoseconds(Int64(seconds * 1e9))
        var tryFirst = expectingMore
        while true {
            var datagram: (size: Int, sender: SocketAddress?)?
            if tryFirst {
                tryFirst = false
                if case .ready(let queued) = try socket.tryReceiveFrom(into: buffer) { datagram = queued }
            }
            if datagram == nil {
                let left = deadline - ContinuousClock.now
                guard left > .zero else { return nil }
                let (fromPeer, fromOthers) = try socket.waitReadable(timeout: left, alsoWatching: strangers)
                if fromOthers, let strangers { answerStranger(on: strangers) }
                guard fromPeer else {
                    if fromOthers { continue }
                    return nil
                }
                datagram = try socket.receiveFrom(into: buffer)
            }
            let (size, sender) = datagram!
            guard let sender else { continue }
            if let peer, peer != sender {
                refuse(stranger: sender, from: socket)
                continue
            }
            guard size <= buffer.count, let packet = try? TFTPPacket(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<size])) else {
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
        var highestSent: Int64 = 0    // every block up to it has been read into `flight`
        var lastBlock: Int64?         // the short one, once read
        let flight = BlocksInFlight(window: settings.windowSize, blockSize: settings.blockSize)
        var retries = 0
        while true {
            // The blocks the window allows now: read (or, sent before, marked resent), then put
            // on the wire together — one sendmmsg() when the socket is connected.
            let first = next
            while next < base + window, lastBlock.map({ next <= $0 }) ?? true {
                if next > highestSent {
                    let count = try flight.read(next, from: source)
                    counters.bytes += Int64(count)
                    if count < settings.blockSize { lastBlock = next }
                } else {
                    counters.retransmissions += 1
                    flight.markResent(next)
                }
                next += 1
            }
            if first < next {
                if strangers != nil {
                    try flight.send(first..<next, on: socket)
                } else {
                    for block in first..<next { try sendData(flight.packet(block)) }
                }
                // A round only resends blocks up to highestSent and reads the ones after it.
                if next > highestSent + 1 {
                    for block in (highestSent + 1)..<next { flight.stampSent(block) }
                    highestSent = next - 1
                }
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
                if let sent = flight.sentOnce(acked) {
                    timer.sample(Double((ContinuousClock.now - sent) / .nanoseconds(1)) / 1e9)
                }
                timer.progressed()
                retries = 0
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

    /// One DATA packet, already encoded, to the peer (from a socket that is not connected).
    private func sendData(_ packet: UnsafeRawBufferPointer) throws {
        guard let peer else { return }
        _ = try socket.send(packet, to: peer)
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
            guard let packet = try next(within: timer.seconds * 2, expectingMore: unacknowledged > 0) else {
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

/// The blocks a sender has put on the wire and not yet had acknowledged: block `b` lives in
/// slot `b % window`, read from the file straight into a DATA packet (header and payload) that
/// is sent again as it is. Before this, each block was a new array, copied again into each
/// packet and kept in dictionaries by number: lock-step TFTP is one block per round trip, and
/// those allocations and hashes were most of the server's own CPU time per block.
///
/// A slot's storage is made when first used, so memory is what the window really holds. The
/// slots are one fixed buffer, not arrays in the object's stored properties: each access to
/// those was a run-time exclusivity check, several per block.
final class BlocksInFlight {
    struct Slot {
        var memory: UnsafeMutableRawPointer?
        var length = 0
        /// When the block was first sent, and whether it has been sent again (Karn: then its
        /// ACK gives no round-trip sample).
        var sentAt = ContinuousClock.now
        var resent = false
    }
    private let slots: UnsafeMutableBufferPointer<Slot>
    private let slotSize: Int

    init(window: Int, blockSize: Int) {
        slotSize = 4 + blockSize
        slots = .allocate(capacity: window)
        slots.initialize(repeating: Slot())
    }

    deinit {
        for slot in slots { slot.memory?.deallocate() }
        slots.deallocate()
    }

    private func slot(_ block: Int64) -> Int { Int(block % Int64(slots.count)) }

    /// Reads block `block` from `source` into its packet: the payload's size.
    func read(_ block: Int64, from source: some BlockSource) throws -> Int {
        let index = slot(block)
        let memory = slots[index].memory ?? UnsafeMutableRawPointer.allocate(byteCount: slotSize, alignment: 16)
        slots[index].memory = memory
        // RFC 1350 §5: opcode 3, the block number (mod 65,536), then the data.
        memory.storeBytes(of: UInt16(3).bigEndian, toByteOffset: 0, as: UInt16.self)
        memory.storeBytes(of: UInt16(truncatingIfNeeded: block).bigEndian, toByteOffset: 2, as: UInt16.self)
        let count = try source.nextBlock(into: UnsafeMutableRawBufferPointer(start: memory + 4, count: slotSize - 4))
        slots[index].length = 4 + count
        slots[index].resent = false
        return count
    }

    func packet(_ block: Int64) -> UnsafeRawBufferPointer {
        let entry = slots[slot(block)]
        return UnsafeRawBufferPointer(start: entry.memory, count: entry.length)
    }

    /// `blocks` as they are, in order, with as few sendmmsg() calls as it takes (64 a call).
    func send(_ blocks: Range<Int64>, on socket: Socket) throws(SocketError) {
        try withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: 64) { packets throws(SocketError) in
            var block = blocks.lowerBound
            while block < blocks.upperBound {
                let count = Int(min(64, blocks.upperBound - block))
                for index in 0..<count { packets[index] = packet(block + Int64(index)) }
                block += Int64(try socket.sendDatagrams(UnsafeBufferPointer(rebasing: packets[..<count])))
            }
        }
    }

    func stampSent(_ block: Int64) { slots[slot(block)].sentAt = ContinuousClock.now }
    func markResent(_ block: Int64) { slots[slot(block)].resent = true }

    /// When `block` was sent, if it was sent only once.
    func sentOnce(_ block: Int64) -> ContinuousClock.Instant? {
        let entry = slots[slot(block)]
        return entry.resent ? nil : entry.sentAt
    }
}
