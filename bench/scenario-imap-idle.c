/* sealmail-bench imap-idle: many logged-in IMAP sessions, INBOX selected,
 * all in IDLE, and what they cost the server in memory.
 *
 *   sealmail-bench imap-idle [common options] [--sessions N] [--parallel K]
 *                            [--admin SOCK] [--server-pid PID] [--settle-ms MS]
 *
 * Session i logs in as account i % (number of accounts). K sessions are
 * set up at once (connect, TLS, LOGIN, SELECT INBOX, IDLE up to the
 * server's "+"). Once all are idle and --settle-ms has passed, the server's
 * memory is read again and the growth divided by the sessions up:
 * --admin reads sealmail's `admin stats` (rss_bytes); --server-pid sums the
 * RSS and PSS of that process and all its descendants from /proc (Dovecot
 * runs one process per session, plus login, auth and hibernate processes).
 * Then one more account's message is appended over a fresh connection and
 * the scenario counts how many idle sessions of that account were told
 * (* N EXISTS) within 10 s: IDLE must still work at that scale.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/imap-client.h"
#include "bench/imap-opts.h"
#include "bench/mail-text.h"
#include "bench/proc-mem.h"
#include "coro/coro.h"
#include "coro/stream.h"

struct idle_opts {
	struct imap_common c;
	unsigned sessions, parallel, settle_ms;
	const char *admin;
	pid_t server_pid;
};

struct idle_mem {
	struct bench_stats admin;
	struct bench_proc_mem tree;
};

/* Two wait lists, so that a session finishing its set-up wakes the main
 * coroutine alone, not the thousands of sessions already idle. */
struct idle {
	struct idle_opts o;
	struct coro_event ev;	/* main: slots, set-ups, watches, exits */
	struct coro_event held;	/* idle sessions: the watch starts, the release */
	unsigned in_flight, up, failed, finished, watchers, watched, notified;
	bool release, watching;
	char first_error[200];
};

static struct idle run;

static void session_fail(const char *step, int r, const struct imapc *c)
{
	run.failed++;
	if (!run.first_error[0])
		snprintf(run.first_error, sizeof(run.first_error), "%s: %s", step,
			 r < 0 ? strerror(-r) : c->last_reply);
}

/* Reads until the server reports the new message; the stream's timeout
 * bounds the wait. */
static void watch(struct imapc *c)
{
	const char *line;
	size_t len;
	stream_set_timeout(c->s, 10000);
	while (stream_read_line(c->s, &line, &len) == 0)
		if (strstr(line, " EXISTS")) {
			run.notified++;
			return;
		}
}

/* Waits for the release; the sessions of account 0 (where the check
 * appends) watch for the new message first. */
static void hold(struct imapc *c, bool watcher)
{
	while (!run.release) {
		if (watcher && run.watching) {
			watch(c);
			watcher = false;
			run.watched++;
			coro_event_notify_all(&run.ev);
			continue;
		}
		coro_event_wait(&run.held, CORO_NO_DEADLINE);
	}
}

static void session_main(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	const struct imap_account *a = bench_imap_account(&run.o.c, id);
	struct imapc c = { 0 };
	int r = imapc_connect(&c, &run.o.c.target);
	if (r != 0)
		session_fail("connect", r, &c);
	if (r == 0 && (r = imapc_login(&c, a->name, a->password)) != 0)
		session_fail("LOGIN", r, &c);
	if (r == 0 && (r = imapc_cmd(&c, "SELECT INBOX")) != 0)
		session_fail("SELECT", r, &c);
	if (r == 0 && (r = imapc_idle_start(&c)) != 0)
		session_fail("IDLE", r, &c);
	bool watcher = r == 0 && id % run.o.c.n_accounts == 0;
	if (r == 0)
		run.up++;
	run.watchers += watcher;
	run.in_flight--;
	coro_event_notify_all(&run.ev);
	hold(&c, watcher);
	imapc_close(&c);
	run.finished++;
	coro_event_notify_all(&run.ev);
}

static int read_mem(struct idle_mem *m)
{
	memset(m, 0, sizeof(*m));
	int r = 0;
	if (run.o.admin)
		r = bench_admin_stats(run.o.admin, &m->admin);
	if (r == 0 && run.o.server_pid)
		r = bench_proc_tree_mem(run.o.server_pid, &m->tree);
	return r;
}

/* Appends one message for account 0 and gives its idle sessions 10 s to
 * hear of it. */
static void check_idle_wakeup(void)
{
	const struct imap_account *a = bench_imap_account(&run.o.c, 0);
	struct imapc c = { 0 };
	char msg[4096];
	size_t len = bench_mail_make(msg, sizeof(msg), a->name, 424242, 1, 2000);
	run.watching = true;
	coro_event_notify_all(&run.held);
	int r = imapc_connect(&c, &run.o.c.target);
	if (r == 0)
		r = imapc_login(&c, a->name, a->password);
	if (r == 0)
		r = imapc_append(&c, "INBOX", "", msg, len);
	if (r != 0)
		printf("wake-up check: APPEND failed: %s\n", r < 0 ? strerror(-r) : c.last_reply);
	imapc_close(&c);
	while (run.watched < run.watchers)
		coro_event_wait(&run.ev, CORO_NO_DEADLINE);
	printf("wake-up check: %u of %u idle sessions of %s saw the new message within 10 s\n",
	       run.notified, run.watchers, a->name);
}

static void print_mem(const char *what, uint64_t before, uint64_t after)
{
	double grown = (double)after - (double)before;
	printf("%-40s %10.1f %10.1f %10.1f\n", what, before / 1048576.0, after / 1048576.0,
	       run.up ? grown / run.up / 1024.0 : 0.0);
}

static void report(const struct idle_mem *b, const struct idle_mem *a, double secs)
{
	const struct idle_opts *o = &run.o;
	printf("scenario imap-idle: %u sessions over %u accounts, %u set up at once, %s, "
	       "%s:%u\n",
	       o->sessions, o->c.n_accounts, o->parallel, o->c.tls ? "TLS" : "plaintext",
	       o->c.target.host, o->c.target.port);
	printf("sessions idle: %u, failed: %u", run.up, run.failed);
	if (run.first_error[0])
		printf(" (first: %s)", run.first_error);
	printf("\nset-up rate: %.1f sessions per second\n", secs > 0 ? run.up / secs : 0.0);
	printf("%-40s %10s %10s %10s\n", "server memory", "before MiB", "after MiB",
	       "KiB/session");
	if (o->admin)
		print_mem("RSS (admin stats)", b->admin.rss_bytes, a->admin.rss_bytes);
	if (o->server_pid) {
		print_mem("RSS, all processes summed", b->tree.rss_bytes, a->tree.rss_bytes);
		print_mem("PSS, all processes summed", b->tree.pss_bytes, a->tree.pss_bytes);
		printf("server processes: %u before, %u after\n", b->tree.processes,
		       a->tree.processes);
	}
	uint64_t rb = o->admin ? b->admin.rss_bytes : b->tree.rss_bytes;
	uint64_t ra = o->admin ? a->admin.rss_bytes : a->tree.rss_bytes;
	printf("result: sessions=%u failed=%u rss_before=%" PRIu64 " rss_after=%" PRIu64
	       " rss_per_session_kib=%.1f pss_per_session_kib=%.1f\n",
	       run.up, run.failed, rb, ra,
	       run.up ? ((double)ra - (double)rb) / run.up / 1024.0 : 0.0,
	       run.up && o->server_pid ? ((double)a->tree.pss_bytes - (double)b->tree.pss_bytes) /
						 run.up / 1024.0
				       : 0.0);
}

static void idle_main(void *arg)
{
	(void)arg;
	struct idle_mem before, after;
	if (read_mem(&before) < 0) {
		fprintf(stderr, "sealmail-bench: cannot read the server's memory\n");
		exit(1);
	}
	uint64_t t0 = uv_hrtime();
	for (unsigned i = 0; i < run.o.sessions; i++) {
		while (run.in_flight >= run.o.parallel)
			coro_event_wait(&run.ev, CORO_NO_DEADLINE);
		run.in_flight++;
		if (!coro_spawn(session_main, (void *)(uintptr_t)i, 32 * 1024)) {
			fprintf(stderr, "sealmail-bench: cannot spawn session %u\n", i);
			exit(1);
		}
	}
	while (run.up + run.failed < run.o.sessions)
		coro_event_wait(&run.ev, CORO_NO_DEADLINE);
	double secs = (double)(uv_hrtime() - t0) / 1e9;
	coro_sleep(run.o.settle_ms);	/* let the server settle before measuring memory */
	read_mem(&after);
	report(&before, &after, secs);
	check_idle_wakeup();
	run.release = true;
	coro_event_notify_all(&run.held);
	while (run.finished < run.o.sessions)
		coro_event_wait(&run.ev, CORO_NO_DEADLINE);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sealmail-bench imap-idle [options]\n" IMAP_COMMON_USAGE
		   "  [--sessions N] [--parallel K] [--settle-ms MS]\n"
		   "  --admin SOCK (sealmail) and/or --server-pid PID (process tree)\n");
}

int bench_imap_idle_main(int argc, char **argv)
{
	static const struct option opts[] = {
		IMAP_COMMON_LONG_OPTIONS,
		{ "sessions", required_argument, NULL, 'n' },
		{ "parallel", required_argument, NULL, 'k' },
		{ "settle-ms", required_argument, NULL, 's' },
		{ "admin", required_argument, NULL, 'a' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct idle_opts *o = &run.o;
	bench_imap_defaults(&o->c);
	o->sessions = 10000, o->parallel = 64, o->settle_ms = 3000;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (bench_imap_option(&o->c, c, optarg))
			continue;
		switch (c) {
		case 'n': o->sessions = (unsigned)atoi(optarg); break;
		case 'k': o->parallel = (unsigned)atoi(optarg); break;
		case 's': o->settle_ms = (unsigned)atoi(optarg); break;
		case 'a': o->admin = optarg; break;
		case 'p': o->server_pid = (pid_t)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o->sessions || !o->parallel || (!o->admin && !o->server_pid) ||
	    !bench_imap_finish(&o->c)) {
		usage(stderr);
		return 2;
	}
	bench_raise_nofile(o->sessions + 64);
	uv_loop_t *loop = uv_default_loop();
	coro_runtime_init(loop);
	coro_event_init(&run.ev);
	coro_event_init(&run.held);
	coro_spawn(idle_main, NULL, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	bench_imap_free(&o->c);
	coro_runtime_shutdown();
	uv_run(loop, UV_RUN_DEFAULT);
	return run.failed ? 1 : 0;
}
