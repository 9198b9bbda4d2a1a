/* The metadata layer of the encrypted store (DESIGN.md section 4): one
 * SQLite database per user, meta.sqlite, every page sealed by the
 * "sealcrypt" VFS (storage/vfs-crypt.h). It holds what IMAP needs to know
 * about mail but not the mail itself: the mailbox tree, subscriptions,
 * which message file sits in which mailbox under which UID, flags, MODSEQs,
 * the expunge log, the cached per-message keys, and a cache of message
 * header blocks (encrypted like every other page).
 *
 * Model.
 * - A mailbox has a UTF-8 full path with '/' as the hierarchy delimiter, an
 *   internal id (int64, never reused, what every per-mailbox call takes),
 *   UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and a MAILBOXID (RFC 8474, "I..." for
 *   INBOX, "M..." for others, random, stable across renames). Every mailbox's
 *   parent exists: CREATE and RENAME make missing parents. A \Noselect
 *   mailbox is a name kept for its children after DELETE (RFC 9051 6.3.5).
 * - A message is one message file (messages/<file>) with its size, EMAILID
 *   (RFC 8474, "E...") and an opaque key blob. Instances are (mailbox, UID)
 *   rows that point at a message: COPY makes new instances of the same
 *   message, so copies share EMAILID, file and key.
 * - Flags: the five system flags as bits, keywords as small integer ids from
 *   an account-wide table (case-insensitive names, RFC 9051 2.3.2, never
 *   deleted, no limit on their number). The whole flag set of an instance is
 *   one row: a change is atomic and takes one new MODSEQ.
 * - MODSEQ (RFC 7162): per mailbox, strictly increasing, 1 .. 2^63-1. Each
 *   operation takes the next value once, for all the messages it changes:
 *   an APPEND, a COPY or MOVE into the mailbox, a STORE, an EXPUNGE.
 * - Every expunge is remembered while the mailbox exists (QRESYNC VANISHED)
 *   with its MODSEQ and time. A message file is purged only when no live
 *   instance refers to it and the last instance went away more than 24 hours
 *   ago, so sessions that have not seen an expunge can still read it.
 *
 * Names. The IMAP layer decodes modified UTF-7 and removes leading and
 * duplicate '/'; we validate (meta_name_check): valid UTF-8, 1 to
 * META_NAME_MAX bytes, at most META_NAME_DEPTH components, none empty, none
 * beginning with '.' or '#', no '%', '*', '\\', C0/C1 control characters,
 * DEL, or the Unicode line/paragraph separators, bidirectional controls and
 * BOM. "INBOX" is matched case-insensitively (as the first component) and
 * stored as "INBOX"; INBOX has no children.
 *
 * UID sets are arrays of struct meta_uid_range, in any order, possibly
 * overlapping; each range has 1 <= lo <= hi. UIDs that match no message are
 * ignored (RFC 9051 6.4.9).
 *
 * Threads. The layer is synchronous. A handle is used by one thread at a
 * time (the loop for reads, the worker pool for commits) and may move
 * between threads between calls; it must not be used across fork(). Each
 * public call is one SQLite transaction (BEGIN IMMEDIATE for writes), unless
 * the caller opened one with meta_begin(), in which case it is a savepoint
 * inside it.
 *
 * Errors: 0 or a positive count on success, else a negative errno:
 *   -ENOENT     no such mailbox (or it is \Noselect where a selectable one is
 *               needed), message or UID: IMAP [NONEXISTENT] / [TRYCREATE]
 *   -EEXIST     the name exists: [ALREADYEXISTS]
 *   -EINVAL     a bad name, keyword, flag, range or argument
 *   -EPERM      not allowed: deleting INBOX, children of INBOX, \All
 *   -ENOTEMPTY  deleting a \Noselect mailbox that has children: [HASCHILDREN]
 *   -EOVERFLOW  the mailbox has used all its UIDs or MODSEQs: [LIMIT]
 *   -EAGAIN, -ENOSPC, -EIO, -ENOMEM, -EROFS
 *               temporary storage failures: NO [UNAVAILABLE]
 *   -EBADMSG    the database is damaged or holds values out of range
 *   -EPROTONOSUPPORT  (meta_open) written by a newer version of sealmail
 * Where a function takes error_r, *error_r (if error_r is not NULL) is set
 * on failure to a static string saying what failed, never containing user
 * data. On failure, output parameters hold nothing the caller must free.
 */
#ifndef SEAL_STORAGE_META_H
#define SEAL_STORAGE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define META_KEY_LEN 32
#define META_SCHEMA_VERSION 2

#define META_NAME_MAX 1024	/* bytes in a mailbox path */
#define META_NAME_DEPTH 100	/* components in a mailbox path */
#define META_KEYWORD_MAX 1024	/* bytes in a keyword */
#define META_FILE_MAX 255	/* bytes in a message file name */
#define META_KEY_BLOB_MAX 4096	/* bytes in a message key blob */
#define META_HEADER_MAX 65536	/* bytes in a cached header block */
#define META_OID_MAX 32		/* bytes in a MAILBOXID or EMAILID */
#define META_UID_MAX 4294967294u	/* highest UID ever allocated */
#define META_MODSEQ_MAX INT64_MAX
#define META_PURGE_DELAY (24 * 60 * 60)	/* seconds an expunged file stays */

/* System flags (RFC 9051 2.3.2). \Recent is not stored as a flag: see
 * meta_claim_recent(). */
#define META_FLAG_ANSWERED 0x01u
#define META_FLAG_FLAGGED 0x02u
#define META_FLAG_DELETED 0x04u
#define META_FLAG_SEEN 0x08u
#define META_FLAG_DRAFT 0x10u
#define META_FLAGS_ALL 0x1fu

/* Mailbox attributes in LIST results. */
#define META_MBOX_NOSELECT 0x01u	/* \Noselect */
#define META_MBOX_HAS_CHILDREN 0x02u	/* else \HasNoChildren */
#define META_MBOX_SUBSCRIBED 0x04u	/* \Subscribed */
#define META_MBOX_NONEXISTENT 0x08u	/* subscribed name, no mailbox */

struct meta;

/* Opening and closing. */

/* Opens (create: creates if missing) the database at path with the 32-byte
 * page key (from CRYPTO_LABEL_METADATA_DB; copied, the caller may wipe its
 * own). A new database gets the schema, version META_SCHEMA_VERSION, and
 * the default mailboxes INBOX, Archive (\Archive), Drafts (\Drafts), Sent
 * (\Sent), Spam (\Junk) and Trash (\Trash), all subscribed. An older schema
 * is migrated; a newer one is refused with -EPROTONOSUPPORT. Other errors
 * are those of vfs_crypt_open() (-EACCES for a wrong key, -ENOENT when the
 * file is missing and create is false) and the list above.
 * On success *m_r is a handle for meta_close(). */
int meta_open(const char *path, const uint8_t key[META_KEY_LEN], bool create,
	      struct meta **m_r, const char **error_r);

/* Closes the handle (rolling back an open meta_begin()), wipes the key it
 * kept, sets *m to NULL. NULL is fine. Closing syncs every commit. */
void meta_close(struct meta **m);

/* Durability. Commits that add, copy, move or forget messages or change
 * mailboxes are synced before they return. Flag changes and expunges are
 * not (nor the header cache): a power failure may undo the newest of them,
 * never half of one, and never one made before a synced commit, a
 * meta_sync() or a close. So that no client is misled about MODSEQs,
 * opening a database that was open when its machine went down gives every
 * message a new MODSEQ beyond all earlier ones (meta_renumbered() says so);
 * the boot is told from /proc/sys/kernel/random/boot_id, read by
 * meta_boot_id_init() (call it before a chroot; later calls do nothing). */
int meta_sync(struct meta *m, const char **error_r);
bool meta_renumbered(const struct meta *m);
void meta_boot_id_init(void);

/* The clock used for SAVEDATE, expunge times and message creation times:
 * by default time(NULL). Tests inject time here; fn NULL restores it. */
void meta_set_clock(struct meta *m, int64_t (*fn)(void *ctx), void *ctx);

/* Writes a consistent copy of the database to dest_path through SQLite's
 * online backup API, encrypted under the same key: into dest_path.tmp
 * first, then fsync and rename, so dest_path is either the old file or a
 * whole new backup. Restoring means copying such a file over meta.sqlite
 * and removing meta.sqlite-wal and -shm, with no handle open.
 * Not inside meta_begin(). Returns 0 or a negative errno. */
int meta_backup(struct meta *m, const char *dest_path, const char **error_r);

/* Runs SQLite's integrity and foreign key checks: 0, or -EBADMSG with
 * *error_r saying which failed. */
int meta_check(struct meta *m, const char **error_r);

/* Groups several calls in one transaction (MULTIAPPEND is all or nothing):
 * meta_begin(), calls, then meta_commit() or meta_rollback(). A call that
 * fails inside rolls back its own part only; the caller decides. Not
 * nested. meta_commit() returns 0 or a negative errno (nothing committed). */
int meta_begin(struct meta *m);
int meta_commit(struct meta *m);
void meta_rollback(struct meta *m);

/* Names, flags, special use. */

/* 0 if name is a valid mailbox path (rules above), else -EINVAL with a
 * reason. Does not look at the database. */
int meta_name_check(const char *name, const char **error_r);

/* The META_FLAG_ bit of a system flag name ("\\Seen", any case), or 0 if
 * it is not one. meta_flag_name() gives the name of one bit ("\\Seen"). */
uint32_t meta_flag_parse(const char *name);
const char *meta_flag_name(uint32_t bit);

/* 0 if kw is a valid keyword: 1 to META_KEYWORD_MAX atom characters
 * (RFC 9051: 0x21-0x7e but ( ) { % * " \ ]). Else -EINVAL. */
int meta_keyword_check(const char *kw);

/* The name of keyword id, as first created (case kept), or NULL if there
 * is no such keyword. Valid until meta_close(), except that a keyword
 * created inside a transaction that is rolled back (meta_rollback(), or a
 * call that failed) disappears with it. */
const char *meta_keyword_name(struct meta *m, uint32_t id);

/* Special-use attributes (RFC 6154, RFC 8457): the canonical spelling of
 * name ("\\Archive", "\\Drafts", "\\Flagged", "\\Important", "\\Junk",
 * "\\Sent", "\\Trash"; any case) in *canon_r, or -EPERM for "\\All" (no
 * all-mail view) and -EINVAL for anything else. */
int meta_special_use_parse(const char *name, const char **canon_r);

/* Mailboxes. */

struct meta_mailbox {
	char *name;		/* owned by the list */
	int64_t id;
	uint32_t attrs;		/* META_MBOX_ */
	const char *special_use;	/* static string or NULL */
	char object_id[META_OID_MAX + 1];	/* MAILBOXID, "" if nonexistent */
};

struct meta_mailbox_list {
	struct meta_mailbox *v;
	size_t n;
};

/* Every mailbox, and with subscribed_too every subscribed name that is not
 * a mailbox (META_MBOX_NONEXISTENT, id 0), sorted by name in byte order.
 * The caller matches LIST patterns. Free with meta_mailbox_list_free(). */
int meta_list(struct meta *m, bool subscribed_too, struct meta_mailbox_list *list_r,
	      const char **error_r);
void meta_mailbox_list_free(struct meta_mailbox_list *list);

/* Creates name (RFC 9051 6.3.4) and any missing parents (plain mailboxes),
 * with special_use (canonical or any case, NULL for none) on name itself.
 * Creating over a \Noselect name makes it a fresh mailbox (new id,
 * UIDVALIDITY and MAILBOXID). -EEXIST if it exists, -EPERM for a child of
 * INBOX or \All. *id_r (may be NULL) receives the new mailbox id. */
int meta_create(struct meta *m, const char *name, const char *special_use, int64_t *id_r,
		const char **error_r);

/* Deletes name (RFC 9051 6.3.5). A leaf is removed with its expunge log; a
 * mailbox with children becomes \Noselect (a new row: the old id is gone);
 * either way its messages are expunged. -EPERM for INBOX, -ENOTEMPTY for a
 * \Noselect mailbox with children, -ENOENT if there is no such name.
 * Subscriptions are kept. */
int meta_delete(struct meta *m, const char *name, const char **error_r);

/* Renames from to to (RFC 9051 6.3.6) with all its children, creating the
 * missing parents of to. Ids, UIDVALIDITY, MAILBOXID and UIDs stay.
 * Renaming INBOX moves its messages (new UIDs, same EMAILIDs) to a new
 * mailbox called to and leaves INBOX empty; its children, if any existed,
 * would stay. -ENOENT, -EEXIST (to or one of the renamed children's new
 * names exists), -EINVAL (to is inside from, or a new name breaks the
 * limits), -EPERM (to is under INBOX). Subscriptions are not changed. */
int meta_rename(struct meta *m, const char *from, const char *to, const char **error_r);

/* Subscriptions are names, independent of mailboxes (RFC 9051 6.3.7, 6.3.8):
 * both succeed whether or not the name exists or was subscribed; -EINVAL
 * for an invalid name. */
int meta_subscribe(struct meta *m, const char *name, const char **error_r);
int meta_unsubscribe(struct meta *m, const char *name, const char **error_r);

struct meta_status {
	int64_t id;
	bool noselect;		/* then only id, object_id and noselect are set */
	uint32_t messages;
	uint32_t unseen;	/* without \Seen */
	uint32_t deleted;	/* with \Deleted */
	uint32_t recent;	/* UIDs not yet claimed by meta_claim_recent */
	uint64_t size;		/* sum of RFC822 sizes (STATUS=SIZE) */
	uint32_t uidnext;
	uint32_t uidvalidity;
	uint64_t highest_modseq;
	const char *special_use;
	char object_id[META_OID_MAX + 1];
};

/* The id of the selectable mailbox called name (APPEND, COPY and MOVE
 * targets), without counting its messages as meta_status() does. -ENOENT
 * if there is none or it is \Noselect. */
int meta_mailbox_find(struct meta *m, const char *name, int64_t *id_r, const char **error_r);

/* STATUS of name, or the mailbox id when name is NULL. -ENOENT if none. */
int meta_status(struct meta *m, const char *name, int64_t id, struct meta_status *st_r,
		const char **error_r);

/* Messages and their instances. */

struct meta_uid_range {
	uint32_t lo, hi;
};

/* Registers a message file: file is the name relative to messages/
 * (1 to META_FILE_MAX bytes of [A-Za-z0-9._/-], no "..", no leading '/'),
 * size its RFC822 size, key/key_len the key blob (NULL, 0 for none; at most
 * META_KEY_BLOB_MAX). The message belongs to no mailbox until meta_append()
 * (group both in meta_begin() where possible); one that never gets there,
 * because the process died in between, is never purged but listed by
 * meta_unplaced(). -EEXIST if the file is known. *message_id_r receives
 * the message id. */
int meta_add_message(struct meta *m, const char *file, uint64_t size, const void *key,
		     size_t key_len, int64_t *message_id_r, const char **error_r);

/* Replaces the key blob of a message (the store caches the unwrapped
 * message key there, sealed, after its one RSA operation). key NULL clears
 * it. -ENOENT if the message is gone. */
int meta_set_message_key(struct meta *m, int64_t message_id, const void *key, size_t key_len,
			 const char **error_r);

struct meta_append_req {
	int64_t message_id;
	uint32_t flags;			/* META_FLAG_ bits */
	const char *const *keywords;	/* created as needed */
	size_t n_keywords;
	int64_t internal_date;		/* seconds since the epoch, UTC */
	int internal_tz;		/* zone offset in minutes, -1439..1439 */
};

struct meta_appended {
	uint32_t uidvalidity;
	uint32_t uid;
	uint64_t modseq;
};

/* APPEND: a new instance of message_id in mailbox, UID = UIDNEXT, SAVEDATE
 * = now. -ENOENT (no mailbox, \Noselect, no message), -EOVERFLOW (no UID
 * left), -EINVAL (flags or keywords). */
int meta_append(struct meta *m, int64_t mailbox, const struct meta_append_req *req,
		struct meta_appended *res_r, const char **error_r);

struct meta_uid_pair {
	uint32_t src, dst;
};

struct meta_copy_result {
	uint32_t uidvalidity;	/* of the destination (COPYUID) */
	uint64_t modseq;	/* taken in the destination; 0 if n == 0 */
	uint64_t src_modseq;	/* MOVE: taken in the source; 0 if n == 0 */
	struct meta_uid_pair *map;	/* n pairs in source UID order; free() */
	size_t n;
};

/* COPY: new instances in dst of the messages of src in the UID set, in
 * source UID order, with their flags, internal dates, new UIDs and SAVEDATE
 * now. All or nothing: -EOVERFLOW if dst lacks the UIDs. src may equal dst.
 * Free res_r->map with free() (or meta_copy_result_free). */
int meta_copy(struct meta *m, int64_t src, const struct meta_uid_range *set, size_t n_set,
	      int64_t dst, struct meta_copy_result *res_r, const char **error_r);

/* MOVE (RFC 6851): meta_copy() and the expunge of the copied source
 * instances in one transaction; res_r->src_modseq is the expunge's MODSEQ.
 * src must differ from dst (-EINVAL). */
int meta_move(struct meta *m, int64_t src, const struct meta_uid_range *set, size_t n_set,
	      int64_t dst, struct meta_copy_result *res_r, const char **error_r);
void meta_copy_result_free(struct meta_copy_result *res);

struct meta_uids {
	uint32_t *v;	/* ascending; free() or meta_uids_free() */
	size_t n;
};
void meta_uids_free(struct meta_uids *u);

#define META_EXPUNGE_ANY 0x01u	/* expunge whether \Deleted or not (XVANQUISH) */

/* EXPUNGE / UID EXPUNGE: removes the instances with \Deleted (any with
 * META_EXPUNGE_ANY) in the UID set (set NULL: the whole mailbox), logs them
 * with one new MODSEQ (*modseq_r, 0 if nothing was expunged) and the time,
 * and returns their UIDs. */
int meta_expunge(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
		 size_t n_set, uint32_t flags, struct meta_uids *uids_r, uint64_t *modseq_r,
		 const char **error_r);

/* A list of instances with their flags. Keyword ids of v[i] are
 * kw[v[i].kw_off .. v[i].kw_off + v[i].kw_n), ascending. */
struct meta_msg {
	uint32_t uid;
	uint32_t flags;		/* META_FLAG_ */
	uint64_t modseq;
	uint32_t kw_off, kw_n;
};

struct meta_msgs {
	struct meta_msg *v;
	size_t n, cap;
	uint32_t *kw;
	size_t kw_n, kw_cap;
};
void meta_msgs_free(struct meta_msgs *l);

enum meta_store_op {
	META_STORE_REPLACE,	/* FLAGS */
	META_STORE_ADD,		/* +FLAGS */
	META_STORE_REMOVE,	/* -FLAGS */
};

#define META_UNCHANGED_ANY UINT64_MAX	/* no UNCHANGEDSINCE */

struct meta_store_req {
	enum meta_store_op op;
	uint32_t flags;
	const char *const *keywords;	/* created for REPLACE and ADD */
	size_t n_keywords;
	uint64_t unchanged_since;	/* RFC 7162 3.1.3, or META_UNCHANGED_ANY */
};

struct meta_store_result {
	uint64_t modseq;	/* given to every changed message; 0 if none */
	struct meta_msgs changed;	/* new flags, new MODSEQ */
	struct meta_msgs unchanged;	/* already had them: flags, old MODSEQ */
	struct meta_uids modified;	/* refused: MODSEQ > UNCHANGEDSINCE */
};

/* STORE / UID STORE on the UID set. A message whose MODSEQ is greater than
 * unchanged_since is left alone and listed in modified (so UNCHANGEDSINCE 0
 * refuses every message: RFC 7162 3.1.3, whole flag sets being compared).
 * The others get the new flag set; those for which it differs change
 * atomically, all with one new MODSEQ. Free with meta_store_result_free(). */
int meta_store(struct meta *m, int64_t mailbox, const struct meta_uid_range *set,
	       size_t n_set, const struct meta_store_req *req, struct meta_store_result *res_r,
	       const char **error_r);
void meta_store_result_free(struct meta_store_result *res);

/* Synchronisation. */

struct meta_snapshot {
	int64_t id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highest_modseq;
	char object_id[META_OID_MAX + 1];
	uint32_t permanent_flags;	/* META_FLAGS_ALL; new keywords allowed */
	char **keywords;	/* every keyword name, index = id; owned */
	size_t n_keywords;
	struct meta_msgs msgs;	/* every instance, UID order */
};

/* SELECT / EXAMINE of name: one consistent view. -ENOENT if name is no
 * selectable mailbox. Free with meta_snapshot_free(). */
int meta_snapshot(struct meta *m, const char *name, struct meta_snapshot *snap_r,
		  const char **error_r);
void meta_snapshot_free(struct meta_snapshot *snap);

struct meta_changes {
	uint32_t uidnext;
	uint64_t highest_modseq;
	struct meta_msgs msgs;	/* MODSEQ > since: new or changed, UID order */
	struct meta_uids expunged;	/* expunged with MODSEQ > since */
};

/* What happened in mailbox after MODSEQ since: for a session's poll and
 * for QRESYNC (RFC 7162 3.2.5; the caller restricts VANISHED (EARLIER) to
 * the client's known UIDs). -ENOENT if the mailbox is gone (deleted or
 * renamed over: the session should end). Free with meta_changes_free(). */
int meta_changes(struct meta *m, int64_t mailbox, uint64_t since, struct meta_changes *ch_r,
		 const char **error_r);
void meta_changes_free(struct meta_changes *ch);

/* \Recent (IMAP4rev1): atomically gives this caller the UIDs
 * [*first_r, *last_r] no earlier claim covered, and moves the mailbox's
 * threshold to UIDNEXT. None: *first_r > *last_r. Some UIDs in the range
 * may already be expunged. EXAMINE must not call it. */
int meta_claim_recent(struct meta *m, int64_t mailbox, uint32_t *first_r, uint32_t *last_r,
		      const char **error_r);

struct meta_message_info {
	int64_t message_id;
	char *file;		/* owned */
	uint64_t size;
	char email_id[META_OID_MAX + 1];
	uint8_t *key;		/* owned, NULL if none */
	size_t key_len;
	int64_t internal_date;
	int internal_tz;
	int64_t save_date;
	bool missing;		/* meta_set_missing(): show a stub */
	bool header_cached;	/* the header cache has its header (meta_headers) */
	bool expunged;		/* read through the expunge log */
	int64_t expunged_at;
};

/* What FETCH needs of (mailbox, uid) to read the message: a live instance,
 * or one expunged whose message is not yet purged (the 24-hour rule: the
 * caller decides whether the session may still see it). -ENOENT if none.
 * Free with meta_message_info_free() (wipes the key). */
int meta_lookup(struct meta *m, int64_t mailbox, uint32_t uid, struct meta_message_info *info_r,
		const char **error_r);
void meta_message_info_free(struct meta_message_info *info);

struct meta_fetch_item {
	uint32_t uid;
	int64_t message_id;
	uint64_t size;
	int64_t internal_date;
	int internal_tz;
	int64_t save_date;
	bool missing;
	char email_id[META_OID_MAX + 1];
};

struct meta_fetch_list {
	struct meta_fetch_item *v;	/* UID order */
	size_t n;
};

/* The per-message attributes FETCH returns without reading the file
 * (INTERNALDATE, RFC822.SIZE, EMAILID, SAVEDATE) for the live instances of
 * mailbox in the UID set, in one scan: a client's first sync of a large
 * mailbox should not cost one meta_lookup() per message. Free with
 * meta_fetch_list_free(). */
int meta_fetch(struct meta *m, int64_t mailbox, const struct meta_uid_range *set, size_t n_set,
	       struct meta_fetch_list *list_r, const char **error_r);
void meta_fetch_list_free(struct meta_fetch_list *list);

/* Flags, keywords and MODSEQ of the live instances of mailbox in the UID
 * set, in UID order, in one scan (FETCH FLAGS of a few messages of a large
 * mailbox reads only those). Free with meta_msgs_free(). */
int meta_flags(struct meta *m, int64_t mailbox, const struct meta_uid_range *set, size_t n_set,
	       struct meta_msgs *list_r, const char **error_r);

/* The header cache. A message's header block (its first bytes, up to and
 * including the blank line, at most META_HEADER_MAX) stored once a reader
 * has found it, with an optional count the reader defines (the IMAP layer:
 * the lines of a single-part body, which BODYSTRUCTURE needs): what a
 * FETCH of headers needs without opening the message file. One entry per
 * message, whatever the number of its instances; purging the message
 * (meta_forget) removes it. The bytes are exactly the file's: a caller
 * that cannot vouch for them stores nothing. */

struct meta_header {
	uint32_t uid;
	int64_t message_id;
	uint64_t size;		/* the message's RFC822 size */
	int64_t body_lines;	/* -1 when none was stored */
	uint8_t *data;		/* the header block; NULL when asked for presence only */
	size_t len;		/* its length (also when data is NULL) */
};

struct meta_header_list {
	struct meta_header *v;	/* UID order */
	size_t n;
	uint32_t covered;	/* the answer is complete for UIDs lo..covered */
};

/* The cached headers of the live instances of mailbox with UIDs in
 * [lo, hi] whose message is not marked missing (meta_set_missing: those
 * read as stubs), in UID order. The answer stops after max_n entries, or
 * after the entry that brings the bytes read to max_bytes or more, so
 * memory stays bounded (a single entry can pass max_bytes by up to
 * META_HEADER_MAX); list_r->covered says how far it got: a UID in
 * [lo, covered] without an entry has no cached header. with_data false
 * reads no header bytes (which instances have an entry, and their lengths).
 * -ENOENT if the mailbox is gone, -EINVAL for lo > hi or max_n 0. Free
 * with meta_header_list_free() (wipes the bytes). */
int meta_headers(struct meta *m, int64_t mailbox, uint32_t lo, uint32_t hi, size_t max_n,
		 size_t max_bytes, bool with_data, struct meta_header_list *list_r,
		 const char **error_r);
void meta_header_list_free(struct meta_header_list *list);

struct meta_header_put {
	int64_t message_id;
	uint64_t size;		/* the size of the message the header was read from */
	int64_t body_lines;	/* -1 for none */
	const void *data;
	size_t len;		/* 1 .. META_HEADER_MAX */
};

/* Stores n entries in one transaction, replacing older entries of the same
 * messages. An entry whose message is gone, or whose size is not the
 * message's recorded size, is skipped. The commit does not wait for the
 * disk (synchronous=NORMAL, WAL): a power cut may lose the newest entries,
 * never corrupt the database, and a lost entry is only read again from the
 * file. Not inside meta_begin(). Returns how many were stored, or -EINVAL
 * (a length out of range) or a storage error. */
int meta_headers_put(struct meta *m, const struct meta_header_put *v, size_t n,
		     const char **error_r);

/* Maintenance. */

struct meta_files {
	char **v;		/* owned strings */
	int64_t *ids;		/* message ids, parallel to v */
	size_t n;
};
void meta_files_free(struct meta_files *f);

/* Every message file the database knows (live, expunged and not yet
 * forgotten), sorted: files under messages/ that are not listed are
 * orphans for the store to bring into INBOX. (Files younger than a delivery
 * take should be left for the next scan: their row may not be written yet.) */
int meta_message_files(struct meta *m, struct meta_files *files_r, const char **error_r);

/* Records that a message's file is missing (or back): meta_lookup() then
 * reports missing, and the store shows a stub. -ENOENT if no such file. */
int meta_set_missing(struct meta *m, const char *file, bool missing, const char **error_r);

struct meta_loc {
	int64_t mailbox;
	uint32_t uid;
};

/* The live instances whose message is marked missing. *locs_r is an array
 * of *n_r entries to free(). */
int meta_missing_instances(struct meta *m, struct meta_loc **locs_r, size_t *n_r,
			   const char **error_r);

/* Messages added at or before created_before that never had an instance
 * (at most max): the store appends them to INBOX as it does orphan files
 * (manual: Backups and Recovery), so a crash between meta_add_message() and
 * meta_append() loses no mail. Pass a time older than any add in progress. */
int meta_unplaced(struct meta *m, int64_t created_before, size_t max, struct meta_files *files_r,
		  const char **error_r);

/* Purging is two steps so that a crash never brings a deleted message back
 * as an orphan: meta_purgeable() lists (at most max) messages with no live
 * instance whose last instance went away at or before now -
 * META_PURGE_DELAY; the store unlinks their files (ENOENT counting as done);
 * meta_forget() then deletes those rows that still have no live instance,
 * and returns how many it deleted. */
int meta_purgeable(struct meta *m, int64_t now, size_t max, struct meta_files *files_r,
		   const char **error_r);
int meta_forget(struct meta *m, const int64_t *message_ids, size_t n, const char **error_r);

/* For IMAP XCRY PURGE: like meta_purgeable(), but the messages expunged
 * from mailbox (its expunge log names them) that no live instance holds,
 * at any age. meta_forget() follows as above. */
int meta_purgeable_mailbox(struct meta *m, int64_t mailbox, size_t max,
			   struct meta_files *files_r, const char **error_r);

#endif
