/* The daemon: one process, one loop, every session a coroutine.
 *
 * struct server lives for the whole run of `sealmail serve`. Listeners accept
 * connections and start one coroutine per connection running the handler of
 * the listener's protocol. Only the loop thread touches any of this.
 */
#ifndef SEAL_SERVER_H
#define SEAL_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "coro/coro.h"
#include "src/config.h"
#include "src/util/list.h"

enum proto {
	PROTO_IMAPS,
	PROTO_IMAP,	/* cleartext, STARTTLS required before login */
	PROTO_SMTP,
	PROTO_SUBMISSIONS,
	PROTO_SUBMISSION,
	PROTO_LMTP,
	PROTO_ADMIN,
	PROTO_COUNT
};

struct server;
struct conn;

/* A protocol's session: runs on its own coroutine, owns c->stream, returns
 * when the session is over (the caller closes and frees the connection). */
typedef void conn_handler_fn(struct conn *c);

struct proto_info {
	const char *name;	/* the [listen] key: "imaps" */
	conn_handler_fn *handler;	/* NULL: not available in this build */
	bool implicit_tls;
	bool counts_per_ip;	/* admin connections are not limited per IP */
};
extern const struct proto_info proto_table[PROTO_COUNT];

struct conn {
	struct list_node node;	/* in server->conns */
	struct server *server;
	struct stream *stream;
	struct coro *coro;
	uint64_t id;		/* for logs: [c<id>] */
	enum proto proto;
	char peer[64];		/* "127.0.0.1:5555", "[::1]:5555" or "unix" */
	char peer_ip[48];	/* key for per-IP limits; "" for unix sockets */
	struct tls_config *tls;	/* the server config when accepted (ref held) */
	uint64_t idle_timeout_ms;
	/* Set when the connection is over a limit: the handler only says why
	 * in its protocol's words and returns. Static text. */
	const char *refuse;
	bool over_limit;
};

struct listener {
	struct list_node node;
	struct server *server;
	struct coro_fd watch;
	enum proto proto;
	char *address;		/* as configured */
	struct coro *acceptor;
};

struct loop_lag;
struct store;

struct server {
	uv_loop_t *loop;
	struct config *cfg;
	char *users_dir;		/* ROOT/users, or "/" once chrooted there */
	struct tls_config *tls;		/* current; NULL without TLS listeners */
	struct list listeners;
	struct list conns;
	struct ip_table *per_ip;
	/* The encrypted store of every user (storage/store.h), made at
	 * start-up over users_dir and shut down once the last connection
	 * has gone after a stop. */
	struct store *store;
	struct coro_event conns_drained;	/* notified when conns empties */
	bool store_closing;
	struct loop_lag *lag;
	uint64_t next_conn_id;
	uint32_t conn_count;
	uint32_t conns_by_proto[PROTO_COUNT];
	uint64_t accepted_by_proto[PROTO_COUNT];
	uint64_t refused_limit;		/* connections refused by limits */
	bool stopping;
	int exit_status;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t grace_timer;
};

/* Runs `sealmail serve`; returns the process exit status. */
int server_main(const char *root, const char *config_path);

/* Starts a graceful stop: listeners close, sessions are interrupted and say
 * goodbye; the loop ends when all are gone or after the grace period. */
void server_stop(struct server *srv, int exit_status);
/* Reloads configuration and TLS certificates; live sessions keep theirs.
 * Returns 0 or a negative code with *error_r (heap, caller frees). */
int server_reload(struct server *srv, char **error_r);

/* Per-connection log line. */
void conn_log(const struct conn *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
