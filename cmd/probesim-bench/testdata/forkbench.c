/* forkbench N: N fork+exit+wait round trips for probesim-bench's
   processes table. Each round forks a child that calls _exit(0) at once
   and waits for it with waitpid; a child that does not exit 0 stops the
   run (status 1). Prints the number of rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    if (argc > 2 || n < 1) {
        fprintf(stderr, "usage: forkbench N   (N >= 1)\n");
        return 2;
    }
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            _exit(0);
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "forkbench: round %ld: child did not exit 0\n", i);
            return 1;
        }
    }
    printf("rounds=%ld\n", n);
    return 0;
}
