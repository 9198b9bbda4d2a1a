#include "src/fdlimit.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

unsigned fdlimit_prepare(unsigned want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rlim_t raised = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want
										     : rl.rlim_max;
		struct rlimit nrl = { raised, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &nrl) == 0)
			rl.rlim_cur = raised;
	}
	unsigned limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > want ? want
									    : (unsigned)rl.rlim_cur;
	/* The kernel sizes the table for the highest descriptor in use. */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, (int)limit - 1);
		if (high >= 0)
			close(high);
		close(fd);
	}
	return limit;
}
