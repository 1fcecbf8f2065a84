import PacketCapture
import Packets

/// One TCP segment of a student's capture, with the connection it belongs to: what the labs
/// that read a protocol off the wire (07, 09) walk through.
struct CapturedSegment {
    /// The connection, numbered from 0 in the order their SYNs appear.
    var connection: Int
    /// Sent by the side that sent the SYN.
    var fromClient: Bool
    var tcp: TCPHeader
    var time: Timestamp
    /// The bytes the capture holds of its payload.
    var payload: [UInt8]
}

enum CapturedConnections {
    /// Calls `body` with every segment of a connection whose opening SYN is in the capture,
    /// in capture order (a connection already open when the capture started is left out:
    /// which side is the client is unknown).
    static func forEachSegment(in path: String, _ body: (CapturedSegment) throws -> Void) throws {
        let capture = try CaptureFile(path: path)
        var numbers: [String: (number: Int, client: String)] = [:]
        var failure: (any Error)?
        try capture.forEach { frame in
            guard failure == nil else { return }
            let packet = frame.decode(capture.linkType)
            guard let tcp = packet.tcp, let from = packet.sourceAddress, let to = packet.destinationAddress else { return }
            let source = "\(from) \(tcp.sourcePort)", destination = "\(to) \(tcp.destinationPort)"
            let key = source < destination ? source + "|" + destination : destination + "|" + source
            if numbers[key] == nil {
                guard tcp.flags.contains(.syn) && !tcp.flags.contains(.ack) else { return }
                numbers[key] = (numbers.count, source)
            }
            let (number, client) = numbers[key]!
            let payload = tcp.capturedPayloadLength > 0
                ? Array(UnsafeRawBufferPointer(rebasing: frame.bytes[tcp.payloadOffset..<(tcp.payloadOffset + tcp.capturedPayloadLength)])) : []
            do {
                try body(CapturedSegment(connection: number, fromClient: source == client, tcp: tcp, time: frame.timestamp, payload: payload))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }
}
