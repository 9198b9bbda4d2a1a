/* SEARCH criteria (RFC 9051 6.4.4 and section 9 "search-key"; the RFC 3501
 * keys IMAP4rev2 dropped: NEW, OLD, RECENT, UNKEYWORD...; RFC 4731 RETURN,
 * RFC 5182 "$", RFC 7162 MODSEQ, RFC 8474 EMAILID/THREADID, RFC 8514
 * SAVEDBEFORE/SAVEDON/SAVEDSINCE/SAVEDATESUPPORTED). */
#include "protocols/imap/search.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/parser.h"
#include "src/util/xmalloc.h"

/* Nesting of NOT, OR and parentheses: the parser and the matcher recurse
 * on a coroutine stack, so a client cannot make it deep. */
#define SEARCH_MAX_DEPTH 64
#define SEARCH_MAX_RANGES 65536

struct sparse {
	struct imap_search *s;
	const struct imap_search_opts *o;
	const struct imap_arg *args;
	size_t nargs, pos;
	int depth;
	const char *error;
};

static int bad(struct sparse *p, const char *why)
{
	if (!p->error)
		p->error = why;
	return -EINVAL;
}

static int new_key(struct sparse *p, enum imap_search_op op)
{
	struct imap_search *s = p->s;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->keys = xrealloc(s->keys, s->cap * sizeof(*s->keys));
	}
	struct imap_search_key *k = &s->keys[s->n];
	memset(k, 0, sizeof(*k));
	k->op = op;
	k->first = -1;
	k->next = -1;
	return (int)s->n++;
}

static const struct imap_arg *next_arg(struct sparse *p)
{
	return p->pos < p->nargs ? &p->args[p->pos++] : NULL;
}

/* ---- Arguments of keys -------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int imap_search_parse_date(const char *s, size_t len, int64_t *day_r)
{
	static const char months[12][4] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t i = 0;
	unsigned day = 0, month, year = 0;
	for (; i < len && i < 2 && isdigit((unsigned char)s[i]); i++)
		day = day * 10 + (unsigned)(s[i] - '0');
	if (i == 0 || i + 9 != len || s[i] != '-' || s[i + 4] != '-')
		return -EINVAL;
	for (month = 0; month < 12; month++)
		if (strncasecmp(s + i + 1, months[month], 3) == 0)
			break;
	for (size_t j = i + 5; j < len; j++) {
		if (!isdigit((unsigned char)s[j]))
			return -EINVAL;
		year = year * 10 + (unsigned)(s[j] - '0');
	}
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (month == 12 || day == 0 || day > mdays[month] || (month == 1 && day == 29 && !leap))
		return -EINVAL;
	*day_r = days_from_civil(year, month + 1, day);
	return 0;
}

static int arg_date(struct sparse *p, uint64_t *day_r)
{
	const struct imap_arg *a = next_arg(p);
	int64_t day;
	if (!a || (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
	    imap_search_parse_date(a->str, a->len, &day) < 0)
		return bad(p, "Expected a date like 1-Feb-1994");
	*day_r = (uint64_t)day;
	return 0;
}

/* number64, or with nonzero a positive one (RFC 9051 section 9). */
static int arg_number(struct sparse *p, bool nonzero, uint64_t *v_r)
{
	const struct imap_arg *a = next_arg(p);
	uint64_t v = 0;
	if (!a || a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > 19)
		return bad(p, "Expected a number");
	for (size_t i = 0; i < a->len; i++) {
		if (!isdigit((unsigned char)a->str[i]))
			return bad(p, "Expected a number");
		v = v * 10 + (uint64_t)(a->str[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX || (nonzero && v == 0))
		return bad(p, "Number out of range");
	*v_r = v;
	return 0;
}

/* An astring, kept raw (keyword, field name, object id). */
static int arg_astring(struct sparse *p, char **dst, size_t *len_r)
{
	const struct imap_arg *a = next_arg(p);
	if (!a || !imap_arg_is_astring(a))
		return bad(p, "Expected a string");
	*dst = xstrndup(a->str, a->len);
	if (len_r)
		*len_r = a->len;
	return 0;
}

/* A string to look for: folded like the text it is compared with. */
static int arg_needle(struct sparse *p, struct imap_search_key *k)
{
	const struct imap_arg *a = next_arg(p);
	if (!a || !imap_arg_is_astring(a))
		return bad(p, "Expected a search string");
	struct buf folded = BUF_INIT(0);
	if (mime_text_fold(a->str, a->len, &folded) < 0) {
		buf_free(&folded);
		return bad(p, "Search string too long");
	}
	k->text_len = folded.len;
	k->text = folded.data ? buf_steal(&folded) : xstrdup("");
	return 0;
}

static int set_key(struct sparse *p, const struct imap_arg *a, bool uid)
{
	uint32_t star = uid ? p->o->max_uid : p->o->msg_count;
	struct seqset set;
	int r = seqset_parse(a->str, a->len, star, SEARCH_MAX_RANGES, &set);
	if (r == -ENOENT) {
		p->s->needs |= IMAP_SEARCH_NEEDS_SAVED;
		return new_key(p, IMAP_SK_SAVED);
	}
	if (r < 0)
		return bad(p, r == -E2BIG ? "Sequence set too large" : "Invalid sequence set");
	int i = new_key(p, uid ? IMAP_SK_UIDSET : IMAP_SK_SEQSET);
	p->s->keys[i].set = set;
	return i;
}

/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162 3.1.5);
 * the entry is accepted and ignored: MODSEQs are per message here. */
static int modseq_key(struct sparse *p, int i)
{
	if (p->pos < p->nargs && p->args[p->pos].type == IMAP_ARG_QUOTED) {
		const struct imap_arg *type;
		if (strncasecmp(p->args[p->pos].str, "/flags/", 7) != 0)
			return bad(p, "Invalid MODSEQ entry name");
		p->pos++;
		type = next_arg(p);
		if (!type || type->type != IMAP_ARG_ATOM ||
		    (strcasecmp(type->str, "priv") != 0 && strcasecmp(type->str, "shared") != 0 &&
		     strcasecmp(type->str, "all") != 0))
			return bad(p, "Invalid MODSEQ entry type");
	}
	p->s->needs |= IMAP_SEARCH_NEEDS_MODSEQ;
	return arg_number(p, false, &p->s->keys[i].num) < 0 ? -EINVAL : i;
}

/* ---- Keys --------------------------------------------------------------- */

static int parse_key(struct sparse *p);

/* Wraps child in NOT. */
static int negate(struct sparse *p, int child)
{
	if (child < 0)
		return child;
	int i = new_key(p, IMAP_SK_NOT);
	p->s->keys[i].first = child;
	return i;
}

static int flag_key(struct sparse *p, uint32_t flag, bool set)
{
	int i = new_key(p, IMAP_SK_FLAG);
	p->s->keys[i].num = flag;
	return set ? i : negate(p, i);
}

/* Keys of several sub-keys: AND of a list, OR of two, NOT of one. */
static int group_key(struct sparse *p, enum imap_search_op op, const struct imap_arg *list)
{
	if (++p->depth > SEARCH_MAX_DEPTH)
		return bad(p, "Search criteria nested too deeply");
	int i = new_key(p, op), last = -1, want = op == IMAP_SK_OR ? 2 : 1;
	const struct imap_arg *save_args = p->args;
	size_t save_n = p->nargs, save_pos = p->pos;
	if (list) {
		p->args = list->list;
		p->nargs = list->len;
		p->pos = 0;
		want = (int)list->len;
		if (list->len == 0)
			return bad(p, "Empty parenthesised search criteria");
	}
	for (int n = 0; n < want && (!list || p->pos < p->nargs); n++) {
		int c = parse_key(p);
		if (c < 0)
			return c;
		if (last < 0)
			p->s->keys[i].first = c;
		else
			p->s->keys[last].next = c;
		last = c;
	}
	if (list) {
		p->args = save_args;
		p->nargs = save_n;
		p->pos = save_pos;
	}
	p->depth--;
	return i;
}

struct named_key {
	const char *name;
	int (*fn)(struct sparse *p, const struct named_key *nk);
	enum imap_search_op op;
	uint64_t arg;
	const char *field;
};

static int k_flag(struct sparse *p, const struct named_key *nk)
{
	return flag_key(p, (uint32_t)nk->arg, nk->op == IMAP_SK_FLAG);
}

static int k_simple(struct sparse *p, const struct named_key *nk)
{
	int i = new_key(p, nk->op);
	return nk->arg ? negate(p, i) : i;
}

static int k_new(struct sparse *p, const struct named_key *nk)
{
	int i = new_key(p, IMAP_SK_AND), r = new_key(p, IMAP_SK_RECENT);
	p->s->keys[i].first = r;
	p->s->keys[r].next = flag_key(p, META_FLAG_SEEN, false);
	return i;
}

static int k_date(struct sparse *p, const struct named_key *nk)
{
	int i = new_key(p, nk->op);
	if (nk->op < IMAP_SK_SENTBEFORE || nk->op > IMAP_SK_SENTSINCE)
		p->s->needs |= IMAP_SEARCH_NEEDS_META;
	else
		p->s->needs |= IMAP_SEARCH_NEEDS_CONTENT;
	return arg_date(p, &p->s->keys[i].num) < 0 ? -EINVAL : i;
}

static int k_size(struct sparse *p, const struct named_key *nk)
{
	int i = new_key(p, nk->op);
	p->s->needs |= IMAP_SEARCH_NEEDS_META;
	return arg_number(p, false, &p->s->keys[i].num) < 0 ? -EINVAL : i;
}

static int k_text(struct sparse *p, const struct named_key *nk)
{
	int i = new_key(p, nk->op);
	struct imap_search_key *k = &p->s->keys[i];
	p->s->needs |= IMAP_SEARCH_NEEDS_CONTENT;
	if (nk->op == IMAP_SK_HEADER && nk->field)
		k->field = xstrdup(nk->field);
	else if (nk->op == IMAP_SK_HEADER && arg_astring(p, &k->field, NULL) < 0)
		return -EINVAL;
	return arg_needle(p, &p->s->keys[i]) < 0 ? -EINVAL : i;
}

static int k_keyword(struct sparse *p, const struct named_key *nk)
{
	int i = new_key(p, IMAP_SK_KEYWORD);
	const struct imap_arg *a = p->pos < p->nargs ? &p->args[p->pos] : NULL;
	if (!a || a->type != IMAP_ARG_ATOM || a->str[0] == '\\')
		return bad(p, "Expected a keyword");
	if (arg_astring(p, &p->s->keys[i].text, &p->s->keys[i].text_len) < 0)
		return -EINVAL;
	return nk->arg ? negate(p, i) : i;
}

static int k_objectid(struct sparse *p, const struct named_key *nk)
{
	int i = new_key(p, nk->op);
	p->s->needs |= IMAP_SEARCH_NEEDS_META;
	return arg_astring(p, &p->s->keys[i].text, &p->s->keys[i].text_len) < 0 ? -EINVAL : i;
}

static int k_uid(struct sparse *p, const struct named_key *nk)
{
	const struct imap_arg *a = next_arg(p);
	if (!a || a->type != IMAP_ARG_ATOM)
		return bad(p, "UID needs a set of UIDs");
	return set_key(p, a, true);
}

static int k_modseq(struct sparse *p, const struct named_key *nk)
{
	return modseq_key(p, new_key(p, IMAP_SK_MODSEQ));
}

static int k_not(struct sparse *p, const struct named_key *nk)
{
	return group_key(p, nk->op, NULL);
}

#define F(name, flag, op) { name, k_flag, op, flag, NULL }
#define H(name) { name, k_text, IMAP_SK_HEADER, 0, name }
static const struct named_key named_keys[] = {
	{ "ALL", k_simple, IMAP_SK_ALL, 0, NULL },
	F("ANSWERED", META_FLAG_ANSWERED, IMAP_SK_FLAG),
	F("DELETED", META_FLAG_DELETED, IMAP_SK_FLAG),
	F("DRAFT", META_FLAG_DRAFT, IMAP_SK_FLAG),
	F("FLAGGED", META_FLAG_FLAGGED, IMAP_SK_FLAG),
	F("SEEN", META_FLAG_SEEN, IMAP_SK_FLAG),
	F("UNANSWERED", META_FLAG_ANSWERED, IMAP_SK_NOT),
	F("UNDELETED", META_FLAG_DELETED, IMAP_SK_NOT),
	F("UNDRAFT", META_FLAG_DRAFT, IMAP_SK_NOT),
	F("UNFLAGGED", META_FLAG_FLAGGED, IMAP_SK_NOT),
	F("UNSEEN", META_FLAG_SEEN, IMAP_SK_NOT),
	{ "RECENT", k_simple, IMAP_SK_RECENT, 0, NULL },
	{ "OLD", k_simple, IMAP_SK_RECENT, 1, NULL },
	{ "NEW", k_new, IMAP_SK_AND, 0, NULL },
	{ "KEYWORD", k_keyword, IMAP_SK_KEYWORD, 0, NULL },
	{ "UNKEYWORD", k_keyword, IMAP_SK_KEYWORD, 1, NULL },
	{ "BEFORE", k_date, IMAP_SK_BEFORE, 0, NULL },
	{ "ON", k_date, IMAP_SK_ON, 0, NULL },
	{ "SINCE", k_date, IMAP_SK_SINCE, 0, NULL },
	{ "SENTBEFORE", k_date, IMAP_SK_SENTBEFORE, 0, NULL },
	{ "SENTON", k_date, IMAP_SK_SENTON, 0, NULL },
	{ "SENTSINCE", k_date, IMAP_SK_SENTSINCE, 0, NULL },
	{ "LARGER", k_size, IMAP_SK_LARGER, 0, NULL },
	{ "SMALLER", k_size, IMAP_SK_SMALLER, 0, NULL },
	H("BCC"), H("CC"), H("FROM"), H("SUBJECT"), H("TO"),
	{ "HEADER", k_text, IMAP_SK_HEADER, 0, NULL },
	{ "BODY", k_text, IMAP_SK_BODY, 0, NULL },
	{ "TEXT", k_text, IMAP_SK_TEXT, 0, NULL },
	{ "UID", k_uid, IMAP_SK_UIDSET, 0, NULL },
	{ "NOT", k_not, IMAP_SK_NOT, 0, NULL },
	{ "OR", k_not, IMAP_SK_OR, 0, NULL },
	{ "MODSEQ", k_modseq, IMAP_SK_MODSEQ, 0, NULL },
	{ "EMAILID", k_objectid, IMAP_SK_EMAILID, 0, NULL },
	{ "THREADID", k_objectid, IMAP_SK_THREADID, 0, NULL },
	{ "SAVEDBEFORE", k_date, IMAP_SK_SAVEDBEFORE, 0, NULL },
	{ "SAVEDON", k_date, IMAP_SK_SAVEDON, 0, NULL },
	{ "SAVEDSINCE", k_date, IMAP_SK_SAVEDSINCE, 0, NULL },
	{ "SAVEDATESUPPORTED", k_simple, IMAP_SK_SAVEDATESUPPORTED, 0, NULL },
};
#undef F
#undef H

static bool key_enabled(const struct imap_search_opts *o, const struct named_key *nk)
{
	switch (nk->op) {
	case IMAP_SK_MODSEQ:
		return o->condstore;
	case IMAP_SK_EMAILID:
	case IMAP_SK_THREADID:
		return o->objectid;
	case IMAP_SK_SAVEDBEFORE:
	case IMAP_SK_SAVEDON:
	case IMAP_SK_SAVEDSINCE:
	case IMAP_SK_SAVEDATESUPPORTED:
		return o->savedate;
	default:
		return true;
	}
}

static int parse_key(struct sparse *p)
{
	const struct imap_arg *a = next_arg(p);
	if (!a)
		return bad(p, "Missing search criteria");
	if (a->type == IMAP_ARG_LIST)
		return group_key(p, IMAP_SK_AND, a);
	if (a->type != IMAP_ARG_ATOM)
		return bad(p, "Expected a search key");
	unsigned char c = (unsigned char)a->str[0];
	if (isdigit(c) || c == '*' || c == '$')
		return set_key(p, a, false);
	for (size_t i = 0; i < sizeof(named_keys) / sizeof(named_keys[0]); i++) {
		const struct named_key *nk = &named_keys[i];
		if (strcasecmp(a->str, nk->name) != 0)
			continue;
		if (!key_enabled(p->o, nk))
			return bad(p, "Search key not enabled");
		return nk->fn(p, nk);
	}
	return bad(p, "Unknown search key");
}

/* ---- RETURN and CHARSET --------------------------------------------------- */

static int parse_return(struct sparse *p)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
		{ "MIN", IMAP_SEARCH_RET_MIN },	    { "MAX", IMAP_SEARCH_RET_MAX },
		{ "ALL", IMAP_SEARCH_RET_ALL },	    { "COUNT", IMAP_SEARCH_RET_COUNT },
		{ "SAVE", IMAP_SEARCH_RET_SAVE },
	};
	const struct imap_arg *list = next_arg(p);
	if (!p->o->esearch)
		return bad(p, "RETURN is not supported");
	if (!list || list->type != IMAP_ARG_LIST)
		return bad(p, "RETURN needs a list of options");
	p->s->has_return = true;
	for (size_t i = 0; i < list->len; i++) {
		const struct imap_arg *o = &list->list[i];
		size_t j = 0;
		while (j < sizeof(opts) / sizeof(opts[0]) &&
		       (o->type != IMAP_ARG_ATOM || strcasecmp(o->str, opts[j].name) != 0))
			j++;
		if (j == sizeof(opts) / sizeof(opts[0]))
			return bad(p, "Unknown RETURN option");
		p->s->ret |= opts[j].bit;
	}
	if (list->len == 0)
		p->s->ret = IMAP_SEARCH_RET_ALL;	/* RFC 4731 3.1 */
	return 0;
}

static int parse_charset(struct sparse *p)
{
	const struct imap_arg *a = next_arg(p);
	if (!a || !imap_arg_is_astring(a))
		return bad(p, "CHARSET needs a name");
	if (strcasecmp(a->str, "UTF-8") != 0 && strcasecmp(a->str, "US-ASCII") != 0)
		return -ENOTSUP;
	return 0;
}

static bool at_word(struct sparse *p, const char *word)
{
	if (p->pos >= p->nargs || p->args[p->pos].type != IMAP_ARG_ATOM ||
	    strcasecmp(p->args[p->pos].str, word) != 0)
		return false;
	p->pos++;
	return true;
}

int imap_search_parse(const struct imap_arg *args, size_t nargs, const struct imap_search_opts *o,
		      struct imap_search *search, const char **error_r)
{
	memset(search, 0, sizeof(*search));
	struct sparse p = { search, o, args, nargs, 0, 0, NULL };
	int root = new_key(&p, IMAP_SK_AND), last = -1, r = 0;
	if (at_word(&p, "RETURN"))
		r = parse_return(&p);
	if (r == 0 && at_word(&p, "CHARSET"))
		r = parse_charset(&p);
	if (r == 0 && p.pos == p.nargs)
		r = bad(&p, "Missing search criteria");
	while (r == 0 && p.pos < p.nargs) {
		int c = parse_key(&p);
		if (c < 0) {
			r = c;
			break;
		}
		if (last < 0)
			search->keys[root].first = c;
		else
			search->keys[last].next = c;
		last = c;
	}
	if (r < 0) {
		*error_r = r == -ENOTSUP ? "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset"
					 : p.error;
		imap_search_free(search);
	}
	return r;
}

void imap_search_free(struct imap_search *search)
{
	for (size_t i = 0; i < search->n; i++) {
		free(search->keys[i].field);
		free(search->keys[i].text);
		seqset_free(&search->keys[i].set);
	}
	free(search->keys);
	memset(search, 0, sizeof(*search));
}
