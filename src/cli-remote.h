/* `sealmail remote`: the user CLI, an IMAPS client of its own server
 * (DESIGN.md section 6; manual "User Guide", "Changing your password or
 * settings", XCRY). Private to src/cli-remote*.c.
 *
 * cli-remote.c       options, --help, the loop and coroutine it runs in
 * cli-remote-cmds.c  test, chpw, config
 * cli-remote-imap.c  connection (TLS, certificate checks), commands,
 *                    responses, the protocol trace with passwords masked
 * cli-remote-lex.c   tokens of a response (atoms, strings, literals)
 *
 * It runs on the coroutine runtime: one coroutine on a private loop, using
 * the same stream and TLS layers as the server. */
#ifndef SEAL_CLI_REMOTE_H
#define SEAL_CLI_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "src/util/buf.h"

#define REMOTE_PROG "sealmail remote"
#define REMOTE_DEFAULT_PORT 993
/* Bounds on what the server sends us. */
#define REMOTE_MAX_LINE (64 * 1024)
#define REMOTE_MAX_RESPONSE (1024 * 1024)	/* one response, literals included */
#define REMOTE_TIMEOUT_MS (120 * 1000)

/* The settings `remote config` can change, in XCRY's order. */
enum remote_setting {
	RS_INTERNAL,
	RS_EXTERNAL,
	RS_SAVE,
	RS_SUCCESS,
	RS_FAILURE,
	RS_COUNT,
};

struct remote_opts {
	const char *sub;	/* "test", "chpw", "config" */
	const char *host;
	unsigned port;
	const char *user;
	const char *ca_file;	/* NULL: the system CA bundle */
	bool insecure;
	bool trace;
	const char *set[RS_COUNT];	/* config: values given, NULL if not */
};

/* Prints "sealmail remote: ..." on stderr; returns 1 (the exit status). */
int remote_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- Connection (cli-remote-imap.c) --------------------------------- */

struct rimap;

/* Resolves, connects, starts TLS (verifying the certificate and host name
 * unless insecure) and reads the greeting. NULL after printing why. */
struct rimap *rimap_open(const struct remote_opts *o);
/* Sends LOGOUT (when the connection still works) and frees. */
void rimap_close(struct rimap **c);
/* "TLSv1.2 ECDHE-..." */
const char *rimap_tls(const struct rimap *c);
/* The last capability list seen (greeting, CAPABILITY, LOGIN's OK). */
bool rimap_has_cap(const struct rimap *c, const char *cap);

/* A command argument: words sent as they are, a string sent quoted or as
 * a literal, or a secret (a string shown masked in the trace). */
enum rimap_arg_kind { RA_WORDS, RA_STRING, RA_SECRET, RA_NIL_IF_EMPTY };
struct rimap_arg {
	enum rimap_arg_kind kind;
	const char *text;
};

/* Called for each untagged response of the command: data[0..len) is the
 * response as on the wire after "* ", literals inline ({n} CRLF bytes). */
typedef void rimap_untagged_fn(void *ctx, const char *data, size_t len);

enum { RIMAP_OK = 0, RIMAP_NO = 1, RIMAP_BAD = 2 };

/* Sends a tagged command made of args, separated by spaces, and reads up
 * to its tagged reply. Returns RIMAP_OK, RIMAP_NO or RIMAP_BAD with the
 * reply's text (after the status) in *text_r (heap, may be NULL; the
 * caller frees), or -1 after printing a connection error. */
int rimap_command(struct rimap *c, const struct rimap_arg *args, size_t nargs,
		  rimap_untagged_fn *untagged, void *ctx, char **text_r);

/* --- Response tokens (cli-remote-lex.c) ------------------------------ */

enum rlex_type { RT_END, RT_ATOM, RT_STRING, RT_NIL, RT_OPEN, RT_CLOSE, RT_ERROR };

struct rlex {
	const char *p, *end;
	struct buf value;	/* the token's text: atom or decoded string */
};

void rlex_init(struct rlex *lx, const char *data, size_t len);
/* The next token; its text (NUL-terminated) is in lx->value.data. */
enum rlex_type rlex_next(struct rlex *lx);
void rlex_free(struct rlex *lx);

/* --- Subcommands (cli-remote-cmds.c): exit status 0, 1 --------------- */

int remote_test(const struct remote_opts *o);
int remote_chpw(const struct remote_opts *o);
int remote_config(const struct remote_opts *o);

#endif
