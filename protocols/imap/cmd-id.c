/* ID (RFC 2971): the client says who it is (logged), the server answers
 * with its name, version and the [identification] entries of the
 * configuration (manual, "ID"). */
#include <string.h>
#include <strings.h>

#include "protocols/imap/istring.h"
#include "protocols/imap/session.h"
#include "src/config.h"
#include "src/log.h"
#include "src/server.h"
#include "version.h"

#define ID_MAX_PAIRS 30		/* RFC 2971 3.3 */
#define ID_MAX_FIELD 30
#define ID_MAX_VALUE 1024

static bool id_string_ok(const struct imap_arg *a, size_t max)
{
	return imap_arg_is_string(a) && !a->binary && a->len <= max;
}

/* The client's list: NIL, or (field value ...) with string fields and
 * nstring values, within RFC 2971's limits. */
static bool id_args_ok(const struct imap_command *cmd)
{
	if (cmd->nargs != 1)
		return false;
	const struct imap_arg *a = &cmd->args[0];
	if (a->type == IMAP_ARG_NIL)
		return true;
	if (a->type != IMAP_ARG_LIST || a->len % 2 || a->len / 2 > ID_MAX_PAIRS)
		return false;
	for (size_t i = 0; i < a->len; i += 2) {
		const struct imap_arg *v = &a->list[i + 1];
		if (!id_string_ok(&a->list[i], ID_MAX_FIELD) ||
		    (v->type != IMAP_ARG_NIL && !id_string_ok(v, ID_MAX_VALUE)))
			return false;
	}
	return true;
}

/* Logs the client's identification as one line of printable text. */
static void id_log_client(struct imap_session *s, const struct imap_arg *a)
{
	struct buf b = BUF_INIT(2048);
	for (size_t i = 0; a->type == IMAP_ARG_LIST && i < a->len; i++) {
		const struct imap_arg *v = &a->list[i];
		const char *text = v->type == IMAP_ARG_NIL ? "NIL" : v->str;
		size_t len = v->type == IMAP_ARG_NIL ? 3 : v->len;
		if (buf_puts(&b, i % 2 ? "=" : (i ? ", " : "")) < 0)
			break;
		for (size_t k = 0; k < len; k++) {
			char c = text[k] >= 0x20 && text[k] < 0x7f ? text[k] : '?';
			if (buf_append(&b, &c, 1) < 0)
				break;
		}
	}
	conn_log(s->conn, LOG_INFO, "client ID: %s", b.data ? b.data : "NIL");
	buf_free(&b);
}

static int id_append_pair(struct buf *b, const char *key, const char *value)
{
	int r = buf_puts(b, b->len > 4 ? " " : "");
	if (r == 0)
		r = istring_append(b, key, strlen(key), 0);
	if (r == 0)
		r = buf_puts(b, " ");
	if (r == 0)
		r = istring_append(b, value, strlen(value), 0);
	return r;
}

int imap_cmd_id(struct imap_session *s, struct imap_command *cmd)
{
	if (!id_args_ok(cmd))
		return imap_reply(s, cmd->tag, "BAD", "Usage: ID NIL or ID (field value ...)");
	id_log_client(s, &cmd->args[0]);
	const struct config *cfg = s->conn->server->cfg;
	struct buf b = BUF_INIT(0);
	int r = buf_puts(&b, "ID (");
	if (r == 0)
		r = id_append_pair(&b, "name", "sealmail");
	if (r == 0)
		r = id_append_pair(&b, "version", SEALMAIL_VERSION);
	/* Fields are unique and at most 30 (RFC 2971 3.3): ours come first. */
	size_t pairs = 2;
	for (size_t i = 0; r == 0 && i < cfg->identification_count && pairs < ID_MAX_PAIRS; i++) {
		const struct config_kv *kv = &cfg->identification[i];
		if (strcasecmp(kv->key, "name") == 0 || strcasecmp(kv->key, "version") == 0)
			continue;
		r = id_append_pair(&b, kv->key, kv->value);
		pairs++;
	}
	if (r == 0)
		r = buf_puts(&b, ")");
	if (r == 0)
		r = imap_untagged(s, "%s", b.data);
	buf_free(&b);
	return r < 0 ? r : imap_reply(s, cmd->tag, "OK", "ID completed");
}
