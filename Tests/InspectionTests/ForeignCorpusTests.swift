import Foundation
import Inspection
import PacketCapture
import Synchronization
import Testing

/// Other packet tools' own test captures (tcpdump's, Wireshark's, gopacket's, libpcap's:
/// `scripts/foreign-corpus.sh` fetches them from the Debian archive into
/// `SOCKETLAB_CORPUS`): real traffic from networks nobody here built, odd encapsulations and
/// files damaged on purpose. For every file tshark reads, every TCP segment's core fields and
/// every handshake must be tshark's. Without the folder the test is skipped.
@Suite(.serialized) struct ForeignCorpusTests {
    static let corpus = ProcessInfo.processInfo.environment["SOCKETLAB_CORPUS"]

    static func files() -> [String] {
        guard let corpus, let walker = FileManager.default.enumerator(atPath: corpus) else { return [] }
        return walker.compactMap { $0 as? String }
            .filter { name in [".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".ntar"].contains { suffix in name.hasSuffix(suffix) } }
            .sorted().map { "\(corpus)/\($0)" }
    }

    /// tshark decrypts WireGuard with keys a pcapng file carries (a decryption secrets block,
    /// as in Wireshark's wireguard-ping-tcp-dsb.pcapng) and finds TCP inside; SocketLab
    /// decrypts nothing, so it is compared with tshark not decrypting either.
    static let noDecryption = ["--disable-protocol", "wg"]

    struct FileResult: Sendable {
        var segments = 0, handshakes = 0
        var differences: [String] = []
    }

    @Test(.enabled(if: corpus != nil)) func everyTCPSegmentAndHandshakeIsTsharks() throws {
        let files = Self.files()
        let results = Mutex([FileResult](repeating: FileResult(), count: files.count))
        // Four at a time: the time is tshark's start-up, not the comparing.
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for index in stride(from: worker, to: files.count, by: 4) {
                var result = FileResult()
                do {
                    let tcp = try InspectorAgreementTests.compare(files[index], tsharkOptions: Self.noDecryption)
                    result.segments = tcp.segments
                    result.differences = tcp.differences
                    if tcp.segments > 0 {
                        let opened = try InspectorAgreementTests.compareHandshakes(files[index])
                        result.handshakes = opened.handshakes
                        result.differences += opened.differences
                    }
                } catch {
                    result.differences = ["\(error)"]
                }
                results.withLock { $0[index] = result }
            }
        }
        let all = results.withLock { $0 }
        let disagreeing = zip(files, all).filter { !$0.1.differences.isEmpty }.map { file, result in
            "\(file): \(result.differences.count) differences, first: \(result.differences.prefix(3).joined(separator: "; "))"
        }
        print("foreign corpus: \(files.count) files, \(all.filter { $0.segments > 0 }.count) with TCP, "
              + "\(all.map(\.segments).reduce(0, +)) segments, \(all.map(\.handshakes).reduce(0, +)) handshakes; \(disagreeing.count) files disagree")
        #expect(disagreeing.isEmpty, "\(disagreeing.joined(separator: "\n"))")
    }
}
