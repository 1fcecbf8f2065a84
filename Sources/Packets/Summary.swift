/// tcpdump's one-line shape (`tcpdump -nn -S`), the line network people read every day:
///
///     IP 127.0.0.1.43210 > 127.0.0.1.8080: Flags [S], seq 1628634260, win 65495, options [mss 65495,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
///
/// Sequence numbers are raw here; the inspector adds relative ones and the explanation.
extension Packet {
    public var summary: String {
        let family: String
        switch network {
        case .ipv4: family = "IP"
        case .ipv6: family = "IP6"
        case .other(let type):
            if case .ethernet(let ethernet)? = link, let llc = ethernet.llc {
                return "802.3, length \(ethernet.typeField): LLC, \(llc.name)" + problemSuffix
            }
            return type == .arp ? "ARP" : "ethertype \(type)" + problemSuffix
        case nil:
            if case .unsupportedLinkType(let dlt)? = problem?.problem {
                return "link type \(LinkType(dlt)) (\(dlt)), not decoded, \(capturedLength) bytes"
            }
            return (problem.map { "[\($0)]" } ?? "empty frame")
        }
        let source = sourceAddress ?? "?", destination = destinationAddress ?? "?"
        var line: String
        switch transport {
        case .tcp(let tcp):
            line = "\(family) \(source).\(tcp.sourcePort) > \(destination).\(tcp.destinationPort): \(tcp.tcpdumpText())"
        case .udp(let udp):
            line = "\(family) \(source).\(udp.sourcePort) > \(destination).\(udp.destinationPort): UDP, length \(udp.payloadLength)"
        case .icmp(let icmp):
            line = "\(family) \(source) > \(destination): ICMP \(icmp.tcpdumpText)"
        case .icmpv6(let icmp):
            line = "\(family) \(source) > \(destination): ICMP6, \(icmp.tcpdumpText)"
        case .other(let proto):
            if let ports = cutTCPPorts {
                line = "\(family) \(source).\(ports.source) > \(destination).\(ports.destination): TCP, header cut short"
            } else {
                line = "\(family) \(source) > \(destination): \(ipv4?.isFragment == true || ipv6?.isFragment == true ? "fragment of " : "")\(proto)"
            }
        case nil:
            line = "\(family) \(source) > \(destination):"
        }
        if let tunnel {
            line = "\(tunnel.outerSource) > \(tunnel.outerDestination): \(tunnel.name)\(tunnel.identifier.map { " (id \($0))" } ?? ""): " + line
        }
        return line + problemSuffix
    }

    private var problemSuffix: String { problem.map { " [malformed: \($0)]" } ?? "" }
}

extension TCPHeader {
    /// The part of tcpdump's line after the ports. Pass relative numbers to show them instead.
    public func tcpdumpText(sequence: UInt32? = nil, acknowledgement: UInt32? = nil, window shown: Int? = nil) -> String {
        let seq = sequence ?? sequenceNumber
        var text = "Flags [\(flags.tcpdumpText)]"
        if payloadLength > 0 || flags.contains(.syn) || flags.contains(.fin) || flags.contains(.rst) {
            text += payloadLength > 0 ? ", seq \(seq):\(seq &+ UInt32(truncatingIfNeeded: payloadLength))" : ", seq \(seq)"
        }
        if flags.contains(.ack) { text += ", ack \(acknowledgement ?? acknowledgementNumber)" }
        text += ", win \(shown ?? Int(window))"
        if flags.contains(.urg) { text += ", urg \(urgentPointer)" }
        if !options.isEmpty { text += ", options [" + options.list.map(\.tcpdumpText).joined(separator: ",") + "]" }
        text += ", length \(payloadLength)"
        return text
    }
}

extension ICMPHeader {
    var tcpdumpText: String {
        switch message {
        case .echoRequest(let id, let seq), .echoReply(let id, let seq):
            "\(name), id \(id), seq \(seq), length \(bodyLength + 8)"
        case .destinationUnreachable(let quoted?) where code == 3 && quoted.destinationPort != nil:
            // tcpdump's words: "ICMP 127.0.0.1 udp port 9 unreachable".
            "\(quoted.destination) \(quoted.protocol.description.lowercased()) port \(quoted.destinationPort!) unreachable, length \(bodyLength + 8)"
        case .destinationUnreachable(let quoted), .timeExceeded(let quoted):
            "\(name)" + (quoted.map { " (quoting \($0.summary))" } ?? "") + ", length \(bodyLength + 8)"
        case .other:
            "\(name), length \(bodyLength + 8)"
        }
    }
}

extension ICMPv6Header {
    var tcpdumpText: String {
        switch message {
        case .echoRequest(let id, let seq), .echoReply(let id, let seq):
            "\(name), id \(id), seq \(seq), length \(bodyLength + 8)"
        case .neighborSolicitation(let target, _):
            "\(name), who has \(target), length \(bodyLength + 8)"
        case .neighborAdvertisement(let target, _, _, _, _):
            "\(name), tgt is \(target), length \(bodyLength + 8)"
        case .destinationUnreachable(let quoted), .timeExceeded(let quoted), .packetTooBig(_, let quoted), .parameterProblem(_, let quoted):
            "\(name)" + (quoted.map { " (quoting \($0.summary))" } ?? "") + ", length \(bodyLength + 8)"
        default:
            "\(name), length \(bodyLength + 8)"
        }
    }
}

extension QuotedDatagram {
    /// "UDP 127.0.0.1.40000 > 127.0.0.1.9": which packet of ours the error is about.
    public var summary: String {
        if let sourcePort, let destinationPort {
            return "\(`protocol`) \(source).\(sourcePort) > \(destination).\(destinationPort)"
        }
        if let echoIdentifier, let echoSequence {
            return "\(`protocol`) echo \(source) > \(destination) id \(echoIdentifier) seq \(echoSequence)"
        }
        return "\(`protocol`) \(source) > \(destination)"
    }
}
