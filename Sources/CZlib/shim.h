#ifndef SOCKETLAB_CZLIB_SHIM_H
#define SOCKETLAB_CZLIB_SHIM_H
// zlib, for captures stored gzip-compressed (Wireshark's own test files are .pcap.gz; tshark
// reads them as they are). inflateInit2 is a macro Swift cannot call, so it is wrapped here.
#include <zlib.h>

/// inflateInit2 with automatic gzip or zlib header detection (windowBits 15 + 32).
static inline int socketlab_inflate_init(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}
#endif
