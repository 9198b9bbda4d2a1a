/* Maintenance queries (manual: Backups and Recovery): the files the
 * database knows (to find orphans on disk), messages whose file is missing
 * (shown as stubs), and the two-step purge of expunged messages. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

void meta_files_free(struct meta_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	free(f->ids);
	memset(f, 0, sizeof(*f));
}

/* Appends the (id, file) rows of st to f. */
static int scan_files(struct meta *m, sqlite3_stmt *st, struct meta_files *f)
{
	size_t cap = 0;
	int r = 0, rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (f->n == cap) {
			cap = cap ? cap * 2 : 64;
			f->v = xrealloc(f->v, cap * sizeof(*f->v));
			f->ids = xrealloc(f->ids, cap * sizeof(*f->ids));
		}
		r = meta__col_int(st, 0, 1, INT64_MAX, &f->ids[f->n]);
		if (r == 0)
			r = meta__col_strdup(st, 1, META_FILE_MAX, &f->v[f->n]);
		if (r == 0 && meta__file_check(f->v[f->n]) < 0) {
			free(f->v[f->n]);
			r = -EBADMSG;	/* never let a stored name leave messages/ */
		}
		if (r == 0)
			f->n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading message files");
	sqlite3_reset(st);
	return r;
}

static int all_files(struct meta *m, struct meta_files *f)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MSG_FILES, "SELECT id, file FROM message ORDER BY file", &st);
	return r < 0 ? r : scan_files(m, st, f);
}

int meta_message_files(struct meta *m, struct meta_files *files_r, const char **error_r)
{
	memset(files_r, 0, sizeof(*files_r));
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, all_files(m, files_r));
	if (r < 0) {
		meta_files_free(files_r);
		return meta__fail(error_r, r, "cannot list message files");
	}
	return 0;
}

int meta_set_missing(struct meta *m, const char *file, bool missing, const char **error_r)
{
	if (meta__file_check(file) < 0)
		return meta__fail(error_r, -EINVAL, "invalid message file name");
	sqlite3_stmt *st;
	int r = meta__begin(m, true);
	if (r < 0)
		return meta__fail(error_r, r, "cannot mark the message");
	r = meta__prep(m, SQL_MSG_MISSING, "UPDATE message SET missing = ?2 WHERE file = ?1", &st);
	if (r == 0) {
		meta__bind_text(st, 1, file);
		meta__bind_i64(st, 2, missing);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			r = meta__err(m, rc, NULL, "marking a message");
		else if (sqlite3_changes(m->db) == 0)
			r = -ENOENT;
	}
	r = meta__end(m, r);
	return r < 0 ? meta__fail(error_r, r, "cannot mark the message") : 0;
}

static int missing(struct meta *m, struct meta_loc **v, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int r = meta__prep(m, SQL_INST_MISSING,
			   "SELECT i.mailbox_id, i.uid FROM message m"
			   " JOIN instance i ON i.message_id = m.id"
			   " WHERE m.missing = 1 ORDER BY 1, 2",
			   &st);
	size_t cap = 0;
	int rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*v = xrealloc(*v, cap * sizeof(**v));
		}
		r = meta__col_int(st, 0, 1, INT64_MAX, &(*v)[*n].mailbox);
		if (r == 0)
			r = meta__col_u32(st, 1, 1, META_UID_MAX, &(*v)[*n].uid);
		if (r == 0)
			(*n)++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = meta__err(m, rc, NULL, "reading missing messages");
	if (st)
		sqlite3_reset(st);
	return r;
}

int meta_missing_instances(struct meta *m, struct meta_loc **locs_r, size_t *n_r,
			   const char **error_r)
{
	struct meta_loc *v = NULL;
	size_t n = 0;
	*locs_r = NULL;
	*n_r = 0;
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, missing(m, &v, &n));
	if (r < 0) {
		free(v);
		return meta__fail(error_r, r, "cannot list missing messages");
	}
	*locs_r = v;
	*n_r = n;
	return 0;
}

static int unplaced(struct meta *m, int64_t before, size_t max, struct meta_files *f)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MSG_UNPLACED,
			   "SELECT id, file FROM message WHERE placed = 0 AND created_at <= ?1"
			   " ORDER BY created_at, id LIMIT ?2",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, before);
	meta__bind_i64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	return scan_files(m, st, f);
}

int meta_unplaced(struct meta *m, int64_t created_before, size_t max, struct meta_files *files_r,
		  const char **error_r)
{
	memset(files_r, 0, sizeof(*files_r));
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, unplaced(m, created_before, max, files_r));
	if (r < 0) {
		meta_files_free(files_r);
		return meta__fail(error_r, r, "cannot list unplaced messages");
	}
	return 0;
}

/* Messages released before the cutoff that have a live instance again
 * (released in one mailbox, still in another) stop being candidates, so
 * the partial index only ever holds messages on their way out. */
static int purgeable(struct meta *m, int64_t cutoff, size_t max, struct meta_files *f)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MSG_UNRELEASE,
			   "UPDATE message SET released_at = NULL"
			   " WHERE released_at IS NOT NULL AND released_at <= ?1"
			   " AND EXISTS (SELECT 1 FROM instance WHERE message_id = message.id)",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, cutoff);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return meta__err(m, rc, NULL, "updating released messages");
	r = meta__prep(m, SQL_MSG_PURGEABLE,
		       "SELECT id, file FROM message"
		       " WHERE released_at IS NOT NULL AND released_at <= ?1"
		       " AND NOT EXISTS (SELECT 1 FROM instance WHERE message_id = message.id)"
		       " ORDER BY released_at, id LIMIT ?2",
		       &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, cutoff);
	meta__bind_i64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	return scan_files(m, st, f);
}

int meta_purgeable(struct meta *m, int64_t now, size_t max, struct meta_files *files_r,
		   const char **error_r)
{
	memset(files_r, 0, sizeof(*files_r));
	if (now < INT64_MIN + META_PURGE_DELAY)
		return meta__fail(error_r, -EINVAL, "invalid time");
	int r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, purgeable(m, now - META_PURGE_DELAY, max, files_r));
	if (r < 0) {
		meta_files_free(files_r);
		return meta__fail(error_r, r, "cannot list purgeable messages");
	}
	return 0;
}

/* Through the expunge log of the mailbox: its expunged messages that no
 * mailbox holds any more, whenever that happened. */
static int purgeable_mailbox(struct meta *m, int64_t mailbox, size_t max, struct meta_files *f)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MSG_PURGEABLE_MBOX,
			   "SELECT id, file FROM message"
			   " WHERE released_at IS NOT NULL"
			   " AND NOT EXISTS (SELECT 1 FROM instance WHERE message_id = message.id)"
			   " AND EXISTS (SELECT 1 FROM expunged"
			   "   WHERE message_id = message.id AND mailbox_id = ?1)"
			   " ORDER BY id LIMIT ?2",
			   &st);
	if (r < 0)
		return r;
	meta__bind_i64(st, 1, mailbox);
	meta__bind_i64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	return scan_files(m, st, f);
}

int meta_purgeable_mailbox(struct meta *m, int64_t mailbox, size_t max,
			   struct meta_files *files_r, const char **error_r)
{
	memset(files_r, 0, sizeof(*files_r));
	int r = meta__begin(m, false);
	if (r == 0)
		r = meta__end(m, purgeable_mailbox(m, mailbox, max, files_r));
	if (r < 0) {
		meta_files_free(files_r);
		return meta__fail(error_r, r, "cannot list purgeable messages");
	}
	return 0;
}

/* The expunge log keeps its rows; their message_id becomes NULL (ON DELETE
 * SET NULL), so a late FETCH of such a UID finds nothing. */
static int forget(struct meta *m, const int64_t *ids, size_t n)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_MSG_FORGET,
			   "DELETE FROM message WHERE id = ?1"
			   " AND NOT EXISTS (SELECT 1 FROM instance WHERE message_id = ?1)",
			   &st);
	int count = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		meta__bind_i64(st, 1, ids[i]);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			r = meta__err(m, rc, NULL, "forgetting a message");
		else if (sqlite3_changes(m->db) == 1 && count < INT32_MAX)
			count++;
	}
	return r < 0 ? r : count;
}

int meta_forget(struct meta *m, const int64_t *message_ids, size_t n, const char **error_r)
{
	int r = meta__begin(m, true);
	if (r == 0)
		r = meta__end(m, forget(m, message_ids, n));
	return r < 0 ? meta__fail(error_r, r, "cannot forget messages") : r;
}
