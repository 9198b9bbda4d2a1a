#include "protocols/smtp/parser.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "storage/userdir.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* A cursor over one argument string; never reads past end. */
struct cur {
	const char *p, *end;
};

static void skip_spaces(struct cur *c)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
}

static bool take_word_ci(struct cur *c, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(c->end - c->p) < n || strncasecmp(c->p, word, n) != 0)
		return false;
	c->p += n;
	return true;
}

int smtp_parse_command(const char *line, size_t len, struct smtp_command *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->args = "";
	if (memchr(line, '\0', len))
		return -EINVAL;
	struct cur c = { line, line + len };
	skip_spaces(&c);
	size_t n = 0;
	while (c.p < c.end && !is_space(*c.p)) {
		if (n == SMTP_VERB_MAX)
			return -ENAMETOOLONG;
		cmd->verb[n++] = upper(*c.p++);
	}
	cmd->verb[n] = '\0';
	skip_spaces(&c);
	while (c.end > c.p && (is_space(c.end[-1]) || c.end[-1] == '\r'))
		c.end--;
	cmd->args = c.p;
	cmd->args_len = (size_t)(c.end - c.p);
	return 0;
}

/* Finds the '>' closing a path that starts at c->p (just after '<'); a
 * '>' inside a quoted local part does not count. */
static const char *find_close(const char *p, const char *end)
{
	bool quoted = false;
	for (; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '>' && !quoted)
			return p;
	}
	return NULL;
}

/* Unquotes a quoted-string local part (RFC 5321 4.1.2: quoted-pairSMTP is
 * a backslash before any printable character). *pp points at the opening
 * quote; on success it points past the closing one. */
static int parse_quoted(const char **pp, const char *end, struct smtp_path *path)
{
	const char *p = *pp + 1;
	size_t n = 0;
	for (;;) {
		if (p >= end)
			return -EINVAL;
		char ch = *p++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (p >= end)
				return -EINVAL;
			ch = *p++;
		}
		if (n == SMTP_LOCAL_MAX)
			return -ENAMETOOLONG;
		path->local[n++] = ch;
	}
	path->local[n] = '\0';
	path->quoted = true;
	*pp = p;
	return 0;
}

static bool domain_valid(const char *d, size_t len)
{
	if (len == 0 || !userdir_text_valid(d, len))
		return false;
	if (d[0] == '[')
		return len > 2 && d[len - 1] == ']' && !memchr(d + 1, '[', len - 2) &&
		       !memchr(d, ' ', len);
	for (size_t i = 0; i < len; i++)
		if (strchr(" @<>()[]\\,;:\"", d[i]))
			return false;
	return true;
}

/* The mailbox part: local "@" domain, or a bare local part. */
static int parse_mailbox(const char *p, const char *end, struct smtp_path *path,
			 const char **why_r)
{
	size_t n;
	if (p < end && *p == '"') {
		int r = parse_quoted(&p, end, path);
		if (r < 0) {
			*why_r = "Bad quoted local part";
			return r;
		}
	} else {
		const char *at = memchr(p, '@', (size_t)(end - p));
		n = (size_t)((at ? at : end) - p);
		if (n > SMTP_LOCAL_MAX)
			return -ENAMETOOLONG;
		memcpy(path->local, p, n);
		path->local[n] = '\0';
		p += n;
		if (n == 0 || memchr(path->local, ' ', n) || memchr(path->local, '\\', n)) {
			*why_r = "Bad local part";
			return -EINVAL;
		}
	}
	if (!userdir_text_valid(path->local, strlen(path->local))) {
		*why_r = "Bad characters in the local part";
		return -EINVAL;
	}
	if (p == end) {
		path->no_domain = true;
		return 0;
	}
	if (*p != '@') {
		*why_r = "Expected @ after the local part";
		return -EINVAL;
	}
	p++;
	n = (size_t)(end - p);
	if (n > SMTP_DOMAIN_MAX)
		return -ENAMETOOLONG;
	if (!domain_valid(p, n)) {
		*why_r = "Bad domain";
		return -EINVAL;
	}
	memcpy(path->domain, p, n);
	path->domain[n] = '\0';
	return 0;
}

static int parse_path(const char *p, const char *end, struct smtp_path *path,
		      const char **why_r)
{
	if (p == end) {
		path->null = true;
		return 0;
	}
	if (*p == '@') {
		/* A-d-l: "@one,@two:" (RFC 5321 4.1.2). */
		const char *colon = memchr(p, ':', (size_t)(end - p));
		if (!colon) {
			*why_r = "Bad source route";
			return -EINVAL;
		}
		path->route = true;
		p = colon + 1;
	}
	size_t n = (size_t)(end - p);
	if (n > SMTP_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(path->text, p, n);
	path->text[n] = '\0';
	return parse_mailbox(p, end, path, why_r);
}

static bool parse_u64(const char *p, size_t n, uint64_t *v_r)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*v_r = v;
	return true;
}

/* RFC 5321 4.1.2 Mail-parameters: SP-separated keyword[=value]. Only what
 * we use is read; the rest is counted and ignored (see parser.h). */
static void parse_params(struct cur *c, struct smtp_params *params)
{
	for (;;) {
		skip_spaces(c);
		if (c->p == c->end)
			return;
		const char *tok = c->p;
		while (c->p < c->end && !is_space(*c->p))
			c->p++;
		size_t n = (size_t)(c->p - tok);
		const char *eq = memchr(tok, '=', n);
		size_t klen = eq ? (size_t)(eq - tok) : n;
		if (klen == 4 && strncasecmp(tok, "SIZE", 4) == 0 && eq &&
		    parse_u64(eq + 1, n - klen - 1, &params->size))
			params->has_size = true;
		else if (klen == 8 && !eq && strncasecmp(tok, "SMTPUTF8", 8) == 0)
			params->smtputf8 = true;
		else if (!(klen == 4 && strncasecmp(tok, "BODY", 4) == 0))
			params->ignored++;
	}
}

int smtp_parse_mail_rcpt(const char *args, size_t len, const char *keyword,
			 struct smtp_path *path, struct smtp_params *params, const char **why_r)
{
	struct cur c = { args, args + len };
	const char *why = "Syntax error in the address";
	memset(path, 0, sizeof(*path));
	memset(params, 0, sizeof(*params));
	*why_r = why;
	if (memchr(args, '\0', len))
		return -EINVAL;
	skip_spaces(&c);
	if (!take_word_ci(&c, keyword)) {
		*why_r = strcmp(keyword, "FROM") == 0 ? "Syntax: MAIL FROM:<address>"
						      : "Syntax: RCPT TO:<address>";
		return -EINVAL;
	}
	skip_spaces(&c);
	if (c.p == c.end || *c.p != ':') {
		*why_r = strcmp(keyword, "FROM") == 0 ? "Syntax: MAIL FROM:<address>"
						      : "Syntax: RCPT TO:<address>";
		return -EINVAL;
	}
	c.p++;
	skip_spaces(&c);
	const char *start, *stop;
	if (c.p < c.end && *c.p == '<') {
		start = c.p + 1;
		stop = find_close(start, c.end);
		if (!stop) {
			*why_r = "Missing > after the address";
			return -EINVAL;
		}
		c.p = stop + 1;
	} else {
		/* Without brackets, the path is one word. */
		start = c.p;
		while (c.p < c.end && !is_space(*c.p))
			c.p++;
		stop = c.p;
		if (start == stop || memchr(start, '<', (size_t)(stop - start)) ||
		    memchr(start, '>', (size_t)(stop - start)))
			return -EINVAL;
	}
	int r = parse_path(start, stop, path, why_r);
	if (r < 0)
		return r;
	parse_params(&c, params);
	return 0;
}

int smtp_parse_bdat(const char *args, size_t len, uint64_t *size_r, bool *last_r)
{
	struct cur c = { args, args + len };
	skip_spaces(&c);
	const char *num = c.p;
	while (c.p < c.end && *c.p >= '0' && *c.p <= '9')
		c.p++;
	if (c.p == num)
		return -EINVAL;
	if (!parse_u64(num, (size_t)(c.p - num), size_r))
		return -ERANGE;
	if (c.p < c.end && !is_space(*c.p))
		return -EINVAL;
	skip_spaces(&c);
	*last_r = take_word_ci(&c, "LAST");
	skip_spaces(&c);
	return c.p == c.end ? 0 : -EINVAL;
}

size_t smtp_parse_helo(const char *args, size_t len, char *out, size_t size)
{
	size_t n = 0;
	if (size == 0)
		return 0;
	while (n < len && n + 1 < size && n < SMTP_DOMAIN_MAX && !is_space(args[n])) {
		unsigned char ch = (unsigned char)args[n];
		out[n] = ch < 0x21 || ch == 0x7f || strchr("()\\", ch) ? '?' : (char)ch;
		n++;
	}
	out[n] = '\0';
	/* Bytes of broken UTF-8 would make the Received header invalid. */
	if (!userdir_text_valid(out, n))
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)out[i] >= 0x80)
				out[i] = '?';
	return n;
}
