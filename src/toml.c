/* The TOML grammar: the document, table headers, keys, key = value lines,
 * arrays and inline tables. Strings and scalars are in toml-lex.c, the
 * tree in toml-tree.c.
 *
 * Redefinition follows TOML 1.0: a [header] defines a table once, though a
 * table created on the way to a deeper header ([a] after [a.b]) may be
 * defined later; dotted keys extend only tables that dotted keys created;
 * inline tables are closed once their '}' is read. */
#include "src/toml-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

char *toml__path_string(const struct toml_parser *ps, unsigned n)
{
	char *path = NULL;

	for (unsigned i = 0; i < n && i < ps->path_len; i++) {
		char *next = toml_key_join(path, ps->path[i]);
		free(path);
		path = next;
	}
	return path ? path : xstrdup("");
}

static int vfail(struct toml_parser *ps, unsigned line, bool name_key,
		 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static int vfail(struct toml_parser *ps, unsigned line, bool name_key,
		 const char *fmt, va_list ap)
{
	if (ps->error != NULL)
		return -EINVAL;
	struct buf b = BUF_INIT(0);
	buf_printf(&b, "%s:%u: ", ps->name, line);
	if (name_key && ps->in_value > 0 && ps->path_len > 0) {
		char *path = toml__path_string(ps, ps->path_len);
		buf_printf(&b, "key '%s': ", path);
		free(path);
	}
	buf_vprintf(&b, fmt, ap);
	ps->error = buf_steal(&b);
	return -EINVAL;
}

int toml__fail(struct toml_parser *ps, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(ps, line, true, fmt, ap);
	va_end(ap);
	return r;
}

int toml__fail_plain(struct toml_parser *ps, unsigned line, const char *fmt,
		     ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(ps, line, false, fmt, ap);
	va_end(ap);
	return r;
}

static int fail_unexpected(struct toml_parser *ps, const char *where)
{
	unsigned char c = (unsigned char)*ps->p;

	if (c > ' ' && c < 0x7f)
		return toml__fail(ps, ps->line, "unexpected '%c' %s", c, where);
	return toml__fail(ps, ps->line, "unexpected character %s", where);
}

static bool at(const struct toml_parser *ps, char c)
{
	return ps->p < ps->end && *ps->p == c;
}

static bool at_newline(const struct toml_parser *ps)
{
	return at(ps, '\n') || at(ps, '\r');
}

static void skip_ws(struct toml_parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* Stops before the newline. TOML 1.0 forbids control characters other
 * than tab in comments too. */
static int skip_comment(struct toml_parser *ps)
{
	for (ps->p++; ps->p < ps->end && !at_newline(ps); ps->p++) {
		unsigned char c = (unsigned char)*ps->p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return toml__fail_plain(ps, ps->line,
						"control character U+%04X in comment",
						c);
	}
	return 0;
}

static int eat_newline(struct toml_parser *ps)
{
	if (at(ps, '\r')) {
		if (ps->end - ps->p < 2 || ps->p[1] != '\n')
			return toml__fail_plain(ps, ps->line,
						"carriage return without line feed");
		ps->p++;
	}
	ps->p++;
	ps->line++;
	return 0;
}

/* Whitespace, comments and newlines, as allowed between array items. */
static int skip_ws_nl(struct toml_parser *ps)
{
	for (;;) {
		int r = 0;
		skip_ws(ps);
		if (at(ps, '#'))
			r = skip_comment(ps);
		else if (at_newline(ps))
			r = eat_newline(ps);
		else
			return 0;
		if (r < 0)
			return r;
	}
}

/* After a header or a key = value: only a comment may follow. */
static int end_of_line(struct toml_parser *ps, const char *where)
{
	skip_ws(ps);
	if (at(ps, '#')) {
		int r = skip_comment(ps);
		if (r < 0)
			return r;
	}
	if (ps->p == ps->end)
		return 0;
	if (!at_newline(ps))
		return fail_unexpected(ps, where);
	return eat_newline(ps);
}

static void key_clear(struct toml_key *k)
{
	for (unsigned i = 0; i < k->count; i++)
		free(k->parts[i]);
	k->count = 0;
}

static char *key_string(const struct toml_key *k)
{
	char *s = NULL;

	for (unsigned i = 0; i < k->count; i++) {
		char *next = toml_key_join(s, k->parts[i]);
		free(s);
		s = next;
	}
	return s ? s : xstrdup("");
}

/* A key: bare or quoted parts joined by dots, whitespace around dots. */
static int parse_key(struct toml_parser *ps, struct toml_key *k)
{
	for (;;) {
		char *part;
		skip_ws(ps);
		if (k->count > TOML_DEPTH_CEILING)
			return toml__fail(ps, ps->line, "key has too many parts");
		if (at(ps, '"') || at(ps, '\'')) {
			int r = toml__parse_string(ps, false, &part, NULL);
			if (r < 0)
				return r;
		} else if (ps->p < ps->end && toml__is_bare((unsigned char)*ps->p)) {
			const char *s = ps->p;
			while (ps->p < ps->end && toml__is_bare((unsigned char)*ps->p))
				ps->p++;
			part = xstrndup(s, (size_t)(ps->p - s));
		} else if (ps->p == ps->end || at_newline(ps)) {
			return toml__fail(ps, ps->line, "expected a key");
		} else {
			return fail_unexpected(ps, "where a key was expected");
		}
		k->parts[k->count++] = part;
		skip_ws(ps);
		if (!at(ps, '.'))
			return 0;
		ps->p++;
	}
}

static int path_push(struct toml_parser *ps, const struct toml_key *k)
{
	if (k->count > sizeof(ps->path) / sizeof(ps->path[0]) - ps->path_len)
		return toml__fail(ps, ps->line, "keys nested too deeply");
	for (unsigned i = 0; i < k->count; i++)
		ps->path[ps->path_len++] = k->parts[i];
	return 0;
}

static int fail_defined(struct toml_parser *ps, unsigned line, unsigned n,
			const char *what, unsigned first)
{
	char *path = toml__path_string(ps, n);
	int r = toml__fail_plain(ps, line, "%s '%s' is already defined (line %u)",
				 what, path, first);
	free(path);
	return r;
}

/* One part of a dotted key, a in a.b = 1, inside table t. */
static struct toml_value *dotted_table(struct toml_parser *ps,
				       struct toml_value *t, const char *part,
				       unsigned line, unsigned path_n)
{
	struct toml_entry *e = toml__find(t, part);

	if (e == NULL) {
		struct toml_value *v = toml__new(TOML_TABLE, line);
		v->flags__ = TOML_F_DOTTED;
		toml__add(t, xstrdup(part), line, v);
		return v;
	}
	struct toml_value *v = e->value;
	if (v->type == TOML_TABLE && (v->flags__ & TOML_F_DOTTED) &&
	    !(v->flags__ & TOML_F_INLINE))
		return v;
	fail_defined(ps, line, path_n, "key", e->line);
	return NULL;
}

static int parse_value(struct toml_parser *ps, unsigned depth,
		       struct toml_value **value_r);

/* key = value into table t, which sits at depth. */
static int keyval_insert(struct toml_parser *ps, struct toml_value *t,
			 unsigned depth, const struct toml_key *k, unsigned line)
{
	unsigned base = ps->path_len - k->count;
	struct toml_value *v;

	for (unsigned i = 0; i + 1 < k->count; i++) {
		if (depth + i + 1 > ps->lim.max_depth)
			return toml__fail(ps, line, "nested too deeply (limit %u)",
					  ps->lim.max_depth);
		t = dotted_table(ps, t, k->parts[i], line, base + i + 1);
		if (t == NULL)
			return -EINVAL;
	}
	const char *last = k->parts[k->count - 1];
	struct toml_entry *e = toml__find(t, last);
	if (e != NULL)
		return fail_defined(ps, line, ps->path_len, "key", e->line);
	ps->in_value++;
	int r = parse_value(ps, depth + k->count, &v);
	ps->in_value--;
	if (r < 0)
		return r;
	toml__add(t, xstrdup(last), line, v);
	return 0;
}

static int parse_keyval(struct toml_parser *ps, struct toml_value *t,
			unsigned depth)
{
	struct toml_key k = { .count = 0 };
	unsigned line = ps->line, saved = ps->path_len;
	int r = parse_key(ps, &k);

	if (r == 0 && !at(ps, '=')) {
		char *s = key_string(&k);
		r = toml__fail(ps, ps->line, "expected '=' after key '%s'", s);
		free(s);
	}
	if (r == 0) {
		ps->p++;
		skip_ws(ps);
		r = path_push(ps, &k);
	}
	if (r == 0)
		r = keyval_insert(ps, t, depth, &k, line);
	ps->path_len = saved;
	key_clear(&k);
	return r;
}

static int parse_array(struct toml_parser *ps, unsigned depth,
		       struct toml_value **value_r)
{
	unsigned line = ps->line;
	struct toml_value *a, *v;
	int r;

	if (depth > ps->lim.max_depth)
		return toml__fail(ps, line, "nested too deeply (limit %u)",
				  ps->lim.max_depth);
	a = toml__new(TOML_ARRAY, line);
	ps->p++;
	for (;;) {
		if ((r = skip_ws_nl(ps)) < 0)
			break;
		if (at(ps, ']'))
			break;
		if (ps->p == ps->end) {
			r = toml__fail(ps, line, "unterminated array");
			break;
		}
		if ((r = parse_value(ps, depth + 1, &v)) < 0)
			break;
		toml__push(a, v);
		if ((r = skip_ws_nl(ps)) < 0)
			break;
		if (at(ps, ','))
			ps->p++;
		else if (!at(ps, ']') && ps->p < ps->end)
			r = fail_unexpected(ps, "in array (expected ',' or ']')");
		if (r < 0)
			break;
	}
	if (r < 0) {
		toml__free_value(a);
		return r;
	}
	ps->p++;
	*value_r = a;
	return 0;
}

/* TOML 1.0 inline tables: one line, no trailing comma. */
static int inline_body(struct toml_parser *ps, struct toml_value *t,
		       unsigned depth, unsigned line)
{
	skip_ws(ps);
	if (at(ps, '}'))
		return 0;
	for (;;) {
		int r;
		if (ps->p == ps->end)
			return toml__fail(ps, line, "unterminated inline table");
		if (at_newline(ps))
			return toml__fail(ps, ps->line,
					  "newline in inline table (it must fit on one line)");
		if ((r = parse_keyval(ps, t, depth)) < 0)
			return r;
		skip_ws(ps);
		if (at(ps, '}'))
			return 0;
		if (ps->p == ps->end)
			return toml__fail(ps, line, "unterminated inline table");
		if (at_newline(ps))
			return toml__fail(ps, ps->line,
					  "newline in inline table (it must fit on one line)");
		if (!at(ps, ','))
			return fail_unexpected(ps, "in inline table (expected ',' or '}')");
		ps->p++;
		skip_ws(ps);
		if (at(ps, '}'))
			return toml__fail(ps, ps->line,
					  "trailing comma in inline table");
	}
}

static int parse_inline_table(struct toml_parser *ps, unsigned depth,
			      struct toml_value **value_r)
{
	unsigned line = ps->line;

	if (depth > ps->lim.max_depth)
		return toml__fail(ps, line, "nested too deeply (limit %u)",
				  ps->lim.max_depth);
	struct toml_value *t = toml__new(TOML_TABLE, line);
	ps->p++;
	int r = inline_body(ps, t, depth, line);
	if (r < 0) {
		toml__free_value(t);
		return r;
	}
	ps->p++;
	toml__freeze(t);
	*value_r = t;
	return 0;
}

static int parse_value(struct toml_parser *ps, unsigned depth,
		       struct toml_value **value_r)
{
	if (ps->p == ps->end || at_newline(ps) || at(ps, '#'))
		return toml__fail(ps, ps->line, "expected a value");
	if (at(ps, '"') || at(ps, '\'')) {
		struct toml_value *v = toml__new(TOML_STRING, ps->line);
		int r = toml__parse_string(ps, true, &v->string.data,
					   &v->string.len);
		if (r < 0) {
			toml__free_value(v);
			return r;
		}
		*value_r = v;
		return 0;
	}
	if (at(ps, '['))
		return parse_array(ps, depth, value_r);
	if (at(ps, '{'))
		return parse_inline_table(ps, depth, value_r);
	return toml__parse_scalar(ps, value_r);
}

/* Walks or creates the tables of a [a.b.c] header. */
static struct toml_value *header_table(struct toml_parser *ps, unsigned line)
{
	struct toml_value *t = ps->root;
	unsigned n = ps->header.count;

	for (unsigned i = 0; i < n; i++) {
		const char *part = ps->header.parts[i];
		bool last = i + 1 == n;
		if (i + 1 > ps->lim.max_depth) {
			toml__fail(ps, line, "tables nested too deeply (limit %u)",
				   ps->lim.max_depth);
			return NULL;
		}
		struct toml_entry *e = toml__find(t, part);
		if (e == NULL) {
			struct toml_value *v = toml__new(TOML_TABLE, line);
			v->flags__ = last ? TOML_F_EXPLICIT : TOML_F_IMPLICIT;
			toml__add(t, xstrdup(part), line, v);
			t = v;
			continue;
		}
		t = e->value;
		if (t->type != TOML_TABLE || (t->flags__ & TOML_F_INLINE)) {
			fail_defined(ps, line, i + 1, "key", e->line);
			return NULL;
		}
		if (last && (t->flags__ & (TOML_F_EXPLICIT | TOML_F_DOTTED))) {
			fail_defined(ps, line, i + 1, "table", e->line);
			return NULL;
		}
		if (last) {
			/* Defined here now, though first seen on the way to a
			 * deeper header: later messages point here. */
			t->flags__ = TOML_F_EXPLICIT;
			t->line = e->line = line;
		}
	}
	return t;
}

static int parse_header(struct toml_parser *ps)
{
	unsigned line = ps->line;

	ps->p++;
	if (at(ps, '['))
		return toml__fail(ps, line,
				  "arrays of tables ([[...]]) are not supported");
	key_clear(&ps->header);
	ps->path_len = 0;
	int r = parse_key(ps, &ps->header);
	if (r < 0)
		return r;
	if (!at(ps, ']'))
		return toml__fail(ps, line, "expected ']' after table name");
	ps->p++;
	r = path_push(ps, &ps->header);
	if (r < 0)
		return r;
	struct toml_value *t = header_table(ps, line);
	if (t == NULL)
		return -EINVAL;
	ps->cur = t;
	ps->cur_depth = ps->header.count;
	return end_of_line(ps, "after table header");
}

static int parse_document(struct toml_parser *ps)
{
	int r = 0;

	while (r == 0) {
		skip_ws(ps);
		if (ps->p == ps->end)
			break;
		if (at(ps, '#'))
			r = skip_comment(ps);
		else if (at_newline(ps))
			r = eat_newline(ps);
		else if (at(ps, '['))
			r = parse_header(ps);
		else if ((r = parse_keyval(ps, ps->cur, ps->cur_depth)) == 0)
			r = end_of_line(ps, "after value");
	}
	return r;
}

static void limits_init(struct toml_limits *lim, const struct toml_limits *in)
{
	lim->max_size = in && in->max_size ? in->max_size : TOML_DEFAULT_MAX_SIZE;
	lim->max_string =
		in && in->max_string ? in->max_string : TOML_DEFAULT_MAX_STRING;
	lim->max_depth =
		in && in->max_depth ? in->max_depth : TOML_DEFAULT_MAX_DEPTH;
	if (lim->max_depth > TOML_DEPTH_CEILING)
		lim->max_depth = TOML_DEPTH_CEILING;
}

int toml_parse(const char *name, const char *data, size_t len,
	       const struct toml_limits *limits, struct toml_value **root_r,
	       char **error_r)
{
	struct toml_parser ps = { .name = name, .line = 1 };
	unsigned bad_line;

	*root_r = NULL;
	*error_r = NULL;
	limits_init(&ps.lim, limits);
	if (len > ps.lim.max_size) {
		*error_r = xasprintf("%s: too large (%zu bytes, limit %zu)", name,
				     len, ps.lim.max_size);
		return -EFBIG;
	}
	if ((bad_line = toml__utf8_check(data, len)) != 0) {
		*error_r = xasprintf("%s:%u: invalid UTF-8", name, bad_line);
		return -EINVAL;
	}
	ps.p = data;
	ps.end = data + len;
	/* A byte order mark is harmless; editors on some systems add one. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		ps.p += 3;
	ps.tmp.max = ps.lim.max_string;
	ps.root = ps.cur = toml__new(TOML_TABLE, 1);
	ps.root->flags__ = TOML_F_EXPLICIT;

	int r = parse_document(&ps);
	key_clear(&ps.header);
	buf_free(&ps.tmp);
	if (r < 0) {
		toml__free_value(ps.root);
		*error_r = ps.error ? ps.error : xasprintf("%s: parse error", name);
		return r;
	}
	*root_r = ps.root;
	return 0;
}
