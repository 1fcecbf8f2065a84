// Linux calls Swift's Glibc module leaves out because they are GNU extensions.
#ifndef SOCKETLAB_CLINUX_H
#define SOCKETLAB_CLINUX_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>

/// setns(fd, CLONE_NEWNET): the calling thread moves into the network namespace `fd` names.
/// Sockets keep the namespace they were created in, so a program can make a server socket
/// on one "host" and a client socket on another.
static inline int socketlab_enter_network_namespace(int fd) { return setns(fd, CLONE_NEWNET); }
#endif
