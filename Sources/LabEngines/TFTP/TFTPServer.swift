import Foundation
import Packets
import SocketCore
import Synchronization

/// `transfer tftp-serve`: RFC 1350 with RFC 2347–2349 and 7440 options, one folder, read-only
/// unless `allowWrite`. Each request gets its own socket on a fresh port (its transfer ID)
/// and its own thread, so a slow or lossy client never holds up the others; port 69 (or
/// --port) only takes requests.
public final class TFTPServer: Sendable {
    public struct Options: Sendable {
        public var folder = "."
        public var allowWrite = false
        public var overwrite = false
        public var maxSize: Int64 = 4 << 30
        public var maxTransfers = 32
        public var maxBlockSize = 65464
        public var maxWindow = 64
        public init() {}
    }

    /// One request's outcome, rendered by the command.
    public enum Event: Sendable {
        case done(peer: String, isRead: Bool, name: String, mode: String, settings: TFTPSettings, counters: TFTPCounters)
        case refused(peer: String, isRead: Bool, name: String, code: UInt16, message: String)
        case failed(peer: String, isRead: Bool, name: String, reason: String, counters: TFTPCounters)
        case ignored(peer: String, reason: String)
    }

    public let options: Options
    private let active = Mutex(0)
    public init(options: Options) { self.options = options }

    /// Takes requests on `socket` forever.
    public func serve(_ socket: Socket, events: @escaping @Sendable (Event) -> Void) -> Never {
        let local = (try? socket.localAddress) ?? .loopback(0)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            guard let (size, sender) = try? buffer.withUnsafeMutableBytes({ try socket.receiveFrom(into: $0) }), let sender else { continue }
            let packet: TFTPPacket
            do { packet = try TFTPPacket(decoding: buffer[..<min(size, buffer.count)]) } catch {
                _ = try? socket.send(TFTPPacket.error(code: TFTPErrorCode.illegalOperation.rawValue, message: "\(error)").encoded(), to: sender)
                events(.ignored(peer: "\(sender)", reason: "\(error)"))
                continue
            }
            let request: TFTPRequest, isRead: Bool
            switch packet {
            case .readRequest(let r): (request, isRead) = (r, true)
            case .writeRequest(let r): (request, isRead) = (r, false)
            default:
                // DATA or ACK to the request port: the transfer it belonged to is over.
                _ = try? socket.send(TFTPPacket.error(code: TFTPErrorCode.unknownTransferID.rawValue, message: "no transfer on this port: send RRQ or WRQ").encoded(), to: sender)
                events(.ignored(peer: "\(sender)", reason: "\(packet.name) on the request port"))
                continue
            }
            let admitted = active.withLock { count in
                guard count < options.maxTransfers else { return false }
                count += 1
                return true
            }
            guard admitted else {
                _ = try? socket.send(TFTPPacket.error(code: 0, message: "busy: \(options.maxTransfers) transfers at once; try again").encoded(), to: sender)
                events(.refused(peer: "\(sender)", isRead: isRead, name: request.filename, code: 0, message: "busy"))
                continue
            }
            Thread.detachNewThread { [self] in
                defer { active.withLock { $0 -= 1 } }
                events(handle(request, isRead: isRead, from: sender, localAddress: local))
            }
        }
    }

    /// One transfer on its own port.
    public func handle(_ request: TFTPRequest, isRead: Bool, from client: SocketAddress, localAddress: SocketAddress) -> Event {
        let peer = "\(client)"
        let transferSocket: Socket
        do {
            transferSocket = try Socket.udp(localAddress.family)
            // So that the endpoint can bind its socket for strangers to the same port.
            try transferSocket.set(.reuseAddress, true)
            try transferSocket.bind(to: localAddress.with(port: 0))
        } catch {
            return .failed(peer: peer, isRead: isRead, name: request.filename, reason: "\(error)", counters: TFTPCounters())
        }
        defer { try? transferSocket.close() }
        let endpoint = TFTPEndpoint(socket: transferSocket, peer: client, settings: TFTPSettings())
        endpoint.connectToPeer()
        func refuse(_ code: TFTPErrorCode, _ message: String) -> Event {
            try? endpoint.send(.error(code: code.rawValue, message: message))
            return .refused(peer: peer, isRead: isRead, name: request.filename, code: code.rawValue, message: message)
        }
        let mode = request.mode.lowercased()
        guard mode == "octet" || mode == "netascii" else {
            return refuse(.illegalOperation, mode == "mail" ? "mail mode is obsolete (RFC 1350): use octet" : "unknown mode \"\(request.mode)\": octet or netascii")
        }
        // A leading "/" names the served folder's root, as tftpd-hpa -s has it (PXE firmware sends "/pxelinux.0").
        var text = Substring(request.filename)
        while text.hasPrefix("/") { text = text.dropFirst() }
        let name: FileName
        do { name = try FileName(String(text)) } catch { return refuse(.accessViolation, error.description) }
        do {
            return isRead ? try serveRead(name, request, mode: mode, endpoint: endpoint, peer: peer)
                          : try serveWrite(name, request, mode: mode, endpoint: endpoint, peer: peer)
        } catch let failure as TFTPFailure {
            if case .refused(let code, let message) = failure { return refuse(code, message) }
            return .failed(peer: peer, isRead: isRead, name: request.filename, reason: failure.description, counters: endpoint.counters)
        } catch {
            try? endpoint.send(.error(code: 0, message: "\(error)".replacingOccurrences(of: "\n", with: " ")))
            return .failed(peer: peer, isRead: isRead, name: request.filename, reason: "\(error)", counters: endpoint.counters)
        }
    }

    private func serveRead(_ name: FileName, _ request: TFTPRequest, mode: String, endpoint: TFTPEndpoint, peer: String) throws -> Event {
        let file: OutgoingFile
        do { file = try OutgoingFile(path: options.folder + "/" + name.value) } catch {
            throw error.errno == .noSuchFileOrDirectory ? TFTPFailure.refused(.fileNotFound, "\(name) is not in the served folder")
                : TFTPFailure.refused(.accessViolation, "\(name): \(FileProblem.name(error.errno))")
        }
        // No tsize for an empty file: curl (7.88) takes "tsize 0" in an OACK for an invalid
        // answer and gives up (tftpd-hpa's users meet that too); RFC 2349 lets a server leave
        // an option out, and the client then just does not know the size in advance.
        var (settings, accepted) = TFTPSettings.negotiate(request, isRead: true, fileSize: mode == "octet" && file.size > 0 ? file.size : nil,
                                                          maxBlockSize: options.maxBlockSize, maxWindow: options.maxWindow)
        endpoint.timer = RetransmitTimer(fixedSeconds: settings.timeoutSeconds)
        if !accepted.isEmpty {
            // OACK, then the client's ACK 0 starts the data (RFC 2347).
            try awaitAckZero(endpoint, oack: accepted)
        }
        settings.transferSize = settings.transferSize ?? (mode == "octet" ? file.size : nil)
        let source: any BlockSource = mode == "netascii" ? NetASCIISource(file) : OctetSource(file)
        try endpoint.sendFile(source, settings: settings)
        return .done(peer: peer, isRead: true, name: name.value, mode: mode, settings: settings, counters: endpoint.counters)
    }

    private func awaitAckZero(_ endpoint: TFTPEndpoint, oack: [TFTPOption]) throws {
        let answer = try endpoint.exchange(.optionAck(oack), waitingFor: "the ACK of the OACK") { packet in
            switch packet {
            case .ack(0), .error: true
            default: false
            }
        }
        if case .error(let code, let message) = answer { throw TFTPFailure.peerError(code: code, message: message) }
    }

    private func serveWrite(_ name: FileName, _ request: TFTPRequest, mode: String, endpoint: TFTPEndpoint, peer: String) throws -> Event {
        guard options.allowWrite else { throw TFTPFailure.refused(.accessViolation, "this server is read-only (it was started without --write)") }
        var (settings, accepted) = TFTPSettings.negotiate(request, isRead: false, fileSize: nil,
                                                          maxBlockSize: options.maxBlockSize, maxWindow: options.maxWindow)
        endpoint.timer = RetransmitTimer(fixedSeconds: settings.timeoutSeconds)
        let incoming: IncomingFile
        do {
            incoming = try IncomingFile(folder: options.folder, name: name, size: settings.transferSize ?? 0, maxSize: options.maxSize, overwrite: options.overwrite)
            try incoming.begin(at: 0)
        } catch let refusal as StoreRefusal {
            switch refusal {
            case .exists: throw TFTPFailure.refused(.fileExists, refusal.description)
            case .tooLarge, .noSpace: throw TFTPFailure.refused(.diskFull, refusal.description)
            default: throw TFTPFailure.refused(.accessViolation, refusal.description)
            }
        }
        let firstAnswer: TFTPPacket = accepted.isEmpty ? .ack(block: 0) : .optionAck(accepted)
        try endpoint.send(firstAnswer)
        let blocks = BlockSink(incoming, netascii: mode == "netascii")
        var written: Int64 = 0
        let lastBlock: Int64
        do {
            lastBlock = try endpoint.receiveFile(into: { bytes in
                written += Int64(bytes.count)
                guard written <= options.maxSize else { throw TFTPFailure.refused(.diskFull, "over the server's limit of \(options.maxSize) bytes") }
                try blocks.take(bytes)
            }, settings: settings, resendFirst: { try endpoint.send(firstAnswer) }, store: {
                try blocks.finish()
                try incoming.finish(expectedDigest: nil, mode: 0o644, overwrite: options.overwrite)
            })
        } catch {
            incoming.discard()
            if let problem = error as? FileProblem, problem.errno == .noSpace { throw TFTPFailure.refused(.diskFull, problem.description) }
            throw error
        }
        endpoint.dally(afterLast: lastBlock)
        settings.transferSize = written
        return .done(peer: peer, isRead: false, name: name.value, mode: mode, settings: settings, counters: endpoint.counters)
    }
}
