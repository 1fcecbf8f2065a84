import Foundation
import TextOutput

/// The words and the JSON for what `transfer` did: the engines record facts (bytes, seconds,
/// digests, counters), this renders them — one line a file for people, one object for
/// programs (`--json`).
public enum TransferReport {
    static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }

    // MARK: transfer send

    public static func line(_ sent: TransferSender.Sent) -> String {
        switch sent.verdict {
        case .ok:
            var text = "sent \(sent.name): \(ByteCount.text(sent.bytesSent))"
            if sent.resumedFrom > 0 { text += " (resumed after the receiver's \(ByteCount.text(sent.resumedFrom)))" }
            text += " in \(seconds(sent.seconds)), \(ByteCount.rate(rate(sent.bytesSent, sent.seconds))); SHA-256 \(sent.sha256) matches at the receiver"
            if sent.partialMismatch { text += "\n  note: the receiver's partial file was not the start of this file (its SHA-256 differs), so all of it was sent" }
            return text
        case .refused(let reason): return "refused \(sent.name): \(reason)"
        case .failed(let reason): return "failed \(sent.name): \(reason)"
        }
    }

    public static func json(_ files: [TransferSender.Sent]) -> String {
        let bytes = files.reduce(Int64(0)) { $0 + $1.bytesSent }
        let seconds = files.reduce(0.0) { $0 + $1.seconds }
        return JSON.object([
            ("files", .array(files.map { file in
                var fields: [(String, JSON)] = [
                    ("name", .string(file.name)), ("size", .integer(file.size)), ("bytes_sent", .integer(file.bytesSent)),
                    ("resumed_from", .integer(file.resumedFrom)), ("seconds", .decimal(file.seconds, places: 6)),
                    ("rate_bytes_per_s", .decimal(rate(file.bytesSent, file.seconds), places: 0)),
                    ("sha256", file.sha256.isEmpty ? .null : .string(file.sha256)),
                ]
                switch file.verdict {
                case .ok: fields.append(("verdict", "ok"))
                case .refused(let reason): fields += [("verdict", "refused"), ("reason", .string(reason))]
                case .failed(let reason): fields += [("verdict", "failed"), ("reason", .string(reason))]
                }
                if file.partialMismatch { fields.append(("partial_mismatch", true)) }
                return .object(fields)
            })),
            ("bytes_sent", .integer(bytes)), ("seconds", .decimal(seconds, places: 6)),
            ("rate_bytes_per_s", .decimal(rate(bytes, seconds), places: 0)),
        ]).text
    }

    /// "report.pdf  12.0 MB of 20.0 MB  60%  310 MB/s  ETA 0:03" for a terminal.
    public static func progress(_ p: TransferSender.Progress) -> String {
        let sentNow = p.done - p.resumedFrom
        let speed = rate(sentNow, p.seconds)
        let percent = p.size == 0 ? 100 : Int(100 * Double(p.done) / Double(p.size))
        let left = speed > 0 ? Double(p.size - p.done) / speed : 0
        let eta = String(format: "%d:%02d", Int(left) / 60, Int(left) % 60)
        return "\(p.name)  \(ByteCount.text(p.done)) of \(ByteCount.text(p.size))  \(percent)%  \(ByteCount.rate(speed))  ETA \(eta)"
    }

    // MARK: transfer receive

    public static func line(_ event: TransferReceiver.Event) -> String {
        switch event {
        case .received(let peer, let name, let bytes, let resumedFrom, let time, let digest):
            let resumed = resumedFrom > 0 ? ", resumed after \(ByteCount.text(resumedFrom)) kept from before" : ""
            return "received \(name) from \(peer): \(ByteCount.text(bytes))\(resumed) in \(seconds(time)) (\(ByteCount.rate(rate(bytes, time)))), SHA-256 \(digest) ok"
        case .refused(let peer, let name, let reason): return "refused \(name) from \(peer): \(reason)"
        case .cut(let peer, let name, let have, let size):
            return "cut: \(peer) stopped sending \(name) after \(have) of \(size) bytes; kept as .\(name)\(FileName.partialSuffix) for `transfer send --resume`"
        case .failed(let peer, let name, let reason): return "failed \(name) from \(peer): \(reason)"
        case .connection(let peer, let problem): return "\(peer): \(problem)"
        case .backingOff(let what): return what
        }
    }

    public static func json(_ event: TransferReceiver.Event) -> String {
        let fields: [(String, JSON)]
        switch event {
        case .received(let peer, let name, let bytes, let resumedFrom, let time, let digest):
            fields = [("event", "received"), ("peer", .string(peer)), ("name", .string(name)), ("bytes", .integer(bytes)),
                      ("resumed_from", .integer(resumedFrom)), ("seconds", .decimal(time, places: 6)),
                      ("rate_bytes_per_s", .decimal(rate(bytes, time), places: 0)), ("sha256", .string(digest))]
        case .refused(let peer, let name, let reason):
            fields = [("event", "refused"), ("peer", .string(peer)), ("name", .string(name)), ("reason", .string(reason))]
        case .cut(let peer, let name, let have, let size):
            fields = [("event", "cut"), ("peer", .string(peer)), ("name", .string(name)), ("have", .integer(have)), ("size", .integer(size))]
        case .failed(let peer, let name, let reason):
            fields = [("event", "failed"), ("peer", .string(peer)), ("name", .string(name)), ("reason", .string(reason))]
        case .connection(let peer, let problem):
            fields = [("event", "connection"), ("peer", .string(peer)), ("problem", .string(problem))]
        case .backingOff(let what):
            fields = [("event", "backing_off"), ("reason", .string(what))]
        }
        return JSON.object(fields).text
    }

    // MARK: TFTP

    public static func line(_ report: TFTPClient.Report) -> String {
        let c = report.counters
        let verb = report.isGet ? "got \(report.remoteName) → \(report.localPath)" : "put \(report.localPath) → \(report.remoteName)"
        return "\(verb): \(ByteCount.text(c.bytes)) in \(c.blocks) blocks, \(seconds(c.seconds)) (\(ByteCount.rate(rate(c.bytes, c.seconds))))\n"
            + "  options: \(report.settings.summary)\(report.negotiated ? "" : " (the server ignored the options asked for, or none were asked)")\n"
            + "  retransmissions \(c.retransmissions), timeouts \(c.timeouts), duplicates \(c.duplicates)"
    }

    public static func json(_ report: TFTPClient.Report) -> String {
        JSON.object([
            ("operation", .string(report.isGet ? "get" : "put")), ("remote", .string(report.remoteName)), ("local", .string(report.localPath)),
            ("negotiated", .bool(report.negotiated)), ("options", settings(report.settings)),
        ] + counters(report.counters)).text
    }

    public static func line(_ event: TFTPServer.Event) -> String {
        switch event {
        case .done(let peer, let isRead, let name, let mode, let settings, let c):
            return "\(isRead ? "sent" : "received") \(name) (\(mode)) \(isRead ? "to" : "from") \(peer): \(ByteCount.text(c.bytes)) in \(c.blocks) blocks, \(seconds(c.seconds)); \(settings.summary); retransmissions \(c.retransmissions), timeouts \(c.timeouts), duplicates \(c.duplicates)"
        case .refused(let peer, let isRead, let name, let code, let message):
            return "refused \(isRead ? "RRQ" : "WRQ") \(name) from \(peer): ERROR \(code), \(message)"
        case .failed(let peer, let isRead, let name, let reason, _):
            return "failed \(isRead ? "RRQ" : "WRQ") \(name) from \(peer): \(reason)"
        case .ignored(let peer, let reason):
            return "ignored a packet from \(peer): \(reason)"
        }
    }

    public static func json(_ event: TFTPServer.Event) -> String {
        let fields: [(String, JSON)]
        switch event {
        case .done(let peer, let isRead, let name, let mode, let settings, let c):
            fields = [("event", "done"), ("peer", .string(peer)), ("request", .string(isRead ? "RRQ" : "WRQ")), ("name", .string(name)),
                      ("mode", .string(mode)), ("options", Self.settings(settings))] + counters(c)
        case .refused(let peer, let isRead, let name, let code, let message):
            fields = [("event", "refused"), ("peer", .string(peer)), ("request", .string(isRead ? "RRQ" : "WRQ")), ("name", .string(name)),
                      ("error_code", .integer(Int(code))), ("message", .string(message))]
        case .failed(let peer, let isRead, let name, let reason, let c):
            fields = [("event", "failed"), ("peer", .string(peer)), ("request", .string(isRead ? "RRQ" : "WRQ")), ("name", .string(name)),
                      ("reason", .string(reason))] + counters(c)
        case .ignored(let peer, let reason):
            fields = [("event", "ignored"), ("peer", .string(peer)), ("reason", .string(reason))]
        }
        return JSON.object(fields).text
    }

    static func settings(_ s: TFTPSettings) -> JSON {
        .object([("blksize", .integer(s.blockSize)), ("windowsize", .integer(s.windowSize)),
                 ("timeout", .optional(s.timeoutSeconds)), ("tsize", s.transferSize.map { .integer($0) } ?? .null)])
    }

    static func counters(_ c: TFTPCounters) -> [(String, JSON)] {
        [("bytes", .integer(c.bytes)), ("blocks", .integer(c.blocks)), ("seconds", .decimal(c.seconds, places: 6)),
         ("rate_bytes_per_s", .decimal(rate(c.bytes, c.seconds), places: 0)), ("retransmissions", .integer(c.retransmissions)),
         ("timeouts", .integer(c.timeouts)), ("duplicates", .integer(c.duplicates)), ("strangers", .integer(c.strangers))]
    }

    static func rate(_ bytes: Int64, _ seconds: Double) -> Double { seconds > 0 ? Double(bytes) / seconds : 0 }
}
