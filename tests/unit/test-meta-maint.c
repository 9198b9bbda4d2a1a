/* Tests of storage/meta.h, maintenance: the 24-hour purge rule (with an
 * injected clock), missing files, backup and restore, nothing readable on
 * disk, and a 100,000-message mailbox. */
#include "tests/unit/meta-test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>

#define DAY META_PURGE_DELAY

static bool files_has(const struct meta_files *f, const char *file)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i], file) == 0)
			return true;
	return false;
}

static int64_t add_append(struct meta *m, int64_t mailbox, const char *file, uint32_t *uid_r)
{
	int64_t msg;
	MT_OK(meta_add_message(m, file, 10, NULL, 0, &msg, NULL));
	struct meta_append_req req = { msg, META_FLAG_DELETED, NULL, 0, 0, 0 };
	struct meta_appended a;
	MT_OK(meta_append(m, mailbox, &req, &a, NULL));
	*uid_r = a.uid;
	return msg;
}

static size_t purgeable_n(struct meta *m, int64_t now, struct meta_files *f)
{
	MT_OK(meta_purgeable(m, now, 100, f, NULL));
	return f->n;
}

META_TEST(purge_after_24_hours)
{
	struct meta *m = mt_open();
	const int64_t t0 = 1000000000, t1 = t0 + 100;
	int64_t inbox = mt_id(m, "INBOX"), archive = mt_id(m, "Archive");
	mt_use_clock(m, t0);
	uint32_t ua, ub;
	int64_t a = add_append(m, inbox, "a", &ua);
	int64_t b = add_append(m, inbox, "b", &ub);
	struct meta_uid_range rb = { ub, ub };
	struct meta_copy_result cr;
	MT_OK(meta_copy(m, inbox, &rb, 1, archive, &cr, NULL));
	meta_copy_result_free(&cr);
	int64_t c;
	MT_OK(meta_add_message(m, "c", 10, NULL, 0, &c, NULL));	/* not appended yet */

	mt_use_clock(m, t1);
	struct meta_uids u;
	uint64_t ms;
	MT_OK(meta_expunge(m, inbox, NULL, 0, 0, &u, &ms, NULL));
	CHECK_INT(u.n, ==, 2);
	meta_uids_free(&u);

	struct meta_files f;
	CHECK_INT(purgeable_n(m, t1 + DAY - 1, &f), ==, 0);
	meta_files_free(&f);
	/* b still lives in Archive, c was never placed: only a. */
	CHECK_INT(purgeable_n(m, t1 + 100 * DAY, &f), ==, 1);
	CHECK_STR(f.v[0], "a");
	CHECK_INT(f.ids[0], ==, a);
	/* c is for the store to bring into INBOX, as an orphan. */
	struct meta_files un;
	MT_OK(meta_unplaced(m, t0 - 1, 10, &un, NULL));
	CHECK_INT(un.n, ==, 0);
	meta_files_free(&un);
	MT_OK(meta_unplaced(m, t0, 10, &un, NULL));
	CHECK_INT(un.n, ==, 1);
	CHECK_STR(un.v[0], "c");
	CHECK_INT(un.ids[0], ==, c);
	meta_files_free(&un);
	struct meta_append_req req = { c, 0, NULL, 0, 0, 0 };
	struct meta_appended ac;
	MT_OK(meta_append(m, inbox, &req, &ac, NULL));
	MT_OK(meta_unplaced(m, t1, 10, &un, NULL));
	CHECK_INT(un.n, ==, 0);
	meta_files_free(&un);

	/* Within the 24 hours a session that missed the expunge reads it. */
	struct meta_message_info info;
	MT_OK(meta_lookup(m, inbox, ua, &info, NULL));
	CHECK(info.expunged);
	CHECK_INT(info.expunged_at, ==, t1);
	meta_message_info_free(&info);

	/* The store unlinks, then forgets; listing twice is harmless. */
	meta_files_free(&f);
	CHECK_INT(purgeable_n(m, t1 + DAY, &f), ==, 1);
	CHECK_INT(meta_forget(m, f.ids, f.n, NULL), ==, 1);
	CHECK_INT(meta_forget(m, f.ids, f.n, NULL), ==, 0);
	meta_files_free(&f);
	CHECK_INT(meta_lookup(m, inbox, ua, &info, NULL), ==, -ENOENT);
	MT_OK(meta_message_files(m, &f, NULL));
	CHECK_INT(f.n, ==, 2);
	CHECK_STR(f.v[0], "b");
	CHECK_STR(f.v[1], "c");
	meta_files_free(&f);
	/* The expunge log outlives the message. */
	struct meta_changes ch;
	MT_OK(meta_changes(m, inbox, 0, &ch, NULL));
	CHECK_INT(ch.expunged.n, ==, 2);
	meta_changes_free(&ch);

	/* b goes once its last instance has been gone a day. */
	const int64_t t2 = t1 + 5 * DAY;
	mt_use_clock(m, t2);
	MT_OK(meta_expunge(m, archive, NULL, 0, META_EXPUNGE_ANY, &u, &ms, NULL));
	meta_uids_free(&u);
	CHECK_INT(purgeable_n(m, t2 + DAY - 1, &f), ==, 0);
	meta_files_free(&f);
	CHECK_INT(purgeable_n(m, t2 + DAY, &f), ==, 1);
	CHECK_INT(f.ids[0], ==, b);
	CHECK_INT(meta_forget(m, f.ids, f.n, NULL), ==, 1);
	meta_files_free(&f);

	MT_OK(meta_check(m, NULL));
	meta_close(&m);
}

/* Deleting a mailbox starts the clock of its messages. */
META_TEST(purge_after_mailbox_delete)
{
	struct meta *m = mt_open();
	struct meta_files f;
	uint32_t ud;
	const int64_t t3 = 1000000000;
	mt_use_clock(m, t3 - 10 * DAY);
	MT_OK(meta_create(m, "Box", NULL, NULL, NULL));
	int64_t d = add_append(m, mt_id(m, "Box"), "d", &ud);
	CHECK_INT(purgeable_n(m, t3, &f), ==, 0);
	meta_files_free(&f);
	mt_use_clock(m, t3);
	MT_OK(meta_delete(m, "Box", NULL));
	CHECK_INT(purgeable_n(m, t3 + DAY - 1, &f), ==, 0);
	meta_files_free(&f);
	CHECK_INT(purgeable_n(m, t3 + DAY, &f), ==, 1);
	CHECK_INT(f.ids[0], ==, d);
	meta_files_free(&f);
	MT_OK(meta_check(m, NULL));
	meta_close(&m);
}

META_TEST(missing_files)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	uint32_t uid;
	add_append(m, inbox, "x/lost", &uid);
	add_append(m, inbox, "x/kept", &uid);
	MT_OK(meta_set_missing(m, "x/lost", true, NULL));
	CHECK_INT(meta_set_missing(m, "x/never", true, NULL), ==, -ENOENT);
	CHECK_INT(meta_set_missing(m, "../x", true, NULL), ==, -EINVAL);
	struct meta_message_info info;
	MT_OK(meta_lookup(m, inbox, 1, &info, NULL));
	CHECK(info.missing);
	meta_message_info_free(&info);
	struct meta_loc *locs;
	size_t n;
	MT_OK(meta_missing_instances(m, &locs, &n, NULL));
	CHECK_INT(n, ==, 1);
	CHECK_INT(locs[0].mailbox, ==, inbox);
	CHECK_INT(locs[0].uid, ==, 1);
	free(locs);
	MT_OK(meta_set_missing(m, "x/lost", false, NULL));
	MT_OK(meta_missing_instances(m, &locs, &n, NULL));
	CHECK_INT(n, ==, 0);
	free(locs);
	struct meta_files f;
	MT_OK(meta_message_files(m, &f, NULL));
	CHECK_INT(f.n, ==, 2);
	CHECK(files_has(&f, "x/kept") && files_has(&f, "x/lost"));
	meta_files_free(&f);
	meta_close(&m);
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	CHECK(in && out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		CHECK_INT(fwrite(buf, 1, n, out), ==, n);
	fclose(in);
	CHECK_INT(fclose(out), ==, 0);
}

static bool exists_with(const char *path, const char *suffix)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s%s", path, suffix);
	return access(buf, F_OK) == 0;
}

META_TEST(backup_and_restore)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	static const char *const kw[] = { "$Saved" };
	mt_append_kw(m, inbox, META_FLAG_SEEN, kw, 1);
	mt_append(m, inbox, 0);
	MT_OK(meta_create(m, "Before/Child", NULL, NULL, NULL));
	MT_OK(meta_subscribe(m, "Before", NULL));
	struct meta_status st = mt_status(m, "INBOX");

	char backups[128], dest[192];
	snprintf(backups, sizeof(backups), "%s/backups", mt_dir);
	CHECK_INT(mkdir(backups, 0700), ==, 0);
	snprintf(dest, sizeof(dest), "%s/meta-1.sqlite", backups);
	const char *err = NULL;
	CHECK_INT(meta_backup(m, dest, &err), ==, 0);
	MT_OK(meta_backup(m, dest, NULL));	/* replaces the old one */
	CHECK(!exists_with(dest, "-wal") && !exists_with(dest, ".tmp"));

	/* Changes after the backup are lost by the restore. */
	MT_OK(meta_create(m, "After", NULL, NULL, NULL));
	mt_append(m, inbox, 0);
	MT_OK(meta_begin(m));
	CHECK_INT(meta_backup(m, dest, NULL), ==, -EINVAL);
	meta_rollback(m);
	meta_close(&m);

	copy_file(dest, mt_path);
	char aux[192];
	snprintf(aux, sizeof(aux), "%s-wal", mt_path);
	CHECK(unlink(aux) == 0 || errno == ENOENT);
	snprintf(aux, sizeof(aux), "%s-shm", mt_path);
	CHECK(unlink(aux) == 0 || errno == ENOENT);

	m = mt_open();
	MT_OK(meta_check(m, NULL));
	struct meta_status back = mt_status(m, "INBOX");
	CHECK_INT(back.messages, ==, 2);
	CHECK_INT(back.uidnext, ==, st.uidnext);
	CHECK_INT(back.highest_modseq, ==, st.highest_modseq);
	CHECK_INT(back.uidvalidity, ==, st.uidvalidity);
	CHECK_STR(back.object_id, st.object_id);
	CHECK_INT(mt_status(m, "Before/Child").messages, ==, 0);
	CHECK_INT(meta_status(m, "After", 0, &back, NULL), ==, -ENOENT);
	struct meta_snapshot snap;
	MT_OK(meta_snapshot(m, "INBOX", &snap, NULL));
	CHECK_INT(snap.n_keywords, ==, 1);
	CHECK_STR(snap.keywords[0], "$Saved");
	CHECK_INT(snap.msgs.v[0].kw_n, ==, 1);
	meta_snapshot_free(&snap);
	struct meta_mailbox_list l;
	uint32_t attrs;
	MT_OK(meta_list(m, true, &l, NULL));
	CHECK(mt_listed(&l, "Before", &attrs, NULL));
	CHECK_INT(attrs, ==, META_MBOX_SUBSCRIBED | META_MBOX_HAS_CHILDREN);
	meta_mailbox_list_free(&l);
	/* Work goes on in the restored database. */
	mt_append(m, inbox, 0);
	meta_close(&m);

	/* The backup opens by itself too, and only under its key. */
	struct meta *b = NULL;
	MT_OK(meta_open(dest, mt_key, false, &b, NULL));
	CHECK_INT(mt_status(b, "INBOX").messages, ==, 2);
	meta_close(&b);
	uint8_t other[META_KEY_LEN] = { 1 };
	CHECK_INT(meta_open(dest, other, false, &b, NULL), ==, -EACCES);
}

/* Fails the test if any file under dir holds marker. */
static void scan_dir(const char *dir, const char *marker)
{
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat sb;
		CHECK_INT(stat(path, &sb), ==, 0);
		if (S_ISDIR(sb.st_mode)) {
			scan_dir(path, marker);
			continue;
		}
		FILE *f = fopen(path, "rb");
		CHECK(f != NULL);
		char *data = malloc((size_t)sb.st_size + 1);
		size_t n = fread(data, 1, (size_t)sb.st_size, f);
		fclose(f);
		if (memmem(data, n, marker, strlen(marker)))
			test_fail(__FILE__, __LINE__, "%s holds \"%s\" in the clear", path, marker);
		free(data);
	}
	closedir(d);
}

META_TEST(nothing_in_the_clear)
{
	static const char *const markers[] = {
		"SEALMARK-mbox-7f3a", "SEALMARK-kw-7f3a", "SEALMARK-file-7f3a", "SEALMARK-sub-7f3a",
		"SEALMARK-hdr-7f3a",
	};
	struct meta *m = mt_open();
	MT_OK(meta_create(m, "Projects/SEALMARK-mbox-7f3a", NULL, NULL, NULL));
	MT_OK(meta_subscribe(m, "SEALMARK-sub-7f3a", NULL));
	int64_t msg;
	MT_OK(meta_add_message(m, "SEALMARK-file-7f3a", 10, "k", 1, &msg, NULL));
	const char *const kw[] = { markers[1] };
	struct meta_append_req req = { msg, 0, kw, 1, 0, 0 };
	struct meta_appended a;
	MT_OK(meta_append(m, mt_id(m, "Projects/SEALMARK-mbox-7f3a"), &req, &a, NULL));
	static const char hdr[] = "Subject: SEALMARK-hdr-7f3a\r\n\r\n";
	struct meta_header_put hp = { msg, 10, -1, hdr, sizeof(hdr) - 1 };
	CHECK_INT(meta_headers_put(m, &hp, 1, NULL), ==, 1);
	char dest[192];
	snprintf(dest, sizeof(dest), "%s/backup.sqlite", mt_dir);
	MT_OK(meta_backup(m, dest, NULL));
	char wal[192];
	snprintf(wal, sizeof(wal), "%s-wal", mt_path);
	CHECK(access(wal, F_OK) == 0);	/* the WAL is scanned while it holds the data */
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		scan_dir(mt_dir, markers[i]);
	meta_close(&m);
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		scan_dir(mt_dir, markers[i]);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The SELECT of a large mailbox must stay well under a second; the times
 * are printed for the record, not asserted (machines differ). */
META_TEST(snapshot_of_100k_messages)
{
	enum { N = 100000 };
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	static const char *const kw[] = { "$Forwarded", "Work" };
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	MT_OK(meta_begin(m));
	for (int i = 0; i < N; i++)
		mt_append_kw(m, inbox, i % 3 ? META_FLAG_SEEN : 0, kw, (size_t)(i % 3));
	MT_OK(meta_commit(m));
	double t_append = seconds_since(&t0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct meta_snapshot snap;
	MT_OK(meta_snapshot(m, "INBOX", &snap, NULL));
	double t_snap = seconds_since(&t0);
	CHECK_INT(snap.msgs.n, ==, N);
	for (size_t i = 0; i < N; i++)
		CHECK_INT(snap.msgs.v[i].uid, ==, i + 1);
	CHECK_INT(snap.msgs.v[N - 1].kw_n, ==, (N - 1) % 3);
	uint64_t seen = snap.highest_modseq;
	meta_snapshot_free(&snap);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct meta_status st = mt_status(m, "INBOX");
	double t_status = seconds_since(&t0);
	CHECK_INT(st.messages, ==, N);
	CHECK_INT(st.unseen, ==, (N + 2) / 3);

	struct meta_uid_range all = { 1, META_UID_MAX };
	struct meta_store_req req = { META_STORE_ADD, META_FLAG_FLAGGED, NULL, 0,
				      META_UNCHANGED_ANY };
	struct meta_store_result sr;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	MT_OK(meta_store(m, inbox, &all, 1, &req, &sr, NULL));
	double t_store = seconds_since(&t0);
	CHECK_INT(sr.changed.n, ==, N);
	meta_store_result_free(&sr);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct meta_changes ch;
	MT_OK(meta_changes(m, inbox, seen, &ch, NULL));
	double t_changes = seconds_since(&t0);
	CHECK_INT(ch.msgs.n, ==, N);
	meta_changes_free(&ch);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	MT_OK(meta_changes(m, inbox, seen + 1, &ch, NULL));
	double t_poll = seconds_since(&t0);
	CHECK_INT(ch.msgs.n, ==, 0);
	meta_changes_free(&ch);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct meta_message_info info;
	for (uint32_t uid = 1; uid <= N; uid += 97) {
		MT_OK(meta_lookup(m, inbox, uid, &info, NULL));
		meta_message_info_free(&info);
	}
	double t_lookup = seconds_since(&t0) / ((N + 96) / 97);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct meta_fetch_list fl;
	MT_OK(meta_fetch(m, inbox, &all, 1, &fl, NULL));
	double t_fetch = seconds_since(&t0);
	CHECK_INT(fl.n, ==, N);
	meta_fetch_list_free(&fl);
	fprintf(stderr,
		"  100k messages: append (one transaction) %.2f s, snapshot %.3f s,"
		" status %.3f s, store 1:* %.2f s, changes (all) %.3f s, poll %.6f s,"
		" lookup %.1f us, fetch 1:* %.3f s\n",
		t_append, t_snap, t_status, t_store, t_changes, t_poll, t_lookup * 1e6, t_fetch);
	meta_close(&m);
	struct stat sb;
	CHECK_INT(stat(mt_path, &sb), ==, 0);
	fprintf(stderr, "  database file after close: %.1f MB\n", (double)sb.st_size / 1e6);
}
