/*
 * world-init: PID 1 of a Podnet Lab world.
 *
 * It is started by the engine inside `unshare --user --map-root-user --net --mount --pid --fork`,
 * so it owns the world's namespaces. It does three things:
 *   1. holds the world: when it exits, the kernel kills every process of the PID namespace, and
 *      with them every network namespace, interface and mount of the lab;
 *   2. watches its lifeline: stdin is a pipe from the engine; at EOF (the engine exited or was
 *      killed with SIGKILL) it kills the world, removes the world's state directory and exits;
 *   3. runs commands for the engine, in the sandbox, a node or a pod, with setns(2) in a forked
 *      child: one fork+exec per command, as cheap as a shell loop inside the world.
 * It also reaps orphans, as an init must, and bounds the world (argv: stateDir [maxProcs [maxMemBytes]]):
 * RLIMIT_NPROC counts the world's own processes (per user namespace since Linux 5.14) but the kernel
 * waives it when the world's root is the host's root, so the PID namespace's own pid_max (per
 * namespace since Linux 6.14) bounds it as well: PIDs start above the reserved 300, so pid_max = 300 +
 * maxProcs leaves exactly maxProcs of them. RLIMIT_AS bounds each process's memory.
 *
 * Protocol (both directions): frames of [u32 len LE][u8 type][u32 id LE][payload: len-5 bytes].
 * Engine -> init:
 *   'S' spawn   payload: u32 flags, u32 nsPid, u32 join, str netPath, str cwd,
 *                        u32 argc, str argv..., u32 envc, str env...   (str = NUL-terminated)
 *                        [u32 stdinLen, stdin bytes]   (with flag 16)
 *               flags: 1 new net ns, 2 new mount ns, 4 stdin is a pipe (else /dev/null), 8 new uts ns,
 *                      16 stdin given inline (written and closed at once, so the command never waits)
 *               join:  namespaces of nsPid to enter: 1 mount, 2 net, 4 uts; netPath (a pinned
 *                      netns such as /run/netns/cni-x, resolved after the mount ns) overrides net
 *   'I' stdin data      'C' close stdin      'K' kill: u32 signal (to the child's process group)
 * init -> engine:
 *   'R' ready (id 0)    'P' started: u32 pid   'O' stdout data   'E' stderr data
 *   'X' exited: i32 exit code (-1 if signalled), i32 signal
 *   'F' failed to start: i32 errno, str message
 */
#define _GNU_SOURCE
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
#include <sys/wait.h>
#include <unistd.h>

enum { F_NEWNET = 1, F_NEWNS = 2, F_STDIN = 4, F_NEWUTS = 8, F_STDIN_INLINE = 16 };
enum { MAX_INLINE_STDIN = 60 * 1024 }; /* below a pipe's capacity: writing it never blocks */
enum { J_MNT = 1, J_NET = 2, J_UTS = 4 };
enum { MAX_FRAME = 16 * 1024 * 1024 };

typedef struct child {
	uint32_t id;
	pid_t pid;
	int in_fd, out_fd, err_fd;
	int exited, status;
	struct child *next;
} child_t;

static child_t *children;
static const char *state_dir;
static sigset_t chld_mask;
static unsigned long max_procs; /* 0: unbounded */

/* pid_max bounds PID numbers, not processes; once the last PID is past 300, PIDs below it are never handed out again. */
enum { RESERVED_PIDS = 300 };

static void die(const char *what) {
	fprintf(stderr, "world-init: %s: %s\n", what, strerror(errno));
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
	const char *z = memchr(s, 0, (size_t)(r->end - s));
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

static int enter_ns(int errpipe, const char *path, int nstype) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) child_fail(errpipe, "open namespace", path);
	if (setns(fd, nstype) < 0) child_fail(errpipe, "setns", path);
	close(fd);
	return 0;
}

static void do_spawn(uint32_t id, const char *payload, uint32_t plen) {
	reader_t r = {payload, payload + plen, 0};
	uint32_t flags = rd_u32(&r), ns_pid = rd_u32(&r), join = rd_u32(&r);
	const char *net_path = rd_str(&r), *cwd = rd_str(&r);
	uint32_t argc = rd_u32(&r);
	if (r.bad || argc == 0 || argc > 4096) { send_failed(id, EINVAL, "bad spawn request"); return; }
	char **argv = calloc(argc + 1, sizeof(char *));
	for (uint32_t i = 0; i < argc; i++) argv[i] = (char *)rd_str(&r);
	uint32_t envc = rd_u32(&r);
	if (r.bad || envc > 4096) { free(argv); send_failed(id, EINVAL, "bad spawn request"); return; }
	char **envp = calloc(envc + 1, sizeof(char *));
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
		char path[64];
		/* mount first: a netns path such as /run/netns/cni-x is resolved in the node's mounts */
		if (ns_pid && (join & J_MNT)) { snprintf(path, sizeof path, "/proc/%u/ns/mnt", ns_pid); enter_ns(ep[1], path, CLONE_NEWNS); }
		if (ns_pid && (join & J_UTS)) { snprintf(path, sizeof path, "/proc/%u/ns/uts", ns_pid); enter_ns(ep[1], path, CLONE_NEWUTS); }
		if (net_path[0]) enter_ns(ep[1], net_path, CLONE_NEWNET);
		else if (ns_pid && (join & J_NET)) { snprintf(path, sizeof path, "/proc/%u/ns/net", ns_pid); enter_ns(ep[1], path, CLONE_NEWNET); }
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

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
	(void)sb; (void)ftw;
	if (flag == FTW_DP) rmdir(path);
	else unlink(path);
	return 0;
}

/* Unmount anything under the state directory first: never follow a bind mount out of it. */
static void detach_mounts_under(const char *dir) {
	size_t dl = strlen(dir);
	for (int pass = 0; pass < 8; pass++) {
		FILE *f = fopen("/proc/self/mountinfo", "r");
		if (!f) return;
		char line[4096], mp[4096];
		int found = 0;
		while (fgets(line, sizeof line, f)) {
			if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
			if (strncmp(mp, dir, dl) == 0 && (mp[dl] == '/' || mp[dl] == 0)) {
				umount2(mp, MNT_DETACH);
				found = 1;
			}
		}
		fclose(f);
		if (!found) return;
	}
}

static void end_world(int code) {
	kill(-1, SIGKILL); /* as PID 1 of the namespace: every other process of the world */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
	if (state_dir && state_dir[0] == '/') {
		detach_mounts_under(state_dir);
		nftw(state_dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	}
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

static void handle_frame(char type, uint32_t id, const char *payload, uint32_t plen) {
	child_t *c;
	switch (type) {
	case 'S':
		do_spawn(id, payload, plen);
		break;
	case 'I':
		if ((c = find_child(id)) && c->in_fd >= 0) write_all(c->in_fd, payload, plen);
		break;
	case 'C':
		if ((c = find_child(id)) && c->in_fd >= 0) { close(c->in_fd); c->in_fd = -1; }
		break;
	case 'K':
		if ((c = find_child(id)) && !c->exited && plen >= 4) {
			uint32_t sig;
			memcpy(&sig, payload, 4);
			if (kill(-c->pid, (int)sig) < 0) kill(c->pid, (int)sig);
		}
		break;
	case 'Q':
		end_world(0);
		break;
	default:
		break;
	}
}

static int write_file(const char *path, const char *v, int n) {
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	int ok = write(fd, v, (size_t)n) == n;
	int e = errno;
	close(fd);
	errno = e;
	return ok ? 0 : -1;
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

int main(int argc, char **argv) {
	state_dir = argc > 1 ? argv[1] : NULL;
	if (getpid() != 1) {
		fprintf(stderr, "world-init: must run as PID 1 of a new PID namespace\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (argc > 2) bound_world(strtoul(argv[2], NULL, 10), argc > 3 ? strtoull(argv[3], NULL, 10) : 0);
	sigemptyset(&chld_mask);
	sigaddset(&chld_mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld_mask, NULL);
	int sfd = signalfd(-1, &chld_mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) die("signalfd");

	send_frame('R', 0, NULL, 0);

	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		size_t n = 2;
		for (child_t *c = children; c; c = c->next) n += 2;
		struct pollfd *pf = calloc(n, sizeof *pf);
		child_t **owner = calloc(n, sizeof *owner);
		int *is_err = calloc(n, sizeof *is_err);
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
			if (len == cap) { cap *= 2; buf = realloc(buf, cap); }
			ssize_t r = read(0, buf + len, cap - len);
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) end_world(0);
			if (r > 0) len += (size_t)r;
			size_t off = 0;
			while (len - off >= 9) {
				uint32_t flen, id;
				memcpy(&flen, buf + off, 4);
				if (flen < 5 || flen > MAX_FRAME) end_world(3); /* a broken engine: end the world */
				if (len - off - 4 < flen) {
					if (flen + 4 > cap) { cap = flen + 4; buf = realloc(buf, cap); }
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
