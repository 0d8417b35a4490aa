/*
 * jvmm-agent: the container OS's host-facing agent, built static by jvmm's image builder; jvmm's
 * AgentClient and ReadyListener (dev.jvmm.agent) are the other ends.
 *
 * Serving (no arguments): vsock port 1024, any CID, one child per connection (at most MAX_CONN).
 * One request line at a time (at most MAX_LINE bytes with its newline), one reply line each:
 *   ping -> pong; version -> VERSION_ID; slot -> jvmm.slot from the kernel command line;
 *   status -> "ready=0|1 slot=S version=V uptime=SECONDS"; reboot, poweroff -> "ok", then does it;
 *   anything else, or a line too long -> "error: ...".
 *   exec CMD -> /bin/sh -c CMD (stdin /dev/null), answered with frames instead of a line: one type
 *   byte, a 4-byte big-endian length, the payload. 'o' stdout bytes, 'e' stderr bytes, then one 'x'
 *   whose 4-byte big-endian payload is the exit status (128+N if signal N killed it). A host that
 *   closes the connection kills the command's process group.
 * "jvmm-agent notify-ready" (init, once the system is up): sends "READY slot=S version=V" to the
 * host (CID 2, port 1025), prints the host's one-line answer; gives up quietly within seconds.
 * JVMM_AGENT_UNIX=PATH is for jvmm's tests only: a Unix socket at PATH instead of vsock (PATH_1025
 * for notify-ready), and reboot/poweroff do nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/vm_sockets.h>

#define PORT 1024
#define READY_PORT 1025
#define MAX_LINE 4096
#define MAX_CONN 16
#define CHUNK 4096
#define READY_FILE "/run/jvmm-ready"
#define READY_WAIT_MS 15000

static const char *test_path; /* JVMM_AGENT_UNIX */

/* The value of "key" (e.g. "VERSION_ID=") in a file of key=value words, unquoted; "unknown" if absent. */
static void field(const char *path, const char *key, char *out, size_t len) {
    char line[4096];
    FILE *f = fopen(path, "r");
    snprintf(out, len, "unknown");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, key);
        if (p && (p == line || p[-1] == ' ')) {
            p += strlen(key);
            if (*p == '"') p++;
            p[strcspn(p, " \t\r\n\"")] = 0;
            if (*p) snprintf(out, len, "%s", p);
            break;
        }
    }
    fclose(f);
}

static int send_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One reply line, sent with one call so it arrives whole. */
__attribute__((format(printf, 2, 3))) static int reply(int c, const char *fmt, ...) {
    char b[MAX_LINE];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n > sizeof b - 2) n = sizeof b - 2;
    b[n++] = '\n';
    return send_all(c, b, (size_t)n);
}

static int frame(int c, char type, const void *data, uint32_t n) {
    unsigned char b[5 + CHUNK];
    if (n > CHUNK) return -1;
    b[0] = (unsigned char)type;
    b[1] = n >> 24; b[2] = n >> 16; b[3] = n >> 8; b[4] = n;
    memcpy(b + 5, data, n);
    return send_all(c, b, 5 + n);
}

static int exit_frame(int c, uint32_t status) {
    unsigned char s[4] = {status >> 24, status >> 16, status >> 8, status};
    return frame(c, 'x', s, 4);
}

/* exec could not start: the reason on stderr, status 126 (the shell's "cannot execute"). */
static int failed(int c, const char *what) {
    char m[128];
    int n = snprintf(m, sizeof m, "jvmm-agent: %s: %s\n", what, strerror(errno));
    return frame(c, 'e', m, n > 0 && n < (int)sizeof m ? (uint32_t)n : 0) < 0 ? -1 : exit_frame(c, 126);
}

static void kill_group(pid_t pid) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

/* exec: runs cmd, forwards its output as frames, ends with its status. -1: the host is gone. */
static int run(int c, const char *cmd) {
    int out[2], err[2], st = 0, done = 0, drained = 0;
    char buf[CHUNK];
    pid_t pid;
    if (!*cmd) {
        static const char m[] = "jvmm-agent: exec needs a command\n";
        return frame(c, 'e', m, sizeof m - 1) < 0 ? -1 : exit_frame(c, 2);
    }
    if (pipe2(out, O_CLOEXEC) < 0) return failed(c, "pipe");
    if (pipe2(err, O_CLOEXEC) < 0) {
        close(out[0]); close(out[1]);
        return failed(c, "pipe");
    }
    if ((pid = fork()) < 0) {
        close(out[0]); close(out[1]); close(err[0]); close(err[1]);
        return failed(c, "fork");
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        setsid(); /* its own process group, so a vanished host can kill all of it */
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) _exit(126);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    struct pollfd p[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {c, POLLRDHUP, 0}};
    for (;;) {
        if (!done && waitpid(pid, &st, WNOHANG) == pid) done = 1;
        if (done && p[0].fd < 0 && p[1].fd < 0) break;
        /* Once it exited, only what is already there: a background child may hold the pipes.
           Both pipes closed: it is about to exit (or closed them itself), so look again soon. */
        int n = poll(p, 3, done ? 0 : p[0].fd < 0 && p[1].fd < 0 ? 20 : 200);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (n == 0 && done) || (done && ++drained > 64)) break;
        if (p[2].revents & (POLLRDHUP | POLLHUP | POLLERR)) goto gone;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || !p[i].revents) continue;
            ssize_t r = read(p[i].fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                close(p[i].fd);
                p[i].fd = -1;
            } else if (frame(c, i ? 'e' : 'o', buf, (uint32_t)r) < 0) {
                goto gone;
            }
        }
    }
    for (int i = 0; i < 2; i++) if (p[i].fd >= 0) close(p[i].fd);
    if (!done) while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return exit_frame(c, WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255);
gone:
    kill_group(pid);
    if (!done) waitpid(pid, &st, 0);
    return -1;
}

/* Answers one request; -1 ends the connection. */
static int handle(int c, char *req) {
    char a[128], b[128], up[32] = "0";
    if (strcmp(req, "ping") == 0) return reply(c, "pong");
    if (strcmp(req, "version") == 0) {
        field("/etc/os-release", "VERSION_ID=", a, sizeof a);
        return reply(c, "%s", a);
    }
    if (strcmp(req, "slot") == 0) {
        field("/proc/cmdline", "jvmm.slot=", a, sizeof a);
        return reply(c, "%s", a);
    }
    if (strcmp(req, "status") == 0) {
        FILE *f = fopen("/proc/uptime", "r");
        if (f) {
            if (fscanf(f, "%31s", up) != 1) snprintf(up, sizeof up, "0");
            fclose(f);
        }
        field("/proc/cmdline", "jvmm.slot=", a, sizeof a);
        field("/etc/os-release", "VERSION_ID=", b, sizeof b);
        return reply(c, "ready=%d slot=%s version=%s uptime=%s", access(READY_FILE, F_OK) == 0, a, b, up);
    }
    if (strcmp(req, "exec") == 0 || strncmp(req, "exec ", 5) == 0) return run(c, req[4] ? req + 5 : "");
    if (strcmp(req, "reboot") == 0 || strcmp(req, "poweroff") == 0) {
        int off = req[0] == 'p';
        reply(c, "ok");
        if (test_path) return -1; /* tests: never reboot the host */
        shutdown(c, SHUT_WR);
        sync();
        usleep(200000); /* lets the reply leave before the machine goes */
        reboot(off ? RB_POWER_OFF : RB_AUTOBOOT);
        return reply(c, "error: reboot: %s", strerror(errno));
    }
    return reply(c, "error: unknown request '%.64s'", req);
}

/* One connection: lines of at most MAX_LINE bytes, in a buffer of that size. */
static void serve(int c) {
    char buf[MAX_LINE + 1];
    size_t have = 0;
    for (;;) {
        char *nl = memchr(buf, '\n', have);
        if (!nl) {
            if (have == MAX_LINE) {
                reply(c, "error: request longer than %d bytes", MAX_LINE - 1);
                break;
            }
            ssize_t r = read(c, buf + have, MAX_LINE - have);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            have += (size_t)r;
            continue;
        }
        size_t used = (size_t)(nl - buf) + 1;
        *nl = 0;
        if (nl > buf && nl[-1] == '\r') nl[-1] = 0;
        if (handle(c, buf) < 0) break;
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    close(c);
    _exit(0);
}

static int unix_addr(struct sockaddr_un *a, const char *path, const char *suffix) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    return snprintf(a->sun_path, sizeof a->sun_path, "%s%s", path, suffix) >= (int)sizeof a->sun_path ? -1 : 0;
}

static int listener(void) {
    struct sockaddr_vm vm = {.svm_family = AF_VSOCK, .svm_port = PORT, .svm_cid = VMADDR_CID_ANY};
    struct sockaddr_un un;
    int s;
    if (test_path) {
        if (unix_addr(&un, test_path, "") < 0) return -1;
        unlink(un.sun_path);
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || bind(s, (struct sockaddr *)&un, sizeof un) < 0) return -1;
    } else {
        s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || bind(s, (struct sockaddr *)&vm, sizeof vm) < 0) return -1;
    }
    return listen(s, MAX_CONN) < 0 ? -1 : s;
}

/* One console line, written with one call so it is not torn by other writers. */
static void say(const char *text) {
    char b[512];
    int n = snprintf(b, sizeof b, "jvmm-os: %s\n", text);
    if (n > 0 && write(1, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1) < 0) {}
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* The host's answer line by the deadline, printable characters only; -1 on timeout, error or EOF first. */
static int answer(int s, char *out, size_t len, long deadline) {
    size_t n = 0;
    for (;;) {
        struct pollfd p = {s, POLLIN, 0};
        char ch;
        long left = deadline - now_ms();
        if (left <= 0) return -1;
        int k = poll(&p, 1, (int)left);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        ssize_t r = read(s, &ch, 1);
        if (r <= 0) return n > 0 ? 0 : -1;
        if (ch == '\n') break;
        if (n < len - 1) out[n++] = (ch >= 32 && ch < 127) ? ch : '?';
        out[n] = 0;
    }
    out[n] = 0;
    return 0;
}

static int notify_ready(void) {
    char slot[64], version[64], msg[192], ans[256] = "";
    struct sockaddr_vm vm = {.svm_family = AF_VSOCK, .svm_port = READY_PORT, .svm_cid = VMADDR_CID_HOST};
    struct sockaddr_un un;
    struct timeval tv = {5, 0};
    long deadline = now_ms() + READY_WAIT_MS; /* the whole exchange: never hold up the boot for long */
    int s, ok;
    field("/proc/cmdline", "jvmm.slot=", slot, sizeof slot);
    field("/etc/os-release", "VERSION_ID=", version, sizeof version);
    snprintf(msg, sizeof msg, "READY slot=%s version=%s\n", slot, version);
    if (test_path) {
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok = s >= 0 && unix_addr(&un, test_path, "_1025") == 0 && connect(s, (struct sockaddr *)&un, sizeof un) == 0;
    } else {
        s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s >= 0) setsockopt(s, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv);
        ok = s >= 0 && connect(s, (struct sockaddr *)&vm, sizeof vm) == 0;
    }
    if (ok) setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (!ok || send_all(s, msg, strlen(msg)) < 0 || answer(s, ans, sizeof ans, deadline) < 0) {
        say("no host listener for readiness (port 1025)");
    } else {
        char line[300];
        snprintf(line, sizeof line, "host: %s", ans);
        say(line);
    }
    if (s >= 0) close(s);
    return 0;
}

int main(int argc, char **argv) {
    int s, live = 0;
    test_path = getenv("JVMM_AGENT_UNIX");
    if (argc > 1) {
        if (strcmp(argv[1], "notify-ready") == 0) return notify_ready();
        fprintf(stderr, "usage: jvmm-agent [notify-ready]\n");
        return 2;
    }
    if ((s = listener()) < 0) {
        perror("jvmm-agent: listen");
        return 1;
    }
    for (;;) {
        int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
        while (waitpid(-1, NULL, WNOHANG) > 0) live--;
        if (c < 0) {
            if (errno != EINTR) usleep(100000); /* e.g. out of descriptors: no busy loop */
            continue;
        }
        if (live >= MAX_CONN) {
            reply(c, "error: busy (%d connections)", MAX_CONN);
        } else {
            pid_t pid = fork();
            if (pid == 0) {
                close(s);
                serve(c);
            }
            if (pid > 0) live++;
        }
        close(c);
    }
}
