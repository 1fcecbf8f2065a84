#ifndef SOCKETLAB_CPCAP_SHIM_H
#define SOCKETLAB_CPCAP_SHIM_H
// The whole of libpcap's public API; the Capture layer wraps it in Swift types.
#include <pcap/pcap.h>
#endif
