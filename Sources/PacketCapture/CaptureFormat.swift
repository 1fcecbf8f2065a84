import Packets
#if canImport(Glibc)
import Glibc
#endif

/// The pcap and pcapng file formats, read record by record from a buffered file.
///
/// Why not libpcap's reader, which the live side uses: libpcap refuses a pcapng file whose
/// interfaces have different link types ("an interface has a type … different from the type of
/// the first interface"), which Wireshark writes whenever it captures on several interfaces,
/// and it cuts every record to the file header's snapshot length, where tshark keeps what the
/// record holds. The inspector must read what tshark reads, so it reads the formats itself:
/// pcap (tcpdump's, microsecond and nanosecond, both byte orders, and the "modified" variant of
/// old Linux patches) and pcapng (draft-ietf-opsawg-pcapng: sections, interfaces with their
/// link type, time resolution and offset, enhanced, simple and obsolete packet blocks).
struct CaptureFormatReader {
    enum Format { case pcap(nanoseconds: Bool, modified: Bool), pcapng }

    /// One interface of a pcapng section (pcap has one, from its header).
    struct Interface {
        var linkType: LinkType
        var snapshotLength: Int
        /// Timestamp units per second (10^6 by default) and seconds to add (`if_tsoffset`).
        var unitsPerSecond: UInt64 = 1_000_000
        var offsetSeconds: Int64 = 0
    }

    /// A record, with its bytes valid until the next call.
    struct Record {
        var timestamp: Timestamp
        var originalLength: Int
        var bytes: UnsafeRawBufferPointer
        var linkType: LinkType
    }

    enum Failure: Error {
        /// Not a capture at all (or empty): nothing was read.
        case notACapture(String)
        /// The file ends inside a record, or a record is impossible: what came before stands.
        case damaged(String)
    }

    /// The largest record accepted, as Wireshark's: 256 KiB for a packet (more for the few
    /// link types that need it is not worth the risk of a crafted length eating memory).
    static let maximumRecord = 262_144
    /// The largest pcapng block (options included).
    static let maximumBlock = 16 << 20

    private var input: BufferedInput
    private(set) var format: Format = .pcapng
    private var bigEndian = false
    private(set) var interfaces: [Interface] = []
    private var pending: Record?

    init(descriptor: Int32) throws(Failure) {
        input = BufferedInput(descriptor: descriptor)
        do throws(Failure) {
            try readHeaders()
        } catch {
            input.release()  // the caller gets no reader to release
            throw error
        }
    }

    private mutating func readHeaders() throws(Failure) {
        if let magic = try input.peek(2), magic.count == 2, magic[0] == 0x1F, magic[1] == 0x8B {
            try input.inflate()
        }
        guard let magic = try input.peek(4) else { throw .notACapture(input.isCompressed ? "the gzip file holds nothing" : "the file is empty") }
        guard magic.count == 4 else { throw .notACapture("it holds only \(magic.count) byte\(magic.count == 1 ? "" : "s"), less than any capture header") }
        let value = magic.load(as: UInt32.self)
        switch value {
        case 0xA1B2_C3D4, 0xD4C3_B2A1: try readPcapHeader(nanoseconds: false, modified: false)
        case 0xA1B2_3C4D, 0x4D3C_B2A1: try readPcapHeader(nanoseconds: true, modified: false)
        case 0xA1B2_CD34, 0x34CD_B2A1: try readPcapHeader(nanoseconds: false, modified: true)
        case 0x0A0D_0D0A:
            // Read the section and interface blocks up to the first packet, so the link type
            // is known; that packet waits in `pending` for the first `next()`.
            format = .pcapng
            pending = try readPcapngBlocksUntilPacket(first: true)
        default:
            throw .notACapture("it does not start with a pcap or pcapng magic number (it starts with 0x\(String(value.byteSwapped, radix: 16)))")
        }
    }

    /// The link type and snapshot length the file announces first.
    var linkType: LinkType { interfaces.first?.linkType ?? LinkType(1) }
    var snapshotLength: Int { interfaces.first?.snapshotLength ?? 0 }

    private func u32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }
    private func u16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
    }

    // MARK: pcap

    private mutating func readPcapHeader(nanoseconds: Bool, modified: Bool) throws(Failure) {
        guard let header = try input.take(24), header.count == 24 else { throw .notACapture("the pcap file header is cut short") }
        // The magic as written by a big-endian host reads byte-swapped here. (Spelled as
        // UInt32 on purpose: `0xA1B2_C3D4.byteSwapped` alone is an Int, and comparing a UInt32
        // with it is never true, which once made every big-endian file unreadable.)
        let swappedMagics: [UInt32] = [0xD4C3_B2A1, 0x4D3C_B2A1, 0x34CD_B2A1]
        bigEndian = swappedMagics.contains(header.load(as: UInt32.self))
        format = .pcap(nanoseconds: nanoseconds, modified: modified)
        // The top bits of the link type field carry FCS information (LT_LINKTYPE masks them).
        let network = Int32(bitPattern: u32(header, 20) & 0x03FF_FFFF)
        interfaces = [Interface(linkType: LinkType(network), snapshotLength: Int(u32(header, 16)))]
    }

    private mutating func nextPcapRecord(nanoseconds: Bool, modified: Bool) throws(Failure) -> Record? {
        let headerLength = modified ? 24 : 16
        guard let header = try input.take(headerLength) else { return nil }
        guard header.count == headerLength else { throw .damaged("the file ends inside a record header") }
        let seconds = u32(header, 0), fraction = u32(header, 4)
        let captured = Int(u32(header, 8)), original = Int(u32(header, 12))
        guard captured <= Self.maximumRecord else {
            throw .damaged("a record says it holds \(captured) bytes, more than any packet (\(Self.maximumRecord)): the file is damaged here")
        }
        guard let bytes = try input.take(captured), bytes.count == captured else {
            throw .damaged("the file ends inside a record of \(captured) bytes")
        }
        // A microsecond fraction in nanoseconds, in 32 bits as tshark keeps it (a malformed
        // fraction of a second or more then prints as tshark prints it).
        let nanos = nanoseconds ? fraction : UInt32(truncatingIfNeeded: UInt64(fraction) &* 1000)
        return Record(timestamp: Timestamp(seconds: Int64(seconds), nanoseconds: nanos), originalLength: original,
                      bytes: bytes, linkType: interfaces[0].linkType)
    }

    // MARK: pcapng

    /// Reads blocks until a packet; interface and section blocks update the state on the way.
    private mutating func readPcapngBlocksUntilPacket(first: Bool = false) throws(Failure) -> Record? {
        while true {
            // Every block is at least 12 bytes: type, length, and the length again.
            guard let head = try input.peek(12) else { return nil }
            guard head.count == 12 else {
                if first { throw .notACapture("the pcapng section header is cut short") }
                throw .damaged("the file ends inside a block header")
            }
            let rawType = head.load(as: UInt32.self)
            if rawType == 0x0A0D_0D0A {
                // A section header: its byte-order magic says how to read the section.
                let magic = head.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
                guard magic == 0x1A2B_3C4D || magic == 0x4D3C_2B1A else {
                    throw first ? .notACapture("a pcapng section header with a bad byte-order magic") : .damaged("a section header with a bad byte-order magic")
                }
                bigEndian = magic == 0x4D3C_2B1A
                interfaces = []
            }
            let type = u32(head, 0), length = Int(u32(head, 4))
            guard length >= 12, length % 4 == 0, length <= Self.maximumBlock else {
                throw .damaged("a block of type \(type) says it is \(length) bytes long, which cannot be")
            }
            guard let block = try input.take(length), block.count == length else {
                throw .damaged("the file ends inside a block of \(length) bytes")
            }
            let body = UnsafeRawBufferPointer(rebasing: block[8..<(length - 4)])
            switch type {
            case 1: try readInterface(body)
            case 6:
                guard body.count >= 20 else { throw .damaged("an enhanced packet block too short for its header") }
                let id = Int(u32(body, 0)), captured = Int(u32(body, 12)), original = Int(u32(body, 16))
                guard captured <= body.count - 20 else { throw .damaged("a packet block says it holds \(captured) bytes but has room for \(body.count - 20)") }
                guard id < interfaces.count else { throw .damaged("a packet names interface \(id), but the section describes \(interfaces.count)") }
                let units = UInt64(u32(body, 4)) << 32 | UInt64(u32(body, 8))
                return Record(timestamp: time(units, interfaces[id]), originalLength: original,
                              bytes: UnsafeRawBufferPointer(rebasing: body[20..<(20 + captured)]), linkType: interfaces[id].linkType)
            case 3:
                // Simple packet block: interface 0, no timestamp, the original length only.
                guard body.count >= 4, let interface = interfaces.first else { throw .damaged("a simple packet block without an interface") }
                let original = Int(u32(body, 0))
                var captured = min(original, body.count - 4)
                if interface.snapshotLength > 0 { captured = min(captured, interface.snapshotLength) }
                return Record(timestamp: Timestamp(seconds: 0, nanoseconds: 0), originalLength: original,
                              bytes: UnsafeRawBufferPointer(rebasing: body[4..<(4 + captured)]), linkType: interface.linkType)
            case 2:
                // The obsolete packet block: a 16-bit interface id and a drop count first.
                guard body.count >= 20 else { throw .damaged("a packet block too short for its header") }
                let id = Int(u16(body, 0)), captured = Int(u32(body, 12)), original = Int(u32(body, 16))
                guard captured <= body.count - 20, id < interfaces.count else { throw .damaged("a packet block that does not fit its interface or its length") }
                let units = UInt64(u32(body, 4)) << 32 | UInt64(u32(body, 8))
                return Record(timestamp: time(units, interfaces[id]), originalLength: original,
                              bytes: UnsafeRawBufferPointer(rebasing: body[20..<(20 + captured)]), linkType: interfaces[id].linkType)
            default:
                continue  // section headers, name resolution, statistics, secrets, custom blocks
            }
        }
    }

    private mutating func readInterface(_ body: UnsafeRawBufferPointer) throws(Failure) {
        guard body.count >= 8 else { throw .damaged("an interface description block too short") }
        var interface = Interface(linkType: LinkType(Int32(u16(body, 0))), snapshotLength: Int(u32(body, 4)))
        var offset = 8
        while offset + 4 <= body.count {
            let code = u16(body, offset), length = Int(u16(body, offset + 2))
            guard code != 0, offset + 4 + length <= body.count else { break }
            if code == 9, length >= 1 {
                // if_tsresol: 10^-n, or 2^-n with the top bit set.
                let value = body[offset + 4]
                let exponent = Int(value & 0x7F)
                if value & 0x80 == 0 {
                    if exponent <= 19 { interface.unitsPerSecond = (0..<exponent).reduce(1) { acc, _ in acc * 10 } }
                } else if exponent <= 63 {
                    interface.unitsPerSecond = 1 << UInt64(exponent)
                }
            } else if code == 14, length >= 8 {
                let low = u32(body, offset + 4), high = u32(body, offset + 8)
                let offsetValue = bigEndian ? UInt64(low) << 32 | UInt64(high) : UInt64(high) << 32 | UInt64(low)
                interface.offsetSeconds = Int64(bitPattern: offsetValue)
            }
            offset += 4 + (length + 3) & ~3
        }
        if interface.unitsPerSecond == 0 { interface.unitsPerSecond = 1_000_000 }
        interfaces.append(interface)
    }

    /// A pcapng timestamp in the interface's units, as seconds and nanoseconds.
    private func time(_ units: UInt64, _ interface: Interface) -> Timestamp {
        let perSecond = interface.unitsPerSecond
        let seconds = units / perSecond, rest = units % perSecond
        let nanoseconds: UInt64
        if perSecond == 1_000_000_000 {
            nanoseconds = rest
        } else if perSecond < 1_000_000_000, 1_000_000_000 % perSecond == 0 {
            nanoseconds = rest * (1_000_000_000 / perSecond)
        } else {
            // Binary or finer-than-nanosecond units: scale without overflowing 64 bits.
            nanoseconds = UInt64((Double(rest) / Double(perSecond) * 1e9).rounded(.down))
        }
        return Timestamp(seconds: Int64(truncatingIfNeeded: seconds) &+ interface.offsetSeconds, nanoseconds: UInt32(min(nanoseconds, 999_999_999)))
    }

    /// The next packet record, or nil at the end of the file.
    mutating func next() throws(Failure) -> Record? {
        if let record = pending {
            pending = nil
            return record
        }
        switch format {
        case .pcap(let nanoseconds, let modified): return try nextPcapRecord(nanoseconds: nanoseconds, modified: modified)
        case .pcapng: return try readPcapngBlocksUntilPacket()
        }
    }
}

/// A file read in large chunks, handing out byte ranges that stay valid until the next call.
/// Memory stays at one buffer (grown only for a record larger than it), whatever the file's size.
/// A gzip-compressed file (magic 1f 8b: `.pcap.gz`, as Wireshark stores its test captures and
/// tshark reads them) is inflated on the way in, through a second fixed buffer.
struct BufferedInput {
    let descriptor: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEnd = false
    private var gzip: GzipStream?
    static let chunk = 1 << 20

    init(descriptor: Int32) {
        self.descriptor = descriptor
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunk, alignment: 16)
    }

    func release() {
        buffer.deallocate()
        gzip?.release()
    }

    var isCompressed: Bool { gzip != nil }

    /// From here on, reads inflate: the bytes already read are the start of the gzip stream.
    mutating func inflate() throws(CaptureFormatReader.Failure) {
        guard gzip == nil else { return }
        let stream = try GzipStream(descriptor: descriptor, alreadyRead: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<end]))
        gzip = stream
        start = 0
        end = 0
        atEnd = false
    }

    /// Makes `count` bytes available from the current position, reading more as needed; false
    /// at the end of the file with fewer (then `end - start` bytes remain).
    private mutating func fill(_ count: Int) throws(CaptureFormatReader.Failure) -> Bool {
        if end - start >= count { return true }
        if start > 0 {
            // Move what is left to the front (it is smaller than one record).
            if end > start { memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start) }
            end -= start
            start = 0
        }
        if count > buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, buffer.count * 2), alignment: 16)
            if end > 0 { bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end) }
            buffer.deallocate()
            buffer = bigger
        }
        while end < count && !atEnd {
            let room = UnsafeMutableRawBufferPointer(rebasing: buffer[end...])
            let got: Int
            if let gzip {
                got = try gzip.read(into: room)
            } else {
                got = try readRetryingEINTR(descriptor, into: room)
            }
            if got == 0 { atEnd = true } else { end += got }
        }
        return end - start >= count
    }

    /// The next `count` bytes without consuming them; nil at the very end, fewer if the file
    /// ends sooner.
    mutating func peek(_ count: Int) throws(CaptureFormatReader.Failure) -> UnsafeRawBufferPointer? {
        _ = try fill(count)
        guard end > start else { return nil }
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<min(end, start + count)])
    }

    /// The next `count` bytes, consumed; nil at the very end, fewer if the file ends sooner.
    mutating func take(_ count: Int) throws(CaptureFormatReader.Failure) -> UnsafeRawBufferPointer? {
        if count == 0 { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let whole = try fill(count)
        guard end > start else { return nil }
        let taken = whole ? count : end - start
        let range = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[start..<(start + taken)])
        start += taken
        return range
    }
}

/// One read(2) into `room`, made again when a signal interrupts it; bytes read, 0 at the end.
/// The capture reader's only door to the file, plain or compressed.
func readRetryingEINTR(_ descriptor: Int32, into room: UnsafeMutableRawBufferPointer) throws(CaptureFormatReader.Failure) -> Int {
    while true {
        let got = Glibc.read(descriptor, room.baseAddress!, room.count)
        if got >= 0 { return got }
        if errno == EINTR { continue }
        throw .damaged("read() failed: \(String(cString: strerror(errno)))")
    }
}

extension CaptureFormatReader {
    /// Frees the read buffer (the reader is a value; its owner calls this once, at the end).
    func release() { input.release() }
}
