/* Allocation that never returns NULL: out of memory aborts the process with
 * a message, so callers need no failure path (STYLE.md: one xmalloc). */
#ifndef SEAL_XMALLOC_H
#define SEAL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
