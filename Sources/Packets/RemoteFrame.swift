/// The remote command service's protocol (Lab 09), on one TCP connection: every message a
/// frame of a channel byte, a 32-bit length in network order and that many bytes — so stdout
/// and stderr share the connection and stay apart, where rexec(3) needed a second connection
/// for stderr. Like SSH's channels, without SSH's cipher: this is a lab, not a remote shell for
/// a real network.
///
///     server → client  hello    "SOCKETLAB-REMOTE 1" NUL, then a 32-byte challenge
///     client → server  proof    HMAC-SHA256(token, challenge): the token never crosses the wire
///     server → client  welcome  (empty) — or error, and the connection closes
///     client → server  run      timeout seconds (u32), then argv as NUL-terminated strings
///     client → server  stdin    bytes; an empty stdin frame is end of file
///     server → client  stdout, stderr  bytes, in the order the program wrote them
///     server → client  exit     kind (0 exited, 1 killed by a signal, 2 not started, 3 timed out), code (u32), text
///     either           error    a sentence, then the connection closes
///
/// It lives in Packets because the server and the client speak it and the inspector and
/// labcheck read it from captures. Decoding is incremental, as the stream arrives.
public struct RemoteFrame: Equatable, Sendable {
    public enum Channel: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        case hello = 0x01, proof = 0x02, welcome = 0x03
        case run = 0x10
        case stdin = 0x20, stdout = 0x21, stderr = 0x22
        case exit = 0x30
        case error = 0x7F

        public var description: String {
            switch self {
            case .hello: "hello"
            case .proof: "proof"
            case .welcome: "welcome"
            case .run: "run"
            case .stdin: "stdin"
            case .stdout: "stdout"
            case .stderr: "stderr"
            case .exit: "exit"
            case .error: "error"
            }
        }
    }

    public static let banner = "SOCKETLAB-REMOTE 1"
    public static let challengeLength = 32
    /// The largest frame either side accepts: a peer that announces more is not speaking
    /// this protocol (or is hostile), and the connection ends before anything is allocated.
    public static let maximumLength = 1 << 20
    public static let headerLength = 5

    public var channel: Channel
    public var payload: [UInt8]

    public init(_ channel: Channel, _ payload: [UInt8] = []) {
        self.channel = channel
        self.payload = payload
    }

    /// Channel, length, payload.
    public var encoded: [UInt8] {
        let length = UInt32(payload.count)
        return [channel.rawValue, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + payload
    }

    public enum Parse: Equatable, Sendable {
        case frame(RemoteFrame, consumed: Int)
        case needMore
        case invalid(String)
    }

    /// The first frame in `bytes`, if it is all there.
    public static func parse(_ bytes: some Collection<UInt8>) -> Parse {
        guard bytes.count >= headerLength else { return .needMore }
        let start = bytes.startIndex
        let kind = bytes[start]
        guard let channel = Channel(rawValue: kind) else { return .invalid("unknown channel 0x" + String(kind, radix: 16)) }
        var length = 0
        for offset in 1...4 { length = length << 8 | Int(bytes[bytes.index(start, offsetBy: offset)]) }
        guard length <= maximumLength else { return .invalid("a frame of \(length) bytes, over the limit of \(maximumLength)") }
        guard bytes.count >= headerLength + length else { return .needMore }
        let body = bytes.index(start, offsetBy: headerLength)
        return .frame(RemoteFrame(channel, Array(bytes[body..<bytes.index(body, offsetBy: length)])), consumed: headerLength + length)
    }

    // MARK: the messages

    public static func hello(challenge: [UInt8]) -> RemoteFrame { RemoteFrame(.hello, Array(banner.utf8) + [0] + challenge) }

    /// The challenge of a hello, if it is one of this protocol's.
    public var challenge: [UInt8]? {
        guard channel == .hello, let nul = payload.firstIndex(of: 0), String(decoding: payload[..<nul], as: UTF8.self) == Self.banner else { return nil }
        let challenge = Array(payload[(nul + 1)...])
        return challenge.count == Self.challengeLength ? challenge : nil
    }

    /// A command line: the program and its arguments (none may hold a NUL), and the seconds
    /// it may run (0: the server's limit).
    public static func run(_ arguments: [String], timeout: UInt32) -> RemoteFrame {
        var payload = [UInt8(timeout >> 24), UInt8(timeout >> 16 & 0xFF), UInt8(timeout >> 8 & 0xFF), UInt8(timeout & 0xFF)]
        for argument in arguments { payload += Array(argument.utf8) + [0] }
        return RemoteFrame(.run, payload)
    }

    /// A run frame's arguments and timeout; nil when malformed (no program, no final NUL).
    public var command: (arguments: [String], timeout: UInt32)? {
        guard channel == .run, payload.count >= 5, payload.last == 0 else { return nil }
        let timeout = payload[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let arguments = payload[4..<(payload.count - 1)].split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard let program = arguments.first, !program.isEmpty else { return nil }
        return (arguments, timeout)
    }

    /// How a program ended.
    public enum Ending: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
        /// It never ran: not found, not allowed, not executable. The code is the shell's (127, 126).
        case notStarted(code: Int32, reason: String)
        /// The time ran out and its process group was killed (`seconds` it was given).
        case timedOut(seconds: Int32)

        /// What `remote run` exits with: the program's status, 128 + the signal, or the
        /// shell's code for a program that never started — as ssh does.
        public var exitCode: Int32 {
            switch self {
            case .exited(let code): code
            case .signalled(let signal): 128 + signal
            case .notStarted(let code, _): code
            case .timedOut: 124  // as timeout(1)
            }
        }
    }

    public static func exit(_ ending: Ending) -> RemoteFrame {
        let (kind, code, text): (UInt8, Int32, String) = switch ending {
        case .exited(let code): (0, code, "")
        case .signalled(let signal): (1, signal, "")
        case .notStarted(let code, let reason): (2, code, reason)
        case .timedOut(let seconds): (3, seconds, "")
        }
        let value = UInt32(bitPattern: code)
        return RemoteFrame(.exit, [kind, UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] + Array(text.utf8))
    }

    public var ending: Ending? {
        guard channel == .exit, payload.count >= 5 else { return nil }
        let code = Int32(bitPattern: payload[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        switch payload[0] {
        case 0: return .exited(code)
        case 1: return .signalled(code)
        case 2: return .notStarted(code: code, reason: String(decoding: payload[5...], as: UTF8.self))
        case 3: return .timedOut(seconds: code)
        default: return nil
        }
    }

    public static func error(_ text: String) -> RemoteFrame { RemoteFrame(.error, Array(text.utf8)) }

    public var text: String { String(decoding: payload, as: UTF8.self) }
}
