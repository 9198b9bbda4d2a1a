/* `sealmail deliver`: the Unix MDA (DESIGN.md section 6, manual "Unix
 * MDA"). One message on stdin goes to one user's store without the user's
 * password (storage/delivery.h); the exit status is a sysexits(3) code an
 * MTA understands, with a one-line reason on stderr. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "src/admin.h"
#include "src/cli.h"
#include "src/config.h"
#include "src/util/xmalloc.h"
#include "storage/delivery.h"
#include "storage/userdir.h"

#define DELIVER_NOTIFY_TIMEOUT_MS 1000

void cli_usage_deliver(FILE *f)
{
	fprintf(f,
		"usage: sealmail deliver [--root ROOT] --user NAME [--mailbox M] [--flag F]...\n\n"
		"Reads one message on standard input and stores it, encrypted, for user NAME\n"
		"of ROOT/users; the user's password is not needed. The message lands in INBOX\n"
		"(or M) when the user next logs in. When the first line of the message ends in\n"
		"a bare LF, as MTAs hand messages to an MDA, every bare LF becomes CRLF; a\n"
		"message that arrives with CRLF is stored byte for byte.\n\n"
		"  --root ROOT    directory with sealmail.toml and users/ (default %s)\n"
		"  --user NAME    the recipient (an alias works; a disabled user does not)\n"
		"  --mailbox M    target mailbox, '/' between levels (default INBOX)\n"
		"  --flag F       set flag F: \\Seen \\Answered \\Flagged \\Deleted \\Draft or a\n"
		"                 keyword such as $Junk; may be repeated\n\n"
		"Run as root, it becomes the owner of the user's directory first.\n\n"
		"exit status (sysexits.h):\n"
		"  0   delivered\n"
		"  64  usage: bad option, mailbox name or flag\n"
		"  65  bad data: the message is empty\n"
		"  67  no such user (unknown or disabled)\n"
		"  70  internal software error\n"
		"  73  the message is larger than 64 MiB\n"
		"  74  input/output error (reading stdin or writing the store)\n"
		"  75  temporary failure (disk full, locks, permissions, damaged account\n"
		"      an administrator can repair): the MTA should retry\n",
		cli_default_root());
}

static int __attribute__((format(printf, 2, 3))) fail(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sealmail deliver: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

struct deliver_args {
	const char *root, *user, *mailbox;
	const char **flags;
	size_t nflags;
};

/* Parses argv into a; returns -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct deliver_args *a)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "mailbox", required_argument, NULL, 'm' },
		{ "flag", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	opterr = 0;
	a->flags = xcalloc((size_t)argc, sizeof(char *));
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			a->root = optarg;
			break;
		case 'u':
			a->user = optarg;
			break;
		case 'm':
			a->mailbox = optarg;
			break;
		case 'f':
			a->flags[a->nflags++] = optarg;
			break;
		case 'h':
			cli_usage_deliver(stdout);
			return EX_OK;
		default:
			return fail(EX_USAGE, "bad option '%s' (see sealmail deliver --help)",
				    argv[optind - 1]);
		}
	}
	if (optind != argc)
		return fail(EX_USAGE, "unexpected argument '%s'", argv[optind]);
	if (!a->user)
		return fail(EX_USAGE, "--user NAME is required (see sealmail deliver --help)");
	return -1;
}

/* Mailbox and flags are checked before anything else happens, so a typo in
 * the MTA's configuration is a usage error, never a bounce for bad data. */
static int check_target(const struct deliver_args *a)
{
	const char *why;

	if (a->mailbox && delivery_check_mailbox(a->mailbox, NULL, &why) < 0)
		return fail(EX_USAGE, "mailbox '%s': %s", a->mailbox, why);
	if (a->nflags > DELIVERY_FLAGS_MAX)
		return fail(EX_USAGE, "more than %d flags", DELIVERY_FLAGS_MAX);
	for (size_t i = 0; i < a->nflags; i++)
		if (delivery_check_flag(a->flags[i], NULL, &why) < 0)
			return fail(EX_USAGE, "flag '%s': %s", a->flags[i], why);
	return -1;
}

/* Run as root (an MTA's local delivery agent often is), write as the owner
 * of the user directory, so the daemon can read what we make. */
static int drop_to_owner(const char *user_dir)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (stat(user_dir, &st) < 0)
		return -errno;
	if (st.st_uid == 0)
		return 0;
	if (setgroups(1, &st.st_gid) < 0 || setresgid(st.st_gid, st.st_gid, st.st_gid) < 0 ||
	    setresuid(st.st_uid, st.st_uid, st.st_uid) < 0)
		return -errno;
	return 0;
}

/* Finds the user and becomes its directory's owner; -1 to go on, else an
 * exit status. */
static int prepare_user(const char *users_dir, const char *user)
{
	struct stat st;
	char *user_dir = NULL, *err = NULL;

	/* A wrong ROOT is the administrator's to fix: retry, never bounce. */
	if (stat(users_dir, &st) < 0)
		return fail(EX_TEMPFAIL, "%s: %s", users_dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(EX_TEMPFAIL, "%s: not a directory", users_dir);
	int r = userdir_lookup(users_dir, user, &user_dir, &err);
	if (r == -ENOENT)
		r = fail(EX_NOUSER, "no such user '%s'", user);
	else if (r < 0)
		r = fail(EX_TEMPFAIL, "user '%s': %s", user, err ? err : strerror(-r));
	else if ((r = drop_to_owner(user_dir)) < 0)
		r = fail(EX_TEMPFAIL, "cannot become the owner of %s: %s", user_dir, strerror(-r));
	else
		r = -1;
	free(user_dir);
	free(err);
	return r;
}

static int exit_status(int r)
{
	if (r == 0)
		return EX_OK;
	if (r == -ENOENT)
		return EX_NOUSER;
	if (r == -EINVAL)	/* the options were checked: an empty message */
		return EX_DATAERR;
	if (r == -EFBIG)
		return EX_CANTCREAT;
	if (r == -EIO)
		return EX_IOERR;
	return delivery_error_is_temporary(r) ? EX_TEMPFAIL : EX_SOFTWARE;
}

/* The admin socket: listen.admin of ROOT's configuration when it loads,
 * else ROOT/admin.sock (as `sealmail admin` finds it). */
static char *notify_socket_path(const char *root)
{
	char *cfg_path = xasprintf("%s/sealmail.toml", root), *err = NULL, *path = NULL;
	struct config *cfg = NULL;

	if (config_load(cfg_path, root, &cfg, &err) == 0) {
		if (strncmp(cfg->listen_admin, "unix:", 5) == 0)
			path = xstrdup(cfg->listen_admin + 5);
		config_free(&cfg);
	}
	free(err);
	free(cfg_path);
	return path ? path : xasprintf("%s/admin.sock", root);
}

/* Best effort, bounded by DELIVER_NOTIFY_TIMEOUT_MS per step: tells a
 * running daemon "delivered NAME" so the user's live sessions take the
 * message at once. Any failure is ignored: the message is already safe and
 * the next login takes it. Names with spaces cannot be one admin word. */
static void notify_daemon(const char *root, const char *user)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { DELIVER_NOTIFY_TIMEOUT_MS / 1000,
			      DELIVER_NOTIFY_TIMEOUT_MS % 1000 * 1000 };
	char *path = notify_socket_path(root);
	size_t ulen = strlen(user);

	if (strlen(path) >= sizeof(sun.sun_path) || strpbrk(user, " \t\r\n") ||
	    ulen > ADMIN_MAX_LINE - 16) {
		free(path);
		return;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	free(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* On Linux the send timeout bounds a blocking connect on a unix
	 * socket too (a full backlog). */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char *line = xasprintf("delivered %s\n", user), reply[256];
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    send(fd, line, strlen(line), MSG_NOSIGNAL) == (ssize_t)strlen(line))
		(void)!recv(fd, reply, sizeof(reply), 0);	/* "OK" or "ERR ..." */
	free(line);
	close(fd);
}

int cli_deliver_main(int argc, char **argv)
{
	struct deliver_args a = { 0 };
	int status = parse_args(argc, argv, &a);

	if (status < 0)
		status = check_target(&a);
	if (status >= 0) {
		free(a.flags);
		return status;
	}
	const char *root = a.root ? a.root : cli_default_root();
	char *users_dir = xasprintf("%s/users", root), *err = NULL;
	status = prepare_user(users_dir, a.user);
	if (status < 0) {
		struct delivery_opts o = { .mailbox = a.mailbox, .flags = a.flags,
					   .nflags = a.nflags, .eol = DELIVERY_EOL_AUTO };
		int r = delivery_deliver_fd(users_dir, a.user, STDIN_FILENO, &o, NULL, &err);
		status = exit_status(r);
		if (r < 0)
			fail(status, "%s", err ? err : strerror(-r));
		else
			notify_daemon(root, a.user);
	}
	free(err);
	free(users_dir);
	free(a.flags);
	return status;
}
