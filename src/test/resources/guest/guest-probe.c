/*
 * Guest-side helper for jvmm's end-to-end tests (static, runs from the test initramfs):
 *   guest-probe vsock-serve PORT N          accept N vsock connections, echo each until EOF
 *   guest-probe vsock-connect CID PORT N    make N connections to CID:PORT, echo each until EOF
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h> /* before linux/vm_sockets.h: Debian's arm64 cross headers need sockaddr first */
#include <linux/vm_sockets.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static long echo(int fd) {
    static char buf[65536];
    long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) { if (errno == EINTR) continue; perror("read"); return -1; }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, n - off);
            if (w < 0) { if (errno == EINTR) continue; perror("write"); return -1; }
            off += w;
        }
        total += n;
    }
    shutdown(fd, SHUT_WR);
    close(fd);
    return total;
}

static int wait_all(int n, const char *what) {
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) failed++;
    }
    printf("guest-probe: %s: %d of %d connections echoed to EOF\n", what, n - failed, n);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "vsock-serve") == 0) {
        int n = atoi(argv[3]);
        int s = socket(AF_VSOCK, SOCK_STREAM, 0);
        struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = (unsigned) atoi(argv[2])};
        if (s < 0 || bind(s, (struct sockaddr *) &a, sizeof a) < 0 || listen(s, 64) < 0) { perror("vsock listen"); return 1; }
        printf("guest-probe: listening on vsock port %s\n", argv[2]);
        fflush(stdout);
        for (int i = 0; i < n; i++) {
            int c = accept(s, 0, 0);
            if (c < 0) { perror("accept"); return 1; }
            if (fork() == 0) { close(s); exit(echo(c) < 0 ? 1 : 0); }
            close(c);
        }
        return wait_all(n, "vsock-serve");
    }
    if (argc == 5 && strcmp(argv[1], "vsock-connect") == 0) {
        int n = atoi(argv[4]);
        for (int i = 0; i < n; i++) {
            if (fork() == 0) {
                struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = (unsigned) atoi(argv[2]),
                                        .svm_port = (unsigned) atoi(argv[3])};
                /* The host's listener may come up after the guest: retry for up to 120 s. */
                for (int tries = 0;; tries++) {
                    int c = socket(AF_VSOCK, SOCK_STREAM, 0);
                    if (c < 0) { perror("vsock socket"); exit(1); }
                    /* Linux gives up on a vsock connect after 2 s; a nested lab can be slower. */
                    struct timeval tv = {.tv_sec = 60};
                    setsockopt(c, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof tv);
                    if (connect(c, (struct sockaddr *) &a, sizeof a) == 0) exit(echo(c) < 0 ? 1 : 0);
                    close(c);
                    if (tries == 240) { perror("vsock connect"); exit(1); }
                    usleep(500000);
                }
            }
        }
        return wait_all(n, "vsock-connect");
    }
    fprintf(stderr, "usage: guest-probe vsock-serve PORT N | vsock-connect CID PORT N\n");
    return 2;
}
