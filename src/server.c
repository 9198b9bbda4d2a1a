#include "src/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coro/stream.h"
#include "src/admin.h"
#include "src/fdlimit.h"
#include "src/iplimit.h"
#include "src/listen.h"
#include "src/log.h"
#include "src/looplag.h"
#include "src/privdrop.h"
#include "src/util/xmalloc.h"
#include "protocols/imap/imap.h"
#include "protocols/mailauth/mailauth.h"
#include "protocols/smtp/smtp.h"
#include "storage/meta.h"
#include "storage/store.h"

/* Past the configured limit, a refusal still costs a coroutine and (for TLS)
 * a handshake; beyond this extra margin connections are closed unanswered. */
#define REFUSAL_MARGIN 64
#define HANDSHAKE_TIMEOUT_MS (60 * 1000)
/* Descriptors beyond one per connection: listeners, mail files, SQLite
 * handles, DNS sockets. */
#define FD_RESERVE 1024
/* Connections accepted per loop iteration (see listener_accept_loop). */
#define ACCEPT_BATCH 8

const struct proto_info proto_table[PROTO_COUNT] = {
	[PROTO_IMAPS] = { "imaps", imap_session_run, true, true },
	[PROTO_IMAP] = { "imap", imap_session_run, false, true },
	[PROTO_SMTP] = { "smtp", smtpin_session_run, false, true },
	[PROTO_SUBMISSIONS] = { "submissions", NULL, true, true },
	[PROTO_SUBMISSION] = { "submission", NULL, false, true },
	[PROTO_LMTP] = { "lmtp", lmtp_session_run, false, true },
	[PROTO_ADMIN] = { "admin", admin_session_run, false, false },
};

void conn_log(const struct conn *c, int level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, c->id, "%s", msg);
}

static uint64_t proto_idle_timeout_ms(const struct config *cfg, enum proto p)
{
	switch (p) {
	case PROTO_IMAPS:
	case PROTO_IMAP:
		return (uint64_t)cfg->imap_idle_timeout * 1000;
	case PROTO_ADMIN:
		return 60 * 1000;
	default:
		return (uint64_t)cfg->smtp_idle_timeout * 1000;
	}
}

static void conn_release(struct conn *c)
{
	struct server *srv = c->server;
	list_remove(&srv->conns, &c->node);
	if (!c->over_limit) {
		srv->conn_count--;
		srv->conns_by_proto[c->proto]--;
		if (proto_table[c->proto].counts_per_ip && c->peer_ip[0])
			iplimit_conn_release(srv->per_ip, c->peer_ip);
	}
	stream_free(&c->stream);
	tls_config_unref(&c->tls);
	free(c);
	if (srv->conns.count == 0)
		coro_event_notify_all(&srv->conns_drained);
}

static void conn_run(void *arg)
{
	struct conn *c = arg;
	const struct proto_info *pi = &proto_table[c->proto];
	conn_log(c, LOG_INFO, "%s: connection from %s", pi->name, c->peer);
	int r = 0;
	if (pi->implicit_tls) {
		stream_set_timeout(c->stream, HANDSHAKE_TIMEOUT_MS);
		r = stream_start_tls_server(c->stream, c->tls);
		if (r < 0)
			conn_log(c, LOG_INFO, "TLS handshake failed: %s", strerror(-r));
		else
			conn_log(c, LOG_DEBUG, "TLS: %s", stream_tls_description(c->stream));
	}
	if (r == 0) {
		stream_set_timeout(c->stream, c->idle_timeout_ms);
		pi->handler(c);
		stream_flush(c->stream);
	}
	conn_log(c, LOG_INFO, "%s: disconnected", pi->name);
	conn_release(c);
}

/* Whether a new connection from this address is within its rate. Local
 * clients (an MTA in front, webmail, the benchmarks) are not limited. */
static bool conn_rate_ok(struct server *srv, const struct conn *c)
{
	if (iplimit_is_loopback(c->peer_ip))
		return true;
	return iplimit_rate_take(srv->per_ip, c->peer_ip, IPLIMIT_RATE_CONNECT,
				 srv->cfg->max_connection_rate_per_ip, 60 * 1000, coro_now_ms());
}

/* Decides whether a new connection is within the limits. A refused one
 * still gets a protocol-level goodbye from its handler (c->refuse). */
static const char *conn_check_limits(struct server *srv, struct conn *c)
{
	const struct config *cfg = srv->cfg;
	if (c->proto == PROTO_ADMIN)
		return NULL;
	if (srv->conn_count >= cfg->max_connections)
		return "Too many connections to this server, try again later";
	if (!proto_table[c->proto].counts_per_ip || !c->peer_ip[0])
		return NULL;
	if (!iplimit_conn_acquire(srv->per_ip, c->peer_ip, cfg->max_connections_per_ip))
		return "Too many connections from your address, try again later";
	/* Checked after the count so that a connection refused for the count
	 * takes no share of the rate; a refused one gives its count back,
	 * since conn_release() does not for a connection over a limit. */
	if (!conn_rate_ok(srv, c)) {
		iplimit_conn_release(srv->per_ip, c->peer_ip);
		return "Too many connections from your address recently, try again later";
	}
	return NULL;
}

static void conn_start(struct listener *l, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct server *srv = l->server;
	if (srv->conn_count >= srv->cfg->max_connections + REFUSAL_MARGIN) {
		srv->refused_limit++;
		close(fd);
		return;
	}
	struct conn *c = xcalloc(1, sizeof(*c));
	c->server = srv;
	c->proto = l->proto;
	c->id = ++srv->next_conn_id;
	listen_format_peer(sa, len, c->peer, sizeof(c->peer), c->peer_ip, sizeof(c->peer_ip));
	c->refuse = conn_check_limits(srv, c);
	if (c->refuse) {
		c->over_limit = true;
		srv->refused_limit++;
		conn_log(c, LOG_NOTICE, "%s: refusing %s: %s", proto_table[c->proto].name,
			 c->peer, c->refuse);
	} else {
		srv->conn_count++;
		srv->conns_by_proto[c->proto]++;
	}
	srv->accepted_by_proto[c->proto]++;
	c->idle_timeout_ms = proto_idle_timeout_ms(srv->cfg, c->proto);
	/* Streams gather a whole response and flush once: Nagle would only
	 * hold back the last segment until the peer's delayed ACK (40 ms). */
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->stream = stream_new_socket(fd);
	if (srv->tls) {
		c->tls = srv->tls;
		tls_config_ref(c->tls);
	}
	list_push_back(&srv->conns, &c->node);
	c->coro = coro_spawn(conn_run, c, 0);
	if (!c->coro) {
		log_error("cannot map a coroutine stack; dropping connection");
		conn_release(c);
	}
}

static void listener_closed(struct coro_fd *w)
{
	struct listener *l = container_of(w, struct listener, watch);
	free(l->address);
	free(l);
}

static void listener_accept_loop(void *arg)
{
	struct listener *l = arg;
	while (!l->server->stopping) {
		int r = coro_fd_wait(&l->watch, UV_READABLE, CORO_NO_DEADLINE);
		if (r < 0)
			break;
		/* A small batch: each new connection costs a stack and TLS state, and
		 * the rest of the loop waits for the whole batch. */
		for (int i = 0; i < ACCEPT_BATCH && !l->server->stopping; i++) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);
			int fd = accept4(l->watch.fd, (struct sockaddr *)&ss, &len,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0) {
				conn_start(l, fd, (struct sockaddr *)&ss, len);
				continue;
			}
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				log_error("%s: accept: %s", l->address, strerror(errno));
				coro_sleep(100);
			}
			break;
		}
	}
	list_remove(&l->server->listeners, &l->node);
	coro_fd_close(&l->watch, listener_closed);
}

static int listener_add(struct server *srv, enum proto proto, const char *address)
{
	struct listen_addr addr;
	const char *err;
	if (listen_parse_addr(address, &addr, &err) < 0) {
		log_error("listen.%s: %s: %s", proto_table[proto].name, address, err);
		return -EINVAL;
	}
	int fd = listen_inherited_take(&addr);
	if (fd < 0)
		fd = listen_open(&addr, proto == PROTO_ADMIN ? 0600 : 0666);
	if (fd < 0) {
		log_error("listen.%s: cannot listen on %s: %s", proto_table[proto].name,
			  address, strerror(-fd));
		return fd;
	}
	struct listener *l = xcalloc(1, sizeof(*l));
	l->server = srv;
	l->proto = proto;
	l->address = xstrdup(address);
	coro_fd_init(&l->watch, fd);
	list_push_back(&srv->listeners, &l->node);
	log_info("listening for %s on %s", proto_table[proto].name, address);
	return 0;
}

static const struct config_strlist *listen_list(const struct config *cfg, enum proto p)
{
	switch (p) {
	case PROTO_IMAPS: return &cfg->listen_imaps;
	case PROTO_IMAP: return &cfg->listen_imap;
	case PROTO_SMTP: return &cfg->listen_smtp;
	case PROTO_SUBMISSIONS: return &cfg->listen_submissions;
	case PROTO_SUBMISSION: return &cfg->listen_submission;
	case PROTO_LMTP: return &cfg->listen_lmtp;
	default: return NULL;
	}
}

/* Refuses a configuration asking for a service this build lacks: better a
 * clear start-up error than a port that answers nothing useful. */
static int server_check_protocols(const struct config *cfg, char **error_r)
{
	for (int p = 0; p < PROTO_COUNT; p++) {
		const struct config_strlist *l = listen_list(cfg, (enum proto)p);
		if (l && l->count && !proto_table[p].handler) {
			*error_r = xasprintf("%s: listen.%s: this version of sealmail does not "
					     "serve %s yet", cfg->path, proto_table[p].name,
					     proto_table[p].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int server_open_listeners(struct server *srv)
{
	listen_inherited_scan();
	for (int p = 0; p < PROTO_COUNT; p++) {
		const struct config_strlist *l = listen_list(srv->cfg, (enum proto)p);
		for (size_t i = 0; l && i < l->count; i++) {
			int r = listener_add(srv, (enum proto)p, l->items[i]);
			if (r < 0)
				return r;
		}
	}
	int r = listener_add(srv, PROTO_ADMIN, srv->cfg->listen_admin);
	if (r < 0)
		return r;
	int unclaimed = listen_inherited_close_unclaimed();
	if (unclaimed)
		log_warning("closed %d inherited socket(s) matching no [listen] address",
			    unclaimed);
	return 0;
}

static int server_load_tls(const struct config *cfg, struct tls_config **tls_r,
			   char **error_r)
{
	*tls_r = NULL;
	if (!cfg->tls_certificate_chain || !cfg->tls_private_key)
		return 0;
	const char *err = NULL;
	*tls_r = tls_config_new_server(cfg->tls_certificate_chain, cfg->tls_private_key, &err);
	if (!*tls_r) {
		*error_r = xasprintf("%s: [tls]: %s", cfg->path, err ? err : "cannot load");
		return -EINVAL;
	}
	return 0;
}

int server_reload(struct server *srv, char **error_r)
{
	struct config *cfg;
	struct tls_config *tls;
	int r = config_load(srv->cfg->path, srv->cfg->root, &cfg, error_r);
	if (r < 0)
		return r;
	r = server_check_protocols(cfg, error_r);
	if (r == 0)
		r = server_load_tls(cfg, &tls, error_r);
	if (r < 0) {
		config_free(&cfg);
		return r;
	}
	/* Live sessions hold a reference to the old TLS config; only new
	 * connections see the new certificate. */
	tls_config_unref(&srv->tls);
	srv->tls = tls;
	log_set_level(cfg->log_level);
	if (srv->store)
		store_set_login_cache_ms(srv->store, cfg->login_cache_seconds * 1000);
	if (srv->cfg->listen_smtp.count > 0) {
		const char *why;
		if (mailauth_global_reload(cfg, &why) < 0)
			log_warning("[dns] servers not changed: %s", why);
	}
	config_free(&srv->cfg);
	srv->cfg = cfg;
	log_notice("configuration reloaded from %s (listener changes need a restart)",
		   cfg->path);
	return 0;
}

/* Closes the store once every session has logged out: sessions hold
 * references into it until they end. */
static void store_closer(void *arg)
{
	struct server *srv = arg;
	while (srv->conns.count > 0)
		coro_event_wait(&srv->conns_drained, CORO_NO_DEADLINE);
	store_shutdown(&srv->store);
}

static void server_close_store(struct server *srv)
{
	if (!srv->store || srv->store_closing)
		return;
	srv->store_closing = true;
	if (!coro_spawn(store_closer, srv, 0))
		abort();
}

static void grace_expired(uv_timer_t *t)
{
	struct server *srv = t->data;
	struct list_node *n, *tmp;
	log_warning("grace period over: closing %zu remaining session(s)", srv->conns.count);
	list_for_each_safe(n, tmp, &srv->conns)
		coro_cancel(container_of(n, struct conn, node)->coro);
}

void server_stop(struct server *srv, int exit_status)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	srv->exit_status = exit_status;
	listen_sd_notify("STOPPING=1");
	log_notice("shutting down: %zu session(s) to finish", srv->conns.count);
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &srv->listeners)
		coro_cancel(container_of(n, struct listener, node)->acceptor);
	list_for_each_safe(n, tmp, &srv->conns) {
		struct coro *co = container_of(n, struct conn, node)->coro;
		/* The admin session asking for shutdown still has to say OK. */
		if (co != coro_current())
			coro_interrupt(co);
	}
	uv_timer_start(&srv->grace_timer, grace_expired,
		       (uint64_t)srv->cfg->shutdown_grace * 1000, 0);
	uv_unref((uv_handle_t *)&srv->grace_timer);
	uv_close((uv_handle_t *)&srv->sig_term, NULL);
	uv_close((uv_handle_t *)&srv->sig_int, NULL);
	uv_close((uv_handle_t *)&srv->sig_hup, NULL);
	looplag_stop(&srv->lag);
	server_close_store(srv);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;
	if (signum == SIGHUP) {
		char *err = NULL;
		listen_sd_notify("RELOADING=1");
		if (server_reload(srv, &err) < 0) {
			log_error("reload failed, keeping the running configuration: %s", err);
			free(err);
		}
		listen_sd_notify("READY=1");
		return;
	}
	log_notice("signal %d received", signum);
	server_stop(srv, 0);
}

static void server_signals(struct server *srv)
{
	uv_signal_t *sigs[] = { &srv->sig_term, &srv->sig_int, &srv->sig_hup };
	int nums[] = { SIGTERM, SIGINT, SIGHUP };
	for (int i = 0; i < 3; i++) {
		uv_signal_init(srv->loop, sigs[i]);
		sigs[i]->data = srv;
		uv_signal_start(sigs[i], on_signal, nums[i]);
	}
	signal(SIGPIPE, SIG_IGN);
}

static void server_start_acceptors(struct server *srv)
{
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &srv->listeners) {
		struct listener *l = container_of(n, struct listener, node);
		l->acceptor = coro_spawn(listener_accept_loop, l, 0);
		if (!l->acceptor)
			abort();
	}
}

static int server_setup(struct server *srv, const char *root, const char *config_path)
{
	char *err = NULL;
	int r = config_load(config_path, root, &srv->cfg, &err);
	if (r == 0)
		r = server_check_protocols(srv->cfg, &err);
	if (r == 0)
		r = server_load_tls(srv->cfg, &srv->tls, &err);
	if (r < 0) {
		log_error("%s", err ? err : "cannot load configuration");
		free(err);
		return r;
	}
	/* [diagnostic] stderr: before anything else is said (manual). */
	if (srv->cfg->diagnostic_stderr &&
	    !freopen(srv->cfg->diagnostic_stderr, "a", stderr)) {
		log_error("cannot redirect stderr to %s: %s", srv->cfg->diagnostic_stderr,
			  strerror(errno));
		return -errno;
	}
	if (srv->cfg->diagnostic_stderr)
		setvbuf(stderr, NULL, _IOLBF, 0); /* a file would be fully buffered */
	log_init("sealmail", srv->cfg->log_target == LOG_TARGET_SYSLOG, srv->cfg->log_level);
	unsigned want = srv->cfg->max_connections + FD_RESERVE;
	unsigned fds = fdlimit_prepare(want);
	if (fds < want)
		log_warning("the open-file limit (%u) is below max_connections + %u: raise it "
			    "(LimitNOFILE= under systemd, ulimit -n)", fds, FD_RESERVE);
	r = server_open_listeners(srv);
	if (r < 0)
		return r;
	/* SPF, DKIM and DMARC for SMTP-in: before a chroot, which would hide
	 * /etc/resolv.conf and the Public Suffix List. */
	if (srv->cfg->listen_smtp.count > 0) {
		const char *why;
		r = mailauth_global_init(srv->cfg, &why);
		if (r < 0) {
			log_error("cannot start sender authentication: %s", why);
			return r;
		}
	}
	bool chroot = srv->cfg->chroot_system && geteuid() == 0;
	srv->users_dir = chroot ? xstrdup("/") : xasprintf("%s/users", srv->cfg->root);
	meta_boot_id_init();	/* /proc may not be there after a chroot */
	r = privdrop_apply(srv->cfg, &err);
	if (r < 0) {
		log_error("%s", err);
		free(err);
		return r;
	}
	/* After the privilege drop: the store creates files as the user
	 * that owns the mail. */
	struct store_settings set;
	store_settings_default(&set);
	set.login_cache_ms = srv->cfg->login_cache_seconds * 1000;
	r = store_new(srv->users_dir, &set, &srv->store);
	if (r < 0)
		log_error("cannot start the store: %s", strerror(-r));
	return r;
}

static void server_close_listeners_now(struct server *srv)
{
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &srv->listeners) {
		struct listener *l = container_of(n, struct listener, node);
		list_remove(&srv->listeners, n);
		coro_fd_close(&l->watch, listener_closed);
	}
}

int server_main(const char *root, const char *config_path)
{
	struct server srv = { 0 };
	srv.loop = uv_default_loop();
	list_init(&srv.listeners);
	list_init(&srv.conns);
	coro_event_init(&srv.conns_drained);
	srv.per_ip = iplimit_new();
	coro_runtime_init(srv.loop);
	int r = server_setup(&srv, root, config_path);
	if (r < 0) {
		server_close_listeners_now(&srv);
		uv_run(srv.loop, UV_RUN_DEFAULT);
		srv.exit_status = 1;
		goto out;
	}
	uv_timer_init(srv.loop, &srv.grace_timer);
	srv.grace_timer.data = &srv;
	server_signals(&srv);
	srv.lag = looplag_start(srv.loop, 10);
	server_start_acceptors(&srv);
	listen_sd_notify("READY=1");
	log_notice("sealmail ready (pid %ld)", (long)getpid());
	uv_run(srv.loop, UV_RUN_DEFAULT);
	server_close_store(&srv);	/* if the loop ended without a stop */
	uv_run(srv.loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&srv.grace_timer, NULL);
	uv_run(srv.loop, UV_RUN_DEFAULT);
	log_notice("sealmail stopped");
out:
	mailauth_global_shutdown();
	coro_runtime_shutdown();
	uv_run(srv.loop, UV_RUN_DEFAULT); /* let the runtime's handles close */
	tls_config_unref(&srv.tls);
	iplimit_free(&srv.per_ip);
	config_free(&srv.cfg);
	free(srv.users_dir);
	uv_loop_close(srv.loop);
	return srv.exit_status;
}
