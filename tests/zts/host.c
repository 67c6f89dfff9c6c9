/*
 * A threaded host for thread-safe PHP, shaped like FrankenPHP's worker mode: each of THREADS
 * long-lived threads starts one PHP request, then handles REQUESTS "requests" inside it (each
 * runs SCRIPT, with $smtp_thread and $smtp_request set) with no request shutdown or startup in
 * between, so no extension's RINIT/RSHUTDOWN runs; before request IDLE_AT it waits IDLE_MS
 * milliseconds, idle inside its loop as a worker waiting for the next HTTP request. Then one
 * request shutdown, and the thread's PHP state is freed (ts_free_thread) before it ends.
 *
 *   host SCRIPT THREADS REQUESTS IDLE_AT IDLE_MS
 *
 * php.ini comes from PHPRC (the extension and the smtp.* settings). All threads start together.
 * Exit status 0 when every thread ran every request to its end; the checks of what reached
 * the server are tests/zts/check.py's.
 */
#include <sapi/embed/php_embed.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *script;
static int requests, idle_at, idle_ms;
static pthread_barrier_t start;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0) {
	}
}

static void *worker(void *arg)
{
	intptr_t t = (intptr_t)arg;
	intptr_t failed = 0;
	char code[4096];

	/* This thread's PHP globals (every module's GINIT runs for it). */
	ts_resource(0);
	pthread_barrier_wait(&start);
	SG(options) |= SAPI_OPTION_NO_CHDIR;
	if (php_request_startup() == FAILURE) {
		fprintf(stderr, "host: thread %d: request startup failed\n", (int)t);
		ts_free_thread();
		return (void *)1;
	}
	SG(headers_sent) = 1;
	SG(request_info).no_headers = 1;
	for (int r = 0; r < requests && !failed; r++) {
		if (r == idle_at) {
			sleep_ms(idle_ms);
		}
		snprintf(code, sizeof code, "$smtp_thread = %d; $smtp_request = %d; require '%s';",
			(int)t, r, script);
		zend_try {
			if (zend_eval_string_ex(code, NULL, "worker request", 1) != SUCCESS || EG(exit_status) != 0) {
				failed = 1;
			}
		} zend_catch {
			failed = 1;
		} zend_end_try();
		if (failed) {
			fprintf(stderr, "host: thread %d: request %d failed\n", (int)t, r);
		}
	}
	php_request_shutdown(NULL);
	ts_free_thread();
	return (void *)failed;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: host SCRIPT THREADS REQUESTS IDLE_AT IDLE_MS\n");
		return 2;
	}
	script = argv[1];
	int threads = atoi(argv[2]);
	requests = atoi(argv[3]);
	idle_at = atoi(argv[4]);
	idle_ms = atoi(argv[5]);
	if (threads < 1 || threads > 256 || requests < 1) {
		fprintf(stderr, "host: bad THREADS or REQUESTS\n");
		return 2;
	}

	char *php_argv[] = { "host", NULL };
	if (php_embed_init(1, php_argv) == FAILURE) {
		fprintf(stderr, "host: php_embed_init failed\n");
		return 1;
	}
	pthread_t *ids = calloc((size_t)threads, sizeof *ids);
	pthread_barrier_init(&start, NULL, (unsigned)threads);
	int failed = 0;
	for (int t = 0; t < threads; t++) {
		if (pthread_create(&ids[t], NULL, worker, (void *)(intptr_t)t) != 0) {
			fprintf(stderr, "host: cannot start thread %d\n", t);
			return 1;
		}
	}
	for (int t = 0; t < threads; t++) {
		void *rc;
		pthread_join(ids[t], &rc);
		failed |= rc != NULL;
	}
	pthread_barrier_destroy(&start);
	free(ids);
	php_embed_shutdown();
	if (!failed) {
		printf("host: %d threads x %d requests done\n", threads, requests);
	}
	return failed;
}
