// Linux calls and constants Swift's Glibc module leaves out because they are GNU extensions.
// Prototypes only: the system headers are included in clinux.c with _GNU_SOURCE, because
// including them here, in a configuration other than Swift's Glibc module, makes clang see
// two different definitions of the same types (fd_set…) and refuse the build.
#ifndef SOCKETLAB_CLINUX_H
#define SOCKETLAB_CLINUX_H

/// setns(fd, CLONE_NEWNET): the calling thread moves into the network namespace `fd` names.
/// Sockets keep the namespace they were created in, so a program can make a server socket
/// on one "host" and a client socket on another.
int socketlab_enter_network_namespace(int fd);

/// pipe2(fds, O_CLOEXEC): a pipe no spawned child inherits by accident (a watchdog's pipe
/// must close when this process dies, not when its last child does).
int socketlab_pipe_cloexec(int fds[2]);

/// splice(in, NULL, out, NULL, len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK): bytes moved between a
/// socket and a pipe inside the kernel, never copied through user space (GNU-only).
long socketlab_splice(int in, int out, unsigned long length);

/// POSIX_SPAWN_SETSID (glibc 2.26): the child starts a session of its own, so a Ctrl-C to
/// the terminal's process group does not reach it.
short socketlab_posix_spawn_setsid(void);

/// POLLRDHUP: the peer shut down its writing half (a FIN arrived), as a poll() event.
short socketlab_pollrdhup(void);

/// IP_RECVTTL: deliver each datagram's TTL with it, as a control message.
int socketlab_ip_recvttl(void);

/// IPV6_RECVHOPLIMIT: the same for IPv6's hop limit.
int socketlab_ipv6_recvhoplimit(void);

/// SO_TIMESTAMPNS: the kernel's receive time of each datagram, in nanoseconds.
int socketlab_so_timestampns(void);

/// accept4(fd, address, length, SOCK_CLOEXEC): the new descriptor is close-on-exec from the
/// start, with no window in which a child spawned by another thread inherits it.
int socketlab_accept4_cloexec(int fd, void *address, unsigned int *length);

/// strerrorname_np (glibc 2.32): "ECONNREFUSED" for 111; NULL for a number it does not know.
const char *socketlab_errno_name(int number);

/// What recvmsg()'s control messages carried, walked with CMSG_FIRSTHDR and CMSG_NXTHDR: the
/// TTL (IP_TTL) or hop limit (IPV6_HOPLIMIT), -1 when absent; the kernel's receive time
/// (SCM_TIMESTAMPNS), `has_timestamp` 0 when absent.
struct socketlab_ancillary {
    int hop_limit;
    int has_timestamp;
    long long seconds;
    long long nanoseconds;
};
struct socketlab_ancillary socketlab_read_ancillary(void *control, unsigned long length);

/// Starts `path` with `argv` and `envp` (NULL: this process's environment) as a new process:
/// standard input, output and error from `in_fd`, `out_fd`, `err_fd` (-1: /dev/null); as user
/// `uid` and group `gid` with no supplementary groups when `uid` is not -1 (a student's program,
/// run by a tool that is root only for its capture); in a session of its own when `session`,
/// else in a process group of its own; every other descriptor closed; signals at their defaults,
/// none blocked. Returns the pid, or -errno when the program could not be started (the errno of
/// the exec, setuid or fork that failed).
int socketlab_spawn(const char *path, char *const argv[], char *const envp[], int uid, int gid,
                    int in_fd, int out_fd, int err_fd, int session);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): descendants that leave their parent (`cmd &`, setsid, a
/// double fork) become this process's children instead of init's, so they can still be found
/// and stopped.
int socketlab_become_subreaper(void);

/// ioctl(fd, FIONREAD): bytes waiting to be read on a stream socket or a pipe (on a datagram
/// socket, the size of the next datagram); -1 with errno on failure.
int socketlab_bytes_readable(int fd);

/// sched_setaffinity(0, {cpu}): the calling thread runs on that CPU only (CPU_SET is a macro).
int socketlab_pin_to_cpu(int cpu);

/// socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)): every frame of an interface
/// (linux/if_packet.h and ETH_P_ALL are not in Swift's Glibc module).
int socketlab_packet_socket(void);

/// bind(fd, {AF_PACKET, ETH_P_ALL, ifindex}): only that interface's frames.
int socketlab_packet_bind(int fd, int ifindex);

/// sendto(fd, frame, length, 0, {AF_PACKET, ifindex}): one frame as given, header and all.
long socketlab_packet_send(int fd, int ifindex, const void *frame, unsigned long length);
/// ioctl(fd, SIOCGIFHWADDR, {name}): the interface's MAC address, six bytes into `out`, read in
/// the namespace `fd` was made in (sysfs shows the namespace it was mounted in, which under
/// setns is not the thread's); -1 with errno when there is no such interface.
int socketlab_interface_hardware_address(int fd, const char *name, unsigned char out[6]);
/// An RTM_NEWADDR (add) or RTM_DELADDR request on a NETLINK_ROUTE socket for an address of
/// `family` (AF_INET: 4 bytes, AF_INET6: 16, in network order; IPv6 without duplicate
/// address detection, `nodad`) with its prefix length on interface `ifindex`, as
/// `ip addr add|del` sends it, and the
/// kernel's answer: 0 done, or -errno (-EEXIST already there, -EADDRNOTAVAIL not there,
/// -EPERM without CAP_NET_ADMIN). The failover lab adds its virtual address this way because
/// starting `ip` costs milliseconds on the takeover's path.
int socketlab_address_change(int add, int family, int ifindex, const void *address, int prefix_length);
#endif

/// sendmmsg(2) (a GNU extension) of `count` datagrams on a connected socket, datagram `i` being
/// `lengths[i]` bytes at `buffers[i]`: how many were sent, or -1 and errno.
int socketlab_send_datagrams(int fd, const void *const *buffers, const unsigned long *lengths, unsigned int count);
