#if canImport(Glibc)
import Glibc
#endif
import PacketCapture
import ExitStatus
import Foundation
import Inspection
import LabHost
import Packets
import SocketCore
import Synchronization

/// The same workloads over TCP and over UDP, measured side by side: message boundaries, loss
/// and order, the cost on the wire, set-up time, request/response latency and throughput.
/// On two hosts (`scripts/twohosts`, with its loss) when they are up; otherwise on loopback.
public final class UDPvsTCP {
    public struct Options: Sendable {
        /// Numbered messages for the loss-and-order run.
        public var messages = 1000
        public var messageSize = 100
        /// Round trips for the latency run.
        public var roundTrips = 500
        /// Bytes for the throughput run.
        public var bulkBytes = 20_000_000
        /// Use the two-host topology (it must be up).
        public var twoHosts = false
        public init() {}
    }

    /// One protocol's column of the table.
    public struct Figures: Sendable {
        public var sizesSent: [Int] = []
        public var receiveSizes: [Int] = []
        public var delivered = 0, lost = 0, duplicated = 0, outOfOrder = 0
        public var retransmissions: Int?
        public var setupMicroseconds: Double?
        public var wireBytes: Int?
        public var payloadBytes = 0
        public var latencies: [Double] = []  // µs
        public var latencyLost = 0
        public var throughputBitsPerSecond = 0.0
        public var throughputLossPercent = 0.0

        public var wirePerPayloadByte: Double? { wireBytes.map { Double($0) / Double(max(1, payloadBytes)) } }
        public func percentile(_ p: Double) -> Double? {
            guard !latencies.isEmpty else { return nil }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
    }

    public struct Result: Sendable {
        /// Where it ran: loopback, or the two hosts.
        public var setting: String
        public var lossPercent: Double?
        public var tcp = Figures()
        public var udp = Figures()
        public var notes: [String] = []
        /// The size of the throughput run, in bytes.
        public var bulkBytes = 0
    }

    let options: Options
    /// The two hosts of `scripts/twohosts` (`topology up two-hosts`), used when asked for.
    let hosts = Topology(existing: NamedTopology.twoHosts.spec)
    public init(options: Options) { self.options = options }

    /// The message sizes of the boundaries run: small, large, odd, twice over.
    static let boundarySizes = [10, 200, 1400, 3000, 50, 8000, 1, 700, 20000, 100]

    public func run() throws -> Result {
        var result = Result(setting: "loopback (127.0.0.1)")
        let serverHost: String
        if options.twoHosts {
            guard hosts.isUp else { throw HostError.notUp(topology: hosts.spec.name) }
            serverHost = try hosts.address(of: "B")
            result.setting = "two hosts: \(try hosts.address(of: "A")) → \(serverHost) (scripts/twohosts)"
            result.lossPercent = hosts.loss(at: hosts.spec.lossPoints.last!)
        } else {
            serverHost = "127.0.0.1"
            result.notes.append("loopback: nothing is lost here; run `sudo scripts/twohosts up --loss 5` and `--two-hosts` to see what loss does")
        }
        // Server sockets on host B, then everything else on host A.
        if options.twoHosts { try Topology.enter(try hosts.host("B").namespace ?? "") }
        let address = try SocketAddress("\(serverHost):0")
        let servers = try (0..<5).map { _ in try Socket.listening(on: address) }
        let datagramServers = try (0..<4).map { _ in
            let socket = try Socket.udp()
            try socket.bind(to: address)
            try socket.set(.receiveBufferSize, 4 << 20)
            return socket
        }
        if options.twoHosts { try Topology.enter(try hosts.host("A").namespace ?? "") }

        var recorder: CaptureRecorder?
        var captureOptions = LiveCapture.Options()
        captureOptions.interface = options.twoHosts ? hosts.interfaces(of: "A").first?.name ?? "lo" : "lo"
        // Only the run the wire figures come from (loss and order): capturing the bulk run too
        // made libpcap copy every packet while the throughput was measured. On 2 CPUs, beside
        // iperf3 (scripts/bench-labtools.sh, 3 runs each): TCP 0.72–0.86 and UDP 0.64–0.76 of
        // iperf3's rate with it; 0.75–1.17 and 0.74–0.96 without.
        let ports = try [servers[1], datagramServers[1]].map { try $0.localAddress.port ?? 0 }
        captureOptions.filter = ports.map { "port \($0)" }.joined(separator: " or ")
        captureOptions.immediate = false
        captureOptions.batchTimeout = 20
        do {
            recorder = try CaptureRecorder(captureOptions)
        } catch {
            result.notes.append("no capture (\(error.exitStatus == .missingPrivilege ? "needs root or CAP_NET_RAW" : "\(error)")): wire bytes and TCP retransmissions are not counted")
        }

        try boundaries(tcp: servers[0], udp: datagramServers[0], into: &result)
        try lossAndOrder(tcp: servers[1], udp: datagramServers[1], into: &result)
        try latency(tcp: servers[2], udp: datagramServers[2], into: &result)
        try throughput(tcp: servers[3], udp: datagramServers[3], into: &result)

        if let recorder {
            recorder.settle()
            recorder.stop()
            account(recorder.frames(from: 0), linkType: recorder.linkType,
                    tcpPort: try servers[1].localAddress.port ?? 0, udpPort: try datagramServers[1].localAddress.port ?? 0, into: &result)
        }
        return result
    }

    // MARK: - The workloads

    /// N messages of mixed sizes, each with its own send(); what each receive returned.
    func boundaries(tcp listener: Socket, udp: Socket, into result: inout Result) throws {
        let sizes = Self.boundarySizes + Self.boundarySizes
        result.tcp.sizesSent = sizes
        result.udp.sizesSent = sizes
        let tcpServer = Peer { () throws -> [Int] in
            let (connection, _) = try listener.accept()
            usleep(100_000)  // let the data pile up, as a busy server would
            var sizes: [Int] = []
            while true {
                let chunk = try connection.receive(upTo: 65_536)
                if chunk.isEmpty { break }
                sizes.append(chunk.count)
            }
            return sizes
        }
        let client = try Socket.connected(to: try listener.localAddress, timeout: .seconds(5))
        for size in sizes { try client.send([UInt8](repeating: 0x61, count: size)) }
        try client.shutdown(.write)
        result.tcp.receiveSizes = try tcpServer.value()
        try client.close()

        try udp.set(.receiveTimeout, .milliseconds(500))
        let udpServer = Peer { () throws -> [Int] in
            var sizes: [Int] = []
            while let datagram = try? udp.receiveFrom(upTo: 65_536) { sizes.append(datagram.size) }
            return sizes
        }
        let sender = try Socket.udp()
        for size in sizes {
            _ = try sender.send([UInt8](repeating: 0x61, count: size), to: try udp.localAddress)
            usleep(1000)
        }
        result.udp.receiveSizes = try udpServer.value()
    }

    /// Numbered messages: how many arrive, how many twice, how many out of order.
    func lossAndOrder(tcp listener: Socket, udp: Socket, into result: inout Result) throws {
        let count = options.messages, size = max(8, options.messageSize)
        func message(_ number: Int) -> [UInt8] {
            var bytes = [UInt8](repeating: 0x6D, count: size)
            withUnsafeBytes(of: UInt32(number).bigEndian) { bytes.replaceSubrange(0..<4, with: $0) }
            return bytes
        }
        @Sendable func number(_ bytes: [UInt8]) -> Int { bytes.count < 4 ? -1 : Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3]) }
        struct Tally: Sendable { var seen = Set<Int>(), delivered = 0, duplicated = 0, outOfOrder = 0, highest = -1 }
        func tally(_ numbers: [Int]) -> Tally {
            var t = Tally()
            for n in numbers {
                if t.seen.contains(n) { t.duplicated += 1; continue }
                t.seen.insert(n)
                t.delivered += 1
                if n < t.highest { t.outOfOrder += 1 }
                t.highest = max(t.highest, n)
            }
            return t
        }

        let tcpServer = Peer { () throws -> [Int] in
            let (connection, _) = try listener.accept()
            var stream = MessageStream(connection)
            var numbers: [Int] = []
            while let frame = try stream.readFrame() { numbers.append(number(frame)) }
            return numbers
        }
        let started = ContinuousClock.now
        let client = try Socket.connected(to: try listener.localAddress, timeout: .seconds(10))
        let setup = ContinuousClock.now - started
        result.tcp.setupMicroseconds = Double(setup.components.seconds) * 1e6 + Double(setup.components.attoseconds) / 1e12
        // One segment per message, paced as the datagrams are below: the two protocols carry
        // the same packets, and on a lossy link TCP has hundreds of segments to lose, not the
        // ~36 that 500 messages fill when Nagle packs them (at 10% loss, 36 segments see no
        // loss about 2% of the time; 500 see none about once in 10^23).
        try client.set(.noDelay, true)
        let stream = MessageStream(client)
        for n in 0..<count {
            try stream.writeFrame(message(n))
            if n % 10 == 9 { usleep(200) }
        }
        try client.shutdown(.write)
        let tcpTally = tally(try tcpServer.value(timeout: .seconds(60)))
        try client.close()
        result.tcp.delivered = tcpTally.delivered
        result.tcp.lost = count - tcpTally.delivered
        result.tcp.duplicated = tcpTally.duplicated
        result.tcp.outOfOrder = tcpTally.outOfOrder
        result.tcp.payloadBytes = count * (size + 4)  // with MessageStream's 4-byte length prefix

        try udp.set(.receiveTimeout, .milliseconds(500))
        let udpServer = Peer { () throws -> [Int] in
            var numbers: [Int] = []
            while let datagram = try? udp.receiveFrom(upTo: 65_536) { numbers.append(number(datagram.bytes)) }
            return numbers
        }
        let sender = try Socket.udp()
        let target = try udp.localAddress
        for n in 0..<count {
            _ = try sender.send(message(n), to: target)
            if n % 10 == 9 { usleep(200) }  // paced: loss should come from the link, not a full buffer
        }
        let udpTally = tally(try udpServer.value(timeout: .seconds(60)))
        result.udp.delivered = udpTally.delivered
        result.udp.lost = count - udpTally.delivered
        result.udp.duplicated = udpTally.duplicated
        result.udp.outOfOrder = udpTally.outOfOrder
        result.udp.payloadBytes = count * size
    }

    /// Small request, same-size reply, one at a time.
    func latency(tcp listener: Socket, udp: Socket, into result: inout Result) throws {
        let rounds = options.roundTrips
        let tcpServer = Peer { () throws -> Void in
            let (connection, _) = try listener.accept()
            try connection.set(.noDelay, true)
            while true {
                let request = try connection.receive(upTo: 64)
                if request.isEmpty { return }
                try connection.send(request)
            }
        }
        let client = try Socket.connected(to: try listener.localAddress, timeout: .seconds(5))
        try client.set(.noDelay, true)
        let request = [UInt8](repeating: 0x71, count: 32)
        let clock = ContinuousClock()
        for _ in 0..<rounds {
            let start = clock.now
            try client.send(request)
            _ = try client.receive(exactly: 32)
            result.tcp.latencies.append(Self.microseconds(clock.now - start))
        }
        try client.shutdown(.write)
        try tcpServer.value()
        try client.close()

        try udp.set(.receiveTimeout, .milliseconds(300))
        let stop = Atomic<Bool>(false)
        let udpServer = Peer { () throws -> Void in
            while !stop.load(ordering: .relaxed) {
                guard let datagram = try? udp.receiveFrom(upTo: 64), let sender = datagram.sender else { continue }
                _ = try? udp.send(datagram.bytes, to: sender)
            }
        }
        let socket = try Socket.udp()
        try socket.set(.receiveTimeout, .milliseconds(100))
        let target = try udp.localAddress
        for round in 0..<rounds {
            var payload = request
            payload[0] = UInt8(truncatingIfNeeded: round)
            payload[1] = UInt8(truncatingIfNeeded: round >> 8)
            let start = clock.now
            _ = try socket.send(payload, to: target)
            // Wait for this round's reply; a late reply to an earlier round is skipped.
            var answered = false
            while let reply = try? socket.receiveFrom(upTo: 64) {
                if reply.bytes.count >= 2 && reply.bytes[0] == payload[0] && reply.bytes[1] == payload[1] { answered = true; break }
            }
            if answered { result.udp.latencies.append(Self.microseconds(clock.now - start)) } else { result.udp.latencyLost += 1 }
        }
        stop.store(true, ordering: .relaxed)
        try udpServer.value()
    }

    /// As many bytes as fast as each can: TCP until the receiver has them all, UDP until the
    /// link has been quiet for 300 ms (what did not arrive by then was lost).
    func throughput(tcp listener: Socket, udp: Socket, into result: inout Result) throws {
        let total = options.bulkBytes
        let tcpServer = Peer { () throws -> Int in
            let (connection, _) = try listener.accept()
            // Count and discard, as iperf3's receiver does: keeping 20 MB would measure memcpy.
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
            defer { buffer.deallocate() }
            var received = 0
            while true {
                let count = try connection.receive(into: buffer)
                if count == 0 { return received }
                received += count
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        let client = try Socket.connected(to: try listener.localAddress, timeout: .seconds(5))
        let block = [UInt8](repeating: 0x62, count: 128 << 10)  // iperf3's default length
        var sent = 0
        while sent < total {
            let size = min(block.count, total - sent)
            try block.withUnsafeBytes { try client.send(UnsafeRawBufferPointer(rebasing: $0[..<size])) }
            sent += size
        }
        try client.shutdown(.write)
        let received = try tcpServer.value(timeout: .seconds(120))
        let elapsed = Self.microseconds(clock.now - start) / 1e6
        result.tcp.throughputBitsPerSecond = Double(received) * 8 / elapsed
        result.bulkBytes = total
        try client.close()

        try udp.set(.receiveTimeout, .milliseconds(300))
        let udpServer = Peer { () throws -> (bytes: Int, seconds: Double) in
            var bytes = 0
            var first: ContinuousClock.Instant?, last = ContinuousClock.now
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
            defer { buffer.deallocate() }
            // recv(2), not recvfrom(2): the sender's address is not needed, and turning it into
            // a SocketAddress for every datagram was a tenth of the receiver's time.
            while let size = try? udp.receive(into: buffer) {
                if first == nil { first = ContinuousClock.now }
                last = ContinuousClock.now
                bytes += size
            }
            return (bytes, first.map { UDPvsTCP.microseconds(last - $0) / 1e6 } ?? 0)
        }
        let sender = try Socket.udp()
        let datagram = [UInt8](repeating: 0x75, count: 1400)  // fits a 1500-byte MTU
        let target = try udp.localAddress
        var datagrams = 0
        datagram.withUnsafeBytes { buffer in
            while datagrams * datagram.count < total {
                _ = try? sender.send(buffer, to: target)  // ENOBUFS is loss too
                datagrams += 1
            }
        }
        let (bytes, seconds) = try udpServer.value(timeout: .seconds(120))
        result.udp.throughputBitsPerSecond = seconds > 0 ? Double(bytes) * 8 / seconds : 0
        result.udp.throughputLossPercent = 100 * (1 - Double(bytes) / Double(datagrams * datagram.count))
    }

    /// Bytes on the wire of the loss-and-order run, and TCP's retransmissions in it, from the
    /// capture (the inspector counts them as tshark would).
    func account(_ frames: [CapturedFrame], linkType: LinkType, tcpPort: UInt16, udpPort: UInt16, into result: inout Result) {
        var tracker = ConnectionTracker(detail: .none)
        var tcpBytes = 0, udpBytes = 0, retransmissions = 0
        for frame in frames {
            let packet = frame.decode(linkType)
            if let tcp = packet.tcp, tcp.sourcePort == tcpPort || tcp.destinationPort == tcpPort {
                tcpBytes += frame.originalLength
                if let report = tracker.add(frame: frame.number, time: frame.timestamp, packet: packet),
                   !report.analysis.isDisjoint(with: [.retransmission, .fastRetransmission, .spuriousRetransmission]) {
                    retransmissions += 1
                }
            } else if let udp = packet.udp, udp.sourcePort == udpPort || udp.destinationPort == udpPort {
                udpBytes += frame.originalLength
            }
        }
        result.tcp.wireBytes = tcpBytes
        result.udp.wireBytes = udpBytes
        result.tcp.retransmissions = retransmissions
    }

    static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }
}
