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

/// POSIX_SPAWN_SETSID (glibc 2.26): the child starts a session of its own, so a Ctrl-C to
/// the terminal's process group does not reach it.
short socketlab_posix_spawn_setsid(void);
#endif
