/* Tests of storage/meta.h, mailboxes: default mailboxes, name rules,
 * CREATE, DELETE, RENAME, subscriptions, UIDVALIDITY, opening, migration
 * of a database written by schema version 1. Messages
 * are in test-meta-msg.c, maintenance and backups in test-meta-maint.c. */
#include "tests/unit/meta-test.h"

#include <stdio.h>
#include <stdlib.h>

#include "src/util/xmalloc.h"

META_TEST(default_mailboxes)
{
	static const struct {
		const char *name, *use;
	} want[] = {
		{ "Archive", "\\Archive" }, { "Drafts", "\\Drafts" }, { "INBOX", NULL },
		{ "Sent", "\\Sent" },	    { "Spam", "\\Junk" },     { "Trash", "\\Trash" },
	};
	for (int round = 0; round < 2; round++) {	/* created, then reopened */
		struct meta *m = mt_open();
		struct meta_mailbox_list l;
		MT_OK(meta_list(m, true, &l, NULL));
		CHECK_INT(l.n, ==, 6);
		for (size_t i = 0; i < 6; i++) {
			CHECK_STR(l.v[i].name, want[i].name);
			CHECK_INT(l.v[i].attrs, ==, META_MBOX_SUBSCRIBED);
			CHECK(l.v[i].special_use == want[i].use ||
			      strcmp(l.v[i].special_use, want[i].use) == 0);
			CHECK_INT(l.v[i].object_id[0], ==,
				  strcmp(want[i].name, "INBOX") ? 'M' : 'I');
			CHECK_INT(strlen(l.v[i].object_id), ==, 25);
		}
		meta_mailbox_list_free(&l);
		struct meta_status st = mt_status(m, "INBOX");
		CHECK_INT(st.messages, ==, 0);
		CHECK_INT(st.uidnext, ==, 1);
		CHECK_INT(st.highest_modseq, ==, 1);
		CHECK(st.uidvalidity > 0);
		MT_OK(meta_check(m, NULL));
		meta_close(&m);
		CHECK(m == NULL);
	}
}

META_TEST(open_errors)
{
	struct meta *m = NULL;
	CHECK_INT(meta_open(mt_path, mt_key, false, &m, NULL), ==, -ENOENT);
	m = mt_open();
	meta_close(&m);
	uint8_t other[META_KEY_LEN];
	memcpy(other, mt_key, sizeof(other));
	other[0] ^= 1;
	CHECK_INT(meta_open(mt_path, other, false, &m, NULL), ==, -EACCES);
	CHECK(m == NULL);
	/* A database from a newer version is refused, not misread. */
	mt_raw_sql("UPDATE meta_info SET value = 3 WHERE name = 'schema_version'");
	CHECK_INT(META_SCHEMA_VERSION, ==, 2);
	const char *err = NULL;
	CHECK_INT(meta_open(mt_path, mt_key, false, &m, &err), ==, -EPROTONOSUPPORT);
	CHECK(err != NULL);
}

META_TEST(name_rules)
{
	static const char *const bad[] = {
		"a%b", "a*", "a\\b", "tab\there", "del\x7f", "c1\xc2\x85", "a//b", "/a", "a/",
		".hidden", "a/.b", "#news", "a/#b", "\xff", "\xc0\xaf", "rtl\xe2\x80\xae",
		"bom\xef\xbb\xbf", "sep\xe2\x80\xa8", "\xed\xa0\x80", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = NULL;
		if (meta_name_check(bad[i], &err) != -EINVAL)
			test_fail(__FILE__, __LINE__, "name %zu accepted", i);
		CHECK(err != NULL);
	}
	CHECK_INT(meta_name_check("Caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/x.y#z", NULL), ==, 0);
	char long_name[META_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name));
	long_name[META_NAME_MAX] = 0;
	CHECK_INT(meta_name_check(long_name, NULL), ==, 0);
	long_name[META_NAME_MAX] = 'a';
	long_name[META_NAME_MAX + 1] = 0;
	CHECK_INT(meta_name_check(long_name, NULL), ==, -EINVAL);
	char deep[META_NAME_DEPTH * 2 + 2];
	for (int i = 0; i < META_NAME_DEPTH; i++)
		deep[2 * i] = 'd', deep[2 * i + 1] = '/';
	deep[2 * META_NAME_DEPTH - 1] = 0;	/* 100 levels */
	CHECK_INT(meta_name_check(deep, NULL), ==, 0);
	deep[2 * META_NAME_DEPTH - 1] = '/';
	deep[2 * META_NAME_DEPTH] = 'd';
	deep[2 * META_NAME_DEPTH + 1] = 0;	/* 101 */
	CHECK_INT(meta_name_check(deep, NULL), ==, -EINVAL);

	struct meta *m = mt_open();
	CHECK_INT(meta_create(m, "bad*", NULL, NULL, NULL), ==, -EINVAL);
	CHECK_INT(meta_create(m, "inbox", NULL, NULL, NULL), ==, -EEXIST);
	CHECK_INT(meta_create(m, "INBOX/child", NULL, NULL, NULL), ==, -EPERM);
	CHECK_INT(meta_create(m, "Inbox/child", NULL, NULL, NULL), ==, -EPERM);
	CHECK_INT(meta_create(m, "All", "\\All", NULL, NULL), ==, -EPERM);
	CHECK_INT(meta_create(m, "Odd", "\\Odd", NULL, NULL), ==, -EINVAL);
	CHECK_INT(mt_id(m, "iNbOx"), ==, mt_id(m, "INBOX"));
	/* Other names are case-sensitive. */
	MT_OK(meta_create(m, "Work", "\\flagged", NULL, NULL));
	MT_OK(meta_create(m, "work", NULL, NULL, NULL));
	CHECK(mt_id(m, "Work") != mt_id(m, "work"));
	CHECK_STR(mt_status(m, "Work").special_use, "\\Flagged");
	CHECK_INT(meta_status(m, "WORK", 0, &(struct meta_status){ 0 }, NULL), ==, -ENOENT);
	meta_close(&m);
}

META_TEST(create_makes_parents)
{
	struct meta *m = mt_open();
	int64_t id;
	MT_OK(meta_create(m, "a/b/c", "\\Important", &id, NULL));
	CHECK_INT(mt_id(m, "a/b/c"), ==, id);
	struct meta_mailbox_list l;
	MT_OK(meta_list(m, false, &l, NULL));
	uint32_t attrs = 99;
	const char *use = "x";
	CHECK(mt_listed(&l, "a", &attrs, &use));
	CHECK_INT(attrs, ==, META_MBOX_HAS_CHILDREN);
	CHECK(use == NULL);
	CHECK(mt_listed(&l, "a/b", &attrs, NULL));
	CHECK_INT(attrs, ==, META_MBOX_HAS_CHILDREN);
	CHECK(mt_listed(&l, "a/b/c", &attrs, &use));
	CHECK_INT(attrs, ==, 0);
	CHECK_STR(use, "\\Important");
	meta_mailbox_list_free(&l);
	CHECK_INT(meta_create(m, "a/b", NULL, NULL, NULL), ==, -EEXIST);
	/* "a-b" sorts between "a" and "a/b" but is no child of "a". */
	MT_OK(meta_create(m, "a-b", NULL, NULL, NULL));
	MT_OK(meta_list(m, false, &l, NULL));
	CHECK(mt_listed(&l, "a-b", &attrs, NULL));
	CHECK_INT(attrs, ==, 0);
	meta_mailbox_list_free(&l);
	meta_close(&m);
}

META_TEST(delete_rules)
{
	struct meta *m = mt_open();
	MT_OK(meta_create(m, "leaf", NULL, NULL, NULL));
	MT_OK(meta_delete(m, "leaf", NULL));
	CHECK_INT(meta_delete(m, "leaf", NULL), ==, -ENOENT);
	CHECK_INT(meta_delete(m, "INBOX", NULL), ==, -EPERM);
	CHECK_INT(meta_delete(m, "inbox", NULL), ==, -EPERM);

	/* With children: messages go, the name stays as \Noselect. */
	MT_OK(meta_create(m, "p/c", NULL, NULL, NULL));
	int64_t p = mt_id(m, "p");
	mt_append(m, p, 0);
	mt_append(m, p, 0);
	MT_OK(meta_delete(m, "p", NULL));
	struct meta_status st = mt_status(m, "p");
	CHECK(st.noselect);
	CHECK(st.id != p);
	struct meta_changes ch;
	CHECK_INT(meta_changes(m, p, 0, &ch, NULL), ==, -ENOENT);
	struct meta_snapshot snap;
	CHECK_INT(meta_snapshot(m, "p", &snap, NULL), ==, -ENOENT);
	int64_t noselect = st.id;
	CHECK_INT(meta_append(m, noselect,
			      &(struct meta_append_req){ 1, 0, NULL, 0, 0, 0 },
			      &(struct meta_appended){ 0 }, NULL),
		  ==, -ENOENT);
	struct meta_mailbox_list l;
	uint32_t attrs;
	MT_OK(meta_list(m, false, &l, NULL));
	CHECK(mt_listed(&l, "p", &attrs, NULL));
	CHECK_INT(attrs, ==, META_MBOX_NOSELECT | META_MBOX_HAS_CHILDREN);
	meta_mailbox_list_free(&l);

	/* RFC 9051 6.3.5: a \Noselect name with children cannot go. */
	int64_t found = 0;
	CHECK_INT(meta_mailbox_find(m, "p", &found, NULL), ==, -ENOENT);
	MT_OK(meta_mailbox_find(m, "p/c", &found, NULL));
	CHECK_INT(found, ==, mt_id(m, "p/c"));
	CHECK_INT(meta_mailbox_find(m, "nope", &found, NULL), ==, -ENOENT);
	CHECK_INT(meta_delete(m, "p", NULL), ==, -ENOTEMPTY);
	MT_OK(meta_delete(m, "p/c", NULL));
	MT_OK(meta_delete(m, "p", NULL));
	CHECK_INT(meta_status(m, "p", 0, &st, NULL), ==, -ENOENT);
	MT_OK(meta_check(m, NULL));
	meta_close(&m);
}

META_TEST(create_over_noselect)
{
	struct meta *m = mt_open();
	MT_OK(meta_create(m, "q/r", NULL, NULL, NULL));
	struct meta_status before = mt_status(m, "q");
	MT_OK(meta_delete(m, "q", NULL));
	CHECK(mt_status(m, "q").noselect);
	int64_t id;
	MT_OK(meta_create(m, "q", NULL, &id, NULL));
	struct meta_status after = mt_status(m, "q");
	CHECK(!after.noselect);
	CHECK_INT(after.id, ==, id);
	CHECK(after.uidvalidity != before.uidvalidity);
	CHECK(strcmp(after.object_id, before.object_id) != 0);
	CHECK_INT(mt_status(m, "q/r").messages, ==, 0);
	meta_close(&m);
}

META_TEST(uidvalidity_never_reused)
{
	struct meta *m = mt_open();
	uint32_t seen[8];
	int n = 0;
	for (int i = 0; i < 3; i++) {
		MT_OK(meta_create(m, "t", NULL, NULL, NULL));
		seen[n++] = mt_status(m, "t").uidvalidity;
		MT_OK(meta_delete(m, "t", NULL));
	}
	/* A name renamed away and made again is a new mailbox too. */
	MT_OK(meta_create(m, "u", NULL, NULL, NULL));
	seen[n++] = mt_status(m, "u").uidvalidity;
	MT_OK(meta_rename(m, "u", "v", NULL));
	CHECK_INT(mt_status(m, "v").uidvalidity, ==, seen[n - 1]);
	MT_OK(meta_create(m, "u", NULL, NULL, NULL));
	seen[n++] = mt_status(m, "u").uidvalidity;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			CHECK(seen[i] != seen[j]);
	/* Seeded from the clock, and never behind it. */
	mt_use_clock(m, 4000000000LL);
	MT_OK(meta_create(m, "w", NULL, NULL, NULL));
	CHECK_INT(mt_status(m, "w").uidvalidity, ==, 4000000000LL);
	meta_close(&m);
}

META_TEST(rename_with_children)
{
	struct meta *m = mt_open();
	MT_OK(meta_create(m, "x/y/z", NULL, NULL, NULL));
	int64_t y = mt_id(m, "x/y");
	struct meta_appended a = mt_append(m, y, META_FLAG_SEEN);
	struct meta_status before = mt_status(m, "x/y");
	MT_OK(meta_rename(m, "x", "n/m", NULL));
	CHECK_INT(meta_status(m, "x", 0, &(struct meta_status){ 0 }, NULL), ==, -ENOENT);
	CHECK_INT(meta_status(m, "x/y", 0, &(struct meta_status){ 0 }, NULL), ==, -ENOENT);
	struct meta_status after = mt_status(m, "n/m/y");
	CHECK_INT(after.id, ==, y);
	CHECK_INT(after.uidvalidity, ==, before.uidvalidity);
	CHECK_STR(after.object_id, before.object_id);
	CHECK_INT(after.messages, ==, 1);
	CHECK_INT(mt_id(m, "n/m/y/z"), >, 0);
	CHECK(!mt_status(m, "n").noselect);
	struct meta_message_info info;
	MT_OK(meta_lookup(m, y, a.uid, &info, NULL));
	meta_message_info_free(&info);

	CHECK_INT(meta_rename(m, "n/m", "Trash", NULL), ==, -EEXIST);
	CHECK_INT(meta_rename(m, "n/m", "n/m/k", NULL), ==, -EINVAL);
	CHECK_INT(meta_rename(m, "n/m", "n/m", NULL), ==, -EEXIST);
	CHECK_INT(meta_rename(m, "nope", "other", NULL), ==, -ENOENT);
	CHECK_INT(meta_rename(m, "n", "INBOX/n", NULL), ==, -EPERM);
	CHECK_INT(meta_rename(m, "n", "inbox", NULL), ==, -EEXIST);
	CHECK_INT(meta_rename(m, "n", "bad%", NULL), ==, -EINVAL);
	/* Up the tree: "n/m" becomes "top", "n" stays. */
	MT_OK(meta_rename(m, "n/m", "top", NULL));
	CHECK_INT(mt_id(m, "top/y"), ==, y);
	CHECK_INT(mt_id(m, "top/y/z"), >, 0);
	CHECK(!(mt_status(m, "n").noselect));
	/* A \Noselect mailbox can be renamed. */
	MT_OK(meta_delete(m, "top", NULL));
	MT_OK(meta_rename(m, "top", "bottom", NULL));
	CHECK(mt_status(m, "bottom").noselect);
	CHECK_INT(mt_id(m, "bottom/y"), ==, y);
	MT_OK(meta_check(m, NULL));
	meta_close(&m);
}

META_TEST(rename_limits)
{
	struct meta *m = mt_open();
	char name[META_NAME_MAX + 1];
	memset(name, 'a', 1000);
	memcpy(name + 1000, "/child", 7);
	MT_OK(meta_create(m, name, NULL, NULL, NULL));
	name[1000] = 0;
	/* The child's new name would pass 1 KiB. */
	char to[1024];
	memset(to, 'b', 1020);
	to[1020] = 0;
	CHECK_INT(meta_rename(m, name, to, NULL), ==, -EINVAL);
	CHECK_INT(mt_status(m, name).id, >, 0);
	meta_close(&m);
}

META_TEST(rename_inbox)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	struct meta_status before = mt_status(m, "INBOX");
	struct meta_appended a[3];
	for (int i = 0; i < 3; i++)
		a[i] = mt_append(m, inbox, i == 1 ? META_FLAG_FLAGGED : 0);
	char email[3][META_OID_MAX + 1];
	for (int i = 0; i < 3; i++) {
		struct meta_message_info info;
		MT_OK(meta_lookup(m, inbox, a[i].uid, &info, NULL));
		strcpy(email[i], info.email_id);
		meta_message_info_free(&info);
	}
	MT_OK(meta_rename(m, "inbox", "Old/Mail", NULL));
	struct meta_status in = mt_status(m, "INBOX");
	CHECK_INT(in.id, ==, inbox);
	CHECK_INT(in.messages, ==, 0);
	CHECK_INT(in.uidvalidity, ==, before.uidvalidity);
	CHECK_STR(in.object_id, before.object_id);
	CHECK_INT(in.uidnext, ==, 4);
	struct meta_status old = mt_status(m, "Old/Mail");
	CHECK_INT(old.messages, ==, 3);
	CHECK(old.object_id[0] == 'M');
	struct meta_snapshot snap;
	MT_OK(meta_snapshot(m, "Old/Mail", &snap, NULL));
	CHECK_INT(snap.msgs.n, ==, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(snap.msgs.v[i].uid, ==, i + 1);
		CHECK_INT(snap.msgs.v[i].flags, ==, i == 1 ? META_FLAG_FLAGGED : 0);
		struct meta_message_info info;
		MT_OK(meta_lookup(m, old.id, snap.msgs.v[i].uid, &info, NULL));
		CHECK_STR(info.email_id, email[i]);
		meta_message_info_free(&info);
	}
	meta_snapshot_free(&snap);
	struct meta_changes ch;
	MT_OK(meta_changes(m, inbox, 1, &ch, NULL));
	CHECK_INT(ch.expunged.n, ==, 3);
	CHECK_INT(ch.msgs.n, ==, 0);
	meta_changes_free(&ch);
	meta_close(&m);
}

META_TEST(subscriptions)
{
	struct meta *m = mt_open();
	MT_OK(meta_subscribe(m, "ghost/town", NULL));
	MT_OK(meta_subscribe(m, "ghost/town", NULL));	/* twice is fine */
	MT_OK(meta_subscribe(m, "inbox", NULL));
	CHECK_INT(meta_subscribe(m, "bad*", NULL), ==, -EINVAL);
	MT_OK(meta_create(m, "real", NULL, NULL, NULL));
	MT_OK(meta_subscribe(m, "real", NULL));
	struct meta_mailbox_list l;
	uint32_t attrs;
	MT_OK(meta_list(m, true, &l, NULL));
	CHECK(mt_listed(&l, "ghost/town", &attrs, NULL));
	CHECK_INT(attrs, ==, META_MBOX_NONEXISTENT | META_MBOX_SUBSCRIBED);
	CHECK(!mt_listed(&l, "inbox", NULL, NULL));
	meta_mailbox_list_free(&l);
	MT_OK(meta_list(m, false, &l, NULL));
	CHECK(!mt_listed(&l, "ghost/town", NULL, NULL));
	meta_mailbox_list_free(&l);

	/* Deleting or renaming leaves subscriptions as they were. */
	MT_OK(meta_delete(m, "real", NULL));
	MT_OK(meta_create(m, "moved", NULL, NULL, NULL));
	MT_OK(meta_subscribe(m, "moved", NULL));
	MT_OK(meta_rename(m, "moved", "elsewhere", NULL));
	MT_OK(meta_list(m, true, &l, NULL));
	CHECK(mt_listed(&l, "real", &attrs, NULL));
	CHECK_INT(attrs, ==, META_MBOX_NONEXISTENT | META_MBOX_SUBSCRIBED);
	CHECK(mt_listed(&l, "moved", &attrs, NULL));
	CHECK_INT(attrs, ==, META_MBOX_NONEXISTENT | META_MBOX_SUBSCRIBED);
	CHECK(mt_listed(&l, "elsewhere", &attrs, NULL));
	CHECK_INT(attrs, ==, 0);
	meta_mailbox_list_free(&l);

	/* Creating a subscribed name shows it subscribed again. */
	MT_OK(meta_create(m, "real", NULL, NULL, NULL));
	MT_OK(meta_unsubscribe(m, "ghost/town", NULL));
	MT_OK(meta_unsubscribe(m, "never-subscribed", NULL));
	MT_OK(meta_list(m, true, &l, NULL));
	CHECK(mt_listed(&l, "real", &attrs, NULL));
	CHECK_INT(attrs, ==, META_MBOX_SUBSCRIBED);
	CHECK(!mt_listed(&l, "ghost/town", NULL, NULL));
	meta_mailbox_list_free(&l);
	meta_close(&m);
}

META_TEST(groups_commit_and_roll_back)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	static const char *const kw[] = { "$RolledBack" };
	MT_OK(meta_begin(m));
	CHECK_INT(meta_begin(m), ==, -EINVAL);
	mt_append_kw(m, inbox, 0, kw, 1);
	CHECK_STR(meta_keyword_name(m, 0), "$RolledBack");
	/* A failing call inside undoes only itself. */
	CHECK_INT(meta_create(m, "INBOX", NULL, NULL, NULL), ==, -EEXIST);
	CHECK_INT(meta_create(m, "x", "\\All", NULL, NULL), ==, -EPERM);
	CHECK_INT(meta_delete(m, "nope", NULL), ==, -ENOENT);
	mt_append(m, inbox, 0);
	meta_rollback(m);
	CHECK_INT(mt_status(m, "INBOX").messages, ==, 0);
	CHECK(meta_keyword_name(m, 0) == NULL);

	MT_OK(meta_begin(m));
	mt_append(m, inbox, 0);
	mt_append(m, inbox, 0);
	MT_OK(meta_commit(m));
	CHECK_INT(mt_status(m, "INBOX").messages, ==, 2);
	CHECK_INT(meta_commit(m), ==, -EINVAL);
	MT_OK(meta_begin(m));
	mt_append(m, inbox, 0);
	meta_close(&m);	/* rolls back */
	m = mt_open();
	CHECK_INT(mt_status(m, "INBOX").messages, ==, 2);
	meta_close(&m);
}

/* tests/data/meta/v1.sqlite was written by the schema-1 code (commit
 * 044b4ac, before the header cache; tests/data/meta/README says how):
 * INBOX holds UIDs 1-4 (2 is \Seen \Flagged, 3 has two keywords, 4 was
 * expunged), Archive copies of UIDs 1 and 2, Work/Projects one message. */
static void copy_fixture(const char *name, const char *dest)
{
	const char *d = getenv("SEAL_TEST_DATA");
	char *src = xasprintf("%s/meta/%s", d ? d : "tests/data", name);
	FILE *in = fopen(src, "rb"), *out = fopen(dest, "wb");
	CHECK(in != NULL && out != NULL);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		CHECK_INT(fwrite(chunk, 1, n, out), ==, n);
	fclose(in);
	CHECK_INT(fclose(out), ==, 0);
	free(src);
}

static int64_t raw_version(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	CHECK_INT(vfs_crypt_open(mt_path, mt_key, SQLITE_OPEN_READWRITE, &db, NULL), ==, 0);
	CHECK_INT(sqlite3_prepare_v2(db,
				     "SELECT value FROM meta_info WHERE name = 'schema_version'", -1,
				     &st, NULL),
		  ==, SQLITE_OK);
	CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	vfs_crypt_close(&db);
	return v;
}

META_TEST(migrates_version_1)
{
	for (int i = 0; i < META_KEY_LEN; i++)
		mt_key[i] = (uint8_t)(0xa0 + i);
	copy_fixture("v1.sqlite", mt_path);
	CHECK_INT(raw_version(), ==, 1);
	struct meta *m = mt_open();
	meta_close(&m);
	CHECK_INT(raw_version(), ==, 2);
	m = mt_open();	/* and it opens again as it is */
	MT_OK(meta_check(m, NULL));

	/* What version 1 held is all there. */
	struct meta_mailbox_list l;
	MT_OK(meta_list(m, true, &l, NULL));
	CHECK_INT(l.n, ==, 8);	/* the six defaults, Work, Work/Projects */
	CHECK(mt_listed(&l, "Work/Projects", NULL, NULL));
	meta_mailbox_list_free(&l);
	struct meta_snapshot snap;
	MT_OK(meta_snapshot(m, "INBOX", &snap, NULL));
	CHECK_INT(snap.msgs.n, ==, 3);
	CHECK_INT(snap.msgs.v[1].uid, ==, 2);
	CHECK_INT(snap.msgs.v[1].flags, ==, META_FLAG_SEEN | META_FLAG_FLAGGED);
	CHECK_INT(snap.msgs.v[2].kw_n, ==, 2);
	CHECK_INT(snap.uidnext, ==, 5);
	int64_t inbox = snap.id;
	meta_snapshot_free(&snap);
	CHECK_INT(mt_status(m, "Archive").messages, ==, 2);
	struct meta_message_info info;
	MT_OK(meta_lookup(m, inbox, 4, &info, NULL));	/* expunged, not purged */
	CHECK(info.expunged);
	CHECK(!info.header_cached);
	CHECK_INT(info.key_len, ==, 40);
	meta_message_info_free(&info);

	/* The header cache works on it: one entry serves both copies. */
	MT_OK(meta_lookup(m, inbox, 1, &info, NULL));
	CHECK_INT(info.size, ==, 1000);
	struct meta_header_put put = { info.message_id, 1000, 3, "Subject: a\r\n\r\n", 14 };
	meta_message_info_free(&info);
	CHECK_INT(meta_headers_put(m, &put, 1, NULL), ==, 1);
	struct meta_header_list hl;
	MT_OK(meta_headers(m, mt_id(m, "Archive"), 1, META_UID_MAX, 10, 1 << 20, true, &hl, NULL));
	CHECK_INT(hl.n, ==, 1);
	CHECK_INT(hl.v[0].uid, ==, 1);
	CHECK_MEM(hl.v[0].data, "Subject: a\r\n\r\n", 14);
	meta_header_list_free(&hl);
	MT_OK(meta_check(m, NULL));
	meta_close(&m);
}

/* A failing migration leaves version 1 whole: here the table it would
 * make is in the way. */
META_TEST(failed_migration_changes_nothing)
{
	for (int i = 0; i < META_KEY_LEN; i++)
		mt_key[i] = (uint8_t)(0xa0 + i);
	copy_fixture("v1.sqlite", mt_path);
	mt_raw_sql("CREATE TABLE header_cache (x)");
	struct meta *m = NULL;
	const char *err = NULL;
	CHECK(meta_open(mt_path, mt_key, false, &m, &err) < 0);
	CHECK(m == NULL);
	CHECK_STR(err, "cannot migrate the database to version 2");
	CHECK_INT(raw_version(), ==, 1);
	mt_raw_sql("DROP TABLE header_cache");
	m = mt_open();
	CHECK_INT(mt_status(m, "INBOX").messages, ==, 3);
	meta_close(&m);
	CHECK_INT(raw_version(), ==, 2);
}
