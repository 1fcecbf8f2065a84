import Packets

/// `raw-ping --explain`: the first request's bytes as RFC 792's header diagram, and the
/// checksum worked out the way a student does it by hand for Lab 04.
public enum PingExplain {
    public static func lines(for echo: ICMPEcho) -> [String] {
        let bytes = echo.encoded()
        func hex(_ value: Int, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        func cell(_ text: String, _ width: Int) -> String {
            let left = max(0, (width - text.count) / 2)
            return String(repeating: " ", count: left) + text + String(repeating: " ", count: max(0, width - text.count - left))
        }
        let checksum = Int(bytes[2]) << 8 | Int(bytes[3])
        let kind = echo.version == .v4 ? "ICMP" : "ICMPv6"
        var lines = [
            "\(kind) echo request #\(echo.sequence), as sent (\(bytes.count) bytes: 8 of header, \(echo.payload.count) of data)",
            " 0                   1                   2                   3",
            " 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1",
            "+---------------+---------------+-------------------------------+",
            "|" + cell("type = \(bytes[0])", 15) + "|" + cell("code = \(bytes[1])", 15) + "|"
                + cell(echo.version == .v4 ? "checksum = \(hex(checksum, 4))" : "checksum: by the kernel", 31) + "|",
            "+---------------+---------------+-------------------------------+",
            "|" + cell("identifier = \(echo.identifier) (\(hex(Int(echo.identifier), 4)))", 31) + "|"
                + cell("sequence = \(echo.sequence)", 31) + "|",
            "+-------------------------------+-------------------------------+",
            "|" + cell("data: \(echo.payload.count) bytes" + (echo.payload.count >= 16 ? " (a 16-byte send time, then 0x10 0x11 …)" : ""), 63) + "|",
            "+---------------------------------------------------------------+",
            "bytes: " + bytes.prefix(24).map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ")
                + (bytes.count > 24 ? " …" : ""),
            "type \(bytes[0]) = echo request (the reply is type \(echo.version == .v4 ? 0 : 129)); the identifier ties replies to this ping, the sequence to this request.",
        ]
        guard echo.version == .v4 else {
            lines.append("ICMPv6's checksum also covers a pseudo-header with both IPv6 addresses (RFC 4443 §2.3); a raw ICMPv6 socket leaves it to the kernel, which knows the source address it will use.")
            return lines
        }
        // The sum by hand: 16-bit words with the checksum field as 0, carries folded back, complement.
        var words: [Int] = []
        for index in stride(from: 0, to: bytes.count, by: 2) {
            let high = index == 2 ? 0 : Int(bytes[index])
            let low = index + 1 < bytes.count ? (index == 2 ? 0 : Int(bytes[index + 1])) : 0
            words.append(high << 8 | low)
        }
        var sum = words.reduce(0, +)
        lines.append("checksum (RFC 1071): add the \(words.count) 16-bit words with the checksum field as 0:")
        lines.append("  " + words.prefix(6).map { hex($0, 4) }.joined(separator: " + ") + (words.count > 6 ? " + … (\(words.count - 6) more)" : "") + " = \(hex(sum, 5))")
        while sum > 0xFFFF {
            let folded = (sum & 0xFFFF) + (sum >> 16)
            lines.append("  fold the carry: \(hex(sum & 0xFFFF, 4)) + \(hex(sum >> 16, 1)) = \(hex(folded, 4))")
            sum = folded
        }
        lines.append("  one's complement: ~\(hex(sum, 4)) = \(hex(~sum & 0xFFFF, 4)), the checksum field. The receiver sums everything, checksum included, and gets 0xffff.")
        return lines
    }
}
