/* sealmail-bench store: the encrypted store on its own, without the daemon
 * (storage/store.h), on sealmail's loop and worker pool.
 *
 *   sealmail-bench store [--dir DIR] [--users N] [--deliveries N]
 *                        [--small N] [--parallel K] [--keep]
 *
 * In a temporary root under DIR (default /tmp), with one user made by
 * account_create at the default Argon2 cost (one RSA-4096 generation) and
 * copied N times (default 1000), it measures and prints:
 *   - deliveries per second of 10 KiB messages (fsync on, K in parallel)
 *     into one user who is offline, into one user who is logged in (each
 *     taken in at once: one RSA unwrap), and spread over N offline users;
 *   - how fast the first user's offline deliveries are taken in at login;
 *   - login time through Argon2 and through the login cache;
 *   - read throughput of one 20 MiB message (1 MiB, 64 KiB and 4 KiB
 *     reads), and of 10,000 (--small) small messages appended first (whose
 *     append rate is printed too);
 *   - the loop's longest iteration while all that ran, since nothing the
 *     store does may block the loop for more than about a millisecond.
 * Numbers, not pass/fail. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coro/coro.h"
#include "src/util/xmalloc.h"
#include "storage/account.h"
#include "storage/store.h"
#include "storage/userdir.h"

#define PASSWORD "bench password, long enough"
#define MSG_SIZE (10 * 1024)
#define BIG_SIZE (20 * 1024 * 1024)
#define SMALL_SIZE 4096

struct sb_opts {
	const char *dir;
	unsigned users, deliveries, small, parallel;
	bool keep;
};

struct sb {
	struct sb_opts o;
	char *root, *users;
	struct store *st;
	struct coro_event done;
	unsigned next, running, n_users, failures;
	int first_error;
	uint8_t *big;			/* made before the loop runs: not ours to time */
	uv_prepare_t probe;
	uint64_t last_wall, last_idle, last_cpu, busy_wall_max, busy_cpu_max, busy_both_max;
};

static struct sb sb;

static double secs(uint64_t t0)
{
	return (double)(uv_hrtime() - t0) / 1e9;
}

/* Text as mail mostly is: base64-like lines (compresses about 25%). */
static uint8_t *mail_text(size_t len, uint32_t seed)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t *p = xmalloc(len + 1);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		p[i] = i % 78 == 76 ? '\r' : i % 78 == 77 ? '\n' : (uint8_t)b64[x & 63];
	}
	return p;
}

/* Once per loop iteration, just before the loop polls: how long the loop
 * worked since the previous poll, in wall time (minus the time libuv spent
 * polling; the host's pauses of the thread count too) and in the thread's
 * CPU time (blind to a blocking system call; interrupt time charged to the
 * thread while it polls counts too), and the smaller of the two, which
 * only work done on the loop makes long. */
static void probe(uv_prepare_t *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	uint64_t wall = uv_hrtime(), idle = uv_metrics_idle_time(p->loop);
	uint64_t cpu = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
	if (sb.last_wall) {
		uint64_t busy = wall - sb.last_wall - (idle - sb.last_idle);
		if (busy > sb.busy_wall_max)
			sb.busy_wall_max = busy;
		if (cpu - sb.last_cpu > sb.busy_cpu_max)
			sb.busy_cpu_max = cpu - sb.last_cpu;
		uint64_t both = busy < cpu - sb.last_cpu ? busy : cpu - sb.last_cpu;
		if (both > sb.busy_both_max)
			sb.busy_both_max = both;
	}
	sb.last_wall = wall;
	sb.last_idle = idle;
	sb.last_cpu = cpu;
}

/* --- Deliveries ---------------------------------------------------------- */

static void deliver_worker(void *arg)
{
	const uint8_t *text = arg;
	char name[32];
	for (unsigned i; (i = sb.next++) < sb.o.deliveries;) {
		struct store_delivery *d;
		snprintf(name, sizeof(name), "u%u", i % sb.n_users);
		int r = store_deliver_begin(sb.st, name, NULL, &d, NULL);
		if (r == 0)
			r = store_deliver_write(d, text, MSG_SIZE);
		if (r == 0)
			r = store_deliver_commit(&d, NULL);
		else
			store_deliver_abort(&d);
		if (r < 0 && !sb.failures++)
			sb.first_error = r;
	}
	sb.running--;
	coro_event_notify_all(&sb.done);
}

/* Delivers --deliveries messages over n_users users, K at a time. */
static double deliveries(unsigned n_users)
{
	uint8_t *text = mail_text(MSG_SIZE, n_users);
	uint64_t t0 = uv_hrtime();
	sb.next = 0;
	sb.n_users = n_users;
	for (unsigned k = 0; k < sb.o.parallel; k++) {
		sb.running++;
		coro_spawn(deliver_worker, text, 0);
	}
	while (sb.running)
		coro_event_wait(&sb.done, CORO_NO_DEADLINE);
	double rate = sb.o.deliveries / secs(t0);
	free(text);
	return rate;
}

/* --- Logins -------------------------------------------------------------- */

static struct store_user *login(const char *name)
{
	struct store_user *u;
	char *err = NULL;
	if (store_login(sb.st, name, PASSWORD, &u, &err) < 0) {
		fprintf(stderr, "sealmail-bench: login %s: %s\n", name, err ? err : "failed");
		exit(1);
	}
	return u;
}

static void login_times(double *argon_ms, double *cache_us)
{
	enum { ARGON_RUNS = 10, CACHE_RUNS = 2000 };
	struct store_user *u = login("u1"), *v;
	store_logout(&u);
	store_close_idle(sb.st);
	uint64_t t0 = uv_hrtime();
	for (int i = 0; i < ARGON_RUNS; i++) {
		u = login("u1");
		store_logout(&u);
		store_close_idle(sb.st);
	}
	*argon_ms = secs(t0) * 1000 / ARGON_RUNS;
	u = login("u1");
	t0 = uv_hrtime();
	for (int i = 0; i < CACHE_RUNS; i++) {
		v = login("u1");
		store_logout(&v);
	}
	*cache_us = secs(t0) * 1e6 / CACHE_RUNS;
	store_logout(&u);
}

/* --- Appends and reads ------------------------------------------------- */

static uint32_t append_or_die(struct store_user *u, const char *mailbox, const uint8_t *data,
			      size_t len)
{
	struct store_append_opts o = { 0 };
	struct store_append *a;
	struct meta_appended res;
	int r = store_append_begin(u, mailbox, &o, &a, NULL);
	if (r == 0)
		r = store_append_write(a, data, len);
	if (r == 0)
		r = store_append_commit(&a, &res, NULL);
	if (r < 0) {
		fprintf(stderr, "sealmail-bench: append: %s\n", strerror(-r));
		exit(1);
	}
	return res.uid;
}

struct appender {
	struct store_user *u;
	const uint8_t *text;
};

static void append_worker(void *arg)
{
	struct appender *a = arg;
	while (sb.next++ < sb.o.small)
		append_or_die(a->u, "Bulk", a->text, SMALL_SIZE);
	sb.running--;
	coro_event_notify_all(&sb.done);
}

static uint64_t read_message(struct store_user *u, int64_t box, uint32_t uid, uint8_t *buf,
			     size_t chunk)
{
	struct store_message *m;
	int r = store_message_open(u, box, uid, &m, NULL);
	uint64_t size = r == 0 ? store_message_info(m)->size : 0, off = 0;
	while (r == 0 && off < size) {
		ssize_t n = store_message_read(m, off, buf, chunk);
		if (n <= 0)
			r = n < 0 ? (int)n : -EIO;
		off += n > 0 ? (uint64_t)n : 0;
	}
	store_message_close(&m);
	if (r < 0) {
		fprintf(stderr, "sealmail-bench: reading uid %u: %s\n", uid, strerror(-r));
		exit(1);
	}
	return size;
}

/* MiB/s reading the 20 MiB message in reads of chunk bytes. */
static double read_big(struct store_user *u, int64_t box, uint32_t uid, size_t chunk)
{
	uint8_t *buf = xmalloc(chunk);
	uint64_t t0 = uv_hrtime(), bytes = 0;
	for (int i = 0; i < 3; i++)
		bytes += read_message(u, box, uid, buf, chunk);
	free(buf);
	return (double)bytes / (1 << 20) / secs(t0);
}

static void small_messages(struct store_user *u, double *append_rate, double *read_rate,
			   double *read_mib)
{
	uint8_t *text = mail_text(SMALL_SIZE, 7), *buf = xmalloc(SMALL_SIZE);
	struct appender a = { u, text };
	int64_t box;
	struct meta_snapshot snap;

	store_create(u, "Bulk", NULL, &box, NULL);
	uint64_t t0 = uv_hrtime();
	sb.next = 0;
	for (unsigned k = 0; k < sb.o.parallel; k++) {
		sb.running++;
		coro_spawn(append_worker, &a, 0);
	}
	while (sb.running)
		coro_event_wait(&sb.done, CORO_NO_DEADLINE);
	*append_rate = sb.o.small / secs(t0);
	if (store_snapshot(u, "Bulk", &snap, NULL) < 0)
		exit(1);
	uint64_t bytes = 0;
	t0 = uv_hrtime();
	for (size_t i = 0; i < snap.msgs.n; i++)
		bytes += read_message(u, box, snap.msgs.v[i].uid, buf, SMALL_SIZE);
	double s = secs(t0);
	*read_rate = snap.msgs.n / s;
	*read_mib = (double)bytes / (1 << 20) / s;
	meta_snapshot_free(&snap);
	free(buf);
	free(text);
}

/* --- The run ----------------------------------------------------------- */

static void sb_run(void *arg)
{
	double offline, online, spread, import_rate, argon_ms, cache_us, big_append;
	double big_1m, big_64k, big_4k, small_append, small_read, small_mib;
	struct store_settings s;

	store_settings_default(&s);
	s.no_key_rotation = true;
	store_new(sb.users, &s, &sb.st);
	offline = deliveries(1);
	uint64_t t0 = uv_hrtime();
	struct store_user *u = login("u0");
	import_rate = sb.o.deliveries / secs(t0);
	online = deliveries(1);
	store_logout(&u);
	store_close_idle(sb.st);	/* every user offline again */
	spread = deliveries(sb.o.users);
	login_times(&argon_ms, &cache_us);

	u = login("u2");
	t0 = uv_hrtime();
	uint32_t uid = append_or_die(u, "INBOX", sb.big, BIG_SIZE);
	big_append = BIG_SIZE / (double)(1 << 20) / secs(t0);
	int64_t inbox;
	store_mailbox_find(u, "INBOX", &inbox, NULL);
	big_1m = read_big(u, inbox, uid, STORE_READ_MAX);
	big_64k = read_big(u, inbox, uid, 64 * 1024);
	big_4k = read_big(u, inbox, uid, 4096);
	small_messages(u, &small_append, &small_read, &small_mib);
	store_logout(&u);
	store_shutdown(&sb.st);
	uv_prepare_stop(&sb.probe);
	uv_close((uv_handle_t *)&sb.probe, NULL);

	printf("store benchmark: %u deliveries of %d KiB per run, %u in parallel, %u users\n",
	       sb.o.deliveries, MSG_SIZE / 1024, sb.o.parallel, sb.o.users);
	printf("%-52s %10.0f /s\n", "deliveries into one user (offline)", offline);
	printf("%-52s %10.0f /s\n", "deliveries into one logged-in user (taken in)", online);
	printf("%-52s %10.0f /s\n", "deliveries spread over all users (offline)", spread);
	printf("%-52s %10.0f /s\n", "offline deliveries taken in at login", import_rate);
	printf("%-52s %10.1f ms\n", "login through Argon2 (default cost)", argon_ms);
	printf("%-52s %10.1f us\n", "login through the cache", cache_us);
	printf("%-52s %10.1f MiB/s\n", "append of a 20 MiB message", big_append);
	printf("%-52s %10.1f MiB/s\n", "read of a 20 MiB message, 1 MiB reads", big_1m);
	printf("%-52s %10.1f MiB/s\n", "read of a 20 MiB message, 64 KiB reads", big_64k);
	printf("%-52s %10.1f MiB/s\n", "read of a 20 MiB message, 4 KiB reads", big_4k);
	printf("%-52s %10.0f /s\n", "appends of 4 KiB messages", small_append);
	printf("%-52s %10.0f /s\n", "reads of 4 KiB messages (open + read + close)", small_read);
	printf("%-52s %10.1f MiB/s\n", "  the same in bytes", small_mib);
	printf("%-52s %10.2f ms\n", "longest loop iteration, wall time less polling",
	       sb.busy_wall_max / 1e6);
	printf("%-52s %10.2f ms\n", "longest loop iteration, loop thread CPU time",
	       sb.busy_cpu_max / 1e6);
	printf("%-52s %10.2f ms\n", "longest loop iteration, the smaller of the two",
	       sb.busy_both_max / 1e6);
	if (sb.failures)
		printf("%u deliveries failed, the first with: %s\n", sb.failures,
		       strerror(-sb.first_error));
}

/* Makes ROOT/users/u0 with account_create, then u1 .. u(N-1) as copies. */
static int make_users(void)
{
	char *err = NULL, *cmd;
	if (!mkdtemp(sb.root))
		return -1;
	sb.users = xasprintf("%s/users", sb.root);
	if (mkdir(sb.users, 0700) < 0) {
		perror("sealmail-bench: temporary root");
		return -1;
	}
	if (account_create(sb.users, "u0", PASSWORD, NULL, NULL, &err) < 0) {
		fprintf(stderr, "sealmail-bench: %s\n", err);
		return -1;
	}
	cmd = xasprintf("cd '%s' && i=1 && while [ $i -lt %u ]; do cp -a u0 u$i; i=$((i+1)); done",
			sb.users, sb.o.users);
	int r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sealmail-bench store [--dir DIR] [--users N] [--deliveries N]\n"
		   "                            [--small N] [--parallel K] [--keep]\n");
}

int bench_store_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "users", required_argument, NULL, 'u' },
		{ "deliveries", required_argument, NULL, 'n' },
		{ "small", required_argument, NULL, 's' },
		{ "parallel", required_argument, NULL, 'k' },
		{ "keep", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	sb.o = (struct sb_opts){ "/tmp", 1000, 1000, 10000, 8, false };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': sb.o.dir = optarg; break;
		case 'u': sb.o.users = (unsigned)atoi(optarg); break;
		case 'n': sb.o.deliveries = (unsigned)atoi(optarg); break;
		case 's': sb.o.small = (unsigned)atoi(optarg); break;
		case 'k': sb.o.parallel = (unsigned)atoi(optarg); break;
		case 'K': sb.o.keep = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (sb.o.users < 3 || !sb.o.deliveries || !sb.o.small || !sb.o.parallel) {
		usage(stderr);
		return 2;
	}
	sb.root = xasprintf("%s/sealmail-bench-store-XXXXXX", sb.o.dir);
	if (make_users() < 0)
		return 1;
	sb.big = mail_text(BIG_SIZE, 3);
	uv_loop_t *loop = uv_default_loop();
	coro_runtime_init(loop);
	coro_event_init(&sb.done);
	uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
	uv_prepare_init(loop, &sb.probe);
	uv_prepare_start(&sb.probe, probe);
	coro_spawn(sb_run, NULL, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(loop, UV_RUN_DEFAULT);
	if (!sb.o.keep)
		userdir_remove_tree(sb.root);
	free(sb.big);
	return sb.failures ? 1 : 0;
}
