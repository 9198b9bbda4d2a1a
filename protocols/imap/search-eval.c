/* Matching SEARCH criteria against one message (RFC 9051 6.4.4): metadata
 * first, content only when the answer depends on it. Text comparisons are
 * substring matches of case-folded UTF-8 (manual: "Search uses Unicode
 * simple case folding"), over at most MIME_SEARCH_MAX_TEXT bytes of header
 * text and of body text (manual, "Limits"). */
#include "protocols/imap/search.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define DAY_SECONDS 86400

void imap_search_content_init(struct imap_search_content *c, const struct mime_source *src)
{
	memset(c, 0, sizeof(*c));
	c->src = src;
	c->headers = (struct buf)BUF_INIT(0);
	c->body = (struct buf)BUF_INIT(0);
	c->field = (struct buf)BUF_INIT(0);
}

void imap_search_content_free(struct imap_search_content *c)
{
	mime_message_free(&c->tree);
	buf_free(&c->headers);
	buf_free(&c->body);
	buf_free(&c->field);
}

/* Floor division: the calendar day of a local time. */
static int64_t day_of(int64_t t)
{
	return t >= 0 ? t / DAY_SECONDS : -((-t + DAY_SECONDS - 1) / DAY_SECONDS);
}

static int date_cmp(enum imap_search_op op, int64_t day, uint64_t want)
{
	int64_t w = (int64_t)want;
	switch (op) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SAVEDBEFORE:
		return day < w;
	case IMAP_SK_ON:
	case IMAP_SK_SENTON:
	case IMAP_SK_SAVEDON:
		return day == w;
	default:
		return day >= w;
	}
}

static bool contains(const struct buf *hay, const struct imap_search_key *k)
{
	if (k->text_len == 0)
		return true;
	return hay->len >= k->text_len && memmem(hay->data, hay->len, k->text, k->text_len);
}

/* ---- Content ------------------------------------------------------------ */

static int load_tree(struct imap_search_content *c)
{
	if (c->tree)
		return 0;
	return mime_parse(c->src, NULL, &c->tree);
}

static int match_header(const struct imap_search_key *k, struct imap_search_content *c)
{
	int r = load_tree(c);
	if (r < 0)
		return r;
	c->field.len = 0;
	r = mime_search_header(c->tree, c->src, k->field, MIME_SEARCH_MAX_TEXT, &c->field);
	if (r < 0)
		return r;
	/* An empty string matches every message that has the field. */
	return c->field.len > 0 && contains(&c->field, k);
}

static int match_body(const struct imap_search_key *k, struct imap_search_content *c, bool text)
{
	int r = load_tree(c);
	if (r == 0 && text && !c->have_headers) {
		r = mime_search_header(c->tree, c->src, NULL, MIME_SEARCH_MAX_TEXT, &c->headers);
		c->have_headers = r == 0;
	}
	if (r < 0)
		return r;
	if (text && contains(&c->headers, k))
		return IMAP_SEARCH_YES;
	if (!c->have_body) {
		r = mime_search_body(c->tree, c->src, MIME_SEARCH_MAX_TEXT, &c->body);
		if (r < 0)
			return r;
		c->have_body = true;
	}
	return contains(&c->body, k);
}

/* The Date: header's day, disregarding time and zone: the sender's own
 * calendar date (RFC 9051 SENTBEFORE). No or a bad Date: never matches. */
static int match_sent(const struct imap_search_key *k, struct imap_search_content *c)
{
	int r = load_tree(c);
	if (r < 0)
		return r;
	if (!c->have_date) {
		const char *d = c->tree->root->envelope ? c->tree->root->envelope->date : NULL;
		time_t t;
		int zone;
		c->have_date = true;
		c->date_ok = d && mime_date_parse(d, strlen(d), &t, &zone) == 0;
		if (c->date_ok)
			c->sent_day = day_of((int64_t)t + (int64_t)zone * 60);
	}
	return c->date_ok && date_cmp(k->op, c->sent_day, k->num);
}

/* ---- Metadata ----------------------------------------------------------- */

static bool has_keyword(const struct imap_search_env *env, const struct imap_search_msg *m,
			const char *name)
{
	for (size_t i = 0; i < m->n_kw; i++) {
		const char *kw = env->keyword_name ? env->keyword_name(env->ctx, m->kw[i]) : NULL;
		if (kw && strcasecmp(kw, name) == 0)
			return true;
	}
	return false;
}

static int match_meta(const struct imap_search_key *k, const struct imap_search_msg *m)
{
	const struct meta_fetch_item *meta = m->meta;
	if (!meta)
		return IMAP_SEARCH_NO;
	switch (k->op) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		/* Disregarding time and zone: the date in the zone the
		 * internal date was given with. */
		return date_cmp(k->op,
				day_of(meta->internal_date + (int64_t)meta->internal_tz * 60),
				k->num);
	case IMAP_SK_SAVEDBEFORE:
	case IMAP_SK_SAVEDON:
	case IMAP_SK_SAVEDSINCE:
		return meta->save_date > 0 && date_cmp(k->op, day_of(meta->save_date), k->num);
	case IMAP_SK_LARGER:
		return meta->size > k->num;
	case IMAP_SK_SMALLER:
		return meta->size < k->num;
	case IMAP_SK_EMAILID:
		return strcmp(meta->email_id, k->text) == 0;
	default:
		return IMAP_SEARCH_NO;
	}
}

/* ---- The tree ----------------------------------------------------------- */

static int match_key(const struct imap_search *s, int i, const struct imap_search_env *env,
		     const struct imap_search_msg *m, struct imap_search_content *c);

static int match_children(const struct imap_search *s, const struct imap_search_key *k,
			  const struct imap_search_env *env, const struct imap_search_msg *m,
			  struct imap_search_content *c)
{
	/* AND: one NO decides; OR: one YES decides; else MAYBE wins. */
	int decisive = k->op == IMAP_SK_AND ? IMAP_SEARCH_NO : IMAP_SEARCH_YES;
	int result = k->op == IMAP_SK_AND ? IMAP_SEARCH_YES : IMAP_SEARCH_NO;
	for (int i = k->first; i >= 0; i = s->keys[i].next) {
		int r = match_key(s, i, env, m, c);
		if (r < 0 || r == decisive)
			return r;
		if (r == IMAP_SEARCH_MAYBE)
			result = r;
	}
	return result;
}

static int match_content(const struct imap_search_key *k, struct imap_search_content *c)
{
	if (!c)
		return IMAP_SEARCH_MAYBE;
	switch (k->op) {
	case IMAP_SK_HEADER:
		return match_header(k, c);
	case IMAP_SK_BODY:
		return match_body(k, c, false);
	case IMAP_SK_TEXT:
		return match_body(k, c, true);
	default:
		return match_sent(k, c);
	}
}

static int match_key(const struct imap_search *s, int i, const struct imap_search_env *env,
		     const struct imap_search_msg *m, struct imap_search_content *c)
{
	const struct imap_search_key *k = &s->keys[i];
	int r;
	switch (k->op) {
	case IMAP_SK_ALL:
	case IMAP_SK_SAVEDATESUPPORTED:
		return IMAP_SEARCH_YES;
	case IMAP_SK_AND:
	case IMAP_SK_OR:
		return match_children(s, k, env, m, c);
	case IMAP_SK_NOT:
		r = match_key(s, k->first, env, m, c);
		return r == IMAP_SEARCH_YES ? IMAP_SEARCH_NO : r == IMAP_SEARCH_NO ? IMAP_SEARCH_YES : r;
	case IMAP_SK_SEQSET:
		return seqset_contains(&k->set, m->seq);
	case IMAP_SK_UIDSET:
		return seqset_contains(&k->set, m->uid);
	case IMAP_SK_SAVED:
		return env->saved && seqset_contains(env->saved, m->uid);
	case IMAP_SK_FLAG:
		return (m->flags & k->num) != 0;
	case IMAP_SK_RECENT:
		return m->recent;
	case IMAP_SK_KEYWORD:
		return has_keyword(env, m, k->text);
	case IMAP_SK_MODSEQ:
		return m->modseq >= k->num;
	case IMAP_SK_THREADID:
		return IMAP_SEARCH_NO;
	case IMAP_SK_HEADER:
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE:
		return match_content(k, c);
	default:
		return match_meta(k, m);
	}
}

int imap_search_match(const struct imap_search *search, const struct imap_search_env *env,
		      const struct imap_search_msg *m, struct imap_search_content *c)
{
	return match_key(search, 0, env, m, c);
}
