/* Memory of a process and all its descendants, from /proc: for servers
 * that run many processes (Dovecot) and have no admin socket. Reads files
 * with blocking calls: use it while nothing else needs the loop. */
#ifndef SEAL_BENCH_PROC_MEM_H
#define SEAL_BENCH_PROC_MEM_H

#include <stdint.h>
#include <sys/types.h>

struct bench_proc_mem {
	unsigned processes;
	uint64_t rss_bytes;	/* sum of each process's RSS: shared pages count once per process */
	uint64_t pss_bytes;	/* proportional set size: shared pages split between their users */
};

/* 0, or -ESRCH when root does not exist. Processes that exit while it
 * reads are skipped. */
int bench_proc_tree_mem(pid_t root, struct bench_proc_mem *m);

#endif
