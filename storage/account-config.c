/* user.toml: our reader on top of src/toml.h and our own small writer. The
 * format and the contract are in account.h. The reader is strict, because
 * the file holds credentials: every value is checked and bounded, and
 * anything we do not know is an error naming the file and line. */
#include "storage/account.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/base64.h>

#include "src/toml.h"
#include "src/util/buf.h"
#include "src/util/xmalloc.h"
#include "storage/crypto.h"
#include "storage/keys.h"
#include "storage/userdir.h"

#define CONFIG_VERSION 1
#define CONFIG_STRING_MAX 4096
#define CONFIG_DEPTH_MAX 4
#define CHANGED_FORMAT "%Y-%m-%dT%H:%M:%SZ"	/* credentials.password_changed */
#define CHANGED_LEN 20

struct config_reader {
	const char *name;
	char **error_r;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct config_reader *rd, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rd->error_r) {
		if (line > 0)
			*rd->error_r = xasprintf("%s:%u: %s", rd->name, line, msg);
		else
			*rd->error_r = xasprintf("%s: %s", rd->name, msg);
	}
	return -EINVAL;
}

/* Finds table.key of the given type; absent is -ENOENT (the caller decides
 * whether that is an error), a wrong type is an error. */
static int get_typed(struct config_reader *rd, struct toml_value *table, const char *section,
		     const char *key, enum toml_type type, struct toml_value **value_r)
{
	struct toml_entry *e = toml_get_entry(table, key);

	*value_r = NULL;
	if (!e)
		return -ENOENT;
	if (e->value->type != type)
		return fail(rd, e->line, "key '%s%s%s': expected %s, got %s", section,
			    *section ? "." : "", key, toml_type_name(type),
			    toml_type_name(e->value->type));
	*value_r = e->value;
	return 0;
}

static int get_required(struct config_reader *rd, struct toml_value *table, const char *section,
			const char *key, enum toml_type type, struct toml_value **value_r)
{
	int r = get_typed(rd, table, section, key, type, value_r);
	if (r == -ENOENT)
		return fail(rd, table->line, "missing key '%s%s%s'", section, *section ? "." : "",
			    key);
	return r;
}

static int get_uint32(struct config_reader *rd, struct toml_value *table, const char *key,
		      uint32_t *out)
{
	struct toml_value *v;
	int r = get_required(rd, table, "credentials", key, TOML_INTEGER, &v);
	if (r < 0)
		return r;
	if (v->integer < 0 || v->integer > UINT32_MAX)
		return fail(rd, v->line, "key 'credentials.%s': out of range", key);
	*out = (uint32_t)v->integer;
	return 0;
}

/* A base64 value that must decode to exactly len bytes. */
static int get_base64(struct config_reader *rd, struct toml_value *table, const char *key,
		      uint8_t *out, size_t len)
{
	struct toml_value *v;
	uint8_t tmp[64];
	size_t olen = 0;
	int r = get_required(rd, table, "credentials", key, TOML_STRING, &v);

	if (r < 0)
		return r;
	/* Check the encoded length first, so the decode cannot overflow. */
	if (v->string.len != 4 * ((len + 2) / 3) || len > sizeof(tmp) ||
	    mbedtls_base64_decode(tmp, sizeof(tmp), &olen, (const unsigned char *)v->string.data,
				  v->string.len) != 0 ||
	    olen != len) {
		crypto_wipe(tmp, sizeof(tmp));
		return fail(rd, v->line, "key 'credentials.%s': not base64 of %zu bytes", key, len);
	}
	memcpy(out, tmp, len);
	crypto_wipe(tmp, sizeof(tmp));
	return 0;
}

/* The time t as CHANGED_FORMAT in out (CHANGED_LEN + 1 bytes or more). */
static bool format_changed(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	return gmtime_r(&tt, &tm) && strftime(out, size, CHANGED_FORMAT, &tm) == CHANGED_LEN;
}

/* Optional credentials.password_changed: a UTC time written exactly as
 * format_changed() writes it (it must format back to the same text, so
 * "2026-13-01..." and other near misses are refused). */
static int get_changed(struct config_reader *rd, struct toml_value *table, int64_t *out)
{
	struct toml_value *v;
	struct tm tm = { 0 };
	char back[32];
	int r = get_typed(rd, table, "credentials", "password_changed", TOML_STRING, &v);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	const char *end = v->string.len == CHANGED_LEN
				  ? strptime(v->string.data, CHANGED_FORMAT, &tm)
				  : NULL;
	time_t t = end && *end == '\0' ? timegm(&tm) : (time_t)-1;
	if (t <= 0 || !format_changed(t, back, sizeof(back)) ||
	    strcmp(back, v->string.data) != 0)
		return fail(rd, v->line,
			    "key 'credentials.password_changed': not a UTC time like "
			    "\"2026-11-23T10:00:00Z\"");
	*out = t;
	return 0;
}

static int parse_credentials(struct config_reader *rd, struct toml_value *root,
			     struct account_config *cfg)
{
	struct toml_value *t, *v;
	const char *why;
	int r = get_required(rd, root, "", "credentials", TOML_TABLE, &t);

	if (r == 0)
		r = get_required(rd, t, "credentials", "algorithm", TOML_STRING, &v);
	if (r < 0)
		return r;
	if (strcmp(v->string.data, "argon2id") != 0)
		return fail(rd, v->line, "key 'credentials.algorithm': only \"argon2id\" is known");
	if ((r = get_uint32(rd, t, "memory_kib", &cfg->argon.memory_kib)) < 0 ||
	    (r = get_uint32(rd, t, "iterations", &cfg->argon.iterations)) < 0 ||
	    (r = get_uint32(rd, t, "parallelism", &cfg->argon.parallelism)) < 0)
		return r;
	if (account_check_argon(&cfg->argon, &why) < 0)
		return fail(rd, t->line, "[credentials]: %s", why);
	if ((r = get_base64(rd, t, "salt", cfg->salt, sizeof(cfg->salt))) < 0 ||
	    (r = get_base64(rd, t, "verifier", cfg->verifier, sizeof(cfg->verifier))) < 0 ||
	    (r = get_base64(rd, t, "master_key_xor", cfg->master_key_xor,
			    sizeof(cfg->master_key_xor))) < 0)
		return r;
	return get_changed(rd, t, &cfg->password_changed);
}

/* A string setting; check is 'p' for a key pattern, 'm' for a mailbox. */
static int get_setting(struct config_reader *rd, struct toml_value *table, const char *section,
		       const char *key, char check, char **out)
{
	struct toml_value *v = NULL;
	const char *why = NULL;
	int r = get_required(rd, table, section, key, TOML_STRING, &v);

	if (r < 0)
		return r;
	if (check == 'p')
		keys_check_pattern(v->string.data, &why);
	else if (v->string.len > ACCOUNT_MAILBOX_MAX)
		why = "mailbox name too long";
	else if (!userdir_text_valid(v->string.data, v->string.len))
		why = "control character in a mailbox name";
	if (why)
		return fail(rd, v->line, "key '%s.%s': %s", section, key, why);
	*out = xstrdup(v->string.data);
	return 0;
}

static int parse_settings(struct config_reader *rd, struct toml_value *root,
			  struct account_config *cfg)
{
	struct toml_value *keys, *smtp;
	int r;

	if ((r = get_required(rd, root, "", "keys", TOML_TABLE, &keys)) < 0 ||
	    (r = get_required(rd, root, "", "smtp_out", TOML_TABLE, &smtp)) < 0)
		return r;
	if ((r = get_setting(rd, keys, "keys", "internal_pattern", 'p',
			     &cfg->internal_pattern)) < 0 ||
	    (r = get_setting(rd, keys, "keys", "external_pattern", 'p',
			     &cfg->external_pattern)) < 0 ||
	    (r = get_setting(rd, smtp, "smtp_out", "save_mailbox", 'm', &cfg->smtp_out_save)) < 0 ||
	    (r = get_setting(rd, smtp, "smtp_out", "success_receipts", 'm',
			     &cfg->smtp_out_success_receipts)) < 0 ||
	    (r = get_setting(rd, smtp, "smtp_out", "failure_receipts", 'm',
			     &cfg->smtp_out_failure_receipts)) < 0)
		return r;
	return 0;
}

int account_config_parse(const char *name, const char *data, size_t len,
			 struct account_config *cfg_r, char **error_r)
{
	struct config_reader rd = { name, error_r };
	struct toml_limits limits = { ACCOUNT_CONFIG_MAX, CONFIG_STRING_MAX, CONFIG_DEPTH_MAX };
	struct toml_value *root = NULL, *v;
	char *err = NULL, *path = NULL;

	memset(cfg_r, 0, sizeof(*cfg_r));
	int r = toml_parse(name, data, len, &limits, &root, &err);
	if (r < 0) {
		if (error_r)
			*error_r = err;
		else
			free(err);
		return r == -EFBIG ? -EFBIG : -EINVAL;
	}
	r = get_required(&rd, root, "", "version", TOML_INTEGER, &v);
	if (r == 0 && v->integer != CONFIG_VERSION)
		r = fail(&rd, v->line, "key 'version': %lld is not a version we know",
			 (long long)v->integer);
	if (r == 0)
		r = parse_credentials(&rd, root, cfg_r);
	if (r == 0)
		r = parse_settings(&rd, root, cfg_r);
	if (r == 0) {
		const struct toml_entry *e = toml_find_unused(root, NULL, &path);
		if (e)
			r = fail(&rd, e->line, "unknown key '%s'", path);
		free(path);
	}
	toml_free(&root);
	if (r < 0)
		account_config_free(cfg_r);
	return r;
}

/* A TOML basic string: quotes, backslashes and control characters are
 * escaped (TOML 1.0 "String"); everything else is copied as UTF-8. */
static int put_string(struct buf *out, const char *key, const char *s)
{
	int r = buf_printf(out, "%s = \"", key);
	for (const unsigned char *p = (const unsigned char *)s; r == 0 && *p; p++) {
		if (*p == '"' || *p == '\\')
			r = buf_printf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			r = buf_printf(out, "\\u%04X", *p);
		else
			r = buf_append(out, p, 1);
	}
	return r == 0 ? buf_puts(out, "\"\n") : r;
}

static int put_base64(struct buf *out, const char *key, const uint8_t *data, size_t len)
{
	unsigned char enc[64];
	size_t olen;

	if (mbedtls_base64_encode(enc, sizeof(enc), &olen, data, len) != 0)
		return -EMSGSIZE;
	int r = buf_printf(out, "%s = \"%.*s\"\n", key, (int)olen, (const char *)enc);
	crypto_wipe(enc, sizeof(enc));
	return r;
}

int account_config_format(const struct account_config *cfg, struct buf *out)
{
	int r = buf_printf(out,
			   "# sealmail user configuration. Putting an older copy of this file back\n"
			   "# (see tmp/config-backup-*.toml) restores the password it was made with.\n"
			   "version = %d\n\n[credentials]\nalgorithm = \"argon2id\"\n"
			   "memory_kib = %u\niterations = %u\nparallelism = %u\n",
			   CONFIG_VERSION, cfg->argon.memory_kib, cfg->argon.iterations,
			   cfg->argon.parallelism);
	if (r == 0)
		r = put_base64(out, "salt", cfg->salt, sizeof(cfg->salt));
	if (r == 0)
		r = put_base64(out, "verifier", cfg->verifier, sizeof(cfg->verifier));
	if (r == 0)
		r = put_base64(out, "master_key_xor", cfg->master_key_xor,
			       sizeof(cfg->master_key_xor));
	if (r == 0 && cfg->password_changed > 0) {
		char when[32];
		r = format_changed(cfg->password_changed, when, sizeof(when))
			    ? put_string(out, "password_changed", when)
			    : -EMSGSIZE;
	}
	if (r == 0)
		r = buf_puts(out, "\n[keys]\n");
	if (r == 0)
		r = put_string(out, "internal_pattern", cfg->internal_pattern);
	if (r == 0)
		r = put_string(out, "external_pattern", cfg->external_pattern);
	if (r == 0)
		r = buf_puts(out, "\n[smtp_out]\n");
	if (r == 0)
		r = put_string(out, "save_mailbox", cfg->smtp_out_save);
	if (r == 0)
		r = put_string(out, "success_receipts", cfg->smtp_out_success_receipts);
	if (r == 0)
		r = put_string(out, "failure_receipts", cfg->smtp_out_failure_receipts);
	return r;
}

int account_config_read(const char *user_dir, struct account_config *cfg_r, char **error_r)
{
	char *path = xasprintf("%s/user.toml", user_dir);
	char *data;
	size_t len;

	memset(cfg_r, 0, sizeof(*cfg_r));
	int r = userdir_read_file(path, ACCOUNT_CONFIG_MAX, &data, &len, error_r);
	if (r == 0) {
		r = account_config_parse(path, data, len, cfg_r, error_r);
		crypto_wipe(data, len);
		free(data);
	}
	free(path);
	return r;
}

int account_config_write(const char *user_dir, const struct account_config *cfg,
			 char **error_r)
{
	struct buf out = BUF_INIT(ACCOUNT_CONFIG_MAX);
	char *tmp_dir = xasprintf("%s/tmp", user_dir);
	int r = account_config_format(cfg, &out);

	if (r < 0) {
		if (error_r)
			*error_r = xasprintf("%s/user.toml: settings too large", user_dir);
	} else {
		r = userdir_write_atomic(user_dir, tmp_dir, "user.toml", out.data, out.len, true,
					 error_r);
	}
	if (out.data)
		crypto_wipe(out.data, out.len);
	buf_free(&out);
	free(tmp_dir);
	return r;
}

void account_config_free(struct account_config *cfg)
{
	free(cfg->internal_pattern);
	free(cfg->external_pattern);
	free(cfg->smtp_out_save);
	free(cfg->smtp_out_success_receipts);
	free(cfg->smtp_out_failure_receipts);
	crypto_wipe(cfg, sizeof(*cfg));
}
