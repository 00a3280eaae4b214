/* pipebench MODE N: pipe and socket syscalls for probesim-bench's pipes
   table. MODE "rw": one thread writes 64 bytes into a pipe and reads them
   back, N times (2N syscalls, never blocking). MODE "pingpong": two
   threads pass a 4-byte token through two pipes N times (4N syscalls,
   every read blocking until the other thread writes). MODE "tcp": the
   same token over a loopback TCP connection (127.0.0.1, an ephemeral
   port), and MODE "unix" over an AF_UNIX socketpair; the few syscalls
   that set them up are not counted. Prints the syscall count. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int ping[2], pong[2];
static long rounds;

/* Two connected stream sockets, over loopback TCP or a socketpair. */
static int sock_pair(int tcp, int sv[2]) {
    if (!tcp)
        return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
        getsockname(l, (struct sockaddr *)&a, &len))
        return -1;
    sv[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (sv[0] < 0 || connect(sv[0], (struct sockaddr *)&a, sizeof a))
        return -1;
    sv[1] = accept(l, NULL, NULL);
    close(l);
    setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return sv[1] < 0 ? -1 : 0;
}

static void *ponger(void *arg) {
    (void)arg;
    int v;
    for (long i = 0; i < rounds; i++) {
        if (read(ping[0], &v, sizeof v) != sizeof v)
            exit(3);
        v++;
        if (write(pong[1], &v, sizeof v) != sizeof v)
            exit(3);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3)
        return 2;
    rounds = atol(argv[2]);
    if (strcmp(argv[1], "rw") == 0) {
        int p[2];
        char buf[64] = {0};
        if (pipe(p) != 0)
            return 1;
        for (long i = 0; i < rounds; i++) {
            buf[0] = (char)i;
            if (write(p[1], buf, sizeof buf) != sizeof buf || read(p[0], buf, sizeof buf) != sizeof buf ||
                buf[0] != (char)i)
                return 1;
        }
        printf("syscalls %ld\n", 2 * rounds);
        return 0;
    }
    int tcp = strcmp(argv[1], "tcp") == 0;
    if (tcp || strcmp(argv[1], "unix") == 0) {
        /* The ponger reads ping[0] and writes pong[1]: one socket each way. */
        int sv[2];
        if (sock_pair(tcp, sv) != 0)
            return 1;
        ping[1] = pong[0] = sv[0];
        ping[0] = pong[1] = sv[1];
    } else if (strcmp(argv[1], "pingpong") != 0) {
        return 2;
    } else if (pipe(ping) != 0 || pipe(pong) != 0) {
        return 1;
    }
    {
        pthread_t t;
        if (pthread_create(&t, NULL, ponger, NULL) != 0)
            return 1;
        int v = 0;
        for (long i = 0; i < rounds; i++) {
            if (write(ping[1], &v, sizeof v) != sizeof v || read(pong[0], &v, sizeof v) != sizeof v)
                return 1;
        }
        pthread_join(t, NULL);
        printf("syscalls %ld token %d\n", 4 * rounds, v);
        return 0;
    }
    return 2;
}
