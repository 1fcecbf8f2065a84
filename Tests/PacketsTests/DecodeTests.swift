import Packets
import Testing
import FrameBuilder
import TestSupport

typealias F = FrameBuilder

/// Hand-built frames with every header field a lab asks about, decoded field by field.
@Suite struct DecodeTests {
    /// A Linux SYN: mss, sackOK, timestamps, nop, wscale — in the order Linux sends them.
    static let synOptions: [UInt8] = [2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]

    @Test func synWithEveryHandshakeOption() throws {
        let frame = F.ethernet(F.ipv4(protocol: 6, F.tcp(seq: 1628634260, flags: 0x02, options: Self.synOptions)))
        let packet = Packet(decoding: frame, linkType: .ethernet)
        #expect(packet.problem == nil)
        let ip = try #require(packet.ipv4)
        #expect(ip.source == IPv4Address(10, 0, 0, 1))
        #expect(ip.destination == IPv4Address(10, 0, 0, 2))
        #expect(ip.ttl == 64 && ip.dontFragment && !ip.moreFragments && ip.identification == 0x1234)
        #expect(ip.checksumStatus == .good)
        let tcp = try #require(packet.tcp)
        #expect(tcp.sourcePort == 40000 && tcp.destinationPort == 80)
        #expect(tcp.sequenceNumber == 1628634260)
        #expect(tcp.flags == .syn)
        #expect(tcp.headerLength == 40)
        #expect(tcp.sequenceLength == 1, "a SYN uses one sequence number")
        #expect(tcp.options.mss == 65495)
        #expect(tcp.options.windowScale == 7)
        #expect(tcp.options.sackPermitted)
        #expect(tcp.options.timestampValue == 1 && tcp.options.timestampEchoReply == 0)
        #expect(tcp.options.list == [.maximumSegmentSize(65495), .sackPermitted, .timestamps(value: 1, echoReply: 0), .noOperation, .windowScale(7)])
        #expect(tcp.checksumStatus == .good)
        #expect(packet.summary == "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1628634260, win 65535, options [mss 65495,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0")
    }

    @Test func sackBlocksEcnFlagsAndUnknownOptionsKeptRaw() throws {
        let options: [UInt8] = [1, 1, 5, 18] + F.be32(100) + F.be32(200) + F.be32(300) + F.be32(400) + [254, 4, 0xAB, 0xCD]
        let frame = F.ethernet(F.ipv4(protocol: 6, F.tcp(flags: 0x1D0, options: options, payload: [1, 2, 3])))
        let tcp = try #require(Packet(decoding: frame, linkType: .ethernet).tcp)
        #expect(tcp.flags == [.ack, .ece, .cwr, .ae])
        #expect(tcp.flags.names == ["ACK", "ECE", "CWR", "AE"])
        #expect(tcp.options.sackBlockCount == 2)
        #expect(tcp.options.sackBlocks == [SACKBlock(left: 100, right: 200), SACKBlock(left: 300, right: 400)])
        #expect(tcp.options.list.last == .unknown(kind: 254, data: [0xAB, 0xCD]))
        #expect(tcp.payloadLength == 3 && tcp.capturedPayloadLength == 3)
    }

    @Test func vlanTagsAreSkippedAndKept() throws {
        let frame = F.ethernet(type: 0x0800, vlans: [0x2064, 0x0005], F.ipv4(protocol: 17, F.udp(payload: [9])))
        let packet = Packet(decoding: frame, linkType: .ethernet)
        guard case .ethernet(let ethernet) = packet.link else { Issue.record("no Ethernet header"); return }
        #expect(ethernet.outerTag?.id == 100 && ethernet.outerTag?.priority == 1)
        #expect(ethernet.innerTag?.id == 5)
        #expect(ethernet.length == 22)
        #expect(ethernet.source == MACAddress(0x02_00_00_00_00_01))
        #expect(packet.udp?.payloadLength == 1)
    }

    @Test func ipv4OptionsAndFragments() throws {
        // Record route option (7), 11 bytes, padded to 12 with EOL.
        let options: [UInt8] = [7, 11, 4] + [UInt8](repeating: 0, count: 8) + [0]
        let first = Packet(decoding: F.ethernet(F.ipv4(protocol: 17, options: options, flagsFragment: 0x2000, F.udp(payload: pattern(16)))), linkType: .ethernet)
        let ip = try #require(first.ipv4)
        #expect(ip.headerLength == 32 && ip.options.array == options)
        #expect(ip.moreFragments && ip.isFragment)
        #expect(first.udp?.checksumStatus == .unverified, "a fragment's checksum covers the whole datagram")
        let later = Packet(decoding: F.ethernet(F.ipv4(protocol: 17, flagsFragment: 0x0003, pattern(24))), linkType: .ethernet)
        #expect(later.ipv4?.fragmentOffset == 24)
        #expect(later.transport == .other(.udp), "a later fragment carries no UDP header")
    }

    @Test func ipv6ExtensionHeaderChain() throws {
        let hopByHop: (UInt8, [UInt8]) = (0, [0, 0, 1, 4, 0, 0, 0, 0])            // PadN
        let destination: (UInt8, [UInt8]) = (60, [0, 1] + [UInt8](repeating: 0, count: 14))
        let fragment: (UInt8, [UInt8]) = (44, [0, 0, 0, 0] + F.be32(0xCAFE))     // offset 0, last
        let segment = F.tcp(flags: 0x18, payload: [7, 7], ipv6: true)
        let packet = Packet(decoding: F.ethernet(type: 0x86DD, F.ipv6(protocol: 6, extensions: [hopByHop, destination, fragment], segment)), linkType: .ethernet)
        #expect(packet.problem == nil)
        let ip = try #require(packet.ipv6)
        #expect(ip.extensionHeaders.map(\.kind) == [.hopByHop, .destinationOptions, .fragment])
        #expect(ip.extensionHeaders.map(\.length) == [8, 16, 8])
        #expect(ip.fragment?.fragmentIdentification == 0xCAFE)
        #expect(ip.upperProtocol == .tcp)
        #expect(ip.source.description == "fd00::1")
        let tcp = try #require(packet.tcp)
        #expect(tcp.payloadLength == 2)
        #expect(tcp.checksumStatus == .good, "the pseudo-header uses the upper-layer length, not the IPv6 payload length")
    }

    @Test func udpChecksumZeroMeansNoneAndABadOneSaysWhatItShouldBe() throws {
        var datagram = F.udp(payload: Array("hello".utf8))
        let correct = UInt16(datagram[6]) << 8 | UInt16(datagram[7])
        datagram[6] = 0
        datagram[7] = 0
        #expect(Packet(decoding: F.ethernet(F.ipv4(protocol: 17, datagram)), linkType: .ethernet).udp?.checksumStatus == .absent)
        datagram[7] = 1
        let status = Packet(decoding: F.ethernet(F.ipv4(protocol: 17, datagram)), linkType: .ethernet).udp?.checksumStatus
        #expect(status == .bad(found: 1, expected: correct))
    }

    @Test func icmpEchoEncodesAndDecodesBack() throws {
        let echo = ICMPEcho(identifier: 0x1234, sequence: 7, payload: pattern(56))
        let bytes = echo.encoded()
        #expect(bytes.count == 64)
        #expect(FrameBuilder.checksum(bytes) == 0, "a message with its checksum in place sums to zero")
        #expect(ICMPEcho(parsing: bytes, version: .v4) == echo)
        let packet = Packet(decoding: F.ethernet(F.ipv4(protocol: 1, bytes)), linkType: .ethernet)
        let icmp = try #require(packet.icmp)
        #expect(icmp.message == .echoRequest(identifier: 0x1234, sequence: 7))
        #expect(icmp.checksumStatus == .good)
        #expect(packet.summary == "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 4660, seq 7, length 64")
    }

    @Test func icmpv6EchoChecksumCoversThePseudoHeader() throws {
        let source = IPv6Address(high: 0xfd00 << 48, low: 1), destination = IPv6Address(high: 0xfd00 << 48, low: 2)
        let echo = ICMPEcho(version: .v6, identifier: 9, sequence: 1, payload: [1, 2, 3, 4])
        let bytes = echo.encoded(source: source, destination: destination)
        #expect(bytes == F.icmpv6(type: 128, rest: [0, 9, 0, 1], body: [1, 2, 3, 4]))
        #expect(echo.encoded()[2...3] == [0, 0], "without addresses the kernel fills the checksum in")
        let packet = Packet(decoding: F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, bytes)), linkType: .ethernet)
        #expect(packet.icmpv6?.message == .echoRequest(identifier: 9, sequence: 1))
        #expect(packet.icmpv6?.checksumStatus == .good)
    }

    @Test func portUnreachableQuotesTheDatagramThatFailed() throws {
        let original = F.ipv4(protocol: 17, F.udp(sourcePort: 40001, destinationPort: 9, payload: [1, 2, 3]))
        let error = F.icmp(type: 3, code: 3, body: original)
        let packet = Packet(decoding: F.ethernet(F.ipv4(protocol: 1, error)), linkType: .ethernet)
        let icmp = try #require(packet.icmp)
        #expect(icmp.name == "port unreachable")
        guard case .destinationUnreachable(let quoted?) = icmp.message else { Issue.record("no quote: \(icmp.message)"); return }
        #expect(quoted.protocol == .udp && quoted.sourcePort == 40001 && quoted.destinationPort == 9)
        #expect(packet.summary == "IP 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.2 udp port 9 unreachable, length 39", "tcpdump's words")
    }

    @Test func timeExceededQuotesAnEchoRequest() throws {
        let original = F.ipv4(protocol: 1, ttl: 1, F.icmp(type: 8, rest: [0, 5, 0, 2], body: []))
        let packet = Packet(decoding: F.ethernet(F.ipv4(protocol: 1, F.icmp(type: 11, body: original))), linkType: .ethernet)
        guard case .timeExceeded(let quoted?) = packet.icmp?.message else { Issue.record("no quote"); return }
        #expect(quoted.echoIdentifier == 5 && quoted.echoSequence == 2)
    }

    @Test func neighborDiscovery() throws {
        let target: [UInt8] = F.destination6
        let solicitation = F.icmpv6(type: 135, body: target + [1, 1, 0x02, 0, 0, 0, 0, 0x01])
        let ns = Packet(decoding: F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, solicitation)), linkType: .ethernet)
        #expect(ns.icmpv6?.message == .neighborSolicitation(target: IPv6Address(high: 0xfd00 << 48, low: 2), sourceLinkAddress: MACAddress(0x02_00_00_00_00_01)))
        let advertisement = F.icmpv6(type: 136, rest: [0x60, 0, 0, 0], body: target)
        let na = Packet(decoding: F.ethernet(type: 0x86DD, F.ipv6(protocol: 58, advertisement)), linkType: .ethernet)
        #expect(na.icmpv6?.message == .neighborAdvertisement(target: IPv6Address(high: 0xfd00 << 48, low: 2), router: false, solicited: true, override: true, targetLinkAddress: nil))
    }

    @Test func everyLinkTypeALabMeets() throws {
        let ip = F.ipv4(protocol: 17, F.udp(payload: [1]))
        // Linux cooked v1: packet type 4 (outgoing), ARPHRD 772 (loopback), address length 6.
        let sll = F.be16(4) + F.be16(772) + F.be16(6) + [UInt8](repeating: 0, count: 8) + F.be16(0x0800) + ip
        // Linux cooked v2: protocol, reserved, ifindex 1, ARPHRD 772, packet type 0, length 6.
        let sll2 = F.be16(0x0800) + [0, 0] + F.be32(1) + F.be16(772) + [0, 6] + [UInt8](repeating: 0, count: 8) + ip
        // BSD loopback: AF_INET (2) in the capturing host's byte order, either way round.
        let null = [2, 0, 0, 0] + ip
        let nullSwapped = [0, 0, 0, 2] + ip
        let v6null = [10, 0, 0, 0] + F.ipv6(protocol: 17, F.udp(payload: [1], ipv6: true))
        for (bytes, type) in [(sll, LinkType.linuxCooked), (sll2, .linuxCooked2), (null, .null), (nullSwapped, .null), (v6null, .null), (ip, .raw), (ip, LinkType(101)), (ip, .ipv4)] {
            let packet = Packet(decoding: bytes, linkType: type)
            #expect(packet.problem == nil, "\(type)")
            #expect(packet.udp?.payloadLength == 1, "\(type)")
        }
        guard case .linuxCooked(let cooked) = Packet(decoding: sll2, linkType: .linuxCooked2).link else { Issue.record("SLL2"); return }
        #expect(cooked.interfaceIndex == 1 && cooked.hardwareType == 772 && cooked.version == 2)
    }
}
