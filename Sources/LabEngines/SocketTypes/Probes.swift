#if canImport(Glibc)
import Glibc
#endif
import LabHost
import Packets
import SocketCore

/// The probes behind socket-types' cells. Each makes real sockets of its row's type, on
/// loopback or across the lossy link, and records what the calls returned.
enum Probes {
    static let boundarySizes = [1, 100, 7]
    static let numbered = 200

    static func errno(_ error: any Error) -> Errno? { (error as? SocketError)?.errno }

    /// A small file's text (/proc/net/tcp, a sysctl), read with open() and read().
    static func readFile(_ path: String, limit: Int = 4 << 20) -> String? {
        guard let file = try? PipeEnd(opening: path, forWriting: false) else { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < limit, let got = try? chunk.withUnsafeMutableBytes({ try file.read(into: $0) }), got > 0 { bytes += chunk[..<got] }
        return String(decoding: bytes, as: UTF8.self)
    }
    static func create(_ id: String) throws(SocketError) {
        switch id {
        case "stream-tcp": try Socket.tcp().close()
        case "dgram-udp": try Socket.udp().close()
        case "seqpacket": try Socket.unixSeqPacket().close()
        case "raw-icmp": try Socket.rawICMP().close()
        case "ping-icmp": try Socket.pingICMP().close()
        case "unix-stream": try Socket.unixStream().close()
        case "unix-dgram": try Socket.unixDatagram().close()
        default: try PacketSocket(interface: "lo").close()
        }
    }

    static func row(_ id: String, lossy: LossyLink?, isRoot: Bool) -> SocketTypeRow {
        var row: SocketTypeRow
        do {
            switch id {
            case "stream-tcp": row = try tcp(lossy)
            case "dgram-udp": row = try udp(lossy)
            case "seqpacket": row = try local(id, "SOCK_SEQPACKET (Unix)", "socket(AF_UNIX, SOCK_SEQPACKET, 0)", .seqPacket)
            case "raw-icmp": row = try icmp(raw: true, lossy)
            case "ping-icmp": row = try icmp(raw: false, lossy)
            case "unix-stream": row = try local(id, "SOCK_STREAM (Unix)", "socket(AF_UNIX, SOCK_STREAM, 0)", .stream)
            case "unix-dgram": row = try local(id, "SOCK_DGRAM (Unix)", "socket(AF_UNIX, SOCK_DGRAM, 0)", .datagram)
            default: row = try packet()
            }
        } catch {
            row = SocketTypeRow(id: id, type: title(id), call: call(id))
            let reason = "socket() failed: \(errno(error).map { $0.name } ?? "\(error)")"
            row.boundaries = .notMeasured(reason, ["\(error)"])
            row.ordered = .notMeasured(reason)
            row.reliable = .notMeasured(reason)
            row.connection = .notMeasured(reason)
            row.largest = .notMeasured(reason)
            row.shownBy = .notMeasured(reason)
        }
        return row
    }

    static func title(_ id: String) -> String {
        ["stream-tcp": "SOCK_STREAM / TCP", "dgram-udp": "SOCK_DGRAM / UDP", "seqpacket": "SOCK_SEQPACKET (Unix)",
         "raw-icmp": "SOCK_RAW / ICMP", "ping-icmp": "SOCK_DGRAM / ICMP (ping socket)", "unix-stream": "SOCK_STREAM (Unix)",
         "unix-dgram": "SOCK_DGRAM (Unix)", "packet": "AF_PACKET / SOCK_RAW"][id] ?? id
    }

    static func call(_ id: String) -> String {
        ["stream-tcp": "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)", "dgram-udp": "socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)",
         "seqpacket": "socket(AF_UNIX, SOCK_SEQPACKET, 0)", "raw-icmp": "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)",
         "ping-icmp": "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)", "unix-stream": "socket(AF_UNIX, SOCK_STREAM, 0)",
         "unix-dgram": "socket(AF_UNIX, SOCK_DGRAM, 0)", "packet": "socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))"][id] ?? id
    }

    // MARK: the rows

    static func tcp(_ lossy: LossyLink?) throws -> SocketTypeRow {
        var row = SocketTypeRow(id: "stream-tcp", type: title("stream-tcp"), call: call("stream-tcp"))
        let listener = try Socket.listening(on: .loopback(0))
        let client = try Socket.connected(to: try listener.localAddress)
        let (server, _) = try listener.accept()
        row.boundaries = try boundaries(send: { try client.send($0) }, receive: { try server.receive(into: $0) }, stream: true)
        row.largest = try streamLargest(client)
        row.shownBy = shownBy(client.descriptor, proc: ["/proc/net/tcp"], ss: ["-t"])
        let fresh = try Socket.tcp()
        row.connection = connection { _ = try fresh.send([1], to: try listener.localAddress) }
        (row.ordered, row.reliable) = lossyStream(lossy)
        return row
    }

    static func udp(_ lossy: LossyLink?) throws -> SocketTypeRow {
        var row = SocketTypeRow(id: "dgram-udp", type: title("dgram-udp"), call: call("dgram-udp"))
        let receiver = try Socket.udp(), sender = try Socket.udp()
        try receiver.bind(to: .loopback(0))
        let target = try receiver.localAddress
        try receiver.set(.receiveTimeout, .seconds(1))
        row.boundaries = try boundaries(send: { try sender.send($0, to: target) }, receive: { try receiver.receive(into: $0) }, stream: false)
        row.largest = largestMessage(limit: 70_000) { size in
            let bytes = [UInt8](repeating: 0, count: size)
            do { try sender.send(bytes, to: target); _ = try? receiver.receiveFrom(upTo: 70_000); return nil } catch { return errno(error) }
        }
        row.shownBy = shownBy(receiver.descriptor, proc: ["/proc/net/udp"], ss: ["-u"])
        let fresh = try Socket.udp()
        row.connection = connection { _ = try fresh.send([1], to: target) }
        _ = try? receiver.receiveFrom(upTo: 16)
        (row.ordered, row.reliable) = lossyDatagrams(lossy)
        return row
    }

    /// The Unix-domain rows: boundaries and limits on a socketpair, the connection question on
    /// a named socket, order and delivery on the socketpair (nothing can be lost locally).
    static func local(_ id: String, _ type: String, _ call: String, _ kind: SocketType) throws -> SocketTypeRow {
        var row = SocketTypeRow(id: id, type: type, call: call)
        let (a, b) = try Socket.pair(kind)
        try b.set(.receiveTimeout, .seconds(1))
        row.boundaries = try boundaries(send: { try a.send($0) }, receive: { try b.receive(into: $0) }, stream: kind == .stream)
        row.shownBy = shownBy(a.descriptor, proc: ["/proc/net/unix"], ss: ["-x"])
        if kind == .stream {
            let (c, _) = try Socket.pair(kind)  // its own pair: the bytes it leaves queued stay there
            row.largest = try streamLargest(c)
        } else {
            try a.setNonBlocking(true)
            row.largest = largestMessage(limit: 1 << 21) { size in
                let bytes = [UInt8](repeating: 0, count: size)
                do { try a.send(bytes); _ = try? b.receive(upTo: 1 << 21); return nil } catch { return errno(error) }
            }
            try a.setNonBlocking(false)
        }
        // Numbered messages through the pair: all of them, in order, or the kernel lost some.
        var received: [UInt32] = []
        let sender = Peer { for n in 0..<UInt32(numbered) { try a.send(withUnsafeBytes(of: n.bigEndian) { Array($0) }) } }
        var pending: [UInt8] = []
        while received.count < numbered, let chunk = try? b.receive(upTo: 4096), !chunk.isEmpty {
            pending += chunk
            while pending.count >= 4 {
                received.append(pending.prefix(4).reduce(0) { $0 << 8 | UInt32($1) })
                pending.removeFirst(4)
            }
        }
        _ = try? sender.value()
        let inOrder = received == (0..<UInt32(numbered)).map { $0 }
        let evidence = ["\(numbered) numbered 4-byte messages through a socketpair: \(received.count) arrived, \(inOrder ? "in order" : "out of order")",
                        "a Unix-domain socket never drops: a sender whose peer's queue is full waits (or gets EAGAIN)"]
        row.ordered = .measured(inOrder, inOrder ? "yes (\(received.count) of \(numbered) in order)" : "no", evidence)
        row.reliable = .measured(received.count == numbered, received.count == numbered ? "yes: local, nothing is dropped" : "no (\(received.count) of \(numbered))", evidence)
        // The connection question on named sockets: send to a listening (or bound) path.
        let path = "/tmp/socketlab-types-\(getpid())-\(id).sock"
        unlink(path)
        defer { unlink(path) }
        let named = try Socket(family: .unix, type: kind)
        try named.bind(to: .unix(.path(path)))
        if kind != .datagram { try named.listen() }
        let fresh = try Socket(family: .unix, type: kind)
        row.connection = connection { _ = try fresh.send([1], to: .unix(.path(path))) }
        return row
    }

    static func icmp(raw: Bool, _ lossy: LossyLink?) throws -> SocketTypeRow {
        let id = raw ? "raw-icmp" : "ping-icmp"
        var row = SocketTypeRow(id: id, type: title(id), call: call(id))
        let socket = raw ? try Socket.rawICMP() : try Socket.pingICMP()
        try socket.set(.receiveTimeout, .milliseconds(500))
        let loopback = SocketAddress.loopback(0)
        let identifier = UInt16(truncatingIfNeeded: getpid())
        var sequence: UInt16 = 0
        func echo(_ payload: Int, to address: SocketAddress = loopback) throws {
            sequence &+= 1
            try socket.send(ICMPEcho(identifier: identifier, sequence: sequence, payload: [UInt8](repeating: 0x61, count: payload)).encoded(), to: address)
        }
        /// Reads until an echo reply arrives (a raw socket also sees the requests themselves on
        /// loopback): its whole size as the read returned it.
        func reply() throws -> Int? {
            for _ in 0..<8 {
                guard let datagram = try? socket.receiveFrom(upTo: 70_000) else { return nil }
                let icmp = raw ? Array(datagram.bytes.dropFirst(Int(datagram.bytes.first ?? 0x45) & 0x0f * 4)) : datagram.bytes
                if icmp.first == 0 { return datagram.size }
            }
            return nil
        }
        var reads: [Int] = []
        for size in boundarySizes {
            try echo(size)
            if let got = try reply() { reads.append(got) }
        }
        let header = raw ? 28 : 8
        let kept = reads == boundarySizes.map { $0 + header }
        row.boundaries = .measured(kept, kept ? "kept: one packet per read" : "not kept",
                                   ["echo requests with payloads of \(boundarySizes.map(String.init).joined(separator: ", ")) bytes to 127.0.0.1",
                                    "the replies' reads returned \(reads.map(String.init).joined(separator: ", ")) bytes (\(raw ? "IP header, 20, + ICMP header, 8," : "ICMP header, 8,") + payload)"])
        row.connection = connection { _ = try echo(1) }
        _ = try? reply()
        row.largest = largestMessage(limit: 70_000) { size in
            do { try echo(max(0, size - 8)); _ = try? reply(); return nil } catch { return errno(error) }
        }
        row.shownBy = shownBy(socket.descriptor, proc: [raw ? "/proc/net/raw" : "/proc/net/icmp"], ss: raw ? ["-w"] : [])
        if let lossy, let far = try? SocketAddress(lossy.farAddress + ":0") {
            var answered = 0
            let count = 100
            for _ in 0..<count {
                try? echo(56, to: far)
                if (try? reply()) ?? nil != nil { answered += 1 }
            }
            let evidence = ["\(count) echo requests to \(lossy.farAddress) across a link losing \(JSONNumber.text(lossy.lossPercent))% of what arrives there: \(answered) answered"]
            row.reliable = .measured(answered == count, answered == count ? "no loss seen (\(answered) of \(count)); ICMP resends nothing" : "no: \(answered) of \(count) answered; ICMP resends nothing", evidence)
            row.ordered = .measured(nil, "no promise: each packet on its own (one request at a time here)", evidence)
        } else {
            row.reliable = .notMeasured("needs the lossy namespace link (root)", ["ICMP, like UDP, is carried by IP alone: nothing is acknowledged or resent"])
            row.ordered = .notMeasured("needs the lossy namespace link (root)")
        }
        return row
    }

    static func packet() throws -> SocketTypeRow {
        var row = SocketTypeRow(id: "packet", type: title("packet"), call: call("packet"))
        let socket = try PacketSocket(interface: "lo")
        try socket.setReceiveTimeout(.milliseconds(300))
        // Frames of the local experimental EtherType 0x88B5, which no protocol on the host
        // takes: broadcast on lo, seen by this socket going out and coming in.
        let marker = UInt32.random(in: 1...UInt32.max)
        func frame(_ size: Int) -> [UInt8] {
            var bytes = [UInt8](repeating: 0xff, count: 6) + [UInt8](repeating: 0, count: 6) + [0x88, 0xB5]
            bytes += withUnsafeBytes(of: marker.bigEndian) { Array($0) }
            bytes += [UInt8](repeating: 0x62, count: max(0, size - bytes.count))
            return bytes
        }
        func ours(_ buffer: UnsafeMutableRawBufferPointer, _ got: Int) -> Bool {
            got >= 18 && buffer[12] == 0x88 && buffer[13] == 0xB5 && buffer.loadUnaligned(fromByteOffset: 14, as: UInt32.self) == marker.bigEndian
        }
        let sizes = boundarySizes.map { $0 + 60 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 8)
        defer { buffer.deallocate() }
        var reads: [Int] = []
        for size in sizes {
            try frame(size).withUnsafeBytes { _ = try socket.send(frame: $0) }
            for _ in 0..<16 {
                guard let got = try? socket.receive(into: buffer) else { break }
                if ours(buffer, got) { reads.append(got); break }
            }
        }
        row.boundaries = .measured(reads == sizes, reads == sizes ? "kept: one frame per read" : "not kept",
                                   ["frames of \(sizes.map(String.init).joined(separator: ", ")) bytes (Ethernet header included) sent on lo",
                                    "reads returned \(reads.map(String.init).joined(separator: ", ")) bytes"])
        row.connection = .measured(false, "none: sendto() an interface", ["sendto({AF_PACKET, ifindex \(socket.interfaceIndex)}) on a socket that was only bound: ok"])
        row.largest = largestMessage(limit: 70_000) { size in
            do { try frame(size).withUnsafeBytes { _ = try socket.send(frame: $0) }; return nil } catch { return errno(error) }
        }
        row.shownBy = shownBy(socket.descriptor, proc: ["/proc/net/packet"], ss: ["-0"])
        row.ordered = .notMeasured("a frame is as ordered as the link it crosses", ["AF_PACKET hands frames to the driver; nothing numbers them"])
        row.reliable = .notMeasured("a frame is as reliable as the link it crosses", ["nothing is acknowledged or resent at this layer"])
        return row
    }

    // MARK: the cells

    /// Messages of `boundarySizes` back to back, then what each read returned once all are in.
    static func boundaries(send: ([UInt8]) throws -> Void, receive: (UnsafeMutableRawBufferPointer) throws -> Int, stream: Bool) throws -> Cell<Bool> {
        for size in boundarySizes { try send([UInt8](repeating: 0x63, count: size)) }
        usleep(50_000)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 8)
        defer { buffer.deallocate() }
        var reads: [Int] = []
        let total = boundarySizes.reduce(0, +)
        while reads.reduce(0, +) < total, reads.count < boundarySizes.count, let got = try? receive(buffer), got > 0 { reads.append(got) }
        let kept = reads == boundarySizes
        return .measured(kept, kept ? "kept: \(reads.count) reads for \(boundarySizes.count) messages" : "not kept: \(reads.count) read\(reads.count == 1 ? "" : "s") for \(boundarySizes.count) messages",
                         ["sent \(boundarySizes.count) messages of \(boundarySizes.map(String.init).joined(separator: ", ")) bytes, then waited 50 ms",
                          "recv() with a 64 KiB buffer returned \(reads.map(String.init).joined(separator: ", ")) bytes"])
    }

    /// Whether a send needs a connection first: a sendto() on a fresh, never-connected socket.
    static func connection(_ send: () throws -> Void) -> Cell<Bool> {
        do {
            try send()
            return .measured(false, "none: sendto() works at once", ["sendto() on a socket that never called connect(): ok"])
        } catch {
            let reason = errno(error).map { $0.name } ?? "\(error)"
            return .measured(true, "needed: connect() and accept() first", ["sendto() on a socket that never called connect(): \(reason)"])
        }
    }

    /// A stream's largest message: there is none; a non-blocking send takes what fits.
    static func streamLargest(_ socket: Socket) throws -> Cell<Int> {
        try socket.setNonBlocking(true)
        defer { try? socket.setNonBlocking(false) }
        let bytes = [UInt8](repeating: 0, count: 4 << 20)
        let taken = (try? bytes.withUnsafeBytes { try socket.sendSome($0) }) ?? 0
        return .measured(nil, "no limit: a byte stream",
                         ["a non-blocking send() of 4 MiB took \(taken) bytes (what fitted in the send buffer): a stream has no message to be too large"])
    }

    /// The largest size for which `send` does not fail with EMSGSIZE, by bisection.
    static func largestMessage(limit: Int, _ send: (Int) -> Errno?) -> Cell<Int> {
        var low = 1, high = limit
        var tries: [String] = []
        if send(limit) == nil { return .measured(limit, "\(limit) bytes or more", ["\(limit) bytes: ok"]) }
        while low < high {
            let middle = (low + high + 1) / 2
            let error = send(middle)
            tries.append("\(middle): \(error.map { $0.name } ?? "ok")")
            if error == nil || error == .EAGAIN || error == .ENOBUFS { low = middle } else { high = middle - 1 }
        }
        return .measured(low, "\(low) bytes", ["bisection by send(): " + tries.joined(separator: ", "), "one byte more is EMSGSIZE"])
    }

    /// The lines of /proc/net and `ss -a -e` that name this socket's inode.
    static func shownBy(_ descriptor: Int32, proc: [String], ss flags: [String]) -> Cell<String> {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return .notMeasured("fstat() failed") }
        let inode = String(info.st_ino)
        var evidence = ["the probe's socket is inode \(inode) (fstat)"]
        var found: [String] = []
        for file in proc {
            let text = readFile(file) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.split(separator: " ").contains(Substring(inode)) }) {
                found.append(file)
                evidence.append("\(file): \(line.split(separator: " ").joined(separator: " "))")
            }
        }
        if !flags.isEmpty {
            let command = ["ss", "-a", "-e", "-n"] + flags
            if let (_, output) = try? ChildProcess.run(command, separateErrors: true),
               let line = output.split(separator: "\n").first(where: { $0.contains("ino:\(inode)") || $0.split(separator: " ").contains(Substring(inode)) }) {
                found.append("ss " + flags.joined(separator: " "))
                evidence.append("\(command.joined(separator: " ")): \(line.split(separator: " ").joined(separator: " "))")
            } else {
                evidence.append("\(command.joined(separator: " ")): no line with inode \(inode)")
            }
        } else {
            evidence.append("ss lists no ICMP ping sockets; /proc/net/icmp does")
        }
        return .measured(found.joined(separator: ", "), found.isEmpty ? "not found" : found.joined(separator: ", "), evidence)
    }

    // MARK: across the lossy link

    static func lossyStream(_ lossy: LossyLink?) -> (Cell<Bool>, Cell<Bool>) {
        guard let lossy else {
            let why = "needs the lossy namespace link (run as root)"
            return (.notMeasured(why, ["TCP numbers every byte and resends what is not acknowledged"]), .notMeasured(why))
        }
        var received: [UInt32] = []
        var note = ""
        do {
            let listener = try lossy.topology.within("far") { try Socket.listening(on: SocketAddress(lossy.farAddress + ":0")) }
            let address = try listener.localAddress
            let server = Peer { () throws -> [UInt32] in
                let (connection, _) = try listener.accept()
                try connection.set(.receiveTimeout, .seconds(10))
                let bytes = try connection.receive(exactly: numbered * 4)
                return (0..<numbered).map { index in bytes[index * 4..<index * 4 + 4].reduce(0) { $0 << 8 | UInt32($1) } }
            }
            let client = try Socket.connected(to: address, timeout: .seconds(10))
            for n in 0..<UInt32(numbered) { try client.send(withUnsafeBytes(of: n.bigEndian) { Array($0) }) }
            received = try server.value()
            let info = try? client.tcpInfo
            note = info.map { "; the sender's TCP_INFO counts \($0.totalRetransmissions) retransmitted segments" } ?? ""
        } catch {
            note = " (\(error))"
        }
        let inOrder = received == (0..<UInt32(numbered)).map { $0 }
        let evidence = ["\(numbered) numbered 4-byte messages over TCP to \(lossy.farAddress), across a link losing \(JSONNumber.text(lossy.lossPercent))% of what arrives there: \(received.count) arrived\(inOrder ? ", in order" : "")\(note)"]
        return (.measured(inOrder, inOrder ? "yes: \(received.count) of \(numbered) in order" : "no", evidence),
                .measured(received.count == numbered, received.count == numbered ? "yes: all \(numbered) across \(JSONNumber.text(lossy.lossPercent))% loss" : "no: \(received.count) of \(numbered)", evidence))
    }

    static func lossyDatagrams(_ lossy: LossyLink?) -> (Cell<Bool>, Cell<Bool>) {
        guard let lossy else {
            let why = "needs the lossy namespace link (run as root)"
            return (.notMeasured(why, ["UDP carries each datagram once; nothing numbers or resends them"]), .notMeasured(why))
        }
        var received: [UInt32] = []
        var note = ""
        do {
            let receiver = try lossy.topology.within("far") { () throws -> Socket in
                let socket = try Socket.udp()
                try socket.bind(to: SocketAddress(lossy.farAddress + ":0"))
                return socket
            }
            try receiver.set(.receiveTimeout, .milliseconds(500))
            let target = try receiver.localAddress
            let sender = try Socket.udp()
            let reader = Peer { () -> [UInt32] in
                var values: [UInt32] = []
                while let datagram = try? receiver.receiveFrom(upTo: 16), datagram.bytes.count == 4 {
                    values.append(datagram.bytes.reduce(0) { $0 << 8 | UInt32($1) })
                }
                return values
            }
            for n in 0..<UInt32(numbered) {
                try sender.send(withUnsafeBytes(of: n.bigEndian) { Array($0) }, to: target)
                usleep(500)
            }
            received = try reader.value()
        } catch {
            note = " (\(error))"
        }
        let inOrder = received == received.sorted()
        let evidence = ["\(numbered) numbered datagrams to \(lossy.farAddress), across a link losing \(JSONNumber.text(lossy.lossPercent))% of what arrives there: \(received.count) arrived\(note)",
                        inOrder ? "those that arrived came in order (one link, no reordering on it); UDP promises no order" : "some arrived out of order"]
        return (.measured(false, inOrder ? "no promise (in order on this one link)" : "no: out of order seen", evidence),
                .measured(received.count == numbered, received.count == numbered ? "no loss seen (\(received.count) of \(numbered)); UDP resends nothing" : "no: \(received.count) of \(numbered) arrived", evidence))
    }
}
