/* A TOML reader: parses one whole buffer into a tree of values.
 *
 * Supported (TOML 1.0): comments; [table] and [dotted."quoted".table]
 * headers; bare, quoted and dotted keys; basic strings with the escapes
 * \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX; literal strings; multi-line
 * basic and literal strings; integers (decimal with '_' separators and a
 * sign, 0x, 0o, 0b) that fit in int64_t; booleans; arrays (over several
 * lines, with comments and a trailing comma); inline tables { a = 1 }.
 *
 * Rejected with a clear "not supported" error: floats, dates and times,
 * arrays of tables [[x]]. Also rejected: NUL characters (even as \u0000),
 * so every string and key is a plain C string.
 *
 * Extension: a bare `null` is a value of type TOML_NULL, because the
 * sealmail manual writes `stderr = null`. Callers decide what it means.
 *
 * As TOML requires, a key or table defined twice is an error, the input
 * must be valid UTF-8, and control characters other than tab are refused
 * in strings and comments.
 *
 * Errors come back as one heap string "NAME:LINE: message", naming the key
 * where one is involved, e.g.
 *   "sealmail.toml:7: key 'listen.max_connections': integer out of range".
 */
#ifndef SEAL_TOML_H
#define SEAL_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_BOOLEAN,
	TOML_NULL,	/* extension, see above */
};

struct toml_value;

/* One key of a table. */
struct toml_entry {
	char *key;		/* one key component, UTF-8, no NUL inside */
	struct toml_value *value;
	unsigned line;		/* where the key first appeared */
	/* Set by toml_get() and toml_get_entry(); callers that walk
	 * table.entries themselves set it for what they consume, so that
	 * toml_find_unused() finds the rest. */
	bool used;
};

/* The whole tree is read-only for callers, except for entry->used. */
struct toml_value {
	enum toml_type type;
	unsigned line;		/* where the value (or table header) starts */
	unsigned flags__;	/* private to the parser */
	union {
		struct {
			char *data;	/* NUL-terminated */
			size_t len;
		} string;
		int64_t integer;
		bool boolean;
		struct {
			struct toml_value **items;
			size_t count;
			size_t cap__;		/* private: allocated items */
		} array;
		struct {
			/* in the order the keys first appeared */
			struct toml_entry *entries;
			size_t count;
			size_t cap__;		/* private: allocated entries */
			uint32_t *index__;	/* private: hash index */
			size_t index_cap__;
		} table;
	};
};

/* Limits on untrusted input. */
struct toml_limits {
	size_t max_size;	/* whole buffer, bytes */
	size_t max_string;	/* one string or key, bytes after unescaping */
	unsigned max_depth;	/* tables, arrays and inline tables nested */
};

#define TOML_DEFAULT_MAX_SIZE (1024 * 1024)
#define TOML_DEFAULT_MAX_STRING (64 * 1024)
#define TOML_DEFAULT_MAX_DEPTH 32
#define TOML_DEPTH_CEILING 64	/* max_depth is clamped to this */

/* Parses data[0..len) (need not be NUL-terminated). name is used only in
 * error messages, usually the file name. limits may be NULL for the
 * defaults above; zero fields also take their default.
 *
 * Returns 0 and sets *root_r to a new table the caller frees with
 * toml_free(), or returns -EINVAL (bad input) or -EFBIG (input larger than
 * max_size), sets *root_r to NULL and *error_r to a heap string the caller
 * frees. */
int toml_parse(const char *name, const char *data, size_t len,
	       const struct toml_limits *limits, struct toml_value **root_r,
	       char **error_r);

/* Frees the tree and sets *root to NULL. NULL and *root == NULL are fine. */
void toml_free(struct toml_value **root);

/* Looks up key in a table and marks the entry used. Returns NULL when the
 * key is absent or table is NULL or not a table. The returned pointers
 * stay valid until toml_free(). */
struct toml_value *toml_get(struct toml_value *table, const char *key);
struct toml_entry *toml_get_entry(struct toml_value *table, const char *key);

/* Finds, over the whole tree below table, the entry not marked used with
 * the lowest line (entries inside arrays are not tracked). Entries under a
 * used table are visited; those under an unused one are not, the table
 * itself is reported. Returns NULL when everything was used; otherwise the
 * entry, with *path_r (if path_r is not NULL) set to its dotted key path
 * from table, prefixed by "prefix." when prefix is not NULL, as a heap
 * string the caller frees. */
const struct toml_entry *toml_find_unused(const struct toml_value *table,
					  const char *prefix, char **path_r);

/* Returns "prefix.key" as a heap string (just key when prefix is NULL),
 * quoting key as TOML would when it is not a bare key:
 * toml_key_join("smtp.domains", "example.com") is
 * "smtp.domains.\"example.com\"". */
char *toml_key_join(const char *prefix, const char *key);

/* "a table", "an array", "a string", "an integer", "a boolean", "null":
 * for messages such as "expected a string, got an integer". */
const char *toml_type_name(enum toml_type type);

#endif
