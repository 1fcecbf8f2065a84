/* The C baseline for ipc-compare (`make bench`): the same workload through the same
 * mechanisms, written as a C programmer would — fork() instead of a spawned peer, the calls
 * straight from libc — so the ratio shows what ipc-compare's Swift costs.
 *   ipcbench MECHANISM ROUND_TRIPS WARMUP SCALE [PARENT_CPU CHILD_CPU]
 * Mechanisms: pipe fifo socketpair-stream socketpair-dgram socketpair-seqpacket unix-stream
 * unix-dgram unix-stream-abstract unix-dgram-abstract tcp4 tcp6 udp4 udp6.
 * Prints one line: MECHANISM p50_1B_us p99_1B_us p50_100B_us bytes/s at 100 B, 4 KiB, 64 KiB,
 * 1 MiB (0 where the mechanism cannot carry the message whole). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

static const char *mech;
static int boundaries; /* datagram or seqpacket: one read per message */
static int lossy;      /* UDP: credit-based flow */
static int rfd = -1, wfd = -1;
static char dir[64];
static int owner; /* the parent's pid: both processes name the abstract sockets after it */

static void die(const char *what) { fprintf(stderr, "ipcbench %s: %s: %s\n", mech, what, strerror(errno)); exit(1); }
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
static void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static void send_message(const char *buffer, size_t size) {
    size_t done = 0;
    do {
        ssize_t n = write(wfd, buffer + done, size - done);
        if (n < 0) { if (errno == EINTR) continue; die("write"); }
        done += n;
    } while (done < size);
}
static size_t receive_message(char *buffer, size_t size, size_t capacity) {
    if (boundaries) {
        ssize_t n;
        do { n = read(rfd, buffer, capacity); } while (n < 0 && errno == EINTR);
        if (n < 0) die("read");
        return n;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(rfd, buffer + done, size - done);
        if (n < 0) { if (errno == EINTR) continue; die("read"); }
        if (n == 0) { fprintf(stderr, "ipcbench %s: EOF\n", mech); exit(1); }
        done += n;
    }
    return done;
}

static void sockaddr_for(struct sockaddr_storage *s, socklen_t *len, const char *name, int abstract) {
    struct sockaddr_un *u = (struct sockaddr_un *)s;
    memset(s, 0, sizeof *s);
    u->sun_family = AF_UNIX;
    if (abstract) {
        u->sun_path[0] = 0;
        snprintf(u->sun_path + 1, sizeof u->sun_path - 1, "ipcbench-%d-%s", owner, name);
        *len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(u->sun_path + 1);
    } else {
        snprintf(u->sun_path, sizeof u->sun_path, "%s/%s", dir, name);
        *len = sizeof *u;
    }
}

/* Both processes' ends. The parent calls it before fork() for the inherited mechanisms and
 * for every listening or bound socket; `child_side` makes the child's end afterwards. */
static int listener = -1, parent_sock = -1;
static struct sockaddr_storage parent_addr;
static socklen_t parent_len;
static int family_of(void) { return strcmp(mech, "tcp6") == 0 || strcmp(mech, "udp6") == 0 ? AF_INET6 : AF_INET; }
static void loopback(struct sockaddr_storage *s, socklen_t *len, int family) {
    memset(s, 0, sizeof *s);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)s;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)s;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        *len = sizeof *a;
    }
}

static int child_rfd, child_wfd;
static void parent_prepare(void) {
    int one = 1;
    if (strcmp(mech, "pipe") == 0) {
        int a[2], b[2];
        if (pipe(a) || pipe(b)) die("pipe");
        wfd = a[1]; child_rfd = a[0];
        rfd = b[0]; child_wfd = b[1];
    } else if (strncmp(mech, "socketpair-", 11) == 0) {
        int type = strcmp(mech, "socketpair-stream") == 0 ? SOCK_STREAM : strcmp(mech, "socketpair-dgram") == 0 ? SOCK_DGRAM : SOCK_SEQPACKET;
        int sv[2];
        if (socketpair(AF_UNIX, type, 0, sv)) die("socketpair");
        rfd = wfd = sv[0];
        child_rfd = child_wfd = sv[1];
    } else if (strcmp(mech, "fifo") == 0) {
        char a[128], b[128];
        snprintf(a, sizeof a, "%s/to", dir);
        snprintf(b, sizeof b, "%s/from", dir);
        if (mkfifo(a, 0600) || mkfifo(b, 0600)) die("mkfifo");
    } else if (strcmp(mech, "unix-stream") == 0 || strcmp(mech, "unix-stream-abstract") == 0) {
        listener = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_for(&parent_addr, &parent_len, "stream", strstr(mech, "abstract") != NULL);
        if (bind(listener, (struct sockaddr *)&parent_addr, parent_len) || listen(listener, 1)) die("bind/listen");
    } else if (strcmp(mech, "unix-dgram") == 0 || strcmp(mech, "unix-dgram-abstract") == 0) {
        parent_sock = socket(AF_UNIX, SOCK_DGRAM, 0);
        sockaddr_for(&parent_addr, &parent_len, "parent", strstr(mech, "abstract") != NULL);
        if (bind(parent_sock, (struct sockaddr *)&parent_addr, parent_len)) die("bind");
    } else if (strncmp(mech, "tcp", 3) == 0) {
        listener = socket(family_of(), SOCK_STREAM, 0);
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        loopback(&parent_addr, &parent_len, family_of());
        if (bind(listener, (struct sockaddr *)&parent_addr, parent_len) || listen(listener, 1)) die("bind/listen");
        getsockname(listener, (struct sockaddr *)&parent_addr, &parent_len);
    } else {
        parent_sock = socket(family_of(), SOCK_DGRAM, 0);
        loopback(&parent_addr, &parent_len, family_of());
        if (bind(parent_sock, (struct sockaddr *)&parent_addr, parent_len)) die("bind");
        getsockname(parent_sock, (struct sockaddr *)&parent_addr, &parent_len);
    }
}

static void child_side(void) {
    int one = 1;
    if (strcmp(mech, "pipe") == 0 || strncmp(mech, "socketpair-", 11) == 0) {
        rfd = child_rfd; wfd = child_wfd;
    } else if (strcmp(mech, "fifo") == 0) {
        char a[128], b[128];
        snprintf(a, sizeof a, "%s/to", dir);
        snprintf(b, sizeof b, "%s/from", dir);
        rfd = open(a, O_RDONLY);
        wfd = open(b, O_WRONLY);
    } else if (listener >= 0) {
        int s = socket(parent_addr.ss_family, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&parent_addr, parent_len)) die("connect");
        if (parent_addr.ss_family != AF_UNIX) setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        rfd = wfd = s;
    } else {
        int s = socket(parent_addr.ss_family, SOCK_DGRAM, 0);
        struct sockaddr_storage mine;
        socklen_t len;
        if (parent_addr.ss_family == AF_UNIX) sockaddr_for(&mine, &len, "peer", strstr(mech, "abstract") != NULL);
        else loopback(&mine, &len, parent_addr.ss_family);
        if (bind(s, (struct sockaddr *)&mine, len) || connect(s, (struct sockaddr *)&parent_addr, parent_len)) die("bind/connect");
        struct timeval t = { 5, 0 };
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
        rfd = wfd = s;
    }
    send_message("R", 1);
}

static void parent_meet(void) {
    int one = 1;
    if (strcmp(mech, "fifo") == 0) {
        char a[128], b[128];
        snprintf(a, sizeof a, "%s/to", dir);
        snprintf(b, sizeof b, "%s/from", dir);
        wfd = open(a, O_WRONLY);
        rfd = open(b, O_RDONLY);
    } else if (listener >= 0) {
        int s = accept(listener, NULL, NULL);
        if (s < 0) die("accept");
        if (parent_addr.ss_family != AF_UNIX) setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        rfd = wfd = s;
    } else if (parent_sock >= 0) {
        rfd = wfd = parent_sock;
    }
    char ready[16];
    if (parent_sock >= 0) {
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        if (recvfrom(parent_sock, ready, sizeof ready, 0, (struct sockaddr *)&from, &len) != 1) die("ready");
        if (connect(parent_sock, (struct sockaddr *)&from, len)) die("connect");
    } else {
        receive_message(ready, 1, 1);
    }
}

static const int sizes[4] = { 100, 4096, 65536, 1 << 20 };
static const double bytes_at[4] = { 8e6, 64e6, 128e6, 128e6 };
static int fits(int size) {
    if (strcmp(mech, "udp4") == 0) return size <= 65507;
    if (strcmp(mech, "udp6") == 0) return size <= 65527;
    if (boundaries) return size <= 200000;
    return 1;
}
static int credit_for(int size) {
    if (!lossy) return 0;
    int s = socket(family_of(), SOCK_DGRAM, 0), buffer = 212992;
    socklen_t len = sizeof buffer;
    getsockopt(s, SOL_SOCKET, SO_RCVBUF, &buffer, &len);
    close(s);
    int fit = buffer / 4 / (size + 2048);
    fit = fit < 2 ? 2 : fit > 256 ? 256 : fit;
    return fit & ~1;
}
static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: ipcbench MECHANISM ROUND_TRIPS WARMUP SCALE [PARENT_CPU CHILD_CPU]\n"); return 2; }
    mech = argv[1];
    int trips = atoi(argv[2]), warmup = atoi(argv[3]);
    double scale = atof(argv[4]);
    int parent_cpu = argc > 6 ? atoi(argv[5]) : -1, child_cpu = argc > 6 ? atoi(argv[6]) : -1;
    boundaries = strstr(mech, "dgram") || strstr(mech, "seqpacket") || strncmp(mech, "udp", 3) == 0;
    lossy = strncmp(mech, "udp", 3) == 0;
    signal(SIGPIPE, SIG_IGN);
    owner = getpid();
    snprintf(dir, sizeof dir, "/tmp/ipcbench-XXXXXX");
    if (!mkdtemp(dir)) die("mkdtemp");
    int reps = 3;
    parent_prepare();
    size_t capacity = (1 << 20) + 65536;
    char *buffer = malloc(capacity), *in = malloc(capacity);
    memset(buffer, 'x', capacity);
    pid_t pid = fork();
    if (pid == 0) {
        pin(child_cpu);
        child_side();
        for (int size = 1; size <= 100; size += 99) {
            for (int i = 0; i < warmup + trips; i++) {
                size_t got = receive_message(in, size, capacity);
                send_message(in, got);
            }
        }
        for (int k = 0; k < 4; k++) {
            if (!fits(sizes[k])) continue;
            long count = (long)(bytes_at[k] * scale) / sizes[k];
            if (count < 16) count = 16;
            int credit = credit_for(sizes[k]), step = credit > 1 ? credit / 2 : 1;
            for (int r = 0; r < reps; r++) {
                long got = 0;
                int64_t total = 0;
                while (got < count) {
                    ssize_t n = receive_message(in, sizes[k], capacity);
                    if (n < 0) break;
                    got++;
                    total += n;
                    if (credit && got % step == 0 && got < count) { int64_t word = got; send_message((char *)&word, 8); }
                }
                int64_t ack[3] = { 0, total, got };
                send_message((char *)ack, sizeof ack);
            }
        }
        _exit(0);
    }
    pin(parent_cpu);
    parent_meet();
    double p50[2], p99 = 0;
    double *samples = malloc(sizeof(double) * trips);
    for (int index = 0, size = 1; size <= 100; size += 99, index++) {
        for (int i = 0; i < warmup + trips; i++) {
            double start = now();
            send_message(buffer, size);
            receive_message(in, size, capacity);
            if (i >= warmup) samples[i - warmup] = (now() - start) * 1e6;
        }
        qsort(samples, trips, sizeof(double), compare);
        p50[index] = samples[trips / 2];
        if (size == 1) p99 = samples[(int)(trips * 0.99)];
    }
    double rate[4] = { 0, 0, 0, 0 };
    for (int k = 0; k < 4; k++) {
        if (!fits(sizes[k])) continue;
        long count = (long)(bytes_at[k] * scale) / sizes[k];
        if (count < 16) count = 16;
        int credit = credit_for(sizes[k]);
        double runs[3];
        for (int r = 0; r < reps; r++) {
            double start = now();
            long granted = 0;
            for (long i = 0; i < count; i++) {
                while (credit && i - granted >= credit) {
                    int64_t word[3];
                    ssize_t n = receive_message((char *)word, 8, sizeof word);
                    if (n != 8) die("credit");
                    if (word[0] > granted) granted = word[0];
                }
                send_message(buffer, sizes[k]);
            }
            int64_t ack[3];
            do {
                memset(ack, 0, sizeof ack);
                ssize_t n = boundaries ? receive_message((char *)ack, 24, sizeof ack) : receive_message((char *)ack, 24, 24);
                if (n == 24) break;
            } while (1);
            runs[r] = ack[1] / (now() - start);
        }
        qsort(runs, reps, sizeof(double), compare);
        rate[k] = runs[reps / 2];
    }
    int status;
    waitpid(pid, &status, 0);
    char path[128];
    const char *names[] = { "to", "from", "stream", "parent", "peer" };
    for (int i = 0; i < 5; i++) { snprintf(path, sizeof path, "%s/%s", dir, names[i]); unlink(path); }
    rmdir(dir);
    printf("%s %.3f %.3f %.3f %.0f %.0f %.0f %.0f\n", mech, p50[0], p99, p50[1], rate[0], rate[1], rate[2], rate[3]);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
