import Packets
import SocketCore

/// Reads remote frames off a socket: whatever recv() brings is kept until a whole frame is
/// there, so a frame split over segments or three frames in one arrive the same. A frame
/// longer than the protocol allows ends the connection before anything is allocated for it.
public struct FrameReader: Sendable {
    let socket: Socket
    private var buffer: [UInt8] = []
    private var start = 0

    public init(_ socket: Socket) {
        self.socket = socket
    }

    public enum Problem: Error, CustomStringConvertible, Sendable {
        case invalid(String)
        case cutShort(Int)
        public var description: String {
            switch self {
            case .invalid(let what): "not this protocol: \(what)"
            case .cutShort(let bytes): "the connection ended inside a frame (\(bytes) bytes of it had arrived)"
            }
        }
    }

    /// The next frame; nil when the peer closed between frames.
    public mutating func next() throws -> RemoteFrame? {
        while true {
            switch RemoteFrame.parse(buffer[start...]) {
            case .frame(let frame, let consumed):
                start += consumed
                if start > 65_536 && start * 2 > buffer.count {
                    buffer.removeFirst(start)
                    start = 0
                }
                return frame
            case .invalid(let what):
                throw Problem.invalid(what)
            case .needMore:
                let chunk = try socket.receive(upTo: 65_536)
                if chunk.isEmpty {
                    if buffer.count == start { return nil }
                    throw Problem.cutShort(buffer.count - start)
                }
                buffer += chunk
            }
        }
    }
}

extension Socket {
    /// Sends one frame whole.
    public func send(_ frame: RemoteFrame) throws(SocketError) {
        try send(frame.encoded)
    }
}
