/* Tokens of a server response for `sealmail remote` (RFC 9051 section 9:
 * atom, quoted, literal, NIL, parenthesised lists). The response comes
 * whole, literals inline, from rimap_command(); anything malformed is
 * RT_ERROR and the caller reports the response as unexpected. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/cli-remote.h"

void rlex_init(struct rlex *lx, const char *data, size_t len)
{
	lx->p = data;
	lx->end = data + len;
	lx->value = (struct buf)BUF_INIT(REMOTE_MAX_RESPONSE);
}

void rlex_free(struct rlex *lx)
{
	buf_free(&lx->value);
}

static enum rlex_type lex_quoted(struct rlex *lx)
{
	for (lx->p++; lx->p < lx->end; lx->p++) {
		char c = *lx->p;
		if (c == '"') {
			lx->p++;
			return RT_STRING;
		}
		if (c == '\r' || c == '\n')
			return RT_ERROR;
		if (c == '\\') {
			if (++lx->p == lx->end || (*lx->p != '"' && *lx->p != '\\'))
				return RT_ERROR;
			c = *lx->p;
		}
		if (buf_append(&lx->value, &c, 1) < 0)
			return RT_ERROR;
	}
	return RT_ERROR;
}

/* {n} or {n+} (and ~{n}), CRLF, then n bytes. */
static enum rlex_type lex_literal(struct rlex *lx)
{
	if (*lx->p == '~')
		lx->p++;
	if (lx->p == lx->end || *lx->p != '{')
		return RT_ERROR;
	uint64_t n = 0;
	const char *q = lx->p + 1;
	for (; q < lx->end && isdigit((unsigned char)*q); q++) {
		n = n * 10 + (uint64_t)(*q - '0');
		if (n > REMOTE_MAX_RESPONSE)
			return RT_ERROR;
	}
	if (q == lx->p + 1)
		return RT_ERROR;
	if (q < lx->end && *q == '+')
		q++;
	if (lx->end - q < 3 || q[0] != '}' || q[1] != '\r' || q[2] != '\n')
		return RT_ERROR;
	q += 3;
	if ((uint64_t)(lx->end - q) < n || buf_append(&lx->value, q, (size_t)n) < 0)
		return RT_ERROR;
	lx->p = q + n;
	return RT_STRING;
}

enum rlex_type rlex_next(struct rlex *lx)
{
	buf_reset(&lx->value);
	if (buf_append(&lx->value, "", 0) < 0)	/* data is a "" from here */
		return RT_ERROR;
	while (lx->p < lx->end && *lx->p == ' ')
		lx->p++;
	if (lx->p == lx->end)
		return RT_END;
	switch (*lx->p) {
	case '(':
		lx->p++;
		return RT_OPEN;
	case ')':
		lx->p++;
		return RT_CLOSE;
	case '"':
		return lex_quoted(lx);
	case '{':
	case '~':
		return lex_literal(lx);
	}
	const char *start = lx->p;
	while (lx->p < lx->end && !strchr(" ()\"{\r\n", *lx->p) && (unsigned char)*lx->p >= 0x20)
		lx->p++;
	if (lx->p == start || buf_append(&lx->value, start, (size_t)(lx->p - start)) < 0)
		return RT_ERROR;
	return strcasecmp(lx->value.data, "NIL") == 0 ? RT_NIL : RT_ATOM;
}
