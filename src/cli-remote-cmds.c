/* `sealmail remote test | chpw | config` (manual, "User Guide": changing
 * your password or settings; "IMAP Characteristics": XCRY). Each logs in
 * with the password asked for (cli_read_password) and speaks XCRY:
 *
 *   chpw    XCRY SET-USER-CONFIG PASSWORD new
 *   config  XCRY GET-USER-CONFIG, then SET-USER-CONFIG with the options
 *
 * and prints the backup the server made of the user's configuration, which
 * an administrator can put back to undo the change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/cli-remote.h"
#include "src/cli.h"

#define CONFIG_EXTRA_MAX 32	/* settings past the 1.x three we keep */

/* XCRY's names for remote_setting. */
static const char *const setting_keys[RS_COUNT] = {
	"INTERNAL-KEY-PATTERN", "EXTERNAL-KEY-PATTERN", "SMTP-OUT-SAVE",
	"SMTP-OUT-SUCCESS-RECEIPTS", "SMTP-OUT-FAILURE-RECEIPTS",
};

/* Connects and logs in as o->user with the password asked for. */
static struct rimap *remote_login(const struct remote_opts *o)
{
	struct rimap *c = rimap_open(o);
	if (!c)
		return NULL;
	if (rimap_has_cap(c, "LOGINDISABLED")) {
		remote_fail("the server does not allow logging in here (LOGINDISABLED)");
		rimap_close(&c);
		return NULL;
	}
	char prompt[600], pw[CLI_PASSWORD_BUF], *text = NULL;
	snprintf(prompt, sizeof(prompt), "Password for %.255s on %.255s: ", o->user, o->host);
	if (cli_read_password(REMOTE_PROG, prompt, NULL, pw, sizeof(pw)) < 0) {
		rimap_close(&c);
		return NULL;
	}
	const struct rimap_arg login[] = {
		{ RA_WORDS, "LOGIN" }, { RA_STRING, o->user }, { RA_SECRET, pw } };
	int r = rimap_command(c, login, 3, NULL, NULL, &text);
	explicit_bzero(pw, sizeof(pw));
	if (r != RIMAP_OK) {
		if (r > 0)
			remote_fail("cannot log in as %s: %s", o->user, text);
		free(text);
		rimap_close(&c);
		return NULL;
	}
	free(text);
	return c;
}

/* Runs a command that must succeed; 0, or 1 after saying why. */
static int must_succeed(struct rimap *c, const char *what, const struct rimap_arg *args,
			size_t n, rimap_untagged_fn *untagged, void *ctx)
{
	char *text = NULL;
	int r = rimap_command(c, args, n, untagged, ctx, &text);
	if (r > 0)
		remote_fail("the server refused %s: %s", what, text ? text : "");
	free(text);
	return r == RIMAP_OK ? 0 : 1;
}

static int need_xcry(struct rimap *c)
{
	if (rimap_has_cap(c, "XCRY"))
		return 0;
	return remote_fail("the server does not offer XCRY: it cannot change passwords or "
			   "settings this way");
}

int remote_test(const struct remote_opts *o)
{
	struct rimap *c = remote_login(o);
	if (!c)
		return 1;
	const struct rimap_arg cap = { RA_WORDS, "CAPABILITY" };
	int r = must_succeed(c, "CAPABILITY", &cap, 1, NULL, NULL);
	if (r == 0) {
		printf("Logged in to %s port %u as %s (%s).\n", o->host, o->port, o->user,
		       rimap_tls(c));
		printf("Password and settings changes (XCRY): %s\n",
		       rimap_has_cap(c, "XCRY") ? "available" : "not offered");
	}
	rimap_close(&c);
	return r;
}

/* --- Responses to XCRY ------------------------------------------------ */

/* "XCRY BACKUP-FILE name": the name, kept for the user. */
static void on_backup(void *ctx, const char *data, size_t len)
{
	char **backup = ctx;
	struct rlex lx;
	rlex_init(&lx, data, len);
	if (rlex_next(&lx) == RT_ATOM && strcasecmp(lx.value.data, "XCRY") == 0 &&
	    rlex_next(&lx) == RT_ATOM && strcasecmp(lx.value.data, "BACKUP-FILE") == 0) {
		enum rlex_type t = rlex_next(&lx);
		char *name = t == RT_STRING || t == RT_ATOM ? buf_steal(&lx.value) : NULL;
		if (name && rlex_next(&lx) == RT_END && !*backup)
			*backup = name;
		else
			free(name);
	}
	rlex_free(&lx);
}

/* Prints text with control characters made harmless (it comes from the
 * server). */
static void print_clean(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void print_backup(const char *backup, const char *what)
{
	printf("%s. The server saved the previous configuration as ", what);
	print_clean(backup ? backup : "(no name given)");
	printf(";\nan administrator can put it back as user.toml to undo the change.\n");
}

int remote_chpw(const struct remote_opts *o)
{
	struct rimap *c = remote_login(o);
	if (!c)
		return 1;
	char pw[CLI_PASSWORD_BUF], *backup = NULL;
	int r = need_xcry(c);
	if (r == 0 && cli_read_password(REMOTE_PROG, "New password: ", "New password again: ", pw,
					sizeof(pw)) < 0)
		r = 1;
	if (r == 0) {
		const struct rimap_arg set[] = { { RA_WORDS, "XCRY SET-USER-CONFIG PASSWORD" },
						 { RA_SECRET, pw } };
		r = must_succeed(c, "the password change", set, 2, on_backup, &backup);
		explicit_bzero(pw, sizeof(pw));
	}
	if (r == 0)
		print_backup(backup, "Password changed");
	free(backup);
	rimap_close(&c);
	return r;
}

/* --- config ------------------------------------------------------------ */

struct user_config {
	bool seen, malformed;
	struct buf caps;		/* " CAP1 CAP2 " */
	char *internal, *external, *changed;	/* changed NULL: never */
	size_t n;
	char *key[CONFIG_EXTRA_MAX], *value[CONFIG_EXTRA_MAX];	/* value NULL: NIL */
};

static char *lex_value(struct rlex *lx, bool nil_ok, bool *ok)
{
	enum rlex_type t = rlex_next(lx);
	if (t == RT_STRING || t == RT_ATOM)
		return buf_steal(&lx->value);
	*ok = *ok && t == RT_NIL && nil_ok;
	return NULL;
}

/* "XCRY USER-CONFIG (caps) internal external changed [KEY value]..." */
static void on_user_config(void *ctx, const char *data, size_t len)
{
	struct user_config *uc = ctx;
	struct rlex lx;
	bool ok = true;
	rlex_init(&lx, data, len);
	if (uc->seen || rlex_next(&lx) != RT_ATOM || strcasecmp(lx.value.data, "XCRY") != 0 ||
	    rlex_next(&lx) != RT_ATOM || strcasecmp(lx.value.data, "USER-CONFIG") != 0) {
		rlex_free(&lx);
		return;
	}
	uc->seen = true;
	ok = rlex_next(&lx) == RT_OPEN;
	buf_puts(&uc->caps, " ");
	for (enum rlex_type t; ok && (t = rlex_next(&lx)) != RT_CLOSE;)
		ok = t == RT_ATOM && buf_printf(&uc->caps, "%s ", lx.value.data) == 0;
	uc->internal = ok ? lex_value(&lx, false, &ok) : NULL;
	uc->external = ok ? lex_value(&lx, false, &ok) : NULL;
	uc->changed = ok ? lex_value(&lx, true, &ok) : NULL;
	for (enum rlex_type t; ok && (t = rlex_next(&lx)) != RT_END;) {
		ok = t == RT_ATOM && uc->n < CONFIG_EXTRA_MAX;
		if (!ok)
			break;
		uc->key[uc->n] = buf_steal(&lx.value);
		uc->value[uc->n] = lex_value(&lx, true, &ok);
		uc->n++;
	}
	uc->malformed = !ok;
	rlex_free(&lx);
}

static void user_config_free(struct user_config *uc)
{
	buf_free(&uc->caps);
	free(uc->internal);
	free(uc->external);
	free(uc->changed);
	for (size_t i = 0; i < uc->n; i++) {
		free(uc->key[i]);
		free(uc->value[i]);
	}
}

/* A setting can be given when its key is a capability, or (Crymap 2.x) is
 * listed among the settings after the first three. */
static bool configurable(const struct user_config *uc, const char *key)
{
	char word[64];
	snprintf(word, sizeof(word), " %s ", key);
	if (uc->caps.data && strcasestr(uc->caps.data, word))
		return true;
	for (size_t i = 0; i < uc->n; i++)
		if (strcasecmp(uc->key[i], key) == 0)
			return true;
	return false;
}

static void print_setting(const char *key, const char *value, const char *none)
{
	for (const char *k = key; *k; k++)
		putchar(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
	printf(": ");
	print_clean(value ? value : none);
	putchar('\n');
}

static void print_config(const struct user_config *uc)
{
	print_setting("INTERNAL-KEY-PATTERN", uc->internal, "");
	print_setting("EXTERNAL-KEY-PATTERN", uc->external, "");
	print_setting("PASSWORD-CHANGED", uc->changed, "never");
	for (size_t i = 0; i < uc->n; i++)
		print_setting(uc->key[i], uc->value[i], "(none)");
}

static int set_config(struct rimap *c, const struct remote_opts *o,
		      const struct user_config *uc)
{
	struct rimap_arg args[1 + 2 * RS_COUNT];
	size_t n = 0;
	args[n++] = (struct rimap_arg){ RA_WORDS, "XCRY SET-USER-CONFIG" };
	for (size_t i = 0; i < RS_COUNT; i++) {
		if (!o->set[i])
			continue;
		if (!configurable(uc, setting_keys[i]))
			return remote_fail("%s cannot be configured on this server",
					   setting_keys[i]);
		args[n++] = (struct rimap_arg){ RA_WORDS, setting_keys[i] };
		/* An empty value clears a mailbox (NIL); patterns cannot be
		 * empty, and the server says so. */
		args[n++] = (struct rimap_arg){ i <= RS_EXTERNAL ? RA_STRING : RA_NIL_IF_EMPTY,
						o->set[i] };
	}
	char *backup = NULL;
	int r = must_succeed(c, "the change", args, n, on_backup, &backup);
	if (r == 0)
		print_backup(backup, "Configuration updated");
	free(backup);
	return r;
}

int remote_config(const struct remote_opts *o)
{
	struct rimap *c = remote_login(o);
	if (!c)
		return 1;
	struct user_config uc = { .caps = BUF_INIT(REMOTE_MAX_LINE) };
	const struct rimap_arg get = { RA_WORDS, "XCRY GET-USER-CONFIG" };
	int r = need_xcry(c);
	if (r == 0)
		r = must_succeed(c, "GET-USER-CONFIG", &get, 1, on_user_config, &uc);
	if (r == 0 && (!uc.seen || uc.malformed))
		r = remote_fail("the server's USER-CONFIG response is %s",
				uc.seen ? "malformed" : "missing");
	bool changes = false;
	for (size_t i = 0; i < RS_COUNT; i++)
		changes |= o->set[i] != NULL;
	if (r == 0 && changes)
		r = set_config(c, o, &uc);
	else if (r == 0)
		print_config(&uc);
	user_config_free(&uc);
	rimap_close(&c);
	return r;
}
