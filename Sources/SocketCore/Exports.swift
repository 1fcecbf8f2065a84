// A socket address holds an IPv4Address or IPv6Address; users of SocketCore get them too.
@_exported import NetworkAddresses
