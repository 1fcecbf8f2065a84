/// Typed-throws versions of Array's `withUnsafeBytes`, whose `rethrows` would widen every
/// error to `any Error` and lose the `SocketError` a caller switches over.
extension Array where Element == UInt8 {
    public func withBytes<Result>(
        _ body: (UnsafeRawBufferPointer) throws(SocketError) -> Result
    ) throws(SocketError) -> Result {
        try withUnsafeBytes { buffer in Swift.Result { () throws(SocketError) in try body(buffer) } }.get()
    }

    public mutating func withMutableBytes<Result>(
        _ body: (UnsafeMutableRawBufferPointer) throws(SocketError) -> Result
    ) throws(SocketError) -> Result {
        try withUnsafeMutableBytes { buffer in Swift.Result { () throws(SocketError) in try body(buffer) } }.get()
    }
}
