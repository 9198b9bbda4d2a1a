/* IMAP command parser (RFC 9051 section 9 grammar, the parts commands use):
 * tag, command name, then arguments: atoms, quoted strings, literals
 * ({n}, non-synchronizing {n+} of LITERAL+/LITERAL-, binary ~{n}), NIL and
 * parenthesised lists.
 *
 * imap_read_command() reads from the stream, answering "+ " continuation
 * requests for synchronizing literals, until the command's last line. All
 * memory of the returned command comes from cmd->mem and lives until
 * imap_command_free(). Limits (src/util/limits.h) bound the line, the
 * literals, the argument count and the list depth.
 *
 * APPEND is the exception: its messages (up to SEAL_MAX_MESSAGE each) are
 * never held whole. The parser stops at the first literal outside a list
 * and returns the arguments before it with cmd->at_literal set. The
 * handler then either streams the literal with imap_read_literal() (which
 * sends the continuation request of a synchronizing literal) and goes on
 * with imap_read_command_rest(), or answers without reading it: the
 * session then calls imap_command_skip(), which swallows what the client
 * sends anyway (LITERAL+ data and the lines after it).
 */
#ifndef SEAL_IMAP_PARSER_H
#define SEAL_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "src/util/buf.h"

struct stream;

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* also numbers, sequence sets, flags, \Seen */
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	bool binary;		/* ~{n} literal */
	size_t len;		/* bytes in str, or elements in list */
	union {
		const char *str;	/* NUL-terminated; literals may hold NULs */
		struct imap_arg *list;
	};
};

struct imap_command {
	const char *tag;
	const char *name;	/* upper-cased */
	struct imap_arg *args;
	size_t nargs;
	/* APPEND (above): stopped before a literal of literal_size bytes. */
	bool at_literal;
	bool literal_nonsync, literal_binary;
	size_t literal_size;
	/* internal */
	size_t literal_left;	/* bytes of the literal not read yet */
	bool after_literal;	/* the literal was read; the line goes on */
	bool continued;		/* the "+ " for the literal was sent */
	size_t tag_off, name_off;
	struct buf mem;
	struct imap_arg *pool;
	size_t pool_used, pool_cap;
};

/* Outcome of a read that is not 0: */
enum {
	IMAP_PARSE_BAD = 1,	/* malformed; error_r says why, tag may be "*" */
};

/* Reads one command. Returns 0 with *cmd filled, IMAP_PARSE_BAD with
 * cmd->tag (possibly "*") and *error_r (static text) when the command is
 * malformed (the rest of it, literals included, has been consumed), or a
 * negative stream error. */
int imap_read_command(struct stream *s, struct imap_command *cmd, const char **error_r);
void imap_command_free(struct imap_command *cmd);

/* APPEND's literal (cmd->at_literal): reads up to len bytes of it into
 * buf, first sending "+ " if it is synchronizing. Returns the count, 0 once
 * it is all read (cmd->at_literal is then false), or a stream error. */
ssize_t imap_read_literal(struct stream *s, struct imap_command *cmd, void *buf, size_t len);

/* After imap_read_literal() returned 0: parses the rest of the command up
 * to the next top-level literal or the end of the command. cmd->args are
 * then the arguments of that stretch alone (those before are gone; the
 * tag and name stay). Returns as imap_read_command(). */
int imap_read_command_rest(struct stream *s, struct imap_command *cmd, const char **error_r);

/* Consumes what is left of a command its handler answered early: the
 * literal if it is non-synchronizing (a synchronizing one the client sends
 * only after "+ ", so it will not come), and the lines after it. Returns 0
 * or a stream error. */
int imap_command_skip(struct stream *s, struct imap_command *cmd);

/* For tests and fuzzing: parses a command given whole, with literal data
 * inline after each {n}CRLF as on the wire. Same results as above. */
int imap_parse_buffer(const char *data, size_t len, struct imap_command *cmd,
		      const char **error_r);

/* Helpers for command handlers. */
bool imap_arg_is_string(const struct imap_arg *a);	/* atom, quoted or literal */
bool imap_arg_is_astring(const struct imap_arg *a);	/* same, no binary */

#endif
