#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include "clinux.h"

int socketlab_enter_network_namespace(int fd) { return setns(fd, CLONE_NEWNET); }

int socketlab_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

long socketlab_splice(int in, int out, unsigned long length) {
    return splice(in, NULL, out, NULL, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

short socketlab_posix_spawn_setsid(void) { return POSIX_SPAWN_SETSID; }

short socketlab_pollrdhup(void) { return POLLRDHUP; }

int socketlab_ip_recvttl(void) { return IP_RECVTTL; }

int socketlab_ipv6_recvhoplimit(void) { return IPV6_RECVHOPLIMIT; }

int socketlab_so_timestampns(void) { return SO_TIMESTAMPNS; }

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

extern char **environ;

int socketlab_spawn(const char *path, char *const argv[], char *const envp[], int uid, int gid,
                    int in_fd, int out_fd, int err_fd, int session) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int failure = errno;
        close(report[0]);
        close(report[1]);
        return -failure;
    }
    if (pid == 0) {
        /* The child: only async-signal-safe calls from here to exec. */
        int null = open("/dev/null", O_RDWR);
        int fds[3] = { in_fd, out_fd, err_fd };
        for (int target = 0; target < 3; target++) {
            int source = fds[target] >= 0 ? fds[target] : null;
            if (source == target) { fcntl(target, F_SETFD, 0); continue; }
            if (dup2(source, target) < 0) goto failed;
        }
        /* Everything else closes at exec: no listening socket or capture leaks into the program. */
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
        fcntl(report[1], F_SETFD, FD_CLOEXEC);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int signal_number = 1; signal_number < NSIG; signal_number++) {
            if (signal_number != SIGKILL && signal_number != SIGSTOP) signal(signal_number, SIG_DFL);
        }
        if (session ? setsid() < 0 : setpgid(0, 0) < 0) goto failed;
        if (uid >= 0) {
            if (setgroups(0, NULL) != 0 || setgid((gid_t)gid) != 0 || setuid((uid_t)uid) != 0) goto failed;
        }
        execve(path, argv, envp ? envp : environ);
    failed:;
        int failure = errno;
        ssize_t ignored = write(report[1], &failure, sizeof failure);
        (void)ignored;
        _exit(127);
    }
    close(report[1]);
    int failure = 0;
    ssize_t got;
    do { got = read(report[0], &failure, sizeof failure); } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof failure) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -failure;
    }
    return pid;
}

int socketlab_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int socketlab_bytes_readable(int fd) {
    int count = 0;
    return ioctl(fd, FIONREAD, &count) < 0 ? -1 : count;
}

int socketlab_pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

int socketlab_packet_socket(void) { return socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)); }

int socketlab_packet_bind(int fd, int ifindex) {
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = ifindex;
    return bind(fd, (struct sockaddr *)&address, sizeof address);
}

long socketlab_packet_send(int fd, int ifindex, const void *frame, unsigned long length) {
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_ifindex = ifindex;
    address.sll_halen = 6;
    return sendto(fd, frame, length, 0, (struct sockaddr *)&address, sizeof address);
}

int socketlab_interface_hardware_address(int fd, const char *name, unsigned char out[6]) {
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, SIOCGIFHWADDR, &request) != 0) return -1;
    memcpy(out, request.ifr_hwaddr.sa_data, 6);
    return 0;
}

int socketlab_address_change(int add, int family, int ifindex, const void *address, int prefix_length) {
    int size = family == AF_INET6 ? 16 : 4;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct {
        struct nlmsghdr header;
        struct ifaddrmsg message;
        char attributes[64];
    } request;
    memset(&request, 0, sizeof request);
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    request.header.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
    request.header.nlmsg_seq = 1;
    request.message.ifa_family = (unsigned char)family;
    request.message.ifa_prefixlen = (unsigned char)prefix_length;
    // IPv6: no duplicate address detection, or the address would stay tentative (unusable)
    // for a second while the kernel asks whether anyone else has it.
    if (family == AF_INET6) request.message.ifa_flags = IFA_F_NODAD;
    request.message.ifa_scope = RT_SCOPE_UNIVERSE;
    request.message.ifa_index = (unsigned int)ifindex;
    // IFA_LOCAL and IFA_ADDRESS, both the address itself, as `ip addr add` sends them.
    unsigned short types[2] = {IFA_LOCAL, IFA_ADDRESS};
    for (int i = 0; i < 2; i++) {
        struct rtattr *attribute = (struct rtattr *)((char *)&request + NLMSG_ALIGN(request.header.nlmsg_len));
        attribute->rta_type = types[i];
        attribute->rta_len = RTA_LENGTH(size);
        memcpy(RTA_DATA(attribute), address, size);
        request.header.nlmsg_len = NLMSG_ALIGN(request.header.nlmsg_len) + RTA_ALIGN(attribute->rta_len);
    }
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd, &request, request.header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    char reply[4096];
    for (;;) {
        ssize_t length = recv(fd, reply, sizeof reply, 0);
        if (length < 0 && errno == EINTR) continue;
        if (length < 0) { int error = errno; close(fd); return -error; }
        for (struct nlmsghdr *message = (struct nlmsghdr *)reply; NLMSG_OK(message, (unsigned int)length); message = NLMSG_NEXT(message, length)) {
            if (message->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *answer = (struct nlmsgerr *)NLMSG_DATA(message);
                close(fd);
                return answer->error;  // 0: done; -EEXIST, -EADDRNOTAVAIL, -EPERM…
            }
        }
    }
}

int socketlab_send_datagrams(int fd, const void *const *buffers, const unsigned long *lengths, unsigned int count) {
    enum { most = 64 };
    struct iovec iov[most];
    struct mmsghdr messages[most];
    if (count > most) count = most;
    memset(messages, 0, sizeof messages[0] * count);
    for (unsigned int i = 0; i < count; i++) {
        iov[i].iov_base = (void *)buffers[i];
        iov[i].iov_len = lengths[i];
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    return sendmmsg(fd, messages, count, MSG_NOSIGNAL);
}
