/* Coroutine stacks: private to coro/.
 *
 * A stack is one anonymous mapping: a PROT_NONE guard page at the bottom,
 * then the usable stack, committed lazily by the kernel as it is touched.
 * Finished stacks go back to a pool; pooled stacks keep only their top pages
 * resident (madvise) so the pool costs address space, not memory.
 */
#ifndef SEAL_CORO_STACK_H
#define SEAL_CORO_STACK_H

#include <stddef.h>
#include <stdint.h>

/* Requests below this are raised to it: the trampoline, the switch frame and
 * the coroutine struct (which lives at the top of its own stack) need room,
 * and sanitizer builds have fat frames. */
#define CORO_MIN_STACK (16 * 1024)

struct coro_stack {
	char *base;		/* start of the mapping: the guard page */
	size_t map_size;	/* guard page + usable stack, page multiple */
	unsigned vg_id;		/* Valgrind stack id, 0 without Valgrind */
};

/* Gives a stack of at least size usable bytes (0: CORO_DEFAULT_STACK), from
 * the pool when one of that size is there, else freshly mapped. 0 or a
 * negative errno from mmap/mprotect. */
int coro__stack_get(struct coro_stack *st, size_t size);
/* Returns a stack that no coroutine runs on any more. */
void coro__stack_put(const struct coro_stack *st);
/* Unmaps every pooled stack (runtime shutdown). */
void coro__stack_pool_clear(void);
void coro__stack_stats(uint64_t *pooled_r, uint64_t *mapped_r);

size_t coro__page_size(void);

/* Lowest usable address (just above the guard page) and one past the top. */
static inline char *coro__stack_lo(const struct coro_stack *st)
{
	return st->base + coro__page_size();
}
static inline char *coro__stack_hi(const struct coro_stack *st)
{
	return st->base + st->map_size;
}

#endif
