/* The admin socket: a unix socket (mode 0600) where `sealmail admin ...`
 * talks to the running daemon.
 *
 * Protocol, one request at a time, many per connection:
 *   request:  one line of words separated by spaces ("stats", "reload",
 *             "shutdown"); a command that needs secret input reads further
 *             lines it documents itself.
 *   response: zero or more lines "= text" carrying output, then one final
 *             line "OK" or "ERR reason".
 * Lines are at most ADMIN_MAX_LINE bytes.
 */
#ifndef SEAL_ADMIN_H
#define SEAL_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#define ADMIN_MAX_LINE 4096

struct conn;
struct server;
struct stream;

/* The handler of PROTO_ADMIN connections. */
void admin_session_run(struct conn *c);

/* One admin command: argv[0] is the command word. Writes "= " lines with
 * admin_reply_line() and returns 0 (OK) or a negative code with *error_r set
 * to a static or heap string (set *free_error when heap). */
struct admin_request {
	struct conn *conn;
	struct server *server;
	int argc;
	char **argv;
	const char *error;
	char *error_owned;
};
typedef int admin_cmd_fn(struct admin_request *req);

int admin_reply_line(struct admin_request *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct admin_command {
	const char *name;	/* "stats", "user add" */
	const char *usage;
	admin_cmd_fn *fn;
};
extern const struct admin_command admin_commands[];
extern const size_t admin_command_count;

/* Commands implemented in admin-cmds.c. */
int admin_cmd_stats(struct admin_request *req);
int admin_cmd_reload(struct admin_request *req);
int admin_cmd_shutdown(struct admin_request *req);
int admin_cmd_user_add(struct admin_request *req);
int admin_cmd_user_list(struct admin_request *req);
int admin_cmd_delivered(struct admin_request *req);

#endif
