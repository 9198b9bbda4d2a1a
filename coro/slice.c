/* Asks the kernel for a short scheduler slice for the calling thread.
 *
 * Since Linux 6.12 a task may request its slice (sched_attr.sched_runtime,
 * 0.1 to 100 ms); a shorter one gives it an earlier deadline, so its
 * wake-up preempts a running task of the default slice instead of waiting
 * for that slice to end. The loop thread asks for the shortest: it runs
 * in bursts of tens of microseconds and mostly sleeps. Measured with
 * bench/run-idle.sh on 2 CPUs (Linux 6.18): the loop's wait for a CPU
 * after a wake-up, p99 2.0 ms before, 0.8 ms after. Older kernels ignore
 * the field for normal tasks. */
#include "coro/coro-internal.h"

#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct slice_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

int coro__thread_slice(uint64_t ns)
{
#ifdef SYS_sched_setattr
	struct slice_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0)
		return -1;
	a.size = sizeof(a);
	a.sched_runtime = ns;
	return (int)syscall(SYS_sched_setattr, 0, &a, 0);
#else
	(void)ns;
	return -1;
#endif
}
