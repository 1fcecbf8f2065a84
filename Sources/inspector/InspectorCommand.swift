import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import PacketCapture
import Inspection
import Packets
import TextOutput
import ToolSupport

@main
struct InspectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspector",
        abstract: "Follow every TCP connection in a capture, explained, with the numbers tshark shows.",
        discussion: """
            One line per packet in tcpdump's shape, with sequence and acknowledgement numbers \
            relative to each side's initial sequence number (as Wireshark shows them) and the \
            window after scaling; under the packets that matter, a note in plain English; a \
            handshake and a close block per connection. --json prints JSON Lines \
            (Docs/inspector-output.md). Exit codes: 0 success; 2 bad input (an unreadable or \
            truncated file: everything before the cut is printed first; a bad filter or \
            interface); 3 no permission to capture live (sudo, or setcap as the message says).
            """,
        subcommands: [Read.self, Live.self])

    static func main() { runAsSocketLabTool() }
}

/// The options `read` and `live` share: what to show and how.
struct ViewOptions: ParsableArguments {
    @Flag(help: "One JSON object per line instead of text.")
    var json = false
    @Option(name: [.customShort("c"), .long], help: "Stop after this many frames.")
    var count: Int?
    @Option(help: "Show only this TCP stream (0-based, as tshark's tcp.stream).")
    var stream: Int?
    @Flag(help: "Only connection set-up and tear-down (and packets with a note).")
    var handshakes = false
    @Flag(help: "Raw sequence and acknowledgement numbers instead of relative ones.")
    var absolute = false
    @Flag(help: "Only the conversation table: packets, bytes, retransmissions, duration and state per connection.")
    var summary = false
    @Flag(help: "A two-column sequence diagram: client on the left, server on the right, an arrow per segment.")
    var ladder = false
    @Flag(help: "A sentence under every segment, ordinary data and ACKs too.")
    var explain = false
    @Flag(help: "No notes: tcpdump's lines and the handshake and close blocks only.")
    var quiet = false
    @Option(help: "Decode SOCKS5 on this port too (1080 always; a connection that opens with a SOCKS5 greeting is recognised on any port). Repeatable.")
    var socks: [UInt16] = []
    @Option(help: "Write a self-contained page (inline SVG and CSS, no script, no network): the conversation table and, per stream, the handshake, the ladder with its notes, the time-sequence graphs, throughput and RTT.")
    var html: String?
    @Option(help: "Write one SVG (for a slide): the ladder, or the graph --graph names, of --stream N (default: the first stream).")
    var svg: String?
    @Option(help: "With --svg: ladder, tsg (time-sequence, client's data), throughput, rtt.")
    var graph: PictureOptions.Graph = .ladder
    @Option(help: "With --html or --svg: screen, projector (large print, thick lines) or print (black on white).")
    var style: PictureOptions.Style = .screen
    @OptionGroup var color: ColorOption

    func validate() throws {
        if html != nil && svg != nil { throw ValidationError("--html writes the page and --svg one picture; choose one") }
        if (html != nil || svg != nil) && (json || summary || ladder) {
            throw ValidationError("--html and --svg draw the pictures; they do not combine with --json, --summary or --ladder")
        }
        if let count { try OptionRange.check(count, 1...1_000_000_000_000, "--count", unit: "frames") }
        if let stream { try OptionRange.check(stream, 0...Int(Int32.max), "--stream") }
        if explain && quiet { throw ValidationError("--explain and --quiet ask for opposite things; choose one") }
        if json && ladder { throw ValidationError("--ladder is a text view; it does not combine with --json") }
        if summary && ladder { throw ValidationError("--summary prints only the table; it does not combine with --ladder") }
    }

    /// What --html or --svg asks to draw, if either.
    func pictureOptions(title: String) -> PictureOptions? {
        guard html != nil || svg != nil else { return nil }
        var options = PictureOptions()
        options.format = svg != nil ? .svg : .html
        options.graph = graph
        options.style = style
        options.title = title
        return options
    }

    /// The picture session's options: the same filters, the picture view.
    func pictureSession(title: String) -> Session.Options? {
        guard let picture = pictureOptions(title: title) else { return nil }
        var options = sessionOptions
        options.view = .picture(picture)
        options.handshakes = false
        return options
    }

    /// Writes what a picture session drew to the file asked for, or fails with why there is nothing.
    func writePicture(_ session: inout Session) throws {
        guard let path = html ?? svg else { return }
        var out = OutputBuffer()
        session.finish(to: &out)
        if let problem = session.problem { throw ValidationError(problem.description) }
        let used = try FreshFile.write(String(decoding: out.bytes, as: UTF8.self), to: path)
        var standardError = StandardError()
        print("inspector: wrote \(used) (\(out.count) bytes); open it in a browser", to: &standardError)
    }

    var sessionOptions: Session.Options {
        var options = Session.Options()
        options.stream = stream
        options.handshakes = handshakes
        options.absolute = absolute
        options.view = summary ? (json ? .summaryJSON : .summaryTable) : json ? .jsonLines : ladder ? .ladder : .text
        options.detail = quiet ? .none : explain ? .everySegment : .notable
        options.color = color.enabled
        options.socksPorts.formUnion(socks)
        options.width = TerminalWidth.current()
        return options
    }
}

extension PictureOptions.Graph: ExpressibleByArgument {}
extension PictureOptions.Style: ExpressibleByArgument {}

extension InspectorCommand {
    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a pcap or pcapng file.")

        @Argument(help: "The capture file (pcap or pcapng; - reads standard input, as in tcpdump -w - | inspector read -).")
        var file: String
        @OptionGroup var view: ViewOptions

        func run() throws {
            let capture = try CaptureFile(path: file)
            let limit = view.count ?? Int.max
            if let options = view.pictureSession(title: "inspector read \(file)") {
                var pictures = Session(linkType: capture.linkType, options: options)
                var frames = 0
                var ignored = OutputBuffer()
                try capture.forEach { frame in
                    guard frames < limit else { return }
                    frames += 1
                    pictures.write(frame: frame, to: &ignored)
                }
                try view.writePicture(&pictures)
                return
            }
            var session = Session(linkType: capture.linkType, options: view.sessionOptions)
            if !view.ladder {
                // Read and decode on one core, follow the connections on the other.
                try ReadPipeline.run(capture, session: session, limit: limit)
                return
            }
            var frames = 0
            var failure: CaptureError?
            var out = OutputBuffer()
            do {
                try capture.forEach { frame in
                    guard frames < limit else { return }
                    frames += 1
                    session.write(frame: frame, to: &out)
                    out.flushIfFull()
                }
            } catch {
                failure = error
            }
            session.finish(to: &out)
            out.flush()
            if let failure { throw failure }
        }
    }

    struct Live: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture on an interface and explain the packets as they arrive (Ctrl-C stops).")

        @Option(name: .shortAndLong, help: "Interface: lo (loopback, the default), eth0, any.")
        var interface = "lo"
        @Option(name: [.customShort("f"), .long], help: "BPF capture filter, e.g. \"tcp port 8080\".")
        var filter = ""
        @Option(name: [.customShort("w"), .long], help: "Also write the packets to this pcap file (Wireshark opens it).")
        var write: String?
        @OptionGroup var view: ViewOptions

        func run() throws {
            var options = LiveCapture.Options()
            options.interface = interface
            options.filter = filter
            options.writeTo = write
            // Batches of at most 50 ms rather than immediate mode: no one sees 50 ms, and a
            // storm of small packets then fits the ring instead of overflowing its 64 KiB slots.
            options.immediate = false
            options.batchTimeout = 50
            let capture = try LiveCapture(options)
            LiveCapture.stopOnSignals()
            var standardError = StandardError()
            print("inspector: capturing on \(interface)" + (filter.isEmpty ? "" : " (\(filter))") + "; Ctrl-C to stop", to: &standardError)
            var session = Session(linkType: capture.linkType, options: view.sessionOptions)
            // With --html or --svg, a second session draws the pictures when the capture stops.
            var pictures = view.pictureSession(title: "inspector live on \(interface)").map { Session(linkType: capture.linkType, options: $0) }
            var out = OutputBuffer()
            var ignored = OutputBuffer()
            let statistics = try capture.run(count: view.count, idle: { out.flush() }) { frame in
                session.write(frame: frame, to: &out)
                pictures?.write(frame: frame, to: &ignored)
                out.flushIfFull()
            }
            session.finish(to: &out)
            out.flush()
            if var pictures { try view.writePicture(&pictures) }
            print("inspector: \(statistics)", to: &standardError)
            if let write { print("inspector: wrote \(write); open it in Wireshark", to: &standardError) }
        }
    }
}
