import CPcap
import Packets

/// Writes a pcap file that tcpdump, tshark and Wireshark open. Timestamps are written with
/// the precision asked for: microseconds (the classic format every tool reads) or
/// nanoseconds (magic 0xa1b23c4d, read by libpcap ≥ 1.5 and Wireshark).
public final class CaptureWriter {
    public enum Precision: Sendable { case microseconds, nanoseconds }

    public let path: String
    private let deadHandle: OpaquePointer
    private let dumper: OpaquePointer
    private let precision: Precision

    public init(path: String, linkType: LinkType, snapshotLength: Int = 262_144, precision: Precision = .microseconds) throws(CaptureError) {
        self.path = path
        self.precision = precision
        let tstamp = precision == .nanoseconds ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO
        guard let dead = pcap_open_dead_with_tstamp_precision(linkType.rawValue, Int32(snapshotLength), UInt32(tstamp)) else {
            throw .libpcap(call: "pcap_open_dead", detail: "out of memory")
        }
        let dumper: OpaquePointer
        do throws(CaptureError) {
            (dumper, _) = try LiveCapture.openDump(dead, path: path, mode: .replace)
        } catch {
            pcap_close(dead)
            throw error
        }
        deadHandle = dead
        self.dumper = dumper
    }

    deinit {
        pcap_dump_close(dumper)
        pcap_close(deadHandle)
    }

    public func write(_ frame: FrameView) {
        write(timestamp: frame.timestamp, originalLength: frame.originalLength, bytes: frame.bytes)
    }

    public func write(_ frame: CapturedFrame) {
        frame.bytes.withUnsafeBytes { write(timestamp: frame.timestamp, originalLength: frame.originalLength, bytes: $0) }
    }

    public func write(timestamp: Timestamp, originalLength: Int, bytes: UnsafeRawBufferPointer) {
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(timestamp.seconds)
        header.ts.tv_usec = Int(precision == .nanoseconds ? timestamp.nanoseconds : timestamp.nanoseconds / 1000)
        header.caplen = UInt32(bytes.count)
        header.len = UInt32(max(originalLength, bytes.count))
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!
        withUnsafePointer(to: &header) { pointer in
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), pointer, base)
        }
    }

    /// Pushes buffered frames to the file, so another program can read them now.
    public func flush() throws(CaptureError) {
        guard pcap_dump_flush(dumper) == 0 else { throw .unwritableFile(path: path, detail: "flush failed (disk full?)") }
    }
}
