#include "src/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024
#define SD_LISTEN_FDS_START 3
#define MAX_INHERITED 64

static int inherited[MAX_INHERITED];
static int inherited_count;

static int parse_port(const char *s, in_port_t *port)
{
	if (!*s)
		return -EINVAL;
	unsigned long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*port = htons((in_port_t)v);
	return 0;
}

static int parse_unix(const char *path, struct listen_addr *addr, const char **error_r)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&addr->ss;
	size_t len = strlen(path);
	if (path[0] != '/') {
		*error_r = "unix socket path must be absolute";
		return -EINVAL;
	}
	if (len >= sizeof(sun->sun_path)) {
		*error_r = "unix socket path is too long";
		return -EINVAL;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	addr->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	addr->is_unix = true;
	return 0;
}

int listen_parse_addr(const char *text, struct listen_addr *addr, const char **error_r)
{
	memset(addr, 0, sizeof(*addr));
	*error_r = "expected IP:PORT, [IPv6]:PORT or unix:/path";
	if (strncmp(text, "unix:", 5) == 0)
		return parse_unix(text + 5, addr, error_r);
	char host[INET6_ADDRSTRLEN + 1];
	const char *port;
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = '\0';
		port = end + 2;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr->ss;
		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1 ||
		    parse_port(port, &sin6->sin6_port) < 0)
			return -EINVAL;
		addr->len = sizeof(*sin6);
		return 0;
	}
	const char *colon = strrchr(text, ':');
	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	struct sockaddr_in *sin = (struct sockaddr_in *)&addr->ss;
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    parse_port(colon + 1, &sin->sin_port) < 0)
		return -EINVAL;
	addr->len = sizeof(*sin);
	return 0;
}

int listen_open(const struct listen_addr *addr, int unix_mode)
{
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (addr->is_unix) {
		const char *path = ((const struct sockaddr_un *)&addr->ss)->sun_path;
		struct stat st;
		/* Only a leftover socket is removed, never another kind of file. */
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (addr->ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (addr->is_unix &&
	    chmod(((const struct sockaddr_un *)&addr->ss)->sun_path, (mode_t)unix_mode) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

void listen_inherited_scan(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (!pid || !fds || strtol(pid, NULL, 10) != (long)getpid())
		return;
	long n = strtol(fds, NULL, 10);
	if (n < 0 || n > MAX_INHERITED)
		n = 0;
	for (long i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + (int)i;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		inherited[inherited_count++] = fd;
	}
	/* Our children (none yet) must not think the sockets are theirs. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

static bool same_addr(const struct listen_addr *want, const struct sockaddr_storage *got,
		      socklen_t got_len)
{
	if (want->ss.ss_family != got->ss_family)
		return false;
	if (want->is_unix)
		return strcmp(((const struct sockaddr_un *)&want->ss)->sun_path,
			      ((const struct sockaddr_un *)got)->sun_path) == 0;
	return want->len == got_len && memcmp(&want->ss, got, got_len) == 0;
}

int listen_inherited_take(const struct listen_addr *addr)
{
	for (int i = 0; i < inherited_count; i++) {
		if (inherited[i] < 0)
			continue;
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getsockname(inherited[i], (struct sockaddr *)&ss, &len) < 0)
			continue;
		if (same_addr(addr, &ss, len)) {
			int fd = inherited[i];
			inherited[i] = -1;
			return fd;
		}
	}
	return -1;
}

int listen_inherited_close_unclaimed(void)
{
	int n = 0;
	for (int i = 0; i < inherited_count; i++) {
		if (inherited[i] >= 0) {
			close(inherited[i]);
			inherited[i] = -1;
			n++;
		}
	}
	return n;
}

void listen_format_peer(const struct sockaddr *sa, socklen_t len, char *peer,
			size_t peer_size, char *ip, size_t ip_size)
{
	char host[INET6_ADDRSTRLEN] = "";
	(void)len;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(peer, peer_size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(peer, peer_size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(peer, peer_size, "unix");
	}
	snprintf(ip, ip_size, "%s", host);
}

int listen_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sun.sun_path))
		return -EINVAL;
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
			   (struct sockaddr *)&sun, alen);
	int e = n < 0 ? -errno : 0;
	close(fd);
	return e;
}
