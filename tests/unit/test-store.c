/* Unit tests of storage/store*.c, part 1: login and its cache, password
 * change and the config backup, aliases and disabled users, appends read
 * back, the metadata wrappers, and change notification (IDLE). */
#include "tests/unit/test-store.h"

#include <stdio.h>

static void copy_file(const char *from, const char *to)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	CHECK_INT(system(cmd), ==, 0);
}

static int try_login(struct store *st, const char *name, const char *password)
{
	struct store_user *u = NULL;
	char *err = NULL;
	int r = store_login(st, name, password, &u, &err);
	free(err);
	store_logout(&u);
	return r;
}

static void check_message(struct store_user *u, int64_t mbox, uint32_t uid, const void *want,
			  size_t len)
{
	uint8_t *data;
	size_t got;
	CHECK_INT(st_read(u, mbox, uid, &data, &got), ==, 0);
	CHECK_INT(got, ==, len);
	CHECK_MEM(data, want, len);
	free(data);
}

STORE_TEST(login_round_trips)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	char *backup = NULL, *err = NULL;
	static const char text[] = "Subject: hello\r\n\r\nold mail\r\n";

	CHECK_INT(try_login(st, "u", "wrong"), ==, -EACCES);
	CHECK_INT(try_login(st, "nobody", ST_PASSWORD), ==, -EACCES);
	struct store_user *u = st_login(st, ST_PASSWORD);
	struct meta_appended a = st_append(u, "INBOX", text, sizeof(text) - 1, META_FLAG_SEEN);
	CHECK_INT(a.uid, ==, 1);
	CHECK_INT(store_change_password(u, "wrong", "new password", NULL, &err), ==, -EACCES);
	free(err);
	err = NULL;
	CHECK_INT(store_change_password(u, ST_PASSWORD, "new password", &backup, &err), ==, 0);
	CHECK(backup != NULL);
	/* While the user is open, the cache knows the new password only. */
	CHECK_INT(try_login(st, "u", ST_PASSWORD), ==, -EACCES);
	CHECK_INT(try_login(st, "u", "new password"), ==, 0);
	store_logout(&u);
	CHECK_INT(store_close_idle(st), ==, 1);

	CHECK_INT(try_login(st, "u", ST_PASSWORD), ==, -EACCES);
	u = st_login(st, "new password");
	check_message(u, st_mailbox(u, "INBOX"), a.uid, text, sizeof(text) - 1);

	/* Restoring the backup brings the old password back, even while the
	 * user is open with the new one cached. */
	char path[256];
	snprintf(path, sizeof(path), "%s/user.toml", st_dir);
	copy_file(backup, path);
	CHECK_INT(try_login(st, "u", "new password"), ==, -EACCES);
	struct store_user *u2 = st_login(st, ST_PASSWORD);
	CHECK(u2 == u);
	check_message(u2, st_mailbox(u2, "INBOX"), a.uid, text, sizeof(text) - 1);
	store_logout(&u2);
	store_logout(&u);
	free(backup);
	store_shutdown(&st);
}

STORE_TEST(login_cache_skips_argon_but_wrong_passwords_pay)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_stats stats;

	struct store_user *u = st_login(st, ST_PASSWORD);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, 1);
	struct store_user *u2 = st_login(st, ST_PASSWORD);
	CHECK(u2 == u);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, 1);
	CHECK_INT(stats.cache_hits, ==, 1);
	CHECK_INT(try_login(st, "u", "Correct horse battery staple"), ==, -EACCES);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, 2);
	/* Unknown users cost an Argon2 run too. */
	CHECK_INT(try_login(st, "ghost", ST_PASSWORD), ==, -EACCES);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, 3);

	/* All sessions gone: the cache lifetime still spares Argon2. */
	store_logout(&u);
	store_logout(&u2);
	u = st_login(st, ST_PASSWORD);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, 3);
	CHECK_INT(stats.cache_hits, ==, 2);
	CHECK_INT(stats.users_open, ==, 1);
	store_logout(&u);
	CHECK_INT(store_close_idle(st), ==, 1);
	store_get_stats(st, &stats);
	CHECK_INT(stats.users_open, ==, 0);
	u = st_login(st, ST_PASSWORD);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, 4);
	store_logout(&u);
	store_shutdown(&st);
}

STORE_TEST(cache_lifetime_closes_the_user)
{
	struct store_settings s = st_settings();
	struct store_stats stats;

	s.login_cache_ms = 50;
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	store_logout(&u);
	store_get_stats(st, &stats);
	CHECK_INT(stats.users_open, ==, 1);
	coro_sleep(200);
	store_get_stats(st, &stats);
	CHECK_INT(stats.users_open, ==, 0);
	u = st_login(st, ST_PASSWORD);
	store_get_stats(st, &stats);
	CHECK_INT(stats.argon_runs, ==, 2);
	store_logout(&u);
	store_shutdown(&st);
}

STORE_TEST(aliases_share_the_user_and_disabled_users_fail)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	char alias[256], disabled[256];

	snprintf(alias, sizeof(alias), "%s/alias", st_users);
	CHECK_INT(symlink("u", alias), ==, 0);
	struct store_user *u = st_login(st, ST_PASSWORD), *v = NULL;
	CHECK_INT(store_login(st, "alias", ST_PASSWORD, &v, NULL), ==, 0);
	CHECK(u == v);
	CHECK_STR(store_user_dir(u), store_user_dir(v));
	store_logout(&v);
	store_logout(&u);
	CHECK_INT(store_close_idle(st), ==, 1);
	snprintf(disabled, sizeof(disabled), "%s/%%u", st_users);
	CHECK_INT(rename(st_dir, disabled), ==, 0);
	CHECK_INT(try_login(st, "u", ST_PASSWORD), ==, -EACCES);
	CHECK_INT(try_login(st, "alias", ST_PASSWORD), ==, -EACCES);
	CHECK_INT(try_login(st, "%u", ST_PASSWORD), ==, -EACCES);
	store_shutdown(&st);
}

STORE_TEST(appends_read_back_with_flags_and_appenduid)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	const char *kw[] = { "$Important", "project-x" };
	struct store_append_opts o = { .flags = META_FLAG_FLAGGED, .keywords = kw, .n_keywords = 2,
				       .internal_date = 1700000000, .internal_tz = -300 };
	struct store_append *a;
	struct meta_appended res;
	size_t sizes[] = { 0, 1, 65535, 65536, 65537, 3 * 1024 * 1024 + 7 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *data = st_pattern(sizes[i], (unsigned)i);
		CHECK_INT(store_append_begin(u, "Drafts", &o, &a, NULL), ==, 0);
		/* Written in odd pieces, to cross the buffer edges. */
		for (size_t off = 0; off < sizes[i];) {
			size_t n = sizes[i] - off < 70001 ? sizes[i] - off : 70001;
			CHECK_INT(store_append_write(a, data + off, n), ==, 0);
			off += n;
		}
		CHECK_INT(store_append_commit(&a, &res, NULL), ==, 0);
		CHECK(a == NULL);
		CHECK_INT(res.uid, ==, i + 1);
		CHECK(res.uidvalidity != 0);
		check_message(u, st_mailbox(u, "Drafts"), res.uid, data, sizes[i]);
		free(data);
	}
	struct store_message *msg;
	CHECK_INT(store_message_open(u, st_mailbox(u, "Drafts"), 2, &msg, NULL), ==, 0);
	const struct store_message_info *info = store_message_info(msg);
	CHECK_INT(info->flags, ==, META_FLAG_FLAGGED);
	CHECK_INT(info->n_keywords, ==, 2);
	CHECK_STR(info->keywords[0], "$Important");
	CHECK_STR(info->keywords[1], "project-x");
	CHECK_INT(info->internal_date, ==, 1700000000);
	CHECK_INT(info->internal_tz, ==, -300);
	CHECK(!info->stub);
	store_message_close(&msg);

	CHECK_INT(store_append_begin(u, "Nope", &o, &a, NULL), ==, -ENOENT);
	o.flags = 0x100;
	CHECK_INT(store_append_begin(u, "INBOX", &o, &a, NULL), ==, -EINVAL);
	o.flags = 0;
	CHECK_INT(store_append_begin(u, "INBOX", &o, &a, NULL), ==, 0);
	CHECK_INT(store_append_write(a, "x", 1), ==, 0);
	store_append_abort(&a);
	CHECK_INT(store_message_open(u, st_mailbox(u, "INBOX"), 1, &msg, NULL), ==, -ENOENT);
	store_logout(&u);
	store_shutdown(&st);
}

int main(int argc, char **argv)
{
	return st_main(argc, argv, "test-store");
}
