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

/* Reads of any size at any offset, as a MIME parser makes them: short
 * reads are allowed, wrong bytes are not. */
STORE_TEST(small_and_large_reads_at_any_offset)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	size_t len = 3 * 65536 + 1234;
	uint8_t *data = st_pattern(len, 11), *buf = xmalloc(len);
	uint32_t x = 7;

	struct meta_appended a = st_append(u, "INBOX", data, len, 0);
	struct store_message *msg;
	CHECK_INT(store_message_open(u, st_mailbox(u, "INBOX"), a.uid, &msg, NULL), ==, 0);
	for (int i = 0; i < 2000; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		uint64_t off = x % (len + 10);
		size_t want = i % 10 == 0 ? 100000 : 1 + (x >> 8) % 5000;
		ssize_t n = store_message_read(msg, off, buf, want);
		if (off >= len) {
			CHECK_INT(n, ==, 0);
			continue;
		}
		CHECK(n > 0 && (size_t)n <= want && off + (uint64_t)n <= len);
		CHECK_MEM(buf, data + off, (size_t)n);
	}
	/* In order, in 1000-byte pieces: every byte once. */
	for (uint64_t off = 0; off < len;) {
		ssize_t n = store_message_read(msg, off, buf + off, 1000);
		CHECK(n > 0);
		off += (uint64_t)n;
	}
	CHECK_MEM(buf, data, len);
	store_message_close(&msg);
	free(buf);
	free(data);
	store_logout(&u);
	store_shutdown(&st);
}

struct idle_waiter {
	struct store_user *u;
	uint64_t seen;
	uint64_t woke_ns;
	int r;
	bool done;
};

static void idle_run(void *p)
{
	struct idle_waiter *w = p;
	w->r = store_wait_change(w->u, &w->seen, coro_deadline_in(5000));
	w->woke_ns = uv_hrtime();
	w->done = true;
}

/* Starts two IDLE-like waiters, one per session. */
static void idle_start(struct idle_waiter *w, struct store_user *a, struct store_user *b)
{
	w[0] = (struct idle_waiter){ .u = a, .seen = store_change_seq(a) };
	w[1] = (struct idle_waiter){ .u = b, .seen = store_change_seq(b) };
	CHECK(coro_spawn(idle_run, &w[0], 0) && coro_spawn(idle_run, &w[1], 0));
	coro_yield();	/* both wait now */
}

/* Both waiters ran in the loop turn the change was made in (no timer, no
 * polling between), so within a millisecond of the call that made it
 * returning; the host may pause a thread for longer (this machine kind
 * shows pauses of several ms), so the clock is checked on the faster one. */
static void idle_check(struct idle_waiter *w, uint64_t t0)
{
	coro_yield();
	int64_t best = INT64_MAX;
	for (int i = 0; i < 2; i++) {
		CHECK(w[i].done);
		CHECK_INT(w[i].r, ==, 0);
		CHECK_INT(w[i].seen, ==, store_change_seq(w[i].u));
		if ((int64_t)(w[i].woke_ns - t0) < best)
			best = (int64_t)(w[i].woke_ns - t0);
	}
	CHECK_INT(best, <, 1000000);
}

STORE_TEST(idle_wakes_every_session_within_a_millisecond)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *a = st_login(st, ST_PASSWORD), *b = st_login(st, ST_PASSWORD);
	struct idle_waiter w[2];
	struct store_delivery *d;

	idle_start(w, a, b);
	st_append(b, "INBOX", TEXT("Subject: x\r\n\r\nbody\r\n"), 0);
	idle_check(w, uv_hrtime());

	idle_start(w, a, b);
	struct meta_uid_range one = { 1, 1 };
	struct meta_store_req req = { .op = META_STORE_ADD, .flags = META_FLAG_SEEN,
				      .unchanged_since = META_UNCHANGED_ANY };
	struct meta_store_result res;
	CHECK_INT(store_store(a, st_mailbox(a, "INBOX"), &one, 1, &req, &res, NULL), ==, 0);
	meta_store_result_free(&res);
	idle_check(w, uv_hrtime());

	/* A delivery while the user is logged in is taken in at once. */
	idle_start(w, a, b);
	CHECK_INT(store_deliver_begin(st, "u", NULL, &d, NULL), ==, 0);
	CHECK_INT(store_deliver_write(d, TEXT("Subject: y\r\n\r\nhi\r\n")), ==, 0);
	CHECK_INT(store_deliver_commit(&d, NULL), ==, 0);
	idle_check(w, uv_hrtime());
	uint32_t *uids;
	CHECK_INT(st_uids(a, "INBOX", &uids), ==, 2);
	free(uids);

	/* Nothing changes: the waiters time out. */
	w[0] = (struct idle_waiter){ .u = a, .seen = store_change_seq(a) };
	CHECK_INT(store_wait_change(a, &w[0].seen, coro_deadline_in(30)), ==, -ETIMEDOUT);
	store_logout(&a);
	store_logout(&b);
	store_shutdown(&st);
}

static bool listed(const struct meta_mailbox_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return true;
	return false;
}

STORE_TEST(metadata_wrappers_pass_through)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	struct meta_mailbox_list list;
	struct meta_status status;
	struct meta_copy_result cr;
	struct meta_uids gone;
	uint64_t modseq, seq = store_change_seq(u);
	int64_t id;

	CHECK_INT(store_create(u, "Work/Projects", NULL, &id, NULL), ==, 0);
	CHECK(store_change_seq(u) > seq);
	CHECK_INT(store_create(u, "Work", NULL, NULL, NULL), ==, -EEXIST);
	CHECK_INT(store_rename(u, "Work", "Job", NULL), ==, 0);
	CHECK_INT(store_subscribe(u, "Job/Projects", NULL), ==, 0);
	CHECK_INT(store_list(u, true, &list, NULL), ==, 0);
	CHECK(listed(&list, "Job") && listed(&list, "Job/Projects") && !listed(&list, "Work"));
	meta_mailbox_list_free(&list);
	CHECK_INT(store_unsubscribe(u, "Job/Projects", NULL), ==, 0);
	CHECK_INT(store_mailbox_find(u, "Job/Projects", &id, NULL), ==, 0);
	for (int i = 0; i < 3; i++)
		st_append(u, "Job/Projects", TEXT("Subject: a\r\n\r\n"),
			  i == 0 ? META_FLAG_DELETED : 0);
	CHECK_INT(store_status(u, NULL, id, &status, NULL), ==, 0);
	CHECK_INT(status.messages, ==, 3);
	CHECK_INT(status.deleted, ==, 1);
	uint32_t first, last;
	CHECK_INT(store_claim_recent(u, id, &first, &last, NULL), ==, 0);
	CHECK_INT(first, ==, 1);
	CHECK_INT(last, ==, 3);
	struct meta_uid_range all = { 1, 3 };
	struct meta_fetch_list fl;
	CHECK_INT(store_fetch(u, id, &all, 1, &fl, NULL), ==, 0);
	CHECK_INT(fl.n, ==, 3);
	meta_fetch_list_free(&fl);
	int64_t inbox = st_mailbox(u, "INBOX");
	CHECK_INT(store_copy(u, id, &all, 1, inbox, &cr, NULL), ==, 0);
	CHECK_INT(cr.n, ==, 3);
	meta_copy_result_free(&cr);
	struct meta_uid_range two = { 2, 2 };
	CHECK_INT(store_move(u, id, &two, 1, inbox, &cr, NULL), ==, 0);
	CHECK_INT(cr.n, ==, 1);
	meta_copy_result_free(&cr);
	CHECK_INT(store_expunge(u, id, NULL, 0, 0, &gone, &modseq, NULL), ==, 0);
	CHECK_INT(gone.n, ==, 1);
	CHECK_INT(gone.v[0], ==, 1);
	meta_uids_free(&gone);
	struct meta_changes ch;
	CHECK_INT(store_changes(u, id, 0, &ch, NULL), ==, 0);
	CHECK_INT(ch.msgs.n, ==, 1);
	CHECK_INT(ch.expunged.n, ==, 2);
	meta_changes_free(&ch);
	/* The expunged message stays readable (24 hours). */
	struct store_message *msg;
	CHECK_INT(store_message_open(u, id, 1, &msg, NULL), ==, 0);
	CHECK(store_message_info(msg)->expunged);
	store_message_close(&msg);

	const char *kw[] = { "Later" };
	struct meta_store_req req = { .op = META_STORE_ADD, .keywords = kw, .n_keywords = 1,
				      .unchanged_since = META_UNCHANGED_ANY };
	struct meta_store_result res;
	CHECK_INT(store_store(u, inbox, &all, 1, &req, &res, NULL), ==, 0);
	CHECK_INT(res.changed.n, ==, 3);
	char *name;
	CHECK_INT(store_keyword_name(u, res.changed.kw[res.changed.v[0].kw_off], &name), ==, 0);
	CHECK_STR(name, "Later");
	free(name);
	CHECK_INT(store_keyword_name(u, 999, &name), ==, -ENOENT);
	meta_store_result_free(&res);
	CHECK_INT(store_delete(u, "Job", NULL), ==, 0);
	CHECK_INT(store_delete(u, "INBOX", NULL), ==, -EPERM);
	store_logout(&u);
	store_shutdown(&st);
}

struct appender {
	struct store_user *u;
	unsigned id, *running;
	struct coro_event *done;
};

static void appender_run(void *p)
{
	struct appender *a = p;
	char text[64];
	for (unsigned i = 0; i < 10; i++) {
		int n = snprintf(text, sizeof(text), "Subject: %u-%u\r\n\r\n", a->id, i);
		st_append(a->u, "INBOX", text, (size_t)n, 0);
	}
	(*a->running)--;
	coro_event_notify_all(a->done);
}

/* Eight sessions append at once: the lock serialises what must be, and
 * every message gets its own UID. */
STORE_TEST(concurrent_sessions_append_without_losing_anything)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct appender a[8];
	struct coro_event done;
	unsigned running = 8;

	coro_event_init(&done);
	for (unsigned i = 0; i < 8; i++) {
		a[i] = (struct appender){ st_login(st, ST_PASSWORD), i, &running, &done };
		CHECK(coro_spawn(appender_run, &a[i], 0) != NULL);
	}
	while (running)
		coro_event_wait(&done, CORO_NO_DEADLINE);
	uint32_t *uids;
	CHECK_INT(st_uids(a[0].u, "INBOX", &uids), ==, 80);
	for (unsigned i = 0; i < 80; i++)
		CHECK_INT(uids[i], ==, i + 1);
	free(uids);
	for (unsigned i = 0; i < 8; i++)
		store_logout(&a[i].u);
	store_shutdown(&st);
}

/* A month later the external key rotates in the background at login;
 * deliveries then use the new key, and mail under both keys reads. */
STORE_TEST(external_key_rotates_in_the_background)
{
	struct store_settings s = st_settings();
	char name[KEYS_NAME_MAX + 1], before[KEYS_NAME_MAX + 1];
	uint32_t *uids;

	CHECK_INT(keys_current_external_name(st_dir, (time_t)st_clock_now, before, NULL), ==, 0);
	st_deliver_offline(TEXT("Subject: old key\r\n\r\n"), NULL);
	s.no_key_rotation = false;
	st_clock_now += 40 * 24 * 60 * 60;
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	store_logout(&u);
	store_shutdown(&st);	/* waits for the key generation */
	CHECK_INT(keys_external_needs_rotation(st_dir, (time_t)st_clock_now, name, NULL), ==, 0);
	CHECK(strcmp(name, before) != 0);
	st_deliver_offline(TEXT("Subject: new key\r\n\r\n"), NULL);
	st = st_store(&s);
	u = st_login(st, ST_PASSWORD);
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 2);
	for (int i = 0; i < 2; i++) {
		uint8_t *data;
		size_t len;
		CHECK_INT(st_read(u, st_mailbox(u, "INBOX"), uids[i], &data, &len), ==, 0);
		CHECK(memmem(data, len, i ? "new key" : "old key", 7) != NULL);
		free(data);
	}
	free(uids);
	store_logout(&u);
	store_shutdown(&st);
}

int main(int argc, char **argv)
{
	return st_main(argc, argv, "test-store");
}
