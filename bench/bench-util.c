#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>

#include "bench/bench.h"
#include "coro/connect.h"
#include "coro/coro.h"
#include "coro/stream.h"

static void parse_stat_line(const char *line, struct bench_stats *st)
{
	unsigned long long a, b, c;
	if (sscanf(line, "= rss_bytes: %llu", &a) == 1)
		st->rss_bytes = a;
	else if (sscanf(line, "= connections: %llu", &a) == 1)
		st->connections = a;
	else if (sscanf(line, "= stacks_mapped: %llu", &a) == 1)
		st->stacks_mapped = a;
	else if (sscanf(line, "= loop_lag_window_us: p50 %llu p99 %llu max %llu", &a, &b,
			&c) == 3) {
		st->lag_p50_us = a;
		st->lag_p99_us = b;
		st->lag_max_us = c;
	}
}

int bench_admin_stats(const char *socket_path, struct bench_stats *st)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	memset(st, 0, sizeof(*st));
	if (strlen(socket_path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, socket_path, strlen(socket_path) + 1);
	int fd = coro_connect((struct sockaddr *)&sun, sizeof(sun), coro_deadline_in(10000));
	if (fd < 0)
		return fd;
	struct stream *s = stream_new_socket(fd);
	stream_set_timeout(s, 30000);
	int r = stream_puts(s, "stats\n");
	if (r == 0)
		r = stream_flush(s);
	for (;;) {
		const char *line;
		size_t len;
		if (r == 0)
			r = stream_read_line(s, &line, &len);
		if (r < 0 || strcmp(line, "OK") == 0)
			break;
		if (strncmp(line, "ERR", 3) == 0) {
			r = -EPROTO;
			break;
		}
		parse_stat_line(line, st);
	}
	stream_free(&s);
	return r;
}

void bench_raise_nofile(unsigned want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want > rl.rlim_max ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		fprintf(stderr, "sealmail-bench: open files limited to %llu (wanted %u)\n",
			(unsigned long long)rl.rlim_cur, want);
}

void bench_print_idle(const struct bench_opts *o, const struct bench_stats *before,
		      const struct bench_stats *after, unsigned up, unsigned failed,
		      int first_error, double seconds)
{
	double grown = (double)after->rss_bytes - (double)before->rss_bytes;
	printf("scenario idle-tls: %u connections, %u in parallel, %s:%u\n", o->connections,
	       o->parallel, o->host, o->port);
	printf("%-38s %14s\n", "metric", "value");
	printf("%-38s %14u\n", "connections up", up);
	printf("%-38s %14u\n", "connections failed", failed);
	if (failed)
		printf("%-38s %14s\n", "first error", strerror(-first_error));
	printf("%-38s %14.1f\n", "handshakes per second", seconds > 0 ? up / seconds : 0);
	printf("%-38s %14.1f\n", "server RSS before (MiB)", before->rss_bytes / 1048576.0);
	printf("%-38s %14.1f\n", "server RSS after (MiB)", after->rss_bytes / 1048576.0);
	printf("%-38s %14.1f\n", "RSS per idle connection (KiB)",
	       up ? grown / up / 1024.0 : 0.0);
	printf("%-38s %14" PRIu64 "\n", "server connections", after->connections);
	printf("%-38s %14" PRIu64 "\n", "server coroutine stacks", after->stacks_mapped);
	printf("%-38s %14" PRIu64 "\n", "loop lag p50 during handshakes (us)", after->lag_p50_us);
	printf("%-38s %14" PRIu64 "\n", "loop lag p99 during handshakes (us)", after->lag_p99_us);
	printf("%-38s %14" PRIu64 "\n", "loop lag max during handshakes (us)", after->lag_max_us);
	printf("%-38s %14s\n", "target RSS per connection (KiB)", "<= 48");
	printf("%-38s %14s\n", "target loop lag p99 (us)", "< 2000");
}
