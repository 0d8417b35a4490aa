/*
 * jvmm-agent: the container OS's host-facing agent. Listens on vsock port 1024 (any CID) and
 * answers one line per request: "ping" -> "pong", "version" -> the OS version from
 * /etc/os-release, "slot" -> the booted slot from the kernel command line; other lines are
 * echoed. One child per connection. Built static by jvmm's image builder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#define PORT 1024

static void field(const char *path, const char *key, char *out, size_t len) {
    char line[512];
    FILE *f = fopen(path, "r");
    snprintf(out, len, "unknown");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, key);
        if (p && (p == line || p[-1] == ' ' || p[-1] == '\n')) {
            p += strlen(key);
            p[strcspn(p, " \n\"")] = 0;
            snprintf(out, len, "%s", p[0] == '"' ? p + 1 : p);
            break;
        }
    }
    fclose(f);
}

static void serve(int c) {
    char buf[512];
    FILE *in = fdopen(c, "r");
    while (in && fgets(buf, sizeof buf, in)) {
        char reply[600];
        buf[strcspn(buf, "\r\n")] = 0;
        if (strcmp(buf, "ping") == 0) {
            snprintf(reply, sizeof reply, "pong\n");
        } else if (strcmp(buf, "version") == 0) {
            char v[128];
            field("/etc/os-release", "VERSION_ID=", v, sizeof v);
            snprintf(reply, sizeof reply, "%s\n", v);
        } else if (strcmp(buf, "slot") == 0) {
            char v[128];
            field("/proc/cmdline", "jvmm.slot=", v, sizeof v);
            snprintf(reply, sizeof reply, "%s\n", v);
        } else {
            snprintf(reply, sizeof reply, "%s\n", buf);
        }
        if (write(c, reply, strlen(reply)) < 0) break;
    }
    _exit(0);
}

int main(void) {
    struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_port = PORT, .svm_cid = VMADDR_CID_ANY};
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    signal(SIGCHLD, SIG_IGN);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 16) < 0) {
        perror("jvmm-agent: vsock");
        return 1;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        if (fork() == 0) { close(s); serve(c); }
        close(c);
    }
}
