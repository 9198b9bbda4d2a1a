/* Listening sockets: parsing "IP:PORT", "[IPv6]:PORT" and "unix:PATH",
 * binding them, and adopting sockets passed by systemd (LISTEN_FDS). */
#ifndef SEAL_LISTEN_H
#define SEAL_LISTEN_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool is_unix;
};

/* 0, or -EINVAL with *error_r (static text). */
int listen_parse_addr(const char *text, struct listen_addr *addr, const char **error_r);

/* Binds and listens (non-blocking, close-on-exec, SO_REUSEADDR; a stale
 * unix socket file is replaced, and its mode set to unix_mode). Returns the
 * fd or a negative errno. */
int listen_open(const struct listen_addr *addr, int unix_mode);

/* Sockets inherited through systemd's socket activation, taken once:
 * returns the fd listening on addr, or -1. Inherited fds never claimed are
 * closed by listen_inherited_close_unclaimed(). */
void listen_inherited_scan(void);
int listen_inherited_take(const struct listen_addr *addr);
int listen_inherited_close_unclaimed(void);

/* Formats a peer address as "1.2.3.4:5" / "[::1]:5" and its bare IP. */
void listen_format_peer(const struct sockaddr *sa, socklen_t len, char *peer,
			size_t peer_size, char *ip, size_t ip_size);

/* systemd's notification protocol (sd_notify without libsystemd): sends
 * state such as "READY=1" to $NOTIFY_SOCKET when set. Returns 0 when sent
 * or not under systemd. */
int listen_sd_notify(const char *state);

#endif
