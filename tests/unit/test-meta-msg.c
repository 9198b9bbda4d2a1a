/* Tests of storage/meta.h, messages: APPEND and UIDs, flags and keywords,
 * MODSEQ, STORE with UNCHANGEDSINCE, COPY and MOVE, EXPUNGE and its log,
 * changes since a MODSEQ, \Recent, lookups. */
#include "tests/unit/meta-test.h"

#include <stdlib.h>

static const struct meta_uid_range all_uids[] = { { 1, META_UID_MAX } };

static const struct meta_msg *find_msg(const struct meta_msgs *l, uint32_t uid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].uid == uid)
			return &l->v[i];
	return NULL;
}

/* The keyword names of msg in l, joined with spaces, for comparing. */
static char *kw_string(struct meta *m, const struct meta_msgs *l, const struct meta_msg *msg)
{
	static char buf[4096];
	size_t len = 0;
	buf[0] = 0;
	for (uint32_t i = 0; i < msg->kw_n; i++) {
		const char *name = meta_keyword_name(m, l->kw[msg->kw_off + i]);
		CHECK(name != NULL);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", name);
		CHECK(len < sizeof(buf));
	}
	return buf;
}

META_TEST(append_assigns_uids)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	uint32_t uidvalidity = mt_status(m, "INBOX").uidvalidity;
	uint64_t last_modseq = 1;
	for (uint32_t i = 1; i <= 3; i++) {
		struct meta_appended a = mt_append(m, inbox, i == 2 ? META_FLAG_SEEN : 0);
		CHECK_INT(a.uid, ==, i);
		CHECK_INT(a.uidvalidity, ==, uidvalidity);
		CHECK_INT(a.modseq, >, last_modseq);
		last_modseq = a.modseq;
	}
	struct meta_status st = mt_status(m, "INBOX");
	CHECK_INT(st.messages, ==, 3);
	CHECK_INT(st.uidnext, ==, 4);
	CHECK_INT(st.unseen, ==, 2);
	CHECK_INT(st.deleted, ==, 0);
	CHECK_INT(st.size, ==, 1001 + 1002 + 1003);
	CHECK_INT(st.highest_modseq, ==, last_modseq);

	/* Bad requests. */
	struct meta_appended res;
	struct meta_append_req req = { 1, 0x20, NULL, 0, 0, 0 };
	CHECK_INT(meta_append(m, inbox, &req, &res, NULL), ==, -EINVAL);
	req.flags = 0;
	req.internal_tz = 1440;
	CHECK_INT(meta_append(m, inbox, &req, &res, NULL), ==, -EINVAL);
	req.internal_tz = 0;
	req.message_id = 999;
	CHECK_INT(meta_append(m, inbox, &req, &res, NULL), ==, -ENOENT);
	req.message_id = 1;
	CHECK_INT(meta_append(m, 9999, &req, &res, NULL), ==, -ENOENT);
	static const char *const bad_kw[] = { "bad keyword" };
	req.keywords = bad_kw;
	req.n_keywords = 1;
	CHECK_INT(meta_append(m, inbox, &req, &res, NULL), ==, -EINVAL);
	int64_t id;
	CHECK_INT(meta_add_message(m, "00/msg-000000", 1, NULL, 0, &id, NULL), ==, -EEXIST);
	CHECK_INT(meta_add_message(m, "../escape", 1, NULL, 0, &id, NULL), ==, -EINVAL);
	CHECK_INT(meta_add_message(m, "/abs", 1, NULL, 0, &id, NULL), ==, -EINVAL);
	CHECK_INT(meta_add_message(m, "a b", 1, NULL, 0, &id, NULL), ==, -EINVAL);
	CHECK_INT(mt_status(m, "INBOX").uidnext, ==, 4);
	meta_close(&m);
}

META_TEST(uid_limit)
{
	struct meta *m = mt_open();
	meta_close(&m);
	mt_raw_sql("UPDATE mailbox SET uidnext = 4294967293 WHERE name = 'INBOX'");
	m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	CHECK_INT(mt_append(m, inbox, 0).uid, ==, 4294967293u);
	CHECK_INT(mt_append(m, inbox, 0).uid, ==, META_UID_MAX);
	CHECK_INT(mt_status(m, "INBOX").uidnext, ==, 4294967295u);
	int64_t msg;
	MT_OK(meta_add_message(m, "last", 1, NULL, 0, &msg, NULL));
	struct meta_append_req req = { msg, 0, NULL, 0, 0, 0 };
	struct meta_appended res;
	const char *err = NULL;
	CHECK_INT(meta_append(m, inbox, &req, &res, &err), ==, -EOVERFLOW);
	CHECK(err != NULL && strstr(err, "UIDs") != NULL);
	/* A copy into the full mailbox fails whole. */
	int64_t archive = mt_id(m, "Archive");
	mt_append(m, archive, 0);
	struct meta_copy_result cr;
	CHECK_INT(meta_copy(m, archive, all_uids, 1, inbox, &cr, NULL), ==, -EOVERFLOW);
	CHECK_INT(mt_status(m, "INBOX").messages, ==, 2);
	meta_close(&m);
}

META_TEST(flags_and_keywords)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	static const char *const kw[] = { "$Label1", "$label1", "Work" };
	struct meta_appended a = mt_append_kw(m, inbox, META_FLAG_DRAFT, kw, 3);
	struct meta_snapshot snap;
	MT_OK(meta_snapshot(m, "INBOX", &snap, NULL));
	CHECK_INT(snap.n_keywords, ==, 2);
	CHECK_STR(snap.keywords[0], "$Label1");
	CHECK_STR(snap.keywords[1], "Work");
	CHECK_INT(snap.permanent_flags, ==, META_FLAGS_ALL);
	CHECK_INT(snap.msgs.n, ==, 1);
	CHECK_INT(snap.msgs.v[0].flags, ==, META_FLAG_DRAFT);
	CHECK_STR(kw_string(m, &snap.msgs, &snap.msgs.v[0]), "$Label1 Work");
	meta_snapshot_free(&snap);

	/* Keywords compare case-insensitively; removing an unknown one is a
	 * no-op and creates nothing. */
	static const char *const rm[] = { "$LABEL1", "NeverSeen" };
	struct meta_store_req req = { META_STORE_REMOVE, META_FLAG_DRAFT, rm, 2,
				      META_UNCHANGED_ANY };
	struct meta_uid_range one = { a.uid, a.uid };
	struct meta_store_result res;
	MT_OK(meta_store(m, inbox, &one, 1, &req, &res, NULL));
	CHECK_INT(res.changed.n, ==, 1);
	CHECK_INT(res.changed.v[0].flags, ==, 0);
	CHECK_STR(kw_string(m, &res.changed, &res.changed.v[0]), "Work");
	CHECK_INT(res.changed.v[0].modseq, ==, res.modseq);
	CHECK_INT(res.modseq, >, a.modseq);
	meta_store_result_free(&res);
	CHECK(meta_keyword_name(m, 2) == NULL);
	CHECK_INT(meta_flag_parse("\\SEEN"), ==, META_FLAG_SEEN);
	CHECK_INT(meta_flag_parse("\\Recent"), ==, 0);
	CHECK_STR(meta_flag_name(META_FLAG_DELETED), "\\Deleted");
	meta_close(&m);
}

/* meta_flags reads exactly the live messages of the set. */
META_TEST(flags_of_a_uid_set)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	static const char *const kw[] = { "Work" };
	for (int i = 1; i <= 10; i++)
		mt_append_kw(m, inbox, i % 2 ? META_FLAG_SEEN : 0, i == 4 ? kw : NULL, i == 4);
	struct meta_uid_range gone = { 5, 5 };
	struct meta_uids ex = { 0 };
	uint64_t modseq;
	MT_OK(meta_expunge(m, inbox, &gone, 1, META_EXPUNGE_ANY, &ex, &modseq, NULL));
	meta_uids_free(&ex);
	static const struct meta_uid_range set[] = { { 3, 6 }, { 9, 40 } };
	struct meta_msgs l;
	MT_OK(meta_flags(m, inbox, set, 2, &l, NULL));
	CHECK_INT(l.n, ==, 5);
	static const uint32_t want[] = { 3, 4, 6, 9, 10 };
	for (size_t i = 0; i < l.n; i++) {
		CHECK_INT(l.v[i].uid, ==, want[i]);
		CHECK_INT(l.v[i].flags, ==, want[i] % 2 ? META_FLAG_SEEN : 0);
		CHECK_INT(l.v[i].modseq, >, 0);
	}
	CHECK_STR(kw_string(m, &l, &l.v[1]), "Work");
	CHECK_INT(l.v[0].kw_n, ==, 0);
	meta_msgs_free(&l);
	CHECK_INT(meta_flags(m, 4242, set, 2, &l, NULL), ==, -ENOENT);
	CHECK_INT(meta_flags(m, inbox, NULL, 0, &l, NULL), ==, -EINVAL);
	meta_close(&m);
}

/* 1,000 new keywords and two flags on one message: one change, one MODSEQ,
 * all or nothing. */
META_TEST(many_keywords_atomic)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	static const char *const kw[] = { "Work" };
	struct meta_appended a = mt_append_kw(m, inbox, 0, kw, 1);
	struct meta_uid_range one = { a.uid, a.uid };
	struct meta_store_req req;
	struct meta_store_result res;
	struct meta_snapshot snap;
	static char names[1000][16];
	const char *many[1000];
	for (int i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof(names[i]), "kw%04d", 999 - i);
		many[i] = names[i];
	}
	req = (struct meta_store_req){ META_STORE_ADD, META_FLAG_SEEN | META_FLAG_FLAGGED, many,
				       1000, META_UNCHANGED_ANY };
	MT_OK(meta_store(m, inbox, &one, 1, &req, &res, NULL));
	CHECK_INT(res.changed.n, ==, 1);
	CHECK_INT(res.changed.v[0].kw_n, ==, 1001);
	uint64_t modseq = res.modseq;
	meta_store_result_free(&res);
	MT_OK(meta_snapshot(m, "INBOX", &snap, NULL));
	CHECK_INT(snap.n_keywords, ==, 1001);
	CHECK_INT(snap.highest_modseq, ==, modseq);
	const struct meta_msg *msg = &snap.msgs.v[0];
	CHECK_INT(msg->kw_n, ==, 1001);
	CHECK_INT(msg->modseq, ==, modseq);
	CHECK_INT(msg->flags, ==, META_FLAG_SEEN | META_FLAG_FLAGGED);
	for (uint32_t i = 1; i < msg->kw_n; i++)
		CHECK(snap.msgs.kw[msg->kw_off + i] > snap.msgs.kw[msg->kw_off + i - 1]);
	meta_snapshot_free(&snap);

	/* The same again changes nothing and takes no MODSEQ. */
	MT_OK(meta_store(m, inbox, &one, 1, &req, &res, NULL));
	CHECK_INT(res.changed.n, ==, 0);
	CHECK_INT(res.unchanged.n, ==, 1);
	CHECK_INT(res.unchanged.v[0].modseq, ==, modseq);
	CHECK_INT(res.modseq, ==, 0);
	meta_store_result_free(&res);
	CHECK_INT(mt_status(m, "INBOX").highest_modseq, ==, modseq);

	/* A failing STORE leaves everything as it was. */
	static const char *const with_bad[] = { "fine", "not fine" };
	req = (struct meta_store_req){ META_STORE_REPLACE, 0, with_bad, 2, META_UNCHANGED_ANY };
	CHECK_INT(meta_store(m, inbox, &one, 1, &req, &res, NULL), ==, -EINVAL);
	req = (struct meta_store_req){ META_STORE_REPLACE, 0, NULL, 0, META_UNCHANGED_ANY };
	MT_OK(meta_store(m, inbox, &one, 1, &req, &res, NULL));
	CHECK_INT(res.changed.n, ==, 1);
	CHECK_INT(res.changed.v[0].kw_n, ==, 0);
	CHECK_INT(res.changed.v[0].flags, ==, 0);
	meta_store_result_free(&res);
	MT_OK(meta_check(m, NULL));
	meta_close(&m);
}

META_TEST(modseq_increases)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX"), trash = mt_id(m, "Trash");
	uint64_t prev = mt_status(m, "INBOX").highest_modseq;
#define NEXT()                                                                         \
	do {                                                                           \
		uint64_t now_ = mt_status(m, "INBOX").highest_modseq;                  \
		CHECK_INT(now_, >, prev);                                              \
		prev = now_;                                                           \
	} while (0)
	mt_append(m, inbox, 0);
	NEXT();
	mt_append(m, inbox, 0);
	NEXT();
	struct meta_store_req req = { META_STORE_ADD, META_FLAG_DELETED, NULL, 0,
				      META_UNCHANGED_ANY };
	struct meta_uid_range r1 = { 1, 1 };
	struct meta_store_result sr;
	MT_OK(meta_store(m, inbox, &r1, 1, &req, &sr, NULL));
	meta_store_result_free(&sr);
	NEXT();
	struct meta_copy_result cr;
	MT_OK(meta_copy(m, inbox, &r1, 1, inbox, &cr, NULL));	/* into itself */
	CHECK_INT(cr.map[0].dst, ==, 3);
	meta_copy_result_free(&cr);
	NEXT();
	struct meta_uids u;
	uint64_t modseq;
	MT_OK(meta_expunge(m, inbox, NULL, 0, 0, &u, &modseq, NULL));
	CHECK_INT(u.n, ==, 2);	/* 1 and its copy 3 */
	meta_uids_free(&u);
	NEXT();
	MT_OK(meta_move(m, inbox, all_uids, 1, trash, &cr, NULL));
	CHECK_INT(cr.src_modseq, ==, mt_status(m, "INBOX").highest_modseq);
	meta_copy_result_free(&cr);
	NEXT();
	/* Nothing expunged: no MODSEQ taken. */
	MT_OK(meta_expunge(m, inbox, NULL, 0, 0, &u, &modseq, NULL));
	CHECK_INT(u.n, ==, 0);
	CHECK_INT(modseq, ==, 0);
	CHECK_INT(mt_status(m, "INBOX").highest_modseq, ==, prev);
#undef NEXT
	meta_close(&m);
}

META_TEST(store_unchanged_since)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	struct meta_appended a1 = mt_append(m, inbox, 0);
	mt_append(m, inbox, 0);
	mt_append(m, inbox, 0);
	struct meta_uid_range r2 = { 2, 2 }, r13[] = { { 1, 1 }, { 3, 3 } };
	struct meta_store_req req = { META_STORE_ADD, META_FLAG_FLAGGED, NULL, 0,
				      META_UNCHANGED_ANY };
	struct meta_store_result res;
	MT_OK(meta_store(m, inbox, &r2, 1, &req, &res, NULL));	/* another client */
	uint64_t m2 = res.modseq;
	meta_store_result_free(&res);
	/* The client last saw a1's MODSEQ, older than message 2's change. */
	req = (struct meta_store_req){ META_STORE_ADD, META_FLAG_SEEN, NULL, 0, a1.modseq + 2 };
	MT_OK(meta_store(m, inbox, all_uids, 1, &req, &res, NULL));
	CHECK_INT(res.modified.n, ==, 1);
	CHECK_INT(res.modified.v[0], ==, 2);
	CHECK_INT(res.changed.n, ==, 2);
	CHECK_INT(res.changed.v[0].uid, ==, 1);
	CHECK_INT(res.changed.v[1].uid, ==, 3);
	CHECK_INT(res.modseq, >, m2);
	meta_store_result_free(&res);
	struct meta_snapshot snap;
	MT_OK(meta_snapshot(m, "INBOX", &snap, NULL));
	CHECK_INT(find_msg(&snap.msgs, 2)->flags, ==, META_FLAG_FLAGGED);
	CHECK_INT(find_msg(&snap.msgs, 2)->modseq, ==, m2);
	CHECK_INT(find_msg(&snap.msgs, 3)->flags, ==, META_FLAG_SEEN);
	meta_snapshot_free(&snap);
	/* RFC 7162 3.1.3: UNCHANGEDSINCE 0 always fails. */
	req.unchanged_since = 0;
	req.flags = META_FLAG_ANSWERED;
	MT_OK(meta_store(m, inbox, r13, 2, &req, &res, NULL));
	CHECK_INT(res.modified.n, ==, 2);
	CHECK_INT(res.changed.n + res.unchanged.n, ==, 0);
	meta_store_result_free(&res);
	/* UIDs that match nothing are ignored; a bad set is refused. */
	struct meta_uid_range none = { 100, 200 }, bad = { 5, 4 };
	req.unchanged_since = META_UNCHANGED_ANY;
	MT_OK(meta_store(m, inbox, &none, 1, &req, &res, NULL));
	CHECK_INT(res.changed.n + res.unchanged.n + res.modified.n, ==, 0);
	meta_store_result_free(&res);
	CHECK_INT(meta_store(m, inbox, &bad, 1, &req, &res, NULL), ==, -EINVAL);
	CHECK_INT(meta_store(m, inbox, NULL, 0, &req, &res, NULL), ==, -EINVAL);
	meta_close(&m);
}

META_TEST(copy_and_move)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX"), archive = mt_id(m, "Archive");
	static const char *const kw[] = { "$Junk" };
	for (int i = 0; i < 4; i++)
		mt_append_kw(m, inbox, i == 2 ? META_FLAG_SEEN : 0, kw, i == 2);
	mt_append(m, archive, 0);	/* so new UIDs there start at 2 */
	struct meta_uid_range set[] = { { 4, 4 }, { 1, 1 }, { 3, 3 }, { 3, 3 } };
	struct meta_copy_result cr;
	MT_OK(meta_copy(m, inbox, set, 4, archive, &cr, NULL));
	CHECK_INT(cr.n, ==, 3);
	CHECK_INT(cr.uidvalidity, ==, mt_status(m, "Archive").uidvalidity);
	static const struct meta_uid_pair want[] = { { 1, 2 }, { 3, 3 }, { 4, 4 } };
	for (int i = 0; i < 3; i++) {
		CHECK_INT(cr.map[i].src, ==, want[i].src);
		CHECK_INT(cr.map[i].dst, ==, want[i].dst);
	}
	CHECK_INT(cr.modseq, ==, mt_status(m, "Archive").highest_modseq);
	meta_copy_result_free(&cr);
	/* Copies keep flags and share the message (EMAILID, file). */
	struct meta_snapshot snap;
	MT_OK(meta_snapshot(m, "Archive", &snap, NULL));
	CHECK_INT(find_msg(&snap.msgs, 3)->flags, ==, META_FLAG_SEEN);
	CHECK_STR(kw_string(m, &snap.msgs, find_msg(&snap.msgs, 3)), "$Junk");
	meta_snapshot_free(&snap);
	struct meta_message_info x, y;
	MT_OK(meta_lookup(m, inbox, 3, &x, NULL));
	MT_OK(meta_lookup(m, archive, 3, &y, NULL));
	CHECK_STR(x.email_id, y.email_id);
	CHECK_STR(x.file, y.file);
	CHECK_INT(x.message_id, ==, y.message_id);
	meta_message_info_free(&x);
	meta_message_info_free(&y);

	/* MOVE: copy and expunge in one transaction. */
	struct meta_uid_range two = { 2, 3 };
	MT_OK(meta_move(m, inbox, &two, 1, archive, &cr, NULL));
	CHECK_INT(cr.n, ==, 2);
	CHECK_INT(cr.map[0].src, ==, 2);
	CHECK_INT(cr.map[0].dst, ==, 5);
	CHECK_INT(cr.src_modseq, ==, mt_status(m, "INBOX").highest_modseq);
	meta_copy_result_free(&cr);
	CHECK_INT(mt_status(m, "INBOX").messages, ==, 2);
	CHECK_INT(mt_status(m, "Archive").messages, ==, 6);
	struct meta_changes ch;
	MT_OK(meta_changes(m, inbox, 1, &ch, NULL));
	CHECK_INT(ch.expunged.n, ==, 2);
	CHECK_INT(ch.expunged.v[0], ==, 2);
	CHECK_INT(ch.expunged.v[1], ==, 3);
	meta_changes_free(&ch);

	/* Nothing to copy is no error; a missing target is. */
	struct meta_uid_range gone = { 2, 3 };
	MT_OK(meta_copy(m, inbox, &gone, 1, archive, &cr, NULL));
	CHECK_INT(cr.n, ==, 0);
	CHECK(cr.map == NULL);
	CHECK_INT(meta_copy(m, inbox, all_uids, 1, 4242, &cr, NULL), ==, -ENOENT);
	CHECK_INT(meta_copy(m, inbox, &gone, 1, 4242, &cr, NULL), ==, -ENOENT);
	CHECK_INT(meta_move(m, inbox, all_uids, 1, inbox, &cr, NULL), ==, -EINVAL);
	CHECK_INT(mt_status(m, "INBOX").messages, ==, 2);
	MT_OK(meta_check(m, NULL));
	meta_close(&m);
}

META_TEST(expunge_and_log)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	for (int i = 1; i <= 6; i++)
		mt_append(m, inbox, i % 2 ? META_FLAG_DELETED : 0);
	/* UID EXPUNGE 1:3 takes only the \Deleted ones in the set. */
	struct meta_uid_range first3 = { 1, 3 };
	struct meta_uids u;
	uint64_t ms1, ms2, ms3;
	MT_OK(meta_expunge(m, inbox, &first3, 1, 0, &u, &ms1, NULL));
	CHECK_INT(u.n, ==, 2);
	CHECK_INT(u.v[0], ==, 1);
	CHECK_INT(u.v[1], ==, 3);
	meta_uids_free(&u);
	MT_OK(meta_expunge(m, inbox, NULL, 0, 0, &u, &ms2, NULL));
	CHECK_INT(u.n, ==, 1);
	CHECK_INT(u.v[0], ==, 5);
	meta_uids_free(&u);
	CHECK_INT(ms2, >, ms1);
	/* XVANQUISH: regardless of \Deleted. */
	struct meta_uid_range four = { 4, 4 };
	MT_OK(meta_expunge(m, inbox, &four, 1, META_EXPUNGE_ANY, &u, &ms3, NULL));
	CHECK_INT(u.n, ==, 1);
	meta_uids_free(&u);
	struct meta_status st = mt_status(m, "INBOX");
	CHECK_INT(st.messages, ==, 2);
	CHECK_INT(st.highest_modseq, ==, ms3);
	/* The log answers "expunged since": QRESYNC's VANISHED (EARLIER). */
	struct meta_changes ch;
	MT_OK(meta_changes(m, inbox, ms1, &ch, NULL));
	CHECK_INT(ch.expunged.n, ==, 2);
	CHECK_INT(ch.expunged.v[0], ==, 4);
	CHECK_INT(ch.expunged.v[1], ==, 5);
	meta_changes_free(&ch);
	MT_OK(meta_changes(m, inbox, 0, &ch, NULL));
	CHECK_INT(ch.expunged.n, ==, 4);
	CHECK_INT(ch.msgs.n, ==, 2);
	meta_changes_free(&ch);
	/* An expunged UID is still readable until the purge. */
	struct meta_message_info info;
	MT_OK(meta_lookup(m, inbox, 1, &info, NULL));
	CHECK(info.expunged);
	CHECK_INT(info.internal_date, ==, 1700000000);
	CHECK_INT(info.internal_tz, ==, 60);
	meta_message_info_free(&info);
	CHECK_INT(meta_lookup(m, inbox, 99, &info, NULL), ==, -ENOENT);
	meta_close(&m);
}

META_TEST(changes_since)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	for (int i = 0; i < 5; i++)
		mt_append(m, inbox, 0);
	struct meta_snapshot snap;
	MT_OK(meta_snapshot(m, "INBOX", &snap, NULL));
	uint64_t seen = snap.highest_modseq;
	CHECK_INT(snap.msgs.n, ==, 5);
	CHECK_INT(snap.uidnext, ==, 6);
	meta_snapshot_free(&snap);
	struct meta_changes ch;
	MT_OK(meta_changes(m, inbox, seen, &ch, NULL));	/* nothing yet */
	CHECK_INT(ch.msgs.n + ch.expunged.n, ==, 0);
	CHECK_INT(ch.highest_modseq, ==, seen);
	meta_changes_free(&ch);

	/* Another session: a flag change, an append, an expunge. */
	struct meta_uid_range r2 = { 2, 2 }, r4 = { 4, 4 };
	struct meta_store_req req = { META_STORE_ADD, META_FLAG_SEEN, NULL, 0,
				      META_UNCHANGED_ANY };
	struct meta_store_result sr;
	MT_OK(meta_store(m, inbox, &r2, 1, &req, &sr, NULL));
	meta_store_result_free(&sr);
	mt_append(m, inbox, META_FLAG_ANSWERED);
	struct meta_uids u;
	uint64_t ms;
	MT_OK(meta_expunge(m, inbox, &r4, 1, META_EXPUNGE_ANY, &u, &ms, NULL));
	meta_uids_free(&u);

	MT_OK(meta_changes(m, inbox, seen, &ch, NULL));
	CHECK_INT(ch.msgs.n, ==, 2);
	CHECK_INT(ch.msgs.v[0].uid, ==, 2);
	CHECK_INT(ch.msgs.v[0].flags, ==, META_FLAG_SEEN);
	CHECK_INT(ch.msgs.v[1].uid, ==, 6);
	CHECK_INT(ch.msgs.v[1].flags, ==, META_FLAG_ANSWERED);
	CHECK_INT(ch.expunged.n, ==, 1);
	CHECK_INT(ch.expunged.v[0], ==, 4);
	CHECK_INT(ch.uidnext, ==, 7);
	CHECK_INT(ch.highest_modseq, ==, ms);
	meta_changes_free(&ch);
	MT_OK(meta_changes(m, inbox, UINT64_MAX, &ch, NULL));
	CHECK_INT(ch.msgs.n + ch.expunged.n, ==, 0);
	meta_changes_free(&ch);
	meta_close(&m);
}

META_TEST(recent_claimed_once)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	mt_append(m, inbox, 0);
	mt_append(m, inbox, 0);
	CHECK_INT(mt_status(m, "INBOX").recent, ==, 2);
	uint32_t first, last;
	MT_OK(meta_claim_recent(m, inbox, &first, &last, NULL));
	CHECK_INT(first, ==, 1);
	CHECK_INT(last, ==, 2);
	MT_OK(meta_claim_recent(m, inbox, &first, &last, NULL));	/* a second session */
	CHECK_INT(first, >, last);
	CHECK_INT(mt_status(m, "INBOX").recent, ==, 0);
	mt_append(m, inbox, 0);
	CHECK_INT(mt_status(m, "INBOX").recent, ==, 1);
	MT_OK(meta_claim_recent(m, inbox, &first, &last, NULL));
	CHECK_INT(first, ==, 3);
	CHECK_INT(last, ==, 3);
	CHECK_INT(meta_claim_recent(m, 4242, &first, &last, NULL), ==, -ENOENT);
	meta_close(&m);
}

META_TEST(lookup_and_key)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	mt_use_clock(m, 1800000000);
	uint8_t key[CRYPTO_WRAPPED_KEY_LEN];
	crypto_random(key, sizeof(key));
	int64_t msg;
	MT_OK(meta_add_message(m, "ab/cd.msg", 4321, key, sizeof(key), &msg, NULL));
	struct meta_append_req req = { msg, META_FLAG_SEEN, NULL, 0, 1600000000, -300 };
	struct meta_appended a;
	MT_OK(meta_append(m, inbox, &req, &a, NULL));
	struct meta_message_info info;
	MT_OK(meta_lookup(m, inbox, a.uid, &info, NULL));
	CHECK_INT(info.message_id, ==, msg);
	CHECK_STR(info.file, "ab/cd.msg");
	CHECK_INT(info.size, ==, 4321);
	CHECK_INT(info.email_id[0], ==, 'E');
	CHECK_INT(info.key_len, ==, sizeof(key));
	CHECK_MEM(info.key, key, sizeof(key));
	CHECK_INT(info.internal_date, ==, 1600000000);
	CHECK_INT(info.internal_tz, ==, -300);
	CHECK_INT(info.save_date, ==, 1800000000);
	CHECK(!info.expunged && !info.missing);
	meta_message_info_free(&info);
	/* The store replaces the RSA wrap by a symmetric one once. */
	MT_OK(meta_set_message_key(m, msg, "sym", 3, NULL));
	MT_OK(meta_lookup(m, inbox, a.uid, &info, NULL));
	CHECK_INT(info.key_len, ==, 3);
	CHECK_MEM(info.key, "sym", 3);
	meta_message_info_free(&info);
	MT_OK(meta_set_message_key(m, msg, NULL, 0, NULL));
	MT_OK(meta_lookup(m, inbox, a.uid, &info, NULL));
	CHECK(info.key == NULL);
	meta_message_info_free(&info);
	CHECK_INT(meta_set_message_key(m, 4242, "k", 1, NULL), ==, -ENOENT);
	static uint8_t big[META_KEY_BLOB_MAX + 1];
	CHECK_INT(meta_set_message_key(m, msg, big, sizeof(big), NULL), ==, -EINVAL);
	struct meta_fetch_list fl;
	MT_OK(meta_fetch(m, inbox, all_uids, 1, &fl, NULL));
	CHECK_INT(fl.n, ==, 1);
	CHECK_INT(fl.v[0].uid, ==, a.uid);
	CHECK_INT(fl.v[0].message_id, ==, msg);
	CHECK_INT(fl.v[0].size, ==, 4321);
	CHECK_INT(fl.v[0].internal_date, ==, 1600000000);
	CHECK_INT(fl.v[0].internal_tz, ==, -300);
	CHECK_INT(fl.v[0].save_date, ==, 1800000000);
	CHECK_INT(fl.v[0].email_id[0], ==, 'E');
	meta_fetch_list_free(&fl);
	CHECK_INT(meta_fetch(m, 4242, all_uids, 1, &fl, NULL), ==, -ENOENT);
	/* SAVEDATE of a copy is the time of the copy (RFC 8514). */
	mt_use_clock(m, 1900000000);
	struct meta_uid_range one = { a.uid, a.uid };
	struct meta_copy_result cr;
	MT_OK(meta_copy(m, inbox, &one, 1, mt_id(m, "Sent"), &cr, NULL));
	MT_OK(meta_lookup(m, mt_id(m, "Sent"), cr.map[0].dst, &info, NULL));
	CHECK_INT(info.save_date, ==, 1900000000);
	CHECK_INT(info.internal_date, ==, 1600000000);
	meta_message_info_free(&info);
	meta_copy_result_free(&cr);
	meta_close(&m);
}

/* Values read back are checked: a damaged keyword list is an error, never
 * wrong flags. */
META_TEST(damaged_rows_refused)
{
	static const char *const bad[] = {
		"x'80'",	/* varint cut short */
		"x'8000'",	/* not canonical */
		"x'05'",	/* no keyword 5 */
		"x'0000'",	/* not ascending */
		"x'ffffffff0f'",	/* past the id range */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct meta *m = mt_open();
		int64_t inbox = mt_id(m, "INBOX");
		static const char *const kw[] = { "One" };
		mt_append_kw(m, inbox, 0, kw, 1);
		meta_close(&m);
		char sql[128];
		snprintf(sql, sizeof(sql), "UPDATE instance SET keywords = %s", bad[i]);
		mt_raw_sql(sql);
		m = mt_open();
		struct meta_snapshot snap;
		CHECK_INT(meta_snapshot(m, "INBOX", &snap, NULL), ==, -EBADMSG);
		struct meta_store_req req = { META_STORE_ADD, META_FLAG_SEEN, NULL, 0,
					      META_UNCHANGED_ANY };
		struct meta_store_result res;
		CHECK_INT(meta_store(m, inbox, all_uids, 1, &req, &res, NULL), ==, -EBADMSG);
		meta_close(&m);
		mt_raw_sql("DELETE FROM instance; DELETE FROM message; DELETE FROM keyword");
	}
}
