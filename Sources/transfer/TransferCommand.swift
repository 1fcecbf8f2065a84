import ArgumentParser
import Foundation
import LabEngines
import SocketCore
import ToolSupport

@main
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Move a file over TCP (with a SHA-256 check and resume) or over UDP as TFTP (RFC 1350).",
        discussion: """
            Over TCP the kernel makes the stream reliable, and `transfer` still checks the file: \
            the receiver writes to a hidden .NAME.part file and gives it its real name only when \
            the SHA-256 of what arrived equals the sender's. Over UDP, TFTP has to do TCP's work \
            itself — number the blocks, acknowledge them, time out and resend — and the report \
            counts each time it had to. Lab 08 (Labs/08-moving-a-file) compares the two.
            Exit codes: 0 success; 1 a transfer refused, failed or cut; 2 bad usage or input (no \
            such file, bad address or name); 3 a missing privilege (a folder this user cannot write).
            """,
        subcommands: [Receive.self, Send.self, TFTPServe.self, TFTP.self])

    static func main() { runAsSocketLabTool() }
}

/// The address a server binds: loopback unless told otherwise, so that a lab's server is
/// not open to the whole network by accident.
struct BindOptions: ParsableArguments {
    @Option(help: "Port to listen on.")
    var port: UInt16
    @Option(help: "Address to listen on (0.0.0.0 or :: for every interface; the default takes only this machine's own connections).")
    var bind = "127.0.0.1"

    func address() throws -> SocketAddress { try ListenAddress.resolve(host: bind, port: port) }
}

/// `--dir` of both servers: a folder that exists, checked while the options are parsed.
func requireFolder(_ dir: String) throws {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isFolder), isFolder.boolValue else {
        throw ValidationError("--dir \(dir) is not a folder")
    }
}

struct Receive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive files from `transfer send` into a folder, several senders at once.",
        discussion: "One line per file (or one JSON object with --json) on standard output. A file that exists is kept unless both this receiver and the sender say --overwrite.")

    @OptionGroup var listen: BindOptions
    @Option(help: "Folder to store the files in.")
    var dir = "."
    @Option(help: "Largest file accepted, in bytes (refused from the offer, before any data).")
    var maxSize: Int64 = 4 << 30
    @Option(help: "Senders served at once.")
    var maxClients = 16
    @Option(help: "Seconds a sender may stay silent before it is disconnected.")
    var idleTimeout = 60
    @Flag(help: "Let a sender that asks for it replace a file that exists.")
    var overwrite = false
    @Flag(help: "One JSON object per event instead of a line of text.")
    var json = false

    func validate() throws {
        try OptionRange.check(maxSize, 0...Int64.max, "--max-size", unit: "bytes")
        try OptionRange.check(maxClients, 1...10_000, "--max-clients")
        try OptionRange.check(idleTimeout, 1...86_400, "--idle-timeout", unit: "seconds")
        try requireFolder(dir)
    }

    func run() throws {
        let listener = try Socket.listening(on: try listen.address())
        var options = TransferReceiver.Options()
        options.folder = dir
        options.maxSize = maxSize
        options.maxClients = maxClients
        options.idleTimeout = .seconds(idleTimeout)
        options.overwrite = overwrite
        print(json ? #"{"event":"listening","address":"\#(try listener.localAddress)"}"# : "transfer: receiving into \(dir) on \(try listener.localAddress)")
        flushOutput()
        let json = json
        TransferReceiver(options: options).serve(listener) { event in
            print(json ? TransferReport.json(event) : TransferReport.line(event))
            flushOutput()
        }
    }
}

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send files to `transfer receive`.",
        discussion: "Progress (bytes, rate, ETA) on standard error when it is a terminal; a line per file, or --json, on standard output.")

    @Argument(help: "The files, then the receiver as HOST:PORT ([::1]:PORT for IPv6).")
    var items: [String]
    @Flag(help: "Continue where the receiver's partial file ends, if its bytes are the start of this file (SHA-256 of the prefix).")
    var resume = false
    @Flag(help: "Ask the receiver to replace a file that exists (it must allow it too).")
    var overwrite = false
    @Option(help: "Send at most this many bytes per second (a slow link, to interrupt and resume).")
    var limitRate: Int64?
    @Flag(help: "One JSON summary instead of a line per file.")
    var json = false

    func validate() throws {
        guard items.count >= 2 else { throw ValidationError("give at least one file and the receiver: transfer send FILE… HOST:PORT") }
        if let limitRate { try OptionRange.check(limitRate, 1...Int64.max, "--limit-rate", unit: "bytes per second") }
    }

    func run() throws {
        let files = try items.dropLast().map { path in try OutgoingFile(path: path) }
        guard let address = try SocketAddress.resolve(items.last!).first else {
            throw ValidationError("\(items.last!) resolves to no address")
        }
        var options = TransferSender.Options()
        options.resume = resume
        options.overwrite = overwrite
        options.limitRate = limitRate
        var standardError = StandardError()
        let showProgress = isatty(2) == 1
        let results = try TransferSender(options: options).send(files, to: address, progress: showProgress ? { progress in
            var standardError = StandardError()
            print("\r\u{1B}[K" + TransferReport.progress(progress), terminator: "", to: &standardError)
        } : nil)
        if showProgress { print("", to: &standardError) }
        if json {
            print(TransferReport.json(results))
        } else {
            for sent in results { print(TransferReport.line(sent)) }
        }
        if results.contains(where: { $0.verdict != .ok }) { throw ExitCode(.failure) }
    }
}

struct TFTPServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftp-serve",
        abstract: "A TFTP server (RFC 1350, options of RFC 2347-2349 and 7440) for one folder.",
        discussion: "Read-only unless --write. Names are plain file names in the folder (a leading / is the folder itself, as tftpd-hpa -s has it). One line per transfer, or --json.")

    @OptionGroup var listen: BindOptions
    @Option(help: "Folder to serve.")
    var dir = "."
    @Flag(help: "Accept write requests (new files only, unless --overwrite).")
    var write = false
    @Flag(help: "With --write: let a write request replace a file that exists.")
    var overwrite = false
    @Option(help: "Largest file a write request may store, in bytes.")
    var maxSize: Int64 = 4 << 30
    @Option(help: "Largest windowsize granted (RFC 7440).")
    var maxWindow = 64
    @Flag(help: "One JSON object per transfer instead of a line of text.")
    var json = false

    func validate() throws {
        try OptionRange.check(maxWindow, 1...65535, "--max-window")
        try OptionRange.check(maxSize, 0...Int64.max, "--max-size", unit: "bytes")
        try requireFolder(dir)
    }

    func run() throws {
        let address = try listen.address()
        let socket = try Socket.udp(address.family)
        try socket.bind(to: address)
        var options = TFTPServer.Options()
        options.folder = dir
        options.allowWrite = write
        options.overwrite = overwrite
        options.maxSize = maxSize
        options.maxWindow = maxWindow
        print(json ? #"{"event":"listening","address":"\#(try socket.localAddress)"}"# : "transfer: TFTP serving \(dir)\(write ? " (read and write)" : " (read-only)") on \(try socket.localAddress)")
        flushOutput()
        let json = json
        TFTPServer(options: options).serve(socket) { event in
            print(json ? TransferReport.json(event) : TransferReport.line(event))
            flushOutput()
        }
    }
}

struct TFTP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tftp",
        abstract: "A TFTP client: get or put one file.",
        discussion: "Without options it is RFC 1350's lock-step with 512-byte blocks; --blksize and --windowsize ask for RFC 2348's and RFC 7440's options. The report counts retransmissions and timeouts: TFTP's own reliability at work.")

    enum Operation: String, ExpressibleByArgument { case get, put }

    @Argument(help: "get or put.")
    var operation: Operation
    @Argument(help: "The server, HOST:PORT.")
    var server: String
    @Argument(help: "get: the file's name on the server; put: the local file.")
    var file: String
    @Option(name: .shortAndLong, help: "get: where to write it (default: its name, here); put: the name on the server (default: the local file's name).")
    var output: String?
    @Option(help: "Block size to ask for (RFC 2348: 8-65464; 512 without it).")
    var blksize: Int?
    @Option(help: "Blocks per acknowledgement to ask for (RFC 7440; 1, lock-step, without it).")
    var windowsize: Int?
    @Option(help: "Retransmission timeout in seconds to ask for (RFC 2349: 1-255; adaptive without it).")
    var timeout: Int?
    @Option(help: "octet or netascii.")
    var mode = "octet"
    @Flag(help: "Do not ask for (or announce) the size with tsize.")
    var noTsize = false
    @Flag(help: "One JSON object instead of the report.")
    var json = false

    func validate() throws {
        if let blksize { try OptionRange.check(blksize, 8...65464, "--blksize", unit: "bytes") }
        if let windowsize { try OptionRange.check(windowsize, 1...65535, "--windowsize", unit: "blocks") }
        if let timeout { try OptionRange.check(timeout, 1...255, "--timeout", unit: "seconds") }
        guard ["octet", "netascii"].contains(mode.lowercased()) else { throw ValidationError("--mode is octet or netascii, not \(mode)") }
    }

    func run() throws {
        guard let address = try SocketAddress.resolve(server, type: .datagram).first else {
            throw ValidationError("\(server) resolves to no address")
        }
        var options = TFTPClient.Options()
        options.mode = mode.lowercased()
        options.blockSize = blksize
        options.windowSize = windowsize
        options.timeoutSeconds = timeout
        options.askSize = !noTsize
        let client = TFTPClient(options: options)
        let report: TFTPClient.Report
        switch operation {
        case .get:
            report = try client.get(file, from: address, to: output ?? String(file.split(separator: "/").last ?? Substring(file)))
        case .put:
            report = try client.put(file, to: address, as: output ?? String(file.split(separator: "/").last ?? Substring(file)))
        }
        print(json ? TransferReport.json(report) : TransferReport.line(report))
    }
}
