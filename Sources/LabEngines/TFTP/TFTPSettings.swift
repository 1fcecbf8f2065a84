import ExitStatus
import Packets

/// What one TFTP transfer runs with, after RFC 2347's negotiation: the block size (RFC 2348),
/// the window (RFC 7440), a fixed retransmission timeout when one was negotiated (RFC 2349;
/// otherwise the timer adapts to the measured round trip) and the announced size.
public struct TFTPSettings: Sendable, Equatable {
    public var blockSize = 512
    public var windowSize = 1
    /// RFC 2349's timeout in seconds, when negotiated.
    public var timeoutSeconds: Int?
    /// RFC 2349's tsize: the file's size (RRQ's answer, WRQ's announcement).
    public var transferSize: Int64?

    public init() {}

    public static let blockSizes = 8...65464
    public static let windowSizes = 1...65535
    public static let timeouts = 1...255

    /// The server's side: the options of `request` it accepts, with the values it chose —
    /// what goes in the OACK (empty: no OACK, RFC 1350 behaviour). Unknown or malformed
    /// options are ignored, as RFC 2347 says; RRQ's tsize is answered with `fileSize`.
    public static func negotiate(_ request: TFTPRequest, isRead: Bool, fileSize: Int64?, maxBlockSize: Int, maxWindow: Int)
        -> (settings: TFTPSettings, accepted: [TFTPOption]) {
        var settings = TFTPSettings()
        var accepted: [TFTPOption] = []
        for option in request.options {
            let value = Int64(option.value)
            switch option.name.lowercased() {
            case "blksize":
                guard let value, value >= Int64(blockSizes.lowerBound) else { continue }
                settings.blockSize = Int(min(value, Int64(min(maxBlockSize, blockSizes.upperBound))))
                accepted.append(TFTPOption("blksize", String(settings.blockSize)))
            case "windowsize":
                guard let value, value >= 1 else { continue }
                settings.windowSize = Int(min(value, Int64(min(maxWindow, windowSizes.upperBound))))
                accepted.append(TFTPOption("windowsize", String(settings.windowSize)))
            case "timeout":
                guard let value, timeouts.contains(Int(clamping: value)) else { continue }
                settings.timeoutSeconds = Int(value)
                accepted.append(TFTPOption("timeout", String(value)))
            case "tsize":
                guard let value, value >= 0 else { continue }
                if isRead {
                    guard let fileSize else { continue }  // netascii: the size on the wire is not known in advance
                    settings.transferSize = fileSize
                    accepted.append(TFTPOption("tsize", String(fileSize)))
                } else {
                    settings.transferSize = value
                    accepted.append(TFTPOption("tsize", String(value)))
                }
            default:
                continue
            }
        }
        return (settings, accepted)
    }

    /// The client's side: applies the server's OACK. An option the client did not ask for,
    /// or a value outside what it asked (a larger block), is a negotiation failure (RFC 2347:
    /// answer with ERROR 8).
    public mutating func apply(oack: [TFTPOption], requested: [TFTPOption]) throws(TFTPFailure) {
        for option in oack {
            let name = option.name.lowercased()
            guard let asked = requested.first(where: { $0.name.lowercased() == name }) else {
                throw .negotiation("the server answered option \"\(option.name)\", which was not requested")
            }
            guard let value = Int64(option.value) else { throw .negotiation("option \(option.name)=\"\(option.value)\" is not a number") }
            let askedValue = Int64(asked.value) ?? 0
            switch name {
            case "blksize":
                guard Int64(Self.blockSizes.lowerBound)...askedValue ~= value else { throw .negotiation("blksize \(value) is not between 8 and the \(askedValue) asked for") }
                blockSize = Int(value)
            case "windowsize":
                guard 1...askedValue ~= value else { throw .negotiation("windowsize \(value) is not between 1 and the \(askedValue) asked for") }
                windowSize = Int(value)
            case "timeout":
                guard value == askedValue else { throw .negotiation("timeout \(value) is not the \(askedValue) asked for") }
                timeoutSeconds = Int(value)
            case "tsize":
                transferSize = value
            default:
                break
            }
        }
    }

    /// The options as "blksize 1428, windowsize 16", for reports.
    public var summary: String {
        var parts = ["blksize \(blockSize)", "windowsize \(windowSize)"]
        if let timeoutSeconds { parts.append("timeout \(timeoutSeconds) s") }
        if let transferSize { parts.append("tsize \(transferSize)") }
        return parts.joined(separator: ", ")
    }
}

/// Why a TFTP transfer ended without the file.
public enum TFTPFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The peer sent ERROR: its code and message.
    case peerError(code: UInt16, message: String)
    /// No answer after the last retransmission.
    case timedOut(retries: Int, waitingFor: String)
    case negotiation(String)
    /// This side refused: what goes in our ERROR packet.
    case refused(TFTPErrorCode, String)
    case protocolViolation(String)
    case local(String)

    public var description: String {
        switch self {
        case .peerError(let code, let message):
            let meaning = TFTPErrorCode(rawValue: code).map { " (\($0.meaning))" } ?? ""
            return "the peer sent ERROR \(code)\(meaning): \(message)"
        case .timedOut(let retries, let what): return "no answer after \(retries) retransmissions while waiting for \(what)"
        case .negotiation(let why): return "option negotiation failed: \(why)"
        case .refused(let code, let message): return "refused with ERROR \(code.rawValue) (\(code.meaning)): \(message)"
        case .protocolViolation(let why): return "not TFTP as RFC 1350 has it: \(why)"
        case .local(let why): return why
        }
    }
}

extension TFTPFailure: ExitStatusError {
    public var exitStatus: ExitStatus { .failure }
}
