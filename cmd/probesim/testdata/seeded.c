/* seeded: print the 16 AT_RANDOM bytes and 16 bytes from getrandom(2), in hex.
 * Natively both change on every run; under probesim they are a function of
 * --seed. */
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/random.h>

static void hex(const char *label, const unsigned char *b, int n)
{
	printf("%s=", label);
	for (int i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

int main(void)
{
	unsigned char buf[16];
	const unsigned char *at = (const unsigned char *)getauxval(AT_RANDOM);

	if (at == NULL || getrandom(buf, sizeof buf, 0) != (ssize_t)sizeof buf)
		return 1;
	hex("at_random", at, 16);
	hex("getrandom", buf, 16);
	return 0;
}
