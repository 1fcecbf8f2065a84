import Foundation
import SocketCore
import Synchronization

/// `transfer receive`: accepts senders, one thread each (up to `maxClients` at once), and
/// stores what they send in one folder through `IncomingFile` — partial name first, real name
/// only after the digest matched. A sender that misbehaves, vanishes or fills the disk ends
/// its own connection only; the receiver goes on serving the others.
public final class TransferReceiver: Sendable {
    public struct Options: Sendable {
        public var folder = "."
        /// The largest file accepted, refused from the offer before any data.
        public var maxSize: Int64 = 4 << 30
        /// Whether a sender that asks may replace an existing file.
        public var overwrite = false
        public var maxClients = 16
        /// A sender silent this long is disconnected (its partial file kept for a resume).
        public var idleTimeout: Duration = .seconds(60)
        public init() {}
    }

    /// What happened to one offered file: facts, rendered by the command as text or JSON.
    public enum Event: Sendable {
        case received(peer: String, name: String, bytes: Int64, resumedFrom: Int64, seconds: Double, sha256: String)
        case refused(peer: String, name: String, reason: String)
        /// The sender stopped inside the data: `have` of `size` bytes kept in the partial file.
        case cut(peer: String, name: String, have: Int64, size: Int64)
        case failed(peer: String, name: String, reason: String)
        /// Something about the connection rather than one file (not this protocol, idle).
        case connection(peer: String, problem: String)
        case backingOff(String)
    }

    public let options: Options
    private let active = Mutex(0)

    public init(options: Options) { self.options = options }

    /// Accepts forever. At the descriptor limit accept(2) would fail at once every time: it
    /// waits a little and says so instead of spinning.
    public func serve(_ listener: Socket, events: @escaping @Sendable (Event) -> Void) -> Never {
        while true {
            let connection: Socket, peer: SocketAddress
            do {
                (connection, peer) = try listener.accept()
            } catch {
                if error.errno == .EMFILE || error.errno == .ENFILE {
                    events(.backingOff("accept(): \(error.errno!.name), out of file descriptors: waiting 100 ms before accepting again"))
                    usleep(100_000)
                }
                continue
            }
            let admitted = active.withLock { count in
                guard count < options.maxClients else { return false }
                count += 1
                return true
            }
            guard admitted else {
                try? MessageStream(connection).writeLine("REFUSED busy: this receiver takes \(options.maxClients) senders at once (--max-clients); try again later")
                try? connection.shutdown(.write)
                try? connection.close()
                events(.connection(peer: "\(peer)", problem: "refused: \(options.maxClients) senders at once already"))
                continue
            }
            Thread.detachNewThread { [self] in
                handle(connection, peer: "\(peer)", events: events)
                active.withLock { $0 -= 1 }
            }
        }
    }

    /// One sender's connection: offers, one after another, until it closes.
    public func handle(_ connection: Socket, peer: String, events: (Event) -> Void) {
        defer { try? connection.close() }
        try? connection.set(.noDelay, true)  // replies are single lines, each awaited by the sender
        try? connection.set(.receiveTimeout, options.idleTimeout)
        try? connection.set(.sendTimeout, options.idleTimeout)
        var stream = MessageStream(connection, maxMessageSize: TransferProtocol.maxHeaderLine)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let offer: TransferProtocol.Offer
            do {
                guard let next = try TransferProtocol.readOffer(&stream) else { return }
                offer = next
            } catch {
                events(.connection(peer: peer, problem: Self.words(error, idle: options.idleTimeout)))
                return
            }
            do {
                guard try receive(offer, &stream, &buffer, peer: peer, events: events) else { return }
            } catch {
                events(.failed(peer: peer, name: offer.name, reason: Self.words(error, idle: options.idleTimeout)))
                return
            }
        }
    }

    /// One file; false when the connection cannot go on (the sender vanished).
    private func receive(_ offer: TransferProtocol.Offer, _ stream: inout MessageStream, _ buffer: inout [UInt8],
                         peer: String, events: (Event) -> Void) throws -> Bool {
        let file: IncomingFile
        do {
            let name: FileName
            do { name = try FileName(offer.name) } catch { throw StoreRefusal.name(error) }
            file = try IncomingFile(folder: options.folder, name: name, size: offer.size, maxSize: options.maxSize,
                                    overwrite: options.overwrite && offer.overwrite)
        } catch {
            try stream.writeLine("REFUSED \(error)")
            events(.refused(peer: peer, name: offer.name, reason: "\(error)"))
            return true
        }
        if offer.resume && file.heldBytes > 0 && file.heldBytes <= offer.size {
            try stream.writeLine("READY \(file.heldBytes) \(try file.heldDigest())")
        } else {
            try stream.writeLine("READY 0")
        }
        guard let start = try stream.readLine() else {
            file.close()
            return false
        }
        let (word, offsetText) = TransferProtocol.split(start)
        guard word == "START", let offset = Int64(offsetText), offset == 0 || (offer.resume && offset == file.heldBytes),
              offset <= offer.size else {
            file.close()
            throw TransferProtocol.Violation("expected \"START 0\" or \"START \(file.heldBytes)\", got \"\(start.prefix(60))\"")
        }
        let began = ContinuousClock.now
        try file.begin(at: offset)
        // A write that fails (disk full) does not end the protocol: the rest of the data is
        // read and dropped, so that the sender reads the verdict instead of a reset.
        var writeProblem: FileProblem?
        var remaining = offer.size - offset
        while remaining > 0 {
            let want = Int(min(Int64(buffer.count), remaining))
            let got = try buffer.withUnsafeMutableBytes { try stream.readBytes(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
            if got == 0 {
                if writeProblem == nil { file.close() } else { file.discard() }
                events(.cut(peer: peer, name: offer.name, have: file.written, size: offer.size))
                return false
            }
            if writeProblem == nil {
                do {
                    try buffer.withUnsafeBytes { try file.append(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
                } catch let problem as FileProblem {
                    writeProblem = problem
                } catch {
                    writeProblem = FileProblem("write()", file.finalPath, .ioError)
                }
            }
            remaining -= Int64(got)
        }
        guard let trailer = try stream.readLine() else {
            file.close()
            events(.cut(peer: peer, name: offer.name, have: file.written, size: offer.size))
            return false
        }
        let (digestWord, sent) = TransferProtocol.split(trailer)
        guard digestWord == "SHA256", Digest.isHex(sent) else {
            file.discard()
            throw TransferProtocol.Violation("expected \"SHA256 <64 hex digits>\" after the data, got \"\(trailer.prefix(80))\"")
        }
        if let writeProblem {
            file.discard()
            try stream.writeLine("FAILED \(writeProblem.description.replacingOccurrences(of: "\n", with: " "))")
            events(.failed(peer: peer, name: offer.name, reason: writeProblem.description))
            return true
        }
        do {
            let digest = try file.finish(expectedDigest: sent, mode: offer.mode, overwrite: options.overwrite && offer.overwrite)
            try stream.writeLine("OK \(digest)")
            let seconds = Double((ContinuousClock.now - began) / .nanoseconds(1)) / 1e9
            events(.received(peer: peer, name: offer.name, bytes: offer.size - offset, resumedFrom: offset, seconds: seconds, sha256: digest))
        } catch {
            try stream.writeLine("FAILED \("\(error)".replacingOccurrences(of: "\n", with: " "))")
            events(.failed(peer: peer, name: offer.name, reason: "\(error)"))
        }
        return true
    }

    static func words(_ error: any Error, idle: Duration) -> String {
        if let error = error as? SocketError, error.errno == .EAGAIN {
            return "the sender was silent for \(idle.components.seconds) s (the idle timeout): disconnected"
        }
        if let error = error as? SocketError, case .messageTooLarge = error {
            return "a header line longer than \(TransferProtocol.maxHeaderLine) bytes: not a transfer sender"
        }
        return "\(error)"
    }
}
