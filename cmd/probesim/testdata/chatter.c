/* chatter: write LINES numbered lines to standard output (default
 * 1,000,000), one write(2) each, ignoring errors: a guest whose output a
 * pipeline cuts short (| head -1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long lines = argc > 1 ? atol(argv[1]) : 1000000;
	char buf[32];

	for (long i = 0; i < lines; i++) {
		int n = snprintf(buf, sizeof buf, "line %ld\n", i);
		if (write(1, buf, (size_t)n) < 0) {
			/* EPIPE: go on, as a program that ignores it would */
		}
	}
	return 0;
}
