/* A growable byte buffer with a hard cap. Appending past the cap fails with
 * -EMSGSIZE instead of truncating. The data is always NUL-terminated so it
 * can be printed, but may contain NULs. */
#ifndef SEAL_BUF_H
#define SEAL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;	/* allocated, excluding the NUL */
	size_t max;	/* hard limit on len; 0 means SIZE_MAX - 1 */
};

#define BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Drops the first n bytes. */
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
/* Frees the memory; the buffer stays usable (empty). */
void buf_free(struct buf *b);
/* Returns the data as a heap string the caller owns and empties b. */
char *buf_steal(struct buf *b);

#endif
