/* Coroutine stacks: guarded, lazily committed mappings and a reuse pool.
 *
 * mmap is a system call plus page-table work and a fresh stack faults its
 * first pages in, so finished stacks are kept (up to STACK_POOL_MAX) and
 * handed to the next coroutine of the same size. A pooled stack keeps only
 * its top STACK_KEEP_PAGES resident: those hold the coroutine struct and the
 * first frames, which every coroutine touches at once anyway; the rest is
 * returned to the kernel with MADV_DONTNEED so a burst of deep coroutines
 * does not leave its memory behind in the pool.
 *
 * Memory is never memset: the kernel hands out zeroed pages on first touch,
 * and touching them here would commit the whole stack.
 */
#include "coro/coro-internal.h"
#include "src/util/xmalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORO_VALGRIND 1
#endif
#endif

#define STACK_POOL_MAX 1024
#define STACK_KEEP_PAGES 2

static struct {
	struct coro_stack *pool; /* LIFO: the last stack put back is warmest */
	unsigned pooled;
	uint64_t mapped;	/* pooled + in use */
	size_t page;
} stacks;

size_t coro__page_size(void)
{
	if (stacks.page == 0) {
		long p = sysconf(_SC_PAGESIZE);
		stacks.page = p > 0 ? (size_t)p : 4096;
	}
	return stacks.page;
}

static int stack_map(struct coro_stack *st, size_t map_size)
{
	size_t page = coro__page_size();
	/* MAP_NORESERVE: a 64 KiB stack of which 4 KiB are used must not count
	 * 64 KiB against overcommit. */
	void *p = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
		       -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* The guard page turns an overflow into SIGSEGV instead of silently
	 * writing over whatever is mapped below. */
	if (mprotect(p, page, PROT_NONE) < 0) {
		int err = -errno;
		munmap(p, map_size);
		return err;
	}
	st->base = p;
	st->map_size = map_size;
	st->vg_id = 0;
#ifdef CORO_VALGRIND
	/* Without this Valgrind takes a switch for a huge stack-pointer move
	 * and reports bogus errors. */
	st->vg_id = VALGRIND_STACK_REGISTER(coro__stack_lo(st), coro__stack_hi(st));
#endif
	stacks.mapped++;
	return 0;
}

static void stack_unmap(const struct coro_stack *st)
{
#ifdef CORO_VALGRIND
	VALGRIND_STACK_DEREGISTER(st->vg_id);
#endif
	if (munmap(st->base, st->map_size) < 0)
		CORO_PANIC("munmap(%p, %zu) failed: errno %d", (void *)st->base,
			   st->map_size, errno);
	stacks.mapped--;
}

/* Takes the most recently pooled stack of that exact size. Sizes are few
 * (the default, maybe one or two more), so the scan ends almost at once. */
static bool pool_take(struct coro_stack *st, size_t map_size)
{
	for (unsigned i = stacks.pooled; i-- > 0;) {
		if (stacks.pool[i].map_size != map_size)
			continue;
		*st = stacks.pool[i];
		stacks.pool[i] = stacks.pool[--stacks.pooled];
		return true;
	}
	return false;
}

int coro__stack_get(struct coro_stack *st, size_t size)
{
	size_t page = coro__page_size();
	if (size == 0)
		size = CORO_DEFAULT_STACK;
	if (size < CORO_MIN_STACK)
		size = CORO_MIN_STACK;
	if (size > SIZE_MAX / 4)
		return -ENOMEM;
	size_t map_size = (size + page - 1) / page * page + page;
	if (pool_take(st, map_size))
		return 0;
	return stack_map(st, map_size);
}

void coro__stack_put(const struct coro_stack *st)
{
	size_t page = coro__page_size();
	if (stacks.pooled == STACK_POOL_MAX) {
		stack_unmap(st);
		return;
	}
	if (!stacks.pool)
		stacks.pool = xmalloc(STACK_POOL_MAX * sizeof(*stacks.pool));

	size_t usable = st->map_size - page;
	size_t keep = STACK_KEEP_PAGES * page;
	if (usable > keep)
		(void)madvise(coro__stack_lo(st), usable - keep, MADV_DONTNEED);
#ifdef CORO_ASAN
	/* A coroutine's last frames never return, so their redzones stay
	 * poisoned; the next coroutine on this stack must start clean. */
	ASAN_UNPOISON_MEMORY_REGION(coro__stack_lo(st), usable);
#endif
	stacks.pool[stacks.pooled++] = *st;
}

void coro__stack_pool_clear(void)
{
	while (stacks.pooled > 0)
		stack_unmap(&stacks.pool[--stacks.pooled]);
	free(stacks.pool);
	stacks.pool = NULL;
}

void coro__stack_stats(uint64_t *pooled_r, uint64_t *mapped_r)
{
	*pooled_r = stacks.pooled;
	*mapped_r = stacks.mapped;
}
