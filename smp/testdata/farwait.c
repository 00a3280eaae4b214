/* farwait: timeouts too far away to ever come.
 *
 *   farwait sleep SEC   nanosleep for SEC seconds, then print "woke"
 *   farwait wait SEC    sem_timedwait with a CLOCK_REALTIME deadline SEC
 *                       seconds after the epoch, on a semaphore another
 *                       thread posts after 1 ms; print how it ended
 *
 * Linux caps such timeouts at KTIME_MAX (timespec64_to_ktime), so a sleep
 * of 2^62 s never ends and the wait ends by the post, not by the deadline. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sem_t sem;

static void *poster(void *arg)
{
	struct timespec d = {0, 1000000};
	(void)arg;
	nanosleep(&d, NULL);
	sem_post(&sem);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	struct timespec ts = {(time_t)strtoll(argv[2], NULL, 10), 0};
	if (strcmp(argv[1], "sleep") == 0) {
		nanosleep(&ts, NULL);
		puts("woke");
		return 0;
	}
	sem_init(&sem, 0, 0);
	pthread_t th;
	pthread_create(&th, NULL, poster, NULL);
	int rc = sem_timedwait(&sem, &ts);
	puts(rc == 0 ? "posted" : errno == ETIMEDOUT ? "timed out" : "failed");
	pthread_join(th, NULL);
	return 0;
}
