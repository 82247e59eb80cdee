/*
 * node-holder: builds a node's mounts and holds its namespaces, in one static exec.
 * world-init starts it in new network, mount and UTS namespaces (a copy of the world's confined
 * view); it does what a shell script of a dozen mount/mkdir/hostname/ip commands did, each of them an
 * exec, then says "ready" and holds the node until the world ends.
 * Usage: node-holder OP... where each OP is one of
 *   hostname NAME            the node's hostname
 *   chdir DIR                relative paths below are from DIR (it stays reachable once /run is covered)
 *   bind SRC DST             mount --bind
 *   mount TYPE SOURCE OPTS DST   a new mount of TYPE (tmpfs, overlay) with OPTS as its data
 *   mkdir PATH               mkdir -p
 *   bind-over SRC TARGET     bind SRC over TARGET even when TARGET is a dangling symlink: the file it
 *                            names is made (on hosts with systemd-resolved /etc/resolv.conf links into
 *                            /run/systemd/resolve/, and /run is the node's own tmpfs)
 *   lo-up                    the loopback interface up
 *   eth IFNAME ADDR/PREFIX   after "ready": wait for a line on stdin (IFNAME is there), then address it
 *                            and set it up, and say "up"
 *   hold                     say "ready" and hold the namespaces until killed
 * Without hold it exits 0 once every OP is done (as a command); on the first failure it says what and
 * exits 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void fail(const char *what, const char *arg) {
  fprintf(stderr, "node-holder: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(errno));
  exit(1);
}

static void make_path(const char *path) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
    errno = ENAMETOOLONG;
    fail("cannot make", path);
  }
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) fail("cannot make", buf);
    *p = '/';
  }
  if (mkdir(buf, 0755) < 0 && errno != EEXIST) fail("cannot make", buf);
}

static void bind_mount(const char *src, const char *dst) {
  if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
    char what[PATH_MAX + 32];
    snprintf(what, sizeof what, "cannot bind %s over", src);
    fail(what, dst);
  }
}

/* The file a chain of symlinks ends at (at most 40 links, as the kernel follows). */
static void final_target(const char *path, char *out, size_t n) {
  snprintf(out, n, "%s", path);
  for (int i = 0; i < 40; i++) {
    char link[PATH_MAX];
    ssize_t l = readlink(out, link, sizeof link - 1);
    if (l < 0) return; /* not a link (or not there): this is the file */
    link[l] = 0;
    if (link[0] == '/') {
      snprintf(out, n, "%s", link);
    } else {
      char dir[PATH_MAX];
      snprintf(dir, sizeof dir, "%s", out);
      char *slash = strrchr(dir, '/');
      if (slash) slash[1] = 0;
      else dir[0] = 0;
      size_t dl = strlen(dir), ll = strlen(link);
      if (dl + ll + 1 > n) return; /* too long to follow: the kernel would refuse it too */
      memcpy(out, dir, dl);
      memcpy(out + dl, link, ll + 1);
    }
  }
}

static void bind_over(const char *src, const char *target) {
  struct stat st;
  if (stat(target, &st) < 0) {
    /* a dangling link: make the file it names (world-owned: the node's /run) */
    char t[PATH_MAX];
    final_target(target, t, sizeof t);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", t);
    char *slash = strrchr(dir, '/');
    int fd = -1;
    if (slash && slash != dir) {
      *slash = 0;
      char probe[PATH_MAX];
      snprintf(probe, sizeof probe, "%s", dir);
      /* mkdir -p, quietly: a read-only parent is said below, in one line */
      for (char *p = probe + 1;; p++) {
        if (*p == '/' || *p == 0) {
          char c = *p;
          *p = 0;
          if (mkdir(probe, 0755) < 0 && errno != EEXIST) break;
          *p = c;
          if (!c) break;
        }
      }
    }
    fd = open(t, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
      fprintf(stderr, "%s links to %s, which is missing and cannot be made\n", target, t);
      exit(1);
    }
    close(fd);
  }
  bind_mount(src, target);
}

static void link_up(int sock, const char *name) {
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) fail("cannot read the flags of", name);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) fail("cannot set up", name);
}

/* ip addr add ADDR/PREFIX dev IFNAME, by netlink (no broadcast, as `ip` adds it). */
static void add_address(const char *ifname, const char *cidr) {
  char addr[64];
  snprintf(addr, sizeof addr, "%s", cidr);
  char *slash = strchr(addr, '/');
  errno = EINVAL;
  if (!slash) fail("not an address with a prefix:", cidr);
  *slash = 0;
  int prefix = atoi(slash + 1);
  struct in_addr in;
  if (inet_pton(AF_INET, addr, &in) != 1 || prefix < 0 || prefix > 32) fail("not an IPv4 address:", cidr);
  unsigned idx = if_nametoindex(ifname);
  if (!idx) fail("no interface", ifname);
  struct {
    struct nlmsghdr n;
    struct ifaddrmsg a;
    char attrs[64];
  } req = {0};
  req.n.nlmsg_len = NLMSG_LENGTH(sizeof req.a);
  req.n.nlmsg_type = RTM_NEWADDR;
  req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req.n.nlmsg_seq = 1;
  req.a.ifa_family = AF_INET;
  req.a.ifa_prefixlen = (unsigned char)prefix;
  req.a.ifa_scope = RT_SCOPE_UNIVERSE;
  req.a.ifa_index = idx;
  int types[] = {IFA_LOCAL, IFA_ADDRESS};
  for (int i = 0; i < 2; i++) {
    struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.n.nlmsg_len));
    rta->rta_type = (unsigned short)types[i];
    rta->rta_len = RTA_LENGTH(4);
    memcpy(RTA_DATA(rta), &in, 4);
    req.n.nlmsg_len = NLMSG_ALIGN(req.n.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  }
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) fail("netlink socket", NULL);
  if (send(nl, &req, req.n.nlmsg_len, 0) < 0) fail("netlink send", NULL);
  char buf[4096];
  ssize_t r = recv(nl, buf, sizeof buf, 0);
  if (r < 0) fail("netlink recv", NULL);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  if (!NLMSG_OK(h, (unsigned)r) || h->nlmsg_type != NLMSG_ERROR) {
    errno = EPROTO;
    fail("no answer from the kernel for the address of", ifname);
  }
  int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
  if (err) {
    errno = -err;
    char what[128];
    snprintf(what, sizeof what, "cannot add %s to", cidr);
    fail(what, ifname);
  }
  close(nl);
}

int main(int argc, char **argv) {
  const char *eth_if = NULL, *eth_addr = NULL;
  int hold = 0;
  int sock = -1;
  for (int i = 1; i < argc; i++) {
    const char *op = argv[i];
    int left = argc - i - 1;
#define NEED(n)                                                          \
  if (left < (n)) {                                                      \
    fprintf(stderr, "node-holder: %s needs %d argument(s)\n", op, (n)); \
    return 2;                                                            \
  }
    if (!strcmp(op, "hostname")) {
      NEED(1);
      const char *name = argv[++i];
      if (sethostname(name, strlen(name)) < 0) fail("cannot set the hostname", name);
    } else if (!strcmp(op, "chdir")) {
      NEED(1);
      if (chdir(argv[++i]) < 0) fail("cannot enter", argv[i]);
    } else if (!strcmp(op, "bind")) {
      NEED(2);
      bind_mount(argv[i + 1], argv[i + 2]);
      i += 2;
    } else if (!strcmp(op, "mount")) {
      NEED(4);
      if (mount(argv[i + 2], argv[i + 4], argv[i + 1], 0, argv[i + 3]) < 0) {
        char what[64];
        snprintf(what, sizeof what, "cannot mount a %s at", argv[i + 1]);
        fail(what, argv[i + 4]);
      }
      i += 4;
    } else if (!strcmp(op, "mkdir")) {
      NEED(1);
      make_path(argv[++i]);
    } else if (!strcmp(op, "bind-over")) {
      NEED(2);
      bind_over(argv[i + 1], argv[i + 2]);
      i += 2;
    } else if (!strcmp(op, "lo-up")) {
      if (sock < 0 && (sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) fail("socket", NULL);
      link_up(sock, "lo");
    } else if (!strcmp(op, "eth")) {
      NEED(2);
      eth_if = argv[i + 1];
      eth_addr = argv[i + 2];
      i += 2;
    } else if (!strcmp(op, "hold")) {
      hold = 1;
    } else {
      fprintf(stderr, "node-holder: unknown operation \"%s\"\n", op);
      return 2;
    }
  }
  if (!hold) return 0;
  prctl(PR_SET_NAME, "node-holder");
  if (write(1, "ready\n", 6) != 6) fail("cannot say ready", NULL);
  if (eth_if) {
    /* the engine has moved the interface in (its veth pair's peer): one line says so */
    char c;
    ssize_t r;
    while ((r = read(0, &c, 1)) == 1 && c != '\n') {}
    if (r < 0) fail("cannot read stdin", NULL);
    if (sock < 0 && (sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) fail("socket", NULL);
    add_address(eth_if, eth_addr);
    link_up(sock, eth_if);
    if (write(1, "up\n", 3) != 3) fail("cannot say up", NULL);
  }
  if (sock >= 0) close(sock);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
    if (devnull > 2) close(devnull);
  }
  for (;;) pause();
}
