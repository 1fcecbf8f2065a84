/* Real loopback TCP traffic for the decode benchmark: many short connections, each a small
 * request and a reply, the client closing first — the shape of web traffic a student
 * captures. Two client threads interleave their connections; four server ports spread the
 * 4-tuples. Run it in a fresh network namespace (unshare -n) so TIME_WAIT cannot pile up.
 *   trafficgen CONNECTIONS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { PORTS = 4, CLIENTS = 2, REQUEST = 80, REPLY = 300 };
static int listeners[PORTS];
static struct sockaddr_in addresses[PORTS];
static long per_client;

static void die(const char *what) { perror(what); exit(1); }

static void *serve(void *arg) {
    int listener = *(int *)arg;
    char buffer[4096], reply[REPLY];
    memset(reply, 'r', sizeof reply);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        ssize_t got = 0, n;
        while (got < REQUEST && (n = read(fd, buffer, sizeof buffer)) > 0) got += n;
        if (write(fd, reply, sizeof reply) < 0) {}
        while (read(fd, buffer, sizeof buffer) > 0) {} /* the client closes first */
        close(fd);
    }
    return NULL;
}

static void *client(void *arg) {
    long id = (long)arg;
    char request[REQUEST], buffer[4096];
    memset(request, 'q', sizeof request);
    for (long i = 0; i < per_client; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in *to = &addresses[(i + id) % PORTS];
        if (connect(fd, (struct sockaddr *)to, sizeof *to) < 0) die("connect");
        if (write(fd, request, sizeof request) != sizeof request) die("write");
        ssize_t got = 0, n;
        while (got < REPLY && (n = read(fd, buffer, sizeof buffer)) > 0) got += n;
        close(fd);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: trafficgen CONNECTIONS\n"); return 2; }
    per_client = atol(argv[1]) / CLIENTS;
    pthread_t threads[PORTS + CLIENTS];
    for (int p = 0; p < PORTS; p++) {
        listeners[p] = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(listeners[p], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        addresses[p].sin_family = AF_INET;
        addresses[p].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addresses[p].sin_port = htons(8000 + p);
        if (bind(listeners[p], (struct sockaddr *)&addresses[p], sizeof addresses[p]) < 0) die("bind");
        if (listen(listeners[p], 4096) < 0) die("listen");
        pthread_create(&threads[p], NULL, serve, &listeners[p]);
    }
    for (long c = 0; c < CLIENTS; c++) pthread_create(&threads[PORTS + c], NULL, client, (void *)c);
    for (int c = 0; c < CLIENTS; c++) pthread_join(threads[PORTS + c], NULL);
    usleep(200000); /* let the last FINs and ACKs go out */
    printf("trafficgen: %ld connections\n", per_client * CLIENTS);
    return 0;
}
