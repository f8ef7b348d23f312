/*
 * backend/daemon.h: becoming a daemon the usual Unix way.
 *
 * Owns: the double fork with a readiness pipe (the command that started
 * the daemon returns only once the daemon is serving, with its exit status
 * saying whether it got there), stdio to /dev/null, and the pid file.
 */
#ifndef VMSG_BACKEND_DAEMON_H
#define VMSG_BACKEND_DAEMON_H

/*
 * Detach from the terminal: fork twice, setsid, chdir /, stdio to
 * /dev/null. The original process waits until the daemon calls
 * vmsg_daemon_ready() and exits 0, or exits 1 if the daemon died first.
 * Returns 0 in the daemon, a negative errno if forking failed (still in
 * the original process).
 */
int vmsg_daemonize(void);

/* Tell the waiting original process that start-up succeeded. No-op when
 * not daemonized. */
void vmsg_daemon_ready(void);

/* Write our pid to `path` (created or truncated). 0 or -errno. */
int vmsg_pidfile_write(const char *path);

#endif
