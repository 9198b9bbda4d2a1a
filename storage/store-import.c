/* Taking in what was delivered while the user was offline (delivery.h,
 * "What the store does at login"), and recording message files in
 * meta.sqlite, shared with the orphan pass.
 *
 * Per batch of pending rows, under the user's lock: each file's content
 * key is unwrapped from its header (one RSA operation: the only one in the
 * message's life) on the pool, one job per message, STORE_LANES at once;
 * its instructions open with that key; then one metadata
 * transaction records the whole batch with every key re-wrapped
 * symmetrically; only then are the rows deleted from delivery.sqlite. A
 * crash between the two leaves rows whose files meta.sqlite already has:
 * the next import finds them recorded and only drops the rows (at the
 * price of one more RSA operation for each). */
#include "storage/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/util/xmalloc.h"
#include "storage/userdir.h"

#define IMPORT_LIST_MAX 1024	/* pending rows read at once */

void store__incoming_free(struct store__incoming *in)
{
	free(in->mailbox);
	for (size_t i = 0; i < in->n_keywords; i++)
		free(in->keywords[i]);
	free(in->keywords);
	crypto_wipe(in->blob, sizeof(in->blob));
	memset(in, 0, sizeof(*in));
}

int store__incoming_read(struct store_user *u, unsigned lane, struct store__incoming *in,
			 uint8_t key_r[CRYPTO_KEY_LEN])
{
	char *path = xasprintf("%s/messages/%s", u->dir, in->file);
	struct msgfile_reader *rd = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r = fd < 0 ? -errno : msgfile_reader_open(fd, &rd);

	free(path);
	if (r == 0)
		r = store__key_from_header(u, lane, rd, key_r);
	if (r == 0) {
		in->size = msgfile_reader_size(rd);
		r = store__key_seal(u, in->file, key_r, in->blob);
		in->has_key = r == 0;
	}
	if (r == -EBADMSG) {
		/* Damaged beyond reading, or not ours: recorded without a key,
		 * so the user sees a message that fails to open, not nothing. */
		in->size = 0;
		in->has_key = false;
		r = 0;
	}
	msgfile_reader_free(&rd);
	if (fd >= 0)
		close(fd);
	return r;
}

static int record_one(struct meta *m, struct store__incoming *in, int64_t inbox)
{
	int64_t mbox = inbox, mid;
	struct meta_appended res;

	if (in->mailbox && meta_mailbox_find(m, in->mailbox, &mbox, NULL) < 0)
		mbox = inbox;
	int r = meta_add_message(m, in->file, in->size, in->has_key ? in->blob : NULL,
				 in->has_key ? sizeof(in->blob) : 0, &mid, NULL);
	if (r == -EEXIST) {
		in->recorded = true;	/* taken in before a crash */
		return 0;
	}
	if (r < 0)
		return r;
	struct meta_append_req req = {
		.message_id = mid, .flags = in->flags,
		.keywords = (const char *const *)in->keywords, .n_keywords = in->n_keywords,
		.internal_date = in->internal_date,
	};
	r = meta_append(m, mbox, &req, &res, NULL);
	if (r < 0 && mbox != inbox)
		r = meta_append(m, inbox, &req, &res, NULL);
	if (r < 0) {
		meta_forget(m, &mid, 1, NULL);	/* the row stays for a retry */
		return r;
	}
	in->recorded = true;
	return 0;
}

struct record_job {
	struct store_user *u;
	struct store__incoming *v;
	size_t n;
};

static int record_job(void *p)
{
	struct record_job *j = p;
	struct meta *m = j->u->meta;
	int64_t inbox;
	int r = meta_begin(m), count = 0;

	if (r < 0)
		return r;
	r = meta_mailbox_find(m, "INBOX", &inbox, NULL);
	for (size_t i = 0; r == 0 && i < j->n; i++)
		if (!j->v[i].recorded && !j->v[i].skip)
			record_one(m, &j->v[i], inbox);
	if (r < 0) {
		meta_rollback(m);
		return r;
	}
	r = meta_commit(m);
	for (size_t i = 0; i < j->n; i++) {
		if (r < 0)
			j->v[i].recorded = false;
		count += j->v[i].recorded;
	}
	return r < 0 ? r : count;
}

int store__record(struct store_user *u, struct store__incoming *v, size_t n)
{
	struct record_job j = { u, v, n };
	return n ? store__pool(record_job, &j) : 0;
}

/* --- Pending deliveries ------------------------------------------------- */

struct pending_job {
	struct store_user *u;
	struct delivery_pending *items;
	size_t n;
	struct store__incoming *in;	/* n of them */
	bool *drop;			/* row to delete */
};

static int list_job(void *p)
{
	struct pending_job *j = p;
	return delivery_pending_list(j->u->dir, IMPORT_LIST_MAX, &j->items, &j->n, NULL);
}

/* Instructions to the incoming record: a damaged or foreign blob sends
 * the message to INBOX without flags (delivery.h). */
static void apply_instructions(struct store__incoming *in, const uint8_t key[CRYPTO_KEY_LEN],
			       const struct delivery_pending *item, int64_t now)
{
	struct delivery_instructions ins;

	in->internal_date = now;
	if (!in->has_key ||
	    delivery_open_instructions(key, item->instructions, item->instructions_len, &ins) < 0)
		return;
	in->mailbox = ins.mailbox;
	ins.mailbox = NULL;
	in->internal_date = ins.received;
	in->keywords = xcalloc(ins.nflags + 1, sizeof(*in->keywords));
	for (size_t i = 0; i < ins.nflags; i++) {
		uint32_t bit = meta_flag_parse(ins.flags[i]);
		if (bit)
			in->flags |= bit;
		else
			in->keywords[in->n_keywords++] = xstrdup(ins.flags[i]);
	}
	delivery_instructions_free(&ins);
}

static int prepare_job(void *p, size_t i, unsigned lane)
{
	struct pending_job *j = p;
	struct store__incoming *in = &j->in[i];
	const struct delivery_pending *item = &j->items[i];
	uint8_t key[CRYPTO_KEY_LEN];

	snprintf(in->delivery_name, sizeof(in->delivery_name), "%s", item->file_name);
	store__file_from_delivery(item->file_name, in->file);
	int r = store__incoming_read(j->u, lane, in, key);
	if (r == 0)
		apply_instructions(in, key, item, store_now(j->u->store));
	crypto_wipe(key, sizeof(key));
	return r;
}

static int done_job(void *p)
{
	struct pending_job *j = p;
	int r = 0;
	for (size_t i = 0; i < j->n && r == 0; i++)
		if (j->in[i].recorded || j->drop[i])
			r = delivery_pending_done(j->u->dir, j->items[i].file_name, NULL);
	return r;
}

/* Takes in items[0 .. n); returns how many rows went away and
 * adds the messages recorded to *recorded. */
static int import_batch(struct store_user *u, struct delivery_pending *items, size_t n,
			int *recorded)
{
	struct pending_job j = { .u = u, .items = items, .n = n };
	int r = 0, gone = 0, *res = xcalloc(n, sizeof(*res));

	j.in = xcalloc(n, sizeof(*j.in));
	j.drop = xcalloc(n, sizeof(*j.drop));
	store__pool_lanes(prepare_job, &j, n, res);
	for (size_t i = 0; i < n; i++) {
		if (res[i] == -ENOENT)
			j.drop[i] = true;	/* a row whose file is gone (delivery.h) */
		if (res[i] < 0)
			j.in[i].skip = true;	/* -ENOKEY: the row waits for its key */
		if (res[i] < 0 && res[i] != -ENOENT && res[i] != -ENOKEY && r == 0)
			r = res[i];
	}
	free(res);
	int rec = store__record(u, j.in, n);
	if (rec > 0) {
		*recorded += rec;
		store__changed(u);	/* sessions see each batch */
	}
	int done = store__pool(done_job, &j);
	for (size_t i = 0; i < n; i++) {
		gone += j.in[i].recorded || j.drop[i];
		store__incoming_free(&j.in[i]);
	}
	free(j.in);
	free(j.drop);
	if (r == 0)
		r = rec < 0 ? rec : done;
	return r < 0 ? r : gone;
}

int store__import_pending(struct store_user *u, size_t max, bool *more_r)
{
	int recorded = 0, r;
	size_t taken = 0;
	bool more = false;

	for (;;) {
		struct pending_job all = { .u = u };
		int gone = 0;
		r = store__pool(list_job, &all);
		size_t i = 0;
		for (; r >= 0 && i < all.n && (max == 0 || taken < max); i += STORE_BATCH) {
			size_t n = all.n - i < STORE_BATCH ? all.n - i : STORE_BATCH;
			r = import_batch(u, all.items + i, n, &recorded);
			taken += n;
			if (r > 0)
				gone += r;
		}
		more = r >= 0 && gone > 0 && (i < all.n || all.n == IMPORT_LIST_MAX);
		delivery_pending_free(&all.items, all.n);
		if (!more || (max && taken >= max))
			break;
	}
	u->store->stats.imported += (uint64_t)recorded;
	if (more_r)
		*more_r = more;
	return r < 0 ? r : recorded;
}

static void import_run(void *arg)
{
	struct store_user *u = arg;
	struct store *st = u->store;
	bool more = true;

	while ((more || u->import_again) && u->state == STORE__OPEN) {
		u->import_again = false;
		store__lock(&u->lock);
		int r = u->state == STORE__OPEN ? store__import_pending(u, STORE_BATCH, &more) : 0;
		store__unlock(&u->lock);
		if (r < 0)
			break;	/* the rows wait for the next delivery or login */
	}
	u->importing = false;
	store__user_unref(u);
	store__background_done(st);
}

void store__import_in_background(struct store_user *u)
{
	if (u->importing) {
		u->import_again = true;
		return;
	}
	u->importing = true;
	store__user_ref(u);
	if (store__background_spawn(u->store, import_run, u) < 0) {
		u->importing = false;
		store__user_unref(u);
	}
}
