/* Where a message waits between its last byte arriving and its delivery.
 *
 * The headers we prepend (Received, and on SMTP-in the authentication
 * results, known only after the last byte) come before the body, and the
 * store takes a message as one stream; so the body must be held until the
 * end. Nothing of it may reach the disk in the clear (manual: "no message
 * data is written to disk in the clear"), and memory must stay bounded
 * whatever the size. So:
 *   - up to SMTP_SPOOL_MEM bytes stay in memory (most mail);
 *   - past that, or when all sessions together hold SMTP_SPOOL_MEM_TOTAL
 *     in memory, the body moves into a message file (storage/msgfile.h:
 *     compressed, AES-GCM in chunks) under a random key that lives only in
 *     this struct and is wiped with it. The file is made with O_TMPFILE in
 *     the given directory, so it never has a name: nothing is left behind
 *     whatever happens to the process. (Where O_TMPFILE is not supported,
 *     a file named ".smtp-spool.*" is made and unlinked at once; one left
 *     by a crash between the two is removed by the next such spill.)
 * Memory per spool: at most SMTP_SPOOL_MEM of buffer plus one msgfile
 * writer or reader.
 *
 * Coroutine: write, finish and read may run file work on the pool.
 * Errors are negative errno codes from the file system (temporary for the
 * sender: 4xx) or -EFBIG past MSGFILE_MAX_SIZE.
 */
#ifndef SEAL_SMTP_SPOOL_H
#define SEAL_SMTP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SMTP_SPOOL_MEM (1024 * 1024)
#define SMTP_SPOOL_MEM_TOTAL (64 * 1024 * 1024)

struct smtp_spool;

/* dir: where a spill file is made (the users directory: same file system
 * as the mail, no name ever appears in it). The string must outlive the
 * spool. */
struct smtp_spool *smtp_spool_new(const char *dir);

/* Appends. After an error every later call returns it. */
int smtp_spool_write(struct smtp_spool *sp, const void *data, size_t len);

/* Ends writing; reading may start. */
int smtp_spool_finish(struct smtp_spool *sp);

uint64_t smtp_spool_size(const struct smtp_spool *sp);
bool smtp_spool_spilled(const struct smtp_spool *sp);

/* After finish: when the whole body is in memory, *data_r and *len_r
 * point at it (valid until the spool is freed) and true is returned. */
bool smtp_spool_memory(const struct smtp_spool *sp, const void **data_r, size_t *len_r);

/* After finish: copies up to len bytes from offset into buf. Returns the
 * count (0 at the end) or a negative code (-EBADMSG: the file was damaged
 * under us). */
ssize_t smtp_spool_read(struct smtp_spool *sp, uint64_t offset, void *buf, size_t len);

/* Wipes the memory, closes the file (which vanishes), wipes the key;
 * *sp becomes NULL. NULL is fine. */
void smtp_spool_free(struct smtp_spool **sp);

/* Bytes all spools hold in memory now (admin stats, tests). */
size_t smtp_spool_mem_total(void);

#endif
