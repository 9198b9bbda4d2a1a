/* What sessions read to stay in step: the SELECT snapshot, the changes
 * since a MODSEQ (other sessions' work, CONDSTORE, QRESYNC), \Recent
 * claims, and the lookup of one message for FETCH. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"
#include "storage/crypto.h"

/* Runs st (mailbox id bound as ?1, maybe more) and appends every row (uid,
 * modseq, flags, keywords) to l. */
static int scan_msgs(struct meta *m, sqlite3_stmt *st, struct meta_msgs *l)
{
	int r = 0, rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = meta__msgs_push_row(m, l, st, 0);
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading messages");
	sqlite3_reset(st);
	return r;
}

static int snapshot(struct meta *m, const char *name, struct meta_snapshot *s)
{
	struct meta__mbox mb;
	sqlite3_stmt *st;
	int r = meta__mbox_by_name(m, name, &mb);
	if (r == 0 && !mb.selectable)
		r = -ENOENT;
	if (r == 0)
		r = meta__prep(m, SQL_INST_ALL,
			       "SELECT uid, modseq, flags, keywords FROM instance"
			       " WHERE mailbox_id = ?1 ORDER BY uid",
			       &st);
	if (r < 0)
		return r;
	s->id = mb.id;
	s->uidvalidity = mb.uidvalidity;
	s->uidnext = mb.uidnext;
	s->highest_modseq = mb.highest_modseq;
	s->permanent_flags = META_FLAGS_ALL;
	memcpy(s->object_id, mb.object_id, sizeof(mb.object_id));
	meta__bind_i64(st, 1, mb.id);
	r = scan_msgs(m, st, &s->msgs);
	/* The names of every keyword, as of this transaction. */
	if (r == 0)
		r = meta__kw_load(m);
	if (r < 0)
		return r;
	s->keywords = xmalloc((m->kw_n ? m->kw_n : 1) * sizeof(*s->keywords));
	for (uint32_t i = 0; i < m->kw_n; i++)
		s->keywords[i] = xstrdup(m->kw[i]);
	s->n_keywords = m->kw_n;
	return 0;
}

void meta_snapshot_free(struct meta_snapshot *snap)
{
	for (size_t i = 0; i < snap->n_keywords; i++)
		free(snap->keywords[i]);
	free(snap->keywords);
	meta_msgs_free(&snap->msgs);
	memset(snap, 0, sizeof(*snap));
}

int meta_snapshot(struct meta *m, const char *name, struct meta_snapshot *snap_r,
		  const char **error_r)
{
	char norm[META_NAME_MAX + 1];
	memset(snap_r, 0, sizeof(*snap_r));
	int r = meta__name_norm(name, norm, error_r);
	if (r < 0)
		return r;
	r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, snapshot(m, norm, snap_r));
	if (r < 0) {
		meta_snapshot_free(snap_r);
		return meta__fail(error_r, r,
				  r == -ENOENT ? "no such mailbox" : "cannot read the mailbox");
	}
	return 0;
}

static int expunged_since(struct meta *m, int64_t mailbox, int64_t since, struct meta_uids *u)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_EXP_SINCE,
			   "SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2"
			   " ORDER BY uid",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, since);
	size_t cap = 0;
	int rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t uid;
		r = meta__col_u32(st, 0, 1, META_UID_MAX, &uid);
		if (r == 0)
			r = meta__uids_push(u, &cap, uid);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading the expunge log");
	sqlite3_reset(st);
	return r;
}

static int changes(struct meta *m, int64_t mailbox, uint64_t since, struct meta_changes *ch,
		   const char **error_r)
{
	struct meta__mbox mb;
	sqlite3_stmt *st;
	int64_t s = since > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)since;
	int r = meta__mbox_selectable(m, mailbox, &mb, error_r);
	if (r == 0)
		r = meta__prep(m, SQL_INST_SINCE,
			       "SELECT uid, modseq, flags, keywords FROM instance"
			       " WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
			       &st);
	if (r < 0)
		return r;
	ch->uidnext = mb.uidnext;
	ch->highest_modseq = mb.highest_modseq;
	if (since >= mb.highest_modseq)
		return 0;	/* the common poll: nothing happened */
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, s);
	r = scan_msgs(m, st, &ch->msgs);
	if (r == 0)
		r = expunged_since(m, mailbox, s, &ch->expunged);
	return r;
}

void meta_changes_free(struct meta_changes *ch)
{
	meta_msgs_free(&ch->msgs);
	meta_uids_free(&ch->expunged);
}

int meta_changes(struct meta *m, int64_t mailbox, uint64_t since, struct meta_changes *ch_r,
		 const char **error_r)
{
	memset(ch_r, 0, sizeof(*ch_r));
	const char *err = NULL;
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, changes(m, mailbox, since, ch_r, &err));
	if (r < 0) {
		meta_changes_free(ch_r);
		return meta__fail(error_r, r, err ? err : "cannot read the changes");
	}
	return 0;
}

/* The threshold moves in the same transaction that reads it, so two
 * sessions never both get a UID (IMAP4rev1 2.3.2: \Recent belongs to the
 * first session notified of the message). */
static int claim_recent(struct meta *m, int64_t mailbox, uint32_t *first_r, uint32_t *last_r,
			const char **error_r)
{
	struct meta__mbox mb;
	sqlite3_stmt *st;
	int r = meta__mbox_selectable(m, mailbox, &mb, error_r);
	if (r == 0)
		r = meta__prep(m, SQL_MBOX_RECENT,
			       "UPDATE mailbox SET recent_uid = uidnext WHERE id = ?1", &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, mailbox);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return meta__err(m, rc, NULL, "claiming \\Recent");
	*first_r = mb.recent_uid;
	*last_r = mb.uidnext - 1;
	return 0;
}

int meta_claim_recent(struct meta *m, int64_t mailbox, uint32_t *first_r, uint32_t *last_r,
		      const char **error_r)
{
	const char *err = NULL;
	*first_r = 1;
	*last_r = 0;
	int r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, claim_recent(m, mailbox, first_r, last_r, &err));
	if (r < 0) {
		*first_r = 1;
		*last_r = 0;
		return meta__fail(error_r, r, err ? err : "cannot claim \\Recent");
	}
	return 0;
}

void meta_message_info_free(struct meta_message_info *info)
{
	free(info->file);
	if (info->key)
		crypto_wipe(info->key, info->key_len);
	free(info->key);
	memset(info, 0, sizeof(*info));
}

/* Columns: message_id, file, size, email_id, key_blob, internal_date,
 * internal_tz, save_date, missing, header cached [, expunged_at]. */
static int read_info(sqlite3_stmt *st, bool expunged, struct meta_message_info *in)
{
	int64_t size, tz, missing, cached;
	int r = meta__col_int(st, 0, 1, INT64_MAX, &in->message_id);
	if (r == 0)
		r = meta__col_strdup(st, 1, META_FILE_MAX, &in->file);
	if (r == 0)
		r = meta__col_int(st, 2, 0, INT64_MAX, &size);
	if (r == 0)
		r = meta__col_text(st, 3, META_OID_MAX, in->email_id);
	if (r == 0)
		r = meta__col_int(st, 5, INT64_MIN, INT64_MAX, &in->internal_date);
	if (r == 0)
		r = meta__col_int(st, 6, -1439, 1439, &tz);
	if (r == 0)
		r = meta__col_int(st, 7, INT64_MIN, INT64_MAX, &in->save_date);
	if (r == 0)
		r = meta__col_int(st, 8, 0, 1, &missing);
	if (r == 0)
		r = meta__col_int(st, 9, 0, 1, &cached);
	if (r == 0 && expunged)
		r = meta__col_int(st, 10, INT64_MIN, INT64_MAX, &in->expunged_at);
	if (r < 0)
		return r;
	in->size = (uint64_t)size;
	in->internal_tz = (int)tz;
	in->missing = missing == 1;
	in->header_cached = cached == 1;
	in->expunged = expunged;
	int type = sqlite3_column_type(st, 4);
	if (type == SQLITE_NULL)
		return 0;
	int len = sqlite3_column_bytes(st, 4);
	if (type != SQLITE_BLOB || len < 1 || len > META_KEY_BLOB_MAX)
		return -EBADMSG;
	in->key = xmalloc((size_t)len);
	memcpy(in->key, sqlite3_column_blob(st, 4), (size_t)len);
	in->key_len = (size_t)len;
	return 0;
}

static int lookup_in(struct meta *m, sqlite3_stmt *st, int64_t mailbox, uint32_t uid,
		     bool expunged, struct meta_message_info *info)
{
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, uid);
	int rc = sqlite3_step(st);
	int r;
	if (rc == SQLITE_ROW)
		r = read_info(st, expunged, info);
	else
		r = rc == SQLITE_DONE ? -ENOENT : meta__err(m, rc, NULL, "looking up a message");
	sqlite3_reset(st);
	return r;
}

static int lookup(struct meta *m, int64_t mailbox, uint32_t uid, struct meta_message_info *info)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_INST_LOOKUP,
			   "SELECT i.message_id, m.file, m.size, m.email_id, m.key_blob,"
			   " i.internal_date, i.internal_tz, i.save_date, m.missing,"
			   " EXISTS (SELECT 1 FROM header_cache WHERE message_id = m.id)"
			   " FROM instance i JOIN message m ON m.id = i.message_id"
			   " WHERE i.mailbox_id = ?1 AND i.uid = ?2",
			   &st);
	if (r == 0)
		r = lookup_in(m, st, mailbox, uid, false, info);
	if (r != -ENOENT)
		return r;
	/* Expunged: readable while the message is not purged (24 hours). */
	r = meta__prep(m, SQL_EXP_LOOKUP,
		       "SELECT e.message_id, m.file, m.size, m.email_id, m.key_blob,"
		       " e.internal_date, e.internal_tz, e.save_date, m.missing,"
		       " EXISTS (SELECT 1 FROM header_cache WHERE message_id = m.id), e.expunged_at"
		       " FROM expunged e JOIN message m ON m.id = e.message_id"
		       " WHERE e.mailbox_id = ?1 AND e.uid = ?2",
		       &st);
	return r < 0 ? r : lookup_in(m, st, mailbox, uid, true, info);
}

int meta_lookup(struct meta *m, int64_t mailbox, uint32_t uid, struct meta_message_info *info_r,
		const char **error_r)
{
	memset(info_r, 0, sizeof(*info_r));
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, lookup(m, mailbox, uid, info_r));
	if (r < 0) {
		meta_message_info_free(info_r);
		return meta__fail(error_r, r,
				  r == -ENOENT ? "no such message" : "cannot read the message");
	}
	return 0;
}
