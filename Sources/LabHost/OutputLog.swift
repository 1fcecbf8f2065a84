#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Foundation
import Synchronization
import TextOutput

/// Where a child program's standard output and error go: a pipe that a thread of ours copies
/// into a file, at most `limit` bytes of it (a student's server printing `yes` would otherwise
/// write a gigabyte a second into the student's folder); the rest is counted and dropped, and
/// the file ends with a line that says how much. The file is opened with `FreshFile` (never
/// through a symbolic link; a new name when `fresh` and the name is taken).
public final class OutputLog: Sendable {
    /// Where the output went.
    public let path: String
    /// The write end, for `ChildProcess(output:)`; closed here once the child has it.
    public let writeDescriptor: Int32
    public let limit: Int
    private let state = Mutex<(kept: [UInt8], dropped: Int, ended: Bool)>(([], 0, false))
    private let done = DispatchSemaphore(value: 0)

    public init(path: String, mode: FreshFile.Mode = .fresh, limit: Int = 4 << 20) throws(HostError) {
        let opened: (descriptor: Int32, path: String)
        do {
            opened = try FreshFile.open(path, mode: mode)
        } catch {
            throw .badValue(error.description)
        }
        var fds: [Int32] = [-1, -1]
        guard socketlab_pipe_cloexec(&fds) == 0 else {
            close(opened.descriptor)
            throw .spawnFailed(program: "a log pipe", errno: .current)
        }
        self.path = opened.path
        self.limit = limit
        writeDescriptor = fds[1]
        let (readEnd, file) = (fds[0], opened.descriptor)
        Thread.detachNewThread { [self] in
            var chunk = [UInt8](repeating: 0, count: 65_536)
            var written = 0
            while true {
                let got = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { break }
                let keep = max(0, min(got, limit - written))
                if keep > 0 {
                    _ = chunk.withUnsafeBytes { write(file, $0.baseAddress, keep) }
                    written += keep
                }
                state.withLock {
                    $0.kept += chunk[..<keep]
                    $0.dropped += got - keep
                }
            }
            let dropped = state.withLock { $0.dropped }
            if dropped > 0 {
                let note = Array("\n[labcheck: \(dropped) more bytes of output were dropped; the log keeps the first \(limit)]\n".utf8)
                _ = note.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
            }
            close(readEnd)
            close(file)
            state.withLock { $0.ended = true }
            done.signal()
        }
    }

    /// Closes our copy of the write end, once the child holds its own: the log ends when the
    /// last program writing to it does.
    public func childStarted() { close(writeDescriptor) }

    /// What was kept so far.
    public var text: String { String(decoding: state.withLock { $0.kept }, as: UTF8.self) }
    public var droppedBytes: Int { state.withLock { $0.dropped } }

    /// The last `count` lines (a traceback, for a server that crashed).
    public func tail(_ count: Int) -> [String] {
        text.split(separator: "\n").suffix(count).map(String.init)
    }

    /// Waits until the output holds `marker` (tcpdump's "listening on"), at most `timeout`.
    public func waitFor(_ marker: String, timeout: Duration = .seconds(10)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if text.contains(marker) { return true }
            if state.withLock({ $0.ended }) { return text.contains(marker) }
            usleep(20_000)
        }
        return false
    }

    /// Waits (at most `timeout`) for every writer to be gone and the file complete.
    public func finish(timeout: Duration = .seconds(2)) {
        _ = done.wait(timeout: .now() + Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
    }
}
