/* pipebench MODE N: pipe syscalls for probesim-bench's pipes table.
   MODE "rw": one thread writes 64 bytes into a pipe and reads them back,
   N times (2N syscalls, never blocking). MODE "pingpong": two threads
   pass a 4-byte token through two pipes N times (4N syscalls, every read
   blocking until the other thread writes). Prints the syscall count. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ping[2], pong[2];
static long rounds;

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
    if (strcmp(argv[1], "pingpong") == 0) {
        pthread_t t;
        if (pipe(ping) != 0 || pipe(pong) != 0 || pthread_create(&t, NULL, ponger, NULL) != 0)
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
