/* Unit tests of storage/store*.c, part 4: maintenance and recovery (manual:
 * Backups and Recovery). A lost meta.sqlite brings every message back into
 * INBOX at the next login; a lost file reads as a stub until it is back;
 * backups rotate; expunged files go after 24 hours (injected clock, no
 * sleeping); stale tmp/ files and young orphans are treated as the manual
 * says; messages recorded but never placed reach INBOX. */
#include "tests/unit/test-store.h"

#include <dirent.h>

#include <mbedtls/sha256.h>

#include "storage/crypto.h"

#define DAY (24 * 60 * 60)

static size_t count_dir(const char *sub)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", st_dir, sub);
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void hash(const void *data, size_t len, uint8_t out[32])
{
	CHECK_INT(mbedtls_sha256_ret(data, len, out, 0), ==, 0);
}

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* The hashes of every message of INBOX, sorted. */
static size_t inbox_hashes(struct store_user *u, uint8_t (*out)[32], size_t max)
{
	uint32_t *uids;
	size_t n = st_uids(u, "INBOX", &uids);
	int64_t inbox = st_mailbox(u, "INBOX");
	CHECK(n <= max);
	for (size_t i = 0; i < n; i++) {
		uint8_t *data;
		size_t len;
		CHECK_INT(st_read(u, inbox, uids[i], &data, &len), ==, 0);
		hash(data, len, out[i]);
		free(data);
	}
	free(uids);
	qsort(out, n, 32, cmp_hash);
	return n;
}

STORE_TEST(a_lost_meta_sqlite_brings_every_message_back_to_inbox)
{
	struct store_settings s = st_settings();
	uint8_t want[8][32], got[16][32];
	char cmd[1024];

	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	CHECK_INT(store_create(u, "Old", NULL, NULL, NULL), ==, 0);
	for (unsigned i = 0; i < 8; i++) {
		size_t len = 1000 + i * 5000;
		uint8_t *data = st_pattern(len, i + 7);
		if (i < 3)
			st_append(u, i ? "Old" : "INBOX", data, len, META_FLAG_SEEN);
		else
			st_deliver_offline(data, len, i == 3 ? NULL : "Old");
		if (i == 5)
			CHECK_INT(store_deliveries_arrived(st, "u"), ==, 3);
		hash(data, len, want[i]);
		free(data);
	}
	store_logout(&u);
	store_shutdown(&st);
	/* Two deliveries are still pending; meta.sqlite goes. */
	snprintf(cmd, sizeof(cmd), "rm -f %s/meta.sqlite %s/meta.sqlite-wal %s/meta.sqlite-shm",
		 st_dir, st_dir, st_dir);
	CHECK_INT(system(cmd), ==, 0);

	st = st_store(&s);
	u = st_login(st, ST_PASSWORD);
	int64_t id;
	CHECK_INT(store_mailbox_find(u, "Old", &id, NULL), ==, -ENOENT);	/* pending: INBOX */
	CHECK_INT(inbox_hashes(u, got, 16), ==, 8);
	qsort(want, 8, 32, cmp_hash);
	CHECK_MEM(got, want, sizeof(want));
	struct store_stats stats;
	store_get_stats(st, &stats);
	CHECK_INT(stats.recovered, ==, 6);
	CHECK_INT(stats.imported, ==, 2);
	store_logout(&u);
	store_shutdown(&st);
}

/* The same while the daemon runs: the open user notices the new database,
 * waits for its sessions, and recovers into the new one. */
STORE_TEST(meta_sqlite_removed_while_the_user_is_open)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD), *v = NULL;
	char cmd[1024];
	uint32_t *uids;

	for (int i = 0; i < 3; i++)
		st_append(u, "Drafts", TEXT("Subject: draft\r\n\r\n"), 0);
	snprintf(cmd, sizeof(cmd), "rm -f %s/meta.sqlite %s/meta.sqlite-wal %s/meta.sqlite-shm",
		 st_dir, st_dir, st_dir);
	CHECK_INT(system(cmd), ==, 0);
	CHECK_INT(store_login(st, "u", ST_PASSWORD, &v, NULL), ==, -EAGAIN);
	CHECK(store_user_stale(u));
	st_deliver_offline(TEXT("Subject: waits\r\n\r\n"), NULL);
	CHECK_INT(store_deliveries_arrived(st, "u"), ==, 0);	/* not into the old one */
	store_logout(&u);
	u = st_login(st, ST_PASSWORD);
	CHECK(!store_user_stale(u));
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 4);
	free(uids);
	/* Once more, with no session left (the login cache holds it). */
	store_logout(&u);
	CHECK_INT(system(cmd), ==, 0);
	u = st_login(st, ST_PASSWORD);
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 4);
	free(uids);
	store_logout(&u);
	store_shutdown(&st);
}

/* The file of the only message under messages/, heap. */
static char *only_file(void)
{
	char *top = xasprintf("%s/messages", st_dir), *found = NULL;
	DIR *d = opendir(top);
	struct dirent *e;
	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *sub = xasprintf("%s/%s", top, e->d_name);
		DIR *s = opendir(sub);
		struct dirent *f;
		while (s && (f = readdir(s)) != NULL) {
			if (f->d_name[0] == '.')
				continue;
			CHECK(found == NULL);
			found = xasprintf("%s/%s", sub, f->d_name);
		}
		if (s)
			closedir(s);
		free(sub);
	}
	closedir(d);
	free(top);
	CHECK(found != NULL);
	return found;
}

static bool reads_as_stub(struct store_user *u, uint32_t uid)
{
	struct store_message *msg;
	CHECK_INT(store_message_open(u, st_mailbox(u, "INBOX"), uid, &msg, NULL), ==, 0);
	bool stub = store_message_info(msg)->stub;
	if (stub) {
		char buf[4096];
		ssize_t n = store_message_read(msg, 0, buf, sizeof(buf) - 1);
		CHECK(n > 0);
		buf[n] = '\0';
		CHECK(strstr(buf, "Subject: This message is missing from the server\r\n"));
		CHECK(strstr(buf, "\r\n\r\nThe file that holds this message is missing"));
		CHECK_INT(n, ==, store_message_info(msg)->size);
	}
	store_message_close(&msg);
	return stub;
}

STORE_TEST(a_missing_file_reads_as_a_stub_until_it_is_back)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	char moved[256];

	st_append(u, "INBOX", TEXT("Subject: kept\r\n\r\nhi\r\n"), 0);
	char *file = only_file();
	snprintf(moved, sizeof(moved), "%s/elsewhere", st_root);
	CHECK_INT(rename(file, moved), ==, 0);
	CHECK(reads_as_stub(u, 1));
	CHECK_INT(store_maintenance(u, NULL), ==, 0);	/* marks it missing */
	CHECK(reads_as_stub(u, 1));
	CHECK_INT(rename(moved, file), ==, 0);
	CHECK(reads_as_stub(u, 1));	/* still marked */
	CHECK_INT(store_maintenance(u, NULL), ==, 0);
	CHECK(!reads_as_stub(u, 1));
	free(file);
	store_logout(&u);
	store_shutdown(&st);
}

static void relogin(struct store *st)
{
	struct store_user *u = st_login(st, ST_PASSWORD);
	store_logout(&u);
	store_close_idle(st);
}

STORE_TEST(maintenance_runs_daily_at_login_and_keeps_seven_backups)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);

	relogin(st);
	CHECK_INT(count_dir("backups"), ==, 1);
	relogin(st);
	CHECK_INT(count_dir("backups"), ==, 1);	/* once a day */
	st_clock_now += DAY - 1;
	relogin(st);
	CHECK_INT(count_dir("backups"), ==, 1);
	for (int day = 1; day <= 9; day++) {
		st_clock_now += DAY;
		relogin(st);
		CHECK_INT(count_dir("backups"), ==, day + 1 < 7 ? day + 1 : 7);
	}
	/* A deleted marker asks for a pass at the next login. */
	char marker[256];
	snprintf(marker, sizeof(marker), "%s/%s", st_dir, STORE_MAINTENANCE_MARKER);
	CHECK_INT(unlink(marker), ==, 0);
	st_clock_now += 1;
	relogin(st);
	CHECK_INT(access(marker, F_OK), ==, 0);
	store_shutdown(&st);
}

STORE_TEST(expunged_files_are_purged_after_24_hours)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	struct meta_uids gone;
	uint64_t modseq;
	int64_t inbox = st_mailbox(u, "INBOX");

	st_append(u, "INBOX", TEXT("Subject: going\r\n\r\n"), META_FLAG_DELETED);
	char *file = only_file();
	st_append(u, "INBOX", TEXT("Subject: staying\r\n\r\n"), 0);
	CHECK_INT(store_expunge(u, inbox, NULL, 0, 0, &gone, &modseq, NULL), ==, 0);
	CHECK_INT(gone.n, ==, 1);
	meta_uids_free(&gone);
	st_clock_now += DAY - 60;
	CHECK_INT(store_maintenance(u, NULL), ==, 0);
	CHECK_INT(access(file, F_OK), ==, 0);
	struct store_message *msg;
	CHECK_INT(store_message_open(u, inbox, 1, &msg, NULL), ==, 0);	/* still readable */
	CHECK(store_message_info(msg)->expunged);
	store_message_close(&msg);
	st_clock_now += 120;
	CHECK_INT(store_maintenance(u, NULL), ==, 0);
	CHECK_INT(access(file, F_OK), ==, -1);
	CHECK_INT(store_message_open(u, inbox, 1, &msg, NULL), ==, -ENOENT);
	uint8_t *data;
	size_t len;
	CHECK_INT(st_read(u, inbox, 2, &data, &len), ==, 0);
	CHECK_INT(len, ==, 20);
	free(data);
	free(file);
	store_logout(&u);
	store_shutdown(&st);
}

static void make_file(const char *name, int64_t age)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tmp/%s", st_dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "x", 1) == 1);
	struct timespec ts[2] = { { (time_t)(st_clock_now - age), 0 },
				  { (time_t)(st_clock_now - age), 0 } };
	CHECK_INT(futimens(fd, ts), ==, 0);
	close(fd);
}

STORE_TEST(stale_tmp_files_go_and_young_orphans_wait)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	char db[256];
	uint32_t *uids;

	make_file("msg.stale1", DAY + 10);
	make_file("msg.fresh1", DAY - 10);
	size_t before = count_dir("tmp");
	/* An orphan: a delivered file whose delivery.sqlite is gone. */
	st_deliver_offline(TEXT("Subject: orphan\r\n\r\n"), NULL);
	snprintf(db, sizeof(db), "%s/%s", st_dir, DELIVERY_DB_NAME);
	CHECK_INT(unlink(db), ==, 0);
	CHECK_INT(store_maintenance(u, NULL), ==, 0);
	CHECK_INT(count_dir("tmp"), ==, before - 1);
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 0);	/* too young */
	free(uids);
	st_clock_now += DELIVERY_ORPHAN_GRACE + 60;
	CHECK_INT(store_maintenance(u, NULL), ==, 0);
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 1);
	uint8_t *data;
	size_t len;
	CHECK_INT(st_read(u, st_mailbox(u, "INBOX"), uids[0], &data, &len), ==, 0);
	CHECK_INT(len, ==, 19);
	CHECK_MEM(data, "Subject: orphan\r\n\r\n", 19);
	free(data);
	free(uids);
	store_logout(&u);
	store_shutdown(&st);
}

/* A message recorded in meta.sqlite but never placed (a crash between the
 * two) reaches INBOX; its file being absent, it reads as a stub. */
STORE_TEST(unplaced_messages_reach_inbox)
{
	struct store_settings s = st_settings();
	uint8_t master[ACCOUNT_KEY_LEN], key[META_KEY_LEN];
	char path[256];
	struct meta *m;
	int64_t id;

	s.no_maintenance = true;
	struct store *st = st_store(&s);
	relogin(st);	/* creates meta.sqlite */
	CHECK_INT(account_login(st_dir, ST_PASSWORD, master, NULL), ==, 0);
	CHECK_INT(crypto_derive(master, CRYPTO_LABEL_METADATA_DB, NULL, 0, key, sizeof(key)), ==, 0);
	snprintf(path, sizeof(path), "%s/meta.sqlite", st_dir);
	CHECK_INT(meta_open(path, key, false, &m, NULL), ==, 0);
	/* The store's clock: on the wall clock, a slow machine could create
	 * the row after the store's injected now, too young to be placed. */
	meta_set_clock(m, st_clock, &st_clock_now);
	CHECK_INT(meta_add_message(m, "ab/0123456789abcdef0123456789ab", 5, NULL, 0, &id, NULL), ==, 0);
	meta_close(&m);
	struct store_user *u = st_login(st, ST_PASSWORD);
	CHECK_INT(store_maintenance(u, NULL), ==, 0);
	uint32_t *uids;
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 1);
	CHECK(reads_as_stub(u, uids[0]));
	free(uids);
	store_logout(&u);
	store_shutdown(&st);
}

int main(int argc, char **argv)
{
	return st_main(argc, argv, "test-store-maint");
}
