/* At most a few CPU-bound jobs on the pool at once.
 *
 * The loop thread needs a CPU of its own: when every CPU runs a handshake
 * or an Argon2 hash, the kernel sooner or later preempts the loop for a
 * worker, nicer or not, and with a 250 Hz tick the loop then waits up to
 * 4 ms for its next turn. Measured with bench/run-idle.sh on 2 CPUs: loop
 * lag p99 3.3-4.6 ms with two handshake workers, 0.6-1.9 ms with one.
 * Jobs that mostly wait (fsync, SQLite) are not counted: they do not keep
 * a CPU, and must not queue behind an Argon2 hash.
 *
 * Waiting coroutines queue on the loop in FIFO order and a finishing job
 * hands its slot straight to the first of them.
 */
#include "coro/coro-internal.h"

#include <unistd.h>

struct gate_waiter {
	struct gate_waiter *next;
	struct coro *c;
};

static struct {
	unsigned slots;		/* 0: not decided yet */
	unsigned busy;
	struct gate_waiter *head, *tail;
} gate;

static unsigned slots_default(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 2 ? (unsigned)(cpus - 1) : 1;
}

int coro_work_set_cpu_slots(unsigned n)
{
	if (n == 0)
		return -EINVAL;
	gate.slots = n;
	return 0;
}

int coro_await_cpu_work(void (*fn)(void *arg), void *arg)
{
	struct coro *self = coro__self("coro_await_cpu_work");
	if (!gate.slots)
		gate.slots = slots_default();
	if (gate.busy >= gate.slots) {
		struct gate_waiter w = { NULL, self };
		if (gate.tail)
			gate.tail->next = &w;
		else
			gate.head = &w;
		gate.tail = &w;
		/* Uninterruptible like the job itself; the slot comes with the
		 * wake-up. */
		coro_park(CORO_NO_DEADLINE, false);
	} else {
		gate.busy++;
	}
	int r = coro_await_work(fn, arg);
	struct gate_waiter *next = gate.head;
	if (next) {
		gate.head = next->next;
		if (!gate.head)
			gate.tail = NULL;
		coro_wake(next->c, 0);
	} else {
		gate.busy--;
	}
	return r;
}

unsigned coro_work_cpu_waiting(void)
{
	unsigned n = 0;
	for (struct gate_waiter *w = gate.head; w; w = w->next)
		n++;
	return n;
}
