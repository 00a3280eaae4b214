/* stdfds: what a read of descriptor 0 and a write to descriptor 1 return,
 * reported on stderr (stdout may be /dev/full), for comparing probesim's
 * descriptors with the host's: stdin closed (<&-), stdout on /dev/full. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void report(const char *what, ssize_t n)
{
	if (n < 0)
		fprintf(stderr, "%s: -1 %s\n", what, strerror(errno));
	else
		fprintf(stderr, "%s: %zd\n", what, n);
}

int main(void)
{
	char buf[4];
	report("read(0)", read(0, buf, sizeof buf));
	report("write(1)", write(1, "x\n", 2));
	return 0;
}
