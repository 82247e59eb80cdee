/*
 * world-init: PID 1 of a Podnet Lab world.
 *
 * It is started by the engine inside `unshare --user --map-root-user --net --mount --pid --fork`,
 * so it owns the world's namespaces. Before it runs anything it builds the world's root and holds it:
 *   - a root of the world's own: one size-bounded tmpfs (everything the world may write: /tmp, /run,
 *     /root, /home, /var, the world's state at /run/podnet) with read-only binds of what labs need
 *     (--ro PATH: /usr, /etc, the app's and Node.js's folders, the CNI plugin folders; /bin, /lib*
 *     as the host's symlinks), --rw PATH (a lab's working folder), a minimal /dev, the world's own
 *     /proc (runc's masks; /proc/sys read-only but for /proc/sys/net) and /sys read-only; then
 *     pivot_root into it and detach the host's tree: nothing of the world has a path to it;
 *   - it makes itself non-dumpable (no ptrace, /proc/1/root, pidfd_getfd from the lab's root), then
 *     forks the world's holder, which enters a NESTED user namespace with new mount, network and IPC
 *     namespaces: every mount above is locked there (no umount, no remount rw), the network the labs
 *     configure is the nested one (world-init's own stays empty), and the lab's root has no
 *     capability over world-init's user namespace. Every command world-init spawns joins the
 *     holder's user namespace first.
 * Then it does four things:
 *   1. holds the world: when it exits, the kernel kills every process of the PID namespace, and
 *      with them every namespace, interface, mount and file of the lab (the root is a tmpfs);
 *   2. watches its lifeline: stdin is a pipe from the engine; at EOF (the engine exited or was
 *      killed with SIGKILL) it kills the world and exits;
 *   3. runs commands for the engine, in the sandbox, a node or a pod, with setns(2) in a forked
 *      child: one fork+exec per command, as cheap as a shell loop inside the world;
 *   4. reaps orphans, as an init must.
 * It bounds the world: RLIMIT_NPROC counts the world's own processes (per user namespace since Linux
 * 5.14) but the kernel waives it when the world's root is the host's root, so the PID namespace's own
 * pid_max (per namespace since Linux 6.14) bounds it as well: PIDs start above the reserved 300, so
 * pid_max = 300 + procs leaves exactly procs of them. RLIMIT_AS bounds each process's memory, the
 * root tmpfs's size the world's disk.
 *
 * usage: world-init PROCS MEMBYTES DISKBYTES [--ro PATH]... [--rw PATH]... [--hide PATH]... [--hide-file PATH]...
 *                   [--mkdir PATH]...   (folders the nodes mount over, made where the host lacks them)
 *                   [--world /ID]       (names the world in the host's process list; nothing else)
 *
 * Protocol (both directions): frames of [u32 len LE][u8 type][u32 id LE][payload: len-5 bytes].
 * Engine -> init:
 *   'S' spawn   payload: u32 flags, u32 nsPid, u32 join, str netPath, str cwd,
 *                        u32 argc, str argv..., u32 envc, str env...   (str = NUL-terminated)
 *                        [u32 stdinLen, stdin bytes]   (with flag 16)
 *               flags: 1 new net ns, 2 new mount ns, 4 stdin is a pipe (else /dev/null), 8 new uts ns,
 *                      16 stdin given inline (written and closed at once, so the command never waits)
 *               join:  namespaces of nsPid to enter: 1 mount, 2 net, 4 uts; netPath (a pinned
 *                      netns such as /run/netns/cni-x, resolved after the mount ns) overrides net.
 *                      nsPid 0 is the holder (the sandbox); the user namespace is always the holder's.
 *   'I' stdin data      'C' close stdin      'K' kill: u32 signal (to the child's process group)
 *   'Q' end the world
 * init -> engine:
 *   'R' ready (id 0): u32 holder pid   'P' started: u32 pid   'O' stdout data   'E' stderr data
 *   'X' exited: i32 exit code (-1 if signalled), i32 signal
 *   'F' failed to start (or a bad request): i32 errno, str message
 * A frame init cannot use (unknown kind, short payload, unknown id) is answered with 'F' where it
 * names a request, and otherwise dropped, with a line on stderr; only a length that cannot be a frame
 * (the stream is lost) ends the world.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* From linux/mount.h, which clashes with sys/mount.h on glibc 2.36. */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_pivot_root
#define SYS_pivot_root 155
#endif

struct podnet_mount_attr {
	unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

enum { F_NEWNET = 1, F_NEWNS = 2, F_STDIN = 4, F_NEWUTS = 8, F_STDIN_INLINE = 16, F_ALL = 31 };
enum { MAX_INLINE_STDIN = 60 * 1024 }; /* below a pipe's capacity: writing it never blocks */
enum { J_MNT = 1, J_NET = 2, J_UTS = 4 };
enum { MAX_FRAME = 16 * 1024 * 1024 };
enum { MAX_PATHS = 64 };

/* Where the new root is built (in world-init's own mount namespace), and where the world's state is in it. */
#define STAGE "/tmp"
#define STATE_IN_WORLD "/run/podnet"
/* Holds the kernel views a lab may mount afresh (read-only); covered, so no path reaches them. */
#define HOLD "/.podnet"

typedef struct child {
	uint32_t id;
	pid_t pid;
	int in_fd, out_fd, err_fd;
	int exited, status;
	struct child *next;
} child_t;

static child_t *children;
static sigset_t chld_mask;
static unsigned long max_procs; /* 0: unbounded */
static pid_t holder_pid;
static int holder_userns = -1;

/* pid_max bounds PID numbers, not processes; once the last PID is past 300, PIDs below it are never handed out again. */
enum { RESERVED_PIDS = 300 };

static void die(const char *what) {
	fprintf(stderr, "world-init: %s: %s\n", what, strerror(errno));
	_exit(1);
}

static void die_at(const char *what, const char *path) {
	fprintf(stderr, "world-init: %s %s: %s\n", what, path, strerror(errno));
	_exit(1);
}

static void write_all(int fd, const void *buf, size_t n) {
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR) continue;
			return; /* the engine is gone; the lifeline EOF will end us */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void send_frame(char type, uint32_t id, const void *payload, uint32_t plen) {
	uint8_t hdr[9];
	uint32_t len = plen + 5;
	memcpy(hdr, &len, 4);
	hdr[4] = (uint8_t)type;
	memcpy(hdr + 5, &id, 4);
	write_all(1, hdr, 9);
	if (plen) write_all(1, payload, plen);
}

static void send_i32x2(char type, uint32_t id, int32_t a, int32_t b) {
	int32_t v[2] = {a, b};
	send_frame(type, id, v, 8);
}

static void send_failed(uint32_t id, int err, const char *msg) {
	char buf[600];
	int32_t e = err;
	size_t n = strnlen(msg, 580);
	memcpy(buf, &e, 4);
	memcpy(buf + 4, msg, n);
	buf[4 + n] = 0;
	send_frame('F', id, buf, (uint32_t)(4 + n + 1));
}

static child_t *find_child(uint32_t id) {
	for (child_t *c = children; c; c = c->next)
		if (c->id == id) return c;
	return NULL;
}

static void maybe_finish(child_t *c) {
	if (!c->exited || c->out_fd >= 0 || c->err_fd >= 0) return;
	if (WIFEXITED(c->status)) send_i32x2('X', c->id, WEXITSTATUS(c->status), 0);
	else send_i32x2('X', c->id, -1, WIFSIGNALED(c->status) ? WTERMSIG(c->status) : 0);
	if (c->in_fd >= 0) close(c->in_fd);
	for (child_t **pp = &children; *pp; pp = &(*pp)->next)
		if (*pp == c) { *pp = c->next; break; }
	free(c);
}

/* ---- the world's root ---- */

static int write_file(const char *path, const char *v, int n) {
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	int ok = write(fd, v, (size_t)n) == n;
	int e = errno;
	close(fd);
	errno = e;
	return ok ? 0 : -1;
}

static int clone_tree(const char *path, int recursive) {
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
	if (fd < 0) die_at("cannot take hold of", path);
	return fd;
}

static void attach(int fd, const char *path) {
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) die_at("cannot attach at", path);
	close(fd);
}

static void set_ro(const char *path, int recursive) {
	struct podnet_mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a, sizeof a) < 0) die_at("cannot make read-only", path);
}

/* mkdir -p (existing folders are fine). */
static void make_path(const char *path, mode_t mode) {
	char buf[4096];
	if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; die_at("path too long:", path); }
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/') continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) die_at("cannot make", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST) die_at("cannot make", buf);
}

static void make_file(const char *path) {
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
	if (fd < 0) die_at("cannot make", path);
	close(fd);
}

static void bind(const char *src, const char *dst, int ro) {
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0) die_at("cannot bind over", dst);
	if (ro && mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		die_at("cannot make read-only", dst);
}

static int is_dir(const char *p) {
	struct stat st;
	return lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *p) {
	struct stat st;
	return lstat(p, &st) == 0;
}

static char *in_stage(const char *path) {
	static char buf[8][4096];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, sizeof buf[0], STAGE "%s", path);
	return b;
}

/* Whether path is one of (or under one of) the first n of list. */
static int under_any(const char *path, const char **list, int n) {
	for (int i = 0; i < n; i++) {
		size_t l = strlen(list[i]);
		if (strncmp(path, list[i], l) == 0 && (path[l] == '/' || path[l] == 0 || l == 1)) return 1;
	}
	return 0;
}

/* Files of the world's /etc that only the host's root may read: hidden, so a root-run world cannot read them either. */
static int hide_private(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
	(void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode) && !(st->st_mode & S_IROTH)) {
		bind(in_stage(HOLD "/empty"), path, 1);
	} else if (flag == FTW_D && !((st->st_mode & S_IROTH) && (st->st_mode & S_IXOTH))) {
		bind(in_stage(HOLD "/emptydir"), path, 1);
		return FTW_SKIP_SUBTREE;
	} else if (flag == FTW_DNR) {
		bind(in_stage(HOLD "/emptydir"), path, 1);
	}
	return FTW_CONTINUE;
}

typedef struct {
	const char *ro[MAX_PATHS], *rw[MAX_PATHS], *hide[MAX_PATHS], *hide_files[MAX_PATHS], *mkdirs[MAX_PATHS];
	int nro, nrw, nhide, nhide_files, nmkdirs;
	unsigned long long disk;
} root_spec_t;

/* Builds the world's root at STAGE, pivots into it and detaches the host's tree. */
static void build_root(const root_spec_t *spec) {
	static const char *top[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr", "/etc" };
	static const char *devs[] = { "null", "zero", "full", "random", "urandom", "tty", "net/tun" };
	enum { NTOP = sizeof top / sizeof *top, NDEV = sizeof devs / sizeof *devs };
	int top_fd[NTOP], dev_fd[NDEV], ro_fd[MAX_PATHS], rw_fd[MAX_PATHS], sys_fd;
	char top_link[NTOP][256];
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make the mounts private");

	/* 1. what the world sees of the host, taken before STAGE covers anything (an app under /tmp) */
	for (int i = 0; i < (int)NTOP; i++) {
		top_fd[i] = -1;
		top_link[i][0] = 0;
		struct stat st;
		if (lstat(top[i], &st) < 0) continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(top[i], top_link[i], sizeof top_link[i] - 1);
			top_link[i][n > 0 ? n : 0] = 0;
		} else if (S_ISDIR(st.st_mode)) {
			top_fd[i] = clone_tree(top[i], 1);
		}
	}
	for (int i = 0; i < (int)NDEV; i++) {
		char p[64];
		snprintf(p, sizeof p, "/dev/%s", devs[i]);
		dev_fd[i] = exists(p) ? clone_tree(p, 0) : -1;
	}
	for (int i = 0; i < spec->nro; i++) ro_fd[i] = under_any(spec->ro[i], top, NTOP) ? -1 : clone_tree(spec->ro[i], 1);
	for (int i = 0; i < spec->nrw; i++) rw_fd[i] = clone_tree(spec->rw[i], 1);
	sys_fd = clone_tree("/sys", 1);

	/* 2. the world's own disk: one tmpfs, size-bounded, for all it may write */
	char opts[96];
	if (spec->disk) snprintf(opts, sizeof opts, "mode=0755,size=%llu", spec->disk);
	else snprintf(opts, sizeof opts, "mode=0755");
	if (mount("podnet-world", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) die("mount the world's tmpfs");
	static const struct { const char *p; mode_t m; } dirs[] = {
		{"/dev", 0755}, {"/dev/pts", 0755}, {"/dev/shm", 01777}, {"/dev/net", 0755}, {"/proc", 0555}, {"/sys", 0555},
		{"/tmp", 01777}, {"/run", 0755}, {STATE_IN_WORLD, 0700}, {"/root", 0700}, {"/home", 0755}, {"/mnt", 0755},
		{"/opt", 0755}, {"/srv", 0755}, {"/var", 0755}, {"/var/tmp", 01777}, {"/var/lib", 0755}, {"/var/log", 0755},
		{"/var/cache", 0755}, {HOLD, 0755}, {HOLD "/emptydir", 0555}, {HOLD "/proc", 0555}, {HOLD "/sys", 0555},
		{HOLD "/etc/upper", 0755}, {HOLD "/etc/work", 0755},
	};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		make_path(in_stage(dirs[i].p), dirs[i].m);
		chmod(in_stage(dirs[i].p), dirs[i].m); /* past the umask */
	}
	make_file(in_stage(HOLD "/empty"));
	if (symlink("../run", in_stage("/var/run")) < 0) die("make /var/run");

	/* 3. the host's programs, libraries and settings, read-only. Folders the nodes mount over that /etc
	 * lacks (/etc/cni/net.d) are made in an overlay whose upper layer is out of the lab's reach; the host's
	 * /etc is its lower layer (an overlay can only be made here: the lab's copy of /etc is locked) */
	int etc_missing = 0;
	for (int i = 0; i < spec->nmkdirs; i++)
		if (under_any(spec->mkdirs[i], (const char *[]){"/etc"}, 1) && !exists(spec->mkdirs[i])) etc_missing = 1;
	for (int i = 0; i < (int)NTOP; i++) {
		if (etc_missing && !strcmp(top[i], "/etc") && top_fd[i] >= 0) {
			char o[256];
			snprintf(o, sizeof o, "lowerdir=/etc,upperdir=%s,workdir=%s", in_stage(HOLD "/etc/upper"), in_stage(HOLD "/etc/work"));
			make_path(in_stage("/etc"), 0755);
			if (mount("podnet-etc", in_stage("/etc"), "overlay", MS_NOSUID | MS_NODEV, o) < 0) die("overlay /etc");
			for (int j = 0; j < spec->nmkdirs; j++)
				if (under_any(spec->mkdirs[j], (const char *[]){"/etc"}, 1)) make_path(in_stage(spec->mkdirs[j]), 0755);
			set_ro(in_stage("/etc"), 0);
			close(top_fd[i]);
			continue;
		}
		if (top_link[i][0] && symlink(top_link[i], in_stage(top[i])) < 0) die_at("cannot link", top[i]);
		if (top_fd[i] < 0) continue;
		make_path(in_stage(top[i]), 0755);
		attach(top_fd[i], in_stage(top[i]));
		set_ro(in_stage(top[i]), 1);
	}
	/* the app's and Node.js's folders, the plugin folders (deepest last, so a parent never covers a child) */
	for (int i = 0; i < spec->nro; i++) {
		if (ro_fd[i] < 0) continue;
		make_path(in_stage(spec->ro[i]), 0755);
		attach(ro_fd[i], in_stage(spec->ro[i]));
		set_ro(in_stage(spec->ro[i]), 1);
	}
	for (int i = 0; i < spec->nrw; i++) {
		make_path(in_stage(spec->rw[i]), 0755);
		attach(rw_fd[i], in_stage(spec->rw[i]));
	}
	/* the other folders the nodes mount over, in the world's own (writable) folders */
	for (int i = 0; i < spec->nmkdirs; i++)
		if (!exists(in_stage(spec->mkdirs[i]))) make_path(in_stage(spec->mkdirs[i]), 0755);
	/* secrets of /etc: the named ones, then every file only the host's root may read */
	for (int i = 0; i < spec->nhide_files; i++) {
		const char *p = in_stage(spec->hide_files[i]);
		struct stat st;
		if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode)) bind(in_stage(HOLD "/empty"), p, 1);
	}
	for (int i = 0; i < spec->nhide; i++) {
		const char *p = in_stage(spec->hide[i]);
		if (is_dir(p)) bind(in_stage(HOLD "/emptydir"), p, 1);
	}
	if (is_dir(in_stage("/etc"))) nftw(in_stage("/etc"), hide_private, 32, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);

	/* 4. a minimal /dev: the harmless devices, a pty instance of its own; never the host's disks */
	for (int i = 0; i < (int)NDEV; i++) {
		if (dev_fd[i] < 0) continue;
		char p[64];
		snprintf(p, sizeof p, "/dev/%s", devs[i]);
		make_file(in_stage(p));
		attach(dev_fd[i], in_stage(p));
	}
	if (mount("devpts", in_stage("/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
		die("mount /dev/pts");
	static const char *links[][2] = {
		{"pts/ptmx", "/dev/ptmx"}, {"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
	};
	for (size_t i = 0; i < sizeof links / sizeof *links; i++)
		if (symlink(links[i][0], in_stage(links[i][1])) < 0) die_at("cannot link", links[i][1]);

	/* 5. the world's /proc: its sysctls read-only except the network's, which the CNI plugins set */
	const unsigned long pflags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	if (mount("proc", in_stage("/proc"), "proc", pflags, NULL) < 0) die("mount /proc");
	bind(in_stage("/proc/sys/net"), in_stage("/proc/sys/net"), 0);
	if (mount(in_stage("/proc/sys"), in_stage("/proc/sys"), NULL, MS_BIND | MS_REC, NULL) < 0) die("bind /proc/sys");
	if (mount(NULL, in_stage("/proc/sys"), NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | pflags, NULL) < 0)
		die("make /proc/sys read-only");
	/* runc's default masked and read-only paths */
	static const char *masked_files[] = { "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats" };
	static const char *masked_dirs[] = { "/proc/acpi", "/proc/scsi" };
	static const char *ro_paths[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger" };
	for (size_t i = 0; i < sizeof masked_files / sizeof *masked_files; i++)
		if (exists(in_stage(masked_files[i]))) bind(in_stage("/dev/null"), in_stage(masked_files[i]), 1);
	for (size_t i = 0; i < sizeof masked_dirs / sizeof *masked_dirs; i++)
		if (is_dir(in_stage(masked_dirs[i]))) bind(in_stage(HOLD "/emptydir"), in_stage(masked_dirs[i]), 1);
	for (size_t i = 0; i < sizeof ro_paths / sizeof *ro_paths; i++)
		if (exists(in_stage(ro_paths[i]))) bind(in_stage(ro_paths[i]), in_stage(ro_paths[i]), 1);

	/* 6. /sys, read-only, its firmware masked */
	attach(sys_fd, in_stage("/sys"));
	set_ro(in_stage("/sys"), 1);
	if (is_dir(in_stage("/sys/firmware"))) bind(in_stage(HOLD "/emptydir"), in_stage("/sys/firmware"), 1);

	/* 7. fresh, read-only, unmasked proc and sysfs, out of reach: the kernel lets a lab mount its own proc
	 * (a container's) or sysfs (`ip netns exec`) only like a fully visible one, so read-only as these */
	if (mount("proc", in_stage(HOLD "/proc"), "proc", pflags | MS_RDONLY, NULL) < 0) die("mount the spare proc");
	if (mount("sysfs", in_stage(HOLD "/sys"), "sysfs", pflags | MS_RDONLY, NULL) < 0) die("mount the spare sysfs");
	if (mount("podnet-hold", in_stage(HOLD), "tmpfs", pflags | MS_RDONLY, "mode=000,size=4k") < 0) die("cover " HOLD);

	/* 8. into it; the host's tree goes */
	if (chdir(STAGE) < 0) die("chdir to the new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
	if (umount2(".", MNT_DETACH) < 0) die("detach the host's tree");
	if (chdir("/") < 0) die("chdir /");
}

/* Forks the world's holder: a nested user namespace (mapped to world-init's root), with new mount,
 * network and IPC namespaces owned by it. Every mount of the world is locked there. */
static void start_holder(void) {
	int to_parent[2], to_child[2];
	if (pipe2(to_parent, O_CLOEXEC) < 0 || pipe2(to_child, O_CLOEXEC) < 0) die("pipe");
	pid_t pid = fork();
	if (pid < 0) die("fork the holder");
	if (pid == 0) {
		char b = 0;
		prctl(PR_SET_NAME, "world-confine");
		close(0);
		open("/dev/null", O_RDONLY);
		dup2(2, 1);
		if (unshare(CLONE_NEWUSER) < 0) { b = 1; write_all(to_parent[1], &b, 1); _exit(1); }
		write_all(to_parent[1], &b, 1);
		if (read(to_child[0], &b, 1) != 1 || b != 0) _exit(1);
		if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC) < 0) { fprintf(stderr, "world-init: holder: unshare: %s\n", strerror(errno)); _exit(1); }
		write_all(to_parent[1], &b, 1);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (;;) pause();
	}
	char b = 1;
	if (read(to_parent[0], &b, 1) != 1 || b != 0) { errno = EPERM; die("the holder's user namespace"); }
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/uid_map", pid);
	if (write_file(p, "0 0 1", 5) < 0) die("write the holder's uid_map");
	snprintf(p, sizeof p, "/proc/%d/setgroups", pid);
	write_file(p, "deny", 4); /* already denied in world-init's user namespace, and inherited */
	snprintf(p, sizeof p, "/proc/%d/gid_map", pid);
	if (write_file(p, "0 0 1", 5) < 0) die("write the holder's gid_map");
	b = 0;
	write_all(to_child[1], &b, 1);
	if (read(to_parent[0], &b, 1) != 1) { errno = ECHILD; die("the holder's namespaces"); }
	close(to_parent[0]); close(to_parent[1]); close(to_child[0]); close(to_child[1]);
	snprintf(p, sizeof p, "/proc/%d/ns/user", pid);
	holder_userns = open(p, O_RDONLY | O_CLOEXEC);
	if (holder_userns < 0) die("open the holder's user namespace");
	holder_pid = pid;
}

/* ---- commands ---- */

/* Reading a spawn request's payload. */
typedef struct { const char *p, *end; int bad; } reader_t;
static uint32_t rd_u32(reader_t *r) {
	uint32_t v = 0;
	if (r->end - r->p < 4) { r->bad = 1; return 0; }
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}
static const char *rd_str(reader_t *r) {
	const char *s = r->p;
	const char *z = r->p < r->end ? memchr(s, 0, (size_t)(r->end - s)) : NULL;
	if (!z) { r->bad = 1; return ""; }
	r->p = z + 1;
	return s;
}

/* execvpe searches the caller's PATH; a command must be found on its own environment's PATH. */
static void exec_with_path(char **argv, char **envp) {
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return;
	}
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
	int saw_eacces = 0;
	char full[4096];
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		if (dl + strlen(argv[0]) + 2 < sizeof full) {
			memcpy(full, p, dl);
			if (dl == 0) full[dl++] = '.';
			full[dl] = '/';
			strcpy(full + dl + 1, argv[0]);
			execve(full, argv, envp);
			if (errno == EACCES) saw_eacces = 1;
			else if (errno != ENOENT && errno != ENOTDIR) return;
		}
		if (!*end) break;
		p = end;
	}
	errno = saw_eacces ? EACCES : ENOENT;
}

/* In the child: report why it could not start, then exit. */
static void child_fail(int errpipe, const char *what, const char *arg) {
	char msg[560];
	int32_t e = errno;
	snprintf(msg, sizeof msg, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "", strerror(e));
	write_all(errpipe, &e, 4);
	write_all(errpipe, msg, strlen(msg) + 1);
	_exit(127);
}

static int open_ns(int errpipe, pid_t pid, const char *kind) {
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, kind);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) child_fail(errpipe, "open namespace", path);
	return fd;
}

static void enter_ns(int errpipe, int fd, int nstype, const char *what) {
	if (setns(fd, nstype) < 0) child_fail(errpipe, "setns", what);
	close(fd);
}

static void do_spawn(uint32_t id, const char *payload, uint32_t plen) {
	if (find_child(id)) { send_failed(id, EEXIST, "bad spawn request: the id is in use"); return; }
	reader_t r = {payload, payload + plen, 0};
	uint32_t flags = rd_u32(&r), ns_pid = rd_u32(&r), join = rd_u32(&r);
	const char *net_path = rd_str(&r), *cwd = rd_str(&r);
	uint32_t argc = rd_u32(&r);
	if (r.bad || argc == 0 || argc > 4096 || (flags & ~(uint32_t)F_ALL) || (join & ~(uint32_t)7) || ns_pid > 4194304) {
		send_failed(id, EINVAL, "bad spawn request");
		return;
	}
	char **argv = calloc(argc + 1, sizeof(char *));
	if (!argv) { send_failed(id, ENOMEM, "out of memory"); return; }
	for (uint32_t i = 0; i < argc; i++) argv[i] = (char *)rd_str(&r);
	uint32_t envc = rd_u32(&r);
	if (r.bad || envc > 4096) { free(argv); send_failed(id, EINVAL, "bad spawn request"); return; }
	char **envp = calloc(envc + 1, sizeof(char *));
	if (!envp) { free(argv); send_failed(id, ENOMEM, "out of memory"); return; }
	for (uint32_t i = 0; i < envc; i++) envp[i] = (char *)rd_str(&r);
	const char *inline_in = NULL;
	uint32_t inline_len = 0;
	if (flags & F_STDIN_INLINE) {
		inline_len = rd_u32(&r);
		if (inline_len > MAX_INLINE_STDIN || r.end - r.p < (long)inline_len) r.bad = 1;
		inline_in = r.p;
		flags |= F_STDIN;
	}
	if (r.bad) { free(argv); free(envp); send_failed(id, EINVAL, "bad spawn request"); return; }
	/* no namespace named: the sandbox, the holder's */
	if (!ns_pid) { ns_pid = (uint32_t)holder_pid; join = J_MNT | (net_path[0] ? 0 : J_NET); }

	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, ep[2] = {-1, -1};
	if ((flags & F_STDIN) && pipe2(in, O_CLOEXEC) < 0) goto fail;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0) goto fail;

	pid_t pid = fork();
	if (pid < 0) goto fail;
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid(); /* its own process group, so a kill reaches the plugins it runs too */
		/* the target's namespaces, opened while world-init's view of /proc is ours */
		int mnt = (join & J_MNT) ? open_ns(ep[1], (pid_t)ns_pid, "mnt") : -1;
		int uts = (join & J_UTS) ? open_ns(ep[1], (pid_t)ns_pid, "uts") : -1;
		int net = (join & J_NET) && !net_path[0] ? open_ns(ep[1], (pid_t)ns_pid, "net") : -1;
		/* the lab's user namespace first: from here on, no capability over world-init's */
		if (setns(holder_userns, CLONE_NEWUSER) < 0) child_fail(ep[1], "setns", "the world's user namespace");
		/* mount next: a netns path such as /run/netns/cni-x is resolved in the node's mounts */
		if (mnt >= 0) enter_ns(ep[1], mnt, CLONE_NEWNS, "mount");
		if (uts >= 0) enter_ns(ep[1], uts, CLONE_NEWUTS, "uts");
		if (net_path[0]) {
			int fd = open(net_path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) child_fail(ep[1], "open namespace", net_path);
			enter_ns(ep[1], fd, CLONE_NEWNET, net_path);
		} else if (net >= 0) {
			enter_ns(ep[1], net, CLONE_NEWNET, "net");
		}
		if (flags & (F_NEWNET | F_NEWNS | F_NEWUTS)) {
			int f = ((flags & F_NEWNET) ? CLONE_NEWNET : 0) | ((flags & F_NEWNS) ? CLONE_NEWNS : 0) |
				((flags & F_NEWUTS) ? CLONE_NEWUTS : 0);
			if (unshare(f) < 0) child_fail(ep[1], "unshare", NULL);
			if ((flags & F_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
				child_fail(ep[1], "make mounts private", NULL);
		}
		if (chdir(cwd[0] ? cwd : "/") < 0) child_fail(ep[1], "chdir", cwd);
		int devnull = open("/dev/null", O_RDONLY);
		if (dup2((flags & F_STDIN) ? in[0] : devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			child_fail(ep[1], "dup2", NULL);
		exec_with_path(argv, envp);
		child_fail(ep[1], "exec", argv[0]);
	}
	free(argv);
	free(envp);
	if (in[0] >= 0) close(in[0]);
	if (inline_in) {
		write_all(in[1], inline_in, inline_len);
		close(in[1]);
		in[1] = -1;
	}
	close(out[1]);
	close(err[1]);
	close(ep[1]);
	/* exec closes the error pipe (CLOEXEC): EOF means it started, data means it failed */
	int32_t cerr = 0;
	char msg[560] = {0};
	ssize_t n;
	do n = read(ep[0], &cerr, 4); while (n < 0 && errno == EINTR);
	if (n == 4) {
		ssize_t m, got = 0;
		while ((m = read(ep[0], msg + got, sizeof msg - 1 - (size_t)got)) > 0) got += m;
		close(ep[0]);
		if (in[1] >= 0) close(in[1]);
		close(out[0]);
		close(err[0]);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
		send_failed(id, cerr, msg);
		return;
	}
	close(ep[0]);
	child_t *c = calloc(1, sizeof *c);
	if (!c) { kill(pid, SIGKILL); send_failed(id, ENOMEM, "out of memory"); return; }
	c->id = id;
	c->pid = pid;
	c->in_fd = in[1];
	c->out_fd = out[0];
	c->err_fd = err[0];
	c->next = children;
	children = c;
	uint32_t p = (uint32_t)pid;
	send_frame('P', id, &p, 4);
	return;
fail:;
	int e = errno;
	for (int *fd = (int[]){in[0], in[1], out[0], out[1], err[0], err[1], ep[0], ep[1]}, i = 0; i < 8; i++)
		if (fd[i] >= 0) close(fd[i]);
	if (e == EAGAIN && max_procs) {
		char msg[120];
		snprintf(msg, sizeof msg, "the world has reached its limit of %lu processes", max_procs);
		send_failed(id, e, msg);
	} else {
		send_failed(id, e, "cannot create pipes or fork");
	}
	free(argv);
	free(envp);
}

static void end_world(int code) {
	kill(-1, SIGKILL); /* as PID 1 of the namespace: every other process of the world */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
	/* the world's files are its tmpfs: they go with its mount namespace */
	_exit(code);
}

static void reap(void) {
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (child_t *c = children; c; c = c->next) {
			if (c->pid == pid) {
				c->exited = 1;
				c->status = st;
				maybe_finish(c);
				break;
			}
		}
	}
}

static void bad_frame(char type, uint32_t id, const char *why) {
	fprintf(stderr, "world-init: dropped a frame (kind 0x%02x, id %u): %s\n", (unsigned char)type, id, why);
}

static void handle_frame(char type, uint32_t id, const char *payload, uint32_t plen) {
	child_t *c;
	switch (type) {
	case 'S':
		do_spawn(id, payload, plen);
		break;
	case 'I':
		if ((c = find_child(id)) && c->in_fd >= 0) write_all(c->in_fd, payload, plen);
		else bad_frame(type, id, "no such command, or its stdin is closed");
		break;
	case 'C':
		if ((c = find_child(id)) && c->in_fd >= 0) { close(c->in_fd); c->in_fd = -1; }
		break;
	case 'K':
		if (plen != 4) { bad_frame(type, id, "a kill carries one u32"); break; }
		if ((c = find_child(id)) && !c->exited) {
			uint32_t sig;
			memcpy(&sig, payload, 4);
			if (sig == 0 || sig >= 65) { bad_frame(type, id, "no such signal"); break; }
			if (kill(-c->pid, (int)sig) < 0) kill(c->pid, (int)sig);
		}
		break;
	case 'Q':
		end_world(0);
		break;
	default:
		bad_frame(type, id, "unknown kind");
		if (id) send_failed(id, EINVAL, "unknown request kind");
		break;
	}
}

/* Limits every process of the world inherits; the rlimits must hold, or the world would be unbounded. */
static void bound_world(unsigned long procs, unsigned long long mem) {
	if (procs) {
		struct rlimit rl = {procs, procs};
		if (setrlimit(RLIMIT_NPROC, &rl) < 0) die("setrlimit RLIMIT_NPROC");
		/* /proc is this namespace's own (unshare --mount-proc). Before Linux 6.14 pid_max is global and
		 * this fails: RLIMIT_NPROC alone bounds the world then (exact, except for the host's root). */
		char v[32];
		int n = snprintf(v, sizeof v, "%lu", procs + RESERVED_PIDS);
		if (write_file("/proc/sys/kernel/pid_max", v, n) < 0) {
			fprintf(stderr, "world-init: this kernel cannot bound a PID namespace (pid_max: %s); RLIMIT_NPROC alone bounds the world\n", strerror(errno));
		} else {
			/* PIDs from here on come from [RESERVED_PIDS, pid_max): exactly `procs` of them, besides init.
			 * Without it (no CONFIG_CHECKPOINT_RESTORE) the bound is looser: procs + 299 at most. */
			n = snprintf(v, sizeof v, "%d", RESERVED_PIDS);
			if (write_file("/proc/sys/kernel/ns_last_pid", v, n) < 0)
				fprintf(stderr, "world-init: cannot set ns_last_pid (%s): up to %lu processes\n", strerror(errno), procs + RESERVED_PIDS - 1);
		}
		max_procs = procs;
	}
	if (mem) {
		struct rlimit rl = {(rlim_t)mem, (rlim_t)mem};
		if (setrlimit(RLIMIT_AS, &rl) < 0) die("setrlimit RLIMIT_AS");
	}
}

static int parse_args(int argc, char **argv, root_spec_t *spec, unsigned long *procs, unsigned long long *mem) {
	if (argc < 4) return -1;
	char *end;
	errno = 0;
	*procs = strtoul(argv[1], &end, 10);
	if (*end || errno) return -1;
	*mem = strtoull(argv[2], &end, 10);
	if (*end || errno) return -1;
	spec->disk = strtoull(argv[3], &end, 10);
	if (*end || errno) return -1;
	for (int i = 4; i < argc; i += 2) {
		if (i + 1 >= argc || argv[i + 1][0] != '/' || strstr(argv[i + 1], "/../") || strlen(argv[i + 1]) > 3000) return -1;
		const char *v = argv[i + 1];
		if (!strcmp(argv[i], "--ro") && spec->nro < MAX_PATHS) spec->ro[spec->nro++] = v;
		else if (!strcmp(argv[i], "--rw") && spec->nrw < MAX_PATHS) spec->rw[spec->nrw++] = v;
		else if (!strcmp(argv[i], "--hide") && spec->nhide < MAX_PATHS) spec->hide[spec->nhide++] = v;
		else if (!strcmp(argv[i], "--hide-file") && spec->nhide_files < MAX_PATHS) spec->hide_files[spec->nhide_files++] = v;
		else if (!strcmp(argv[i], "--mkdir") && spec->nmkdirs < MAX_PATHS) spec->mkdirs[spec->nmkdirs++] = v;
		else if (!strcmp(argv[i], "--world")) continue; /* the world's id, for whoever reads the host's process list */
		else return -1;
	}
	return 0;
}

int main(int argc, char **argv) {
	root_spec_t spec = {0};
	unsigned long procs = 0;
	unsigned long long mem = 0;
	if (parse_args(argc, argv, &spec, &procs, &mem) < 0) {
		fprintf(stderr, "usage: world-init PROCS MEMBYTES DISKBYTES [--ro PATH]... [--rw PATH]... [--hide PATH]... [--hide-file PATH]... [--mkdir PATH]...\n");
		return 2;
	}
	if (getpid() != 1) {
		fprintf(stderr, "world-init: must run as PID 1 of a new PID namespace\n");
		return 2;
	}
	/* first of all: the lab's root may not ptrace world-init, read its /proc/1/root or take its descriptors */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) die("prctl PR_SET_DUMPABLE");
	/* nothing the engine held open comes in: its terminals' pty masters are not close-on-exec (node-pty) */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
		for (int fd = 3; fd < 65536; fd++) close(fd);
	signal(SIGPIPE, SIG_IGN);
	umask(022);
	bound_world(procs, mem);
	build_root(&spec);
	start_holder();
	sigemptyset(&chld_mask);
	sigaddset(&chld_mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld_mask, NULL);
	int sfd = signalfd(-1, &chld_mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) die("signalfd");

	uint32_t hp = (uint32_t)holder_pid;
	send_frame('R', 0, &hp, 4);

	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	if (!buf) die("malloc");
	for (;;) {
		size_t n = 2;
		for (child_t *c = children; c; c = c->next) n += 2;
		struct pollfd *pf = calloc(n, sizeof *pf);
		child_t **owner = calloc(n, sizeof *owner);
		int *is_err = calloc(n, sizeof *is_err);
		if (!pf || !owner || !is_err) die("calloc");
		size_t k = 0;
		pf[k].fd = 0; pf[k++].events = POLLIN;
		pf[k].fd = sfd; pf[k++].events = POLLIN;
		for (child_t *c = children; c; c = c->next) {
			if (c->out_fd >= 0) { owner[k] = c; pf[k].fd = c->out_fd; pf[k++].events = POLLIN; }
			if (c->err_fd >= 0) { owner[k] = c; is_err[k] = 1; pf[k].fd = c->err_fd; pf[k++].events = POLLIN; }
		}
		if (poll(pf, k, -1) < 0 && errno != EINTR) die("poll");
		/* child output first, so an exit event always follows its last output */
		for (size_t i = 2; i < k; i++) {
			if (!pf[i].revents) continue;
			child_t *c = owner[i];
			char data[65536];
			ssize_t r = read(pf[i].fd, data, sizeof data);
			if (r > 0) {
				send_frame(is_err[i] ? 'E' : 'O', c->id, data, (uint32_t)r);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(pf[i].fd);
				if (is_err[i]) c->err_fd = -1; else c->out_fd = -1;
			}
		}
		/* owners may have been freed by maybe_finish below, so finish in a second walk */
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0) {}
		}
		reap();
		for (child_t *c = children, *next; c; c = next) { next = c->next; maybe_finish(c); }
		int lifeline = pf[0].revents;
		free(pf); free(owner); free(is_err);
		if (lifeline) {
			if (len == cap) {
				char *nb = realloc(buf, cap * 2);
				if (!nb) die("realloc");
				buf = nb;
				cap *= 2;
			}
			ssize_t r = read(0, buf + len, cap - len);
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) end_world(0);
			if (r > 0) len += (size_t)r;
			size_t off = 0;
			while (len - off >= 9) {
				uint32_t flen, id;
				memcpy(&flen, buf + off, 4);
				if (flen < 5 || flen > MAX_FRAME) {
					/* no frame is that long or short: the stream cannot be followed any more */
					fprintf(stderr, "world-init: a frame of length %u: the engine's stream is lost, ending the world\n", flen);
					end_world(3);
				}
				if (len - off - 4 < flen) {
					if (flen + 4 > cap) {
						char *nb = realloc(buf, flen + 4);
						if (!nb) die("realloc");
						buf = nb;
						cap = flen + 4;
					}
					break;
				}
				memcpy(&id, buf + off + 5, 4);
				handle_frame(buf[off + 4], id, buf + off + 9, flen - 5);
				off += 4 + flen;
			}
			memmove(buf, buf + off, len - off);
			len -= off;
		}
	}
}
