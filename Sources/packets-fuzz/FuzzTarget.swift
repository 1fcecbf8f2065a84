import Packets

// libFuzzer's entry point: decode arbitrary bytes as a frame of any link type SocketLab knows
// and use every result a tool would print. ASan and libFuzzer report any trap, overflow or
// out-of-bounds read. Not in main.swift: with -sanitize=fuzzer libFuzzer supplies main().

/// The link types the first input byte selects between.
let linkTypes: [LinkType] = [.ethernet, .linuxCooked, .linuxCooked2, .null, .loop, .raw, .ipv4, .ipv6, LinkType(101)]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    decodeEverything(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// One fuzz input: byte 0 picks the link type, the rest is the frame.
func decodeEverything(_ input: UnsafeRawBufferPointer) {
    guard let first = input.first else { return }
    let frame = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    let packet = Packet(decoding: frame, linkType: linkTypes[Int(first) % linkTypes.count])
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
}
