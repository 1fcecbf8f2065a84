#if canImport(Glibc)
import Glibc
#endif

/// `write(2)` until every byte is taken (a pipe or a terminal may take fewer at a time),
/// retrying EINTR; a descriptor that refuses (its reader gone) ends the attempt quietly — the
/// one way the tools write straight to a descriptor (C's stdio globals are not
/// concurrency-safe in Swift 6).
public func writeAll(_ bytes: some Collection<UInt8>, to descriptor: Int32) {
    var rest = Array(bytes)[...]
    while !rest.isEmpty {
        let written = rest.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        rest = rest.dropFirst(written)
    }
}
