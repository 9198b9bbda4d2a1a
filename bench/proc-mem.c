#include "bench/proc-mem.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

struct proc {
	pid_t pid, ppid;
	bool in_tree;
};

/* The parent from /proc/PID/stat: the command name in parentheses may
 * hold spaces and parentheses, so parse after the last ')'. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	int ppid;
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
	return x < y ? -1 : x > y;
}

static void add_rollup(pid_t pid, struct bench_proc_mem *m)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	unsigned long long kb;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Rss: %llu kB", &kb) == 1)
			m->rss_bytes += kb * 1024;
		else if (sscanf(line, "Pss: %llu kB", &kb) == 1)
			m->pss_bytes += kb * 1024;
	}
	fclose(f);
	m->processes++;
}

int bench_proc_tree_mem(pid_t root, struct bench_proc_mem *m)
{
	memset(m, 0, sizeof(*m));
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	struct proc *ps = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(e->d_name);
		pid_t ppid = parent_of(pid);
		if (ppid < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			ps = xrealloc(ps, cap * sizeof(*ps));
		}
		ps[n++] = (struct proc){ pid, ppid, pid == root };
	}
	closedir(d);
	/* Mark descendants until nothing changes (pids wrap around, so a
	 * child may have a smaller pid than its parent); parents
	 * are found by binary search over the pids. */
	qsort(ps, n, sizeof(*ps), by_pid);
	bool found = false, changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			if (ps[i].in_tree)
				continue;
			struct proc key = { .pid = ps[i].ppid };
			struct proc *parent = bsearch(&key, ps, n, sizeof(*ps), by_pid);
			if (parent && parent->in_tree)
				ps[i].in_tree = changed = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (ps[i].in_tree) {
			found = found || ps[i].pid == root;
			add_rollup(ps[i].pid, m);
		}
	free(ps);
	return found ? 0 : -ESRCH;
}
