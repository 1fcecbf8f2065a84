import Testing
@testable import SocketCore

/// Lab 0: how people write addresses, and how SocketCore reads and prints them.
@Suite("SocketAddress: parsing and printing")
struct AddressTests {
    @Test("numeric addresses parse and print back the way people write them", arguments: [
        ("127.0.0.1:9000", "127.0.0.1:9000"),
        ("0.0.0.0:0", "0.0.0.0:0"),
        ("255.255.255.255:65535", "255.255.255.255:65535"),
        ("[::1]:80", "[::1]:80"),
        ("[::]:443", "[::]:443"),
        ("[2001:DB8:0:0:0:0:0:1]:8080", "[2001:db8::1]:8080"),  // RFC 5952: lower case, :: for zeros
        ("[::ffff:10.0.0.1]:53", "[::ffff:10.0.0.1]:53"),
        ("[fe80::1%lo]:22", "[fe80::1%lo]:22"),
        ("unix:/tmp/chat.sock", "unix:/tmp/chat.sock"),
        ("unix:@socketlab", "unix:@socketlab"),
    ])
    func parsesAndPrints(input: String, printed: String) throws {
        let address = try SocketAddress(input)
        #expect(address.description == printed)
        #expect(try SocketAddress(address.description) == address, "printing then parsing gives the same address")
    }

    @Test("bad addresses are refused with the reason", arguments: [
        ("", "empty address"),
        ("127.0.0.1", "missing port"),
        ("127.0.0.1:", "missing port number"),
        ("127.0.0.1:http", "is not a number"),
        ("127.0.0.1:65536", "out of range 0–65535"),
        ("127.0.0.1:99999999999", "out of range 0–65535"),
        ("127.0.0.1:-1", "is not a number"),
        ("256.1.1.1:80", "is not an IPv4 address"),
        ("1.2.3:80", "is not an IPv4 address"),
        ("::1:80", "needs brackets: [::1]:80"),
        ("[::1:80", "missing ']'"),
        ("[::1]80", "missing port"),
        ("[::g]:80", "is not an IPv6 address"),
        ("[fe80::1%nosuchif0]:22", "no network interface named"),
        (":80", "missing host"),
        ("unix:", "empty Unix socket path"),
        ("unix:/" + String(repeating: "x", count: 200), "sun_path holds at most 107"),
        ("localhost:80", "not a numeric IP address"),
    ])
    func refusesBadInput(input: String, reason: String) {
        #expect {
            try SocketAddress(input)
        } throws: { error in
            guard case .badAddress(let seen, let why) = error as? SocketError else { return false }
            return seen == input && why.contains(reason)
        }
    }

    @Test("a bad address is exit code 2 and its message says how to write one")
    func badAddressMessage() {
        let error = SocketError.badAddress(input: "x:70000", reason: "port 70000 is out of range 0–65535")
        #expect(error.exitStatus == .badInput)
        #expect(error.description == "bad address \"x:70000\": port 70000 is out of range 0–65535 — write host:port, [IPv6]:port or unix:/path, with a port from 0 to 65535")
    }

    @Test("getaddrinfo resolves localhost, and numbers need no lookup")
    func resolves() throws {
        let local = try SocketAddress.resolve("localhost:8080")
        #expect(!local.isEmpty)
        #expect(local.allSatisfy { $0 == .loopback(8080) || $0 == .loopback(8080, family: .ipv6) })
        #expect(try SocketAddress.resolve("[::1]:7") == [.loopback(7, family: .ipv6)])
        #expect(try SocketAddress.resolve(host: "127.0.0.1", port: 1) == [.loopback(1)])
    }

    @Test("an unknown host is a resolution error, exit code 2")
    func unknownHost() {
        #expect {
            try SocketAddress.resolve("no-such-host.invalid:80")
        } throws: { error in
            guard let error = error as? SocketError, case .resolution(let host, _, _) = error else { return false }
            return host == "no-such-host.invalid" && error.exitStatus == .badInput
        }
    }

    @Test("IPv4 and IPv6 values know their bytes")
    func bytes() throws {
        #expect(IPv4Address.loopback.bytes == [127, 0, 0, 1])
        #expect(IPv4Address("10.1.2.3")?.value == 0x0A01_0203)
        #expect(IPv6Address.loopback.bytes == Array(repeating: 0, count: 15) + [1])
        #expect(IPv6Address("fe80::1")!.isLinkLocal)
        #expect(!IPv6Address.loopback.isLinkLocal)
    }
}
