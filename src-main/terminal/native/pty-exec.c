/*
 * pty-exec: runs a terminal's command with no descriptor above 2, and (with options) enters the lab
 * world on the way: the world's limits, its user and PID namespaces, then the target's user, mount,
 * UTS and network namespaces, as `prlimit … nsenter … nsenter …` did, in one process and one fork.
 * node-pty forks from the engine, whose pty masters (one per open terminal) are not close-on-exec:
 * without the close, every shell would hold the masters of the terminals opened before it, could type
 * into them, and would keep their ptys alive after they close.
 * Usage: pty-exec [--nproc N] [--as BYTES] [--world PID] [--target PID NS,...] [--netns PATH] [--] COMMAND [ARG...]
 *        pty-exec --await FIFO
 *   --nproc, --as    RLIMIT_NPROC, RLIMIT_AS (soft and hard), set before anything is entered
 *   --world PID      the user and PID namespaces of PID (world-init, from the engine's side)
 *   --target PID NS  then PID's namespaces, in this order: user, mnt, uts, net (those named in NS)
 *   --netns PATH     then the network namespace pinned at PATH (opened from the engine's side)
 *   --await FIFO     started ahead, before its target exists (pty-reserve.ts): makes FIFO, waits for the
 *                    engine to write its orders there (the options and command above, then an empty
 *                    string, then the command's environment, each NUL-ended), removes FIFO and runs
 *                    itself again with them. The engine's fork is then off the path to a prompt.
 * Every namespace is opened before any is entered, so each path is the engine's. Entering a PID
 * namespace takes effect in children: the command runs in a child, and pty-exec waits for it and
 * exits as it did (as nsenter does). The credentials are kept (nsenter --preserve-credentials).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

static void usage(void) {
  fprintf(stderr,
          "usage: pty-exec [--nproc N] [--as BYTES] [--world PID] [--target PID user,mnt,uts,net] [--netns PATH] [--] "
          "COMMAND [ARG...]\n       pty-exec --await FIFO\n");
  exit(2);
}

static unsigned long long number(const char *s) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end || errno || s[0] == '-') usage();
  return v;
}

/* A namespace to enter: opened first (every path is the engine's), entered in order. */
struct ns {
  int fd;
  int type;
  char what[96];
};
static struct ns order[8];
static int norder;

static void want(const char *path, int type) {
  if (norder == (int)(sizeof order / sizeof *order)) usage();
  struct ns *n = &order[norder++];
  n->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (n->fd < 0) {
    fprintf(stderr, "pty-exec: cannot open the namespace %s: %s (has the world ended?)\n", path, strerror(errno));
    exit(126);
  }
  n->type = type;
  snprintf(n->what, sizeof n->what, "%s", path);
}

static void want_of(unsigned long long pid, const char *kind, int type) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%llu/ns/%s", pid, kind);
  want(p, type);
}

static void limit(int resource, const char *name, unsigned long long v) {
  struct rlimit rl = {(rlim_t)v, (rlim_t)v};
  if (setrlimit(resource, &rl) < 0) {
    fprintf(stderr, "pty-exec: cannot set %s to %llu: %s\n", name, v, strerror(errno));
    exit(126);
  }
}

static pid_t the_child;

/* A hang-up or a termination is the command's to take: passed on, while this one waits to reap it. */
static void pass_on(int sig) { kill(the_child, sig); }

/*
 * Waits for the command and ends as it did; stops with it, so job control outside sees the same.
 * The command is in the world's PID namespace and this one is not: if this one died first, the kernel
 * would give the command to the init of this one's namespace (the host's), and the world's init could not
 * end until that init reaped it (1.5 s where it reaps lazily, never where it does not reap at all).
 */
static void continue_as_parent(pid_t child) {
  int status;
  the_child = child;
  struct sigaction sa = {0};
  sa.sa_handler = pass_on;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  for (;;) {
    pid_t r = waitpid(child, &status, WUNTRACED);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) exit(1);
    if (WIFSTOPPED(status)) {
      kill(getpid(), SIGSTOP);
      kill(child, SIGCONT);
      continue;
    }
    break;
  }
  if (WIFEXITED(status)) exit(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    kill(getpid(), WTERMSIG(status));
  }
  exit(1);
}

/* The orders of a pty-exec started ahead (--await): at most this many bytes, arguments and variables. */
#define ORDERS_MAX 65536
#define ORDERS_WORDS 1024

/* --await: waits at FIFO for its orders, then runs itself again with them as its arguments (after
   argv[0]) and environment: the process list then shows what it does, not that it waited. */
static void await_orders(const char *fifo, char *self) {
  static char buf[ORDERS_MAX];
  static char *args[ORDERS_WORDS + 2];
  static char *env[ORDERS_WORDS + 1];
  if (mkfifo(fifo, 0600) < 0) {
    fprintf(stderr, "pty-exec: cannot make %s: %s\n", fifo, strerror(errno));
    exit(126);
  }
  /* blocks until the engine opens it to write: the engine only writes to a FIFO that has its reader */
  int fd = open(fifo, O_RDONLY | O_CLOEXEC);
  int opened = errno;
  unlink(fifo);
  if (fd < 0) {
    fprintf(stderr, "pty-exec: cannot open %s: %s\n", fifo, strerror(opened));
    exit(126);
  }
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fprintf(stderr, "pty-exec: cannot read its orders: %s\n", strerror(errno));
      exit(126);
    }
    if (n == 0) break;
    len += (size_t)n;
    if (len == sizeof buf) {
      fprintf(stderr, "pty-exec: its orders are longer than %d bytes\n", ORDERS_MAX);
      exit(126);
    }
  }
  close(fd);
  if (len == 0 || buf[len - 1] != '\0') {
    fprintf(stderr, "pty-exec: its orders ended early (%zu bytes)\n", len);
    exit(126);
  }
  /* the words: arguments up to the first empty one, then the environment */
  int na = 1, ne = 0, in_env = 0;
  args[0] = self;
  for (size_t at = 0; at < len; at += strlen(buf + at) + 1) {
    char *w = buf + at;
    if (!in_env && !*w) {
      in_env = 1;
      continue;
    }
    if (in_env ? ne == ORDERS_WORDS : na == ORDERS_WORDS + 1) {
      fprintf(stderr, "pty-exec: its orders hold more than %d words\n", ORDERS_WORDS);
      exit(126);
    }
    if (in_env) env[ne++] = w;
    else args[na++] = w;
  }
  if (!in_env || na < 2 || !strcmp(args[1], "--await")) {
    fprintf(stderr, "pty-exec: its orders name no command\n");
    exit(126);
  }
  args[na] = NULL;
  env[ne] = NULL;
  execve("/proc/self/exe", args, env);
  fprintf(stderr, "pty-exec: cannot run itself with its orders: %s\n", strerror(errno));
  exit(126);
}

int main(int argc, char **argv) {
  if (close_above_stderr() != 0) {
    fprintf(stderr, "pty-exec: cannot close inherited descriptors: %s\n", strerror(errno));
    return 126;
  }
  if (argc == 3 && !strcmp(argv[1], "--await")) await_orders(argv[2], argv[0]);
  unsigned long long nproc = 0, as = 0, world = 0, target = 0;
  const char *target_ns = NULL, *netns = NULL;
  int i = 1;
  for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
    if (!strcmp(argv[i], "--")) {
      i++;
      break;
    }
    if (i + 1 >= argc) usage();
    if (!strcmp(argv[i], "--nproc")) nproc = number(argv[++i]);
    else if (!strcmp(argv[i], "--as")) as = number(argv[++i]);
    else if (!strcmp(argv[i], "--world")) world = number(argv[++i]);
    else if (!strcmp(argv[i], "--target") && i + 2 < argc) {
      target = number(argv[++i]);
      target_ns = argv[++i];
    } else if (!strcmp(argv[i], "--netns")) netns = argv[++i];
    else usage();
  }
  if (i >= argc) usage();
  char **cmd = argv + i;

  if (world) {
    want_of(world, "user", CLONE_NEWUSER);
    want_of(world, "pid", CLONE_NEWPID);
  }
  if (target) {
    /* in the kernel's order: the user namespace first, then what it owns; mount before a pinned netns */
    static const struct { const char *kind; int type; } kinds[] = {
        {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET}};
    char list[64];
    snprintf(list, sizeof list, ",%s,", target_ns);
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
      char item[16];
      snprintf(item, sizeof item, ",%s,", kinds[k].kind);
      if (strstr(list, item)) want_of(target, kinds[k].kind, kinds[k].type);
    }
  }
  if (netns) want(netns, CLONE_NEWNET);

  /* the world's bounds, before anything of it is entered (as prlimit did, both soft and hard) */
  if (nproc) limit(RLIMIT_NPROC, "RLIMIT_NPROC", nproc);
  if (as) limit(RLIMIT_AS, "RLIMIT_AS", as);
  for (int k = 0; k < norder; k++) {
    if (setns(order[k].fd, order[k].type) < 0) {
      fprintf(stderr, "pty-exec: cannot enter the namespace %s: %s\n", order[k].what, strerror(errno));
      return 126;
    }
    close(order[k].fd);
  }
  if (world) {
    /* the PID namespace holds for children only */
    pid_t child = fork();
    if (child < 0) {
      fprintf(stderr, "pty-exec: cannot start the command in the world: %s%s\n", strerror(errno),
              errno == EAGAIN ? " (the world is at its process limit)" : "");
      return 126;
    }
    if (child > 0) continue_as_parent(child);
  }
  execvp(cmd[0], cmd);
  fprintf(stderr, "pty-exec: cannot run %s: %s\n", cmd[0], strerror(errno));
  return 127;
}
