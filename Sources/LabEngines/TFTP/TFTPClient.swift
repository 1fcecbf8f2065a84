import Foundation
import Packets
import SocketCore

/// `transfer tftp get|put`: one file from or to a TFTP server, asking for the options given
/// (none: plain RFC 1350 lock-step with 512-byte blocks), falling back to the defaults when
/// the server ignores them (RFC 2347), and reporting what the transfer did on the wire.
public struct TFTPClient: Sendable {
    public struct Options: Sendable {
        public var mode = "octet"
        public var blockSize: Int?
        public var windowSize: Int?
        public var timeoutSeconds: Int?
        /// Ask for (get) or announce (put) the size: RFC 2349's tsize.
        public var askSize = true
        public var maxRetries = 6
        public init() {}

        var requested: [TFTPOption] {
            var options: [TFTPOption] = []
            if let blockSize { options.append(TFTPOption("blksize", String(blockSize))) }
            if let windowSize { options.append(TFTPOption("windowsize", String(windowSize))) }
            if let timeoutSeconds { options.append(TFTPOption("timeout", String(timeoutSeconds))) }
            return options
        }
    }

    public struct Report: Sendable {
        public var isGet: Bool
        public var remoteName: String
        public var localPath: String
        public var settings: TFTPSettings
        /// Whether the server answered with an OACK (else it ignored every option).
        public var negotiated: Bool
        public var counters: TFTPCounters
    }

    public let options: Options
    public init(options: Options) { self.options = options }

    /// Reads `remoteName` from `server` into `localPath` (a partial file renamed at the end).
    public func get(_ remoteName: String, from server: SocketAddress, to localPath: String) throws -> Report {
        let (folder, local) = try Self.split(localPath)
        let incoming = try IncomingFile(folder: folder, name: local, size: 0, maxSize: .max, overwrite: true)
        try incoming.begin(at: 0)
        let socket = try Socket.udp(server.family)
        defer { try? socket.close() }
        var requested = options.requested
        if options.askSize && options.mode == "octet" { requested.append(TFTPOption("tsize", "0")) }
        let request = TFTPPacket.readRequest(TFTPRequest(filename: remoteName, mode: options.mode, options: requested))
        let endpoint = TFTPEndpoint(socket: socket, peer: nil, settings: TFTPSettings(), maxRetries: options.maxRetries)
        var settings = TFTPSettings()
        var negotiated = false
        let mode = options.mode
        let begun = ContinuousClock.now
        do {
            // The first answer: OACK (then ACK 0), DATA 1 (options ignored), or ERROR.
            let first: [UInt8]?
            switch try endpoint.exchange(request, to: server, waitingFor: "an answer to the read request") {
            case .optionAck(let accepted):
                try endpoint.acceptOptions(accepted, requested: requested, into: &settings)
                negotiated = true
                try endpoint.send(.ack(block: 0))
                first = nil
            case .data(1, let payload):
                // The server ignored the options: RFC 1350 defaults, and this is block 1.
                first = payload
            case .error(let code, let message):
                throw TFTPFailure.peerError(code: code, message: message)
            case let packet:
                throw TFTPFailure.protocolViolation("\(packet.name) in answer to a read request")
            }
            if let fixed = settings.timeoutSeconds { endpoint.timer = RetransmitTimer(fixedSeconds: fixed) }
            let blocks = BlockSink(incoming, netascii: mode == "netascii")
            let sink: (ArraySlice<UInt8>) throws -> Void = { try blocks.take($0) }
            var lastBlock: Int64 = 1
            let store = {
                try blocks.finish()
                try incoming.finish(expectedDigest: nil, mode: 0o644, overwrite: true)
            }
            if let first {
                // Block 1 is here already: hand it over and carry on from block 2.
                try sink(first[...])
                endpoint.counters.bytes += Int64(first.count)
                if first.count < settings.blockSize {
                    endpoint.counters.blocks = 1
                    try store()
                    try endpoint.send(.ack(block: 1))
                } else {
                    try endpoint.send(.ack(block: 1))
                    lastBlock = try endpoint.receiveFile(into: sink, settings: settings, startingAt: 2,
                                                         resendFirst: { try endpoint.send(.ack(block: 1)) }, store: store)
                }
            } else {
                lastBlock = try endpoint.receiveFile(into: sink, settings: settings, resendFirst: { try endpoint.send(.ack(block: 0)) }, store: store)
            }
            endpoint.counters.seconds = Double((ContinuousClock.now - begun) / .nanoseconds(1)) / 1e9
            endpoint.dally(afterLast: lastBlock)
        } catch {
            incoming.discard()
            throw error
        }
        return Report(isGet: true, remoteName: remoteName, localPath: localPath, settings: settings, negotiated: negotiated, counters: endpoint.counters)
    }

    /// Writes `localPath` to `server` as `remoteName`.
    public func put(_ localPath: String, to server: SocketAddress, as remoteName: String) throws -> Report {
        let file = try OutgoingFile(path: localPath)
        let socket = try Socket.udp(server.family)
        defer { try? socket.close() }
        var requested = options.requested
        if options.askSize && options.mode == "octet" { requested.append(TFTPOption("tsize", String(file.size))) }
        let request = TFTPPacket.writeRequest(TFTPRequest(filename: remoteName, mode: options.mode, options: requested))
        let endpoint = TFTPEndpoint(socket: socket, peer: nil, settings: TFTPSettings(), maxRetries: options.maxRetries)
        var settings = TFTPSettings()
        var negotiated = false
        let begun = ContinuousClock.now
        switch try endpoint.exchange(request, to: server, waitingFor: "an answer to the write request") {
        case .optionAck(let accepted):
            try endpoint.acceptOptions(accepted, requested: requested, into: &settings)
            negotiated = true
        case .ack(0):
            break
        case .error(let code, let message):
            throw TFTPFailure.peerError(code: code, message: message)
        case let packet:
            throw TFTPFailure.protocolViolation("\(packet.name) in answer to a write request")
        }
        if let fixed = settings.timeoutSeconds { endpoint.timer = RetransmitTimer(fixedSeconds: fixed) }
        let source: any BlockSource = options.mode == "netascii" ? NetASCIISource(file) : OctetSource(file)
        try endpoint.sendFile(source, settings: settings)
        endpoint.counters.seconds = Double((ContinuousClock.now - begun) / .nanoseconds(1)) / 1e9
        return Report(isGet: false, remoteName: remoteName, localPath: localPath, settings: settings, negotiated: negotiated, counters: endpoint.counters)
    }

    /// "dir/name" → ("dir", name); "name" → (".", name).
    static func split(_ path: String) throws -> (String, FileName) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        let name = String(parts.last ?? "")
        let folder = parts.count > 1 ? (path.hasPrefix("/") && parts.count == 2 ? "/" : parts.dropLast().joined(separator: "/")) : "."
        do { return (folder, try FileName(name)) } catch { throw StoreRefusal.name(error) }
    }
}
