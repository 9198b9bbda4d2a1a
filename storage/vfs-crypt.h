/* The encrypted SQLite store (DESIGN.md section 4): a shim VFS called
 * "sealcrypt" over SQLite's "unix" VFS that seals every database page with
 * AES-256-GCM before it reaches the disk, in the database file and in its
 * write-ahead log alike.
 *
 * On-disk format of one 4096-byte page, in the database file and in the data
 * part of every WAL frame:
 *   offset  length  field
 *   0       4064    AES-256-GCM ciphertext of the first 4064 bytes SQLite
 *                   wrote (everything but its 32 reserved bytes)
 *   4064    12      nonce, random for every write
 *   4076    16      GCM tag
 *   4092    4       zero
 * The AAD is "sealmail-db" or "sealmail-wal" followed by the page's byte
 * offset in its file as a 64-bit big-endian number, so a page copied to
 * another place or into the other file does not authenticate. The 32 bytes
 * SQLite reserves at the end of each page (we ask for them when the database
 * is created) are where nonce and tag live; SQLite never stores data there.
 * The 32-byte WAL header and the 24-byte frame headers stay in the clear:
 * they hold page numbers, salts and SQLite's checksums, no page content
 * (but see below on the checksums). The -shm wal-index, page numbers and
 * hashes, is passed through untouched.
 *
 * Only the database file and its WAL are ever opened. Every other file SQLite
 * might create (rollback journal, temporary database, statement or sorter
 * spill files, super-journal, another database through ATTACH or VACUUM
 * INTO) is refused with SQLITE_CANTOPEN, so nothing reaches the disk in the
 * clear; vfs_crypt_open() configures the connection so none is needed, and
 * the VFS also refuses the pragmas that would need them or break the format
 * (journal_mode other than WAL, temp_store other than MEMORY, page_size other
 * than 4096, mmap_size other than 0) with an error naming "sealcrypt".
 *
 * Failures: a page that does not authenticate (wrong key, any changed bit,
 * a page moved, a hole of zeros, a page cut short) is never handed to
 * SQLite; the read fails with SQLITE_IOERR_DATA, so the statement fails
 * (vfs_crypt_errno() says -EBADMSG) and other pages stay readable. A read
 * wholly past the end of a file is SQLITE_IOERR_SHORT_READ with zeros, as in
 * the unix VFS.
 *
 * What the format does not protect against (no per-page format can): a
 * whole file, or one page, replaced by an older version of itself written
 * under the same key (rollback), and the WAL cut short to an earlier commit.
 * A damaged frame in the WAL is treated by SQLite's recovery as the end of
 * the log, as it treats a torn write, so the database opens in the state of
 * the last intact commit before it.
 *
 * What stays visible: file sizes, which page numbers each WAL frame holds
 * and which frames commit, and the two 32-bit running checksums in each
 * frame header, which SQLite computes over the plaintext page before we see
 * it. Each frame's checksum follows from the previous frame's (also clear)
 * and its own page, so it gives away 64 bits of a linear function of that
 * page: nothing useful about a page with much unknown content, but someone
 * who can guess all of a page but a few bytes can check the guess or solve
 * for those bytes. Frame headers stay in the -wal file until overwritten or
 * until the last connection closes and deletes it; the database file
 * carries no such checksum.
 *
 * Thread safety: vfs_crypt_register() and vfs_crypt_open() may be called
 * from any thread at any time. A returned handle may move between threads
 * (the worker pool) but is used by one thread at a time. The key registry
 * behind the VFS is guarded by a mutex.
 */
#ifndef SEAL_STORAGE_VFS_CRYPT_H
#define SEAL_STORAGE_VFS_CRYPT_H

#include <stdint.h>

#include <sqlite3.h>

#define VFS_CRYPT_NAME "sealcrypt"
#define VFS_CRYPT_KEY_LEN 32
#define VFS_CRYPT_PAGE_SIZE 4096
#define VFS_CRYPT_RESERVE 32	/* nonce 12, tag 16, zero 4 */

/* Registers the "sealcrypt" VFS with SQLite (not as the default VFS).
 * Idempotent and thread-safe. Returns 0, or -EIO when SQLite has no "unix"
 * VFS to build on. vfs_crypt_open() calls it itself. */
int vfs_crypt_register(void);

/* Opens the encrypted database at path with key, creating it when flags
 * include SQLITE_OPEN_CREATE (flags: SQLITE_OPEN_READWRITE or
 * SQLITE_OPEN_READONLY, optionally SQLITE_OPEN_CREATE; other bits are
 * ignored). On a new database it sets page size 4096, 32 reserved bytes per
 * page and journal_mode=WAL before anything is written; on every open it sets
 * temp_store=MEMORY, secure_delete=ON, mmap_size=0, cell_size_check=ON and a
 * busy timeout of 5 s (the caller may change it), then reads the schema to
 * prove the key. The handle may then be used like any SQLite handle.
 *
 * The key is copied; the caller may wipe its own copy as soon as this
 * returns. The copy is kept in a registry entry named after the database
 * file, shared by every connection to that file and by its WAL, and is wiped
 * and freed when the last file of that database closes. While a database is
 * open, opening it again with a different key fails with -EACCES without
 * reading it.
 *
 * On success returns 0 and sets *db_r to a handle the caller closes with
 * vfs_crypt_close(). On failure *db_r is NULL and the return value is
 *   -EACCES  wrong key, or the first page does not authenticate (damaged or
 *            not a sealcrypt database), or the database is open in this
 *            process under another key
 *   -ENOENT  no database at path and SQLITE_OPEN_CREATE not given
 *   -EBUSY   the database is locked by another process for too long
 *   -ENOMEM  out of memory inside SQLite
 *   -EIO     anything else (I/O errors, an unusable existing database)
 * and *error_r, when error_r is not NULL, points to a static string saying
 * what failed (never containing the key or data).
 *
 * While open, SQLite's page cache holds plaintext pages in its own heap,
 * which SQLite frees without wiping; the key and its AES schedule are wiped
 * by us. As with any SQLite handle, do not use it across fork(). */
int vfs_crypt_open(const char *path, const uint8_t key[VFS_CRYPT_KEY_LEN], int flags,
		   sqlite3 **db_r, const char **error_r);

/* Closes a handle from vfs_crypt_open() and sets *db to NULL; NULL is fine.
 * Statements not yet finalized keep the connection (and its key) alive until
 * they are (sqlite3_close_v2). */
void vfs_crypt_close(sqlite3 **db);

/* The negative errno-style code for a SQLite result code, for callers that
 * run statements on a handle from vfs_crypt_open(): -EBADMSG for a page that
 * failed authentication (SQLITE_IOERR_DATA) or a corrupt database, -EBUSY,
 * -ENOMEM, -ENOSPC, -EROFS, -EPERM, -EIO for other I/O errors, -EINVAL for
 * misuse and SQL errors, 0 for SQLITE_OK, SQLITE_ROW and SQLITE_DONE. */
int vfs_crypt_errno(int sqlite_rc);

/* Syncs asked of the files of every handle since the process started
 * (database, WAL, journal), so tests can tell synced commits from others. */
uint64_t vfs_crypt_syncs(void);

#endif
