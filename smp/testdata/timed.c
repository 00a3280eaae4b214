/* timed: sleeps and timed waits, whose results do not depend on how fast the
 * machine is: nanosleep, clock_nanosleep, a semaphore wait that times out,
 * and a condition variable signalled by a thread that sleeps first. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *signaller(void *arg)
{
	struct timespec d = {0, 3000000};
	(void)arg;
	nanosleep(&d, NULL);
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

int main(void)
{
	long long t0 = now_ns();
	struct timespec d = {0, 2000000};
	nanosleep(&d, NULL);
	printf("nanosleep 2ms: %s\n", now_ns() - t0 >= 2000000 ? "ok" : "too short");

	t0 = now_ns();
	clock_nanosleep(CLOCK_MONOTONIC, 0, &d, NULL);
	printf("clock_nanosleep 2ms: %s\n", now_ns() - t0 >= 2000000 ? "ok" : "too short");

	sem_t sem;
	sem_init(&sem, 0, 0);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 1000000;
	if (dl.tv_nsec >= 1000000000) { dl.tv_sec++; dl.tv_nsec -= 1000000000; }
	int rc = sem_timedwait(&sem, &dl);
	printf("sem_timedwait: %s\n", rc == -1 && errno == ETIMEDOUT ? "timed out" : "unexpected");

	pthread_t th;
	pthread_create(&th, NULL, signaller, NULL);
	pthread_mutex_lock(&mu);
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	pthread_join(th, NULL);
	printf("cond signalled after the thread slept: ok\n");
	return 0;
}
