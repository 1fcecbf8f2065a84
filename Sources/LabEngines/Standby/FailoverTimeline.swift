import NetworkAddresses
import PacketCapture
import Packets
import TextOutput

/// What a capture of a hot-standby pair shows: every advertisement (standby's heartbeats, or
/// VRRP's, so keepalived is measured the same way), every gratuitous ARP, and from them who
/// was master when, each takeover — from the old master's last advertisement to the new
/// master's first gratuitous ARP — beside what VRRP's timing predicts, and each split brain.
/// The facts are decided here once; `text` and `json` only word them. Labcheck 10 and the
/// benchmark read the same numbers.
public struct FailoverTimeline: Sendable {
    public enum Source: String, Sendable { case standby, vrrp }

    public struct Advert: Sendable, Equatable {
        public var frame: Int
        public var time: Double
        /// The heartbeat's name, or for VRRP the sender's address.
        public var sender: String
        public var mac: MACAddress?
        public var address: String
        public var state: StandbyHeartbeat.State
        public var priority: UInt8
        public var intervalMilliseconds: Double
        public var epoch: UInt64
        public var source: Source
    }

    /// A gratuitous ARP, or for IPv6 an unsolicited neighbour advertisement with the
    /// Override flag to all nodes: "this address is at this MAC now".
    public struct Announcement: Sendable, Equatable {
        public var frame: Int
        public var time: Double
        public var address: IPAddress
        public var mac: MACAddress
        /// The machine whose advertisements come from this MAC.
        public var sender: String?
    }

    public struct Takeover: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// The master fell silent (killed, frozen, cut off): 3 × interval + skew.
            case failure
            /// The master said priority 0: one skew.
            case cleanStop = "clean_stop"
            /// The old master was still advertising: a preemption or a split brain's end.
            case handback
            /// The first master of the capture.
            case first
        }
        public var kind: Kind
        public var newMaster: String
        public var oldMaster: String?
        public var lastAdvert: Advert?
        public var announcement: Announcement
        /// The new master's priority and the old master's interval, from their advertisements.
        public var newPriority: UInt8?
        public var intervalMilliseconds: Double?

        public var measuredMilliseconds: Double? { lastAdvert.map { (announcement.time - $0.time) * 1000 } }
        /// What VRRP's timing says the wait is: 3 × interval + skew after a silence, one skew
        /// after priority 0.
        public var predictedMilliseconds: Double? {
            guard let interval = intervalMilliseconds, let priority = newPriority else { return nil }
            let skew = Double(256 - Int(priority)) * interval / 256
            switch kind {
            case .failure: return 3 * interval + skew
            case .cleanStop: return skew
            case .handback, .first: return nil
            }
        }
    }

    public struct SplitBrain: Sendable, Equatable {
        /// When the second master announced itself while the first still ran.
        public var start: Double
        /// When both were heard as master at once (the heartbeats came back).
        public var detected: Double
        public var kept: String
        public var yielded: String
    }

    public private(set) var adverts: [Advert] = []
    public private(set) var announcements: [Announcement] = []
    public private(set) var takeovers: [Takeover] = []
    public private(set) var splitBrains: [SplitBrain] = []
    public private(set) var frames = 0
    /// The master when the capture starts: the first to announce itself, or the sender of
    /// the first master heartbeat when the capture began after its announcement.
    public private(set) var firstMaster: String?

    /// Reads `path` (pcap or pcapng).
    public init(capture path: String) throws(CaptureError) {
        let capture = try CaptureFile(path: path)
        try capture.forEach { frame in
            frames += 1
            let time = Double(frame.timestamp.seconds) + Double(frame.timestamp.nanoseconds) / 1e9
            let packet = frame.decode(capture.linkType)
            var mac: MACAddress?
            if case .ethernet(let ethernet)? = packet.link { mac = ethernet.source }
            if let udp = packet.udp, let source = packet.sourceAddress, udp.capturedPayloadLength == udp.payloadLength,
               udp.payloadOffset + udp.payloadLength <= frame.bytes.count,
               let heartbeat = StandbyHeartbeat(decoding: UnsafeRawBufferPointer(rebasing: frame.bytes[udp.payloadOffset..<udp.payloadOffset + udp.payloadLength])) {
                adverts.append(Advert(frame: frame.number, time: time, sender: heartbeat.name, mac: mac, address: "\(source)",
                                      state: heartbeat.state, priority: heartbeat.priority, intervalMilliseconds: Double(heartbeat.intervalMilliseconds),
                                      epoch: heartbeat.epoch, source: .standby))
            } else if let ip = packet.ipv4, ip.protocol.rawValue == 112, ip.offset + ip.headerLength + 8 <= frame.bytes.count {
                // VRRP (RFC 5798 §5.2): version and type, VRID, priority, count, then v3's
                // 12-bit interval in centiseconds (v2: one byte, seconds).
                let at = ip.offset + ip.headerLength
                let version = frame.bytes[at] >> 4, type = frame.bytes[at] & 0x0F
                guard type == 1, version == 2 || version == 3 else { return }
                let priority = frame.bytes[at + 2]
                let interval = version == 3 ? Double((UInt16(frame.bytes[at + 4] & 0x0F) << 8) | UInt16(frame.bytes[at + 5])) * 10
                    : Double(frame.bytes[at + 5]) * 1000
                adverts.append(Advert(frame: frame.number, time: time, sender: "\(ip.source)", mac: mac, address: "\(ip.source)",
                                      state: .master, priority: priority, intervalMilliseconds: interval, epoch: 0, source: .vrrp))
            } else if case .ethernet(let ethernet)? = packet.link, ethernet.etherType == .arp, ethernet.length + ARPPacket.length <= frame.bytes.count,
                      let arp = ARPPacket(decoding: UnsafeRawBufferPointer(rebasing: frame.bytes[ethernet.length...])), arp.isGratuitous {
                announcements.append(Announcement(frame: frame.number, time: time, address: .v4(arp.senderAddress), mac: arp.senderMAC, sender: nil))
            } else if let icmp = packet.icmpv6, let ip = packet.ipv6, ip.destination == UnsolicitedNeighborAdvertisement.allNodes,
                      case .neighborAdvertisement(let target, _, false, true, let link) = icmp.message, let announcer = link ?? mac {
                announcements.append(Announcement(frame: frame.number, time: time, address: .v6(target), mac: announcer, sender: nil))
            }
        }
        decide()
    }

    /// Names the announcers, then walks the events in time order.
    private mutating func decide() {
        var names: [MACAddress: String] = [:]
        for advert in adverts { if let mac = advert.mac, names[mac] == nil { names[mac] = advert.sender } }
        for index in announcements.indices { announcements[index].sender = names[announcements[index].mac] }
        var master: String?
        var masterSince = -Double.infinity
        var lastSeen: [String: Advert] = [:]
        var splitOpen = false
        var ai = 0
        // Each announcement after the advertisements before it; then the advertisements after the last.
        for index in 0...announcements.count {
            let until = index < announcements.count ? announcements[index].time : .infinity
            while ai < adverts.count, adverts[ai].time <= until {
                let advert = adverts[ai]
                // A capture started after the master announced itself: its heartbeats say who it is.
                if master == nil, advert.state == .master, advert.priority > 0 {
                    master = advert.sender
                    firstMaster = advert.sender
                }
                noteAdvert(advert, master: master, masterSince: masterSince, lastSeen: &lastSeen, splitOpen: &splitOpen)
                ai += 1
            }
            guard index < announcements.count, let sender = announcements[index].sender else { continue }
            let announcement = announcements[index]
            // A second gratuitous ARP of the same master (sent one interval later) is no takeover.
            if sender == master { continue }
            let old = master
            let last = old.flatMap { lastSeen[$0] }
            let interval = last?.intervalMilliseconds ?? adverts.first(where: { $0.sender == sender })?.intervalMilliseconds
            let kind: Takeover.Kind
            if old == nil {
                kind = .first
                firstMaster = sender
            } else if let last, last.priority == 0 {
                kind = .cleanStop
            } else if let last, let interval, (announcement.time - last.time) * 1000 < interval * 1.5 {
                kind = .handback
            } else {
                kind = .failure
            }
            let newPriority = adverts.first(where: { $0.sender == sender && $0.time >= announcement.time && $0.priority > 0 })?.priority
                ?? adverts.last(where: { $0.sender == sender && $0.priority > 0 })?.priority
            takeovers.append(Takeover(kind: kind, newMaster: sender, oldMaster: old, lastAdvert: last, announcement: announcement,
                                      newPriority: newPriority, intervalMilliseconds: interval))
            master = sender
            masterSince = announcement.time
            splitOpen = false
        }
    }

    /// One advertisement: the last seen of its sender; a master's advertisement from another
    /// machine than the one that announced last, after a takeover that was not a handback,
    /// is a split brain coming to light.
    private mutating func noteAdvert(_ advert: Advert, master: String?, masterSince: Double,
                                     lastSeen: inout [String: Advert], splitOpen: inout Bool) {
        defer { lastSeen[advert.sender] = advert }
        guard let master, advert.sender != master, advert.state == .master, advert.priority > 0, !splitOpen,
              let takeover = takeovers.last, takeover.kind == .failure, takeover.oldMaster == advert.sender,
              let before = lastSeen[advert.sender], before.epoch == advert.epoch || advert.source == .vrrp,
              let ours = adverts.last(where: { $0.sender == master && $0.priority > 0 && $0.time <= advert.time })?.priority else { return }
        splitOpen = true
        let kept = advert.priority > ours ? advert.sender : master
        splitBrains.append(SplitBrain(start: masterSince, detected: advert.time, kept: kept, yielded: kept == master ? advert.sender : master))
    }

    /// The priority each machine advertised (the highest seen, priority 0 aside).
    public var priorities: [String: UInt8] {
        var result: [String: UInt8] = [:]
        for advert in adverts where advert.priority > 0 { result[advert.sender] = max(result[advert.sender] ?? 0, advert.priority) }
        return result
    }

    /// The interval the first master advertised, and the median gap between its heartbeats.
    public var advertisedIntervalMilliseconds: Double? { adverts.first { $0.priority > 0 }?.intervalMilliseconds }
    public var measuredIntervalMilliseconds: Double? {
        var gaps: [Double] = []
        var last: [String: Double] = [:]
        for advert in adverts where advert.priority > 0 && advert.state == .master {
            if let previous = last[advert.sender] { gaps.append((advert.time - previous) * 1000) }
            last[advert.sender] = advert.time
        }
        guard !gaps.isEmpty else { return nil }
        return gaps.sorted()[gaps.count / 2]
    }

    public var text: String {
        var lines = ["\(frames) frames: \(adverts.count) advertisements, \(announcements.count) gratuitous ARPs"]
        if let advertised = advertisedIntervalMilliseconds {
            lines.append("interval: \(JSON.fixed(advertised, places: 0)) ms advertised, \(measuredIntervalMilliseconds.map { JSON.fixed($0, places: 1) } ?? "?") ms measured (median gap)")
        }
        if let firstMaster { lines.append("master when the capture starts: \(firstMaster)") }
        lines.append("priorities: " + priorities.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for takeover in takeovers {
            let at = StandbyEvent.clock(takeover.announcement.time)
            var line = "\(at) frame \(takeover.announcement.frame): \(takeover.newMaster) is master"
            switch takeover.kind {
            case .first: line += " (the first in the capture)"
            case .failure, .cleanStop, .handback:
                let why = takeover.kind == .failure ? "\(takeover.oldMaster ?? "?") fell silent" : takeover.kind == .cleanStop ? "\(takeover.oldMaster ?? "?") said priority 0" : "\(takeover.oldMaster ?? "?") hands back"
                line += ": \(why)"
                if let measured = takeover.measuredMilliseconds, let last = takeover.lastAdvert {
                    line += "; \(JSON.fixed(measured, places: 1)) ms after its last advertisement (frame \(last.frame))"
                }
                if let predicted = takeover.predictedMilliseconds { line += ", predicted \(JSON.fixed(predicted, places: 1)) ms" }
            }
            lines.append(line)
        }
        for split in splitBrains {
            lines.append("\(StandbyEvent.clock(split.detected)) split brain: both master since \(StandbyEvent.clock(split.start)); \(split.yielded) yields to \(split.kept)")
        }
        return lines.joined(separator: "\n")
    }

    public var json: JSON {
        .object([
            ("kind", "failover_timeline"), ("frames", .integer(frames)), ("advertisements", .integer(adverts.count)),
            ("gratuitous_arps", .integer(announcements.count)),
            ("interval_ms", .optional(advertisedIntervalMilliseconds, places: 3)), ("measured_interval_ms", .optional(measuredIntervalMilliseconds, places: 3)),
            ("first_master", .optional(firstMaster)),
            ("priorities", .object(priorities.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int($0.value))) })),
            ("takeovers", .array(takeovers.map { takeover in
                .object([("kind", .string(takeover.kind.rawValue)), ("new_master", .string(takeover.newMaster)), ("old_master", .optional(takeover.oldMaster)),
                         ("time", .decimal(takeover.announcement.time, places: 6)), ("arp_frame", .integer(takeover.announcement.frame)),
                         ("last_advert_frame", .optional(takeover.lastAdvert?.frame)), ("measured_ms", .optional(takeover.measuredMilliseconds, places: 3)),
                         ("predicted_ms", .optional(takeover.predictedMilliseconds, places: 3))])
            })),
            ("split_brains", .array(splitBrains.map { split in
                .object([("start", .decimal(split.start, places: 6)), ("detected", .decimal(split.detected, places: 6)),
                         ("kept", .string(split.kept)), ("yielded", .string(split.yielded))])
            })),
        ])
    }
}
