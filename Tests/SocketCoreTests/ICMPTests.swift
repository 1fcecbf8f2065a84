import Foundation
import Testing
@testable import SocketCore

/// ICMP sockets: what a raw socket sends and reads, and why an unprivileged one is refused.
@Suite("Raw and ping ICMP sockets")
struct ICMPTests {
    /// An ICMP echo request built by hand: type 8, code 0, checksum, identifier, sequence.
    static func echoRequest(identifier: UInt16, sequence: UInt16, payload: [UInt8]) -> [UInt8] {
        var packet: [UInt8] = [8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)] + payload
        var sum: UInt32 = 0  // RFC 1071: one's-complement sum of 16-bit words
        for index in stride(from: 0, to: packet.count, by: 2) {
            sum += UInt32(packet[index]) << 8 | UInt32(index + 1 < packet.count ? packet[index + 1] : 0)
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        let checksum = ~UInt16(sum)
        packet[2] = UInt8(checksum >> 8)
        packet[3] = UInt8(checksum & 0xFF)
        return packet
    }

    @Test("as root, a raw ICMP socket pings 127.0.0.1 and reads the reply with its IP header",
          .enabled(if: geteuid() == 0 || ProcessInfo.processInfo.environment["CI"] != nil, "raw sockets need root"))
    func rawPing() throws {
        let socket = try Socket.rawICMP()
        try socket.set(.receiveTimeout, .seconds(5))
        let identifier = UInt16(truncatingIfNeeded: getpid())
        let request = Self.echoRequest(identifier: identifier, sequence: 1, payload: Array("socketlab".utf8))
        try socket.send(request, to: .ipv4(.loopback, 0))
        // A raw socket sees every ICMP packet: our own request comes back too. Find the reply.
        for _ in 0..<10 {
            let packet = try socket.receiveFrom(upTo: 1500)
            let headerLength = Int(packet.bytes[0] & 0x0F) * 4  // IPv4: the kernel includes it
            let icmp = Array(packet.bytes[headerLength...])
            guard icmp[0] == 0, icmp[4...7] == request[4...7] else { continue }  // echo reply, ours
            #expect(packet.sender == .ipv4(.loopback, 0))
            #expect(icmp[8...] == request[8...], "the reply carries our payload back")
            return
        }
        Issue.record("no echo reply among 10 ICMP packets")
    }

    @Test("a refused ICMP socket names the privilege it needs and exits 3")
    func privilegeHints() {
        let raw = SocketError.system(call: .rawSocket, errno: .EPERM, address: nil)
        #expect(raw.exitStatus == .missingPrivilege)
        #expect(raw.hint!.contains("CAP_NET_RAW") && raw.hint!.contains("setcap cap_net_raw+eip /") && raw.hint!.contains("ping_group_range") && !raw.hint!.contains("/path/to"))
        let ping = SocketError.system(call: .pingSocket, errno: .EACCES, address: nil)
        #expect(ping.exitStatus == .missingPrivilege)
        #expect(ping.hint!.contains("ping_group_range"))
    }

    @Test("the ping socket follows net.ipv4.ping_group_range")
    func pingSocket() throws {
        let range = try String(contentsOfFile: "/proc/sys/net/ipv4/ping_group_range", encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        let group = Int(getegid())
        let allowed = range.count == 2 && range[0] <= group && group <= range[1]
        if allowed {
            #expect(throws: Never.self) { try Socket.pingICMP() }
        } else {
            #expect {
                try Socket.pingICMP()
            } throws: { error in
                guard let error = error as? SocketError else { return false }
                return error.errno == .EACCES && error.hint!.contains("ping_group_range") && error.exitStatus == .missingPrivilege
            }
        }
    }
}
