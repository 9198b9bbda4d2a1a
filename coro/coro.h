/* Stackful coroutines scheduled on one libuv loop.
 *
 * Every coroutine runs on the loop thread. A coroutine gives up the CPU only
 * inside the blocking calls declared here (and the stream calls built on
 * them); everything between two such calls runs atomically with respect to
 * other coroutines.
 *
 * Errors are negative errno values: -ETIMEDOUT when a deadline passes,
 * -ECANCELED when coro_cancel() was called, -EPIPE/-ECONNRESET from streams.
 *
 * Deadlines are absolute times in milliseconds on the loop clock
 * (coro_now_ms()); CORO_NO_DEADLINE waits for ever. coro_deadline_in(ms)
 * turns a relative timeout into a deadline. A deadline that has already
 * passed fails the call at once with -ETIMEDOUT, without yielding.
 *
 * Blocking calls made from the loop itself (outside any coroutine) are a bug
 * and abort.
 */
#ifndef SEAL_CORO_H
#define SEAL_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CORO_NO_DEADLINE INT64_MAX
#define CORO_DEFAULT_STACK (64 * 1024)

struct coro;
typedef void coro_fn(void *arg);

/* Binds the runtime to a loop; call once, on the thread that runs the loop,
 * before any other coro_ call. */
int coro_runtime_init(uv_loop_t *loop);
/* Frees pooled stacks, joins the worker pool's threads (idle by then) and
 * closes the runtime's own libuv handles (an idle, a timer and the pool's
 * poll handle): run the loop once more (uv_run) before uv_loop_close().
 * Every coroutine must have finished (aborts otherwise). */
void coro_runtime_shutdown(void);
uv_loop_t *coro_loop(void);

/* Creates a coroutine that starts running fn(arg) soon (from the loop, not
 * inside this call). stack_size 0 means CORO_DEFAULT_STACK. Returns NULL
 * only when no stack can be mapped. The coroutine is freed by the scheduler
 * after fn returns; the pointer is valid until then. Sizes below 16 KiB are
 * raised to 16 KiB; a stack overflow hits a guard page (SIGSEGV). Callable
 * from the loop or from a coroutine. */
struct coro *coro_spawn(coro_fn *fn, void *arg, size_t stack_size);

/* The running coroutine, or NULL when called from the loop itself. */
struct coro *coro_current(void);
bool coro_in_coroutine(void);

/* Lets every other ready coroutine run once, then continues. The caller
 * resumes on the next loop turn, after pending I/O callbacks ran. */
void coro_yield(void);

/* Sleeps until the deadline. 0 when it passed, -ECANCELED if cancelled. */
int coro_sleep_until(int64_t deadline);
int coro_sleep(uint64_t ms);

/* Asks a coroutine to stop: its current or next blocking call returns
 * -ECANCELED (so do all later ones). Calls that cannot be interrupted
 * (coro_await_work) finish first. Safe from the loop or another coroutine. */
void coro_cancel(struct coro *c);
bool coro_cancelled(void);

/* Interrupts a coroutine's wait for input, once, without the stickiness of
 * coro_cancel: if it is waiting in coro_fd_wait() for UV_READABLE only or
 * in coro_event_wait(), that call returns -EINTR now; otherwise its next
 * such wait does. Writes and other waits are not affected, so the
 * coroutine can still answer. The daemon uses it at shutdown to get
 * sessions out of a read so they say goodbye (IMAP "* BYE") and leave. */
void coro_interrupt(struct coro *c);

/* The loop's cached clock (uv_now): it advances once per loop turn, not
 * while a coroutine computes. */
int64_t coro_now_ms(void);
int64_t coro_deadline_in(uint64_t ms);

/* Runs fn(arg) on sealmail's worker pool and waits for it. Not cancellable
 * and has no deadline: the worker holds pointers into the caller's memory,
 * so the caller cannot leave before it finishes. Work functions must be
 * bounded (Argon2, RSA, fsync, a SQLite commit) and must not call coro_
 * functions. Workers take jobs in the order they were submitted.
 *
 * The pool is started by the first call (so threads come after a privilege
 * drop); its workers run at a lower scheduling priority (nicer) than the
 * loop thread, so the loop preempts CPU-bound jobs (which should use
 * coro_await_cpu_work() below). The loop thread never
 * waits for a worker: results come back through an eventfd watched by a
 * uv_poll_t, which keeps uv_run() alive only while jobs are out. Costs no
 * allocation per job. Returns 0, or a negative errno code if the pool could
 * not be started (no threads, no eventfd). */
int coro_await_work(void (*fn)(void *arg), void *arg);

/* coro_await_work() for a job that keeps a CPU busy (a TLS handshake,
 * Argon2, RSA): at most a few of them run at once (the online CPUs less
 * one, at least 1), so that the loop thread always finds a CPU. Later
 * callers wait their turn in FIFO order, uninterruptibly. */
int coro_await_cpu_work(void (*fn)(void *arg), void *arg);

/* Sets how many CPU-bound jobs may run at once (n >= 1); -EINVAL for 0. */
int coro_work_set_cpu_slots(unsigned n);

/* Coroutines waiting in coro_await_cpu_work() for a slot right now. */
unsigned coro_work_cpu_waiting(void);

/* Sets the number of worker threads, 1 to 256. Call before the first
 * coro_await_work() (or after coro_runtime_shutdown()): -EBUSY once the pool
 * runs, -EINVAL out of range. Without it the environment variable
 * SEAL_WORKERS decides (ignored unless a number in that range), and without
 * that the number of online CPUs plus 4. */
int coro_work_set_threads(unsigned n);

/* Jobs queued or running on the pool right now (submitted by
 * coro_await_work() and not yet handed back to their coroutine). */
unsigned coro_work_queue_depth(void);

/* --- In-process events (IMAP IDLE wake-ups and the like) ---------------- */

/* An event is a wait list. It holds no count: a notify wakes the coroutines
 * waiting at that moment only, so waiters check their condition first. */
struct coro_event {
	struct coro_waiter *head, *tail;
};

void coro_event_init(struct coro_event *ev);
/* 0 when notified, -ETIMEDOUT, -ECANCELED, -EINTR (coro_interrupt). */
int coro_event_wait(struct coro_event *ev, int64_t deadline);
/* Wakes every current waiter; returns how many. Callable from the loop or
 * from a coroutine (waiters then run after the caller next blocks). */
unsigned coro_event_notify_all(struct coro_event *ev);
bool coro_event_has_waiters(const struct coro_event *ev);

/* --- File descriptors ---------------------------------------------------- */

/* Watches one non-blocking fd for the coroutine that owns it. One watch
 * per fd (libuv requires it). */
struct coro_fd {
	uv_poll_t poll;
	struct coro *waiter;
	int fd;
	int wanted;
	bool closing;
	void (*close_cb)(struct coro_fd *w);	/* private: for coro_fd_close() */
};

/* 0, or a negative libuv error; then w was not set up, the caller still owns
 * fd and must not call coro_fd_close(). */
int coro_fd_init(struct coro_fd *w, int fd);
/* Waits until fd is readable (UV_READABLE) and/or writable (UV_WRITABLE).
 * Returns the ready events (> 0), -ETIMEDOUT, -ECANCELED, -EINTR (a wait
 * for UV_READABLE alone, after coro_interrupt), -EBADF (coro_fd_close), or
 * a negative libuv error. */
int coro_fd_wait(struct coro_fd *w, int events, int64_t deadline);
/* Stops watching and closes the fd; close_cb (may be NULL) runs from the
 * loop once libuv has released the watch, and owns freeing the memory that
 * holds w. A coroutine waiting on w at that moment returns -EBADF, and so do
 * later waits. */
void coro_fd_close(struct coro_fd *w, void (*close_cb)(struct coro_fd *w));

/* --- Introspection for `admin stats` ------------------------------------- */

struct coro_stats {
	uint64_t spawned;	/* since start */
	uint64_t live;		/* coroutines not yet finished */
	uint64_t stacks_pooled;	/* mapped stacks waiting for reuse */
	uint64_t stacks_mapped; /* all mapped stacks, pooled or in use */
	uint64_t switches;	/* context switches, both directions */
};
void coro_get_stats(struct coro_stats *st);

/* --- Low-level parking, for runtime modules (stream, event, work) -------- */

/* Suspends the running coroutine until coro_wake() is called for it, the
 * deadline passes (-ETIMEDOUT) or it is cancelled (-ECANCELED, only when
 * interruptible). Returns the value given to coro_wake(). A cancelled
 * coroutine's interruptible park fails at once. */
int coro_park(int64_t deadline, bool interruptible);
/* Makes a parked coroutine ready with the given result. Waking a coroutine
 * that is not parked is a bug and aborts. From the loop the woken coroutine
 * runs before this returns; from a coroutine it runs after the caller next
 * blocks. */
void coro_wake(struct coro *c, int result);

#endif
