/* Shared by test-stream.c and test-stream-tls.c: a loop per test, stream
 * pairs over a socketpair, a chunked writer, and throwaway certificates.
 * Each side of a pair runs in its own coroutine and frees its own stream.
 */
#ifndef SEAL_STREAM_TEST_H
#define SEAL_STREAM_TEST_H

#include "coro/coro.h"
#include "coro/stream-internal.h"
#include "coro/stream.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* Timings and heap statistics mean nothing under a sanitizer or Valgrind
 * (both replace malloc, and slow everything down). */
static inline bool measurements_valid(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(SEAL_SANITIZE)
	return false;
#else
	return !RUNNING_ON_VALGRIND;
#endif
}

static uv_loop_t test_loop;

struct duo {
	struct stream *s[2];	/* [0] server side, [1] client side */
	struct tls_config *srv, *cli;
	int done[2];
	void *extra;
};

static inline void rt_start(void)
{
	CHECK_INT(uv_loop_init(&test_loop), ==, 0);
	CHECK_INT(coro_runtime_init(&test_loop), ==, 0);
}

static inline void rt_finish(void)
{
	struct coro_stats st;
	coro_get_stats(&st);
	CHECK_INT(st.live, ==, 0);
	coro_runtime_shutdown();
	uv_run(&test_loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&test_loop), ==, 0);
}

static inline void duo_open(struct duo *d)
{
	int fds[2];
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), ==, 0);
	d->s[0] = stream_new_socket(fds[0]);
	d->s[1] = stream_new_socket(fds[1]);
}

/* Runs server(d) and client(d) until both are done, on a fresh loop. */
static inline void duo_run(struct duo *d, coro_fn *server, coro_fn *client)
{
	rt_start();
	duo_open(d);
	CHECK(coro_spawn(server, d, 0) != NULL);
	CHECK(coro_spawn(client, d, 0) != NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	CHECK_INT(d->done[0], ==, 1);
	CHECK_INT(d->done[1], ==, 1);
	rt_finish();
}

/* Writes data in pieces of chunk bytes, each flushed, letting the peer run
 * in between: a peer then sees every possible split. */
static inline void write_chunked(struct stream *s, const void *data, size_t len,
				 size_t chunk)
{
	const char *p = data;
	while (len > 0) {
		size_t n = len < chunk ? len : chunk;
		CHECK_INT(stream_write(s, p, n), ==, 0);
		CHECK_INT(stream_flush(s), ==, 0);
		coro_yield();
		p += n;
		len -= n;
	}
}

static inline void expect_line(struct stream *s, const char *want, bool crlf)
{
	const char *line;
	size_t len;
	CHECK_INT(stream_read_line(s, &line, &len), ==, 0);
	CHECK_INT(len, ==, strlen(want));
	CHECK_STR(line, want);
	CHECK_INT(stream_last_line_crlf(s), ==, crlf);
}

/* A deterministic byte pattern, so that 8 MiB need not sit in memory. */
static inline unsigned char pattern_at(size_t off)
{
	return (unsigned char)((off * 2654435761u) >> 13);
}

static inline void pattern_fill(unsigned char *buf, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_at(off + i);
}

/* --- Certificates made for the test -------------------------------------- */

struct cert_dir {
	char dir[64];
	char cert[128];
	char key[128];
};

static inline void cert_make(struct cert_dir *c, bool rsa)
{
	snprintf(c->dir, sizeof(c->dir), "/tmp/test-stream-XXXXXX");
	CHECK(mkdtemp(c->dir) != NULL);
	snprintf(c->cert, sizeof(c->cert), "%s/c.pem", c->dir);
	snprintf(c->key, sizeof(c->key), "%s/k.pem", c->dir);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey %s -nodes -subj /CN=localhost -days 1 "
		 "-keyout %s -out %s >/dev/null 2>&1",
		 rsa ? "rsa:2048" : "ec -pkeyopt ec_paramgen_curve:P-256", c->key, c->cert);
	CHECK_INT(system(cmd), ==, 0);
}

static inline void cert_remove(struct cert_dir *c)
{
	unlink(c->cert);
	unlink(c->key);
	rmdir(c->dir);
}

static inline struct tls_config *server_config(const struct cert_dir *c)
{
	const char *err = NULL;
	struct tls_config *cfg = tls_config_new_server(c->cert, c->key, &err);
	if (!cfg)
		test_fail(__FILE__, __LINE__, "server config: %s", err);
	return cfg;
}

static inline struct tls_config *client_config(const char *ca_file, bool verify)
{
	const char *err = NULL;
	struct tls_config *cfg = tls_config_new_client(ca_file, verify, &err);
	if (!cfg)
		test_fail(__FILE__, __LINE__, "client config: %s", err);
	return cfg;
}


static inline size_t rss_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

#endif
