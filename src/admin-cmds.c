#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "coro/coro.h"
#include "protocols/dns/dns.h"
#include "src/admin.h"
#include "src/looplag.h"
#include "src/server.h"
#include "storage/store.h"

static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void admin_reply_lag(struct admin_request *req, const char *name,
			    const struct lag_histogram *h)
{
	admin_reply_line(req, "%s: p50 %llu p99 %llu max %llu (samples %llu)", name,
			 (unsigned long long)lag_histogram_percentile(h, 50),
			 (unsigned long long)lag_histogram_percentile(h, 99),
			 (unsigned long long)h->max, (unsigned long long)h->count);
}

int admin_cmd_stats(struct admin_request *req)
{
	struct server *srv = req->server;
	struct coro_stats cs;
	coro_get_stats(&cs);
	admin_reply_line(req, "pid: %ld", (long)getpid());
	admin_reply_line(req, "connections: %u", srv->conn_count);
	for (int p = 0; p < PROTO_COUNT; p++)
		admin_reply_line(req, "connections.%s: %u (accepted %llu)", proto_table[p].name,
				 srv->conns_by_proto[p],
				 (unsigned long long)srv->accepted_by_proto[p]);
	admin_reply_line(req, "refused_by_limits: %llu", (unsigned long long)srv->refused_limit);
	admin_reply_line(req, "coroutines: %llu", (unsigned long long)cs.live);
	admin_reply_line(req, "coroutines_spawned: %llu", (unsigned long long)cs.spawned);
	admin_reply_line(req, "stacks_mapped: %llu", (unsigned long long)cs.stacks_mapped);
	admin_reply_line(req, "stacks_pooled: %llu", (unsigned long long)cs.stacks_pooled);
	admin_reply_line(req, "rss_bytes: %llu", (unsigned long long)rss_bytes());
	if (srv->lag) {
		admin_reply_lag(req, "loop_lag_us", looplag_total(srv->lag));
		/* The window restarts at every stats request: a benchmark reads
		 * the lag of exactly the phase between two requests. */
		admin_reply_lag(req, "loop_lag_window_us", looplag_window(srv->lag));
		looplag_window_reset(srv->lag);
	}
	admin_reply_line(req, "work_queue_depth: %u", coro_work_queue_depth());
	if (srv->store) {
		struct store_stats ss;
		store_get_stats(srv->store, &ss);
		admin_reply_line(req, "users_open: %llu", (unsigned long long)ss.users_open);
		admin_reply_line(req, "logins_argon2: %llu", (unsigned long long)ss.argon_runs);
		admin_reply_line(req, "logins_cached: %llu", (unsigned long long)ss.cache_hits);
		admin_reply_line(req, "messages_imported: %llu", (unsigned long long)ss.imported);
		admin_reply_line(req, "users_renumbered_after_power_loss: %llu",
				 (unsigned long long)ss.renumbered);
	}
	struct dns_stats ds;
	dns_get_stats(&ds);
	admin_reply_line(req, "dns_queries: %llu (cache hits %llu, sent %llu, temporary "
			 "failures %llu)", (unsigned long long)ds.queries,
			 (unsigned long long)ds.cache_hits, (unsigned long long)ds.sent,
			 (unsigned long long)ds.tempfail);
	admin_reply_line(req, "dns_cache: %llu entries, %llu bytes",
			 (unsigned long long)ds.cache_entries, (unsigned long long)ds.cache_bytes);
	return 0;
}

int admin_cmd_reload(struct admin_request *req)
{
	int r = server_reload(req->server, &req->error_owned);
	return r < 0 ? r : 0;
}

int admin_cmd_shutdown(struct admin_request *req)
{
	server_stop(req->server, 0);
	return 0;
}
