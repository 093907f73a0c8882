/* An attacker inside a container (tests/exec/test_escape.py builds it with
 * ``cc -static`` and runs it as the container's command).
 *
 * It scans /proc without pause for the handles of every other process (exe,
 * cwd, root, fd/N, map_files/...), holds each one it can open (O_PATH) and logs
 * it: "reach <handle> <major>:<minor> <inode> <mode> <link target>". Once
 * <dir>/now exists (the test has stopped the processes that could keep the
 * files busy) it tries to write to every held handle that is a memfd or one
 * of the files named on the command line (a private copy of the host's
 * interpreter: never anything else) and logs "write <handle> ok|<errno>";
 * the write puts back the byte that is there. Then it creates <dir>/done and
 * keeps going until <dir>/stop exists.
 *
 * usage: escape_racer <dir> [<major>:<minor>:<inode> ...]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_HELD 4096

struct held {
    int fd;
    char handle[96];
    char link[160];
    dev_t dev;
    ino_t ino;
};

static struct held held[MAX_HELD];
static int n_held;
static FILE *log_file;
static char **targets;
static int n_targets;

static int is_target(const struct held *h)
{
    if (strncmp(h->link, "/memfd:", 7) == 0)
        return 1;
    for (int i = 0; i < n_targets; i++) {
        unsigned int major, minor;
        unsigned long inode;
        if (sscanf(targets[i], "%u:%u:%lu", &major, &minor, &inode) == 3 &&
            makedev(major, minor) == h->dev && inode == h->ino)
            return 1;
    }
    return 0;
}

static int known(dev_t dev, ino_t ino)
{
    for (int i = 0; i < n_held; i++)
        if (held[i].dev == dev && held[i].ino == ino)
            return 1;
    return 0;
}

static void try_handle(const char *handle)
{
    if (n_held == MAX_HELD)
        return;
    int fd = open(handle, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) < 0 || known(st.st_dev, st.st_ino)) {
        close(fd);
        return;
    }
    struct held *h = &held[n_held++];
    h->fd = fd;
    h->dev = st.st_dev;
    h->ino = st.st_ino;
    snprintf(h->handle, sizeof h->handle, "%s", handle);
    /* The link is read from the racer's own held fd: the handle it came
     * through may be gone by now (its process closed it or exec'd). */
    char own[32];
    snprintf(own, sizeof own, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(own, h->link, sizeof h->link - 1);
    h->link[len < 0 ? 0 : len] = 0;
    for (char *c = h->link; *c; c++)
        if (*c == ' ' || *c == '\n')
            *c = '_';
    fprintf(log_file, "reach %s %u:%u %lu %o %s\n", h->handle, major(h->dev), minor(h->dev),
            (unsigned long)h->ino, st.st_mode, h->link[0] ? h->link : "-");
}

static void try_directory(const char *directory)
{
    DIR *d = opendir(directory);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[96];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", directory, e->d_name);
        try_handle(path);
    }
    closedir(d);
}

static void scan(pid_t self)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;
    char path[96];
    static const char *links[] = {"exe", "cwd", "root"};
    while ((e = readdir(proc)) != NULL) {
        pid_t pid = atoi(e->d_name);
        if (pid <= 0 || pid == self)
            continue;
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "/proc/%d/%s", pid, links[i]);
            try_handle(path);
        }
        snprintf(path, sizeof path, "/proc/%d/fd", pid);
        try_directory(path);
        snprintf(path, sizeof path, "/proc/%d/map_files", pid);
        try_directory(path);
    }
    closedir(proc);
}

static void try_writes(void)
{
    char path[64];
    for (int i = 0; i < n_held; i++) {
        if (!is_target(&held[i]))
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%d", held[i].fd);
        int reader = open(path, O_RDONLY | O_CLOEXEC);
        int writer = open(path, O_WRONLY | O_CLOEXEC);
        unsigned char byte;
        int error = writer < 0 ? errno : 0;
        if (!error && (reader < 0 || pread(reader, &byte, 1, 0) != 1))
            error = reader < 0 ? errno : EIO;
        if (!error && pwrite(writer, &byte, 1, 0) != 1)
            error = errno;
        fprintf(log_file, "write %s %s\n", held[i].handle, error ? strerror(error) : "ok");
        if (reader >= 0)
            close(reader);
        if (writer >= 0)
            close(writer);
    }
}

static int exists(const char *directory, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", directory, name);
    return access(path, F_OK) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char path[512];
    snprintf(path, sizeof path, "%s/log", argv[1]);
    log_file = fopen(path, "a");
    if (log_file == NULL)
        return 2;
    setvbuf(log_file, NULL, _IOLBF, 0);
    targets = argv + 2;
    n_targets = argc - 2;
    pid_t self = getpid();
    fprintf(log_file, "ready %d\n", self);
    int wrote = 0;
    for (unsigned long pass = 0;; pass++) {
        scan(self);
        if (pass % 64)
            continue;
        if (!wrote && exists(argv[1], "now")) {
            try_writes();
            snprintf(path, sizeof path, "%s/done", argv[1]);
            close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
            wrote = 1;
        }
        if (exists(argv[1], "stop"))
            return 0;
    }
}
