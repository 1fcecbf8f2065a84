import PacketCapture
import Packets

/// The decoding step of a run, shared by `Session` and the read pipeline's decoding thread:
/// a frame's bytes to the TCP segment the tracker follows, with IP fragments reassembled
/// first, as tshark does by default.
struct FrameDecoder {
    /// What the frame turned out to be.
    enum Result {
        /// A TCP segment: in the frame itself, or in the datagram its fragment completed; and
        /// the SOCKS5 messages it completes (nearly always none).
        case segment(ReadPipeline.Segment, socks: [SocksStep] = [])
        /// Anything else, in `packet`.
        case other
        /// A fragment that completed a datagram that is not TCP: the datagram is in
        /// `datagram`, its bytes in `datagramBytes`.
        case reassembledOther
    }

    var packet = Packet()
    var reassembler = FragmentReassembler()
    var socks: SocksObserver

    init(socksPorts: Set<UInt16> = [1080]) {
        socks = SocksObserver(ports: socksPorts)
    }
    var datagram = Packet()
    var datagramBytes: [UInt8] = []

    mutating func decode(_ frame: FrameView, linkType: LinkType) -> Result {
        // The inspector never shows checksum verdicts (the capture command does), so it skips
        // summing every payload.
        packet.decode(frame.bytes, linkType: frame.linkType ?? linkType, verifyChecksums: false, originalLength: frame.originalLength)
        if packet.isFragment {
            switch reassembler.add(&packet, bytes: frame.bytes, frame: frame.number) {
            case .held:
                return .other  // shown as the fragment it is
            case .completed(let bytes):
                datagramBytes = bytes
                bytes.withUnsafeBytes { datagram.decode($0, linkType: .raw, verifyChecksums: false) }
                if let segment = ReadPipeline.Segment(&datagram, frame: frame) { return .segment(segment) }
                return .reassembledOther
            case .notWhole:
                // tshark dissects a first fragment it cannot reassemble as it stands; a later
                // one is only a fragment.
                guard packet.firstFragmentOffset == 0, var segment = ReadPipeline.Segment(&packet, frame: frame) else { return .other }
                segment.inFragment = true
                return .segment(segment)
            }
        }
        if let segment = ReadPipeline.Segment(&packet, frame: frame) {
            let tcp = segment.tcp
            if tcp.capturedPayloadLength > 0, socks.mayCare(about: segment, firstByte: frame.bytes[tcp.payloadOffset], length: tcp.capturedPayloadLength) {
                let payload = UnsafeRawBufferPointer(rebasing: frame.bytes[tcp.payloadOffset..<(tcp.payloadOffset + tcp.capturedPayloadLength)])
                return .segment(segment, socks: socks.observe(source: segment.source, destination: segment.destination, seq: tcp.sequenceNumber, payload: payload))
            }
            return .segment(segment)
        }
        return .other
    }

    /// Shows a frame that is not a TCP segment with `show`: the frame's own packet, or the
    /// datagram its fragment completed (with the datagram's bytes as the frame's).
    mutating func withOther(_ result: Result, frame: FrameView, _ show: (inout Packet, FrameView) -> Void) {
        switch result {
        case .segment: return
        case .other: show(&packet, frame)
        case .reassembledOther:
            let bytes = datagramBytes
            bytes.withUnsafeBytes { raw in
                show(&datagram, FrameView(timestamp: frame.timestamp, originalLength: raw.count, bytes: raw, number: frame.number))
            }
        }
    }
}
