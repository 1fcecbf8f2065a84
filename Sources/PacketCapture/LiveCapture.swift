import CPcap
import TextOutput
import Packets
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// libpcap's counters (`pcap_stats`). On loopback the kernel's capture hook sees every packet
/// twice (sent and received), so `received` can read about twice the number of frames.
public struct CaptureStatistics: Hashable, Sendable, CustomStringConvertible {
    /// Packets the filter accepted (ps_recv).
    public var received: UInt32
    /// Dropped because the capture buffer was full: raise the buffer size or filter more.
    public var droppedByKernel: UInt32
    /// Dropped by the network interface or its driver (ps_ifdrop).
    public var droppedByInterface: UInt32

    public var description: String {
        "\(received) packets received by filter, \(droppedByKernel) dropped by kernel, \(droppedByInterface) dropped by interface"
    }
}

/// A live capture on one interface. Opened with immediate mode on by default: an instructor's
/// demo must show each packet as it happens, and a test must not lose the last packets of a
/// short exchange in a half-filled ring block.
public final class LiveCapture: @unchecked Sendable {
    // @unchecked: the handle is used by the capturing thread only; `stop()` touches only the
    // atomic flag and pcap_breakloop, which libpcap documents as safe from another thread.

    public struct Options: Sendable {
        /// The interface: "lo" (loopback, the default), "eth0", or "any" (all, Linux cooked).
        public var interface = "lo"
        /// A BPF filter (man pcap-filter): "tcp port 8080". Empty captures everything.
        public var filter = ""
        /// Bytes kept per packet; 262144 keeps whole packets.
        public var snapshotLength = 262_144
        /// Capture packets for other hosts too (on a switch, still only what reaches us).
        public var promiscuous = false
        /// The kernel ring size in bytes; 0 picks 32 MiB (libpcap's default is 2 MB).
        ///
        /// Immediate mode uses a ring of fixed-size slots, each big enough for the largest
        /// packet the interface can carry: on loopback (MTU 65536) libpcap's 2 MB default holds
        /// only 16 packets, and a burst sent before the reader runs overflows it.
        public var bufferSize = 0
        /// Hand over each packet at once instead of in batches.
        public var immediate = true
        /// Without immediate mode: how long (ms) a packet may wait in a partly filled block of
        /// the kernel ring before it is handed over. Batches pack small packets densely (a
        /// 32 MiB ring holds ~200,000 of them, where immediate mode's fixed 64 KiB slots on
        /// loopback hold 512), so a storm does not overflow; 50 ms is below what a person
        /// watching notices.
        public var batchTimeout = 100
        /// Also write every captured frame to this pcap file, opened as `writeMode` says
        /// (never through a symbolic link); `writtenTo` says where it went.
        public var writeTo: String?
        public var writeMode: FreshFile.Mode = .replace
        /// Ask for a link type other than the interface's default, e.g. `.linuxCooked2` on
        /// "any" (what tcpdump ≥ 4.99 does: SLL2 also records the interface index).
        public var linkType: LinkType?
        public init() {}
    }

    public let options: Options
    /// The pcap file the frames go to (`Options.writeTo`, or the fresh name taken instead).
    public private(set) var writtenTo: String?
    public let linkType: LinkType
    private let handle: OpaquePointer
    private var dumper: OpaquePointer?
    private let stopRequested = Atomic<Bool>(false)
    private var framesSeen = 0

    /// Opens and activates the capture: after this returns, packets are being captured.
    public init(_ options: Options) throws(CaptureError) {
        self.options = options
        var error = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(options.interface, &error) else {
            throw .libpcap(call: "pcap_create", detail: String(cBuffer: error))
        }
        pcap_set_snaplen(handle, Int32(options.snapshotLength))
        pcap_set_promisc(handle, options.promiscuous ? 1 : 0)
        // The poll timeout bounds how long a stop request waits when no packet arrives.
        pcap_set_timeout(handle, Int32(options.immediate ? 100 : max(1, options.batchTimeout)))
        if options.immediate { pcap_set_immediate_mode(handle, 1) }
        let bufferSize = options.bufferSize > 0 ? options.bufferSize : 32 << 20
        if bufferSize > 0 { pcap_set_buffer_size(handle, Int32(bufferSize)) }
        // Nanosecond timestamps where the kernel offers them: handshakes on loopback take µs.
        _ = pcap_set_tstamp_precision(handle, PCAP_TSTAMP_PRECISION_NANO)
        let status = pcap_activate(handle)
        let activationErrno = errno
        if status < 0 {
            let detail = status == PCAP_ERROR ? lastError(handle) : String(cString: pcap_statustostr(status))
            pcap_close(handle)
            switch status {
            case PCAP_ERROR_PERM_DENIED, PCAP_ERROR_PROMISC_PERM_DENIED:
                throw .permissionDenied(device: options.interface, detail: detail)
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw .noSuchDevice(options.interface, detail: detail)
            default:
                // Older libpcap reports a missing privilege as a generic error, with the
                // errno of the socket() or bind() that failed still set.
                if activationErrno == EPERM || activationErrno == EACCES {
                    throw .permissionDenied(device: options.interface, detail: detail)
                }
                throw .libpcap(call: "pcap_activate(\(options.interface))", detail: detail)
            }
        }
        self.handle = handle
        if let wanted = options.linkType, pcap_set_datalink(handle, wanted.rawValue) != 0 {
            let detail = lastError(handle)
            pcap_close(handle)
            throw .libpcap(call: "pcap_set_datalink(\(wanted))", detail: detail)
        }
        linkType = LinkType(pcap_datalink(handle))
        do throws(CaptureError) {
            var error = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
            guard pcap_setnonblock(handle, 1, &error) == 0 else {
                throw .libpcap(call: "pcap_setnonblock", detail: lastError(handle))
            }
            if !options.filter.isEmpty { try applyFilter(options.filter) }
            if let path = options.writeTo {
                let (dumper, chosen) = try Self.openDump(handle, path: path, mode: options.writeMode)
                self.dumper = dumper
                writtenTo = chosen
            }
        } catch {
            // Every stored property is set by now, so deinit runs and closes the handle.
            throw error
        }
    }

    deinit {
        if let dumper { pcap_dump_close(dumper) }
        pcap_close(handle)
    }

    private func applyFilter(_ filter: String) throws(CaptureError) {
        var program = bpf_program()
        guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw .badFilter(filter, detail: lastError(handle))
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0 else {
            throw .libpcap(call: "pcap_setfilter", detail: lastError(handle))
        }
    }

    /// Captures until `count` frames, `duration`, `stop()` or (after `stopOnSignals()`) Ctrl-C
    /// or SIGTERM. On a stop request it first drains what the kernel already holds, so no frame
    /// seen before the stop is lost; the file being written is flushed. `idle` runs whenever
    /// the kernel has nothing more queued, before waiting: the moment to flush output, so a
    /// viewer sees each packet at once while a storm is still written in large blocks.
    /// Returns the counters.
    @discardableResult
    public func run(count: Int? = nil, duration: Duration? = nil, idle: () -> Void = {},
                    _ body: (FrameView) -> Void) throws(CaptureError) -> CaptureStatistics {
        let deadline = duration.map { ContinuousClock.now + $0 }
        var delivered = 0
        func deliver(_ header: UnsafeMutablePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>) {
            framesSeen += 1
            delivered += 1
            if let dumper {
                pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), header, data)
            }
            body(FrameView(header: header.pointee, data: data, number: framesSeen))
        }
        // After a stop request the loop drains: it takes what the kernel still holds until the
        // link has been quiet for one poll timeout (100 ms), or 2 s have passed. On loopback
        // libpcap keeps only the incoming copy of each packet, which the kernel queues in a
        // softirq backlog after the sender's call returns: stopping at once would lose the
        // last packets of a burst.
        var drainUntil: ContinuousClock.Instant?
        loop: while count.map({ delivered < $0 }) ?? true {
            if drainUntil == nil, stopRequested.load(ordering: .relaxed) || signalStop.load(ordering: .relaxed) {
                drainUntil = ContinuousClock.now + .seconds(2)
            }
            if let drainUntil, ContinuousClock.now >= drainUntil { break }
            if drainUntil == nil, let deadline, ContinuousClock.now >= deadline { break }
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            switch pcap_next_ex(handle, &header, &data) {
            case 1:
                if let header, let data { deliver(header, data) }
            case 0:
                // Nothing queued: wait, then look again; while draining, quiet means done.
                idle()
                if !waitForFrames(.milliseconds(100)) && drainUntil != nil { break loop }
            case PCAP_ERROR_BREAK:
                continue  // pcap_breakloop from stop(): check the stop conditions
            default:
                if drainUntil != nil { break loop }  // already stopping: keep what we have
                throw .libpcap(call: "pcap_next_ex(\(options.interface))", detail: lastError(handle))
            }
        }
        if let dumper { pcap_dump_flush(dumper) }
        return try statistics()
    }

    /// Waits until the capture descriptor is readable or `timeout` passes (false). The handle
    /// is non-blocking and this poll is the only wait, so a stop request or a signal is
    /// noticed within one timeout whatever libpcap's ring mode does with its own timeouts.
    private func waitForFrames(_ timeout: Duration) -> Bool {
        let descriptor = pcap_get_selectable_fd(handle)
        guard descriptor >= 0 else {
            usleep(UInt32(timeout.components.attoseconds / 1_000_000_000_000))
            return true
        }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return poll(&entry, 1, milliseconds) > 0  // EINTR (a signal) counts as "look again"
    }

    /// Asks `run` to finish: it drains what is queued and returns. Safe from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        pcap_breakloop(handle)
    }

    /// The counters so far. Call from the thread that runs the capture (e.g. inside `run`).
    public func statistics() throws(CaptureError) -> CaptureStatistics {
        var stats = pcap_stat()
        guard pcap_stats(handle, &stats) == 0 else {
            throw .libpcap(call: "pcap_stats", detail: lastError(handle))
        }
        return CaptureStatistics(received: stats.ps_recv, droppedByKernel: stats.ps_drop, droppedByInterface: stats.ps_ifdrop)
    }

    /// Makes Ctrl-C (SIGINT) and SIGTERM stop every running capture cleanly (drain, flush,
    /// statistics) instead of killing the process with the last frames unwritten.
    public static func stopOnSignals() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in signalStop.store(true, ordering: .relaxed) }
        }
    }
}

/// Set by the SIGINT/SIGTERM handler; an atomic store is async-signal-safe.
private let signalStop = Atomic<Bool>(false)

extension LiveCapture {
    /// A pcap dump on a descriptor opened by `FreshFile`: libpcap's own `pcap_dump_open`
    /// follows symbolic links and replaces whatever is there.
    static func openDump(_ handle: OpaquePointer, path: String, mode: FreshFile.Mode) throws(CaptureError) -> (OpaquePointer, String) {
        let opened: (descriptor: Int32, path: String)
        do {
            opened = try FreshFile.open(path, mode: mode)
        } catch {
            throw .unwritableFile(path: error.path, detail: error.reason)
        }
        guard let file = fdopen(opened.descriptor, "wb") else {
            close(opened.descriptor)
            throw .unwritableFile(path: opened.path, detail: String(cString: strerror(errno)))
        }
        guard let dumper = pcap_dump_fopen(handle, file) else {
            fclose(file)
            throw .unwritableFile(path: opened.path, detail: lastError(handle))
        }
        return (dumper, opened.path)
    }
}

extension FrameView {
    /// A pcap header's `ts.tv_usec` holds nanoseconds when the handle was opened for them.
    init(header: pcap_pkthdr, data: UnsafePointer<UInt8>, number: Int) {
        self.init(
            timestamp: Timestamp(seconds: Int64(header.ts.tv_sec), nanoseconds: UInt32(truncatingIfNeeded: header.ts.tv_usec)),
            originalLength: Int(header.len),
            bytes: UnsafeRawBufferPointer(start: data, count: Int(header.caplen)),
            number: number)
    }
}
