import Packets
import Testing
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
