/* The tree built by the TOML reader: values, tables with a hash index,
 * lookups for callers, and the search for keys nobody consumed. */
#include "src/toml-private.h"

#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

struct toml_value *toml__new(enum toml_type type, unsigned line)
{
	struct toml_value *v = xcalloc(1, sizeof(*v));

	v->type = type;
	v->line = line;
	return v;
}

/* Recursion is bounded: the parser refuses trees deeper than
 * TOML_DEPTH_CEILING. */
void toml__free_value(struct toml_value *v)
{
	if (v == NULL)
		return;
	switch (v->type) {
	case TOML_STRING:
		free(v->string.data);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->array.count; i++)
			toml__free_value(v->array.items[i]);
		free(v->array.items);
		break;
	case TOML_TABLE:
		for (size_t i = 0; i < v->table.count; i++) {
			free(v->table.entries[i].key);
			toml__free_value(v->table.entries[i].value);
		}
		free(v->table.entries);
		free(v->table.index__);
		break;
	default:
		break;
	}
	free(v);
}

void toml_free(struct toml_value **root)
{
	if (root == NULL)
		return;
	toml__free_value(*root);
	*root = NULL;
}

/* FNV-1a: a table may hold many keys in hostile input, and a linear
 * duplicate check would make parsing quadratic. */
static uint32_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h;
}

/* index__ holds entry positions plus one; 0 marks a free slot. */
static void index_insert(struct toml_value *t, size_t pos)
{
	size_t mask = t->table.index_cap__ - 1;
	size_t i = key_hash(t->table.entries[pos].key) & mask;

	while (t->table.index__[i] != 0)
		i = (i + 1) & mask;
	t->table.index__[i] = (uint32_t)(pos + 1);
}

static void index_rebuild(struct toml_value *t, size_t cap)
{
	free(t->table.index__);
	t->table.index__ = xcalloc(cap, sizeof(*t->table.index__));
	t->table.index_cap__ = cap;
	for (size_t i = 0; i < t->table.count; i++)
		index_insert(t, i);
}

struct toml_entry *toml__find(const struct toml_value *t, const char *key)
{
	if (t->table.index_cap__ == 0)
		return NULL;
	size_t mask = t->table.index_cap__ - 1;
	size_t i = key_hash(key) & mask;
	uint32_t slot;

	while ((slot = t->table.index__[i]) != 0) {
		struct toml_entry *e = &t->table.entries[slot - 1];
		if (strcmp(e->key, key) == 0)
			return e;
		i = (i + 1) & mask;
	}
	return NULL;
}

void toml__add(struct toml_value *t, char *key, unsigned line,
	       struct toml_value *value)
{
	if (t->table.count == t->table.cap__) {
		size_t cap = t->table.cap__ ? t->table.cap__ * 2 : 8;
		t->table.entries =
			xrealloc(t->table.entries, cap * sizeof(*t->table.entries));
		t->table.cap__ = cap;
	}
	struct toml_entry *e = &t->table.entries[t->table.count++];
	e->key = key;
	e->value = value;
	e->line = line;
	e->used = false;
	/* Keep the index at most half full so probes stay short. */
	if (t->table.count * 2 > t->table.index_cap__)
		index_rebuild(t, t->table.index_cap__ ? t->table.index_cap__ * 2
						      : 16);
	else
		index_insert(t, t->table.count - 1);
}

void toml__push(struct toml_value *a, struct toml_value *value)
{
	if (a->array.count == a->array.cap__) {
		size_t cap = a->array.cap__ ? a->array.cap__ * 2 : 4;
		a->array.items = xrealloc(a->array.items, cap * sizeof(value));
		a->array.cap__ = cap;
	}
	a->array.items[a->array.count++] = value;
}

void toml__freeze(struct toml_value *t)
{
	if (t->flags__ & TOML_F_INLINE)
		return;
	t->flags__ |= TOML_F_INLINE;
	for (size_t i = 0; i < t->table.count; i++)
		if (t->table.entries[i].value->type == TOML_TABLE)
			toml__freeze(t->table.entries[i].value);
}

struct toml_entry *toml_get_entry(struct toml_value *table, const char *key)
{
	if (table == NULL || table->type != TOML_TABLE)
		return NULL;
	struct toml_entry *e = toml__find(table, key);
	if (e != NULL)
		e->used = true;
	return e;
}

struct toml_value *toml_get(struct toml_value *table, const char *key)
{
	struct toml_entry *e = toml_get_entry(table, key);
	return e ? e->value : NULL;
}

/* The walk keeps the chain of entries leading to the current table so the
 * path of the best candidate can be spelled out at the end. */
struct unused_walk {
	const struct toml_entry *stack[TOML_DEPTH_CEILING + 2];
	unsigned depth;
	const struct toml_entry *best[TOML_DEPTH_CEILING + 2];
	unsigned best_depth;
};

static void unused_visit(const struct toml_value *t, struct unused_walk *w)
{
	for (size_t i = 0; i < t->table.count; i++) {
		const struct toml_entry *e = &t->table.entries[i];
		if (!e->used) {
			if (w->best_depth == 0 ||
			    e->line < w->best[w->best_depth - 1]->line) {
				memcpy(w->best, w->stack,
				       w->depth * sizeof(w->stack[0]));
				w->best[w->depth] = e;
				w->best_depth = w->depth + 1;
			}
		} else if (e->value->type == TOML_TABLE &&
			   w->depth < TOML_DEPTH_CEILING + 1) {
			w->stack[w->depth++] = e;
			unused_visit(e->value, w);
			w->depth--;
		}
	}
}

const struct toml_entry *toml_find_unused(const struct toml_value *table,
					  const char *prefix, char **path_r)
{
	struct unused_walk w;

	if (path_r)
		*path_r = NULL;
	if (table == NULL || table->type != TOML_TABLE)
		return NULL;
	w.depth = 0;
	w.best_depth = 0;
	unused_visit(table, &w);
	if (w.best_depth == 0)
		return NULL;
	if (path_r) {
		char *path = prefix ? xstrdup(prefix) : NULL;
		for (unsigned i = 0; i < w.best_depth; i++) {
			char *next = toml_key_join(path, w.best[i]->key);
			free(path);
			path = next;
		}
		*path_r = path;
	}
	return w.best[w.best_depth - 1];
}

static bool key_is_bare(const char *key)
{
	if (*key == '\0')
		return false;
	for (; *key; key++)
		if (!toml__is_bare((unsigned char)*key))
			return false;
	return true;
}

char *toml_key_join(const char *prefix, const char *key)
{
	struct buf b = BUF_INIT(0);

	if (prefix != NULL && *prefix != '\0') {
		buf_puts(&b, prefix);
		buf_puts(&b, ".");
	}
	if (key_is_bare(key)) {
		buf_puts(&b, key);
		return buf_steal(&b);
	}
	buf_puts(&b, "\"");
	for (; *key; key++) {
		unsigned char c = (unsigned char)*key;
		if (c == '"' || c == '\\')
			buf_printf(&b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\u%04X", c);
		else
			buf_append(&b, key, 1);
	}
	buf_puts(&b, "\"");
	return buf_steal(&b);
}

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_TABLE:
		return "a table";
	case TOML_ARRAY:
		return "an array";
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_BOOLEAN:
		return "a boolean";
	case TOML_NULL:
		return "null";
	}
	return "an unknown type";
}
