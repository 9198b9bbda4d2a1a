/* Shared pieces of sealmail-bench. */
#ifndef SEAL_BENCH_H
#define SEAL_BENCH_H

#include <stdint.h>

struct bench_opts {
	const char *host;
	uint16_t port;
	const char *admin;	/* path of the server's admin socket */
	unsigned connections;
	unsigned parallel;
	unsigned settle_ms;
};

/* What the benchmark reads from `admin stats`. */
struct bench_stats {
	uint64_t rss_bytes;
	uint64_t connections;
	uint64_t lag_p50_us, lag_p99_us, lag_max_us;
	uint64_t stacks_mapped;
};

/* Asks the server over its admin socket (from a coroutine). */
int bench_admin_stats(const char *socket_path, struct bench_stats *st);
void bench_raise_nofile(unsigned want);
void bench_print_idle(const struct bench_opts *o, const struct bench_stats *before,
		      const struct bench_stats *after, unsigned up, unsigned failed,
		      int first_error, double seconds);

/* Scenario entry points, argv[0] being the scenario name. */
int bench_store_main(int argc, char **argv);		/* scenario-store.c */
int bench_imap_main(int argc, char **argv);		/* scenario-imap.c */
int bench_imap_fill_main(int argc, char **argv);	/* scenario-imap-fill.c */
int bench_imap_idle_main(int argc, char **argv);	/* scenario-imap-idle.c */
int bench_smtp_main(int argc, char **argv);		/* scenario-smtp.c */

#endif
