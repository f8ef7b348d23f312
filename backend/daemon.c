/*
 * backend/daemon.c: double fork, readiness pipe, pid file (see daemon.h).
 */
#include "config.h"

#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int ready_fd = -1;

int vmsg_daemonize(void)
{
    int pfd[2], devnull;
    pid_t pid;
    char c;

    if (pipe(pfd) < 0)
        return -errno;
    pid = fork();
    if (pid < 0) {
        int err = -errno;
        close(pfd[0]);
        close(pfd[1]);
        return err;
    }
    if (pid > 0) {
        /* The original process: succeed only once the daemon says so; EOF
         * without a byte means it died during start-up. */
        close(pfd[1]);
        waitpid(pid, NULL, 0);
        _exit(read(pfd[0], &c, 1) == 1 ? 0 : 1);
    }
    close(pfd[0]);
    if (setsid() < 0)
        _exit(1);
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);   /* the session leader goes: we can never get a terminal */
    if (chdir("/") < 0)
        _exit(1);
    umask(022);
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
        if (devnull > STDERR_FILENO)
            close(devnull);
    }
    ready_fd = pfd[1];
    return 0;
}

void vmsg_daemon_ready(void)
{
    if (ready_fd < 0)
        return;
    if (write(ready_fd, "1", 1) < 0) {
        /* The starter is gone already: nobody to tell. */
    }
    close(ready_fd);
    ready_fd = -1;
}

int vmsg_pidfile_write(const char *path)
{
    FILE *f = fopen(path, "we");
    int rc = 0;

    if (!f)
        return -errno;
    if (fprintf(f, "%ld\n", (long)getpid()) < 0)
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}
