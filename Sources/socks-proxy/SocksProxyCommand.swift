import ArgumentParser
import Foundation
import LabServers
import SocketCore
import ToolSupport

@main
struct SocksProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socks-proxy",
        abstract: "Lab 12's reference: a SOCKS5 proxy (RFC 1928, with RFC 1929 username/password).",
        discussion: """
            CONNECT, BIND and UDP ASSOCIATE; IPv4, IPv6 and domain names (resolved here); a reply \
            code for each failure; a relay that passes a half-close on. Try it with \
            curl --socks5-hostname 127.0.0.1:1080 http://…, or proxychains4. It listens on \
            127.0.0.1 unless --bind says otherwise, and will not listen on any other address \
            without --auth/--auth-file or --allow: an open proxy is abused within hours. \
            Exit codes: 0 stopped; 1 the port is in use; 2 a bad option, an open proxy refused, \
            an auth file others can read.
            """)

    @Option(help: "The port to listen on.")
    var port: UInt16 = 1080
    @Option(help: "The address to listen on (127.0.0.1 by default; ::1, or an address of this machine).")
    var bind = "127.0.0.1"
    @Option(help: "A login USER:PASS (RFC 1929); then only username/password is accepted. Repeatable.")
    var auth: [String] = []
    @Option(help: "A file of USER:PASS lines, readable by its owner only (chmod 600).")
    var authFile: String?
    @Option(help: "Targets the proxy may connect to, as CIDR (10.0.0.0/8, ::1/128, 127.0.0.1). Repeatable; default: any.")
    var allow: [String] = []
    @Option(help: "Clients served at once; more are turned away.")
    var maxClients = 256
    @Option(help: "Seconds a relayed connection may stay silent before it is closed.")
    var idleTimeout = 300
    @Flag(help: "One line per connection (target, bytes each way, how it ended) and per refusal.")
    var log = false

    func run() throws {
        var configuration = SocksProxyConfiguration()
        configuration.listen = try ListenAddress.resolve(host: bind, port: port)
        var logins: [String: String] = [:]
        for login in auth { try Self.add(login, to: &logins, from: "--auth") }
        if let authFile { try Self.read(authFile, into: &logins) }
        configuration.logins = logins.isEmpty ? nil : logins
        configuration.allow = try allow.map { text in
            guard let range = AddressRange(text) else { throw ValidationError("--allow \(text): not an address or CIDR range (10.0.0.0/8, ::1/128)") }
            return range
        }
        guard maxClients > 0 else { throw ValidationError("--max-clients must be at least 1") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be at least 1 second") }
        configuration.maxClients = maxClients
        configuration.idleTimeout = .seconds(idleTimeout)
        if log { configuration.log = { line in print("socks-proxy: \(line)"); flushOutput() } }
        let proxy = try SocksProxy(configuration)
        print("socks-proxy: listening on \(proxy.address)" + (configuration.logins == nil ? "" : ", username/password required")
              + (configuration.allow.isEmpty ? "" : ", targets limited to \(configuration.allow.map(\.description).joined(separator: " "))") + " (Ctrl-C to stop)")
        flushOutput()
        proxy.run()
    }

    static func add(_ login: String, to logins: inout [String: String], from source: String) throws {
        guard let colon = login.firstIndex(of: ":") else { throw ValidationError("\(source): \(login.debugDescription) is not USER:PASS") }
        let user = String(login[..<colon]), password = String(login[login.index(after: colon)...])
        guard !user.isEmpty, user.utf8.count <= 255, password.utf8.count <= 255 else {
            throw ValidationError("\(source): a user name of 1 to 255 bytes and a password of at most 255 (RFC 1929)")
        }
        logins[user] = password
    }

    /// The logins file, refused if its group or others may read it (it holds passwords).
    static func read(_ path: String, into logins: inout [String: String]) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { throw ValidationError("--auth-file \(path): \(String(cString: strerror(errno)))") }
        guard status.st_mode & 0o077 == 0 else {
            throw ValidationError("--auth-file \(path) can be read by others (mode \(String(status.st_mode & 0o777, radix: 8))): chmod 600 \(path)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("--auth-file \(path): not readable as text") }
        for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).isEmpty && !line.hasPrefix("#") {
            try add(String(line), to: &logins, from: "--auth-file \(path)")
        }
    }

    static func main() { runAsSocketLabTool() }
}
