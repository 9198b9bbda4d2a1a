/* Deliveries seen from the daemon: the notice that one was committed (by
 * `sealmail deliver` or in-process), and in-process delivery for SMTP and
 * LMTP on top of delivery.h, with the blocking parts on the pool. */
#include "storage/store-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"
#include "storage/userdir.h"

#define DELIVER_BUF (64 * 1024)	/* bytes buffered before a trip to the pool */
#define DELIVER_JOB_MAX (1024 * 1024)	/* bytes handed to one pool job */

struct lookup_job {
	const char *users_dir, *name;
	char *dir;
};

static int lookup_job(void *p)
{
	struct lookup_job *j = p;
	return userdir_lookup(j->users_dir, j->name, &j->dir, NULL);
}

int store_deliveries_arrived(struct store *st, const char *user_name)
{
	struct lookup_job j = { st->users_dir, user_name, NULL };
	int r = store__pool(lookup_job, &j);

	if (r < 0)
		return r;
	struct store_user *u = store__user_find(st, j.dir);
	free(j.dir);
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

struct store_delivery {
	struct store *store;
	char *user;
	struct delivery *d;
	uint8_t *buf;
	size_t len;
	const uint8_t *data;	/* what the current write job writes */
	size_t data_len;
	const struct delivery_opts *opts;
	char *err;
	int error;
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

static int commit_job(void *p)
{
	struct store_delivery *sd = p;
	return delivery_commit(&sd->d, NULL, &sd->err);
}

static void free_delivery(struct store_delivery *sd)
{
	delivery_abort(&sd->d);
	if (sd->buf)
		crypto_wipe(sd->buf, DELIVER_BUF);
	free(sd->buf);
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
	if (r == 0)
		r = flush(sd);
	if (r == 0) {
		r = store__pool(commit_job, sd);	/* frees sd->d either way */
		if (r < 0) {
			store__set_error(error_r, sd->err);
			sd->err = NULL;
		}
	} else {
		store__set_error(error_r, xasprintf("writing the message: %s", strerror(-r)));
	}
	/* Durable now (or failed): the import is a bonus for live sessions. */
	if (r == 0)
		store_deliveries_arrived(sd->store, sd->user);
	free_delivery(sd);
	return r;
}

void store_deliver_abort(struct store_delivery **sdp)
{
	if (*sdp)
		free_delivery(*sdp);
	*sdp = NULL;
}
