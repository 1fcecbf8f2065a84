import PacketCapture
import Inspection
import Packets
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's entry point: decode arbitrary bytes as a frame of any link type SocketLab knows
// and use every result a tool would print. ASan and libFuzzer report any trap, overflow or
// out-of-bounds read. Not in main.swift: with -sanitize=fuzzer libFuzzer supplies main().

/// The link types the first input byte selects between.
let linkTypes: [LinkType] = [.ethernet, .linuxCooked, .linuxCooked2, .null, .loop, .raw, .ipv4, .ipv6, LinkType(101),
                             .ppp, .pppSerial, .ciscoHDLC, .pflog, .nflog, LinkType(105),
                             .pppOverEthernet, .juniperEthernet, .ipOverInfiniBand]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    decodeEverything(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// Separates the frames of one input: the frames after byte 0 go, in order, through the
/// whole inspector, so that sequences (a handshake, a retransmission, a close) reach the tracker.
let frameSeparator: [UInt8] = [0xF0, 0x0D, 0xCA, 0xFE]

/// One fuzz input: byte 0 picks the link type (its low 7 bits) and whether each frame starts
/// with a record header (its top bit); the rest is one frame, or several joined by
/// `frameSeparator`. Each frame is decoded on its own and every result a tool would print is
/// used; then the frames go through the inspector's sessions (text with every note, ladder,
/// JSON Lines, summary) and `capture read`'s line as one capture.
func decodeEverything(_ input: UnsafeRawBufferPointer) {
    guard let first = input.first else { return }
    if first == 0xFE {
        readAsCaptureFile(UnsafeRawBufferPointer(rebasing: input.dropFirst()))
        return
    }
    let linkType = linkTypes[Int(first & 0x7F) % linkTypes.count]
    var frames: [RecordedFrame] = []
    for (index, bytes) in split(UnsafeRawBufferPointer(rebasing: input.dropFirst())).enumerated() {
        frames.append(RecordedFrame(bytes, index: index, withHeader: first & 0x80 != 0))
    }
    // Readers reuse one Packet and decode in place into its slots: whatever the frame before
    // left there, the result must be what a fresh Packet gives.
    var reused = Packet()
    for frame in frames {
        let fresh = decodeOne(frame.bytes, linkType: linkType)
        _ = frame.timestamp.timeOfDay + " " + fresh.summary  // `capture read`'s line
        _ = frame.timestamp.description
        reused.decode(frame.bytes, linkType: linkType)
        precondition(reused == fresh && reused.tcp?.options.problem == fresh.tcp?.options.problem,
                     "a reused Packet decoded \(reused.summary), a fresh one \(fresh.summary)")
    }
    inspect(frames, linkType: linkType)
}

func split(_ bytes: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
    var frames: [UnsafeRawBufferPointer] = []
    var start = 0, i = 0
    while i + frameSeparator.count <= bytes.count {
        if bytes[i] == frameSeparator[0] && bytes[i + 1] == frameSeparator[1] && bytes[i + 2] == frameSeparator[2]
            && bytes[i + 3] == frameSeparator[3] {
            frames.append(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            i += frameSeparator.count
            start = i
        } else {
            i += 1
        }
    }
    frames.append(UnsafeRawBufferPointer(rebasing: bytes[start...]))
    return frames
}

/// One frame with what a pcap record header says about it: when the input asks for a header,
/// its first 12 bytes are the record's seconds, fraction and original length (little-endian,
/// as a pcap file on x86 holds them), so that malformed headers (a fraction of a second or
/// more, an original length below the captured one) reach every view; otherwise a plausible
/// header that sometimes runs backwards, as real captures do.
struct RecordedFrame {
    var bytes: UnsafeRawBufferPointer
    var timestamp: Timestamp
    var originalLength: Int

    init(_ raw: UnsafeRawBufferPointer, index: Int, withHeader: Bool) {
        func u32(_ offset: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(raw[offset + $1]) << (8 * $1) }
        }
        if withHeader, raw.count >= 12 {
            timestamp = Timestamp(seconds: Int64(u32(0)), nanoseconds: u32(4))
            bytes = UnsafeRawBufferPointer(rebasing: raw[12...])
            originalLength = Int(u32(8))
        } else {
            timestamp = Timestamp(seconds: 1_700_000_000 + Int64(index % 3), nanoseconds: UInt32(index * 7919 % 1_000_000_000))
            bytes = raw
            originalLength = raw.count
        }
    }
}

func inspect(_ frames: [RecordedFrame], linkType: LinkType) {
    var views: [Session.Options] = []
    var text = Session.Options()
    text.detail = .everySegment
    text.color = true
    views.append(text)
    var graphs: [PictureOptions] = [PictureOptions()]
    for graph in PictureOptions.Graph.allCases {
        var svg = PictureOptions()
        svg.format = .svg
        svg.graph = graph
        graphs.append(svg)
    }
    for view in [Session.View.ladder, .jsonLines, .summaryTable, .summaryJSON] + graphs.map(Session.View.picture) {
        var options = Session.Options()
        options.view = view
        views.append(options)
    }
    for options in views {
        var session = Session(linkType: linkType, options: options)
        var out = OutputBuffer()
        for (index, frame) in frames.enumerated() {
            session.write(frame: FrameView(timestamp: frame.timestamp, originalLength: frame.originalLength, bytes: frame.bytes, number: index + 1), to: &out)
        }
        session.finish(to: &out)
    }
}

@discardableResult
func decodeOne(_ frame: UnsafeRawBufferPointer, linkType: LinkType) -> Packet {
    let packet = Packet(decoding: frame, linkType: linkType)
    _ = packet.summary
    _ = packet.problem?.description
    if let tcp = packet.tcp {
        _ = tcp.options.list
        _ = tcp.options.sackBlocks
        _ = tcp.flags.names
    }
    if let icmp = packet.icmp, case .echoRequest = icmp.message {
        _ = ICMPEcho(parsing: Array(frame[icmp.offset...]), version: .v4)
    }
    return packet
}

/// Byte 0 of 0xFE: the rest is a whole pcap or pcapng file, read through a pipe by
/// `CaptureFile` (the format reader is parsing too: headers, blocks, options, lengths) and
/// through the text and JSON sessions, as `inspector read` reads it.
func readAsCaptureFile(_ bytes: UnsafeRawBufferPointer) {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return }
    // A fuzz input is at most a few kilobytes: it fits in the pipe's buffer.
    _ = write(fds[1], bytes.baseAddress, bytes.count)
    close(fds[1])
    guard let capture = try? CaptureFile(descriptor: fds[0], name: "fuzz input", owned: true) else { return }
    var options = Session.Options()
    options.detail = .everySegment
    var text = Session(linkType: capture.linkType, options: options)
    options.view = .jsonLines
    var json = Session(linkType: capture.linkType, options: options)
    var out = OutputBuffer()
    try? capture.forEach { frame in
        text.write(frame: frame, to: &out)
        json.write(frame: frame, to: &out)
        _ = frame.timestamp.timeOfDay + frame.decode(capture.linkType).summary
        if out.count > 1 << 16 { out.clear() }
    }
    text.finish(to: &out)
    json.finish(to: &out)
}
