/* Internals shared by toml.c (grammar), toml-lex.c (strings, numbers,
 * UTF-8) and toml-tree.c (the tree). Not for use outside src/toml*.c. */
#ifndef SEAL_TOML_PRIVATE_H
#define SEAL_TOML_PRIVATE_H

#include "src/toml.h"
#include "src/util/buf.h"

/* How a table came to exist; TOML's redefinition rules depend on it. */
enum {
	TOML_F_EXPLICIT = 1 << 0,	/* [header] or the root */
	TOML_F_IMPLICIT = 1 << 1,	/* intermediate of a [a.b.c] header */
	TOML_F_DOTTED = 1 << 2,		/* created by a dotted key a.b = 1 */
	TOML_F_INLINE = 1 << 3,		/* inline table, closed for changes */
};

/* A parsed key: a.b."c" has three parts, owned by the struct. */
struct toml_key {
	char *parts[TOML_DEPTH_CEILING + 1];
	unsigned count;
};

struct toml_parser {
	const char *name;	/* for messages */
	const char *p, *end;	/* the unread input */
	unsigned line;
	struct toml_limits lim;

	struct toml_value *root;
	struct toml_value *cur;		/* table of the last [header] */
	unsigned cur_depth;
	struct toml_key header;		/* parts of the last [header] */

	/* The key being parsed, for messages: header parts followed by the
	 * parts of each enclosing key = value. Borrowed pointers. */
	const char *path[2 * TOML_DEPTH_CEILING + 2];
	unsigned path_len;
	unsigned in_value;	/* > 0: value errors name the key on path */

	struct buf tmp;		/* string being unescaped */
	char *error;		/* the first error, heap */
};

/* Records an error at line (first one wins) and returns -EINVAL. While a
 * value is parsed, the message is prefixed by "key 'PATH': ". */
int toml__fail(struct toml_parser *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same without the key prefix, for messages that name keys
 * themselves. */
int toml__fail_plain(struct toml_parser *ps, unsigned line, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));
/* The first n parts of ps->path joined as a dotted key, heap string. */
char *toml__path_string(const struct toml_parser *ps, unsigned n);

/* toml-lex.c */
/* 0 or the line (1-based) holding the first byte that is not UTF-8. */
unsigned toml__utf8_check(const char *data, size_t len);
/* Parses any of the four string forms at ps->p (a quote). Multi-line
 * forms are refused unless allow_multiline. *str_r: heap string. */
int toml__parse_string(struct toml_parser *ps, bool allow_multiline,
		       char **str_r, size_t *len_r);
/* Parses a boolean, integer or null at ps->p into a new value. */
int toml__parse_scalar(struct toml_parser *ps, struct toml_value **value_r);
/* True for the characters of bare keys: A-Za-z0-9_- */
bool toml__is_bare(unsigned char c);

/* toml-tree.c */
struct toml_value *toml__new(enum toml_type type, unsigned line);
void toml__free_value(struct toml_value *v);
struct toml_entry *toml__find(const struct toml_value *table,
			      const char *key);
/* Takes ownership of key and value. Does not check for duplicates. */
void toml__add(struct toml_value *table, char *key, unsigned line,
	       struct toml_value *value);
void toml__push(struct toml_value *array, struct toml_value *value);
/* Marks table and every table below it (not inside arrays) inline. */
void toml__freeze(struct toml_value *table);

#endif
