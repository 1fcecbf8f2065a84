import Packets
import Testing
import TestSupport

/// Broken input at every layer: decoding names the layer and the byte, keeps the layers before
/// it, and never traps.
@Suite struct MalformedTests {
    static let goodTCP = F.ethernet(F.ipv4(protocol: 6, F.tcp(options: DecodeTests.synOptions, payload: [1, 2, 3, 4])))

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let frame: [UInt8]
        let layer: DecodeError.Layer
        let offset: Int
        let keepsNetwork: Bool
        /// The frame's length on the wire, when a snaplen cut it (nil: the frame is whole).
        var wire: Int? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "short Ethernet", frame: Array(goodTCP.prefix(10)), layer: .ethernet, offset: 0, keepsNetwork: false),
        Case(name: "VLAN tag cut", frame: Array(F.ethernet(vlans: [5], []).prefix(16)), layer: .vlan, offset: 14, keepsNetwork: false),
        Case(name: "IPv4 cut at 10 bytes", frame: Array(goodTCP.prefix(24)), layer: .ipv4, offset: 14, keepsNetwork: false),
        Case(name: "IPv4 says version 5", frame: { var f = goodTCP; f[14] = 0x55; return f }(), layer: .ipv4, offset: 14, keepsNetwork: false),
        Case(name: "IPv4 IHL 3", frame: { var f = goodTCP; f[14] = 0x43; return f }(), layer: .ipv4, offset: 14, keepsNetwork: false),
        Case(name: "IPv4 options cut", frame: Array(F.ethernet(F.ipv4(protocol: 6, options: [1, 1, 1, 1], [])).prefix(36)), layer: .ipv4Options, offset: 14, keepsNetwork: false),
        Case(name: "IPv4 total length below header", frame: { var f = goodTCP; f[16] = 0; f[17] = 12; return f }(), layer: .ipv4, offset: 16, keepsNetwork: false),
        Case(name: "TCP cut at 12 bytes", frame: Array(goodTCP.prefix(46)), layer: .tcp, offset: 34, keepsNetwork: true),
        Case(name: "TCP data offset 4", frame: { var f = goodTCP; f[46] = 0x40; return f }(), layer: .tcp, offset: 46, keepsNetwork: true),
        Case(name: "TCP data offset past the segment", frame: { var f = goodTCP; f[46] = 0xF0; return f }(), layer: .tcp, offset: 46, keepsNetwork: true),
        // Cut by a snaplen (the wire held the whole segment): what was read is kept, as tshark keeps it.
        Case(name: "TCP options cut", frame: Array(goodTCP.prefix(60)), layer: .tcp, offset: 34, keepsNetwork: true, wire: goodTCP.count),
        // Not cut: the IP header claims bytes that were never there, so the segment is the 26
        // bytes the frame holds, shorter than its data offset says.
        Case(name: "TCP options past the frame", frame: Array(goodTCP.prefix(60)), layer: .tcp, offset: 46, keepsNetwork: true),
        Case(name: "TCP option length 0", frame: F.ethernet(F.ipv4(protocol: 6, F.tcp(options: [2, 0, 0, 0]))), layer: .tcpOptions, offset: 55, keepsNetwork: true),
        Case(name: "TCP option runs past header", frame: F.ethernet(F.ipv4(protocol: 6, F.tcp(options: [1, 8, 9, 0]))), layer: .tcpOptions, offset: 56, keepsNetwork: true),
        Case(name: "TCP MSS option of length 3", frame: F.ethernet(F.ipv4(protocol: 6, F.tcp(options: [2, 3, 0, 0]))), layer: .tcpOptions, offset: 55, keepsNetwork: true),
        Case(name: "UDP length 4", frame: { var f = F.ethernet(F.ipv4(protocol: 17, F.udp(payload: [1]))); f[39] = 4; return f }(), layer: .udp, offset: 38, keepsNetwork: true),
        Case(name: "UDP length past IP", frame: { var f = F.ethernet(F.ipv4(protocol: 17, F.udp(payload: [1]))); f[39] = 200; return f }(), layer: .udp, offset: 38, keepsNetwork: true),
        Case(name: "ICMP cut", frame: Array(F.ethernet(F.ipv4(protocol: 1, F.icmp(type: 8, body: []))).prefix(38)), layer: .icmp, offset: 34, keepsNetwork: true),
        Case(name: "IPv6 cut", frame: Array(F.ethernet(type: 0x86DD, F.ipv6(protocol: 17, [])).prefix(40)), layer: .ipv6, offset: 14, keepsNetwork: false),
        Case(name: "IPv6 extension past payload", frame: F.ethernet(type: 0x86DD, F.ipv6(protocol: 6, extensions: [(0, [0, 9, 0, 0, 0, 0, 0, 0])], [])), layer: .ipv6Extension, offset: 55, keepsNetwork: false),
        Case(name: "ICMPv6 neighbor solicitation cut", frame: F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, F.icmpv6(type: 135, body: [1, 2]))), layer: .icmpv6, offset: 54, keepsNetwork: true),
    ]

    @Test(arguments: cases)
    func namesTheLayerAndTheByte(_ test: Case) throws {
        var packet = Packet()
        test.frame.withUnsafeBytes { packet.decode($0, linkType: .ethernet, originalLength: test.wire) }
        let problem = try #require(packet.problem)
        #expect(problem.layer == test.layer, "\(problem)")
        #expect(problem.offset == test.offset, "\(problem)")
        #expect(packet.link != nil || test.layer == .ethernet || test.layer == .vlan, "the link layer stays decoded")
        #expect((packet.network != nil) == test.keepsNetwork, "layers before the broken one stay decoded")
        #expect(!packet.summary.isEmpty && packet.summary.contains("malformed") || packet.network == nil)
    }

    @Test func optionProblemKeepsTheTCPHeader() throws {
        let packet = Packet(decoding: F.ethernet(F.ipv4(protocol: 6, F.tcp(seq: 77, options: [2, 4, 5, 180, 3, 1, 0, 0]))), linkType: .ethernet)
        #expect(packet.problem?.layer == .tcpOptions)
        #expect(packet.tcp?.sequenceNumber == 77)
        #expect(packet.tcp?.options.mss == 1460, "options before the bad one are kept")
        #expect(packet.problem?.description == "TCP options at byte 59: length of option kind 3 is 1: an option's length counts its kind and length bytes, so at least 2")
    }

    @Test func everyPrefixOfEveryFrameDecodesWithoutTrapping() {
        let frames = [
            Self.goodTCP,
            F.ethernet(type: 0x86DD, F.ipv6(protocol: 6, extensions: [(0, [0, 0, 1, 4, 0, 0, 0, 0])], F.tcp(payload: [1], ipv6: true))),
            F.ethernet(F.ipv4(protocol: 1, F.icmp(type: 3, code: 3, body: F.ipv4(protocol: 17, F.udp(payload: [1]))))),
            F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, F.icmpv6(type: 1, body: F.ipv6(protocol: 17, F.udp(payload: [1], ipv6: true))))),
        ]
        for frame in frames {
            for length in 0...frame.count {
                let packet = Packet(decoding: Array(frame.prefix(length)), linkType: .ethernet)
                if length < frame.count, packet.problem == nil {
                    // A cut inside the payload is fine: the headers are whole.
                    #expect(packet.transport != nil, "prefix \(length) of \(frame.count)")
                }
            }
        }
    }

    @Test func randomBytesNeverTrap() {
        var state: UInt64 = 42
        for round in 0..<20_000 {
            let length = round % 120
            let bytes = (0..<length).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
            for type in [LinkType.ethernet, .linuxCooked, .linuxCooked2, .null, .raw, .ipv6] {
                _ = Packet(decoding: bytes, linkType: type).summary
            }
        }
    }

    @Test func unknownLinkTypeIsAProblemNotATrap() {
        let packet = Packet(decoding: [1, 2, 3], linkType: LinkType(147))
        #expect(packet.problem?.problem == .unsupportedLinkType(147))
    }
}

/// A reader reuses one `Packet` for every frame of a capture, and headers decode in place into
/// its slots. Whatever the frame before left there, good or broken, the result must be exactly
/// what a fresh `Packet` gives.
@Suite struct ReusedPacketTests {
    static let timestampOptions: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9]
    static let goodFrames: [[UInt8]] = [
        MalformedTests.goodTCP,
        F.ethernet(F.ipv4(protocol: 6, F.tcp(seq: 5, options: timestampOptions, payload: [9]))),
        F.ethernet(F.ipv4(protocol: 6, F.tcp(seq: 6, payload: []))),
        F.ethernet(F.ipv4(protocol: 6, options: [7, 7, 4, 0, 0, 0, 0, 0], F.tcp(options: [2, 4, 5, 180]))),
        F.ethernet(F.ipv4(protocol: 17, F.udp(payload: [1, 2, 3]))),
        F.ethernet(F.ipv4(protocol: 1, F.icmp(type: 8, body: [1, 2]))),
        F.ethernet(type: 0x86DD, F.ipv6(protocol: 6, F.tcp(options: timestampOptions, payload: [1]))),
        F.ethernet(vlans: [5], F.ipv4(protocol: 6, F.tcp(payload: [1]))),
    ]

    @Test func everyFrameDecodesAsInAFreshPacket() {
        let frames = Self.goodFrames + MalformedTests.cases.map(\.frame)
        for order in [frames, frames.reversed(), frames.enumerated().sorted { ($0.offset * 7) % 11 < ($1.offset * 7) % 11 }.map(\.element)] {
            var reused = Packet()
            for frame in order {
                frame.withUnsafeBytes { reused.decode($0, linkType: .ethernet) }
                let fresh = Packet(decoding: frame, linkType: .ethernet)
                #expect(reused == fresh, "\(fresh.summary)")
                #expect(reused.hashValue == fresh.hashValue)
                #expect(reused.problem == fresh.problem)
                #expect(reused.tcp?.options.list == fresh.tcp?.options.list)
                #expect(reused.tcp?.options.problem == fresh.tcp?.options.problem)
                #expect(reused.ipv4?.options == fresh.ipv4?.options)
            }
        }
    }
}

/// A tunnel whose outer header claims fewer bytes than its inner header needs (the fuzzer's
/// find: an IPv6 packet inside an IPv4 one 30 bytes long): the inner lengths are clamped to
/// what the outer one leaves, and nothing traps.
@Test func anOuterHeaderShorterThanItsInnerOneNeverTraps() {
    let inner = F.ipv6(protocol: 58, F.icmpv6(type: 128, rest: [0, 1, 0, 1], body: [1, 2, 3, 4]))
    for claimed in [0, 20, 30, 59, 60, 200] {
        for proto: UInt8 in [4, 41, 47] {
            var outer = F.ipv4(protocol: proto, inner)
            outer.replaceSubrange(2..<4, with: F.be16(claimed))
            let packet = Packet(decoding: F.ethernet(outer), linkType: .ethernet)
            _ = packet.summary
            _ = packet.problem?.description
        }
    }
}
