#if canImport(Glibc)
import Glibc
#endif
import PacketCapture
import Packets
import TextOutput

/// The bytes the inspector is about to print. A million JSON lines built as Swift strings and
/// printed one by one cost more than everything else the inspector does, so the renderers
/// append UTF-8 straight into one buffer, numbers and addresses formatted in place, and the
/// buffer goes out with one write per 64 KiB (or per frame in live mode, where a student is
/// watching).
public struct OutputBuffer {
    /// The bytes live in memory this type manages: appending to a Swift array checks
    /// uniqueness and capacity on every byte, which cost more than the formatting itself.
    /// A copy of an `OutputBuffer` shares the storage (it is never copied in practice).
    final class Storage {
        var base: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count = 0

        init(capacity: Int) {
            base = .allocate(capacity: capacity)
            self.capacity = capacity
        }

        deinit { base.deallocate() }

        @inline(__always) func reserve(_ more: Int) {
            if count + more > capacity { grow(count + more) }
        }

        func grow(_ needed: Int) {
            let newCapacity = max(needed, capacity * 2)
            let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newBase.update(from: base, count: count)
            base.deallocate()
            base = newBase
            capacity = newCapacity
        }
    }

    let storage = Storage(capacity: 1 << 17)

    public init() {}

    /// A copy of what is waiting to be written.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage.base, count: storage.count)) }
    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.count == 0 }

    /// Forgets what was written, without writing it.
    public mutating func clear() { storage.count = 0 }

    @inline(__always)
    mutating func raw(_ buffer: UnsafeRawBufferPointer) {
        guard let source = buffer.baseAddress, !buffer.isEmpty else { return }
        storage.reserve(buffer.count)
        UnsafeMutableRawPointer(storage.base + storage.count).copyMemory(from: source, byteCount: buffer.count)
        storage.count += buffer.count
    }

    public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { raw(UnsafeRawBufferPointer($0)) }
    }

    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { raw(UnsafeRawBufferPointer($0)) }
    }

    /// One line of text and its newline.
    public mutating func line(_ text: String) {
        append(text)
        byte(UInt8(ascii: "\n"))
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        storage.reserve(1)
        storage.base[storage.count] = value
        storage.count += 1
    }

    /// A decimal number, without going through a String.
    @inline(__always)
    mutating func number(_ value: some BinaryInteger) {
        if value < 0 {
            byte(UInt8(ascii: "-"))
            decimal(UInt64(value.magnitude))
        } else {
            decimal(UInt64(value))
        }
    }

    /// The digits written from the least significant up, in place: dividing by the constant 10
    /// compiles to a multiplication, where dividing by a running power of ten (as this did)
    /// was a hardware division per digit — two dozen numbers per JSON line.
    mutating func decimal(_ value: UInt64) {
        var digits = 1
        var bound: UInt64 = 10
        while digits < 20 && value >= bound {
            digits += 1
            bound &*= 10
        }
        storage.reserve(digits)
        var at = storage.base + storage.count + digits
        var rest = value
        repeat {
            at -= 1
            at.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        storage.count += digits
    }

    /// `count` copies of `value` (the padding of a column).
    mutating func repeated(_ value: UInt8, count: Int) {
        guard count > 0 else { return }
        storage.reserve(count)
        (storage.base + storage.count).initialize(repeating: value, count: count)
        storage.count += count
    }

    /// A number, or `null`.
    mutating func optional(_ value: (some BinaryInteger)?) {
        if let value { number(value) } else { append("null") }
    }

    /// `digits` decimal digits with leading zeros (the fraction of a timestamp).
    mutating func padded(_ value: UInt32, digits: Int) {
        guard digits > 0 else { return }
        storage.reserve(digits)
        var at = storage.base + storage.count + digits
        var rest = value
        for _ in 0..<digits {
            at -= 1
            at.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
        storage.count += digits
    }

    /// `seconds.nanoseconds`, as tshark's `frame.time_epoch`.
    mutating func timestamp(_ time: Timestamp) {
        guard !time.fractionOverflows, time.seconds >= 0 else { return append(time.description) }
        number(time.seconds)
        byte(UInt8(ascii: "."))
        padded(time.nanoseconds, digits: 9)
    }

    /// An address as tcpdump and tshark write it; IPv4 without building a String.
    mutating func address(_ address: IPAddress) {
        switch address {
        case .v4(let v4):
            let value = v4.value
            number(value >> 24)
            byte(UInt8(ascii: "."))
            number(value >> 16 & 0xff)
            byte(UInt8(ascii: "."))
            number(value >> 8 & 0xff)
            byte(UInt8(ascii: "."))
            number(value & 0xff)
        case .v6(let v6):
            append(v6.description)
        }
    }

    /// A JSON string literal (RFC 8259 §7), escaped by `JSONEscape`, the rule `JSON` uses too.
    mutating func quoted(_ text: String) {
        byte(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where JSONEscape.needed(byte) {
                raw(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[start..<i])))
                start = i + 1
                JSONEscape.write(byte) { self.byte($0) }
            }
            raw(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[start...])))
        }
        byte(UInt8(ascii: "\""))
    }

    /// Writes everything to standard output (or `descriptor`) and empties the buffer. Returns false when the
    /// reader has gone (a closed pipe: `inspector read … | head`).
    @discardableResult
    public mutating func flush(to descriptor: Int32 = 1) -> Bool {
        defer { storage.count = 0 }
        var offset = 0
        while offset < storage.count {
            let written = write(descriptor, storage.base + offset, storage.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Flushes once enough has gathered to make the write worth a system call.
    @discardableResult
    public mutating func flushIfFull(to descriptor: Int32 = 1) -> Bool {
        storage.count >= 1 << 16 ? flush(to: descriptor) : true
    }
}
