/*
 * pty-exec: runs a terminal's command with no descriptor above 2.
 * node-pty forks from the engine, whose pty masters (one per open terminal) are not close-on-exec:
 * without this, every shell would hold the masters of the terminals opened before it, could type
 * into them, and would keep their ptys alive after they close.
 * Usage: pty-exec COMMAND [ARG...]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Closes every descriptor above 2, by close_range(2) where the kernel has it, else by /proc/self/fd. */
static int close_above_stderr(void) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return 0;
#endif
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int self = dirfd(d);
  int fds[4096];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < (int)(sizeof fds / sizeof fds[0])) {
    int fd = atoi(e->d_name);
    if (fd > 2 && fd != self) fds[n++] = fd;
  }
  closedir(d);
  for (int i = 0; i < n; i++) close(fds[i]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: pty-exec COMMAND [ARG...]\n");
    return 2;
  }
  if (close_above_stderr() != 0) {
    fprintf(stderr, "pty-exec: cannot close inherited descriptors: %s\n", strerror(errno));
    return 126;
  }
  execvp(argv[1], argv + 1);
  fprintf(stderr, "pty-exec: cannot run %s: %s\n", argv[1], strerror(errno));
  return 127;
}
