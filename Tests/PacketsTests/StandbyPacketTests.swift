import NetworkAddresses
import Packets
import Testing

/// The failover lab's two packets, byte for byte: the heartbeat as `standby` lays it out, and
/// ARP as RFC 826 and RFC 5227 do (tshark's `arp.isgratuitous` for the announcement).
@Suite struct StandbyPacketTests {
    @Test func aHeartbeatIsItsHeaderNameAndMACAndRoundTrips() throws {
        var heartbeat = StandbyHeartbeat(state: .master, priority: 200, intervalMilliseconds: 100, epoch: 1_764_684_000_123, sequence: 42, name: "S1")
        heartbeat.mac = (0..<32).map { UInt8($0) }
        let bytes = heartbeat.encoded()
        #expect(bytes.count == StandbyHeartbeat.headerLength + 2 + StandbyHeartbeat.macLength)
        #expect(Array(bytes[0..<4]) == Array("SLHB".utf8))
        #expect(bytes[4] == 1 && bytes[5] == 2 && bytes[6] == 200 && bytes[7] == 2)
        #expect(Array(bytes[8..<10]) == [0, 100])
        #expect(Array(bytes[20..<28]) == [0, 0, 0, 0, 0, 0, 0, 42])
        #expect(Array(bytes[28..<30]) == Array("S1".utf8))
        #expect(StandbyHeartbeat(decoding: bytes) == heartbeat)
        #expect(heartbeat.signedBytes == Array(bytes.dropLast(32)))
    }

    @Test func anythingElseOnThePortIsNotAHeartbeat() {
        let good = StandbyHeartbeat(state: .master, priority: 1, intervalMilliseconds: 10, epoch: 1, sequence: 1, name: "A").encoded()
        #expect(StandbyHeartbeat(decoding: Array(good.dropLast())) == nil)
        #expect(StandbyHeartbeat(decoding: good + [0]) == nil)
        var badVersion = good; badVersion[4] = 2
        #expect(StandbyHeartbeat(decoding: badVersion) == nil)
        var badState = good; badState[5] = 9
        #expect(StandbyHeartbeat(decoding: badState) == nil)
        var longName = good; longName[7] = 200
        #expect(StandbyHeartbeat(decoding: longName) == nil)
        #expect(StandbyHeartbeat(decoding: [UInt8]()) == nil)
        #expect(StandbyHeartbeat(decoding: Array("hello".utf8)) == nil)
    }

    @Test func aLaterHeartbeatHasALaterEpochOrTheSameEpochAndALargerSequence() {
        let heartbeat = StandbyHeartbeat(state: .master, priority: 1, intervalMilliseconds: 10, epoch: 5, sequence: 7, name: "A")
        #expect(heartbeat.isLater(than: (5, 6)))
        #expect(heartbeat.isLater(than: (4, 900)))
        #expect(!heartbeat.isLater(than: (5, 7)))
        #expect(!heartbeat.isLater(than: (6, 1)))
    }

    @Test func aGratuitousARPClaimsItsOwnAddressToEveryone() throws {
        let mac = try #require(MACAddress("02:00:0a:63:01:01"))
        let vip = try #require(IPv4Address("10.99.1.100"))
        let frame = ARPPacket.announcement(of: vip, from: mac).broadcastFrame()
        #expect(frame.count == 14 + 28)
        #expect(Array(frame[0..<6]) == [UInt8](repeating: 0xFF, count: 6))
        #expect(Array(frame[6..<12]) == [2, 0, 10, 99, 1, 1])
        #expect(Array(frame[12..<14]) == [0x08, 0x06])
        let arp = try #require(frame.withUnsafeBytes { ARPPacket(decoding: UnsafeRawBufferPointer(rebasing: $0[14...])) })
        #expect(arp.operation == .request && arp.isGratuitous && arp.senderAddress == vip && arp.targetAddress == vip)
        let probe = ARPPacket.probe(for: vip, from: mac)
        #expect(!probe.isGratuitous && probe.senderAddress.value == 0)
        #expect([UInt8](repeating: 0, count: 27).withUnsafeBytes { ARPPacket(decoding: $0) } == nil)
    }

    @Test func anUnsolicitedNeighbourAdvertisementOverridesEveryCacheAndItsChecksumIsRight() throws {
        let mac = try #require(MACAddress("02:00:0a:63:01:02"))
        let vip = try #require(IPv6Address("fd00:99:1::100"))
        let frame = UnsolicitedNeighborAdvertisement.frame(announcing: vip, from: mac)
        #expect(Array(frame[0..<6]) == [0x33, 0x33, 0, 0, 0, 1])
        let packet = Packet(decoding: frame, linkType: .ethernet)
        #expect(packet.problem == nil)
        let ip = try #require(packet.ipv6)
        #expect(ip.hopLimit == 255 && ip.source == vip && ip.destination == UnsolicitedNeighborAdvertisement.allNodes)
        let icmp = try #require(packet.icmpv6)
        #expect(icmp.checksumStatus == .good)
        #expect(icmp.message == .neighborAdvertisement(target: vip, router: false, solicited: false, override: true, targetLinkAddress: mac))
    }
}
