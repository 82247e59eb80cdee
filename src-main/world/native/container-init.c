// A container's start in the model runtime, as runc would make it: the pod's hostname (the pause's UTS
// namespace), a PID and a mount namespace of its own, a read-only /proc, the sandbox's files bound over
// /etc (containerd's WithPodHostname/WithPodResolvConf), then the command under a tiny init that
// forwards SIGTERM and SIGINT. One exec where `nsenter … unshare … sh -c '…'` took seven.
//
// usage: container-init UTS_NS FILES_DIR -- COMMAND [ARG...]
//
// The process the engine started stays outside, as `unshare --fork` did: it holds the container's mount
// namespace and, as pid_for_children, its PID namespace (CRI Exec joins both through it), ignores SIGTERM
// and SIGINT (a kill reaches its process group: the init and the command), and ends as the init ended.
// The init, PID 1 inside, says CONTAINER_STARTED (runtime/containerd.ts) on stderr once the command is
// forked, then waits for it and exits with its status (128 + the signal if one ended it, as sh's wait).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STARTED "podnet: container started"
// as the shell init did: SIGTERM again every 200 ms, five times at most, while the command runs
#define RESENDS 5
#define RESEND_NS 200000000L

static void fail(const char *what, const char *arg) {
	fprintf(stderr, "container-init: %s %s: %s\n", what, arg, strerror(errno));
	exit(1);
}

// PID 1 of the container: its mounts, the command, and its signals
static int run_init(const char *files, char **cmd, const sigset_t *caught, const sigset_t *old) {
	// a proc the world refuses is reported and the command still runs, as with the shell's plain `mount`
	if (mount("proc", "/proc", "proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		fprintf(stderr, "container-init: mount proc /proc (read-only): %s\n", strerror(errno));
	static const char *const names[] = {"hostname", "hosts", "resolv.conf"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char src[4096], dst[64];
		snprintf(dst, sizeof dst, "/etc/%s", names[i]);
		if (snprintf(src, sizeof src, "%s/%s", files, names[i]) >= (int)sizeof src) {
			errno = ENAMETOOLONG;
			fail("bind", files);
		}
		struct stat st;
		if (stat(dst, &st) < 0) continue; // a node without the file has nothing to bind over
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0) fail("mount --bind", src);
	}
	pid_t c = fork();
	if (c < 0) fail("fork", cmd[0]);
	if (c == 0) {
		sigprocmask(SIG_SETMASK, old, NULL);
		execvp(cmd[0], cmd);
		int e = errno;
		fprintf(stderr, "container-init: %s: %s\n", cmd[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	fprintf(stderr, "%s\n", STARTED);
	int forwarded = 0;
	for (;;) {
		int st;
		pid_t p;
		// every orphan of the container is this init's to reap; the command's status is the container's
		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			if (p == c) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		struct timespec wait = {0, RESEND_NS};
		int sig = sigtimedwait(caught, NULL, forwarded > 0 && forwarded < RESENDS ? &wait : NULL);
		if ((sig == SIGTERM || sig == SIGINT) && !forwarded) {
			kill(c, SIGTERM);
			forwarded = 1;
		} else if (sig < 0 && errno == EAGAIN && forwarded > 0 && forwarded < RESENDS) {
			// a SIGTERM that came between the command's fork and its exec was lost to the copied handler
			if (kill(c, SIGTERM) == 0) forwarded++;
			else forwarded = RESENDS;
		}
	}
}

int main(int argc, char **argv) {
	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: container-init UTS_NS FILES_DIR -- COMMAND [ARG...]\n");
		return 2;
	}
	int uts = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (uts < 0) fail("open", argv[1]);
	if (setns(uts, CLONE_NEWUTS) < 0) fail("setns", argv[1]);
	close(uts);
	if (unshare(CLONE_NEWNS | CLONE_NEWPID) < 0) fail("unshare", "mount+pid");
	// as unshare(1) --mount: the new namespace's mounts propagate nowhere
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("make-rprivate", "/");
	sigset_t caught, old;
	sigemptyset(&caught);
	sigaddset(&caught, SIGTERM);
	sigaddset(&caught, SIGINT);
	sigaddset(&caught, SIGCHLD);
	sigprocmask(SIG_BLOCK, &caught, &old);
	pid_t init = fork();
	if (init < 0) fail("fork", "the container's init");
	if (init == 0) exit(run_init(argv[2], argv + 4, &caught, &old));
	// the holder: SIGTERM and SIGINT stay blocked (unshare --fork ignores them too); SIGKILL ends it
	int st;
	while (waitpid(init, &st, 0) < 0)
		if (errno != EINTR) fail("wait", "the container's init");
	if (WIFEXITED(st)) return WEXITSTATUS(st);
	signal(WTERMSIG(st), SIG_DFL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	kill(getpid(), WTERMSIG(st));
	return 128 + WTERMSIG(st);
}
