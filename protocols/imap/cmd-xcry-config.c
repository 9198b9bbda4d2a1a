/* XCRY GET-USER-CONFIG and SET-USER-CONFIG (manual, "IMAP
 * Characteristics": XCRY; "Password Resets"): the user's key rotation
 * patterns, password and outbound mail settings, kept in user.toml and
 * changed through the store (storage/store.h), which makes a backup of
 * user.toml first and keeps the login cache in step.
 *
 *   * XCRY USER-CONFIG (INTERNAL-KEY-PATTERN EXTERNAL-KEY-PATTERN PASSWORD
 *     SMTP-OUT) "internal-%Y-%m" "external-%Y-%m" NIL SMTP-OUT-SAVE NIL
 *     SMTP-OUT-SUCCESS-RECEIPTS NIL SMTP-OUT-FAILURE-RECEIPTS "INBOX"
 *   * XCRY BACKUP-FILE "tmp/config-backup-20261123T100000Z.toml"
 *
 * The password-changed time is an RFC 9051 date-time in UTC, or NIL when
 * the password was never changed. BACKUP-FILE names the backup relative to
 * the user's directory: putting it back as user.toml undoes the change. */
#include <errno.h>
#include <mbedtls/platform_util.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/cmd-xcry.h"
#include "protocols/imap/datetime.h"
#include "protocols/imap/istring.h"
#include "protocols/imap/session.h"
#include "src/log.h"
#include "src/server.h"
#include "storage/account.h"
#include "storage/keys.h"
#include "storage/meta.h"
#include "storage/store.h"

#define SEAL_STR_(x) #x
#define SEAL_STR(x) SEAL_STR_(x)

enum xcry_key {
	KEY_INTERNAL,
	KEY_EXTERNAL,
	KEY_PASSWORD,
	KEY_SAVE,
	KEY_SUCCESS,
	KEY_FAILURE,
	KEY_COUNT,
};

/* Manual: the Crymap 1.x names first, then SMTP-OUT's settings. */
static const char *const xcry_keys[KEY_COUNT] = {
	"INTERNAL-KEY-PATTERN", "EXTERNAL-KEY-PATTERN",	     "PASSWORD",
	"SMTP-OUT-SAVE",	"SMTP-OUT-SUCCESS-RECEIPTS", "SMTP-OUT-FAILURE-RECEIPTS",
};

/* The capabilities list: what SET-USER-CONFIG takes, and SMTP-OUT for the
 * subcommand and its settings. */
#define XCRY_CONFIG_CAPS "(INTERNAL-KEY-PATTERN EXTERNAL-KEY-PATTERN PASSWORD SMTP-OUT)"

/* Answers a failure of the store's settings calls (already logged with
 * the store's text, which may name files): the mailbox codes of
 * imap_reply_store_error() would mislead here. */
static int xcry_config_error(struct imap_session *s, const char *tag, int err)
{
	if (store_error_is_temporary(err) || err == -ECANCELED)
		return imap_reply_store_error(s, tag, err, NULL, false);
	if (err == -ESTALE)
		return imap_reply(s, tag, "NO",
				  "[UNAVAILABLE] The account changed on the server; log in again");
	if (err == -EINVAL || err == -EFBIG || err == -ENOENT || err == -EBADMSG)
		return imap_reply(s, tag, "NO",
				  "[CORRUPTION] The account's settings file cannot be read "
				  "(the server's log says why)");
	return imap_reply(s, tag, "NO", "[SERVERBUG] Cannot change the settings now");
}

/* A mailbox setting as an nstring: NIL for none. */
static int put_mailbox(struct imap_session *s, struct buf *b, enum xcry_key key,
		       const char *value)
{
	int r = buf_printf(b, " %s ", xcry_keys[key]);
	if (r == 0)
		r = istring_append(b, value && *value ? value : NULL, value ? strlen(value) : 0,
				   ISTRING_NIL_FOR_NULL | (s->utf8 ? ISTRING_UTF8 : 0));
	return r;
}

static int user_config_line(struct imap_session *s, const struct store_user_config *cfg,
			    struct buf *b)
{
	unsigned utf8 = s->utf8 ? ISTRING_UTF8 : 0;
	int r = buf_puts(b, "XCRY USER-CONFIG " XCRY_CONFIG_CAPS " ");
	if (r == 0)
		r = istring_append(b, cfg->internal_pattern, strlen(cfg->internal_pattern),
				   ISTRING_ALLOW_ATOM | utf8);
	if (r == 0)
		r = buf_puts(b, " ");
	if (r == 0)
		r = istring_append(b, cfg->external_pattern, strlen(cfg->external_pattern),
				   ISTRING_ALLOW_ATOM | utf8);
	if (r == 0 && cfg->password_changed > 0) {
		char when[64];
		imap_format_datetime(cfg->password_changed, 0, when);
		r = buf_printf(b, " \"%s\"", when);
	} else if (r == 0) {
		r = buf_puts(b, " NIL");
	}
	if (r == 0)
		r = put_mailbox(s, b, KEY_SAVE, cfg->smtp_out_save);
	if (r == 0)
		r = put_mailbox(s, b, KEY_SUCCESS, cfg->smtp_out_success_receipts);
	if (r == 0)
		r = put_mailbox(s, b, KEY_FAILURE, cfg->smtp_out_failure_receipts);
	return r;
}

int imap_xcry_get_user_config(struct imap_session *s, const char *tag,
			      const struct imap_arg *args, size_t nargs)
{
	if (nargs != 0)
		return imap_reply(s, tag, "BAD", "XCRY GET-USER-CONFIG takes no arguments");
	struct store_user_config cfg;
	char *error = NULL;
	int r = store_user_config_get(s->user, &cfg, &error);
	if (r < 0) {
		conn_log(s->conn, LOG_ERR, "XCRY GET-USER-CONFIG: %s", error ? error : strerror(-r));
		free(error);
		return xcry_config_error(s, tag, r);
	}
	struct buf b = BUF_INIT(0);
	r = user_config_line(s, &cfg, &b);
	if (r == 0)
		r = imap_untagged(s, "%s", b.data);
	buf_free(&b);
	store_user_config_free(&cfg);
	return r < 0 ? r : imap_reply(s, tag, "OK", "XCRY GET-USER-CONFIG completed");
}

/* SET-USER-CONFIG's pairs, pointing into the command's memory; NULL for a
 * key not given, "" for NIL. */
struct xcry_request {
	const char *value[KEY_COUNT];
	size_t len[KEY_COUNT];
};

/* Reads "key value ..." into req: BAD text in *bad_r for what the grammar
 * refuses (the manual: each key an atom, each value an nstring; an atom
 * value is taken too, as Crymap does). */
static int xcry_parse_pairs(const struct imap_arg *args, size_t nargs,
			    struct xcry_request *req, const char **bad_r)
{
	memset(req, 0, sizeof(*req));
	if (nargs == 0 || nargs % 2) {
		*bad_r = "Usage: XCRY SET-USER-CONFIG key value [key value ...]";
		return -EINVAL;
	}
	for (size_t i = 0; i < nargs; i += 2) {
		const struct imap_arg *k = &args[i], *v = &args[i + 1];
		size_t key = KEY_COUNT;
		for (size_t j = 0; k->type == IMAP_ARG_ATOM && j < KEY_COUNT; j++)
			if (strcasecmp(k->str, xcry_keys[j]) == 0)
				key = j;
		if (key == KEY_COUNT) {
			*bad_r = "Unknown setting: SET-USER-CONFIG takes the keys listed "
				 "by GET-USER-CONFIG";
			return -EINVAL;
		}
		if (req->value[key]) {
			*bad_r = "A setting was given twice";
			return -EINVAL;
		}
		bool nil = v->type == IMAP_ARG_NIL;
		if (!nil && !imap_arg_is_astring(v)) {
			*bad_r = "Setting values are strings or NIL";
			return -EINVAL;
		}
		if (nil && key <= KEY_PASSWORD) {
			*bad_r = "Key patterns and the password cannot be NIL";
			return -EINVAL;
		}
		req->value[key] = nil ? "" : v->str;
		req->len[key] = nil ? 0 : v->len;
	}
	return 0;
}

/* Checks every value before anything changes; the NO text goes to text. */
static int xcry_check_values(const struct xcry_request *req, char *text, size_t size)
{
	for (size_t key = 0; key < KEY_COUNT; key++) {
		const char *v = req->value[key], *why = NULL;
		size_t len = req->len[key];
		if (!v)
			continue;
		if (key == KEY_PASSWORD && (len == 0 || len > ACCOUNT_PASSWORD_MAX))
			why = "the password must be 1 to " SEAL_STR(ACCOUNT_PASSWORD_MAX) " bytes";
		else if (memchr(v, '\0', len))
			why = "NUL is not allowed";
		else if (key == KEY_INTERNAL || key == KEY_EXTERNAL)
			keys_check_pattern(v, &why);
		else if (key != KEY_PASSWORD && *v)
			meta_name_check(v, &why);
		if (why) {
			snprintf(text, size, "Invalid %s: %s", xcry_keys[key], why);
			return -EINVAL;
		}
	}
	return 0;
}

/* Sends BACKUP-FILE with the backup's path relative to the user directory
 * (what an administrator needs; the server's own paths stay private). */
static int xcry_send_backup(struct imap_session *s, const char *backup)
{
	const char *dir = store_user_dir(s->user);
	size_t dlen = strlen(dir);
	const char *rel = strncmp(backup, dir, dlen) == 0 && backup[dlen] == '/'
				  ? backup + dlen + 1
				  : strrchr(backup, '/') ? strrchr(backup, '/') + 1 : backup;
	struct buf b = BUF_INIT(0);
	int r = buf_puts(&b, "XCRY BACKUP-FILE ");
	if (r == 0)
		r = istring_append(&b, rel, strlen(rel), s->utf8 ? ISTRING_UTF8 : 0);
	if (r == 0)
		r = imap_untagged(s, "%s", b.data);
	buf_free(&b);
	return r;
}

static int xcry_set_proceed(struct imap_session *s, const char *tag,
			    const struct xcry_request *req)
{
	/* NIL clears a receipts or save mailbox; for failure receipts that
	 * means INBOX (manual), which is what user.toml says by default. */
	const char *failure = req->value[KEY_FAILURE];
	struct account_settings set = {
		.internal_pattern = req->value[KEY_INTERNAL],
		.external_pattern = req->value[KEY_EXTERNAL],
		.smtp_out_save = req->value[KEY_SAVE],
		.smtp_out_success_receipts = req->value[KEY_SUCCESS],
		.smtp_out_failure_receipts = failure && !*failure ? "INBOX" : failure,
	};
	char *backup = NULL, *error = NULL;
	int r = store_user_config_set(s->user, &set, req->value[KEY_PASSWORD], &backup, &error);
	if (r < 0) {
		conn_log(s->conn, LOG_ERR, "XCRY SET-USER-CONFIG: %s", error ? error : strerror(-r));
		free(error);
		return xcry_config_error(s, tag, r);
	}
	bool settings = false;
	for (size_t key = 0; key < KEY_COUNT; key++)
		settings |= key != KEY_PASSWORD && req->value[key];
	conn_log(s->conn, LOG_INFO, "XCRY SET-USER-CONFIG: %s changed",
		 !req->value[KEY_PASSWORD] ? "settings"
		 : settings		   ? "password and settings"
					   : "password");
	r = xcry_send_backup(s, backup);
	free(backup);
	return r < 0 ? r : imap_reply(s, tag, "OK", "XCRY SET-USER-CONFIG completed");
}

static int xcry_set(struct imap_session *s, const char *tag, const struct imap_arg *args,
		    size_t nargs)
{
	struct xcry_request req;
	const char *bad = NULL;
	char text[256];
	if (xcry_parse_pairs(args, nargs, &req, &bad) < 0)
		return imap_reply(s, tag, "BAD", "%s", bad);
	if (xcry_check_values(&req, text, sizeof(text)) < 0)
		return imap_reply(s, tag, "NO", "[CANNOT] %s", text);
	return xcry_set_proceed(s, tag, &req);
}

/* The password leaves memory whatever the outcome (as LOGIN's does). */
int imap_xcry_set_user_config(struct imap_session *s, const char *tag,
			      const struct imap_arg *args, size_t nargs)
{
	int r = xcry_set(s, tag, args, nargs);
	for (size_t i = 0; i + 1 < nargs; i += 2)
		if (args[i].type == IMAP_ARG_ATOM && strcasecmp(args[i].str, "PASSWORD") == 0 &&
		    imap_arg_is_string(&args[i + 1]))
			mbedtls_platform_zeroize((void *)args[i + 1].str, args[i + 1].len);
	return r;
}
