/* The metadata operations IMAP needs, each the meta.h call of the same
 * name run by store__meta_call(): under the user's lock, on the pool
 * unless it is a tiny indexed read, and with a change notification after
 * anything that writes. One argument struct per call; nothing else. */
#include "storage/store-private.h"

#include <errno.h>
#include <string.h>

#include "src/util/xmalloc.h"

#define WRITE (STORE__POOL | STORE__NOTIFY)
#define SCAN STORE__POOL
#define TINY 0u

struct op {
	const char *name, *name2;
	int64_t id, id2;
	bool flag;
	uint32_t u32;
	uint64_t u64;
	const struct meta_uid_range *set;
	size_t n_set;
	void *out, *out2;
	const void *in;
	const char **error_r;
};

static int do_list(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_list(m, o->flag, o->out, o->error_r);
}

int store_list(struct store_user *u, bool subscribed_too, struct meta_mailbox_list *list_r,
	       const char **error_r)
{
	struct op o = { .flag = subscribed_too, .out = list_r, .error_r = error_r };
	return store__meta_call(u, do_list, &o, SCAN);
}

static int do_create(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_create(m, o->name, o->name2, o->out, o->error_r);
}

int store_create(struct store_user *u, const char *name, const char *special_use,
		 int64_t *id_r, const char **error_r)
{
	struct op o = { .name = name, .name2 = special_use, .out = id_r, .error_r = error_r };
	return store__meta_call(u, do_create, &o, WRITE);
}

static int do_delete(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_delete(m, o->name, o->error_r);
}

int store_delete(struct store_user *u, const char *name, const char **error_r)
{
	struct op o = { .name = name, .error_r = error_r };
	return store__meta_call(u, do_delete, &o, WRITE);
}

static int do_rename(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_rename(m, o->name, o->name2, o->error_r);
}

int store_rename(struct store_user *u, const char *from, const char *to, const char **error_r)
{
	struct op o = { .name = from, .name2 = to, .error_r = error_r };
	return store__meta_call(u, do_rename, &o, WRITE);
}

static int do_subscribe(struct meta *m, void *p)
{
	struct op *o = p;
	return o->flag ? meta_subscribe(m, o->name, o->error_r)
		       : meta_unsubscribe(m, o->name, o->error_r);
}

int store_subscribe(struct store_user *u, const char *name, const char **error_r)
{
	struct op o = { .name = name, .flag = true, .error_r = error_r };
	return store__meta_call(u, do_subscribe, &o, WRITE);
}

int store_unsubscribe(struct store_user *u, const char *name, const char **error_r)
{
	struct op o = { .name = name, .flag = false, .error_r = error_r };
	return store__meta_call(u, do_subscribe, &o, WRITE);
}

static int do_find(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_mailbox_find(m, o->name, o->out, o->error_r);
}

int store_mailbox_find(struct store_user *u, const char *name, int64_t *id_r,
		       const char **error_r)
{
	struct op o = { .name = name, .out = id_r, .error_r = error_r };
	return store__meta_call(u, do_find, &o, TINY);
}

static int do_status(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_status(m, o->name, o->id, o->out, o->error_r);
}

int store_status(struct store_user *u, const char *name, int64_t id, struct meta_status *st_r,
		 const char **error_r)
{
	struct op o = { .name = name, .id = id, .out = st_r, .error_r = error_r };
	return store__meta_call(u, do_status, &o, SCAN);
}

static int do_snapshot(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_snapshot(m, o->name, o->out, o->error_r);
}

int store_snapshot(struct store_user *u, const char *name, struct meta_snapshot *snap_r,
		   const char **error_r)
{
	struct op o = { .name = name, .out = snap_r, .error_r = error_r };
	return store__meta_call(u, do_snapshot, &o, SCAN);
}

static int do_changes(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_changes(m, o->id, o->u64, o->out, o->error_r);
}

int store_changes(struct store_user *u, int64_t mailbox, uint64_t since,
		  struct meta_changes *ch_r, const char **error_r)
{
	struct op o = { .id = mailbox, .u64 = since, .out = ch_r, .error_r = error_r };
	return store__meta_call(u, do_changes, &o, SCAN);
}

/* Writes (the threshold moves) but changes nothing other sessions see. */
static int do_claim_recent(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_claim_recent(m, o->id, o->out, o->out2, o->error_r);
}

int store_claim_recent(struct store_user *u, int64_t mailbox, uint32_t *first_r,
		       uint32_t *last_r, const char **error_r)
{
	struct op o = { .id = mailbox, .out = first_r, .out2 = last_r, .error_r = error_r };
	return store__meta_call(u, do_claim_recent, &o, STORE__POOL);
}

static int do_fetch(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_fetch(m, o->id, o->set, o->n_set, o->out, o->error_r);
}

int store_fetch(struct store_user *u, int64_t mailbox, const struct meta_uid_range *set,
		size_t n_set, struct meta_fetch_list *list_r, const char **error_r)
{
	struct op o = { .id = mailbox, .set = set, .n_set = n_set, .out = list_r,
			.error_r = error_r };
	return store__meta_call(u, do_fetch, &o, SCAN);
}

struct headers_op {
	int64_t mailbox;
	uint32_t lo, hi;
	size_t max_n, max_bytes;
	bool with_data;
	struct meta_header_list *out;
	const struct meta_header_put *in;
	size_t n_in;
	const char **error_r;
};

static int do_headers(struct meta *m, void *p)
{
	struct headers_op *o = p;
	return meta_headers(m, o->mailbox, o->lo, o->hi, o->max_n, o->max_bytes, o->with_data,
			    o->out, o->error_r);
}

int store_headers(struct store_user *u, int64_t mailbox, uint32_t lo, uint32_t hi,
		  size_t max_n, size_t max_bytes, bool with_data, struct meta_header_list *list_r,
		  const char **error_r)
{
	struct headers_op o = { .mailbox = mailbox, .lo = lo, .hi = hi, .max_n = max_n,
				.max_bytes = max_bytes, .with_data = with_data, .out = list_r,
				.error_r = error_r };
	memset(list_r, 0, sizeof(*list_r));
	return store__meta_call(u, do_headers, &o, SCAN);
}

static int do_headers_put(struct meta *m, void *p)
{
	struct headers_op *o = p;
	return meta_headers_put(m, o->in, o->n_in, o->error_r);
}

/* A write, but of a cache: no session has anything new to learn. */
int store_headers_put(struct store_user *u, const struct meta_header_put *v, size_t n,
		      const char **error_r)
{
	struct headers_op o = { .in = v, .n_in = n, .error_r = error_r };
	return store__meta_call(u, do_headers_put, &o, STORE__POOL);
}

static int do_flags(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_flags(m, o->id, o->set, o->n_set, o->out, o->error_r);
}

int store_flags(struct store_user *u, int64_t mailbox, const struct meta_uid_range *set,
		size_t n_set, struct meta_msgs *list_r, const char **error_r)
{
	struct op o = { .id = mailbox, .set = set, .n_set = n_set, .out = list_r,
			.error_r = error_r };
	return store__meta_call(u, do_flags, &o, SCAN);
}

static int do_store(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_store(m, o->id, o->set, o->n_set, o->in, o->out, o->error_r);
}

int store_store(struct store_user *u, int64_t mailbox, const struct meta_uid_range *set,
		size_t n_set, const struct meta_store_req *req, struct meta_store_result *res_r,
		const char **error_r)
{
	struct op o = { .id = mailbox, .set = set, .n_set = n_set, .in = req, .out = res_r,
			.error_r = error_r };
	return store__meta_call(u, do_store, &o, WRITE);
}

static int do_copy(struct meta *m, void *p)
{
	struct op *o = p;
	return o->flag ? meta_move(m, o->id, o->set, o->n_set, o->id2, o->out, o->error_r)
		       : meta_copy(m, o->id, o->set, o->n_set, o->id2, o->out, o->error_r);
}

int store_copy(struct store_user *u, int64_t src, const struct meta_uid_range *set,
	       size_t n_set, int64_t dst, struct meta_copy_result *res_r, const char **error_r)
{
	struct op o = { .id = src, .set = set, .n_set = n_set, .id2 = dst, .out = res_r,
			.error_r = error_r };
	return store__meta_call(u, do_copy, &o, WRITE);
}

int store_move(struct store_user *u, int64_t src, const struct meta_uid_range *set,
	       size_t n_set, int64_t dst, struct meta_copy_result *res_r, const char **error_r)
{
	struct op o = { .id = src, .set = set, .n_set = n_set, .id2 = dst, .flag = true,
			.out = res_r, .error_r = error_r };
	return store__meta_call(u, do_copy, &o, WRITE);
}

static int do_expunge(struct meta *m, void *p)
{
	struct op *o = p;
	return meta_expunge(m, o->id, o->set, o->n_set, o->u32, o->out, o->out2, o->error_r);
}

int store_expunge(struct store_user *u, int64_t mailbox, const struct meta_uid_range *set,
		  size_t n_set, uint32_t flags, struct meta_uids *uids_r, uint64_t *modseq_r,
		  const char **error_r)
{
	struct op o = { .id = mailbox, .set = set, .n_set = n_set, .u32 = flags, .out = uids_r,
			.out2 = modseq_r, .error_r = error_r };
	return store__meta_call(u, do_expunge, &o, WRITE);
}

static int do_keyword(struct meta *m, void *p)
{
	struct op *o = p;
	const char *name = meta_keyword_name(m, o->u32);
	if (!name)
		return -ENOENT;
	*(char **)o->out = xstrdup(name);
	return 0;
}

int store_keyword_name(struct store_user *u, uint32_t id, char **name_r)
{
	struct op o = { .u32 = id, .out = name_r };
	*name_r = NULL;
	return store__meta_call(u, do_keyword, &o, TINY);
}
