#if canImport(Glibc)
import Glibc
#endif
import Histogram
import LabHost
import SocketCore
import TextOutput

/// ipc-compare: the same workload through every local IPC mechanism, between two real
/// processes — this one and a child it starts (`ipc-compare peer`, the same program) — so the
/// numbers include what IPC between processes costs: two address spaces, two schedulers' worth
/// of wake-ups, and for the Internet sockets the whole TCP/IP stack on loopback.
public struct IPCCompare {
    public struct Options: Sendable {
        public var mechanisms: [Mechanism] = Mechanism.allCases
        /// Measured round trips per message size, split over the repetitions.
        public var roundTrips = 10_000
        /// Round trips before measuring: caches, page faults, the CPUs' clocks ramping up.
        public var warmup = 1_000
        public var repetitions = 3
        /// Scales the bytes of every throughput run (0.01 for a quick look).
        public var scale = 1.0
        /// Pin this process and the child to these CPUs (sched_setaffinity), or leave them to
        /// the scheduler.
        public var cpus: (parent: Int, child: Int)? = nil
        /// Where FIFOs and Unix socket files go (nil: a fresh folder under /tmp).
        public var directory: String? = nil
        /// The abstract names' prefix (nil: socketlab-ipc-PID).
        public var abstractName: String? = nil
        /// Bytes each mechanism carries there and back, compared byte for byte.
        public var verifyBytes = 10_000_000
        /// The program and arguments that start the child: this program's `peer` command.
        public var peerCommand: [String] = []

        public init() {}
    }

    public static let latencySizes = [1, 100]
    public static let throughputSizes = [100, 4096, 65_536, 1_048_576]
    /// Bytes per throughput run at scale 1: enough for a run to last tens of milliseconds
    /// even on the fastest mechanism, few enough for the whole table in well under a minute.
    static let throughputBytes: [Int: Int] = [100: 8_000_000, 4096: 64_000_000, 65_536: 128_000_000, 1_048_576: 128_000_000]

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    public func run(progress: (String) -> Void = { _ in }) throws -> IPCResult {
        signal(SIGPIPE, SIG_IGN)  // a pipe's write() to a vanished reader: EPIPE, not death
        if let cpus = options.cpus { try pinToCPU(cpus.parent) }
        let ownDirectory = options.directory == nil
        guard let directory = options.directory ?? FreshFile.temporaryFolder("socketlab-ipc") else {
            throw SocketError.system(call: .open, errno: .current, address: nil)
        }
        defer {
            if ownDirectory {
                for name in ["ipc-to-peer", "ipc-from-peer", "ipc-stream.sock", "ipc-parent.sock", "ipc-peer.sock"] { unlink(directory + "/" + name) }
                rmdir(directory)
            }
        }
        let place = Rendezvous.Place(directory: directory, abstractPrefix: options.abstractName ?? "socketlab-ipc-\(getpid())")
        var results: [MechanismResult] = []
        for mechanism in options.mechanisms {
            progress(mechanism.rawValue)
            results.append(try measure(mechanism, place: place))
        }
        return IPCResult(mechanisms: results, roundTrips: options.roundTrips, warmup: options.warmup,
                         repetitions: options.repetitions, cpus: options.cpus.map { [$0.parent, $0.child] },
                         onlineCPUs: sysconf(Int32(_SC_NPROCESSORS_ONLN)), kernel: Self.kernelRelease)
    }

    /// One mechanism, from the child's start to its exit.
    func measure(_ mechanism: Mechanism, place: Rendezvous.Place) throws -> MechanismResult {
        var result = MechanismResult(mechanism: mechanism, sentSizes: Workload.boundarySizes)
        var phases: [Phase] = [.boundaries(sizes: Workload.boundarySizes)]
        let repetitions = max(1, options.repetitions)
        let perRepetition = max(1, options.roundTrips / repetitions)
        for size in Self.latencySizes {
            if options.warmup > 0 { phases.append(.pingPong(size: size, count: options.warmup)) }
            phases += Array(repeating: .pingPong(size: size, count: perRepetition), count: repetitions)
        }
        for size in Self.throughputSizes {
            if let reason = MessageLimit.refusal(mechanism, size: size) {
                result.notMeasured[size] = reason
                continue
            }
            let count = max(16, Int(Double(Self.throughputBytes[size]!) * options.scale) / size)
            let credit = mechanism.mayLose ? MessageLimit.udpCredit(size: size, family: mechanism == .udp4 ? .ipv4 : .ipv6) : 0
            phases += Array(repeating: .throughput(size: size, count: count, credit: credit), count: repetitions)
        }
        let integritySize = mechanism.keepsBoundaries ? 32_768 : 65_536
        if options.verifyBytes > 0 { phases.append(.integrity(size: integritySize, total: options.verifyBytes)) }

        var rendezvous = try Rendezvous(mechanism, place: place)
        let errors = try PipeEnd.makePipe()
        var command = options.peerCommand + ["--mechanism", mechanism.rawValue, "--plan", Phase.plan(phases)] + rendezvous.childArguments
        if let cpus = options.cpus { command += ["--cpu", String(cpus.child)] }
        let child = try ChildProcess(command, standardInput: rendezvous.childInput, standardOutput: rendezvous.childOutput,
                                     standardError: errors.writing.descriptor)
        try errors.writing.close()
        defer { child.stop(grace: .seconds(1)) }
        do {
            let channel = try rendezvous.meet(child)
            defer { channel.close() }
            let buffers = Workload.Buffers(largest: Workload.largestMessage)
            var samples: [Int: [[UInt64]]] = [:]
            var runs: [Int: [Throughput]] = [:]
            var warmedUp: Set<Int> = []
            for phase in phases {
                let outcome = try Workload.drive(phase, over: channel, buffers: buffers)
                switch (phase, outcome) {
                case (.pingPong(let size, _), .roundTrips(let times)):
                    if options.warmup > 0 && !warmedUp.contains(size) {
                        warmedUp.insert(size)  // the first run of each size is the warm-up
                    } else {
                        samples[size, default: []].append(times)
                    }
                case (.throughput(let size, _, _), .throughput(let run)):
                    runs[size, default: []].append(run)
                case (_, .boundaries(let reads)):
                    result.readsReturned = reads
                case (_, .intact(let bytes)):
                    result.intactBytes = bytes
                default:
                    break
                }
            }
            for (size, repetitions) in samples { result.latency[size] = LatencySummary(repetitions) }
            for (size, repetitions) in runs { result.throughput[size] = ThroughputSummary(repetitions) }
        } catch {
            // The child's own words, when it failed first, say more than "the peer closed".
            if let reason = Self.childFailure(child, errors: errors.reading) {
                throw IPCError.peerFailed(mechanism: mechanism, reason: reason)
            }
            throw error
        }
        if let reason = Self.childFailure(child, errors: errors.reading, waiting: .seconds(5)) {
            throw IPCError.peerFailed(mechanism: mechanism, reason: reason)
        }
        return result
    }

    /// What went wrong in the child, if it did: its exit status and the last line it wrote.
    private static func childFailure(_ child: ChildProcess, errors: PipeEnd, waiting: Duration = .milliseconds(500)) -> String? {
        let deadline = ContinuousClock.now + waiting
        while child.isRunning && ContinuousClock.now < deadline { usleep(1000) }
        guard let status = child.exitStatus else { return "did not exit within \(waiting) after the last phase" }
        if status == .exited(0) { return nil }
        try? errors.setNonBlocking(true)
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while text.count < 65_536, let got = try? chunk.withUnsafeMutableBytes({ try errors.read(into: $0) }), got > 0 {
            text += chunk[..<got]
        }
        let said = String(decoding: text, as: UTF8.self).split(separator: "\n").last.map { ": \($0)" } ?? ""
        return "ended with \(status)\(said)"
    }

    static var kernelRelease: String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// The child's side: `ipc-compare peer`, started by `IPCCompare` with its plan.
public enum IPCPeer {
    public static func run(mechanism: Mechanism, plan: String, address: String?, bind: String?, cpu: Int?) throws {
        signal(SIGPIPE, SIG_IGN)
        if let cpu { try pinToCPU(cpu) }
        let phases = try Phase.parsePlan(plan)
        let channel = try Rendezvous.join(mechanism, address: address, bind: bind)
        defer { channel.close() }
        try channel.limitReceiveWait(to: .seconds(5))
        let buffers = Workload.Buffers(largest: Workload.largestMessage)
        for phase in phases { try Workload.answer(phase, over: channel, buffers: buffers) }
    }
}

/// Which messages a mechanism cannot carry whole, found by asking this kernel.
enum MessageLimit {
    /// Why `size` cannot be one message on `mechanism`, or nil when it can.
    static func refusal(_ mechanism: Mechanism, size: Int) -> String? {
        if let limit = mechanism.datagramLimit, size > limit {
            return "a UDP datagram holds at most \(limit) bytes (65,535 less the IP and UDP headers)"
        }
        guard mechanism.keepsBoundaries, !mechanism.mayLose else { return nil }
        // A Unix datagram or seqpacket message must fit in the sender's buffer whole.
        let type: SocketType = mechanism == .socketpairSeqpacket ? .seqPacket : .datagram
        guard let (a, b) = try? Socket.pair(type) else { return nil }
        defer { try? a.close(); try? b.close() }
        try? a.setNonBlocking(true)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        do {
            _ = try a.sendSome(UnsafeRawBufferPointer(buffer))
            return nil
        } catch {
            guard error.errno == .EMSGSIZE else { return "\(error)" }
            let sendBuffer = (try? a.get(.sendBufferSize)) ?? 0
            return "EMSGSIZE: a Unix \(type == .seqPacket ? "seqpacket" : "datagram") message must fit in the sender's SO_SNDBUF (\(sendBuffer) bytes here)"
        }
    }

    /// How many UDP messages of `size` may be in flight so that the receiver's buffer
    /// (SO_RCVBUF, which the kernel counts with each datagram's overhead) never overflows.
    static func udpCredit(size: Int, family: AddressFamily) -> Int {
        let receiveBuffer = (try? Socket.udp(family).get(.receiveBufferSize)) ?? 212_992
        // A quarter of the buffer, each datagram counted with 2 KiB of overhead (its skb and
        // the page it sits in): half of that measured lost 4 KiB datagrams on loopback.
        let fit = receiveBuffer / 4 / (size + 2048)
        return max(2, min(256, fit)) & ~1
    }
}
