#if canImport(Glibc)
import Glibc
#endif
import SocketCore

/// One step of a measurement, run by both processes in the same order: the parent drives,
/// the child (the peer) answers. The plan travels to the child as text on its command line,
/// so the child is started once per mechanism and the two never disagree on what comes next.
public enum Phase: Equatable, Sendable {
    /// `count` round trips of a `size`-byte message: the parent sends, the child sends it back.
    case pingPong(size: Int, count: Int)
    /// `count` messages of `size` bytes one way, then the child's acknowledgement with its
    /// own call count. `credit` > 0 (UDP only): the parent keeps at most `credit` messages
    /// unacknowledged, because UDP drops what the receiver's buffer cannot hold.
    case throughput(size: Int, count: Int, credit: Int)
    /// Messages of these sizes back to back; the child, once all have arrived, reports what
    /// each of its reads returned.
    case boundaries(sizes: [Int])
    /// `total` bytes in `size`-byte messages, each sent back by the child and compared.
    case integrity(size: Int, total: Int)

    var text: String {
        switch self {
        case .pingPong(let size, let count): "p:\(size):\(count)"
        case .throughput(let size, let count, let credit): "t:\(size):\(count):\(credit)"
        case .boundaries(let sizes): "b:" + sizes.map(String.init).joined(separator: ".")
        case .integrity(let size, let total): "i:\(size):\(total)"
        }
    }

    init?(text: some StringProtocol) {
        let fields = String(text).split(separator: ":").map(String.init)
        let numbers = fields.dropFirst().map { Int($0) }
        func number(_ index: Int, in range: ClosedRange<Int>) -> Int? {
            guard index < numbers.count, let value = numbers[index], range.contains(value) else { return nil }
            return value
        }
        let anySize = 1...Workload.largestMessage
        switch fields.first {
        case "p" where fields.count == 3:
            guard let size = number(0, in: anySize), let count = number(1, in: 1...100_000_000) else { return nil }
            self = .pingPong(size: size, count: count)
        case "t" where fields.count == 4:
            guard let size = number(0, in: anySize), let count = number(1, in: 1...100_000_000),
                  let credit = number(2, in: 0...1_000_000) else { return nil }
            self = .throughput(size: size, count: count, credit: credit)
        case "b" where fields.count == 2:
            let sizes = fields[1].split(separator: ".").compactMap { Int($0) }
            guard !sizes.isEmpty, sizes.count <= 1000, sizes.allSatisfy({ anySize.contains($0) }) else { return nil }
            self = .boundaries(sizes: sizes)
        case "i" where fields.count == 3:
            guard let size = number(0, in: anySize), let total = number(1, in: 1...(1 << 40)) else { return nil }
            self = .integrity(size: size, total: total)
        default:
            return nil
        }
    }

    static func plan(_ phases: [Phase]) -> String { phases.map(\.text).joined(separator: ",") }

    static func parsePlan(_ text: String) throws -> [Phase] {
        var phases: [Phase] = []
        for item in text.split(separator: ",") {
            guard let phase = Phase(text: item) else { throw IPCError.badPlan(String(item)) }
            phases.append(phase)
        }
        return phases
    }
}

/// What the parent measured in one phase.
enum PhaseResult {
    case roundTrips([UInt64])
    case throughput(Throughput)
    case boundaries([Int])
    case intact(bytes: Int)
}

/// One throughput run as both processes counted it.
struct Throughput {
    var seconds: Double
    var messagesSent: Int
    var messagesDelivered: Int
    var bytesDelivered: Int
    var parentCalls: Int
    var childCalls: Int
}

/// The two sides of every phase, over an `IPCChannel`. Both processes hold the same
/// code, so the C program in bench/ipcbench.c is the only other copy of the workload.
enum Workload {
    static let largestMessage = 1 << 20
    /// The mixed sizes of the boundary test: a student sees a 1-byte message after a 100-byte
    /// one, a 1,500-byte one (an Ethernet frame's worth), and the page-sized 4,096.
    static let boundarySizes = [1, 100, 7, 1500, 3, 64, 999, 2, 512, 33, 4096, 5, 250, 17, 1024, 8, 300, 77, 2048, 11]
    /// How long the child waits for all of the boundary test's bytes before it reads.
    static let settleTimeout: Duration = .seconds(2)

    /// Bytes that say where in the stream they are: a message that comes back shifted, cut
    /// or mixed with another differs from the pattern at its offset.
    static func pattern(_ buffer: UnsafeMutableRawBufferPointer, startingAt offset: Int) {
        for index in 0..<buffer.count { buffer[index] = UInt8(truncatingIfNeeded: (offset + index) % 251) }
    }

    // MARK: the parent

    static func drive(_ phase: Phase, over channel: IPCChannel, buffers: Buffers) throws -> PhaseResult {
        let send = buffers.send, receive = buffers.receive
        switch phase {
        case .pingPong(let size, let count):
            var samples = [UInt64](repeating: 0, count: count)
            let message = UnsafeRawBufferPointer(rebasing: send[..<size])
            let clock = ContinuousClock()
            for index in 0..<count {
                let start = clock.now
                try channel.send(message)
                let got = try channel.receive(size, into: receive)
                let elapsed = clock.now - start
                guard got == size else { throw IPCError.wrongSize(mechanism: channel.mechanism, expected: size, got: got) }
                samples[index] = UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
            }
            return .roundTrips(samples)

        case .throughput(let size, let count, let credit):
            let message = UnsafeRawBufferPointer(rebasing: send[..<size])
            let callsBefore = channel.calls
            let clock = ContinuousClock()
            let start = clock.now
            var granted = 0
            for index in 0..<count {
                while credit > 0 && index - granted >= credit {
                    granted = max(granted, try readCredit(channel, receive))
                }
                try channel.send(message)
            }
            // Credit messages still on their way come before the acknowledgement.
            var acknowledgement = try readWords(channel, receive, count: credit > 0 ? nil : 3)
            while acknowledgement.count != 3 { acknowledgement = try readWords(channel, receive, count: nil) }
            let elapsed = clock.now - start
            return .throughput(Throughput(
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                messagesSent: count, messagesDelivered: acknowledgement[2], bytesDelivered: acknowledgement[1],
                parentCalls: channel.calls - callsBefore, childCalls: acknowledgement[0]))

        case .boundaries(let sizes):
            var offset = 0
            for size in sizes {
                try channel.send(UnsafeRawBufferPointer(rebasing: send[offset..<offset + size]))
                offset += size
            }
            // The child's report is one line of text: "1,100,7,…".
            var text: [UInt8] = []
            while text.last != UInt8(ascii: "\n") {
                let got = try channel.readSome(into: receive)
                if got == 0 { throw IPCError.peerFailed(mechanism: channel.mechanism, reason: "closed before reporting its reads") }
                text += UnsafeRawBufferPointer(rebasing: receive[..<got])
                if text.count > 65_536 { throw IPCError.peerFailed(mechanism: channel.mechanism, reason: "sent a report that never ends") }
            }
            return .boundaries(String(decoding: text.dropLast(), as: UTF8.self).split(separator: ",").compactMap { Int($0) })

        case .integrity(let size, let total):
            var offset = 0
            while offset < total {
                let length = min(size, total - offset)
                let outgoing = UnsafeMutableRawBufferPointer(rebasing: send[..<length])
                pattern(outgoing, startingAt: offset)
                try channel.send(UnsafeRawBufferPointer(outgoing))
                let got = try channel.receive(length, into: receive)
                guard got == length else { throw IPCError.wrongSize(mechanism: channel.mechanism, expected: length, got: got) }
                if memcmp(outgoing.baseAddress!, receive.baseAddress!, length) != 0 {
                    let first = (0..<length).first { outgoing[$0] != receive[$0] } ?? 0
                    throw IPCError.corrupted(mechanism: channel.mechanism, atByte: offset + first)
                }
                offset += length
            }
            // Restore the plain pattern the other phases send.
            pattern(send, startingAt: 0)
            return .intact(bytes: total)
        }
    }

    /// A credit message (one word: messages received so far), or the acknowledgement if the
    /// receiver has finished early — which happens only when it gave up waiting for lost ones.
    private static func readCredit(_ channel: IPCChannel, _ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let words = try readWords(channel, buffer, count: nil)
        guard words.count == 1 else {
            throw IPCError.peerFailed(mechanism: channel.mechanism, reason: "stopped receiving after \(words.count == 3 ? words[2] : 0) messages: the rest were lost")
        }
        return words[0]
    }

    /// Little-endian 64-bit words: `count` of them from a stream, or one message's worth.
    private static func readWords(_ channel: IPCChannel, _ buffer: UnsafeMutableRawBufferPointer, count: Int?) throws -> [Int] {
        let got: Int
        if let count, !channel.mechanism.keepsBoundaries {
            got = try channel.receive(count * 8, into: buffer)
        } else {
            got = try channel.readSome(into: buffer)
        }
        guard got > 0, got % 8 == 0 else { throw IPCError.peerFailed(mechanism: channel.mechanism, reason: "sent an acknowledgement of \(got) bytes") }
        return (0..<got / 8).map { Int(Int64(littleEndian: buffer.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
    }

    private static func sendWords(_ words: [Int], over channel: IPCChannel) throws {
        var bytes = [UInt8]()
        for word in words { withUnsafeBytes(of: Int64(word).littleEndian) { bytes += $0 } }
        try bytes.withUnsafeBytes { try channel.send($0) }
    }

    // MARK: the child

    static func answer(_ phase: Phase, over channel: IPCChannel, buffers: Buffers) throws {
        let receive = buffers.receive
        switch phase {
        case .pingPong(let size, let count):
            for _ in 0..<count {
                let got = try channel.receive(size, into: receive)
                guard got == size else { throw IPCError.wrongSize(mechanism: channel.mechanism, expected: size, got: got) }
                try channel.send(UnsafeRawBufferPointer(rebasing: receive[..<size]))
            }

        case .throughput(let size, let count, let credit):
            let callsBefore = channel.calls
            var messages = 0, bytes = 0
            let step = max(1, credit / 2)
            while messages < count {
                let got: Int
                do {
                    got = try channel.receive(size, into: receive)
                } catch let error as SocketError where error.errno == .EAGAIN && channel.mechanism.mayLose {
                    break  // UDP: the rest was lost; the acknowledgement says how many arrived
                }
                messages += 1
                bytes += got
                if credit > 0 && messages % step == 0 && messages < count { try sendWords([messages], over: channel) }
            }
            try sendWords([channel.calls - callsBefore + 1, bytes, messages], over: channel)

        case .boundaries(let sizes):
            let total = sizes.reduce(0, +)
            var reads: [Int] = []
            if channel.mechanism.keepsBoundaries {
                for _ in sizes { reads.append(try channel.readSome(into: receive)) }
            } else {
                // Wait until every byte is there, so that the reads show what the mechanism
                // does with boundaries and not how fast this process happened to wake up.
                let deadline = ContinuousClock.now + settleTimeout
                while (try? bytesReadable(descriptor: channel.readDescriptor)) ?? total < total && ContinuousClock.now < deadline {
                    usleep(1000)
                }
                var got = 0
                while got < total {
                    let read = try channel.readSome(into: receive)
                    if read == 0 { throw IPCError.peerClosed(mechanism: channel.mechanism, after: got, of: total) }
                    reads.append(read)
                    got += read
                }
            }
            let report = Array((reads.map(String.init).joined(separator: ",") + "\n").utf8)
            try report.withUnsafeBytes { try channel.send($0) }

        case .integrity(let size, let total):
            var offset = 0
            while offset < total {
                let length = min(size, total - offset)
                let got = try channel.receive(length, into: receive)
                guard got == length else { throw IPCError.wrongSize(mechanism: channel.mechanism, expected: length, got: got) }
                try channel.send(UnsafeRawBufferPointer(rebasing: receive[..<length]))
                offset += length
            }
        }
    }

    /// A process's two buffers, as large as the largest message plus room to see a larger one.
    final class Buffers {
        let send: UnsafeMutableRawBufferPointer
        let receive: UnsafeMutableRawBufferPointer

        init(largest: Int) {
            send = .allocate(byteCount: largest + 65_536, alignment: 64)
            receive = .allocate(byteCount: largest + 65_536, alignment: 64)
            Workload.pattern(send, startingAt: 0)
            receive.initializeMemory(as: UInt8.self, repeating: 0)
        }

        deinit {
            send.deallocate()
            receive.deallocate()
        }
    }
}
