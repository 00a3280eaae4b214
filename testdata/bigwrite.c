/* bigwrite MIB: writes MIB mebibytes of a repeating pattern to stdout,
   1 MiB per write(2), and prints nothing else. */
#include <stdlib.h>
#include <unistd.h>

static char buf[1 << 20];

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = 'a' + i % 26;
    for (long i = 0; i < n; i++) {
        size_t off = 0;
        while (off < sizeof buf) {
            ssize_t w = write(1, buf + off, sizeof buf - off);
            if (w <= 0)
                return 1;
            off += w;
        }
    }
    return 0;
}
