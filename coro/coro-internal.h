/* Private to coro/: the coroutine struct and the seams between the
 * scheduler (sched.c), deadlines (deadline.c), stacks (stack.c) and the
 * assembly context switch (switch-*.S).
 */
#ifndef SEAL_CORO_INTERNAL_H
#define SEAL_CORO_INTERNAL_H

#include "coro/coro.h"
#include "coro/stack.h"

#include <stdnoreturn.h>

/* gcc defines __SANITIZE_ADDRESS__; clang answers __has_feature; CMake's
 * SEAL_SANITIZE covers both. */
#if defined(__SANITIZE_ADDRESS__) || defined(SEAL_SANITIZE)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif

enum coro_state {
	CORO_READY,	/* on the ready or the yield queue */
	CORO_RUNNING,
	CORO_PARKED,	/* waits for coro_wake(), its deadline or a cancel */
	CORO_DONE,	/* fn returned; the loop reaps it after the last switch */
};

/* Lives at the top of its own stack, so a coroutine costs no heap
 * allocation and its struct shares the page its first frames touch. */
struct coro {
	void *sp;		/* saved stack pointer while not running */
	struct coro *next;	/* ready / yield queue link */
	coro_fn *fn;
	void *arg;
	struct coro_stack stack;
	int64_t deadline;	/* valid while heap_idx != 0 */
	uint32_t heap_idx;	/* 1-based slot in the deadline heap, 0: none */
	int result;		/* value handed over by coro_wake() */
	uint8_t state;		/* enum coro_state */
	bool interruptible;	/* the current park may end with -ECANCELED */
	bool cancelled;		/* sticky, set by coro_cancel() */
	bool interrupt_pending;	/* one-shot, set by coro_interrupt() */
	bool input_wait;	/* parked waiting for input (coro_interrupt) */
#ifdef CORO_ASAN
	void *asan_fake_stack;
#endif
};

/* switch-*.S: saves the callee-saved registers and the FP control state on
 * the current stack, stores the stack pointer in *save_sp, continues on
 * to_sp and returns transfer there. */
void *coro__switch(void **save_sp, void *to_sp, void *transfer);
/* switch-*.S: first return address of a new coroutine; calls
 * coro__trampoline() with the struct coro stored in the initial frame. */
void coro__entry(void);
/* sched.c: runs fn(arg) and leaves for the last time. */
noreturn void coro__trampoline(struct coro *c);

/* sched.c: the checks a park makes before blocking, for callers that want
 * them before they set anything up: -ECANCELED, -EINTR (an input wait with a
 * coro_interrupt() pending, which this consumes), -ETIMEDOUT, or 0. */
int coro__park_precheck(struct coro *c, int64_t deadline, bool input);
/* sched.c: an interruptible park that coro_interrupt() also ends (-EINTR):
 * coro_event_wait() and read waits in coro_fd_wait(). */
int coro__park_input(int64_t deadline);

/* sched.c: while held, coro_wake() from the loop only queues; the release
 * runs the queue. Lets a caller wake a whole batch (event notify, expired
 * deadlines) before any of them runs and changes the batch under it. */
void coro__hold(void);
void coro__release(void);

/* deadline.c: one shared uv_timer over a binary heap of parked coroutines. */
int coro__deadline_init(uv_loop_t *loop);
void coro__deadline_shutdown(void);
void coro__deadline_add(struct coro *c, int64_t deadline);
void coro__deadline_del(struct coro *c);

/* work.c: joins the worker threads and closes the pool's poll handle, if
 * the pool was started. No job may be out. */
void coro__work_shutdown(void);

/* slice.c: asks for a scheduler slice of ns for the calling thread (Linux
 * 6.12 and later; 0 restores the default). -1 where the kernel cannot. */
int coro__thread_slice(uint64_t ns);

/* Broken internal invariants: print where and why, then abort. */
noreturn void coro__panic(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define CORO_PANIC(...) coro__panic(__FILE__, __LINE__, __VA_ARGS__)
#define CORO_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			CORO_PANIC("assertion failed: %s", #cond);             \
	} while (0)

/* The running coroutine; aborts naming caller when on the loop. */
struct coro *coro__self(const char *caller);

#endif
