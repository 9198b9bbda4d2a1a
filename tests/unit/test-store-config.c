/* Unit tests of what IMAP XCRY does through the store: user settings read
 * and changed with a backup each time (store-config.c, account_update),
 * the password set from the master key held since login with the login
 * cache kept in step, the refusal to write a master key into another
 * account's user.toml, user.toml's password_changed, and XCRY PURGE
 * (store_purge). */
#include "tests/unit/test-store.h"

#include <stdio.h>
#include <sys/wait.h>

#include "src/util/buf.h"

static const struct account_settings no_settings = { 0 };

static int try_login(struct store *st, const char *password)
{
	struct store_user *u = NULL;
	char *err = NULL;
	int r = store_login(st, "u", password, &u, &err);
	free(err);
	store_logout(&u);
	return r;
}

static char *read_text(const char *path)
{
	char *data = NULL, *err = NULL;
	size_t len = 0;
	int r = userdir_read_file(path, ACCOUNT_CONFIG_MAX, &data, &len, &err);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "read %s: %d %s", path, r, err ? err : "");
	return data;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	CHECK_INT(system(cmd), ==, 0);
}

static int count_backups(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "exit $(ls %s/tmp | grep -c '^config-backup-.*\\.toml$')",
		 st_dir);
	int r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

STORE_TEST(settings_read_change_and_back_up)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	struct store_user_config cfg;
	char *backup = NULL, *err = NULL;

	CHECK_INT(store_user_config_get(u, &cfg, NULL), ==, 0);
	CHECK_STR(cfg.internal_pattern, KEYS_DEFAULT_INTERNAL_PATTERN);
	CHECK_STR(cfg.external_pattern, KEYS_DEFAULT_EXTERNAL_PATTERN);
	CHECK_INT(cfg.password_changed, ==, 0);
	CHECK_STR(cfg.smtp_out_save, "");
	CHECK_STR(cfg.smtp_out_success_receipts, "");
	CHECK_STR(cfg.smtp_out_failure_receipts, "INBOX");
	store_user_config_free(&cfg);

	char *before = read_text(TEST_STR("%s/user.toml", st_dir));
	struct account_settings set = { .internal_pattern = "in-%Y",
					.external_pattern = "ex-%Y-%W",
					.smtp_out_save = "Sent",
					.smtp_out_failure_receipts = "Sent/Failure" };
	CHECK_INT(store_user_config_set(u, &set, NULL, &backup, &err), ==, 0);
	CHECK(backup != NULL);
	CHECK(strstr(backup, "/tmp/config-backup-") != NULL);
	char *saved = read_text(backup);
	CHECK_STR(saved, before);	/* byte for byte the old file */
	CHECK_INT(store_user_config_get(u, &cfg, NULL), ==, 0);
	CHECK_STR(cfg.internal_pattern, "in-%Y");
	CHECK_STR(cfg.external_pattern, "ex-%Y-%W");
	CHECK_STR(cfg.smtp_out_save, "Sent");
	CHECK_STR(cfg.smtp_out_success_receipts, "");
	CHECK_STR(cfg.smtp_out_failure_receipts, "Sent/Failure");
	CHECK_INT(cfg.password_changed, ==, 0);
	store_user_config_free(&cfg);
	free(backup);
	backup = NULL;

	/* A bad value changes nothing and leaves no backup. */
	int backups = count_backups();
	struct account_settings bad = { .smtp_out_save = "Drafts", .external_pattern = "../x" };
	CHECK_INT(store_user_config_set(u, &bad, NULL, &backup, &err), ==, -EINVAL);
	CHECK(err != NULL);
	free(err);
	err = NULL;
	CHECK(backup == NULL);
	CHECK_INT(count_backups(), ==, backups);
	CHECK_INT(store_user_config_get(u, &cfg, NULL), ==, 0);
	CHECK_STR(cfg.smtp_out_save, "Sent");
	store_user_config_free(&cfg);

	/* After a change of settings alone the cache holds no password: the
	 * next login pays Argon2 once, then hits the cache again. */
	struct store_stats stats;
	store_get_stats(st, &stats);
	uint64_t runs = stats.argon_runs;
	CHECK_INT(try_login(st, ST_PASSWORD), ==, 0);
	CHECK_INT(try_login(st, ST_PASSWORD), ==, 0);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, runs + 1);
	free(saved);
	free(before);
	store_logout(&u);
	store_shutdown(&st);
}

STORE_TEST(password_set_from_the_master_key)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	struct store_user_config cfg;
	struct store_stats stats;
	char *backup = NULL, *err = NULL;
	static const char text[] = "Subject: kept\r\n\r\nstill here\r\n";
	struct meta_appended a = st_append(u, "INBOX", TEXT(text), 0);
	int64_t t0 = (int64_t)time(NULL);

	CHECK_INT(store_user_config_set(u, &no_settings, "", NULL, NULL), ==, -EINVAL);
	CHECK_INT(store_user_config_set(u, &no_settings, "new secret", &backup, &err), ==, 0);
	CHECK(backup != NULL);
	CHECK_INT(store_user_config_get(u, &cfg, NULL), ==, 0);
	CHECK(cfg.password_changed >= t0 && cfg.password_changed <= (int64_t)time(NULL));
	store_user_config_free(&cfg);

	/* The cache knows the new password only, without another Argon2. */
	store_get_stats(st, &stats);
	uint64_t runs = stats.argon_runs;
	CHECK_INT(try_login(st, "new secret"), ==, 0);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, runs);
	CHECK_INT(try_login(st, ST_PASSWORD), ==, -EACCES);

	/* From scratch (user closed): Argon2 agrees, the mail opens. */
	store_logout(&u);
	CHECK_INT(store_close_idle(st), ==, 1);
	CHECK_INT(try_login(st, ST_PASSWORD), ==, -EACCES);
	u = st_login(st, "new secret");
	uint8_t *data;
	size_t len;
	CHECK_INT(st_read(u, st_mailbox(u, "INBOX"), a.uid, &data, &len), ==, 0);
	CHECK_INT(len, ==, sizeof(text) - 1);
	CHECK_MEM(data, text, len);
	free(data);

	/* Putting the backup back restores the old password (manual:
	 * "Password Resets"), and its never-changed date. */
	copy_file(backup, TEST_STR("%s/user.toml", st_dir));
	CHECK_INT(try_login(st, "new secret"), ==, -EACCES);
	CHECK_INT(try_login(st, ST_PASSWORD), ==, 0);
	CHECK_INT(store_user_config_get(u, &cfg, NULL), ==, 0);
	CHECK_INT(cfg.password_changed, ==, 0);
	store_user_config_free(&cfg);
	free(backup);
	store_logout(&u);
	store_shutdown(&st);
}

/* The directory now holds another account (swapped by hand while the user
 * was open): our master key must not go into its user.toml. */
STORE_TEST(password_refused_when_the_account_changed)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	char *err = NULL, *backup = NULL;

	CHECK_INT(account_create(st_users, "other", "other password", &st_cheap, NULL, &err), ==,
		  0);
	CHECK_INT(rename(st_dir, TEST_STR("%s/aside", st_users)), ==, 0);
	CHECK_INT(rename(TEST_STR("%s/other", st_users), st_dir), ==, 0);
	char *before = read_text(TEST_STR("%s/user.toml", st_dir));
	int backups = count_backups();
	CHECK_INT(store_user_config_set(u, &no_settings, "hijack", &backup, &err), ==, -ESTALE);
	CHECK(err != NULL && strstr(err, "changed") != NULL);
	free(err);
	CHECK(backup == NULL);
	char *after = read_text(TEST_STR("%s/user.toml", st_dir));
	CHECK_STR(after, before);
	CHECK_INT(count_backups(), ==, backups);
	free(before);
	free(after);
	store_logout(&u);
	store_shutdown(&st);
}

static char *config_with_changed(const char *value)
{
	char *text = read_text(TEST_STR("%s/user.toml", st_dir));
	char *at = strstr(text, "\n[keys]");
	CHECK(at != NULL);
	*at = '\0';
	char *out = xasprintf("%s\npassword_changed = \"%s\"\n%s", text, value, at + 1);
	free(text);
	return out;
}

TEST(password_changed_is_strict)
{
	static const char *const bad[] = {
		"2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-23 10:00:00Z",
		"2026-11-23T10:00:00",	"26-11-23T10:00:00Z",	"2026-11-23T10:00:00Z ",
		"",
	};
	struct account_config cfg;
	char *err = NULL;

	st_fresh_user();
	char *good = config_with_changed("2026-11-23T10:00:00Z");
	CHECK_INT(account_config_parse("t", good, strlen(good), &cfg, &err), ==, 0);
	CHECK_INT(cfg.password_changed, ==, 1795428000);
	struct buf out = BUF_INIT(0);
	CHECK_INT(account_config_format(&cfg, &out), ==, 0);
	CHECK(strstr(out.data, "password_changed = \"2026-11-23T10:00:00Z\"\n") != NULL);
	buf_free(&out);
	account_config_free(&cfg);
	free(good);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = config_with_changed(bad[i]);
		err = NULL;
		CHECK_INT(account_config_parse("t", text, strlen(text), &cfg, &err), ==, -EINVAL);
		CHECK(err != NULL && strstr(err, "password_changed") != NULL);
		free(err);
		free(text);
	}
	userdir_remove_tree(st_root);
}

STORE_TEST(purge_removes_expunged_files_now)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	int64_t inbox = st_mailbox(u, "INBOX"), keep;
	struct meta_uids gone;
	struct meta_copy_result cr;
	uint64_t modseq;
	struct store_message *msg;

	CHECK_INT(store_create(u, "Keep", NULL, &keep, NULL), ==, 0);
	st_append(u, "INBOX", TEXT("Subject: 1\r\n\r\n"), META_FLAG_DELETED);
	st_append(u, "INBOX", TEXT("Subject: 2\r\n\r\n"), META_FLAG_DELETED);
	st_append(u, "INBOX", TEXT("Subject: 3\r\n\r\n"), 0);
	st_append(u, "Keep", TEXT("Subject: k\r\n\r\n"), META_FLAG_DELETED);
	struct meta_uid_range two = { 2, 2 };
	CHECK_INT(store_copy(u, inbox, &two, 1, keep, &cr, NULL), ==, 0);
	meta_copy_result_free(&cr);
	CHECK_INT(store_purge(u, inbox, NULL), ==, 0);
	CHECK_INT(store_expunge(u, inbox, NULL, 0, 0, &gone, &modseq, NULL), ==, 0);
	CHECK_INT(gone.n, ==, 2);
	meta_uids_free(&gone);
	CHECK_INT(store_expunge(u, keep, &(struct meta_uid_range){ 1, 1 }, 1, 0, &gone, &modseq,
				NULL), ==, 0);
	CHECK_INT(gone.n, ==, 1);
	meta_uids_free(&gone);
	CHECK_INT(store_message_open(u, inbox, 1, &msg, NULL), ==, 0);	/* the 24-hour rule */
	store_message_close(&msg);

	/* Only message 1 is gone everywhere and named by INBOX's log. */
	CHECK_INT(store_purge(u, inbox, NULL), ==, 1);
	CHECK_INT(store_message_open(u, inbox, 1, &msg, NULL), ==, -ENOENT);
	CHECK_INT(store_purge(u, inbox, NULL), ==, 0);
	uint8_t *data;
	size_t len;
	CHECK_INT(st_read(u, keep, 2, &data, &len), ==, 0);	/* the copy of 2 */
	CHECK_INT(len, ==, 14);
	free(data);
	CHECK_INT(store_purge(u, keep, NULL), ==, 1);
	CHECK_INT(store_purge(u, keep, NULL), ==, 0);
	CHECK_INT(store_purge(u, 0, NULL), ==, -EINVAL);
	store_logout(&u);
	store_shutdown(&st);
}

int main(int argc, char **argv)
{
	return st_main(argc, argv, "test-store-config");
}
