import ExitStatus
import Foundation
import LabServers
import Packets
import SocketCore
import TextOutput

#if canImport(Glibc)
import Glibc
#endif

/// `remote run`: connect, answer the challenge with the token's HMAC, send the command, then
/// copy this process's standard input to it (until end of file) while its output comes back —
/// stdout to stdout, stderr to stderr, byte for byte — and end with its exit status.
public enum RemoteClient {
    public enum Problem: ExitStatusError, Sendable {
        case refused(String)
        case protocolError(String)
        case serverError(String)

        public var exitStatus: ExitStatus {
            switch self {
            case .refused: .missingPrivilege
            case .protocolError, .serverError: .failure
            }
        }

        public var description: String {
            switch self {
            case .refused(let why): "the server refused: \(why)"
            case .protocolError(let why): "the server does not speak this protocol: \(why)"
            case .serverError(let why): "the server says: \(why)"
            }
        }
    }

    /// Runs `arguments` on the server at `address`; returns how the program ended. Its output
    /// has been written to descriptors 1 and 2 by then.
    /// `input`, `output`, `errors`: the descriptors the program's standard streams are copied
    /// from and to (this process's own by default; nil input sends end of file at once).
    public static func run(_ arguments: [String], at address: SocketAddress, token: RemoteToken, timeout: UInt32,
                           connectTimeout: Duration = .seconds(10), input: Int32? = 0, output: Int32 = 1, errors: Int32 = 2) throws -> RemoteFrame.Ending {
        signal(SIGPIPE, SIG_IGN)
        let socket = try Socket.connected(to: address, timeout: connectTimeout)
        if address.family != .unix { try? socket.set(.noDelay, true) }
        var reader = FrameReader(socket)
        guard let hello = try reader.next() else { throw Problem.protocolError("it closed the connection before its greeting") }
        if hello.channel == .error { throw Problem.serverError(hello.text) }
        guard let challenge = hello.challenge else { throw Problem.protocolError("its greeting is not \(RemoteFrame.banner)") }
        try socket.send(RemoteFrame(.proof, token.proof(for: challenge)))
        guard let welcome = try reader.next() else { throw Problem.refused("it closed the connection after the proof") }
        if welcome.channel == .error { throw Problem.refused(welcome.text) }
        guard welcome.channel == .welcome else { throw Problem.protocolError("expected welcome, got \(welcome.channel)") }
        try socket.send(.run(arguments, timeout: timeout))

        // Standard input, on a thread of its own: it may never end (a terminal), and the
        // program's output must not wait for it.
        Thread.detachNewThread {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while let input {
                let got = chunk.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { break }
                if (try? socket.send(RemoteFrame(.stdin, Array(chunk[..<got])))) == nil { return }
            }
            try? socket.send(RemoteFrame(.stdin))
        }
        while let frame = try reader.next() {
            switch frame.channel {
            case .stdout: writeAll(frame.payload, to: output)
            case .stderr: writeAll(frame.payload, to: errors)
            case .exit:
                guard let ending = frame.ending else { throw Problem.protocolError("an exit frame that says nothing") }
                return ending
            case .error: throw Problem.serverError(frame.text)
            default: throw Problem.protocolError("an unexpected \(frame.channel) frame")
            }
        }
        throw Problem.protocolError("the connection ended before the program's exit status")
    }
}
