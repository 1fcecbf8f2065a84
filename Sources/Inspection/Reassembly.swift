import PacketCapture
import Packets

/// IPv4 and IPv6 fragments put back together, as tshark does by default (`ip.defragment`,
/// `ipv6.defragment`): the datagram's TCP is analysed once, in the frame whose fragment
/// completes it, and never from a first fragment alone (its TCP header may be all there, but
/// its payload is not).
///
/// Memory is bounded: at most `maximumDatagrams` datagrams and `maximumBytes` bytes wait at
/// once; past that the oldest waiting datagram is given up (and counted), as a capture of a
/// fragment flood must not take the machine's memory.
struct FragmentReassembler {
    /// What identifies one datagram's fragments (RFC 791 §3.2; RFC 8200 §4.5).
    struct Key: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var identification: UInt32
        var proto: UInt8
    }

    struct Piece {
        var offset: Int
        var bytes: [UInt8]
        var last: Bool
    }

    /// One datagram's fragments so far.
    struct Waiting {
        var pieces: [Piece] = []
        /// The unfragmentable header to put in front: the first fragment's, once seen.
        var header: [UInt8]?
        var version: Int
        var arrival: Int
        var bytes = 0
        var frames: [Int] = []
    }

    struct Fragment {
        var version: Int
        /// Byte range of the datagram's payload this fragment carries.
        var start: Int
        var end: Int
        var more: Bool
    }

    var waiting: [Key: Waiting] = [:]
    var heldBytes = 0
    var arrivals = 0
    /// Datagrams given up because the limits were reached.
    private(set) var abandoned = 0

    static let maximumDatagrams = 4096
    static let maximumBytes = 64 << 20

    /// What became of a fragment.
    enum Outcome {
        /// Kept until the rest arrive.
        case held
        /// It completed its datagram: the raw IP bytes, header and payload.
        case completed([UInt8])
        /// Not all of its payload is in the frame (a snaplen cut, or an IP length past the
        /// frame's end), so tshark does not reassemble it; a first fragment is then dissected
        /// as it is (packet-ip.c: `tvb_bytes_exist` before `fragment_add_check`).
        case notWhole
    }

    /// Takes the fragment `packet` holds (decoded from `bytes`, frame `frame`).
    mutating func add(_ packet: inout Packet, bytes: UnsafeRawBufferPointer, frame: Int) -> Outcome {
        guard let (key, fragment, header, payload) = Self.fragment(&packet, bytes: bytes), let payload else { return .notWhole }
        guard fragment.end <= 65535 + 40 else { return .held }  // past the largest datagram: never completes
        arrivals += 1
        var entry = waiting[key] ?? Waiting(version: fragment.version, arrival: arrivals)
        entry.pieces.append(Piece(offset: fragment.start, bytes: payload, last: !fragment.more))
        if fragment.start == 0, let header { entry.header = header }
        entry.bytes += payload.count
        entry.frames.append(frame)
        heldBytes += payload.count
        if let datagram = Self.assemble(entry) {
            heldBytes -= entry.bytes
            waiting[key] = nil
            return .completed(datagram)
        }
        waiting[key] = entry
        evictIfNeeded()
        return .held
    }

    private mutating func evictIfNeeded() {
        while waiting.count > Self.maximumDatagrams || heldBytes > Self.maximumBytes,
              let oldest = waiting.min(by: { $0.value.arrival < $1.value.arrival }) {
            heldBytes -= oldest.value.bytes
            waiting[oldest.key] = nil
            abandoned += 1
        }
    }

    /// The key, the part, the header to reuse (first fragment only) and the payload bytes
    /// (nil when the capture cut them) of a fragment; nil for a packet that is not one.
    static func fragment(_ packet: inout Packet, bytes: UnsafeRawBufferPointer)
        -> (Key, Fragment, [UInt8]?, [UInt8]?)?
    {
        // All of it must be in the frame, by the header's length (tshark's rule).
        let heldWhole = (packet.claimedDatagramEnd ?? 0) <= bytes.count
        if let ip = packet.ipv4, ip.isFragment {
            let start = ip.offset + ip.headerLength, end = ip.offset + ip.datagramLength
            let fragment = Fragment(version: 4, start: ip.fragmentOffset,
                                    end: ip.fragmentOffset + max(0, end - start), more: ip.moreFragments)
            let key = Key(source: .v4(ip.source), destination: .v4(ip.destination), identification: UInt32(ip.identification), proto: ip.protocol.rawValue)
            guard heldWhole, end <= bytes.count, start <= end else { return (key, fragment, nil, nil) }
            let header = ip.fragmentOffset == 0 ? Array(bytes[ip.offset..<start]) : nil
            return (key, fragment, header, Array(bytes[start..<end]))
        }
        if let ip = packet.ipv6, ip.isFragment, let ext = ip.fragment {
            let start = ext.offset + 8, end = ip.offset + 40 + ip.datagramPayloadLength
            let fragment = Fragment(version: 6, start: ext.fragmentOffset,
                                    end: ext.fragmentOffset + max(0, end - start), more: ext.moreFragments)
            let key = Key(source: .v6(ip.source), destination: .v6(ip.destination), identification: ext.fragmentIdentification, proto: 0)
            guard heldWhole, end <= bytes.count, start <= end, ext.offset + 8 <= bytes.count else { return (key, fragment, nil, nil) }
            var header: [UInt8]?
            if ext.fragmentOffset == 0 {
                // The fixed header, its next header now the fragment header's.
                var fixed = Array(bytes[ip.offset..<(ip.offset + 40)])
                fixed[6] = bytes[ext.offset]
                header = fixed
            }
            return (key, fragment, header, Array(bytes[start..<end]))
        }
        return nil
    }

    /// The whole datagram, once the first fragment, the last one and everything between are
    /// here. Where fragments overlap, the one at the lower offset (then the earlier one) wins,
    /// as in Wireshark's reassembly.
    static func assemble(_ entry: Waiting) -> [UInt8]? {
        guard let header = entry.header, let last = entry.pieces.first(where: \.last) else { return nil }
        let total = last.offset + last.bytes.count
        let ordered = entry.pieces.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element)
        var covered = 0
        for piece in ordered {
            guard piece.offset <= covered else { return nil }  // a gap: wait for more
            covered = max(covered, piece.offset + piece.bytes.count)
        }
        guard covered >= total else { return nil }
        var payload = [UInt8](repeating: 0, count: total)
        var filled = 0
        for piece in ordered {
            // Only what lies past the bytes already placed: an overlap keeps the earlier offset's.
            let end = min(piece.offset + piece.bytes.count, total)
            if end > filled {
                payload.replaceSubrange(filled..<end, with: piece.bytes[(filled - piece.offset)..<(end - piece.offset)])
                filled = end
            }
        }
        var datagram = header + payload
        if entry.version == 4 {
            let length = min(datagram.count, 65535)
            datagram[2] = UInt8(length >> 8)
            datagram[3] = UInt8(length & 0xFF)
            datagram[6] &= 0x40  // keep DF; clear MF and the offset
            datagram[7] = 0
        } else {
            let length = min(payload.count, 65535)
            datagram[4] = UInt8(length >> 8)
            datagram[5] = UInt8(length & 0xFF)
        }
        return datagram
    }

    /// At the end of a capture, the datagrams still waiting for pieces, in words: a student
    /// sees that fragments went missing, not just frames that led nowhere.
    var unfinishedNotice: String? {
        guard !waiting.isEmpty || abandoned > 0 else { return nil }
        let listed = waiting.sorted { $0.value.arrival < $1.value.arrival }.prefix(5).map { key, entry in
            "id 0x\(String(key.identification, radix: 16)) from \(key.source) to \(key.destination) (frame\(entry.frames.count == 1 ? "" : "s") \(entry.frames.map(String.init).joined(separator: ", ")))"
        }
        var text = "── \(waiting.count) IP datagram\(waiting.count == 1 ? "" : "s") never completed in this capture (other fragments missing, so never analysed): "
            + listed.joined(separator: "; ") + (waiting.count > listed.count ? "; …" : "")
        if abandoned > 0 { text += "; \(abandoned) more given up when \(Self.maximumDatagrams) were waiting at once" }
        return text + " ──"
    }
}
