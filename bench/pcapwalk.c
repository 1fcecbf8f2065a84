/* The C baseline for decoding: walk a capture with libpcap and decode the same headers
 * SocketLab's Packets does — link (Ethernet with VLAN tags, Linux cooked v1/v2, NULL, raw),
 * IPv4 with its header checksum, IPv6 with extension headers, TCP with its options and its
 * checksum over the pseudo-header, UDP, ICMP — the way a careful C programmer would.
 *   pcapwalk FILE   → "N frames: T TCP, U UDP, I ICMP, O other, M malformed; P payload bytes" */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* RFC 1071 over 64-bit loads, as fast as the Swift one. */
static uint64_t sum_bytes(const uint8_t *p, size_t n, uint64_t sum) {
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); sum += (w & 0xffffffff) + (w >> 32); p += 8; n -= 8; }
    while (n >= 2) { uint16_t w; memcpy(&w, p, 2); sum += w; p += 2; n -= 2; }
    if (n) sum += p[0]; /* little-endian: the odd byte is the high byte of a swapped word */
    return sum;
}
static uint16_t fold(uint64_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static long frames, tcp, udp, icmp, other, malformed, payload, bad_checksums;
static uint64_t checksum_sink;

static void transport(const uint8_t *p, long avail, int proto, long length, uint64_t pseudo) {
    if (proto == 6) {
        if (avail < 20) { malformed++; return; }
        int hl = (p[12] >> 4) * 4;
        if (hl < 20 || hl > length || hl > avail) { malformed++; return; }
        uint16_t sport = be16(p), dport = be16(p + 2);
        uint32_t seq = be32(p + 4), ack = be32(p + 8);
        uint16_t flags = be16(p + 12) & 0x1ff, win = be16(p + 14);
        checksum_sink += sport ^ dport ^ seq ^ ack ^ flags ^ win;
        for (int i = 20; i < hl;) {            /* options: MSS, wscale, SACK-permitted, TS */
            uint8_t kind = p[i];
            if (kind == 0) break;
            if (kind == 1) { i++; continue; }
            if (i + 1 >= hl || p[i + 1] < 2 || i + p[i + 1] > hl) { malformed++; break; }
            if (kind == 2 && p[i + 1] == 4) checksum_sink += be16(p + i + 2);
            else if (kind == 3 && p[i + 1] == 3) checksum_sink += p[i + 2];
            else if (kind == 8 && p[i + 1] == 10) checksum_sink += be32(p + i + 2) ^ be32(p + i + 6);
            i += p[i + 1];
        }
        if (avail >= length && fold(sum_bytes(p, (size_t)length, pseudo + __builtin_bswap16((uint16_t)length))) != 0) bad_checksums++;
        tcp++; payload += length - hl;
    } else if (proto == 17) {
        if (avail < 8) { malformed++; return; }
        checksum_sink += be16(p) ^ be16(p + 2);
        udp++; payload += be16(p + 4) - 8;
    } else if (proto == 1 || proto == 58) {
        if (avail < 8) { malformed++; return; }
        checksum_sink += p[0] ^ p[1];
        icmp++;
    } else other++;
}

static void frame(u_char *user, const struct pcap_pkthdr *h, const uint8_t *p) {
    int linktype = *(int *)user;
    long n = h->caplen, off = 0;
    uint16_t type = 0;
    frames++;
    switch (linktype) {
    case DLT_EN10MB:
        if (n < 14) { malformed++; return; }
        type = be16(p + 12); off = 14;
        while ((type == 0x8100 || type == 0x88a8) && n >= off + 4) { type = be16(p + off + 2); off += 4; }
        break;
    case DLT_LINUX_SLL: if (n < 16) { malformed++; return; } type = be16(p + 14); off = 16; break;
    case DLT_LINUX_SLL2: if (n < 20) { malformed++; return; } type = be16(p); off = 20; break;
    case DLT_NULL: if (n < 4) { malformed++; return; } type = p[0] == 2 ? 0x0800 : 0x86dd; off = 4; break;
    default: if (n < 1) { malformed++; return; } type = (p[0] >> 4) == 6 ? 0x86dd : 0x0800; break;
    }
    const uint8_t *ip = p + off;
    long avail = n - off;
    if (type == 0x0800) {
        if (avail < 20 || (ip[0] >> 4) != 4) { malformed++; return; }
        int ihl = (ip[0] & 15) * 4, total = be16(ip + 2);
        if (ihl < 20 || avail < ihl || total < ihl) { malformed++; return; }
        if (fold(sum_bytes(ip, (size_t)ihl, 0)) != 0) bad_checksums++;
        checksum_sink += ip[8] ^ be16(ip + 4);
        if (be16(ip + 6) & 0x1fff) { other++; return; }
        uint64_t pseudo = sum_bytes(ip + 12, 8, 0) + __builtin_bswap16(ip[9]);
        transport(ip + ihl, avail - ihl, ip[9], total - ihl, pseudo);
    } else if (type == 0x86dd) {
        if (avail < 40 || (ip[0] >> 4) != 6) { malformed++; return; }
        int next = ip[6]; long pos = 40, end = 40 + be16(ip + 4);
        while (next == 0 || next == 43 || next == 44 || next == 60) {
            if (avail < pos + 8) { malformed++; return; }
            long len = next == 44 ? 8 : (ip[pos + 1] + 1) * 8;
            next = ip[pos]; pos += len;
            if (pos > end) { malformed++; return; }
        }
        uint64_t pseudo = sum_bytes(ip + 8, 32, 0) + __builtin_bswap16((uint16_t)next);
        transport(ip + pos, avail - pos, next, end - pos, pseudo);
    } else other++;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: pcapwalk FILE\n"); return 2; }
    char error[PCAP_ERRBUF_SIZE];
    pcap_t *handle = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, error);
    if (!handle) { fprintf(stderr, "pcapwalk: %s\n", error); return 2; }
    int linktype = pcap_datalink(handle);
    if (pcap_loop(handle, -1, frame, (u_char *)&linktype) == -1) { fprintf(stderr, "pcapwalk: %s\n", pcap_geterr(handle)); return 2; }
    printf("%ld frames: %ld TCP, %ld UDP, %ld ICMP, %ld other, %ld malformed; %ld payload bytes (%ld bad checksums, %llu)\n",
           frames, tcp, udp, icmp, other, malformed, payload, bad_checksums, (unsigned long long)(checksum_sink & 0xff));
    pcap_close(handle);
    return 0;
}
