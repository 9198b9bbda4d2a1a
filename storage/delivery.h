/* Delivery without the user's password (DESIGN.md section 4; manual "Unix
 * MDA", "Understanding the Filesystem", "Backups and Recovery", "How Crymap
 * Encryption Works"). Used by `sealmail deliver` now and by SMTP and LMTP
 * later; the store takes the messages in when the user logs in.
 *
 * Writing one message:
 *   1. A fresh random 32-byte content key encrypts the message as it
 *      streams in (msgfile.h): the temporary file in tmp/ never holds a
 *      byte of plaintext, and no other copy of the message is written.
 *   2. The content key is wrapped with RSA-OAEP (SHA-256) under the user's
 *      published external public key (keys_external_public); the message
 *      file's header records wrap kind DELIVERY_WRAP_KIND, the key's name
 *      and the 512-byte wrap.
 *   3. The file is finished, fsynced, and renamed without replacing
 *      anything to messages/XX/REST, where XX are the first two and REST
 *      the other 30 characters of its file name: 32 lowercase hex digits
 *      from 16 random bytes. 256 shard directories keep every directory
 *      small. Then the shard directory is fsynced, so a file that exists
 *      under messages/ is durable. The shard's own name in messages/ is
 *      made durable (an fsync of messages/, beside the shard's) by the
 *      first delivery into it, which then leaves an empty file
 *      DELIVERY_SHARD_MARK (".synced") in the shard; later deliveries that
 *      find it skip that fsync.
 *   4. Then one row goes into delivery.sqlite (below) in a transaction
 *      that is durable when it returns. Only after that does
 *      delivery_commit() return 0, and only then may a caller acknowledge
 *      the message (SMTP 250, MDA exit 0).
 * A group commit (delivery_commit_group) does the same for several
 * deliveries to one user, each step for all of them before the next: every
 * file fsynced, all renamed into one shard (chosen at random per group,
 * the rest of each name random as above), one fsync of that shard, one
 * transaction with all the rows. So each file is durable before its name
 * appears, and every name before any row; a crash anywhere leaves only
 * what a crash between steps 3 and 4 leaves, for several messages.
 * If step 4 fails, the file is unlinked again and the error returned, so
 * the sender retries and no duplicate appears. If the process dies between
 * steps 3 and 4 (or the unlink fails), the file is an orphan: maintenance
 * finds message files that neither meta.sqlite nor delivery.sqlite knows
 * and puts them in INBOX without flags, so nothing is lost, at worst the
 * mailbox and flags asked for and, if the sender retried, once duplicated.
 * Maintenance must leave alone files younger than DELIVERY_ORPHAN_GRACE
 * seconds: their row may be on its way. A crash before step 3 leaves an
 * unfinished, encrypted tmp/msg.* file that maintenance removes when stale.
 *
 * delivery.sqlite, in the user directory, is a clear SQLite database
 * (write-ahead log with synchronous=FULL, so a commit survives power loss
 * with one fsync of delivery.sqlite-wal; where the switch to WAL could
 * not be made, the rollback journal with synchronous=EXTRA; secure_delete)
 * with one table:
 *   pending(id INTEGER PRIMARY KEY, file_name TEXT NOT NULL UNIQUE,
 *           instructions BLOB NOT NULL)             PRAGMA user_version = 1
 * one row per delivered message not yet taken in, in order of delivery.
 * It holds no mailbox name, flag or date in the clear: the instructions
 * are sealed (crypto_seal, purpose DELIVERY_INSTRUCTIONS_PURPOSE) under the
 * message's own content key, so they open only after the RSA unwrap at
 * login, and they are padded to a multiple of DELIVERY_INSTRUCTIONS_PAD
 * bytes so their length says little about the mailbox's. Sealed with the
 * message's key, a blob opens with no other message's key: rows cannot be
 * swapped unnoticed. The clear format inside the seal (big-endian):
 *   u8 version = 1, u64 received (Unix seconds), u16 mailbox length M,
 *   M bytes mailbox, u8 flag count F, F times (u8 length L, L bytes flag),
 *   then zero bytes up to the padded length.
 * Removing delivery.sqlite* loses only mailbox and flag choices: the
 * pending files become orphans and reach INBOX (manual, as above).
 *
 * What the store does at login, for each row of delivery_pending_list() in
 * order, on the worker pool:
 *   - opens messages/XX/REST (delivery_message_path), msgfile_reader_open,
 *     takes msgfile_reader_wrap(): kind DELIVERY_WRAP_KIND, key_name names
 *     the external key pair; keys_load_private(key_name) (cached) and
 *     keys_rsa_unwrap() give the content key, msgfile_reader_set_key()
 *     checks it;
 *   - delivery_open_instructions() with that key; when it fails (a damaged
 *     or foreign row) or names a mailbox that does not exist, the message
 *     goes to INBOX without flags;
 *   - stores the file and its key (wrapped symmetrically) in meta.sqlite,
 *     then calls delivery_pending_done(). A crash between the two leaves
 *     the row: the store must find the file already in meta.sqlite and
 *     only drop the row. A row whose file is missing is dropped too.
 *
 * Names and flags (checked when a delivery begins, and again on opening):
 *   mailbox: valid UTF-8, 1..DELIVERY_MAILBOX_MAX bytes, '/' separates at
 *     most DELIVERY_MAILBOX_DEPTH components, none empty (so no leading,
 *     trailing or doubled '/'), none starting with '.' or '#'; no '%', '*',
 *     '\\', control characters (C0, DEL, C1), U+2028, U+2029, bidirectional
 *     controls or U+FEFF. "INBOX" in any case as the whole name becomes
 *     "INBOX"; INBOX has no children. These are the metadata layer's rules.
 *   flags: at most DELIVERY_FLAGS_MAX, each either one of the system flags
 *     \Answered \Flagged \Deleted \Seen \Draft (any case; stored in this
 *     spelling) or a keyword of 1..DELIVERY_FLAG_MAX atom characters
 *     (RFC 9051: 0x21-0x7e but ( ) { % * " \ ]). \Recent and any other
 *     backslash name are refused. Repeats (ignoring case) are dropped.
 *
 * Threads and blocking: every function is synchronous and blocks on the
 * file system, RSA and fsync: run them on the worker pool. They are
 * reentrant; any number of deliveries to one user may run at once, in
 * threads and in processes (random names, SQLite locking with a busy
 * timeout of DELIVERY_BUSY_TIMEOUT_MS). A struct delivery is used by one
 * thread at a time and may move between threads between calls. Between
 * calls, up to 16 connections to delivery.sqlite files stay open in a
 * per-process cache (a mutex guards it), each checked before reuse to
 * still have the file of that name open; a fork()ed child starts without
 * them. Removing delivery.sqlite* while deliveries run is noticed at the
 * next delivery.
 *
 * Errors: 0 or a negative errno code; every char **error_r receives on
 * failure a heap string for the log, one line, naming no message content
 * (the caller frees it; error_r may be NULL). Codes:
 *   -ENOENT   no such user: unknown, disabled ('%'), invalid name
 *   -EINVAL   bad mailbox, flag or option; an empty message (bad data)
 *   -EFBIG    the message is larger than the limit
 *   -ENOKEY   the user has no usable external public key (a broken account)
 *   -EBUSY    delivery.sqlite stayed locked for the whole busy timeout
 *   -EUCLEAN  delivery.sqlite is damaged (manual: remove delivery.sqlite*)
 *   -EPROTONOSUPPORT  delivery.sqlite has a newer schema than we know
 *   -EBADMSG  (opening instructions) wrong key, damaged or malformed blob
 *   others    from the system: -EIO, -ENOSPC, -EDQUOT, -EACCES, -EROFS ...
 * delivery_error_is_temporary() says which codes a sender should retry.
 */
#ifndef SEAL_STORAGE_DELIVERY_H
#define SEAL_STORAGE_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/msgfile.h"

#define DELIVERY_WRAP_KIND MSGFILE_WRAP_RSA_OAEP	/* "rsa-external" */
#define DELIVERY_INSTRUCTIONS_PURPOSE "sealmail v1 delivery instructions"
#define DELIVERY_INSTRUCTIONS_VERSION 1
#define DELIVERY_INSTRUCTIONS_PAD 256
#define DELIVERY_DB_NAME "delivery.sqlite"
#define DELIVERY_FILE_NAME_LEN 32	/* lowercase hex characters */
#define DELIVERY_MAILBOX_MAX 1024	/* bytes */
#define DELIVERY_MAILBOX_DEPTH 100	/* components */
#define DELIVERY_FLAGS_MAX 32
#define DELIVERY_FLAG_MAX 64		/* bytes of one keyword */
#define DELIVERY_BUSY_TIMEOUT_MS 30000
#define DELIVERY_ORPHAN_GRACE (60 * 60)	/* seconds */
#define DELIVERY_SHARD_MARK ".synced"	/* in messages/XX: its name is durable */

/* Line endings of the incoming message. Conversion only ever inserts a CR
 * before a LF that has none; it changes nothing else. */
enum delivery_eol {
	DELIVERY_EOL_KEEP = 0,		/* store the bytes as they come */
	DELIVERY_EOL_UNIX_TO_DOS,	/* every bare LF becomes CRLF */
	/* as UNIX_TO_DOS when the first line ending is a bare LF, else KEEP:
	 * a message that arrives with CRLF keeps every byte, binary too */
	DELIVERY_EOL_AUTO,
};

struct delivery_opts {
	const char *mailbox;		/* NULL: "INBOX" */
	const char *const *flags;	/* nflags names, see above */
	size_t nflags;
	enum delivery_eol eol;
	/* bytes stored (after conversion); 0, or more than SEAL_MAX_MESSAGE,
	 * means SEAL_MAX_MESSAGE */
	uint64_t max_size;
};

struct delivery;

/* Checks a mailbox name; on success *canonical_r (if not NULL) is a heap
 * copy in canonical form ("inbox" -> "INBOX"). -EINVAL with a static
 * reason in *error_r (if not NULL). */
int delivery_check_mailbox(const char *name, char **canonical_r, const char **error_r);

/* Checks one flag; *canonical_r as above ("\\seen" -> "\\Seen"). */
int delivery_check_flag(const char *flag, char **canonical_r, const char **error_r);

/* Starts a delivery to user_name, an entry of users_dir (userdir_lookup:
 * aliases followed, disabled users refused), under opts (NULL: defaults).
 * Checks the options, loads the public key, makes and wraps the content
 * key, and opens the encrypted temporary file. Returns 0 and *d_r, or
 * -ENOENT, -EINVAL, -ENOKEY, or an I/O error, with nothing left behind. */
int delivery_begin(const char *users_dir, const char *user_name, const struct delivery_opts *opts,
		   struct delivery **d_r, char **error_r);

/* Appends len bytes of the message (any split: line endings are converted
 * across calls). -EFBIG once the stored size would pass the limit. After
 * an error the delivery is failed: every later call returns that error and
 * only delivery_abort() remains. */
int delivery_write(struct delivery *d, const void *data, size_t len);

/* Finishes the delivery (steps 3 and 4 above) and frees it; *d becomes
 * NULL whatever the result. Returns 0 with *file_name_r (heap, may be NULL
 * when not wanted) once the message is durable and listed as pending; the
 * caller may then acknowledge it. -EINVAL for an empty message, the error
 * of a failed write, or a storage error; then nothing is left behind. */
int delivery_commit(struct delivery **d, char **file_name_r, char **error_r);

/* Ends the message: writes its last chunk and the trailer, and asks the
 * kernel to start writing the file back (no fsync yet: the commit does
 * it). Optional: the commits finish a delivery that is not finished yet.
 * A daemon runs it for each delivery on its own, so that this CPU work
 * and the write-back overlap while another group commits. Returns 0, or
 * the error (an empty message is -EINVAL) that the commit then returns. */
int delivery_finish(struct delivery *d);

/* The user directory the delivery writes to: deliveries with the same one
 * may share a group commit. Valid until the delivery is freed. */
const char *delivery_user_dir(const struct delivery *d);

/* Commits n deliveries to one user directory together (group commit,
 * above): each fsync and the delivery.sqlite commit once for the group
 * instead of once per message. Every ds[i] is freed and becomes NULL.
 * results_r[i] is what delivery_commit() would have returned for ds[i]:
 * only a delivery with 0 is durable and may be acknowledged; a failure of
 * one step fails every member still in it. file_names_r and errors_r
 * (either may be NULL) receive n heap strings or NULLs: the file name of
 * each committed delivery, the error text of each failed one. A delivery
 * to another user directory than the first good one fails with -EINVAL. */
void delivery_commit_group(struct delivery **ds, size_t n, int *results_r, char **file_names_r,
			   char **errors_r);

/* The group commit in stages: delivery_commit_group() is
 *   g = delivery_group_start(ds, n, &fds, &k); fsync each fds[i];
 *   m = delivery_group_place(g, results, &dirs); fsync each dirs[i];
 *   delivery_group_end(&g, dir_results, results_r, file_names_r, errors_r);
 * for a caller that would rather not hold a thread while fsyncs wait (the
 * daemon's workers are as many as its CPUs): it runs the stages on its
 * pool and makes the descriptors durable in between by anything that does
 * what fsync(2) does (Linux AIO's IOCB_CMD_FSYNC), in any order or all at
 * once, and hands back each result (0 or a negative errno). The
 * descriptors belong to the group: the caller does not close them. */
struct delivery_group;

/* Takes ds[0..n) over (each becomes NULL) and finishes every message.
 * *fds_r is an array of *nfds_r descriptors (the files still going; none
 * when every delivery failed), valid until delivery_group_end(). */
struct delivery_group *delivery_group_start(struct delivery **ds, size_t n, const int **fds_r,
					    size_t *nfds_r);

/* fsync_res[i] is the fsync of fds[i]. Renames the synced files into one
 * shard directory and returns how many directory descriptors *dir_fds_r
 * holds to fsync next (the shard, and messages/ while the shard has no
 * DELIVERY_SHARD_MARK): 1, 2, or 0 when no file is left to place. */
size_t delivery_group_place(struct delivery_group *g, const int *fsync_res,
			    const int **dir_fds_r);

/* dir_fsync_res[i] is the fsync of dir_fds[i] (none when place returned
 * 0). Commits the rows of the placed files in one transaction and ends the
 * group as delivery_commit_group() does: results_r[i], file_names_r and
 * errors_r are for the i-th delivery given to start. *g becomes NULL. */
void delivery_group_end(struct delivery_group **g, const int *dir_fsync_res, int *results_r,
			char **file_names_r, char **errors_r);

/* Discards the delivery: unlinks the temporary file, wipes the key, frees;
 * *d becomes NULL. NULL is fine. */
void delivery_abort(struct delivery **d);

/* begin, write everything read from in_fd until end of file, commit. A
 * read error is returned as it is (-EIO ...); reading stops as soon as the
 * message is too big (-EFBIG), so the rest of the input stays unread. */
int delivery_deliver_fd(const char *users_dir, const char *user_name, int in_fd,
			const struct delivery_opts *opts, char **file_name_r, char **error_r);

/* True for codes a sender should retry later (SMTP 4xx, MDA EX_TEMPFAIL):
 * locks, space, quotas, resources, permissions, a missing key or a damaged
 * database an administrator can repair, -EIO. False for -ENOENT, -EINVAL,
 * -EFBIG, and codes that mean a bug (-EBADMSG, -EPROTO ...). */
bool delivery_error_is_temporary(int err);

/* --- For the store, at login ------------------------------------------ */

/* True when name is a file name as delivery makes them (32 lowercase hex
 * digits). */
bool delivery_file_name_valid(const char *name);

/* user_dir/messages/XX/REST for a valid file name (heap; caller frees), or
 * NULL for an invalid one. */
char *delivery_message_path(const char *user_dir, const char *file_name);

struct delivery_pending {
	char *file_name;		/* valid, see delivery_file_name_valid */
	uint8_t *instructions;		/* sealed blob */
	size_t instructions_len;
};

/* The pending rows of user_dir/delivery.sqlite in delivery order, at most
 * max of them (0: all). Rows whose file name is not valid are skipped
 * (they cannot name a message file; an edited database). A missing
 * database is an empty list and is not created. On success the caller
 * frees the array with delivery_pending_free(). */
int delivery_pending_list(const char *user_dir, size_t max, struct delivery_pending **items_r,
			  size_t *n_r, char **error_r);
void delivery_pending_free(struct delivery_pending **items, size_t n);

/* Deletes the row of file_name, durably. Idempotent: 0 also when there is
 * no such row or no database. */
int delivery_pending_done(const char *user_dir, const char *file_name, char **error_r);

/* What a sealed blob says; delivery_open_instructions() fills it. */
struct delivery_instructions {
	char *mailbox;		/* canonical, checked */
	char **flags;		/* nflags canonical, checked flags */
	size_t nflags;
	int64_t received;	/* Unix time the delivery was committed */
};

/* Opens a sealed instructions blob with the message's content key and
 * checks what it says. Returns 0 and fills *out (free it with
 * delivery_instructions_free), or -EBADMSG for a wrong key, a damaged or
 * malformed blob, or names that fail the checks above. */
int delivery_open_instructions(const uint8_t key[CRYPTO_KEY_LEN], const uint8_t *blob,
			       size_t blob_len, struct delivery_instructions *out);
void delivery_instructions_free(struct delivery_instructions *in);

#endif
