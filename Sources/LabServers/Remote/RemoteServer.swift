import Crypto
import ExitStatus
import Foundation
import Packets
import SocketCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A shared secret in a file only its owner can read: what the remote service and its client
/// prove to each other, and what signs the standby pair's heartbeats; never sent. The same
/// rule as ssh's private keys, for the same reason: a token others can read is a remote shell
/// (or a takeover of the virtual address) for them too.
public struct RemoteToken: Sendable {
    let bytes: [UInt8]

    public enum Problem: ExitStatusError, Sendable {
        case unreadable(String, String)
        case readableByOthers(String, mode: UInt32, grants: String)
        case notOwned(String, owner: UInt32)
        case badLength(String, Int)

        public var exitStatus: ExitStatus { .badInput }
        public var description: String {
            switch self {
            case .unreadable(let path, let why): "cannot read the token file \(path): \(why) — make one with: head -c 32 /dev/urandom | base64 > \(path); chmod 600 \(path)"
            case .readableByOthers(let path, let mode, let grants):
                "the token file \(path) can be read by others (mode \(String(mode & 0o777, radix: 8))): anyone who can read it can \(grants). chmod 600 \(path)"
            case .notOwned(let path, let owner): "the token file \(path) belongs to uid \(owner), not to you (uid \(geteuid())): use a token file of your own"
            case .badLength(let path, let count): "the token in \(path) is \(count) bytes; use 16 to 4096 (head -c 32 /dev/urandom | base64 > \(path))"
            }
        }
    }

    /// Reads and checks `path`: a regular file, owned by this user, readable by no one else,
    /// holding 16 to 4,096 bytes (surrounding white space ignored). `grants`: what a reader of
    /// the file could do, for the refusal ("run commands here").
    public init(file path: String, grants: String = "run commands here") throws(Problem) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path, String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .unreadable(path, "it is not a regular file") }
        guard info.st_uid == geteuid() else { throw .notOwned(path, owner: info.st_uid) }
        guard info.st_mode & 0o077 == 0 else { throw .readableByOthers(path, mode: UInt32(info.st_mode), grants: grants) }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path, "read failed") }
        var bytes = Array(data)[...]
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { bytes.removeLast() }
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes.removeFirst() }
        guard (16...4096).contains(bytes.count) else { throw .badLength(path, bytes.count) }
        self.bytes = Array(bytes)
    }

    /// HMAC-SHA256(token, challenge): the client's answer to the server's challenge.
    public func proof(for challenge: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: challenge, using: SymmetricKey(data: bytes)))
    }

    /// Whether `proof` answers `challenge`, compared in constant time.
    public func accepts(_ proof: [UInt8], for challenge: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: challenge, using: SymmetricKey(data: bytes))
    }
}

/// How the service runs.
public struct RemoteServerConfiguration: Sendable {
    public var listen: SocketAddress = .loopback(0)
    public var token: RemoteToken
    /// Programs that may be run, by name (matched against the command's program and its
    /// basename) or path; empty: any program.
    public var allow: [String] = []
    public var maxClients = 16
    /// The longest a command may run (a client may ask for less).
    public var maxSeconds: UInt32 = 3600
    /// For the challenge and the command, each.
    public var handshakeTimeout: Duration = .seconds(10)
    /// One line per run and per refusal.
    public var log: @Sendable (String) -> Void = { _ in }

    public init(token: RemoteToken) {
        self.token = token
    }
}

/// The remote command service: a client proves it knows the token, names a program and its
/// arguments, and gets the program's standard output and error as they are written, and its
/// exit status; its standard input goes to the program. The program is run directly (argv, no
/// shell), in a process group of its own that is killed when the client goes away or the time
/// runs out. One thread per client.
public final class RemoteServer: Sendable {
    public let address: SocketAddress
    let configuration: RemoteServerConfiguration
    let threads: ClientThreads
    /// Failed logins per address, for the growing delay before the answer.
    let failures = Mutex<[String: Int]>([:])

    public init(_ configuration: RemoteServerConfiguration) throws {
        self.configuration = configuration
        signal(SIGPIPE, SIG_IGN)
        let listener = try Socket.listening(on: configuration.listen, backlog: 64)
        address = try listener.localAddress
        threads = ClientThreads(listener: listener, limit: configuration.maxClients, log: configuration.log)
    }

    public func run() {
        threads.run { client, peer, id in
            RemoteSession(server: self, client: client, peer: peer, id: id).serve()
        }
    }

    public func stop() { threads.stop() }

    func log(_ line: String) { configuration.log(line) }

    /// Whether `program` may run: any, without --allow; else named by an --allow entry (a
    /// bare name matches the program's basename, a path only that path).
    func allows(_ program: String) -> Bool {
        guard !configuration.allow.isEmpty else { return true }
        let base = program.split(separator: "/").last.map(String.init) ?? program
        return configuration.allow.contains { $0.contains("/") ? $0 == program : $0 == base }
    }

    /// The pause before answering a failed login: 0.25 s, doubling with each failure from the
    /// same address, at most 5 s — a guesser gets a few tries a minute.
    func delayAfterFailure(from peer: SocketAddress) -> Duration {
        let key = peer.ip.map { "\($0)" } ?? "\(peer)"
        let count = failures.withLock { table -> Int in
            if table.count > 10_000 { table.removeAll() }
            table[key, default: 0] += 1
            return table[key]!
        }
        return .milliseconds(min(5000, 250 << min(count - 1, 5)))
    }

    func forgetFailures(of peer: SocketAddress) {
        let key = peer.ip.map { "\($0)" } ?? "\(peer)"
        _ = failures.withLock { $0.removeValue(forKey: key) }
    }
}
