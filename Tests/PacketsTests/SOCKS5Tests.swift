import Packets
import Testing

/// RFC 1928 and RFC 1929 messages, as bytes on the wire: each encodes as the RFC draws it,
/// decodes back, asks for more at every shorter prefix, and names what is wrong otherwise.
@Suite struct SOCKS5Tests {
    @Test func aRequestForEachAddressTypeIsTheRFCsLayout() throws {
        let v4 = SOCKS5.Request(.connect, .ipv4(IPv4Address(127, 0, 0, 1)), port: 80)
        #expect(v4.encoded == [5, 1, 0, 1, 127, 0, 0, 1, 0, 80])
        let name = SOCKS5.Request(.connect, .domain("example.test"), port: 8080)
        #expect(name.encoded == [5, 1, 0, 3, 12] + Array("example.test".utf8) + [0x1F, 0x90], "port in network order")
        let v6 = SOCKS5.Request(.udpAssociate, .ipv6(IPv6Address("::1")!), port: 53)
        #expect(v6.encoded.count == 4 + 16 + 2 && v6.encoded[3] == 4)
        for request in [v4, name, v6] {
            let bytes = request.encoded
            for length in 0..<bytes.count {
                guard case .needMore = SOCKS5.Request.parse(bytes[..<length]) else { Issue.record("prefix \(length) of \(bytes)"); continue }
            }
            guard case .message(let parsed, let consumed) = SOCKS5.Request.parse((bytes + [9, 9])[...]) else { Issue.record("\(bytes)"); continue }
            #expect(parsed == request && consumed == bytes.count, "the bytes after it are left for the relay")
        }
    }

    @Test func greetingsLoginsAndRepliesRoundTrip() throws {
        let greeting = SOCKS5.Greeting(methods: [.noAuthentication, .usernamePassword])
        #expect(greeting.encoded == [5, 2, 0, 2])
        guard case .message(let g, 4) = SOCKS5.Greeting.parse(greeting.encoded[...]) else { Issue.record("greeting"); return }
        #expect(g == greeting)
        let login = SOCKS5.Login(username: Array("alice".utf8), password: Array("s3cret".utf8))
        #expect(login.encoded.first == 1, "RFC 1929's own version byte")
        guard case .message(let l, _) = SOCKS5.Login.parse(login.encoded[...]) else { Issue.record("login"); return }
        #expect(l == login)
        #expect(SOCKS5.LoginStatus(succeeded: true).encoded == [1, 0])
        let reply = SOCKS5.ReplyMessage(.connectionRefused)
        #expect(reply.encoded == [5, 5, 0, 1, 0, 0, 0, 0, 0, 0])
        guard case .message(let r, _) = SOCKS5.ReplyMessage.parse(reply.encoded[...]) else { Issue.record("reply"); return }
        #expect(r.reply == .connectionRefused && r.reply.description == "connection refused")
        let header = SOCKS5.UDPHeader(.ipv4(IPv4Address(10, 0, 0, 1)), port: 53)
        guard case .message(let h, 10) = SOCKS5.UDPHeader.parse((header.encoded + [1, 2])[...]) else { Issue.record("udp"); return }
        #expect(h == header)
    }

    @Test func nonsenseIsNamed() {
        guard case .invalid(let v4) = SOCKS5.Greeting.parse([4, 1, 0][...]) else { Issue.record("SOCKS4"); return }
        #expect(v4.contains("version 4"))
        guard case .invalid(let command) = SOCKS5.Request.parse([5, 9, 0, 1, 1, 2, 3, 4, 0, 80][...]) else { Issue.record("command"); return }
        #expect(command.contains("command 9"))
        guard case .invalid(let type) = SOCKS5.Request.parse([5, 1, 0, 7, 1, 2][...]) else { Issue.record("atyp"); return }
        #expect(type.contains("address type 7"))
        guard case .invalid(let login) = SOCKS5.Login.parse([5, 1, 65, 1, 66][...]) else { Issue.record("login version"); return }
        #expect(login.contains("RFC 1929 says 1"))
        guard case .invalid = SOCKS5.Request.parse([5, 1, 0, 3, 0, 0, 80][...]) else { Issue.record("empty name"); return }
    }
}
