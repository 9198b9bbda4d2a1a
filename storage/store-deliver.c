/* Deliveries seen from the daemon: the notice that one was committed (by
 * `sealmail deliver` or in-process), and in-process delivery for SMTP and
 * LMTP on top of delivery.h, with the blocking parts on the pool.
 *
 * Group commit. Deliveries to one user that reach their commit while a
 * group of that user's is being committed wait for it, then commit
 * together (delivery.h, delivery_group_*): their files' fsyncs in flight
 * at once, one fsync of a shard directory and one delivery.sqlite commit
 * for all of them, where each alone pays its own. The coroutine whose
 * group is durable hands the lead to the first one waiting, which commits
 * everything queued by then; each sender is answered as soon as the group
 * it was in is durable, and nobody commits for longer than its own group.
 *
 * The pool has as many workers as CPUs, and a group commit is mostly
 * waiting: fsyncs of the files, then of the directories, then the
 * delivery.sqlite commit. So a group runs in stages: the CPU work and the
 * SQLite commit on the pool, the two rounds of fsyncs through Linux AIO,
 * waited for on the loop (an eventfd watched like a socket), so that no
 * worker sits idle in them while other deliveries wait for a worker to
 * begin. Where AIO is not available, a pool job runs fsync(2). */
#include "storage/store-private.h"

#include <errno.h>
#include <linux/aio_abi.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "src/util/xmalloc.h"
#include "storage/userdir.h"

#define DELIVER_BUF (64 * 1024)	/* bytes buffered before a trip to the pool */
#define DELIVER_JOB_MAX (1024 * 1024)	/* bytes handed to one pool job */
#define DELIVER_GROUP_MAX 64	/* deliveries in one group commit */
#define DELIVER_AIO_MAX 16	/* AIO contexts per store: groups fsyncing at once */

struct lookup_job {
	const char *users_dir, *name;
	char *dir;
};

static int lookup_job(void *p)
{
	struct lookup_job *j = p;
	return userdir_lookup(j->users_dir, j->name, &j->dir, NULL);
}

/* store_deliveries_arrived for the user directory dir. */
static int arrived_in(struct store *st, const char *dir)
{
	struct store_user *u = store__user_find(st, dir);
	int r;

	if (!u || u->state != STORE__OPEN || store_user_stale(u))
		return 0;	/* the next login takes it in */
	bool more = false;
	store__user_ref(u);
	store__lock(&u->lock);
	r = u->state == STORE__OPEN && !u->importing ? store__import_pending(u, STORE_BATCH, &more)
						     : 0;
	store__unlock(&u->lock);
	if (more || u->importing)
		store__import_in_background(u);
	store__user_unref(u);
	return r;
}

int store_deliveries_arrived(struct store *st, const char *user_name)
{
	struct lookup_job j = { st->users_dir, user_name, NULL };
	int r = store__pool(lookup_job, &j);

	if (r == 0)
		r = arrived_in(st, j.dir);
	free(j.dir);
	return r;
}

struct store_delivery {
	struct store *store;
	char *user;
	char *dir;		/* the user directory, as delivery.h resolved it */
	struct delivery *d;
	uint8_t *buf;
	size_t len;
	const uint8_t *data;	/* what the current write job writes */
	size_t data_len;
	const struct delivery_opts *opts;
	char *err;
	int error;
	int result;		/* of the group commit it was in */
};

/* A delivery parked until its group is durable, or until it leads. */
struct group_wait {
	struct group_wait *next;
	struct store_delivery *sd;
	struct coro *c;
	bool lead;		/* woken to commit the queue, not with a result */
};

/* The deliveries of one user at their commit: registered in the store
 * while any of them holds a reference. */
struct store__dq {
	struct store__dq *next;
	char *dir;
	unsigned refs;
	bool busy;		/* a group of this user is being committed */
	struct group_wait *head, *tail;
};

static int begin_job(void *p)
{
	struct store_delivery *sd = p;
	return delivery_begin(sd->store->users_dir, sd->user, sd->opts, &sd->d, &sd->err);
}

static int write_job(void *p)
{
	struct store_delivery *sd = p;
	return delivery_write(sd->d, sd->data, sd->data_len);
}

/* Hands the buffered rest of the message to the delivery; an error stays
 * in it (delivery_write) and its commit reports it. */
static void flush_rest(struct store_delivery *sd)
{
	if (sd->len)
		delivery_write(sd->d, sd->buf, sd->len);
	sd->len = 0;
}

/* --- fsyncs through Linux AIO, waited for on the loop ------------------- */

/* A context and the eventfd its completions signal, used by one group at a
 * time and kept for the next: io_destroy() waits for an RCU grace period,
 * tens of milliseconds. */
struct store__aio {
	struct coro_fd watch;	/* the eventfd */
	struct store__aio *next;
	aio_context_t ctx;
};

struct aio_job {
	aio_context_t ctx;
	long want;		/* events to wait for */
	struct io_event *ev;
	long got;
};

static int destroy_job(void *p)
{
	struct aio_job *j = p;
	syscall(SYS_io_destroy, j->ctx);
	return 0;
}

/* Blocks until j->want events came (after the coroutine was cancelled and
 * cannot wait on the loop). */
static int getevents_job(void *p)
{
	struct aio_job *j = p;
	while (j->got < j->want) {
		long e = syscall(SYS_io_getevents, j->ctx, j->want - j->got, j->want - j->got,
				 j->ev + j->got, NULL);
		if (e < 0 && errno != EINTR)
			abort();	/* a valid context with events in flight */
		if (e > 0)
			j->got += e;
	}
	return 0;
}

static struct store__aio *aio_get(struct store *st)
{
	struct store__aio *a = st->delivery_aio;

	if (a) {
		st->delivery_aio = a->next;
		return a;
	}
	if (st->delivery_aio_count >= DELIVER_AIO_MAX)
		return NULL;
	aio_context_t ctx = 0;
	if (syscall(SYS_io_setup, DELIVER_GROUP_MAX, &ctx) < 0)
		return NULL;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a = xcalloc(1, sizeof(*a));
	a->ctx = ctx;
	if (efd < 0 || coro_fd_init(&a->watch, efd) < 0) {
		struct aio_job j = { .ctx = ctx };
		if (efd >= 0)
			close(efd);
		store__pool(destroy_job, &j);
		free(a);
		return NULL;
	}
	st->delivery_aio_count++;
	return a;
}

static void aio_free(struct coro_fd *w)
{
	free((struct store__aio *)((char *)w - offsetof(struct store__aio, watch)));
}

void store__deliver_shutdown(struct store *st)
{
	while (st->delivery_aio) {
		struct store__aio *a = st->delivery_aio;
		struct aio_job j = { .ctx = a->ctx };
		st->delivery_aio = a->next;
		store__pool(destroy_job, &j);
		coro_fd_close(&a->watch, aio_free);
	}
	st->delivery_aio_count = 0;
}

/* fsync(2) of fds[0..n) (n <= DELIVER_GROUP_MAX) in flight together
 * through a, the coroutine parked on the loop meanwhile: IOCB_CMD_FSYNC
 * is vfs_fsync, as the system call, run by the kernel's workers. res[i]
 * gets each result; those not submitted stay 1. */
static void aio_fsyncs(struct store__aio *a, const int *fds, size_t n, int *res)
{
	struct iocb *cbs = xcalloc(n, sizeof(*cbs)), **ptrs = xcalloc(n, sizeof(*ptrs));
	struct io_event *ev = xcalloc(n, sizeof(*ev));

	for (size_t i = 0; i < n; i++) {
		cbs[i].aio_fildes = (uint32_t)fds[i];
		cbs[i].aio_lio_opcode = IOCB_CMD_FSYNC;
		cbs[i].aio_flags = IOCB_FLAG_RESFD;
		cbs[i].aio_resfd = (uint32_t)a->watch.fd;
		cbs[i].aio_data = i;
		ptrs[i] = &cbs[i];
	}
	long sub = syscall(SYS_io_submit, a->ctx, (long)n, ptrs);
	long got = 0;
	while (got < sub) {
		uint64_t count;
		struct timespec now = { 0, 0 };
		/* Reset the eventfd before looking: a completion after the look
		 * makes it readable again. */
		if (read(a->watch.fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			abort();
		long e = syscall(SYS_io_getevents, a->ctx, 0L, sub - got, ev, &now);
		if (e < 0 && errno != EINTR)
			abort();	/* a valid context with events in flight */
		for (long i = 0; i < e; i++)
			res[ev[i].data] = (int)ev[i].res;
		got += e > 0 ? e : 0;
		if (got == sub)
			break;
		int w = coro_fd_wait(&a->watch, UV_READABLE, CORO_NO_DEADLINE);
		if (w == -EINTR || w > 0)
			continue;	/* coro_interrupt is for waits on input */
		/* Cancelled: the fsyncs are the kernel's until they end. */
		struct aio_job j = { .ctx = a->ctx, .want = sub - got, .ev = ev };
		store__pool(getevents_job, &j);
		for (long i = 0; i < j.got; i++)
			res[ev[i].data] = (int)ev[i].res;
		break;
	}
	free(ev);
	free(ptrs);
	free(cbs);
}

struct fsync_job {
	const int *fds;
	size_t n;
	int *res;
};

static int fsync_job(void *p)
{
	struct fsync_job *j = p;
	for (size_t i = 0; i < j->n; i++)
		if (j->res[i] == 1)
			j->res[i] = fsync(j->fds[i]) < 0 ? -errno : 0;
	return 0;
}

/* res[i] = the fsync of fds[i], all of them in flight at once. */
static void group_fsyncs(struct store *st, const int *fds, size_t n, int *res)
{
	struct store__aio *a = n ? aio_get(st) : NULL;
	struct fsync_job j = { fds, n, res };
	bool left = false;

	for (size_t i = 0; i < n; i++)
		res[i] = 1;	/* not run yet */
	if (a) {
		aio_fsyncs(a, fds, n, res);
		a->next = st->delivery_aio;
		st->delivery_aio = a;
	}
	for (size_t i = 0; i < n; i++)
		left |= res[i] == 1;
	if (left && store__pool(fsync_job, &j) < 0)
		for (size_t i = 0; i < n; i++)
			if (res[i] == 1)
				res[i] = -EIO;
}

/* --- One group's stages ------------------------------------------------- */

struct group_job {
	struct store_delivery *sds[DELIVER_GROUP_MAX];
	size_t n;
	struct delivery_group *grp;
	const int *fds;
	size_t nfds;
	int res[DELIVER_GROUP_MAX];	/* fsyncs, then the deliveries' results */
	const int *dir_fds;
	size_t n_dirs;
	int dir_res[2];
};

static int start_job(void *p)
{
	struct group_job *j = p;
	struct delivery *ds[DELIVER_GROUP_MAX];

	for (size_t i = 0; i < j->n; i++) {
		flush_rest(j->sds[i]);
		ds[i] = j->sds[i]->d;
		j->sds[i]->d = NULL;	/* the group's now */
	}
	j->grp = delivery_group_start(ds, j->n, &j->fds, &j->nfds);
	return 0;
}

static int place_job(void *p)
{
	struct group_job *j = p;
	j->n_dirs = delivery_group_place(j->grp, j->res, &j->dir_fds);
	return 0;
}

static int end_job(void *p)
{
	struct group_job *j = p;
	char *errs[DELIVER_GROUP_MAX];

	delivery_group_end(&j->grp, j->dir_res, j->res, NULL, errs);
	for (size_t i = 0; i < j->n; i++) {
		j->sds[i]->result = j->res[i];
		j->sds[i]->err = errs[i];
	}
	return 0;
}

/* Commits j->sds[0..n): start, the files' fsyncs, place, the directory's
 * fsync, end. Each delivery's result lands in its result and err. */
static int run_group(struct store *st, struct group_job *j)
{
	int r = store__pool(start_job, j);

	if (r < 0)
		return r;	/* the pool never started: nothing ran */
	group_fsyncs(st, j->fds, j->nfds, j->res);
	store__pool(place_job, j);
	group_fsyncs(st, j->dir_fds, j->n_dirs, j->dir_res);
	store__pool(end_job, j);
	return 0;
}

static struct store__dq *dq_get(struct store *st, const char *dir)
{
	struct store__dq *q = st->delivery_queues;

	while (q && strcmp(q->dir, dir) != 0)
		q = q->next;
	if (!q) {
		q = xcalloc(1, sizeof(*q));
		q->dir = xstrdup(dir);
		q->next = st->delivery_queues;
		st->delivery_queues = q;
	}
	q->refs++;
	return q;
}

static void dq_put(struct store *st, struct store__dq *q)
{
	if (--q->refs > 0)
		return;
	struct store__dq **pp = &st->delivery_queues;
	while (*pp != q)
		pp = &(*pp)->next;
	*pp = q->next;
	free(q->dir);
	free(q);
}

/* Commits self and what is queued (up to a group), answers the others,
 * and hands the lead on. Returns self's result. */
static int lead(struct store *st, struct store__dq *q, struct store_delivery *self)
{
	struct group_job *j = xcalloc(1, sizeof(*j));
	struct group_wait *members[DELIVER_GROUP_MAX];
	size_t n = 0;

	j->sds[j->n++] = self;
	while (q->head && j->n < DELIVER_GROUP_MAX) {
		struct group_wait *w = q->head;
		q->head = w->next;
		members[n++] = w;
		j->sds[j->n++] = w->sd;
	}
	if (!q->head)
		q->tail = NULL;
	int r = run_group(st, j);
	for (size_t i = 0; i < j->n; i++)
		if (r < 0)
			j->sds[i]->result = r;
	free(j);
	for (size_t i = 0; i < n; i++)
		coro_wake(members[i]->c, 0);
	if (q->head) {
		struct group_wait *w = q->head;
		q->head = w->next;
		if (!q->head)
			q->tail = NULL;
		w->lead = true;
		coro_wake(w->c, 0);
	} else {
		q->busy = false;
	}
	return self->result;
}

/* Steps 3 and 4 of delivery.h for sd, in a group with whatever else of
 * its user arrives while the group before it commits. */
static int commit_grouped(struct store_delivery *sd)
{
	struct store *st = sd->store;
	struct store__dq *q = dq_get(st, sd->dir);
	int r;

	/* Straight into the queue: a job of its own to finish the file first
	 * would wait in the pool's queue behind the very group it should
	 * join, and find that group gone. The group's job finishes it. */
	if (q->busy) {
		struct group_wait w = { .sd = sd, .c = coro_current() };
		if (q->tail)
			q->tail->next = &w;
		else
			q->head = &w;
		q->tail = &w;
		/* Not interruptible: only a leader wakes us, when our group
		 * is durable (or failed), or to lead the next one. */
		coro_park(CORO_NO_DEADLINE, false);
		r = w.lead ? lead(st, q, sd) : sd->result;
	} else {
		q->busy = true;
		r = lead(st, q, sd);
	}
	dq_put(st, q);
	return r;
}

static void free_delivery(struct store_delivery *sd)
{
	delivery_abort(&sd->d);
	if (sd->buf)
		crypto_wipe(sd->buf, DELIVER_BUF);
	free(sd->buf);
	free(sd->dir);
	free(sd->user);
	free(sd->err);
	free(sd);
}

int store_deliver_begin(struct store *st, const char *user_name,
			const struct delivery_opts *opts, struct store_delivery **d_r,
			char **error_r)
{
	struct store_delivery *sd = xcalloc(1, sizeof(*sd));

	*d_r = NULL;
	sd->store = st;
	sd->user = xstrdup(user_name);
	sd->opts = opts;
	int r = st->stopping ? -ECANCELED : store__pool(begin_job, sd);
	sd->opts = NULL;	/* delivery_begin kept copies */
	if (r == 0)
		sd->dir = xstrdup(delivery_user_dir(sd->d));
	if (r < 0) {
		store__set_error(error_r, sd->err);
		sd->err = NULL;
		free_delivery(sd);
		return r;
	}
	sd->buf = xmalloc(DELIVER_BUF);
	*d_r = sd;
	return 0;
}

/* Writes data in jobs of at most DELIVER_JOB_MAX bytes. */
static int write_through(struct store_delivery *sd, const uint8_t *data, size_t len)
{
	int r = 0;
	while (r == 0 && len > 0) {
		sd->data = data;
		sd->data_len = len < DELIVER_JOB_MAX ? len : DELIVER_JOB_MAX;
		r = store__pool(write_job, sd);
		data += sd->data_len;
		len -= sd->data_len;
	}
	return r;
}

static int flush(struct store_delivery *sd)
{
	int r = sd->len ? write_through(sd, sd->buf, sd->len) : 0;
	sd->len = 0;
	return r;
}

int store_deliver_write(struct store_delivery *sd, const void *data, size_t len)
{
	if (sd->error)
		return sd->error;
	int r = 0;
	if (len > DELIVER_BUF - sd->len) {
		r = flush(sd);
		if (r == 0 && len >= DELIVER_BUF)
			r = write_through(sd, data, len);
		else if (r == 0)
			memcpy(sd->buf, data, len), sd->len = len;
	} else {
		memcpy(sd->buf + sd->len, data, len);
		sd->len += len;
	}
	if (r < 0)
		sd->error = r;
	return r;
}

int store_deliver_commit(struct store_delivery **sdp, char **error_r)
{
	struct store_delivery *sd = *sdp;
	int r = sd->error;

	*sdp = NULL;
	if (r == 0) {
		r = commit_grouped(sd);	/* frees sd->d either way */
		if (r < 0) {
			store__set_error(error_r, sd->err);
			sd->err = NULL;
		}
	} else {
		store__set_error(error_r, xasprintf("writing the message: %s", strerror(-r)));
	}
	/* Durable now (or failed): the import is a bonus for live sessions. */
	if (r == 0)
		arrived_in(sd->store, sd->dir);
	free_delivery(sd);
	return r;
}

void store_deliver_abort(struct store_delivery **sdp)
{
	if (*sdp)
		free_delivery(*sdp);
	*sdp = NULL;
}
