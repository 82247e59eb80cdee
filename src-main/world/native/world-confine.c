/*
 * world-confine: confines the lab world's view of the host's files, then holds that view.
 *
 * Run by world-init in a new mount namespace of the world (spawn flag F_NEWNS). Every command of the
 * world then runs in this view (or a copy of it, for the nodes):
 *   - the whole host filesystem is read-only (one recursive mount_setattr), except the world's own
 *     /proc, whose sysctls the CNI plugins set in their network namespaces;
 *   - the user's data is not there at all: /home, /root, /tmp, /var/tmp, /run, /mnt, /media, /srv,
 *     /dev/shm and every --hide path get an empty tmpfs over them; --hide-file paths get /dev/null;
 *   - the world's state folder appears writable at /run/podnet, and a lab's working folder
 *     (--work DIR) writable at its own path; the app's own files (--keep DIR: its install folder,
 *     Node.js's) stay visible, read-only, at their paths. All are cloned before anything is hidden
 *     (open_tree), so their host paths may be under what is hidden (an app in the home folder).
 * Then it prints "confined" and waits: the world's other processes enter its mount namespace.
 *
 * usage: world-confine STATE_DIR [--work DIR] [--keep DIR]... [--hide DIR]... [--hide-file FILE]...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

struct podnet_mount_attr {
	unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

#define MAX_PATHS 64

static void die(const char *what, const char *path) {
	fprintf(stderr, "world-confine: %s%s%s: %s\n", what, path ? " " : "", path ? path : "", strerror(errno));
	exit(1);
}

static int clone_tree(const char *path) {
	int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0) die("cannot take hold of", path);
	return fd;
}

static void attach(int fd, const char *path) {
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) die("cannot attach at", path);
	close(fd);
}

static void set_attr(const char *path, unsigned long long set, unsigned long long clr) {
	struct podnet_mount_attr a = { .attr_set = set, .attr_clr = clr };
	if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &a, sizeof a) < 0) die("cannot change the mount flags of", path);
}

static int is_dir(const char *p) {
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
	struct stat st;
	return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* mkdir -p, on the (writable) tmpfs a hidden parent now is; existing folders are fine. */
static void make_path(const char *path) {
	char buf[4096];
	if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; die("path too long:", path); }
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/') continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) die("cannot make", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST) die("cannot make", buf);
}

int main(int argc, char **argv) {
	if (argc < 2 || argv[1][0] != '/') {
		fprintf(stderr, "usage: world-confine STATE_DIR [--work DIR] [--keep DIR]... [--hide DIR]... [--hide-file FILE]...\n");
		return 2;
	}
	const char *state = argv[1], *work = NULL;
	const char *hide[MAX_PATHS], *hide_files[MAX_PATHS], *keep[MAX_PATHS];
	int nh = 0, nf = 0, nk = 0, keep_fd[MAX_PATHS];
	static const char *always[] = { "/home", "/root", "/tmp", "/var/tmp", "/run", "/mnt", "/media", "/srv", "/dev/shm" };
	for (size_t i = 0; i < sizeof always / sizeof *always; i++) hide[nh++] = always[i];
	for (int i = 2; i < argc; i++) {
		if (i + 1 >= argc || argv[i + 1][0] != '/') { fprintf(stderr, "world-confine: %s needs an absolute path\n", argv[i]); return 2; }
		if (!strcmp(argv[i], "--work")) work = argv[++i];
		else if (!strcmp(argv[i], "--keep") && nk < MAX_PATHS) keep[nk++] = argv[++i];
		else if (!strcmp(argv[i], "--hide") && nh < MAX_PATHS) hide[nh++] = argv[++i];
		else if (!strcmp(argv[i], "--hide-file") && nf < MAX_PATHS) hide_files[nf++] = argv[++i];
		else { fprintf(stderr, "world-confine: unknown or too many arguments at %s\n", argv[i]); return 2; }
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("cannot make the mounts private", NULL);

	/* 1. what stays writable, taken before anything is made read-only or hidden */
	int state_fd = clone_tree(state);
	int work_fd = work ? clone_tree(work) : -1;
	for (int i = 0; i < nk; i++) keep_fd[i] = clone_tree(keep[i]);

	/* 2. the host's files, read-only; the world's own /proc stays writable (sysctls of its netns) */
	set_attr("/", MOUNT_ATTR_RDONLY, 0);
	set_attr("/proc", 0, MOUNT_ATTR_RDONLY);

	/* 3. the user's data, gone: an empty tmpfs over each folder, /dev/null over each file */
	for (int i = 0; i < nh; i++) {
		if (!is_dir(hide[i])) continue;
		if (mount("podnet-hidden", hide[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=256m") < 0) die("cannot hide", hide[i]);
	}
	for (int i = 0; i < nf; i++) {
		if (!is_file(hide_files[i])) continue;
		if (mount("/dev/null", hide_files[i], NULL, MS_BIND, NULL) < 0) die("cannot hide", hide_files[i]);
	}

	/* 4. the world's state at /run/podnet (in the new /run), and the lab's folder at its own path */
	if (mkdir("/run/podnet", 0700) < 0 && errno != EEXIST) die("cannot make", "/run/podnet");
	attach(state_fd, "/run/podnet");
	if (work_fd >= 0) {
		make_path(work);
		attach(work_fd, work);
	}
	/* the app's own files, where they were, read-only (a no-op where nothing above them was hidden) */
	for (int i = 0; i < nk; i++) {
		make_path(keep[i]);
		attach(keep_fd[i], keep[i]);
		set_attr(keep[i], MOUNT_ATTR_RDONLY, 0);
	}

	printf("confined\n");
	fflush(stdout);
	/* hold the view; the world's end (world-init's SIGKILL to all) ends this too */
	for (;;) pause();
}
