#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// The processes a program left behind, found in /proc. A student's server started through a
/// shell may put itself in the background (`… &`), start a session of its own (`setsid`) or
/// fork twice; stopping its process group then misses it, and it keeps the port. Everything it
/// started is found by three marks — ancestry, session, and a variable in the environment it
/// was given — and with `becomeSubreaper` the escapees become this process's children too.
public enum ProcessTree {
    struct Entry {
        var pid: pid_t
        var parent: pid_t
        var session: pid_t
        /// Exited, waiting to be reaped: nothing to stop.
        var isZombie: Bool
    }

    /// Makes this process the reaper of its orphaned descendants (prctl PR_SET_CHILD_SUBREAPER).
    @discardableResult
    public static func becomeSubreaper() -> Bool { socketlab_become_subreaper() == 0 }

    /// Every process now, from /proc/N/stat.
    static func all() -> [Entry] {
        guard let folder = opendir("/proc") else { return [] }
        defer { closedir(folder) }
        var entries: [Entry] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = pid_t(name), let stat = read("/proc/\(pid)/stat") else { continue }
            // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses.
            guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { continue }
            let fields = stat[(close + 2)...].split(separator: UInt8(ascii: " "))
            guard fields.count > 3, let parent = pid_t(String(decoding: fields[1], as: UTF8.self)),
                  let session = pid_t(String(decoding: fields[3], as: UTF8.self)) else { continue }
            entries.append(Entry(pid: pid, parent: parent, session: session, isZombie: fields[0].first == UInt8(ascii: "Z")))
        }
        return entries
    }

    /// The processes `root` started that still run, however they left it: its descendants, the
    /// members of its session, and the processes whose environment carries `marker` (`NAME=VALUE`).
    /// With `reaper`, its children count too, but for `ours`: the programs it started itself
    /// (other `ChildProcess`es), which are not orphans adopted from `root`.
    public static func leftBehind(by root: pid_t, marker: String?, includeChildrenOf reaper: pid_t? = nil,
                                  ours: () -> Set<pid_t> = { [] }) -> [pid_t] {
        let entries = all()
        // Asked after /proc was read, so that a program started meanwhile is in both.
        let ours = ours()
        var children: [pid_t: [pid_t]] = [:]
        for entry in entries { children[entry.parent, default: []].append(entry.pid) }
        var found = Set<pid_t>()
        var queue = [root] + (reaper.map { (children[$0] ?? []).filter { !ours.contains($0) } } ?? [])
        while let next = queue.popLast() {
            guard found.insert(next).inserted else { continue }
            queue += children[next] ?? []
        }
        for entry in entries where entry.session == root { found.insert(entry.pid) }
        if let marker {
            let needle = Array(marker.utf8)
            for entry in entries where !found.contains(entry.pid) {
                if let environment = read("/proc/\(entry.pid)/environ"),
                   environment.split(separator: 0).contains(where: { $0.elementsEqual(needle) }) {
                    found.insert(entry.pid)
                }
            }
        }
        // Only processes that exist and still run: `root` itself may be gone or a zombie.
        let running = Set(entries.filter { !$0.isZombie }.map(\.pid))
        found.remove(getpid())
        return found.intersection(running).sorted()
    }

    /// Sends SIGKILL to everything `root` left behind until nothing is left (at most `limit`),
    /// reaping what is ours; returns how many processes it killed.
    @discardableResult
    public static func killAll(leftBy root: pid_t, marker: String?, includeChildrenOf reaper: pid_t? = nil,
                               ours: () -> Set<pid_t> = { [] }, limit: Duration = .seconds(2)) -> Int {
        var killed = Set<pid_t>()
        let deadline = ContinuousClock.now + limit
        // Done after two empty looks 50 ms apart: a parent killed in the middle of a fork can
        // leave a child that appears (and calls setsid) just after one look.
        var emptyLooks = 0
        while ContinuousClock.now < deadline {
            let alive = leftBehind(by: root, marker: marker, includeChildrenOf: reaper, ours: ours)
            if alive.isEmpty {
                emptyLooks += 1
                if emptyLooks == 2 { break }
                usleep(50_000)
                continue
            }
            emptyLooks = 0
            for pid in alive {
                kill(pid, SIGKILL)
                killed.insert(pid)
            }
            usleep(10_000)
            // Reap the ones that are ours (orphans adopted as subreaper), and only those: a
            // wait for any child would take another ChildProcess's exit status.
            var status: Int32 = 0
            for pid in killed { _ = waitpid(pid, &status, WNOHANG) }
        }
        return killed.count
    }

    /// A small /proc file, whole (they report size 0, so read until EOF).
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            bytes += chunk[..<got]
        }
        return bytes
    }
}
