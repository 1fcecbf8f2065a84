import ExitStatus
import SocketCore

/// The `transfer` protocol over one TCP connection, in text lines a student can read in
/// `tshark -z follow,tcp,ascii` — the same choice HTTP and SMTP made. Per file:
///
///     sender:   OFFER socketlab-transfer/1        receiver:  READY <held> [<sha256 of held>]
///               name: report.pdf                          or REFUSED <reason>
///               size: 20000000
///               mode: 0644
///               resume: yes|no
///               overwrite: yes|no
///               (empty line)
///     sender:   START <offset>, then size − offset bytes, then SHA256 <hex of the whole file>
///     receiver: OK <sha256>  or  FAILED <reason>
///
/// Several files follow one another; the sender's shutdown(SHUT_WR) after a verdict ends the
/// connection. The digest travels after the data, not in the offer: the sender then reads
/// the file once, hashing as it sends, instead of reading it all once before the first byte
/// (a second pass of 0.6 s per GB here). The receiver hashes as it writes and compares.
public enum TransferProtocol {
    public static let version = "socketlab-transfer/1"
    /// An offer is a few short lines: anything longer is not a `transfer` sender.
    public static let maxHeaderLine = 1024
    static let maxHeaderLines = 16

    public struct Offer: Equatable, Sendable {
        public var name: String
        public var size: Int64
        public var mode: UInt32
        public var resume: Bool
        public var overwrite: Bool

        public init(name: String, size: Int64, mode: UInt32, resume: Bool, overwrite: Bool) {
            self.name = name
            self.size = size
            self.mode = mode
            self.resume = resume
            self.overwrite = overwrite
        }

        public var lines: [String] {
            ["OFFER \(TransferProtocol.version)", "name: \(name)", "size: \(size)", "mode: 0\(String(mode, radix: 8))",
             "resume: \(resume ? "yes" : "no")", "overwrite: \(overwrite ? "yes" : "no")", ""]
        }
    }

    /// A line or header that is not this protocol, with what was expected.
    public struct Violation: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// The next offer, or nil when the sender closed the connection between files.
    public static func readOffer(_ stream: inout MessageStream) throws -> Offer? {
        guard let first = try stream.readLine() else { return nil }
        guard first == "OFFER \(version)" else {
            throw Violation("expected \"OFFER \(version)\", got \"\(first.prefix(60))\": is the other side `transfer send`?")
        }
        var fields: [String: String] = [:]
        for _ in 0..<maxHeaderLines {
            guard let line = try stream.readLine() else { throw Violation("the sender closed the connection inside the offer") }
            if line.isEmpty {
                return try offer(from: fields)
            }
            guard let colon = line.firstIndex(of: ":") else { throw Violation("offer line \"\(line.prefix(60))\" is not \"field: value\"") }
            let key = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            fields[key] = String(value)
        }
        throw Violation("the offer has more than \(maxHeaderLines) lines")
    }

    static func offer(from fields: [String: String]) throws -> Offer {
        guard let name = fields["name"] else { throw Violation("the offer has no name") }
        guard let sizeText = fields["size"], let size = Int64(sizeText), size >= 0 else {
            throw Violation("the offer's size \"\(fields["size"] ?? "")\" is not a number of bytes")
        }
        let mode = fields["mode"].flatMap { UInt32($0, radix: 8) } ?? 0o644
        return Offer(name: name, size: size, mode: mode & 0o777, resume: fields["resume"] == "yes", overwrite: fields["overwrite"] == "yes")
    }

    /// A reply line split into its word and the rest: ("READY", "0"), ("REFUSED", "reason").
    public static func split(_ line: String) -> (word: String, rest: String) {
        guard let space = line.firstIndex(of: " ") else { return (line, "") }
        return (String(line[..<space]), String(line[line.index(after: space)...]))
    }
}

extension TransferProtocol.Violation: ExitStatusError {
    public var exitStatus: ExitStatus { .failure }
}
