// Decoded headers hold IPv4Address and IPv6Address values; users of Packets get them too.
@_exported import NetworkAddresses
