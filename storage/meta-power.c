/* What a power failure may take, and how the database recovers from it.
 *
 * Relaxed commits (flags, expunges, the header cache) are not synced when
 * they commit, so an operating-system crash or a power failure can undo the
 * newest of them. A client may have seen the MODSEQs they took, and would
 * otherwise see the same numbers again for other changes, so its
 * CONDSTORE/QRESYNC state would silently go wrong. The database therefore
 * records the boot it was opened in and whether it was closed (closing
 * syncs everything). Opened again after another boot while not closed, it
 * moves every mailbox's HIGHESTMODSEQ past anything that may have been
 * handed out and gives every message that MODSEQ: each client then fetches
 * all flags once. A crash of the process alone loses nothing (the kernel
 * still has the writes), and the boot id tells the two apart.
 */
#include "storage/meta-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Larger than the relaxed commits between two syncs could ever be. */
#define POWER_MODSEQ_GAP ((int64_t)1 << 32)

static struct {
	bool read;
	int64_t id;	/* 0: unknown */
} boot;

void meta_boot_id_init(void)
{
	if (boot.read)
		return;
	boot.read = true;
	char text[64] = { 0 };
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	uint64_t h = 0xcbf29ce484222325ull;
	for (ssize_t i = 0; i < n; i++) {
		h ^= (unsigned char)text[i];
		h *= 0x100000001b3ull;
	}
	boot.id = n > 0 ? (int64_t)(h >> 1) | 1 : 0;
}

static int info_or(struct meta *m, const char *name, int64_t dflt, int64_t *v_r)
{
	int r = meta__info_get(m, name, v_r);
	if (r == -EBADMSG) {
		*v_r = dflt;
		return 0;
	}
	return r;
}

static int renumber(struct meta *m)
{
	char sql[192];
	snprintf(sql, sizeof(sql),
		 "UPDATE mailbox SET highest_modseq = highest_modseq + %lld;"
		 "UPDATE instance SET modseq = (SELECT highest_modseq FROM mailbox"
		 " WHERE id = instance.mailbox_id);",
		 (long long)POWER_MODSEQ_GAP);
	return meta__exec(m, sql);
}

int meta__power_open(struct meta *m, bool *renumbered_r)
{
	int64_t open_boot, was_open;
	meta_boot_id_init();
	*renumbered_r = false;
	int r = meta__begin(m, true);
	if (r < 0)
		return r;
	r = info_or(m, "open_boot", 0, &open_boot);
	if (r == 0)
		r = info_or(m, "open", 0, &was_open);
	/* An unknown boot (no /proc) cannot prove the same boot. */
	if (r == 0 && was_open && (open_boot != boot.id || boot.id == 0)) {
		r = renumber(m);
		*renumbered_r = r == 0;
	}
	if (r == 0)
		r = meta__info_set(m, "open_boot", boot.id);
	if (r == 0)
		r = meta__info_set(m, "open", 1);
	r = meta__end(m, r);	/* a full commit */
	m->open_noted = r == 0;
	return r;
}

void meta__power_close(struct meta *m)
{
	if (m->open_noted && meta__begin(m, true) == 0)
		meta__end(m, meta__info_set(m, "open", 0));
}

int meta_sync(struct meta *m, const char **error_r)
{
	if (m->depth > 0)
		return meta__fail(error_r, -EINVAL, "a transaction is open");
	int64_t n;
	int r = meta__begin(m, true);
	if (r == 0) {
		r = info_or(m, "syncs", 0, &n);
		if (r == 0)
			r = meta__info_set(m, "syncs", n + 1);
		r = meta__end(m, r);
	}
	return r < 0 ? meta__fail(error_r, r, "cannot sync the metadata") : 0;
}

bool meta_renumbered(const struct meta *m)
{
	return m->renumbered;
}
