/* c-ares on the libuv loop (DESIGN.md section 7: the socket-state callback,
 * one uv_poll per socket c-ares opens, and a uv_timer for its timeouts).
 *
 * A query is a heap record shared by the coroutine and the c-ares callback.
 * The coroutine parks; the callback stores the answer, caches it and wakes
 * the coroutine. When the coroutine leaves first (deadline, cancel) it only
 * marks the record abandoned: c-ares 1.18 cannot cancel one query, so the
 * callback, which always comes (c-ares has its own timeouts), frees it.
 *
 * The callback never wakes a coroutine itself: a coroutine woken from the
 * loop runs at once, inside c-ares's processing, and could then call
 * ares_query() or even ares_destroy() while c-ares still holds the finished
 * query. Answered queries wait on a list that is emptied once c-ares has
 * returned.
 */
#include "protocols/dns/dns.h"

#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"
#include "protocols/dns/dns-private.h"
#include "src/util/xmalloc.h"

struct sockw {
	uv_poll_t poll;
	ares_socket_t fd;
	struct sockw *next;
};

struct dns_req {
	struct dns_req *next;	/* on the completed list */
	struct coro *waiter;	/* parked in dns_query(); NULL otherwise */
	struct dns_answer *ans;	/* set by the callback */
	bool done, abandoned;
	enum dns_type type;
	char name[DNS_MAX_NAME + 1];
};

static struct {
	ares_channel chan;
	bool up;
	uv_timer_t *timer;
	struct sockw *socks;
	struct dns_cache *cache;
	struct dns_stats st;
	struct dns_req *completed;	/* answered, coroutine not woken yet */
} R;

static void close_free_cb(uv_handle_t *h)
{
	free(h);
}

static void reschedule(void);

/* Wakes the coroutines of answered queries; called after every call into
 * c-ares that can run callbacks. A woken coroutine may start new queries,
 * so the list is taken one entry at a time. */
static void wake_completed(void)
{
	while (R.completed) {
		struct dns_req *req = R.completed;
		R.completed = req->next;
		struct coro *c = req->waiter;
		req->waiter = NULL;
		coro_wake(c, 0);
	}
}

static void poll_cb(uv_poll_t *poll, int status, int events)
{
	struct sockw *w = (struct sockw *)poll;
	ares_socket_t fd = w->fd;
	/* On an error let c-ares try both directions: it then sees the
	 * failure on the socket itself and drops or retries the server. */
	if (status < 0)
		events = UV_READABLE | UV_WRITABLE;
	ares_process_fd(R.chan, (events & UV_READABLE) ? fd : ARES_SOCKET_BAD,
			(events & UV_WRITABLE) ? fd : ARES_SOCKET_BAD);
	reschedule();
	wake_completed();
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct sockw **pp = &R.socks;
	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	struct sockw *w = *pp;

	if (!readable && !writable) {
		if (!w)
			return;
		*pp = w->next;
		/* c-ares closes the socket after this returns; uv_close stops
		 * the watch now, so a new socket with the same number is free
		 * to get its own. */
		uv_close((uv_handle_t *)&w->poll, close_free_cb);
		return;
	}
	if (!w) {
		w = xcalloc(1, sizeof(*w));
		if (uv_poll_init_socket(coro_loop(), &w->poll, fd) < 0) {
			free(w);
			return;	/* c-ares times the query out */
		}
		w->fd = fd;
		w->next = R.socks;
		R.socks = w;
	}
	uv_poll_start(&w->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
		      poll_cb);
}

static void timer_cb(uv_timer_t *t)
{
	ares_process_fd(R.chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	reschedule();
	wake_completed();
}

/* Arms the timer for c-ares's next timeout, after every call into it. */
static void reschedule(void)
{
	struct timeval tv;
	if (!R.up)
		return;
	if (!ares_timeout(R.chan, NULL, &tv)) {
		uv_timer_stop(R.timer);
		return;
	}
	uint64_t ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
	uv_timer_start(R.timer, timer_cb, ms ? ms : 1, 0);
}

static struct dns_answer *answer_of(struct dns_req *req, int status,
				    const unsigned char *abuf, int alen)
{
	if (abuf && alen > 0 && (status == ARES_SUCCESS || status == ARES_ENODATA ||
				 status == ARES_ENOTFOUND))
		return dns_parse_response(abuf, (size_t)alen, req->name, req->type);
	switch (status) {
	case ARES_ENODATA:
		return dns_answer_new_status(req->type, DNS_NODATA);
	case ARES_ENOTFOUND:
		return dns_answer_new_status(req->type, DNS_NXDOMAIN);
	case ARES_EBADNAME:
		return dns_answer_new_status(req->type, DNS_BADNAME);
	default:
		return dns_answer_new_status(req->type, DNS_TEMPFAIL);
	}
}

static void query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_req *req = arg;
	struct dns_answer *ans = answer_of(req, status, abuf, alen);

	if (ans->status == DNS_TEMPFAIL)
		R.st.tempfail++;
	else if (R.cache && status != ARES_EDESTRUCTION)
		dns_cache_put(R.cache, req->name, req->type, ans, coro_now_ms());
	req->done = true;
	if (req->abandoned) {
		dns_answer_unref(&ans);
		free(req);
		return;
	}
	req->ans = ans;
	/* At shutdown (ares_destroy) a coroutine still in dns_query() can
	 * only be one already woken by coro_cancel() and not yet run: waking
	 * it again would be a bug. It finds req done when it runs. */
	if (req->waiter && status != ARES_EDESTRUCTION) {
		req->next = R.completed;
		R.completed = req;
	}
}

int dns_query(const char *name, enum dns_type type, int64_t deadline,
	      struct dns_answer **ans_r)
{
	char norm[DNS_MAX_NAME + 1];

	*ans_r = NULL;
	if (!R.up)
		return -ENOTCONN;
	if (!coro_in_coroutine())
		return -EINVAL;
	R.st.queries++;
	if (dns_name_normalize(name, norm, sizeof(norm)) < 0) {
		*ans_r = dns_answer_new_status(type, DNS_BADNAME);
		return 0;
	}
	*ans_r = dns_cache_get(R.cache, norm, type, coro_now_ms());
	if (*ans_r) {
		R.st.cache_hits++;
		return 0;
	}
	if (coro_cancelled())
		return -ECANCELED;
	if (deadline <= coro_now_ms())
		return -ETIMEDOUT;

	struct dns_req *req = xcalloc(1, sizeof(*req));
	req->type = type;
	memcpy(req->name, norm, strlen(norm) + 1);
	R.st.sent++;
	ares_query(R.chan, norm, 1 /* IN */, (int)type, query_cb, req);
	reschedule();
	if (!req->done) {
		req->waiter = coro_current();
		int r = coro_park(deadline, true);
		req->waiter = NULL;
		if (!req->done) {
			/* The deadline or a cancel came first; the callback
			 * still comes and frees req. */
			req->abandoned = true;
			return r < 0 ? r : -EIO;
		}
		if (r < 0) {
			/* Cancelled, and the answer came before we ran. */
			dns_answer_unref(&req->ans);
			free(req);
			return r;
		}
	}
	*ans_r = req->ans;
	free(req);
	return 0;
}

/* "IP", "IP:PORT", "[IPv6]:PORT" and a bare IPv6 address into c-ares's
 * comma-separated form, where IPv6 with a port needs brackets. */
static int servers_csv(const char *const *servers, size_t n, struct buf *csv)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = servers[i];
		if (!*s || strchr(s, ',') || strlen(s) > 64)
			return -EINVAL;
		const char *c1 = strchr(s, ':');
		bool bare6 = s[0] != '[' && c1 && strchr(c1 + 1, ':');
		if (buf_printf(csv, "%s%s%s%s", i ? "," : "", bare6 ? "[" : "", s,
			       bare6 ? "]" : "") < 0)
			return -EINVAL;
	}
	return 0;
}

int dns_set_servers(const char *const *servers, size_t n, const char **error_r)
{
	struct buf csv = BUF_INIT(4096);
	int r;

	if (!R.up) {
		*error_r = "resolver not started";
		return -ENOTCONN;
	}
	if (n == 0) {
		/* Back to the system's servers: what ares_init read. */
		ares_channel fresh;
		struct ares_addr_port_node *list = NULL;
		if (ares_init(&fresh) != ARES_SUCCESS) {
			*error_r = "cannot read the system resolver configuration";
			return -EIO;
		}
		r = ares_get_servers_ports(fresh, &list);
		if (r == ARES_SUCCESS)
			r = ares_set_servers_ports(R.chan, list);
		ares_free_data(list);
		ares_destroy(fresh);
	} else {
		if (servers_csv(servers, n, &csv) < 0) {
			buf_free(&csv);
			*error_r = "bad DNS server address";
			return -EINVAL;
		}
		r = ares_set_servers_ports_csv(R.chan, csv.data);
		buf_free(&csv);
	}
	if (r != ARES_SUCCESS) {
		*error_r = r == ARES_ENOTIMP ? "cannot change DNS servers with queries in flight"
					     : "bad DNS server address";
		return r == ARES_ENOTIMP ? -EBUSY : -EINVAL;
	}
	dns_cache_clear(R.cache);
	return 0;
}

int dns_init(const char *const *servers, size_t n, unsigned timeout_ms,
	     unsigned tries, const char **error_r)
{
	struct ares_options opt;
	int r;

	if (R.up) {
		*error_r = "resolver already started";
		return -EALREADY;
	}
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		*error_r = "c-ares library initialisation failed";
		return -EIO;
	}
	memset(&opt, 0, sizeof(opt));
	/* No search list, no HOSTALIASES: the names we ask are complete.
	 * EDNS so that 2048-bit DKIM keys fit in one UDP answer. */
	opt.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
	opt.timeout = timeout_ms ? (int)timeout_ms : 1000;
	opt.tries = tries ? (int)tries : 3;
	opt.ednspsz = 1232;
	opt.sock_state_cb = sock_state_cb;
	r = ares_init_options(&R.chan, &opt,
			      ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
				      ARES_OPT_EDNSPSZ | ARES_OPT_SOCK_STATE_CB);
	if (r != ARES_SUCCESS) {
		ares_library_cleanup();
		*error_r = "cannot start the resolver (c-ares)";
		return -EIO;
	}
	R.timer = xcalloc(1, sizeof(*R.timer));
	uv_timer_init(coro_loop(), R.timer);
	R.cache = dns_cache_new(DNS_CACHE_ENTRIES, DNS_CACHE_BYTES);
	R.up = true;
	if (n > 0 && (r = dns_set_servers(servers, n, error_r)) < 0) {
		dns_shutdown();
		return r;
	}
	return 0;
}

void dns_shutdown(void)
{
	if (!R.up)
		return;
	/* Runs the callbacks of queries in flight (ARES_EDESTRUCTION), which
	 * frees the abandoned ones, and reports each socket closed. */
	ares_destroy(R.chan);
	R.up = false;
	while (R.socks) {
		struct sockw *w = R.socks;
		R.socks = w->next;
		uv_close((uv_handle_t *)&w->poll, close_free_cb);
	}
	uv_close((uv_handle_t *)R.timer, close_free_cb);
	R.timer = NULL;
	dns_cache_free(&R.cache);
	ares_library_cleanup();
	memset(&R.st, 0, sizeof(R.st));
}

bool dns_initialized(void)
{
	return R.up;
}

void dns_get_stats(struct dns_stats *st)
{
	*st = R.st;
	st->cache_entries = R.cache ? dns_cache_entries(R.cache) : 0;
	st->cache_bytes = R.cache ? dns_cache_bytes(R.cache) : 0;
}
