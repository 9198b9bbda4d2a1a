/* ENVELOPE (RFC 9051 7.5.2) and the address lists it is made of (RFC 5322
 * 3.4), tolerant of the obsolete syntax of RFC 5322 4.4 (routes, phrases
 * with dots, missing commas) and of plain breakage: unterminated quotes,
 * comments and angle brackets run to the end, a mailbox without a domain
 * gets host "", a bare addr-spec takes its display name from a comment
 * ("gray@example.org (Terry Gray)"), as RFC 822 era mail does. */
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"
#include "src/util/xmalloc.h"

enum tok_type { T_WORD, T_QUOTED, T_LITERAL, T_COMMENT, T_SPECIAL };

struct tok {
	enum tok_type type;
	const char *raw;	/* source bytes (quotes included) */
	size_t raw_len;
	char *val;		/* unquoted text for T_QUOTED / T_COMMENT */
	char special;
};

struct alist {
	struct tok *t;
	size_t n, i;
	struct mime_address *v;
	size_t nv, cap;
};

static void add_tok(struct alist *l, size_t *cap, struct tok t)
{
	if (l->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		l->t = xrealloc(l->t, *cap * sizeof(*l->t));
	}
	l->t[l->n++] = t;
}

static void tokenize(struct alist *l, const char *s, size_t len)
{
	struct mime__lex lx;
	size_t cap = 0;
	mime__lex_init(&lx, s, len);
	while (lx.p < lx.end) {
		struct tok t = { .raw = lx.p };
		const char *before = lx.p;
		lx.comment = NULL;
		mime__lex_cfws(&lx);
		if (lx.comment) {
			/* A run of whitespace and comments: keep the last one. */
			t.type = T_COMMENT;
			t.val = xstrndup(lx.comment, lx.comment_len);
			add_tok(l, &cap, t);
			continue;
		}
		if (lx.p != before || lx.p >= lx.end)
			continue;
		t.raw = lx.p;
		char c = *lx.p;
		if (c == '"') {
			struct buf q = BUF_INIT(0);
			mime__lex_quoted(&lx, &q);
			t.type = T_QUOTED;
			t.val = xstrndup(q.data ? q.data : "", q.len);
			buf_free(&q);
		} else if (c == '[') {
			const char *e = memchr(lx.p, ']', (size_t)(lx.end - lx.p));
			lx.p = e ? e + 1 : lx.end;
			t.type = T_LITERAL;
		} else if (strchr("<>:;@,.", c)) {
			lx.p++;
			t.type = T_SPECIAL;
			t.special = c;
		} else {
			size_t n = mime__lex_token(&lx, "()<>[]:;@\\,.\"", true);
			if (n == 0) {
				lx.p++;	/* a stray ')', ']', '\' or control */
				continue;
			}
			lx.p += n;
			t.type = T_WORD;
		}
		t.raw_len = (size_t)(lx.p - t.raw);
		add_tok(l, &cap, t);
	}
}

/* The next token that is not a comment, or NULL. */
static struct tok *peek(struct alist *l)
{
	while (l->i < l->n && l->t[l->i].type == T_COMMENT)
		l->i++;
	return l->i < l->n ? &l->t[l->i] : NULL;
}

static bool is_special(const struct tok *t, char c)
{
	return t && t->type == T_SPECIAL && t->special == c;
}

static void emit(struct alist *l, char *name, char *mailbox, char *host)
{
	if (l->nv == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->nv].name = name;
	l->v[l->nv].mailbox = mailbox;
	l->v[l->nv].host = host;
	l->nv++;
}

static char *take(struct buf *b)
{
	return b->len ? buf_steal(b) : (buf_free(b), NULL);
}

/* Words up to one of stops: a phrase (display), or raw source text (for
 * local parts and domains). */
static void collect(struct alist *l, const char *stops, bool display, struct buf *out)
{
	struct tok *t, *prev = NULL;
	while ((t = peek(l)) != NULL) {
		if (t->type == T_SPECIAL && strchr(stops, t->special))
			break;
		bool word = t->type != T_SPECIAL;
		if (display) {
			if (word && out->len > 0)
				(void)buf_append(out, " ", 1);
			if (t->type == T_QUOTED)
				(void)buf_puts(out, t->val);
			else
				(void)buf_append(out, t->raw, t->raw_len);
		} else {
			if (word && prev && prev->type != T_SPECIAL)
				(void)buf_append(out, " ", 1);
			(void)buf_append(out, t->raw, t->raw_len);
		}
		prev = t;
		l->i++;
	}
}

/* "<" [route ":"] local "@" domain ">"; the route is dropped. */
static void angle_addr(struct alist *l, char *name)
{
	struct buf local = BUF_INIT(0), domain = BUF_INIT(0);
	l->i++;
	size_t save = l->i;
	struct tok *t = peek(l);
	if (is_special(t, '@')) {
		/* obs-route: skip to its colon if there is one. */
		while ((t = peek(l)) && !is_special(t, ':') && !is_special(t, '>'))
			l->i++;
		if (is_special(t, ':'))
			l->i++;
		else
			l->i = save;
	}
	collect(l, "@>,;", false, &local);
	if (is_special(peek(l), '@')) {
		l->i++;
		collect(l, ">,;@", false, &domain);
	}
	if (is_special(peek(l), '>'))
		l->i++;
	if (local.len == 0 && domain.len == 0) {
		free(name);	/* "<>" holds no address */
		return;
	}
	char *host = take(&domain);
	emit(l, name, take(&local), host ? host : xstrdup(""));
}

/* The last comment among tokens [from, to). */
static char *comment_name(struct alist *l, size_t from, size_t to)
{
	for (size_t k = to; k-- > from;)
		if (l->t[k].type == T_COMMENT && l->t[k].val[0] != '\0')
			return xstrdup(l->t[k].val);
	return NULL;
}

static void mailbox(struct alist *l, size_t start)
{
	struct buf phrase = BUF_INIT(0), local = BUF_INIT(0), domain = BUF_INIT(0);
	size_t save = l->i;
	collect(l, "<:@,;>", true, &phrase);
	struct tok *t = peek(l);
	if (is_special(t, '<')) {
		angle_addr(l, take(&phrase));
		return;
	}
	buf_free(&phrase);
	l->i = save;
	collect(l, "<:@,;>", false, &local);
	if (is_special(peek(l), '@')) {
		l->i++;
		collect(l, "<:,;>@", false, &domain);
	}
	if (local.len == 0 && domain.len == 0)
		return;
	char *host = take(&domain);
	emit(l, comment_name(l, start, l->i), take(&local), host ? host : xstrdup(""));
}

static void address(struct alist *l, bool in_group)
{
	size_t start = l->i, save = l->i;
	struct buf phrase = BUF_INIT(0);
	collect(l, "<:@,;>", true, &phrase);
	if (!in_group && is_special(peek(l), ':')) {
		/* group: display-name ":" [group-list] ";" (RFC 9051 7.5.2:
		 * start marker with the name as mailbox, NIL host). */
		l->i++;
		char *group = take(&phrase);
		emit(l, NULL, group ? group : xstrdup(""), NULL);
		struct tok *t;
		while ((t = peek(l)) != NULL && !is_special(t, ';')) {
			if (t->type == T_SPECIAL && t->special != '<' && t->special != '@') {
				l->i++;	/* commas, stray colons and brackets */
				continue;
			}
			size_t before = l->i;
			address(l, true);
			if (l->i == before)
				l->i++;
		}
		if (t)
			l->i++;
		emit(l, NULL, NULL, NULL);
		return;
	}
	buf_free(&phrase);
	l->i = save;
	mailbox(l, start);
}

void mime_addresses_parse(const char *value, size_t len, struct mime_address **addrs_r, size_t *n_r)
{
	struct alist l = { 0 };
	tokenize(&l, value, len);
	struct tok *t;
	while ((t = peek(&l)) != NULL) {
		size_t before = l.i;
		if (t->type == T_SPECIAL && t->special != '<' && t->special != '@')
			l.i++;	/* separators and stray specials */
		else
			address(&l, false);
		if (l.i == before)
			l.i++;
	}
	bool words = false;
	for (size_t k = 0; k < l.n && !words; k++)
		words = l.t[k].type != T_COMMENT &&
			!(l.t[k].type == T_SPECIAL && strchr(",;", l.t[k].special));
	if (l.nv == 0 && words) {
		/* Nothing recognisable: keep the text rather than lose it. */
		struct buf b = BUF_INIT(0);
		mime__unfold(value, len, &b);
		if (b.len > 0)
			emit(&l, NULL, buf_steal(&b), xstrdup(""));
		buf_free(&b);
	}
	for (size_t k = 0; k < l.n; k++)
		free(l.t[k].val);
	free(l.t);
	*addrs_r = l.v;
	*n_r = l.nv;
}

void mime_addresses_free(struct mime_address **addrs, size_t n)
{
	if (*addrs == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*addrs)[i].name);
		free((*addrs)[i].mailbox);
		free((*addrs)[i].host);
	}
	free(*addrs);
	*addrs = NULL;
}

/* ---- ENVELOPE ------------------------------------------------------------ */

static int sp(struct buf *out)
{
	return buf_append(out, " ", 1);
}

static int nstr(struct buf *out, const char *s, enum mime_str_kind kind, bool utf8)
{
	return mime_write_nstring(out, s, s ? strlen(s) : 0, kind, utf8);
}

/* address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")";
 * the source route (adl) is always NIL. */
static int write_address(struct buf *out, const struct mime_address *a, bool utf8)
{
	int r = buf_append(out, "(", 1);
	if (r == 0)
		r = nstr(out, a->name, MIME_STR_TEXT, utf8);
	if (r == 0)
		r = buf_append(out, " NIL ", 5);
	if (r == 0)
		r = nstr(out, a->mailbox, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = nstr(out, a->host, MIME_STR_STRUCT, utf8);
	return r < 0 ? r : buf_append(out, ")", 1);
}

static int write_list(struct buf *out, const struct mime_address *v, size_t n, bool utf8)
{
	if (n == 0)
		return buf_append(out, "NIL", 3);
	int r = buf_append(out, "(", 1);
	for (size_t i = 0; i < n && r == 0; i++)
		r = write_address(out, &v[i], utf8);
	return r < 0 ? r : buf_append(out, ")", 1);
}

struct env_list {
	struct mime_address *v;
	size_t n;
};

static void parse_list(const char *value, struct env_list *l)
{
	l->v = NULL;
	l->n = 0;
	if (value)
		mime_addresses_parse(value, strlen(value), &l->v, &l->n);
}

int mime_write_envelope(struct buf *out, const struct mime_envelope *env, bool utf8)
{
	static const struct mime_envelope none;
	if (env == NULL)
		env = &none;
	/* Order: from, sender, reply-to, to, cc, bcc. */
	const char *fields[6] = { env->from, env->sender, env->reply_to, env->to, env->cc, env->bcc };
	struct env_list lists[6];
	for (size_t i = 0; i < 6; i++)
		parse_list(fields[i], &lists[i]);
	/* RFC 9051 7.5.2: an absent or empty Sender or Reply-To is the From. */
	const struct env_list *use[6] = { &lists[0], &lists[1], &lists[2], &lists[3], &lists[4],
				       &lists[5] };
	if (lists[1].n == 0)
		use[1] = &lists[0];
	if (lists[2].n == 0)
		use[2] = &lists[0];

	int r = buf_append(out, "(", 1);
	if (r == 0)
		r = nstr(out, env->date, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = nstr(out, env->subject, MIME_STR_TEXT, utf8);
	for (size_t i = 0; i < 6 && r == 0; i++) {
		r = sp(out);
		if (r == 0)
			r = write_list(out, use[i]->v, use[i]->n, utf8);
	}
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = nstr(out, env->in_reply_to, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = nstr(out, env->message_id, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = buf_append(out, ")", 1);
	for (size_t i = 0; i < 6; i++)
		mime_addresses_free(&lists[i].v, lists[i].n);
	return r;
}
