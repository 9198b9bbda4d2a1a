/* Message files: the on-disk form of one message body (DESIGN.md section 4).
 *
 * The body is cut into segments of 2^shift bytes of plaintext (64 KiB by
 * default; the last one may be shorter). Each segment is compressed on its
 * own (a raw deflate stream of its own, so no segment depends on another)
 * or stored as is when deflate does not make it smaller, then sealed with
 * AES-256-GCM as one chunk. A trailer, sealed too, holds the index of the
 * chunks. So a writer and a reader hold one segment at a time whatever the
 * message size, a reader decrypts only the segments a byte range touches,
 * and any change to the file is an error, never wrong bytes.
 *
 * Keys. The caller makes a random 256-bit content key per message, wraps it
 * as it likes (RSA-OAEP by the key code, or crypto_wrap_key) and hands us
 * the wrap as opaque bytes, which the header stores in the clear for the
 * reader to unwrap. The chunks are sealed under
 *   file_key = HKDF(content_key, CRYPTO_LABEL_MSGFILE_CHUNKS, file_id)
 * with file_id random per file, so a content key reused by mistake for two
 * files never reuses a (key, nonce) pair, and nonces can be counters.
 *
 * Layout (integers big-endian; n = number of chunks):
 *
 *   header, 48 + N + B bytes
 *     0      8   magic "SEALMSG1"
 *     8      1   format version = 1
 *     9      1   segment shift s, 12..20 (segment = 2^s bytes of plaintext)
 *     10     1   wrap kind, 1..255 (MSGFILE_WRAP_*; opaque to this module)
 *     11     1   key name length N, 1..MSGFILE_KEY_NAME_MAX
 *     12     2   wrap blob length B, 1..MSGFILE_WRAP_BLOB_MAX
 *     14     2   reserved, 0
 *     16     16  file id, random
 *     32     N   key name, bytes 0x21..0x7e (the key that wrapped the key)
 *     32+N   B   wrap blob
 *     32+N+B 16  header tag: GCM(file_key, nonce(1, 0)) over an empty
 *                plaintext with the 32+N+B bytes above as AAD
 *
 *   chunk i, for i = 0 .. n-1, in order, L_i + 16 bytes
 *     L_i bytes of ciphertext of the segment's body (deflated or stored),
 *     16 bytes of tag; nonce(2, i);
 *     AAD (31 bytes) = 0x02 || file id || u32 i || u8 last (1 when i = n-1)
 *                      || u8 mode || u32 L_i || u32 plaintext length of i
 *
 *   trailer, 5n + 36 bytes
 *     8+5n  ciphertext of the index:
 *             u64 uncompressed size U (0 .. MSGFILE_MAX_SIZE)
 *             n times: u8 mode (0 stored, 1 deflate) || u32 L_i
 *     16    tag; nonce(3, n); AAD (45 bytes) = 0x03 || file id || u32 n
 *           || header tag || "SEALEND1"
 *     4     n, in the clear, so the reader can find the trailer's start
 *     8     magic "SEALEND1"
 *
 *   nonce(t, i) = u8 t || 7 zero bytes || u32 i   (12 bytes)
 *
 * Rules a reader checks, each failure being -EBADMSG: n = ceil(U / 2^s);
 * segment i holds 2^s bytes except the last, which holds the rest; a stored
 * body has L_i equal to its plaintext length, a deflated one 1 <= L_i <
 * plaintext length and must inflate to exactly that length, with no input
 * left over (so a zip bomb fails within one segment's worth of output);
 * the file size is exactly header + sum(L_i + 16) + trailer. Chunk
 * positions come from the authenticated index, and each chunk's AAD names
 * its index and whether it is the last: reordered, duplicated, dropped or
 * truncated chunks, appended bytes and edited headers all fail a tag or a
 * length check. An empty message has no chunk, only the trailer.
 *
 * Thread safety: a writer or reader is used by one thread at a time; it may
 * move between threads (the loop and the pool) between calls. Handles are
 * independent of each other, and there is no global state.
 * Errors: negative errno. -EBADMSG for anything malformed, tampered with or
 * opened with the wrong key; -EFBIG for a body over MSGFILE_MAX_SIZE; the
 * negative errno of a failed system call (-EIO, -ENOSPC, ...) for I/O.
 */
#ifndef SEAL_STORAGE_MSGFILE_H
#define SEAL_STORAGE_MSGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "src/util/limits.h"
#include "storage/crypto.h"

#define MSGFILE_MAX_SIZE ((uint64_t)SEAL_MAX_MESSAGE)	/* uncompressed */
#define MSGFILE_KEY_NAME_MAX 64
#define MSGFILE_WRAP_BLOB_MAX 1024	/* RSA-4096 OAEP needs 512 */
#define MSGFILE_SHIFT_MIN 12
#define MSGFILE_SHIFT_MAX 20
#define MSGFILE_SHIFT_DEFAULT 16

/* Wrap kinds, by convention of the store's key code. This module stores the
 * kind byte and never interprets it. */
#define MSGFILE_WRAP_RSA_OAEP 1		/* blob: RSA-4096-OAEP(SHA-256) */
#define MSGFILE_WRAP_SYMMETRIC 2	/* blob: crypto_wrap_key output */

/* How the content key is wrapped. As an input, the pointers are only read
 * during the call. Returned by a reader, it points into the reader and is
 * valid until msgfile_reader_free; key_name is NUL-terminated. */
struct msgfile_wrap {
	uint8_t kind;
	const char *key_name;
	const uint8_t *blob;
	size_t blob_len;
};

struct msgfile_writer_opts {
	int level;		/* zlib level 1..9; 0 means the default (6) */
	unsigned shift;		/* segment shift; 0 means MSGFILE_SHIFT_DEFAULT */
	bool fsync;		/* msgfile_writer_finish fsyncs the fd */
};

struct msgfile_writer;
struct msgfile_reader;

/* --- Writing ---------------------------------------------------------- */

/* Starts a message file on fd, which is positioned at its start (normally a
 * new temporary file). The writer only ever appends with write(2), never
 * seeks, and does not own fd: the caller closes it after
 * msgfile_writer_free. key is the content key; the writer keeps only the
 * derived chunk key, in wiped memory. opts may be NULL for the defaults.
 * The header is written before this returns.
 * Returns 0 and *w_r, -EINVAL for a bad wrap or option, or an I/O error. */
int msgfile_writer_open(int fd, const uint8_t key[CRYPTO_KEY_LEN],
			const struct msgfile_wrap *wrap, const struct msgfile_writer_opts *opts,
			struct msgfile_writer **w_r);

/* Appends len bytes of the body. At most one segment stays buffered; full
 * segments are compressed, sealed and written as they fill. -EFBIG when the
 * body would pass MSGFILE_MAX_SIZE. After any error the writer is failed:
 * every later call returns the same error, and the file must be discarded. */
int msgfile_writer_write(struct msgfile_writer *w, const void *data, size_t len);

/* Writes the last chunk and the trailer, then fsyncs when opts.fsync said
 * so. Call once; the file is complete only after it returned 0. */
int msgfile_writer_finish(struct msgfile_writer *w);

/* Frees the writer and wipes its keys and buffers; *w becomes NULL. A file
 * whose writer was not finished is incomplete and fails every read; the
 * caller unlinks it. NULL is fine. */
void msgfile_writer_free(struct msgfile_writer **w);

/* Bytes of heap the writer holds now and at its peak, zlib's state
 * included. Independent of the message size: a test asserts it. */
size_t msgfile_writer_mem(const struct msgfile_writer *w, size_t *peak_r);

/* --- Atomic placement (DESIGN.md: temporary file, fsync, rename) ------- */

/* Creates a new, empty file "tmp_dir/msg.XXXXXX", mode 0600, close-on-exec.
 * Returns 0 with *fd_r open for writing and *path_r (heap, caller frees). */
int msgfile_tmp_create(const char *tmp_dir, char **path_r, int *fd_r);

/* Makes a finished file durable under its final name: fsync(fd), rename
 * tmp_path to final_path without ever replacing an existing file (-EEXIST),
 * then fsync the final directory so the name survives power loss. The two
 * paths must be on one filesystem (tmp/ and messages/ of one user). fd stays
 * open. On failure tmp_path is left in place for the caller to unlink; when
 * only the directory fsync failed, final_path exists but may not survive a
 * crash, so the caller must not acknowledge the message. */
int msgfile_commit(int fd, const char *tmp_path, const char *final_path);

/* The rename of msgfile_commit alone, for a caller that fsyncs the file
 * before and the directory after itself (delivery.c: one directory fsync
 * for a group of files): renames tmp_path to final_path without ever
 * replacing an existing file (-EEXIST). On failure tmp_path is left in
 * place; on a filesystem without RENAME_NOREPLACE the fallback (link, then
 * unlink) may fail half way, and then both names exist. */
int msgfile_place(const char *tmp_path, const char *final_path);

/* The three steps for a body held in memory: create in tmp_dir, write,
 * finish, commit to final_path, close. On failure nothing is left behind. */
int msgfile_write_atomic(const char *tmp_dir, const char *final_path,
			 const uint8_t key[CRYPTO_KEY_LEN], const struct msgfile_wrap *wrap,
			 const struct msgfile_writer_opts *opts, const void *data, size_t len);

/* --- Reading ---------------------------------------------------------- */

/* Reads and checks the header's form (not yet its tag: that needs the key)
 * from fd, which stays the caller's and must stay open until
 * msgfile_reader_free. Returns 0 and *r_r, -EBADMSG for a malformed header
 * or a file too short or too long to be a message file, or an I/O error. */
int msgfile_reader_open(int fd, struct msgfile_reader **r_r);

/* The wrap stored in the header, unauthenticated until set_key succeeds:
 * treat it as a hint of which key to use, not as fact. */
const struct msgfile_wrap *msgfile_reader_wrap(const struct msgfile_reader *r);

/* Takes the content key (unwrapped by the caller, who then wipes it),
 * authenticates the header and the trailer and loads the index. Returns 0,
 * or -EBADMSG for a wrong key or any damage to header, trailer or file
 * length. May be retried with another key after -EBADMSG. */
int msgfile_reader_set_key(struct msgfile_reader *r, const uint8_t key[CRYPTO_KEY_LEN]);

/* The uncompressed size; valid after set_key succeeded. */
uint64_t msgfile_reader_size(const struct msgfile_reader *r);

/* Copies up to len bytes of the body starting at offset into out. Decrypts
 * only the segments the range touches (the last one stays cached). Returns
 * the number of bytes copied, less than len only at the end of the body
 * (0 at or past it), or a negative error. On error, out holds no valid data
 * and the caller discards it: a damaged chunk never yields bytes. */
ssize_t msgfile_read_range(struct msgfile_reader *r, uint64_t offset, void *out, size_t len);

/* Streaming read from an internal position that starts at 0: as
 * msgfile_read_range at that position, which then advances. */
ssize_t msgfile_reader_read(struct msgfile_reader *r, void *out, size_t len);

/* Frees the reader and wipes its keys and buffers; *r becomes NULL. Does
 * not close the fd. NULL is fine. */
void msgfile_reader_free(struct msgfile_reader **r);

/* Bytes of heap the reader holds now and at its peak (see writer_mem). */
size_t msgfile_reader_mem(const struct msgfile_reader *r, size_t *peak_r);

#endif
