import Packets
import Testing
import FrameBuilder
import TestSupport

/// The Internet checksum every header uses, against RFC 1071's worked example and a plain
/// word-by-word loop.
@Suite struct ChecksumTests {
    @Test func rfc1071WorkedExample() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2; the checksum is its complement.
        #expect(InternetChecksum.of([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]) == ~UInt16(0xddf2))
    }

    @Test(arguments: [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1499, 1500, 9001])
    func agreesWithWordByWordSum(length: Int) {
        let data = pattern(length, seed: UInt64(length) + 1)
        #expect(InternetChecksum.of(data) == FrameBuilder.checksum(data))
    }

    @Test func dataWithItsChecksumInPlaceSumsToZero() {
        var data = pattern(100)
        data[10] = 0
        data[11] = 0
        let sum = InternetChecksum.of(data)
        data[10] = UInt8(sum >> 8)
        data[11] = UInt8(sum & 0xFF)
        #expect(InternetChecksum.of(data) == 0)
    }

    @Test func fieldsAddedAsNumbersMatchTheirBytes() {
        var byNumber = InternetChecksum()
        byNumber.add(word: 0x1234)
        byNumber.add(word32: 0xDEAD_BEEF)
        #expect(byNumber.value == InternetChecksum.of([0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF]))
    }
}

/// The 64-bit add-with-carry sum, where carries are most likely: all-ones bytes, every length
/// and every split into even chunks, against the word-by-word loop.
@Suite struct ChecksumCarryTests {
    @Test func allOnesAtEveryLengthAgreesWithWordByWordSum() {
        for length in 0...200 {
            let ones = [UInt8](repeating: 0xFF, count: length)
            #expect(InternetChecksum.of(ones) == FrameBuilder.checksum(ones), "\(length) bytes of 0xFF")
            let high = (0..<length).map { UInt8($0 % 2 == 0 ? 0xFF : 0xFE) }
            #expect(InternetChecksum.of(high) == FrameBuilder.checksum(high), "\(length) bytes of FF FE")
        }
    }

    @Test func evenChunksSumAsOneBuffer() {
        let data = pattern(301, seed: 7)
        for split in stride(from: 0, through: 300, by: 2) {
            var sum = InternetChecksum()
            sum.add(Array(data[..<split]))
            sum.add(Array(data[split...]))
            #expect(sum.value == InternetChecksum.of(data), "split at \(split)")
        }
    }

    @Test func a64BitFieldAddedAsANumberMatchesItsBytes() {
        var byNumber = InternetChecksum()
        byNumber.add(word64: 0xFFFF_FFFF_FFFF_FFFE)
        byNumber.add(word64: 0x0123_4567_89AB_CDEF)
        #expect(byNumber.value == InternetChecksum.of([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]))
    }
}
