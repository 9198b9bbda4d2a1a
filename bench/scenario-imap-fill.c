/* sealmail-bench imap-fill: brings the INBOX of every account up to M
 * messages by APPEND, so the workload scenarios start from the same
 * mailboxes on every server.
 *
 *   sealmail-bench imap-fill [common options] [--messages M] [--parallel K]
 *
 * K accounts are filled at once, each over its own connection. Messages
 * are 2 to 6 KiB, unseen. An INBOX that already holds M or more is left
 * as it is. Then each INBOX gets one FETCH 1:* (UID FLAGS ENVELOPE), as a
 * client's first sync would: a server that caches envelopes (Dovecot's
 * index cache) then starts the workload warm, as it would in use. Prints the append rate. Exit status 0, 1 if an account could
 * not be filled, 3 if the server answered APPEND with BAD (it does not
 * have the command: scripts then fill mailboxes another way).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/imap-client.h"
#include "bench/imap-opts.h"
#include "bench/mail-text.h"
#include "coro/coro.h"

struct fill {
	struct imap_common c;
	unsigned messages, parallel;
	struct coro_event ev;
	unsigned next, running;
	unsigned long appended, failed_accounts;
	bool append_bad;
};

static struct fill fill;

static int fill_account(unsigned i)
{
	const struct imap_account *a = bench_imap_account(&fill.c, i);
	struct imapc c = { 0 };
	char msg[8192];
	int r = imapc_connect(&c, &fill.c.target);
	if (r == 0)
		r = imapc_login(&c, a->name, a->password);
	if (r == 0)
		r = imapc_cmd(&c, "SELECT INBOX");
	for (uint32_t n = c.exists; r == 0 && n < fill.messages; n++) {
		size_t body = 2048 + (n * 1031u) % 4096;
		size_t len = bench_mail_make(msg, sizeof(msg), a->name, i, n, body);
		r = imapc_append(&c, "INBOX", "", msg, len);
		if (r == 0)
			fill.appended++;
		if (r == IMAPC_BAD)
			fill.append_bad = true;
	}
	if (r == 0 && (c.exists || fill.messages))
		r = imapc_cmd(&c, "FETCH 1:* (UID FLAGS ENVELOPE)");
	if (r == 0)
		r = imapc_cmd(&c, "LOGOUT");
	if (r != 0)
		fprintf(stderr, "sealmail-bench: filling %s: %s\n", a->name,
			r < 0 ? strerror(-r) : c.last_reply);
	imapc_close(&c);
	return r;
}

static void fill_worker(void *arg)
{
	(void)arg;
	for (unsigned i; (i = fill.next++) < fill.c.n_accounts;)
		if (fill_account(i) != 0)
			fill.failed_accounts++;
	fill.running--;
	coro_event_notify_all(&fill.ev);
}

static void fill_main(void *arg)
{
	(void)arg;
	uint64_t t0 = uv_hrtime();
	for (unsigned k = 0; k < fill.parallel; k++) {
		fill.running++;
		coro_spawn(fill_worker, NULL, 64 * 1024);
	}
	while (fill.running)
		coro_event_wait(&fill.ev, CORO_NO_DEADLINE);
	double secs = (double)(uv_hrtime() - t0) / 1e9;
	printf("scenario imap-fill: %u accounts to %u messages, %u at once: %lu appended in "
	       "%.1f s (%.1f per s), %lu accounts failed\n",
	       fill.c.n_accounts, fill.messages, fill.parallel, fill.appended, secs,
	       secs > 0 ? fill.appended / secs : 0.0, fill.failed_accounts);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sealmail-bench imap-fill [options]\n" IMAP_COMMON_USAGE
		   "  [--messages M] [--parallel K]\n");
}

int bench_imap_fill_main(int argc, char **argv)
{
	static const struct option opts[] = {
		IMAP_COMMON_LONG_OPTIONS,
		{ "messages", required_argument, NULL, 'm' },
		{ "parallel", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bench_imap_defaults(&fill.c);
	fill.messages = 200;
	fill.parallel = 8;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (bench_imap_option(&fill.c, c, optarg))
			continue;
		switch (c) {
		case 'm': fill.messages = (unsigned)atoi(optarg); break;
		case 'k': fill.parallel = (unsigned)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!fill.parallel || !bench_imap_finish(&fill.c)) {
		usage(stderr);
		return 2;
	}
	uv_loop_t *loop = uv_default_loop();
	coro_runtime_init(loop);
	coro_event_init(&fill.ev);
	coro_spawn(fill_main, NULL, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	bench_imap_free(&fill.c);
	coro_runtime_shutdown();
	uv_run(loop, UV_RUN_DEFAULT);
	return fill.append_bad ? 3 : fill.failed_accounts ? 1 : 0;
}
