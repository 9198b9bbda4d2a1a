/* Blocking work on sealmail's own worker pool, awaited by a coroutine.
 *
 * Why not uv_queue_work: libuv 1.44 (Debian 12) hands results back through
 * uv_async_send, and its loop side busy-waits for a pool thread that was
 * preempted in the middle of that call (libuv issue #2949, fixed in 1.45).
 * With CPU-bound jobs on a small machine that spin showed up as loop lag.
 *
 * The rule here is stronger than "no spinning": the loop thread never waits
 * for a worker at all. Workers run at a lower priority, so a worker
 * preempted while holding a lock could keep the loop waiting for as long as
 * the scheduler likes. So every hand-over between the loop and the workers
 * is a lock-free list:
 *
 *   inbox  the loop pushes new jobs (single producer); a worker takes the
 *          whole list at once (atomic exchange) into the workers' FIFO,
 *          which only workers touch, under a mutex only workers take.
 *          A counter of pending jobs tells a worker whether one is owed
 *          to it; idle workers sleep on their own semaphores, on a stack
 *          the loop pops to wake one (worker_take); sem_post() takes no
 *          lock.
 *   done   workers push finished jobs; the loop takes the whole list. The
 *          push that finds the list empty writes 1 to an eventfd the loop
 *          watches with a uv_poll_t, so a burst of completions costs one
 *          wake-up. The loop reads the eventfd before it takes the list:
 *          the other order could consume the signal of a push it missed.
 *
 * Pushing onto a list whose consumer always takes everything has no ABA
 * problem, so plain compare-and-swap is enough.
 *
 * A job lives on the waiting coroutine's stack. That is safe only because
 * the wait cannot be cut short: the park is uninterruptible and has no
 * deadline, and a worker touches the job for the last time in the push
 * onto the done list. Nothing is allocated per job.
 *
 * The pool starts with the first job, not with coro_runtime_init(): a
 * process that never offloads work has no threads, and the daemon's
 * threads come after it dropped privileges.
 */
#include "coro/coro-internal.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "src/util/xmalloc.h"

#if __has_include(<valgrind/helgrind.h>)
/* Helgrind and DRD understand mutexes, but not the atomics of the two
 * lists (and a semaphore post is not tied to the job a waiter then takes):
 * tell them a push happens before the take. */
#include <valgrind/helgrind.h>
#define WORK_HAPPENS_BEFORE(a) ANNOTATE_HAPPENS_BEFORE(a)
#define WORK_HAPPENS_AFTER(a) ANNOTATE_HAPPENS_AFTER(a)
#else
#define WORK_HAPPENS_BEFORE(a) ((void)(a))
#define WORK_HAPPENS_AFTER(a) ((void)(a))
#endif

#define WORK_MAX_THREADS 256
#define WORK_IO_THREADS 4	/* beyond one per CPU: see threads_default() */

/* How much nicer than the loop thread a worker is (setpriority). When every
 * CPU is busy with handshakes or Argon2, the scheduler then lets the loop
 * thread in first. Measured with bench/run-idle.sh on 2 CPUs (Linux 6.18):
 * loop lag p50 ~300 us and p99 ~11 ms at +0, ~100 us and ~4 ms at +10.
 * SCHED_IDLE workers measured about the same as +10 but would starve under
 * any competing nice-0 load; at +10 a worker still gets about a tenth of a
 * CPU against each busy nice-0 thread. Nicer is not enough on its own:
 * see cpu-gate.c for why CPU-bound jobs also leave one CPU free. */
#ifndef WORK_NICE
#define WORK_NICE 10
#endif

struct worker {
	pthread_t thread;
	sem_t wake;
	struct worker *next_idle;
	atomic_bool in_stack;	/* pushed, not yet popped by the loop */
	atomic_bool waiting;	/* about to sleep or asleep on wake */
};

struct work_job {
	struct work_job *next;	/* inbox, FIFO, then done list */
	void (*fn)(void *arg);
	void *arg;
	struct coro *c;
};

static struct {
	/* Loop thread only. */
	uv_poll_t *poll;	/* NULL: the pool is not running */
	unsigned depth;		/* submitted, not yet handed back */
	unsigned threads_wanted; /* coro_work_set_threads(), 0: default */

	/* Shared. */
	_Atomic(struct work_job *) inbox;
	_Atomic(struct work_job *) done;
	int efd;

	atomic_uint pending;	/* submitted, not yet taken by a worker */
	_Atomic(struct worker *) idle;	/* idle stack: workers push, the loop pops */
	atomic_bool stop;

	/* Workers only, under lock. */
	pthread_mutex_t lock;
	struct work_job *fifo_head, *fifo_tail;

	struct worker *workers;
	unsigned nthreads;
} wp = { .efd = -1 };

/* --- Worker side --------------------------------------------------------- */

/* Moves the inbox (newest first) to the tail of the FIFO in arrival order. */
static void fifo_refill(void)
{
	struct work_job *j = atomic_exchange_explicit(&wp.inbox, NULL,
						      memory_order_acquire);
	WORK_HAPPENS_AFTER(&wp.inbox);
	struct work_job *rev = NULL;
	while (j) {
		struct work_job *next = j->next;
		j->next = rev;
		rev = j;
		j = next;
	}
	if (!rev)
		return;
	if (wp.fifo_tail)
		wp.fifo_tail->next = rev;
	else
		wp.fifo_head = rev;
	while (rev->next)
		rev = rev->next;
	wp.fifo_tail = rev;
}

static bool take_pending(void)
{
	unsigned n = atomic_load(&wp.pending);
	while (n > 0)
		if (atomic_compare_exchange_weak(&wp.pending, &n, n - 1))
			return true;
	return false;
}

/* The next job, or NULL when the pool stops. A worker with nothing to do
 * goes on top of the idle stack, and a new job wakes the top one: the
 * thread that ran last, whose caches are warm and which the scheduler
 * does not favour over the loop thread as it would one that slept long
 * (with a FIFO of sleepers, 6 threads gave a worse loop lag than 2).
 * Only the loop pops, so the stack has no ABA problem. A worker stays on it
 * until popped, and looks for a job again after pushing itself, so a job
 * submitted in between is never left waiting; the loop passes over a
 * popped worker that is not waiting (it found a job that way) and wakes
 * the next. */
static struct work_job *worker_take(struct worker *self)
{
	for (;;) {
		if (take_pending())
			break;
		if (atomic_load(&wp.stop))
			return NULL;
		if (!atomic_exchange(&self->in_stack, true)) {
			struct worker *head = atomic_load(&wp.idle);
			do
				self->next_idle = head;
			while (!atomic_compare_exchange_weak(&wp.idle, &head, self));
		}
		atomic_store(&self->waiting, true);
		if (atomic_load(&wp.pending) > 0 || atomic_load(&wp.stop)) {
			atomic_store(&self->waiting, false);
			continue;
		}
		while (sem_wait(&self->wake) < 0)
			if (errno != EINTR)
				CORO_PANIC("sem_wait: %d", errno);
		atomic_store(&self->waiting, false);
	}
	pthread_mutex_lock(&wp.lock);
	if (!wp.fifo_head)
		fifo_refill();
	struct work_job *j = wp.fifo_head;
	if (!j)
		CORO_PANIC("a pending job is missing");
	wp.fifo_head = j->next;
	if (!wp.fifo_head)
		wp.fifo_tail = NULL;
	pthread_mutex_unlock(&wp.lock);
	return j;
}

static void worker_finish(struct work_job *j)
{
	struct work_job *head = atomic_load_explicit(&wp.done, memory_order_relaxed);
	do {
		j->next = head;
		WORK_HAPPENS_BEFORE(&wp.done);
	} while (!atomic_compare_exchange_weak_explicit(&wp.done, &head, j,
						      memory_order_release,
						      memory_order_relaxed));
	/* j belongs to its coroutine again: do not touch it. */
	if (head)
		return;	/* the loop has a wake-up coming already */
	uint64_t one = 1;
	while (write(wp.efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *worker_main(void *arg)
{
	struct worker *self = arg;
	/* Per thread on Linux: PRIO_PROCESS with a thread id. */
	pid_t tid = gettid();
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno == 0)
		(void)setpriority(PRIO_PROCESS, (id_t)tid, nice + WORK_NICE);
	(void)coro__thread_slice(0);	/* not the loop thread's short slice */
	struct work_job *j;
	while ((j = worker_take(self)) != NULL) {
		j->fn(j->arg);
		worker_finish(j);
	}
	return NULL;
}

/* --- Loop side ----------------------------------------------------------- */

static void poll_cb(uv_poll_t *p, int status, int events)
{
	uint64_t n;
	while (read(wp.efd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	struct work_job *j = atomic_exchange_explicit(&wp.done, NULL,
						      memory_order_acquire);
	WORK_HAPPENS_AFTER(&wp.done);
	struct work_job *rev = NULL;
	while (j) {
		struct work_job *next = j->next;
		j->next = rev;
		rev = j;
		j = next;
	}
	/* Wake the batch in completion order before any of it runs. */
	coro__hold();
	while (rev) {
		struct work_job *next = rev->next;
		CORO_ASSERT(wp.depth > 0);
		wp.depth--;
		coro_wake(rev->c, 0);
		rev = next;
	}
	if (wp.depth == 0)
		uv_unref((uv_handle_t *)wp.poll);
	coro__release();
}

static unsigned threads_default(void)
{
	const char *env = getenv("SEAL_WORKERS");
	if (env && *env) {
		char *end;
		unsigned long n = strtoul(env, &end, 10);
		if (*end == '\0' && n >= 1 && n <= WORK_MAX_THREADS)
			return (unsigned)n;
	}
	/* CPU-bound jobs are held to the CPUs less one (cpu-gate.c); the
	 * rest of the threads are for jobs that mostly wait on the disk (an
	 * fsync, a SQLite commit). With the CPUs alone, 100 IMAP clients on 2
	 * CPUs left the machine a third idle while two workers sat in fsync
	 * (bench/README.md). */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	return cpus + WORK_IO_THREADS > WORK_MAX_THREADS ? WORK_MAX_THREADS
							 : (unsigned)cpus + WORK_IO_THREADS;
}

static void pool_free(void)
{
	if (wp.efd >= 0)
		close(wp.efd);
	wp.efd = -1;
	for (unsigned i = 0; i < wp.nthreads; i++)
		sem_destroy(&wp.workers[i].wake);
	pthread_mutex_destroy(&wp.lock);
	free(wp.workers);
	wp.workers = NULL;
	wp.nthreads = 0;
	atomic_store(&wp.idle, NULL);
}

static void pool_join(void)
{
	atomic_store(&wp.stop, true);
	for (unsigned i = 0; i < wp.nthreads; i++)
		sem_post(&wp.workers[i].wake);
	for (unsigned i = 0; i < wp.nthreads; i++)
		pthread_join(wp.workers[i].thread, NULL);
	atomic_store(&wp.stop, false);
}

/* Workers block every signal they may: signals are the loop's business
 * (uv_signal), and a handler must not run on a thread at low priority. */
static int pool_spawn_threads(unsigned n)
{
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	wp.workers = xcalloc(n, sizeof(*wp.workers));
	int r = 0;
	for (wp.nthreads = 0; wp.nthreads < n; wp.nthreads++) {
		struct worker *w = &wp.workers[wp.nthreads];
		sem_init(&w->wake, 0, 0);
		r = pthread_create(&w->thread, NULL, worker_main, w);
		if (r != 0) {
			sem_destroy(&w->wake);
			break;
		}
		pthread_setname_np(w->thread, "seal-work");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Fewer threads than asked still make a pool. */
	return wp.nthreads > 0 ? 0 : -r;
}

static void poll_closed_cb(uv_handle_t *h)
{
	free(h);
}

/* uv_close() takes the fd out of epoll at once (libuv's poll close calls
 * epoll_ctl DEL), so the eventfd may be closed right after it, before its
 * number can be reused by a watch of somebody else's. */
static void pool_close_poll(void)
{
	uv_close((uv_handle_t *)wp.poll, poll_closed_cb);
	wp.poll = NULL;
	pool_free();
}

static int pool_start(void)
{
	uv_loop_t *loop = coro_loop();
	if (!loop)
		CORO_PANIC("coro_await_work before coro_runtime_init");
	wp.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wp.efd < 0)
		return -errno;
	pthread_mutex_init(&wp.lock, NULL);
	wp.poll = xmalloc(sizeof(*wp.poll));
	int r = uv_poll_init(loop, wp.poll, wp.efd);
	if (r < 0) {
		free(wp.poll);
		wp.poll = NULL;
		pool_free();
		return r;
	}
	r = uv_poll_start(wp.poll, UV_READABLE, poll_cb);
	if (r < 0) {
		pool_close_poll();
		return r;
	}
	/* Referenced only while jobs are out (see coro_await_work). */
	uv_unref((uv_handle_t *)wp.poll);
	r = pool_spawn_threads(wp.threads_wanted ? wp.threads_wanted
						 : threads_default());
	if (r < 0) {
		pool_join();
		pool_close_poll();
		return r;
	}
	return 0;
}

void coro__work_shutdown(void)
{
	if (!wp.poll)
		return;
	CORO_ASSERT(wp.depth == 0);
	pool_join();
	pool_close_poll();
}

int coro_work_set_threads(unsigned n)
{
	if (n == 0 || n > WORK_MAX_THREADS)
		return -EINVAL;
	if (wp.poll)
		return -EBUSY;
	wp.threads_wanted = n;
	return 0;
}

int coro_await_work(void (*fn)(void *arg), void *arg)
{
	struct work_job j = {
		.fn = fn,
		.arg = arg,
		.c = coro__self("coro_await_work"),
	};
	if (!wp.poll) {
		int r = pool_start();
		if (r < 0)
			return r;
	}
	if (wp.depth++ == 0)
		uv_ref((uv_handle_t *)wp.poll);
	struct work_job *head = atomic_load_explicit(&wp.inbox, memory_order_relaxed);
	do {
		j.next = head;
		WORK_HAPPENS_BEFORE(&wp.inbox);
	} while (!atomic_compare_exchange_weak_explicit(&wp.inbox, &head, &j,
						      memory_order_release,
						      memory_order_relaxed));
	atomic_fetch_add(&wp.pending, 1);
	for (;;) {
		struct worker *w = atomic_load(&wp.idle);
		while (w && !atomic_compare_exchange_weak(&wp.idle, &w, w->next_idle))
			;
		if (!w)
			break;
		atomic_store(&w->in_stack, false);
		if (atomic_load(&w->waiting)) {
			sem_post(&w->wake);
			break;
		}
	}
	return coro_park(CORO_NO_DEADLINE, false);
}

unsigned coro_work_queue_depth(void)
{
	return wp.depth;
}
