/* sealmail-bench imap: an IMAP workload against any server.
 *
 * N client coroutines each loop a cycle a mail client might run:
 *   SELECT INBOX; FETCH 1:* (UID FLAGS ENVELOPE) (or the last --window
 *   messages); --bodies times UID FETCH u BODY.PEEK[] of a random message
 *   of that list; UID STORE u +FLAGS (\Seen) and -FLAGS (\Seen) on one;
 *   APPEND INBOX of a ~3 KiB message, then UID STORE +FLAGS.SILENT
 *   (\Deleted) and UID EXPUNGE of the UID that APPENDUID gave, so the
 *   mailbox keeps its size (--no-append leaves these three out).
 * Profile logged-in: each client connects and logs in once. Profile
 * login-per-cycle: each cycle is connect (+TLS), LOGIN, the cycle, LOGOUT.
 *
 * Before the clock starts, every client connects and logs in once, K at a
 * time (--ramp-parallel): that pays the servers' first, expensive login of
 * each user (sealmail: Argon2 then its login cache) outside the
 * measurement. Then all clients run for --warmup seconds unmeasured (so
 * that they no longer all start their cycle at once), and for --seconds
 * each command that completes is counted and its latency recorded, per
 * command type (a command that started during the warm-up counts with its
 * whole latency); so do cycles that complete in that window.
 * Prints a table and one "result:" line for scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/hist.h"
#include "bench/imap-client.h"
#include "bench/imap-opts.h"
#include "bench/mail-text.h"
#include "bench/bench.h"
#include "coro/coro.h"
#include "src/util/xmalloc.h"

enum cmd_kind {
	K_CONNECT,	/* TCP connect, TLS handshake, greeting: not a command */
	K_LOGIN,
	K_SELECT,
	K_FETCH_LIST,
	K_FETCH_BODY,
	K_STORE,
	K_APPEND,
	K_EXPUNGE,
	K_LOGOUT,
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
	"connect+tls", "LOGIN", "SELECT", "FETCH envelopes", "FETCH body",
	"STORE", "APPEND", "UID EXPUNGE", "LOGOUT",
};

struct wl_opts {
	struct imap_common c;
	unsigned clients, seconds, warmup, bodies, window, ramp_parallel;
	bool per_cycle, append;
};

struct wl {
	struct wl_opts o;
	struct coro_event ev;	/* main and ramp-up: slots, ready, finished */
	struct coro_event go_ev;	/* clients waiting for the clock to start */
	unsigned ramp_in_flight, ready, finished;
	bool go, stop;
	uint64_t t_start, t_end;	/* ns: the measured window */
	uint64_t cycles, errors[K_COUNT], conn_errors, no_appenduid;
	char first_error[200];
	struct bench_hist hist[K_COUNT];
};

static struct wl wl;

/* Whether something that completed at t1 is measured. */
static bool in_window(uint64_t t1)
{
	return wl.go && t1 >= wl.t_start && t1 <= wl.t_end;
}

static void note_error(enum cmd_kind k, int r, const struct imapc *c)
{
	if (!in_window(uv_hrtime()))
		return;
	wl.errors[k]++;
	if (wl.first_error[0])
		return;
	if (r < 0)
		snprintf(wl.first_error, sizeof(wl.first_error), "%s: %s", kind_names[k],
			 strerror(-r));
	else
		snprintf(wl.first_error, sizeof(wl.first_error), "%s: %s", kind_names[k],
			 c->last_reply);
}

/* Times one step: call with the start time once it returned. Returns r. */
static int timed(enum cmd_kind k, uint64_t t0, int r, const struct imapc *c)
{
	uint64_t t1 = uv_hrtime();
	if (r != IMAPC_OK)
		note_error(k, r, c);
	else if (in_window(t1))
		bench_hist_add(&wl.hist[k], (t1 - t0) / 1000);
	return r;
}

static int session_open(struct imapc *c, const struct imap_account *a)
{
	uint64_t t0 = uv_hrtime();
	int r = timed(K_CONNECT, t0, imapc_connect(c, &wl.o.c.target), c);
	if (r != 0)
		return r < 0 ? r : -EPROTO;
	t0 = uv_hrtime();
	r = timed(K_LOGIN, t0, imapc_login(c, a->name, a->password), c);
	return r > 0 ? -EACCES : r;
}

static uint32_t next_rand(uint32_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 17, *x ^= *x << 5;
	return *x;
}

/* The APPEND, then the removal of what it added. Only transport errors
 * are returned: a refused command is counted and the cycle goes on. */
static int append_step(struct imapc *c, const struct imap_account *a, unsigned id,
		       uint32_t serial)
{
	char msg[4096];
	size_t len = bench_mail_make(msg, sizeof(msg), a->name, 1000000 + id, serial, 2800);
	uint64_t t0 = uv_hrtime();
	int r = timed(K_APPEND, t0, imapc_append(c, "INBOX", "(\\Seen)", msg, len), c);
	if (r != IMAPC_OK)
		return r < 0 ? r : 0;
	uint32_t uid = c->appenduid;
	if (!uid) {
		wl.no_appenduid++;
		return 0;
	}
	t0 = uv_hrtime();
	r = timed(K_STORE, t0, imapc_cmd(c, "UID STORE %u +FLAGS.SILENT (\\Deleted)", uid), c);
	if (r < 0)
		return r;
	t0 = uv_hrtime();
	r = timed(K_EXPUNGE, t0, imapc_cmd(c, "UID EXPUNGE %u", uid), c);
	return r < 0 ? r : 0;
}

/* One cycle on a logged-in connection. Negative: the connection broke;
 * positive: a step the rest depends on (SELECT) was refused. */
static int cycle(struct imapc *c, const struct imap_account *a, unsigned id, uint32_t *rnd,
		 uint32_t serial)
{
	uint64_t t0 = uv_hrtime();
	int r = timed(K_SELECT, t0, imapc_cmd(c, "SELECT INBOX"), c);
	if (r != IMAPC_OK)
		return r;
	uint32_t n = c->exists;
	if (n) {
		uint32_t first = wl.o.window && n > wl.o.window ? n - wl.o.window + 1 : 1;
		c->collect_uids = true;
		t0 = uv_hrtime();
		r = timed(K_FETCH_LIST, t0,
			  imapc_cmd(c, "FETCH %u:* (UID FLAGS ENVELOPE)", first), c);
		c->collect_uids = false;
		if (r < 0)
			return r;
	}
	/* The list is overwritten by the next command: keep what is used. */
	unsigned n_uids = c->n_uids;
	uint32_t picked[16];
	unsigned n_picked = n_uids ? (wl.o.bodies < 16 ? wl.o.bodies : 16) + 1 : 0;
	for (unsigned i = 0; i < n_picked; i++)
		picked[i] = c->uids[next_rand(rnd) % n_uids];
	for (unsigned i = 1; i < n_picked; i++) {
		t0 = uv_hrtime();
		r = timed(K_FETCH_BODY, t0, imapc_cmd(c, "UID FETCH %u BODY.PEEK[]", picked[i]),
			  c);
		if (r < 0)
			return r;
	}
	if (n_picked) {
		t0 = uv_hrtime();
		r = timed(K_STORE, t0, imapc_cmd(c, "UID STORE %u +FLAGS (\\Seen)", picked[0]), c);
		if (r < 0)
			return r;
		t0 = uv_hrtime();
		r = timed(K_STORE, t0, imapc_cmd(c, "UID STORE %u -FLAGS (\\Seen)", picked[0]), c);
		if (r < 0)
			return r;
	}
	return wl.o.append ? append_step(c, a, id, serial) : 0;
}

static void logout(struct imapc *c)
{
	uint64_t t0 = uv_hrtime();
	timed(K_LOGOUT, t0, imapc_cmd(c, "LOGOUT"), c);
	imapc_close(c);
}

/* Connects and logs in once before the clock starts, K clients at a time. */
static void ramp_up(struct imapc *c, const struct imap_account *a)
{
	while (wl.ramp_in_flight >= wl.o.ramp_parallel)
		coro_event_wait(&wl.ev, CORO_NO_DEADLINE);
	wl.ramp_in_flight++;
	if (session_open(c, a) != 0) {
		wl.conn_errors++;
		imapc_close(c);
	} else if (wl.o.per_cycle) {
		logout(c);
	}
	wl.ramp_in_flight--;
	wl.ready++;
	coro_event_notify_all(&wl.ev);
	while (!wl.go)
		coro_event_wait(&wl.go_ev, CORO_NO_DEADLINE);
}

static void client_main(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	const struct imap_account *a = bench_imap_account(&wl.o.c, id);
	struct imapc c = { 0 };
	uint32_t rnd = id * 2654435761u + 7, serial = 0;
	ramp_up(&c, a);
	while (!wl.stop) {
		int r = c.s ? 0 : session_open(&c, a);
		if (r == 0)
			r = cycle(&c, a, id, &rnd, ++serial);
		if (r == 0 && in_window(uv_hrtime()))
			wl.cycles++;
		if (r != 0) {
			imapc_close(&c);
			if (!wl.stop)
				coro_sleep(100);	/* no reconnect storm */
		} else if (wl.o.per_cycle) {
			logout(&c);
		}
	}
	if (c.s)
		imapc_close(&c);
	wl.finished++;
	coro_event_notify_all(&wl.ev);
}

static void print_row(const char *name, const struct bench_hist *h, uint64_t errors,
		      double secs)
{
	printf("%-16s %9" PRIu64 " %9.1f %7" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
	       " %9" PRIu64 " %8.0f\n",
	       name, h->count, h->count / secs, errors, bench_hist_quantile(h, 0.5),
	       bench_hist_quantile(h, 0.9), bench_hist_quantile(h, 0.99), h->max,
	       h->count ? (double)h->sum / (double)h->count : 0.0);
}

static void report(double secs, double ramp_secs)
{
	static struct bench_hist all;
	uint64_t all_errors = 0;
	const struct wl_opts *o = &wl.o;
	printf("scenario imap: %u clients, %u accounts, profile %s, %s%s, %s:%u, %u s after "
	       "%u s of warm-up\n",
	       o->clients, o->c.n_accounts, o->per_cycle ? "login-per-cycle" : "logged-in",
	       o->c.tls ? "TLS" : "plaintext", o->append ? "" : ", no APPEND",
	       o->c.target.host, o->c.target.port, o->seconds, o->warmup);
	if (o->window)
		printf("FETCH of envelopes: the last %u messages\n", o->window);
	printf("ramp-up (connect and first login of every client): %.1f s, %" PRIu64
	       " failed\n", ramp_secs, wl.conn_errors);
	printf("%-16s %9s %9s %7s %8s %8s %8s %9s %8s\n", "command", "count", "per s",
	       "errors", "p50 us", "p90 us", "p99 us", "max us", "mean us");
	for (unsigned k = 0; k < K_COUNT; k++) {
		print_row(kind_names[k], &wl.hist[k], wl.errors[k], secs);
		if (k != K_CONNECT) {
			bench_hist_merge(&all, &wl.hist[k]);
			all_errors += wl.errors[k];
		}
	}
	print_row("all commands", &all, all_errors, secs);
	printf("cycles per second: %.1f\n", wl.cycles / secs);
	if (wl.no_appenduid)
		printf("APPEND replies without APPENDUID: %" PRIu64 "\n", wl.no_appenduid);
	if (wl.first_error[0])
		printf("first error: %s\n", wl.first_error);
	printf("result: clients=%u profile=%s commands_per_s=%.1f cycles_per_s=%.1f p50_us=%" PRIu64
	       " p90_us=%" PRIu64 " p99_us=%" PRIu64 " max_us=%" PRIu64 " errors=%" PRIu64 "\n",
	       o->clients, o->per_cycle ? "login-per-cycle" : "logged-in", all.count / secs,
	       wl.cycles / secs, bench_hist_quantile(&all, 0.5), bench_hist_quantile(&all, 0.9),
	       bench_hist_quantile(&all, 0.99), all.max, all_errors + wl.errors[K_CONNECT]);
}

static void wl_main(void *arg)
{
	(void)arg;
	uint64_t t0 = uv_hrtime();
	for (unsigned i = 0; i < wl.o.clients; i++)
		if (!coro_spawn(client_main, (void *)(uintptr_t)i, 64 * 1024)) {
			fprintf(stderr, "sealmail-bench: cannot spawn client %u\n", i);
			exit(1);
		}
	while (wl.ready < wl.o.clients)
		coro_event_wait(&wl.ev, CORO_NO_DEADLINE);
	double ramp_secs = (double)(uv_hrtime() - t0) / 1e9;
	wl.t_start = uv_hrtime() + (uint64_t)wl.o.warmup * 1000000000u;
	wl.t_end = wl.t_start + (uint64_t)wl.o.seconds * 1000000000u;
	wl.go = true;
	coro_event_notify_all(&wl.go_ev);
	coro_sleep((uint64_t)(wl.o.warmup + wl.o.seconds) * 1000);
	wl.stop = true;
	while (wl.finished < wl.o.clients)
		coro_event_wait(&wl.ev, CORO_NO_DEADLINE);
	report((double)wl.o.seconds, ramp_secs);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sealmail-bench imap [options]\n" IMAP_COMMON_USAGE
		   "  [--clients N] [--seconds S] [--warmup S] [--profile logged-in|login-per-cycle]\n"
		   "  [--bodies K] [--window W] [--no-append] [--ramp-parallel K]\n");
}

int bench_imap_main(int argc, char **argv)
{
	static const struct option opts[] = {
		IMAP_COMMON_LONG_OPTIONS,
		{ "clients", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "profile", required_argument, NULL, 'P' },
		{ "bodies", required_argument, NULL, 'b' },
		{ "window", required_argument, NULL, 'w' },
		{ "no-append", no_argument, NULL, 'A' },
		{ "ramp-parallel", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct wl_opts *o = &wl.o;
	bench_imap_defaults(&o->c);
	o->clients = 10, o->seconds = 15, o->bodies = 3, o->ramp_parallel = 50;
	o->append = true;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (bench_imap_option(&o->c, c, optarg))
			continue;
		switch (c) {
		case 'n': o->clients = (unsigned)atoi(optarg); break;
		case 's': o->seconds = (unsigned)atoi(optarg); break;
		case 'W': o->warmup = (unsigned)atoi(optarg); break;
		case 'b': o->bodies = (unsigned)atoi(optarg); break;
		case 'w': o->window = (unsigned)atoi(optarg); break;
		case 'A': o->append = false; break;
		case 'k': o->ramp_parallel = (unsigned)atoi(optarg); break;
		case 'P':
			if (strcmp(optarg, "logged-in") != 0 &&
			    strcmp(optarg, "login-per-cycle") != 0) {
				usage(stderr);
				return 2;
			}
			o->per_cycle = strcmp(optarg, "login-per-cycle") == 0;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!o->clients || !o->seconds || !o->ramp_parallel || !bench_imap_finish(&o->c)) {
		usage(stderr);
		return 2;
	}
	bench_raise_nofile(o->clients + 64);
	uv_loop_t *loop = uv_default_loop();
	coro_runtime_init(loop);
	coro_event_init(&wl.ev);
	coro_event_init(&wl.go_ev);
	coro_spawn(wl_main, NULL, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	bench_imap_free(&o->c);
	coro_runtime_shutdown();
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}
