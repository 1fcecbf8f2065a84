/* The C baseline for `make bench`: the same three loopback measurements as
 * socketcore-bench, written the way a C programmer would, so the ratio shows what
 * SocketCore's typed wrapper costs.
 *   sockbench throughput BYTES | pingpong COUNT | connect COUNT
 * Prints one line: "<mode> <value> <unit>". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listener;
static struct sockaddr_in address;
static long long count;

static void die(const char *what) { perror(what); exit(1); }
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void listen_loopback(void) {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0) die("bind");
    socklen_t length = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &length);
    if (listen(listener, 1024) < 0) die("listen");
}

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
    return fd;
}

static void *drain(void *unused) {
    (void)unused;
    int fd = accept(listener, NULL, NULL);
    static char buffer[256 << 10];
    while (read(fd, buffer, sizeof buffer) > 0) {}
    close(fd);
    return NULL;
}

static void *pong(void *unused) {
    (void)unused;
    int fd = accept(listener, NULL, NULL);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char byte;
    while (recv(fd, &byte, 1, 0) == 1) send(fd, &byte, 1, MSG_NOSIGNAL);
    close(fd);
    return NULL;
}

static void *acceptor(void *unused) {
    (void)unused;
    for (long long i = 0; i < count; i++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) die("accept");
        char byte;
        recv(fd, &byte, 1, 0); /* wait for the client's FIN: the client closes first */
        close(fd);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: sockbench throughput|pingpong|connect N\n"); return 2; }
    count = atoll(argv[2]);
    listen_loopback();
    pthread_t thread;
    if (strcmp(argv[1], "throughput") == 0) {
        pthread_create(&thread, NULL, drain, NULL);
        int fd = dial();
        static char buffer[128 << 10];
        memset(buffer, 'x', sizeof buffer);
        double start = now();
        long long left = count;
        while (left > 0) {
            ssize_t n = send(fd, buffer, left < (long long)sizeof buffer ? left : (long long)sizeof buffer, MSG_NOSIGNAL);
            if (n < 0) die("send");
            left -= n;
        }
        shutdown(fd, SHUT_WR);
        pthread_join(thread, NULL);
        double seconds = now() - start;
        close(fd);
        printf("throughput %.3f Gbit/s\n", count * 8 / seconds / 1e9);
    } else if (strcmp(argv[1], "pingpong") == 0) {
        pthread_create(&thread, NULL, pong, NULL);
        int fd = dial();
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char byte = 'x';
        double start = now();
        for (long long i = 0; i < count; i++) {
            if (send(fd, &byte, 1, MSG_NOSIGNAL) != 1) die("send");
            if (recv(fd, &byte, 1, 0) != 1) die("recv");
        }
        double seconds = now() - start;
        close(fd);
        pthread_join(thread, NULL);
        printf("pingpong %.0f round-trips/s\n", count / seconds);
    } else if (strcmp(argv[1], "connect") == 0) {
        pthread_create(&thread, NULL, acceptor, NULL);
        double start = now();
        for (long long i = 0; i < count; i++) close(dial());
        pthread_join(thread, NULL);
        double seconds = now() - start;
        printf("connect %.0f connections/s\n", count / seconds);
    } else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        return 2;
    }
    return 0;
}
