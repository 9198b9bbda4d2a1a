/* Internals shared by storage/meta*.c: the handle, the statement cache,
 * transactions, checked column readers and growable result lists. */
#ifndef SEAL_STORAGE_META_PRIVATE_H
#define SEAL_STORAGE_META_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "storage/meta.h"

/* One slot per SQL statement; the text stays beside the code that runs it
 * and is prepared once per handle, on first use. */
enum meta_sql {
	/* meta.c */
	SQL_INFO_GET,
	SQL_INFO_SET,
	/* meta-mailbox.c, meta-mbox-ops.c */
	SQL_MBOX_BY_NAME,
	SQL_MBOX_BY_ID,
	SQL_MBOX_INSERT,
	SQL_MBOX_DELETE,
	SQL_MBOX_HAS_CHILDREN,
	SQL_MBOX_CHILDREN,
	SQL_MBOX_RENAME,
	SQL_MBOX_LIST,
	SQL_MBOX_STATUS,
	SQL_MBOX_BUMP,
	SQL_MBOX_RECENT,
	SQL_SUB_INSERT,
	SQL_SUB_DELETE,
	SQL_SUB_LIST,
	SQL_INST_RELEASE_ALL,
	/* meta-flags.c */
	SQL_KW_ALL,
	SQL_KW_FIND,
	SQL_KW_INSERT,
	/* meta-message.c */
	SQL_MSG_INSERT,
	SQL_MSG_EXISTS,
	SQL_MSG_SET_KEY,
	SQL_MSG_TAKE,
	SQL_MSG_RELEASE,
	SQL_INST_INSERT,
	SQL_INST_RANGE,
	SQL_INST_DELETE,
	SQL_EXP_INSERT,
	SQL_INST_LOOKUP,
	SQL_EXP_LOOKUP,
	/* meta-store.c */
	SQL_INST_SET_FLAGS,
	/* meta-sync.c */
	SQL_INST_ALL,
	SQL_INST_SINCE,
	SQL_EXP_SINCE,
	SQL_INST_FETCH,
	SQL_INST_FLAGS,
	/* meta-maint.c */
	SQL_MSG_FILES,
	SQL_MSG_MISSING,
	SQL_INST_MISSING,
	SQL_MSG_PURGEABLE,
	SQL_MSG_UNRELEASE,
	SQL_MSG_FORGET,
	SQL_MSG_UNPLACED,
	SQL_MSG_PURGEABLE_MBOX,
	/* meta-headers.c */
	SQL_HDR_GET,
	SQL_HDR_HAS,
	SQL_HDR_PUT,
	SQL_COUNT
};

#define META_TX_DEPTH 2	/* meta_begin() plus one call inside it */

struct meta {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQL_COUNT];
	uint8_t key[META_KEY_LEN];
	int depth;			/* open transaction levels */
	bool user_tx;			/* meta_begin() is open */
	bool relaxed;			/* synchronous=NORMAL until the commit */
	bool renumbered;		/* MODSEQs moved at open (meta-power.c) */
	bool open_noted;		/* the open is recorded: note the close */
	uint32_t kw_mark[META_TX_DEPTH];	/* keyword count at each level */
	int64_t (*clock)(void *ctx);
	void *clock_ctx;
	/* Keyword names by id: ids are dense from 0 and never change name. */
	char **kw;
	uint32_t kw_n, kw_cap;
};

/* A mailbox row as the per-mailbox code needs it. */
struct meta__mbox {
	int64_t id;
	bool selectable;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highest_modseq;
	uint32_t recent_uid;
	const char *special_use;
	char object_id[META_OID_MAX + 1];
};

/* meta.c: statements, errors, transactions, time. */
int meta__prep(struct meta *m, enum meta_sql id, const char *sql, sqlite3_stmt **st_r);
int meta__err(struct meta *m, int rc, const char **error_r, const char *what);
int meta__fail(const char **error_r, int err, const char *what);
int meta__begin(struct meta *m, bool write);
int meta__end(struct meta *m, int r);
/* A write transaction whose commit skips the fsync (synchronous=NORMAL in
 * WAL mode), for changes a power failure may undo without breaking a
 * promise: flags, expunges, the header cache. It is atomic all the same,
 * and the next full commit or checkpoint makes it durable (the log is
 * synced in order). Inside another transaction it is simply part of it. */
int meta__begin_relaxed(struct meta *m);
/* meta-power.c: at open, notes the boot and, after a power failure while
 * open, renumbers MODSEQs; at close, notes the clean close (a synced
 * commit). */
int meta__power_open(struct meta *m, bool *renumbered_r);
void meta__power_close(struct meta *m);
int meta__end_relaxed(struct meta *m, int r);
int64_t meta__now(struct meta *m);
void meta__bind_i64(sqlite3_stmt *st, int idx, int64_t v);
void meta__bind_text(sqlite3_stmt *st, int idx, const char *s);
void meta__bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t len);
int meta__exec(struct meta *m, const char *sql);
void meta__random_id(char prefix, char out[META_OID_MAX + 1]);

/* Checked column readers: -EBADMSG unless the column holds an integer in
 * [lo, hi] (or text of 1..max bytes, copied into out[max + 1]). */
int meta__col_int(sqlite3_stmt *st, int col, int64_t lo, int64_t hi, int64_t *v_r);
int meta__col_u32(sqlite3_stmt *st, int col, uint32_t lo, uint32_t hi, uint32_t *v_r);
int meta__col_text(sqlite3_stmt *st, int col, size_t max, char *out);
int meta__col_strdup(sqlite3_stmt *st, int col, size_t max, char **s_r);

/* meta-schema.c */
extern const char meta__schema_sql[];
extern const char meta__schema_v2_sql[];
int meta__info_get(struct meta *m, const char *name, int64_t *v_r);
int meta__info_set(struct meta *m, const char *name, int64_t v);

/* meta-name.c */
int meta__name_norm(const char *name, char out[META_NAME_MAX + 1], const char **error_r);
bool meta__name_is_inbox(const char *name);
int meta__file_check(const char *file);
int meta__ranges_norm(const struct meta_uid_range *set, size_t n, struct meta_uid_range **out_r,
		      size_t *n_r);

/* meta-mailbox.c */
int meta__mbox_by_name(struct meta *m, const char *name, struct meta__mbox *mb_r);
int meta__mbox_by_id(struct meta *m, int64_t id, struct meta__mbox *mb_r);
int meta__mbox_selectable(struct meta *m, int64_t id, struct meta__mbox *mb_r,
			  const char **error_r);
int meta__mbox_insert(struct meta *m, const char *name, bool selectable, const char *special_use,
		      int64_t *id_r);
int meta__mbox_exists(struct meta *m, const char *name, bool children, bool *exists_r);
int meta__mbox_bump(struct meta *m, int64_t id, uint32_t n_uids, uint32_t *first_uid_r,
		    uint64_t *modseq_r, const char **error_r);
int meta__create_parents(struct meta *m, const char *name);
int meta__default_mailboxes(struct meta *m);

/* meta-flags.c */
int meta__kw_load(struct meta *m);
void meta__kw_truncate(struct meta *m, uint32_t n);
void meta__kw_free(struct meta *m);
int meta__kw_ids(struct meta *m, const char *const *names, size_t n, bool create, uint32_t **ids_r,
		 size_t *n_r);
int meta__kw_decode(struct meta *m, const void *blob, size_t len, uint32_t **ids_r, size_t *n_r);
int meta__kw_encode(const uint32_t *ids, size_t n, uint8_t **blob_r, size_t *len_r);
int meta__msgs_push(struct meta_msgs *l, uint32_t uid, uint32_t flags, uint64_t modseq,
		    const uint32_t *kw, size_t kw_n);
int meta__msgs_push_row(struct meta *m, struct meta_msgs *l, sqlite3_stmt *st, int col);
int meta__uids_push(struct meta_uids *u, size_t *cap, uint32_t uid);

/* meta-message.c */
struct meta__inst {
	uint32_t uid;
	int64_t message_id;
	uint32_t flags;
	uint64_t modseq;
	uint8_t *kw_blob;
	size_t kw_len;
	uint64_t size;
	int64_t internal_date;
	int internal_tz;
	int64_t save_date;
};
int meta__inst_collect(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
		       size_t n_set, struct meta__inst **v_r, size_t *n_r);
void meta__inst_free(struct meta__inst *v, size_t n);
int meta__expunge_insts(struct meta *m, int64_t mailbox, const struct meta__inst *v, size_t n,
			uint64_t *modseq_r, const char **error_r);
int meta__copy_insts(struct meta *m, int64_t dst, const struct meta__inst *v, size_t n,
		     struct meta_copy_result *res, const char **error_r);
int meta__release_mailbox(struct meta *m, int64_t mailbox);

#endif
