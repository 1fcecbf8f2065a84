/// A file name a peer asked for, checked before it touches the served folder.
///
/// Whoever sends a name decides where bytes land: `../../etc/cron.d/x` or `/root/.ssh/...`
/// written by a receiver that trusted it is the classic file-transfer hole (tftpd and ftpd
/// both had it). So a name is one plain path component: no separator, no `..`, no NUL or
/// control character (a newline would also break the transfer header), not empty, at most
/// 255 bytes (NAME_MAX), and not the receiver's own partial-file pattern.
public struct FileName: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    /// The suffix of the partial file a transfer writes before it renames: `.NAME.part`.
    public static let partialSuffix = ".part"

    public init(_ text: String) throws(FileNameRefusal) {
        guard !text.isEmpty else { throw .empty }
        guard text.utf8.count <= 255 else { throw .tooLong(text.utf8.count) }
        guard !text.utf8.contains(0) else { throw .nul }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { throw .controlCharacter }
        guard !text.hasPrefix("/") else { throw .absolute }
        guard !text.contains("/") && !text.contains("\\") else { throw .separator }
        guard text != "." && text != ".." else { throw .dotDot }
        guard !(text.hasPrefix(".") && text.hasSuffix(Self.partialSuffix)) else { throw .partialName }
        value = text
    }

    /// The hidden name the bytes go to until the digest matches: never the real name, so a
    /// cut or corrupted transfer cannot leave a file that looks complete.
    public var partial: String { "." + value + Self.partialSuffix }

    public var description: String { value }
}

/// Why a name was refused, in words a student can act on.
public enum FileNameRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case empty, tooLong(Int), nul, controlCharacter, absolute, separator, dotDot, partialName

    public var description: String {
        switch self {
        case .empty: "the file name is empty"
        case .tooLong(let bytes): "the file name is \(bytes) bytes; names are at most 255 bytes (NAME_MAX)"
        case .nul: "the file name contains a NUL byte"
        case .controlCharacter: "the file name contains a control character (newline, tab…)"
        case .absolute: "the file name is an absolute path: only a plain name is accepted, the receiver chooses the folder"
        case .separator: "the file name contains a path separator: only a plain name is accepted, the receiver chooses the folder"
        case .dotDot: "the file name is \".\" or \"..\", which name folders, not files"
        case .partialName: "the file name has the form of a partial transfer (.NAME.part), which the receiver keeps for itself"
        }
    }
}
