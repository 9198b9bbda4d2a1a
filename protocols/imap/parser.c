#include "protocols/imap/parser.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coro/stream.h"
#include "src/util/limits.h"
#include "src/util/xmalloc.h"

/* Where command bytes come from: the network, or a buffer (tests). */
struct imap_source {
	struct stream *stream;
	const char *data;
	size_t len, pos;
	int (*read_line)(struct imap_source *src, const char **line, size_t *len);
	int (*read_exact)(struct imap_source *src, char *dst, size_t len);
	int (*continuation)(struct imap_source *src);
	bool stream_literals;	/* APPEND's literals are left to its handler */
};

enum tok_type { TOK_ATOM, TOK_QUOTED, TOK_LITERAL, TOK_NIL, TOK_OPEN, TOK_CLOSE };

struct token {
	enum tok_type type;
	bool binary;
	size_t off, len;	/* into cmd->mem */
};

struct parse {
	struct imap_source *src;
	struct imap_command *cmd;
	struct token *toks;
	size_t ntoks, cap;
	int depth;
	bool append;		/* stop at a top-level literal (parser.h) */
	const char *error;
};

static int parse_bad(struct parse *p, const char *why)
{
	if (!p->error)
		p->error = why;
	return IMAP_PARSE_BAD;
}

static int push_token(struct parse *p, enum tok_type type, size_t off, size_t len)
{
	if (p->ntoks == IMAP_MAX_ARGS)
		return parse_bad(p, "Too many arguments");
	if (p->ntoks == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 32;
		p->toks = xrealloc(p->toks, p->cap * sizeof(*p->toks));
	}
	p->toks[p->ntoks++] = (struct token){ type, false, off, len };
	return 0;
}

/* Copies bytes into the command's memory, NUL-terminated; returns the
 * offset or a negative code when the command grows past its limit. */
static long store(struct parse *p, const char *data, size_t len)
{
	struct buf *m = &p->cmd->mem;
	size_t off = m->len;
	if (buf_append(m, data, len) < 0 || buf_append(m, "", 1) < 0)
		return -1;
	return (long)off;
}

static bool is_atom_char(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

/* An atom, where "[...]" may hold spaces and parentheses (FETCH's
 * BODY[HEADER.FIELDS (A B)]). Returns the length consumed. */
static size_t scan_atom(const char *s, size_t len, int *bad)
{
	size_t i = 0;
	while (i < len && is_atom_char((unsigned char)s[i])) {
		if (s[i] == '[') {
			const char *close = memchr(s + i, ']', len - i);
			if (!close) {
				*bad = 1;
				return i;
			}
			i = (size_t)(close - s);
		}
		i++;
	}
	return i;
}

static int parse_quoted(struct parse *p, const char *s, size_t len, size_t *used)
{
	struct buf tmp = BUF_INIT(SEAL_MAX_LINE);
	size_t i = 1;
	for (; i < len && s[i] != '"'; i++) {
		char c = s[i];
		if (c == '\\') {
			if (++i == len || (s[i] != '"' && s[i] != '\\')) {
				buf_free(&tmp);
				return parse_bad(p, "Invalid escape in quoted string");
			}
			c = s[i];
		} else if (c == '\0') {
			buf_free(&tmp);
			return parse_bad(p, "NUL in quoted string");
		}
		buf_append(&tmp, &c, 1);
	}
	if (i == len) {
		buf_free(&tmp);
		return parse_bad(p, "Unterminated quoted string");
	}
	long off = store(p, tmp.data ? tmp.data : "", tmp.len);
	size_t n = tmp.len;
	buf_free(&tmp);
	if (off < 0)
		return parse_bad(p, "Command too long");
	*used = i + 1;
	return push_token(p, TOK_QUOTED, (size_t)off, n);
}

/* "{123}", "{123+}" or "~{123}" ending the line. */
static int parse_literal_spec(const char *s, size_t len, size_t *size, bool *nonsync)
{
	size_t i = 1, n = 0;
	if (i >= len || !isdigit((unsigned char)s[i]))
		return -1;
	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		if (n > (SIZE_MAX - 9) / 10)
			return -1;
		n = n * 10 + (size_t)(s[i] - '0');
	}
	*nonsync = i < len && s[i] == '+';
	i += *nonsync;
	if (i + 1 != len || s[i] != '}')
		return -1;
	*size = n;
	return 0;
}

/* Reads a literal into the command. *consumed tells whether its bytes were
 * read (so that after an error the caller knows where the stream is). */
static int read_literal(struct parse *p, size_t size, bool nonsync, bool binary,
			bool *consumed)
{
	struct buf *m = &p->cmd->mem;
	if (size > IMAP_MAX_COMMAND || m->len + size + 1 > IMAP_MAX_COMMAND)
		return parse_bad(p, "[TOOBIG] Literal too large");
	if (!nonsync) {
		int r = p->src->continuation(p->src);
		if (r < 0)
			return r;
	}
	size_t off = m->len;
	char *tmp = xmalloc(size + 1);
	int r = p->src->read_exact(p->src, tmp, size);
	*consumed = true;
	if (r == 0 && !binary && memchr(tmp, '\0', size))
		r = parse_bad(p, "NUL in literal (use a binary literal)");
	if (r == 0) {
		buf_append(m, tmp, size);
		buf_append(m, "", 1);
		r = push_token(p, TOK_LITERAL, off, size);
		p->toks[p->ntoks - 1].binary = binary;
	}
	free(tmp);
	return r;
}

/* Tokenizes one line; *literal_r is set when it ends in a literal spec. */
static int parse_line(struct parse *p, const char *s, size_t len, size_t pos,
		      size_t *lit_size, bool *lit_nonsync, bool *lit_binary, bool *has_lit)
{
	*has_lit = false;
	while (pos < len) {
		char c = s[pos];
		size_t used = 0;
		int r = 0, bad = 0;
		if (c == ' ') {
			pos++;
			continue;
		}
		if (c == '(') {
			if (++p->depth > IMAP_MAX_LIST_DEPTH)
				return parse_bad(p, "Lists nested too deeply");
			r = push_token(p, TOK_OPEN, 0, 0);
			used = 1;
		} else if (c == ')') {
			if (--p->depth < 0)
				return parse_bad(p, "Unbalanced ')'");
			r = push_token(p, TOK_CLOSE, 0, 0);
			used = 1;
		} else if (c == '"') {
			r = parse_quoted(p, s + pos, len - pos, &used);
		} else if (c == '{' || (c == '~' && pos + 1 < len && s[pos + 1] == '{')) {
			*lit_binary = c == '~';
			if (parse_literal_spec(s + pos + *lit_binary, len - pos - *lit_binary,
					       lit_size, lit_nonsync) < 0)
				return parse_bad(p, "Invalid literal");
			*has_lit = true;
			return 0;
		} else {
			used = scan_atom(s + pos, len - pos, &bad);
			if (bad || used == 0)
				return parse_bad(p, bad ? "Missing ']'" : "Invalid character");
			long off = store(p, s + pos, used);
			if (off < 0)
				return parse_bad(p, "Command too long");
			bool nil = used == 3 && strncasecmp(s + pos, "NIL", 3) == 0;
			r = push_token(p, nil ? TOK_NIL : TOK_ATOM, (size_t)off, used);
		}
		if (r)
			return r;
		pos += used;
	}
	return 0;
}

/* Builds the argument tree from tokens [*i, end) until a TOK_CLOSE. */
static size_t build_args(struct parse *p, size_t *i, struct imap_arg **out)
{
	size_t count = 0, j = *i;
	for (int depth = 0; j < p->ntoks; j++) {
		enum tok_type t = p->toks[j].type;
		if (t == TOK_CLOSE) {
			if (depth-- == 0)
				break;
			continue;
		}
		if (depth == 0)
			count++;
		if (t == TOK_OPEN)
			depth++;
	}
	struct imap_command *cmd = p->cmd;
	struct imap_arg *args = cmd->pool + cmd->pool_used;
	cmd->pool_used += count;
	for (size_t k = 0; k < count; k++) {
		struct token *t = &p->toks[(*i)++];
		struct imap_arg *a = &args[k];
		memset(a, 0, sizeof(*a));
		if (t->type == TOK_OPEN) {
			a->type = IMAP_ARG_LIST;
			a->len = build_args(p, i, &a->list);
			(*i)++; /* the TOK_CLOSE */
			continue;
		}
		a->type = t->type == TOK_ATOM ? IMAP_ARG_ATOM
			  : t->type == TOK_QUOTED ? IMAP_ARG_QUOTED
			  : t->type == TOK_LITERAL ? IMAP_ARG_LITERAL
						 : IMAP_ARG_NIL;
		a->binary = t->binary;
		a->str = cmd->mem.data + t->off;
		a->len = t->len;
	}
	*out = args;
	return count;
}

static int parse_tag_and_name(struct parse *p, const char *s, size_t len, size_t *pos)
{
	size_t i = 0;
	while (i < len && s[i] != ' ' && is_atom_char((unsigned char)s[i]) && s[i] != '+' &&
	       s[i] != '*' && s[i] != '%' && s[i] != ']' && s[i] != '\\')
		i++;
	if (i == 0 || i > IMAP_MAX_TAG || (i < len && s[i] != ' '))
		return parse_bad(p, "Invalid tag");
	p->cmd->tag_off = (size_t)store(p, s, i);
	if (i == len || s[i] != ' ')
		return parse_bad(p, "Missing command");
	size_t start = ++i;
	while (i < len && isalnum((unsigned char)s[i]))
		i++;
	if (i == start || (i < len && s[i] != ' '))
		return parse_bad(p, "Invalid command name");
	long off = store(p, s + start, i - start);
	if (off < 0)
		return parse_bad(p, "Command too long");
	p->cmd->name_off = (size_t)off;
	for (char *c = p->cmd->mem.data + off; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	*pos = i;
	return 0;
}

/* After an error, literals announced with {n+} are on their way anyway and
 * must not be taken for commands: swallow them and the lines after them. */
static int skip_rest(struct parse *p, const char *line, size_t len)
{
	for (;;) {
		const char *brace = len ? memrchr(line, '{', len) : NULL;
		size_t size;
		bool nonsync;
		if (!brace || parse_literal_spec(brace, len - (size_t)(brace - line), &size,
						 &nonsync) < 0 || !nonsync)
			return 0;
		while (size > 0) {
			char junk[4096];
			size_t n = size < sizeof(junk) ? size : sizeof(junk);
			int r = p->src->read_exact(p->src, junk, n);
			if (r < 0)
				return r;
			size -= n;
		}
		int r = p->src->read_line(p->src, &line, &len);
		if (r < 0)
			return r;
	}
}

/* Parses lines of a command from line (at pos) to its end, reading the
 * literals in between, or up to APPEND's first top-level literal. */
static int parse_lines(struct parse *p, const char *line, size_t len, size_t pos)
{
	int r = 0;
	for (;;) {
		size_t lit_size = 0;
		bool nonsync = false, binary = false, has_lit = false;
		r = parse_line(p, line, len, pos, &lit_size, &nonsync, &binary, &has_lit);
		if (r == IMAP_PARSE_BAD) {
			int s = skip_rest(p, line, len);
			return s < 0 ? s : r;
		}
		if (r < 0 || !has_lit)
			break;
		if (p->append && p->depth == 0) {
			struct imap_command *cmd = p->cmd;
			cmd->at_literal = true;
			cmd->literal_size = cmd->literal_left = lit_size;
			cmd->literal_nonsync = nonsync;
			cmd->literal_binary = binary;
			cmd->continued = false;
			return 0;
		}
		bool consumed = false;
		r = read_literal(p, lit_size, nonsync, binary, &consumed);
		if (r == IMAP_PARSE_BAD && !consumed) {
			int s = skip_rest(p, line, len);
			return s < 0 ? s : r;
		}
		if (r < 0)
			return r;
		int bad = r;
		r = p->src->read_line(p->src, &line, &len);
		if (r == -EMSGSIZE)
			return parse_bad(p, "[TOOBIG] Command line too long");
		if (r < 0)
			return r;
		if (bad) {
			int s = skip_rest(p, line, len);
			return s < 0 ? s : bad;
		}
		pos = 0;
	}
	if (r == 0 && p->depth != 0)
		r = parse_bad(p, "Unbalanced '('");
	return r;
}

static int parse_command(struct parse *p)
{
	const char *line;
	size_t len, pos = 0;
	int r = p->src->read_line(p->src, &line, &len);
	if (r == -EMSGSIZE) {
		p->error = "[TOOBIG] Command line too long";
		return IMAP_PARSE_BAD;
	}
	if (r < 0)
		return r;
	r = parse_tag_and_name(p, line, len, &pos);
	if (r == IMAP_PARSE_BAD) {
		int s = skip_rest(p, line, len);
		return s < 0 ? s : r;
	}
	p->append = p->src->stream_literals &&
		    strcmp(p->cmd->mem.data + p->cmd->name_off, "APPEND") == 0;
	return parse_lines(p, line, len, pos);
}

/* Turns the tokens into cmd->args, and points tag and name into mem. */
static int parse_finish(struct parse *p, int r, const char **error_r)
{
	struct imap_command *cmd = p->cmd;
	if (r == 0) {
		free(cmd->pool);
		cmd->pool = xcalloc(p->ntoks + 1, sizeof(*cmd->pool));
		cmd->pool_cap = p->ntoks + 1;
		cmd->pool_used = 0;
		size_t i = 0;
		cmd->nargs = build_args(p, &i, &cmd->args);
		cmd->name = cmd->mem.data + cmd->name_off;
	}
	if (r >= 0)
		cmd->tag = cmd->tag_off == SIZE_MAX ? "*" : cmd->mem.data + cmd->tag_off;
	if (r == IMAP_PARSE_BAD)
		*error_r = p->error;
	free(p->toks);
	return r;
}

static int parse_run(struct imap_source *src, struct imap_command *cmd, const char **error_r)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->mem.max = IMAP_MAX_COMMAND + 4096;
	cmd->tag_off = SIZE_MAX;
	struct parse p = { .src = src, .cmd = cmd };
	return parse_finish(&p, parse_command(&p), error_r);
}

void imap_command_free(struct imap_command *cmd)
{
	buf_free(&cmd->mem);
	free(cmd->pool);
	memset(cmd, 0, sizeof(*cmd));
}

static int stream_src_line(struct imap_source *src, const char **line, size_t *len)
{
	return stream_read_line(src->stream, line, len);
}

static int stream_src_exact(struct imap_source *src, char *dst, size_t len)
{
	return stream_read_exact(src->stream, dst, len);
}

static int stream_src_cont(struct imap_source *src)
{
	int r = stream_puts(src->stream, "+ Ready for literal data\r\n");
	return r < 0 ? r : stream_flush(src->stream);
}

static struct imap_source stream_source(struct stream *s)
{
	return (struct imap_source){ .stream = s, .read_line = stream_src_line,
				     .read_exact = stream_src_exact,
				     .continuation = stream_src_cont, .stream_literals = true };
}

int imap_read_command(struct stream *s, struct imap_command *cmd, const char **error_r)
{
	struct imap_source src = stream_source(s);
	return parse_run(&src, cmd, error_r);
}

ssize_t imap_read_literal(struct stream *s, struct imap_command *cmd, void *buf, size_t len)
{
	if (!cmd->at_literal)
		return 0;
	if (!cmd->continued && !cmd->literal_nonsync) {
		struct imap_source src = stream_source(s);
		int r = stream_src_cont(&src);
		if (r < 0)
			return r;
		cmd->continued = true;
	}
	if (cmd->literal_left == 0) {
		cmd->at_literal = false;
		cmd->after_literal = true;
		return 0;
	}
	ssize_t n = stream_read_some(s, buf, len < cmd->literal_left ? len : cmd->literal_left);
	if (n == 0)
		return -EPIPE;
	if (n > 0)
		cmd->literal_left -= (size_t)n;
	return n;
}

int imap_read_command_rest(struct stream *s, struct imap_command *cmd, const char **error_r)
{
	struct imap_source src = stream_source(s);
	struct parse p = { .src = &src, .cmd = cmd, .append = true };
	const char *line;
	size_t len;

	if (cmd->at_literal || !cmd->after_literal)
		return -EINVAL;
	cmd->after_literal = false;
	/* What came before is the handler's now: keep only tag and name. */
	cmd->mem.len = cmd->name_off + strlen(cmd->mem.data + cmd->name_off) + 1;
	cmd->args = NULL;
	cmd->nargs = 0;
	int r = stream_src_line(&src, &line, &len);
	if (r == -EMSGSIZE)
		r = parse_bad(&p, "[TOOBIG] Command line too long");
	else if (r == 0)
		r = parse_lines(&p, line, len, 0);
	return parse_finish(&p, r, error_r);
}

int imap_command_skip(struct stream *s, struct imap_command *cmd)
{
	struct imap_source src = stream_source(s);
	struct parse p = { .src = &src, .cmd = cmd };
	const char *line;
	size_t len;

	if (cmd->at_literal) {
		cmd->at_literal = false;
		/* Unasked, a synchronizing literal never comes. */
		if (!cmd->literal_nonsync && !cmd->continued)
			return 0;
		char junk[4096];
		while (cmd->literal_left > 0) {
			size_t n = cmd->literal_left < sizeof(junk) ? cmd->literal_left
								    : sizeof(junk);
			int r = stream_read_exact(s, junk, n);
			if (r < 0)
				return r;
			cmd->literal_left -= n;
		}
		cmd->after_literal = true;
	}
	if (!cmd->after_literal)
		return 0;
	cmd->after_literal = false;
	int r = stream_src_line(&src, &line, &len);
	if (r == -EMSGSIZE)
		return 0;	/* the stream drops the rest of that line */
	return r < 0 ? r : skip_rest(&p, line, len);
}

/* The buffer source keeps each line in a copy so it is NUL-terminated, as
 * the stream's lines are. */
static int buf_src_line(struct imap_source *src, const char **line, size_t *len)
{
	static __thread char *copy;
	if (src->pos >= src->len)
		return -EPIPE;
	const char *start = src->data + src->pos;
	const char *nl = memchr(start, '\n', src->len - src->pos);
	if (!nl)
		return -EPIPE;
	size_t n = (size_t)(nl - start);
	src->pos += n + 1;
	if (n && start[n - 1] == '\r')
		n--;
	if (n > SEAL_MAX_LINE)
		return -EMSGSIZE;
	free(copy);
	copy = xmalloc(n + 1); /* not strndup: the line may hold NULs */
	memcpy(copy, start, n);
	copy[n] = '\0';
	*line = copy;
	*len = n;
	return 0;
}

static int buf_src_exact(struct imap_source *src, char *dst, size_t len)
{
	if (len > src->len - src->pos)
		return -EPIPE;
	memcpy(dst, src->data + src->pos, len);
	src->pos += len;
	return 0;
}

static int buf_src_cont(struct imap_source *src)
{
	return 0;
}

int imap_parse_buffer(const char *data, size_t len, struct imap_command *cmd,
		      const char **error_r)
{
	struct imap_source src = { .data = data, .len = len, .read_line = buf_src_line,
				   .read_exact = buf_src_exact, .continuation = buf_src_cont };
	return parse_run(&src, cmd, error_r);
}

bool imap_arg_is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	       a->type == IMAP_ARG_LITERAL || a->type == IMAP_ARG_NIL;
}

bool imap_arg_is_astring(const struct imap_arg *a)
{
	return imap_arg_is_string(a) && !a->binary;
}
