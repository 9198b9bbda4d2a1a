/* sealmail-bench: load generator on sealmail's own coroutine runtime.
 *
 *   sealmail-bench idle --port P --admin SOCK [--connections N] [--parallel K]
 *
 * Other scenarios live in scenario-*.c: store, imap (an IMAP workload),
 * imap-fill (mailboxes filled by APPEND), imap-idle (sessions in IDLE),
 * smtp (deliveries over LMTP or SMTP-in).
 *
 * Scenario "idle": opens N TLS connections to the IMAPS port (K handshakes
 * in flight at once), reads each greeting, keeps them all idle, and reports
 * handshakes per second and the server's RSS (from `admin stats`) before
 * and after, per connection, with the server's loop lag during the
 * handshakes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench/bench.h"
#include "coro/connect.h"
#include "coro/coro.h"
#include "coro/stream.h"

struct idle_run {
	struct bench_opts *opts;
	struct tls_config *tls;
	struct coro_event slot_free, all_up, release;
	unsigned in_flight, up, failed, finished;
	int first_error;
};

static struct idle_run run;

static void idle_conn(void *arg)
{
	(void)arg;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(run.opts->port) };
	inet_pton(AF_INET, run.opts->host, &sin.sin_addr);
	int fd = coro_connect((struct sockaddr *)&sin, sizeof(sin), coro_deadline_in(30000));
	struct stream *s = fd >= 0 ? stream_new_socket(fd) : NULL;
	int r = fd < 0 ? fd : 0;
	if (s) {
		stream_set_timeout(s, 120000);
		r = stream_start_tls_client(s, run.tls, NULL);
	}
	const char *line;
	size_t len;
	if (r == 0)
		r = stream_read_line(s, &line, &len);
	if (r == 0 && strncmp(line, "* OK", 4) != 0)
		r = -EPROTO;
	run.in_flight--;
	coro_event_notify_all(&run.slot_free);
	if (r < 0) {
		run.failed++;
		if (!run.first_error)
			run.first_error = r;
	} else {
		run.up++;
	}
	if (run.up + run.failed == run.opts->connections)
		coro_event_notify_all(&run.all_up);
	if (r == 0)
		while (coro_event_wait(&run.release, CORO_NO_DEADLINE) == -EINTR)
			;
	stream_free(&s);
	run.finished++;
	coro_event_notify_all(&run.slot_free);
}

static void idle_main(void *arg)
{
	struct bench_opts *o = arg;
	struct bench_stats before, after;
	if (bench_admin_stats(o->admin, &before) < 0) {
		fprintf(stderr, "sealmail-bench: cannot read stats from %s\n", o->admin);
		exit(1);
	}
	const char *err = NULL;
	run.tls = tls_config_new_client(NULL, false, &err);
	if (!run.tls) {
		fprintf(stderr, "sealmail-bench: TLS: %s\n", err);
		exit(1);
	}
	uint64_t t0 = uv_hrtime();
	for (unsigned i = 0; i < o->connections; i++) {
		while (run.in_flight >= o->parallel)
			coro_event_wait(&run.slot_free, CORO_NO_DEADLINE);
		run.in_flight++;
		if (!coro_spawn(idle_conn, NULL, 32 * 1024)) {
			fprintf(stderr, "sealmail-bench: cannot spawn connection %u\n", i);
			exit(1);
		}
	}
	while (run.up + run.failed < o->connections)
		coro_event_wait(&run.all_up, CORO_NO_DEADLINE);
	double secs = (double)(uv_hrtime() - t0) / 1e9;
	/* The lag window the server reports now covers the handshakes alone. */
	struct bench_stats during;
	bench_admin_stats(o->admin, &during);
	coro_sleep(o->settle_ms); /* let the server settle before measuring memory */
	bench_admin_stats(o->admin, &after);
	after.lag_p50_us = during.lag_p50_us;
	after.lag_p99_us = during.lag_p99_us;
	after.lag_max_us = during.lag_max_us;
	bench_print_idle(o, &before, &after, run.up, run.failed, run.first_error, secs);
	coro_event_notify_all(&run.release);
	while (run.finished < run.up + run.failed)
		coro_event_wait(&run.slot_free, CORO_NO_DEADLINE);
	tls_config_unref(&run.tls);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sealmail-bench idle --port P --admin SOCK [--host IP]\n"
		   "                            [--connections N] [--parallel K] [--settle-ms MS]\n"
		   "       sealmail-bench store|imap|imap-fill|imap-idle|smtp --help\n");
}


int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "admin", required_argument, NULL, 'a' },
		{ "connections", required_argument, NULL, 'n' },
		{ "parallel", required_argument, NULL, 'k' },
		{ "settle-ms", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = { .host = "127.0.0.1", .connections = 1000, .parallel = 64,
				.settle_ms = 2000 };
	if (argc >= 2 && strcmp(argv[1], "store") == 0)
		return bench_store_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "imap") == 0)
		return bench_imap_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "imap-fill") == 0)
		return bench_imap_fill_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "imap-idle") == 0)
		return bench_imap_idle_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "smtp") == 0)
		return bench_smtp_main(argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "idle") != 0) {
		usage(stderr);
		return 2;
	}
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'H': o.host = optarg; break;
		case 'p': o.port = (uint16_t)atoi(optarg); break;
		case 'a': o.admin = optarg; break;
		case 'n': o.connections = (unsigned)atoi(optarg); break;
		case 'k': o.parallel = (unsigned)atoi(optarg); break;
		case 's': o.settle_ms = (unsigned)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o.port || !o.admin || !o.connections || !o.parallel) {
		usage(stderr);
		return 2;
	}
	bench_raise_nofile(o.connections + 64);
	uv_loop_t *loop = uv_default_loop();
	coro_runtime_init(loop);
	coro_event_init(&run.slot_free);
	coro_event_init(&run.all_up);
	coro_event_init(&run.release);
	run.opts = &o;
	coro_spawn(idle_main, &o, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(loop, UV_RUN_DEFAULT);
	return run.failed ? 1 : 0;
}
