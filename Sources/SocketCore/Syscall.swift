#if canImport(Glibc)
import Glibc
#endif

/// The one door to the kernel: every SocketCore system call goes through here.
///
/// A signal that arrives while a call blocks makes it fail with EINTR although nothing is
/// wrong; the call is simply made again. Any other failure becomes a `SocketError` that
/// names the call, so a student never sees a bare `-1`.
@inline(__always)
func syscall<Result: FixedWidthInteger>(
    _ call: SystemCall,
    address: SocketAddress? = nil,
    _ body: () -> Result
) throws(SocketError) -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Errno.current
        if error == .EINTR { continue }
        throw SocketError.system(call: call, errno: error, address: address)
    }
}
