/* Which names a LIST, LSUB or XLIST request answers with (list.h). */
#include "protocols/imap/list.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/imap/mailbox-name.h"
#include "src/util/xmalloc.h"

static bool char_matches(char p, char n, bool fold)
{
	return p == n || (fold && toupper((unsigned char)p) == toupper((unsigned char)n));
}

/* Follows empty matches of wildcards: a position on '*' or '%' also
 * stands on the next one. */
static void match_closure(const char *p, size_t lp, bool *on)
{
	for (size_t i = 0; i < lp; i++)
		if (on[i] && (p[i] == '*' || p[i] == '%'))
			on[i + 1] = true;
}

/* A set-of-positions walk over the pattern (no backtracking), so a
 * pattern full of wildcards costs at most its length per name byte. */
bool list_match(const char *pattern, const char *name)
{
	size_t lp = strlen(pattern), ln = strlen(name);
	bool inbox = imap_mailbox_is_inbox(name);
	bool *cur = xcalloc(2 * (lp + 1), sizeof(bool)), *next = cur + lp + 1;
	cur[0] = true;
	match_closure(pattern, lp, cur);
	for (size_t j = 0; j < ln; j++) {
		bool any = false;
		memset(next, 0, lp + 1);
		for (size_t i = 0; i < lp; i++) {
			if (!cur[i])
				continue;
			char p = pattern[i];
			if (p == '*' || (p == '%' && name[j] != IMAP_DELIMITER))
				next[i] = any = true;
			else if (p != '%' && char_matches(p, name[j], inbox && j < 5))
				next[i + 1] = any = true;
		}
		if (!any) {
			free(cur < next ? cur : next);
			return false;
		}
		match_closure(pattern, lp, next);
		bool *t = cur;
		cur = next;
		next = t;
	}
	bool ok = cur[lp];
	free(cur < next ? cur : next);
	return ok;
}

static int item_cmp(const void *a, const void *b)
{
	const struct list_item *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	/* A real entry sorts before an implied parent of the same name. */
	return c ? c : (int)(x->attrs & META_MBOX_NONEXISTENT) - (int)(y->attrs & META_MBOX_NONEXISTENT);
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct meta_mailbox *)elem)->name);
}

/* Subscribed names that are not mailboxes may lack parents; LIST-EXTENDED
 * still shows those parents (\NonExistent) when RECURSIVEMATCH asks. */
static void add_implied_parents(const struct meta_mailbox_list *list, struct list_result *out,
				size_t *cap)
{
	for (size_t i = 0; i < list->n; i++) {
		if (!(list->v[i].attrs & META_MBOX_NONEXISTENT))
			continue;
		char *name = list->v[i].name;
		for (char *slash = strchr(name, IMAP_DELIMITER); slash;
		     slash = strchr(slash + 1, IMAP_DELIMITER)) {
			char *parent = xstrndup(name, (size_t)(slash - name));
			if (bsearch(parent, list->v, list->n, sizeof(*list->v), name_cmp)) {
				free(parent);
				continue;
			}
			if (out->n == *cap) {
				*cap *= 2;
				out->v = xrealloc(out->v, *cap * sizeof(*out->v));
			}
			out->owned = xrealloc(out->owned, (out->n_owned + 1) * sizeof(*out->owned));
			out->owned[out->n_owned++] = parent;
			out->v[out->n++] = (struct list_item){
				.name = parent, .attrs = META_MBOX_NONEXISTENT | META_MBOX_HAS_CHILDREN,
			};
		}
	}
}

/* Every name once, in order: the list and the implied parents. */
static void list_gather(const struct meta_mailbox_list *list, struct list_result *out)
{
	size_t cap = list->n + 8;
	out->v = xmalloc(cap * sizeof(*out->v));
	for (size_t i = 0; i < list->n; i++)
		out->v[out->n++] = (struct list_item){
			.name = list->v[i].name, .attrs = list->v[i].attrs,
			.special_use = list->v[i].special_use,
		};
	add_implied_parents(list, out, &cap);
	qsort(out->v, out->n, sizeof(*out->v), item_cmp);
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++)
		if (w == 0 || strcmp(out->v[w - 1].name, out->v[i].name) != 0)
			out->v[w++] = out->v[i];
	out->n = w;
}

/* Whether an item meets the selection criteria by itself (RFC 5258 3). */
static bool list_selected(const struct list_request *req, const struct list_item *it,
			  bool implied)
{
	if (implied)
		return false;
	if (req->sel & LIST_SEL_SUBSCRIBED) {
		if (!(it->attrs & META_MBOX_SUBSCRIBED))
			return false;
	} else if (it->attrs & META_MBOX_NONEXISTENT) {
		return false;
	}
	return !(req->sel & LIST_SEL_SPECIAL_USE) || it->special_use;
}

static bool list_matches(const struct list_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_patterns; i++)
		if (list_match(req->patterns[i], name))
			return true;
	return false;
}

static bool is_implied(const struct list_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_owned; i++)
		if (r->owned[i] == name)
			return true;
	return false;
}

void list_select(const struct list_request *req, const struct meta_mailbox_list *list,
		 struct list_result *out)
{
	memset(out, 0, sizeof(*out));
	list_gather(list, out);
	bool *match = xcalloc(out->n + 1, sizeof(bool));
	for (size_t i = 0; i < out->n; i++) {
		out->v[i].selected = list_selected(req, &out->v[i], is_implied(out, out->v[i].name));
		match[i] = list_matches(req, out->v[i].name);
	}
	/* RECURSIVEMATCH (and LSUB's "%" rule): a matching name whose
	 * descendant is selected but matches no pattern is shown too. The
	 * descendants of a name follow it in one block of the sorted list. */
	bool recursive = (req->sel & LIST_SEL_RECURSIVEMATCH) || req->kind == LIST_LSUB;
	size_t w = 0;
	for (size_t i = 0; i < out->n; i++) {
		struct list_item it = out->v[i];
		size_t len = strlen(it.name);
		for (size_t j = i + 1; recursive && match[i] && j < out->n &&
				       strncmp(out->v[j].name, it.name, len) == 0;
		     j++)
			if (out->v[j].name[len] == IMAP_DELIMITER && out->v[j].selected && !match[j])
				it.childinfo = true;
		if (match[i] && (it.selected || it.childinfo))
			out->v[w++] = it;
	}
	out->n = w;
	free(match);
}

void list_result_free(struct list_result *res)
{
	for (size_t i = 0; i < res->n_owned; i++)
		free(res->owned[i]);
	free(res->owned);
	free(res->v);
	memset(res, 0, sizeof(*res));
}
