/// One TFTP packet (RFC 1350 §5, with RFC 2347's OACK): what the lab's client and server put
/// in a UDP datagram and what labcheck 08 reads back out of a capture. Pure bytes in, bytes
/// out, so the tools and the check agree on one reading; never traps on any input.
public enum TFTPPacket: Equatable, Sendable {
    /// Opcode 1 (RRQ) or 2 (WRQ): a file name, a mode ("octet", "netascii"), then RFC 2347's
    /// option/value pairs in the order the client wrote them.
    case readRequest(TFTPRequest)
    case writeRequest(TFTPRequest)
    /// Opcode 3: block number (wraps at 65,535) and up to blksize bytes.
    case data(block: UInt16, payload: [UInt8])
    /// Opcode 4.
    case ack(block: UInt16)
    /// Opcode 5: RFC 1350's error codes (0–7) and RFC 2347's 8 (option negotiation failed).
    case error(code: UInt16, message: String)
    /// Opcode 6 (RFC 2347): the options the server accepted, with the values it chose.
    case optionAck([TFTPOption])

    public var opcode: UInt16 {
        switch self {
        case .readRequest: 1
        case .writeRequest: 2
        case .data: 3
        case .ack: 4
        case .error: 5
        case .optionAck: 6
        }
    }

    /// The name tshark gives the opcode.
    public var name: String {
        switch self {
        case .readRequest: "Read Request"
        case .writeRequest: "Write Request"
        case .data: "Data Packet"
        case .ack: "Acknowledgement"
        case .error: "Error Code"
        case .optionAck: "Option Acknowledgement"
        }
    }

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [UInt8(opcode >> 8), UInt8(opcode & 0xFF)]
        func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
        func string(_ text: String) { bytes += Array(text.utf8); bytes.append(0) }
        switch self {
        case .readRequest(let request), .writeRequest(let request):
            string(request.filename)
            string(request.mode)
            for option in request.options { string(option.name); string(option.value) }
        case .data(let block, let payload):
            u16(block)
            bytes += payload
        case .ack(let block):
            u16(block)
        case .error(let code, let message):
            u16(code)
            string(message)
        case .optionAck(let options):
            for option in options { string(option.name); string(option.value) }
        }
        return bytes
    }

    /// Reads one datagram's payload. A request's strings must each end in NUL (RFC 1350 §5);
    /// an ERROR's message may lack its NUL (some servers omit it; tshark reads it anyway).
    public init(decoding bytes: some Collection<UInt8>) throws(TFTPDecodeError) {
        let decoded = bytes.withContiguousStorageIfAvailable { stored in
            Result { () throws(TFTPDecodeError) -> TFTPPacket in try TFTPPacket(decoding: UnsafeRawBufferPointer(stored)) }
        } ?? Array(bytes).withUnsafeBytes { stored in
            Result { () throws(TFTPDecodeError) -> TFTPPacket in try TFTPPacket(decoding: stored) }
        }
        self = try decoded.get()
    }

    /// The same, from the bytes where they lie: a transfer reads one DATA or ACK per block,
    /// and this reads it without copying the datagram (a DATA's payload is copied once, into
    /// the packet).
    public init(decoding bytes: UnsafeRawBufferPointer) throws(TFTPDecodeError) {
        guard bytes.count >= 2 else { throw .tooShort(bytes.count) }
        let opcode = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        func u16(at offset: Int) throws(TFTPDecodeError) -> UInt16 {
            guard bytes.count >= offset + 2 else { throw .tooShort(bytes.count) }
            return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        }
        /// The NUL-terminated strings from `offset` on.
        func strings(from offset: Int, lastMayLackNul: Bool = false) throws(TFTPDecodeError) -> [String] {
            var result: [String] = []
            var start = offset
            while start < bytes.count {
                guard let end = bytes[start...].firstIndex(of: 0) else {
                    if lastMayLackNul { result.append(String(decoding: bytes[start...], as: UTF8.self)); break }
                    throw .unterminatedString(at: start)
                }
                result.append(String(decoding: bytes[start..<end], as: UTF8.self))
                start = end + 1
            }
            return result
        }
        switch opcode {
        case 1, 2:
            let fields = try strings(from: 2)
            guard fields.count >= 2 else { throw .missingMode }
            guard fields.count % 2 == 0 else { throw .optionWithoutValue(fields.last ?? "") }
            let options = stride(from: 2, to: fields.count, by: 2).map { TFTPOption(fields[$0], fields[$0 + 1]) }
            let request = TFTPRequest(filename: fields[0], mode: fields[1], options: options)
            self = opcode == 1 ? .readRequest(request) : .writeRequest(request)
        case 3:
            self = .data(block: try u16(at: 2), payload: Array(bytes.dropFirst(4)))
        case 4:
            self = .ack(block: try u16(at: 2))
        case 5:
            let code = try u16(at: 2)
            self = .error(code: code, message: try strings(from: 4, lastMayLackNul: true).first ?? "")
        case 6:
            let fields = try strings(from: 2)
            guard fields.count % 2 == 0 else { throw .optionWithoutValue(fields.last ?? "") }
            self = .optionAck(stride(from: 0, to: fields.count, by: 2).map { TFTPOption(fields[$0], fields[$0 + 1]) })
        default:
            throw .unknownOpcode(opcode)
        }
    }
}

/// A read or write request's fields.
public struct TFTPRequest: Equatable, Sendable {
    public var filename: String
    /// "octet" or "netascii" (RFC 1350 says the mode is case-insensitive; "mail" is obsolete).
    public var mode: String
    public var options: [TFTPOption]

    public init(filename: String, mode: String = "octet", options: [TFTPOption] = []) {
        self.filename = filename
        self.mode = mode
        self.options = options
    }

    /// The value of option `name` (RFC 2347: names are case-insensitive).
    public func option(_ name: String) -> String? {
        options.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// An RFC 2347 option: "blksize" "1428", "tsize" "0", "timeout" "1", "windowsize" "16".
public struct TFTPOption: Equatable, Sendable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Why a datagram is not a TFTP packet.
public enum TFTPDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooShort(Int)
    case unknownOpcode(UInt16)
    case unterminatedString(at: Int)
    case missingMode
    case optionWithoutValue(String)

    public var description: String {
        switch self {
        case .tooShort(let count): "\(count) bytes is too short for a TFTP packet"
        case .unknownOpcode(let opcode): "opcode \(opcode) is not a TFTP opcode (1 RRQ, 2 WRQ, 3 DATA, 4 ACK, 5 ERROR, 6 OACK)"
        case .unterminatedString(let offset): "the string at byte \(offset) has no terminating NUL"
        case .missingMode: "the request has a file name but no mode"
        case .optionWithoutValue(let name): "option \"\(name)\" has no value"
        }
    }
}

/// RFC 1350's error codes and RFC 2347's code 8, with the RFC's words.
public enum TFTPErrorCode: UInt16, Sendable {
    case notDefined = 0, fileNotFound = 1, accessViolation = 2, diskFull = 3
    case illegalOperation = 4, unknownTransferID = 5, fileExists = 6, noSuchUser = 7
    case optionNegotiation = 8

    public var meaning: String {
        switch self {
        case .notDefined: "not defined, see error message"
        case .fileNotFound: "file not found"
        case .accessViolation: "access violation"
        case .diskFull: "disk full or allocation exceeded"
        case .illegalOperation: "illegal TFTP operation"
        case .unknownTransferID: "unknown transfer ID"
        case .fileExists: "file already exists"
        case .noSuchUser: "no such user"
        case .optionNegotiation: "option negotiation failed"
        }
    }
}
