#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sched.h>
#include <spawn.h>
#include <unistd.h>
#include "clinux.h"

int socketlab_enter_network_namespace(int fd) { return setns(fd, CLONE_NEWNET); }

int socketlab_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

short socketlab_posix_spawn_setsid(void) { return POSIX_SPAWN_SETSID; }

short socketlab_pollrdhup(void) { return POLLRDHUP; }

int socketlab_ip_recvttl(void) { return IP_RECVTTL; }

int socketlab_accept4_cloexec(int fd, void *address, unsigned int *length) {
    return accept4(fd, (struct sockaddr *)address, (socklen_t *)length, SOCK_CLOEXEC);
}

const char *socketlab_errno_name(int number) { return strerrorname_np(number); }

struct socketlab_ancillary socketlab_read_ancillary(void *control, unsigned long length) {
    struct socketlab_ancillary found = { .hop_limit = -1, .has_timestamp = 0, .seconds = 0, .nanoseconds = 0 };
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_control = control;
    message.msg_controllen = length;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if ((header->cmsg_level == IPPROTO_IP && header->cmsg_type == IP_TTL)
            || (header->cmsg_level == IPPROTO_IPV6 && header->cmsg_type == IPV6_HOPLIMIT)) {
            if (header->cmsg_len >= CMSG_LEN(sizeof(int))) memcpy(&found.hop_limit, CMSG_DATA(header), sizeof(int));
        } else if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec time;
            if (header->cmsg_len >= CMSG_LEN(sizeof time)) {
                memcpy(&time, CMSG_DATA(header), sizeof time);
                found.has_timestamp = 1;
                found.seconds = time.tv_sec;
                found.nanoseconds = time.tv_nsec;
            }
        }
    }
    return found;
}
