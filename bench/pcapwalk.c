/* The C baseline for decoding: walk a capture with libpcap and decode the same headers
 * SocketLab's Packets does — link (Ethernet with VLAN tags, Linux cooked v1/v2, NULL, raw),
 * IPv4 with its header checksum, IPv6 with extension headers, TCP with its options and its
 * checksum over the pseudo-header, UDP, ICMP — the way a careful C programmer would, filling
 * one struct per frame with every field (as Packets fills a Packet), not just counting.
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

/* Every field Packets keeps for the common frame (Ethernet, IPv4, TCP), decoded per frame. */
struct decoded {
    uint64_t eth_dst, eth_src; uint16_t eth_type;
    uint8_t ip_version, ip_hl, dscp, ecn, ttl, proto, df, mf; uint16_t ip_len, ip_id, frag, ip_sum;
    uint32_t ip_src, ip_dst; int ip_sum_ok;
    uint16_t sport, dport, win, tcp_sum, urg, flags; uint32_t seq, ack; int tcp_hl, tcp_len, tcp_sum_ok;
    int has_mss, has_ws, sack_perm, has_ts, sack_blocks; uint16_t mss; uint8_t ws; uint32_t tsval, tsecr;
    uint8_t options[40]; int option_len;
};
static struct decoded packet;

static long frames, tcp, udp, icmp, other, malformed, payload, bad_checksums;
static uint64_t checksum_sink;

static void transport(const uint8_t *p, long avail, int proto, long length, uint64_t pseudo) {
    if (proto == 6) {
        if (avail < 20) { malformed++; return; }
        int hl = (p[12] >> 4) * 4;
        if (hl < 20 || hl > length || hl > avail) { malformed++; return; }
        struct decoded *d = &packet;
        d->sport = be16(p); d->dport = be16(p + 2);
        d->seq = be32(p + 4); d->ack = be32(p + 8);
        d->flags = be16(p + 12) & 0x1ff; d->win = be16(p + 14);
        d->tcp_sum = be16(p + 16); d->urg = be16(p + 18); d->tcp_hl = hl; d->tcp_len = (int)(length - hl);
        d->has_mss = d->has_ws = d->sack_perm = d->has_ts = d->sack_blocks = 0;
        d->option_len = hl - 20;
        memcpy(d->options, p + 20, (size_t)d->option_len);
        for (int i = 20; i < hl;) {            /* options: MSS, wscale, SACK, TS */
            uint8_t kind = p[i];
            if (kind == 0) break;
            if (kind == 1) { i++; continue; }
            if (i + 1 >= hl || p[i + 1] < 2 || i + p[i + 1] > hl) { malformed++; break; }
            if (kind == 2 && p[i + 1] == 4) { d->has_mss = 1; d->mss = be16(p + i + 2); }
            else if (kind == 3 && p[i + 1] == 3) { d->has_ws = 1; d->ws = p[i + 2]; }
            else if (kind == 4 && p[i + 1] == 2) d->sack_perm = 1;
            else if (kind == 5 && (p[i + 1] - 2) % 8 == 0) d->sack_blocks = (p[i + 1] - 2) / 8;
            else if (kind == 8 && p[i + 1] == 10) { d->has_ts = 1; d->tsval = be32(p + i + 2); d->tsecr = be32(p + i + 6); }
            i += p[i + 1];
        }
        d->tcp_sum_ok = avail >= length ? fold(sum_bytes(p, (size_t)length, pseudo + __builtin_bswap16((uint16_t)length))) == 0 : -1;
        if (d->tcp_sum_ok == 0) bad_checksums++;
        checksum_sink += d->sport ^ d->dport ^ d->seq ^ d->ack ^ d->flags ^ d->win ^ d->mss ^ d->tsval;
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
    memset(&packet, 0, sizeof packet); /* a fresh record per frame, as Packets resets its Packet */
    switch (linktype) {
    case DLT_EN10MB:
        if (n < 14) { malformed++; return; }
        packet.eth_dst = (uint64_t)be16(p) << 32 | be32(p + 2);
        packet.eth_src = (uint64_t)be16(p + 6) << 32 | be32(p + 8);
        type = be16(p + 12); off = 14;
        while ((type == 0x8100 || type == 0x88a8) && n >= off + 4) { type = be16(p + off + 2); off += 4; }
        packet.eth_type = type;
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
        struct decoded *d = &packet;
        d->ip_version = 4; d->ip_hl = (uint8_t)ihl; d->dscp = ip[1] >> 2; d->ecn = ip[1] & 3;
        d->ip_len = (uint16_t)total; d->ip_id = be16(ip + 4); d->df = (ip[6] >> 6) & 1; d->mf = (ip[6] >> 5) & 1;
        d->frag = (be16(ip + 6) & 0x1fff) * 8; d->ttl = ip[8]; d->proto = ip[9]; d->ip_sum = be16(ip + 10);
        d->ip_src = be32(ip + 12); d->ip_dst = be32(ip + 16);
        d->ip_sum_ok = fold(sum_bytes(ip, (size_t)ihl, 0)) == 0;
        if (!d->ip_sum_ok) bad_checksums++;
        checksum_sink += d->ttl ^ d->ip_id;
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
