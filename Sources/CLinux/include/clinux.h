// Linux calls and constants Swift's Glibc module leaves out because they are GNU extensions.
#ifndef SOCKETLAB_CLINUX_H
#define SOCKETLAB_CLINUX_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <unistd.h>

/// setns(fd, CLONE_NEWNET): the calling thread moves into the network namespace `fd` names.
/// Sockets keep the namespace they were created in, so a program can make a server socket
/// on one "host" and a client socket on another.
static inline int socketlab_enter_network_namespace(int fd) { return setns(fd, CLONE_NEWNET); }

/// pipe2(fds, O_CLOEXEC): a pipe no spawned child inherits by accident (a watchdog's pipe
/// must close when this process dies, not when its last child does).
static inline int socketlab_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/// POSIX_SPAWN_SETSID (glibc 2.26): the child starts a session of its own, so a Ctrl-C to
/// the terminal's process group does not reach it.
static const short socketlab_posix_spawn_setsid = POSIX_SPAWN_SETSID;
#endif
