#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/admin.h"
#include "src/cli.h"
#include "src/config.h"
#include "src/util/buf.h"
#include "storage/account.h"

#define ADMIN_CLIENT_TIMEOUT_S 300

void cli_usage_admin(FILE *f)
{
	fprintf(f, "usage: sealmail admin [--root ROOT | --socket PATH] COMMAND ...\n\n"
		   "Talks to the running server over its admin socket\n"
		   "(listen.admin in sealmail.toml, default ROOT/admin.sock).\n\n"
		   "commands:\n"
		   "  stats      connections, coroutines, memory, loop lag, worker queue\n"
		   "  reload     reload configuration and TLS certificates\n"
		   "  shutdown   stop the server gracefully\n"
		   "  user add NAME [--password-stdin | --prompt-password]\n"
		   "             create an account; without a password option a\n"
		   "             strong one is generated and printed as 'password: ...'\n"
		   "  user list  list accounts, aliases and disabled users\n");
}

static int __attribute__((format(printf, 1, 2))) admin_fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sealmail admin: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* The socket path: --socket, else listen.admin from ROOT's configuration,
 * else ROOT/admin.sock when the configuration cannot be read. */
static char *admin_socket_path(const char *root, const char *socket_path)
{
	if (socket_path)
		return strdup(socket_path);
	char cfgpath[4096];
	snprintf(cfgpath, sizeof(cfgpath), "%s/sealmail.toml", root);
	struct config *cfg = NULL;
	char *err = NULL;
	char *path = NULL;
	if (config_load(cfgpath, root, &cfg, &err) == 0) {
		if (strncmp(cfg->listen_admin, "unix:", 5) == 0)
			path = strdup(cfg->listen_admin + 5);
		config_free(&cfg);
	}
	free(err);
	if (!path && asprintf(&path, "%s/admin.sock", root) < 0)
		path = NULL;
	return path;
}

static int admin_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path); /* length checked above */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = ADMIN_CLIENT_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Prints "= " lines until OK (0) or ERR (1). */
static int admin_read_reply(int fd)
{
	FILE *in = fdopen(fd, "r");
	if (!in)
		return admin_fail("%s", strerror(errno));
	char line[ADMIN_MAX_LINE + 8];
	int status = -1;
	while (status < 0 && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "= ", 2) == 0)
			printf("%s\n", line + 2);
		else if (strcmp(line, "OK") == 0)
			status = 0;
		else if (strncmp(line, "ERR ", 4) == 0)
			status = admin_fail("%s", line + 4);
		else
			status = admin_fail("unexpected reply: %s", line);
	}
	if (status < 0)
		status = admin_fail("%s", "the server closed the connection without replying");
	fclose(in);
	return status;
}

int cli_admin_main(int argc, char **argv)
{
	const char *root = NULL, *socket_path = NULL;
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			cli_usage_admin(stdout);
			return 0;
		} else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			root = argv[++i];
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			socket_path = argv[++i];
		} else {
			cli_usage_admin(stderr);
			return 2;
		}
	}
	if (i == argc) {
		cli_usage_admin(stderr);
		return 2;
	}
	struct buf req = BUF_INIT(ADMIN_MAX_LINE + ACCOUNT_PASSWORD_MAX + 2);
	int pw_mode = 0; /* 1: --password-stdin, 2: --prompt-password */
	int words = 0;
	for (int k = i; k < argc; k++) {
		if (strcmp(argv[k], "--password-stdin") == 0) {
			pw_mode = 1;
			continue;
		}
		if (strcmp(argv[k], "--prompt-password") == 0) {
			pw_mode = 2;
			continue;
		}
		if (strpbrk(argv[k], " \t\r\n") || !*argv[k])
			return admin_fail("invalid argument '%s'", argv[k]);
		if (buf_printf(&req, "%s%s", words++ ? " " : "", argv[k]) < 0)
			return admin_fail("%s", "request too long");
	}
	if (pw_mode) {
		char password[CLI_PASSWORD_BUF];
		int r = cli_read_password("sealmail admin", "Password: ",
					  pw_mode == 2 ? "Again: " : NULL, password,
					  sizeof(password));
		if (r < 0) {
			buf_free(&req);
			return 1;
		}
		buf_printf(&req, " password-follows\n%s", password);
		explicit_bzero(password, sizeof(password));
	}
	buf_puts(&req, "\n");
	char *path = admin_socket_path(root ? root : cli_default_root(), socket_path);
	int fd = path ? admin_connect(path) : -1;
	if (fd < 0) {
		int status = admin_fail("cannot reach the server: %s", strerror(errno));
		fprintf(stderr, "  (socket %s; is `sealmail serve` running?)\n", path ? path : "?");
		free(path);
		buf_free(&req);
		return status;
	}
	free(path);
	int status = send_all(fd, req.data, req.len) < 0
			     ? admin_fail("cannot send the request: %s", strerror(errno))
			     : admin_read_reply(fd);
	explicit_bzero(req.data, req.len);
	buf_free(&req);
	return status;
}
