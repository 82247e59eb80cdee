// The pod sandbox's pause process, as small as Kubernetes' own pause: it holds the pod's namespaces and
// does nothing else. Started in its own mount and UTS namespaces (world-init makes them, "/" already
// private), it first binds the sandbox's files over /etc (what containerd mounts into the sandbox
// container), sets the pod's hostname, says "ready" on stdout, then sleeps until SIGTERM or SIGINT.
// One exec instead of a shell, three mounts and hostname: pod setup stays close to the raw baseline.
//
// usage: pause FILES_DIR [HOSTNAME]
//        pause                  (no arguments: as Kubernetes' pause, the sandbox image of the real containerd;
//                                containerd made the mounts and the hostname already)
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t done;

static void on_stop(int sig) { (void)sig; done = 1; }

// a container that shares the pid namespace would leave zombies for the pause to reap, as the real one does
static void on_child(int sig) {
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

int main(int argc, char **argv) {
	if (argc > 3) {
		fprintf(stderr, "usage: pause FILES_DIR [HOSTNAME]\n");
		return 2;
	}
	static const char *const files[] = {"hostname", "hosts", "resolv.conf"};
	for (size_t i = 0; argc > 1 && i < sizeof files / sizeof *files; i++) {
		char src[4096], dst[64];
		snprintf(dst, sizeof dst, "/etc/%s", files[i]);
		if (snprintf(src, sizeof src, "%s/%s", argv[1], files[i]) >= (int)sizeof src) {
			fprintf(stderr, "pause: %s: path too long\n", argv[1]);
			return 1;
		}
		struct stat st;
		// a node without the file has nothing to mount over (as the shell version's `[ -e ]` did)
		if (stat(dst, &st) < 0) continue;
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
			fprintf(stderr, "pause: mount --bind %s %s: %s\n", src, dst, strerror(errno));
			return 1;
		}
	}
	if (argc == 3 && sethostname(argv[2], strlen(argv[2])) < 0) {
		fprintf(stderr, "pause: sethostname %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	struct sigaction stop = {.sa_handler = on_stop}, child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGCHLD, &child, NULL);
	// the engine waits for this line (PAUSE_READY in runtime/containerd.ts)
	if (printf("podnet: sandbox ready\n") < 0 || fflush(stdout) != 0) return 1;
	while (!done) pause();
	return 0;
}
