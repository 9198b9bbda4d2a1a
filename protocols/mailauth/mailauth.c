/* One message's sender authentication, tying the parts together.
 *
 * Work runs as soon as its input is known, in background coroutines on the
 * loop, so DNS waits overlap the transfer of the message:
 *   - SPF starts in mailauth_begin() (it needs only the envelope);
 *   - at the end of the header the DKIM signatures and the From domain are
 *     known: one task per DKIM key and one for the DMARC record start;
 *   - the body streams through a bounded window into DKIM's hashes, which
 *     run on the worker pool;
 *   - mailauth_finish() waits for the tasks, verifies the signatures on the
 *     pool, evaluates DMARC and writes the headers.
 * Tasks write only into the mailauth and only on the loop; the pool job of
 * finish reads the key answers after every task has ended.
 */
#include "protocols/mailauth/mailauth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"
#include "protocols/mailauth/mailauth-private.h"
#include "src/config.h"
#include "src/log.h"
#include "src/util/limits.h"
#include "src/util/xmalloc.h"

/* Body bytes gathered before one hashing job on the pool; bigger chunks
 * are hashed where they are, without copying. */
#define BODY_WINDOW (64 * 1024)
/* libspf2 recurses through includes with buffers on the stack. */
#define SPF_STACK (256 * 1024)

static struct psl *global_psl;
static bool global_up;
static unsigned time_budget_ms = (MAILAUTH_MAX_SECONDS - 2) * 1000;

enum dmarc_state { DMARC_NOT_LOOKED, DMARC_NO_RECORD, DMARC_FOUND, DMARC_TEMPFAIL };

struct task {
	struct task *next;
	struct mailauth *ma;
	struct coro *co;
	void (*fn)(struct task *t);
	char name[DNS_MAX_NAME + 1];	/* the DKIM key to fetch */
};

struct mailauth {
	char *client_ip, *helo, *mail_from, *receiver;

	struct task *tasks;		/* running background tasks */
	struct coro_event tasks_done;
	bool freed, finished;

	bool spf_done;
	struct spf_outcome spf;
	int64_t spf_deadline;

	/* The header is kept whole (bounded) until its blank line. */
	struct buf hdr;
	size_t hdr_scanned;
	bool in_body, hdr_too_big;

	struct dkim_verifier *dkim;
	bool dkim_active;
	struct buf body;		/* BODY_WINDOW */
	struct dns_memo keys;
	int64_t eoh_deadline;

	int from_state;			/* as header_fields.from */
	char from_domain[DNS_MAX_NAME + 1];
	enum dmarc_state dmarc_state;
	struct dmarc_record dmarc_rec;
	bool dmarc_at_org;
};

/* --- Global set-up -------------------------------------------------------- */

int mailauth_global_init(const struct config *cfg, const char **error_r)
{
	int r;

	if (global_up)
		return 0;
	r = dns_init((const char *const *)(cfg ? cfg->dns_servers.items : NULL),
		     cfg ? cfg->dns_servers.count : 0, 0, 0, error_r);
	if (r < 0)
		return r;
	if ((r = mailauth_spf_global_init(error_r)) < 0 ||
	    (r = mailauth_dkim_global_init(error_r)) < 0) {
		mailauth_spf_global_shutdown();
		dns_shutdown();
		return r;
	}
	r = psl_load_file(MAILAUTH_PSL_PATH, &global_psl);
	if (r < 0)
		log_warning("mailauth: cannot read %s (%s): every domain is its own "
			    "organisational domain for DMARC", MAILAUTH_PSL_PATH, strerror(-r));
	global_up = true;
	return 0;
}

int mailauth_global_reload(const struct config *cfg, const char **error_r)
{
	if (!global_up)
		return mailauth_global_init(cfg, error_r);
	return dns_set_servers((const char *const *)cfg->dns_servers.items,
			       cfg->dns_servers.count, error_r);
}

void mailauth_global_shutdown(void)
{
	if (!global_up)
		return;
	mailauth_dkim_global_shutdown();
	mailauth_spf_global_shutdown();
	psl_free(&global_psl);
	dns_shutdown();
	global_up = false;
}

void mailauth__set_time_budget(unsigned ms)
{
	time_budget_ms = ms;
}

const struct psl *mailauth__psl(void)
{
	return global_psl;
}

/* --- Background tasks ----------------------------------------------------- */

static void destroy(struct mailauth *ma);

static void task_main(void *arg)
{
	struct task *t = arg;
	struct mailauth *ma = t->ma;

	t->fn(t);
	struct task **pp = &ma->tasks;
	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	free(t);
	if (ma->freed) {
		if (!ma->tasks)
			destroy(ma);
	} else {
		coro_event_notify_all(&ma->tasks_done);
	}
}

/* Starts fn in a coroutine of its own; false if none could be made (the
 * caller then reports what the task would have found as temperror). */
static bool task_start(struct mailauth *ma, void (*fn)(struct task *t),
		       const char *name, size_t stack)
{
	struct task *t = xcalloc(1, sizeof(*t));
	t->ma = ma;
	t->fn = fn;
	if (name && strlen(name) < sizeof(t->name))
		memcpy(t->name, name, strlen(name) + 1);
	t->co = coro_spawn(task_main, t, stack);
	if (!t->co) {
		free(t);
		return false;
	}
	t->next = ma->tasks;
	ma->tasks = t;
	return true;
}

static void cancel_tasks(struct mailauth *ma)
{
	for (struct task *t = ma->tasks; t; t = t->next)
		coro_cancel(t->co);
}

/* Waits until every task has ended (they end by their DNS deadlines);
 * false if the caller was cancelled or the tasks overran, which leaves
 * them cancelled and still running. */
static bool wait_tasks(struct mailauth *ma)
{
	int64_t limit = coro_now_ms() + (int64_t)time_budget_ms + 2000;
	while (ma->tasks) {
		if (coro_event_wait(&ma->tasks_done, limit) < 0) {
			cancel_tasks(ma);
			return false;
		}
	}
	return true;
}

static void spf_task(struct task *t)
{
	struct mailauth *ma = t->ma;
	mailauth_spf_check(ma->client_ip, ma->helo, ma->mail_from, ma->receiver,
			   ma->spf_deadline, &ma->spf);
	ma->spf_done = true;
}

static void key_task(struct task *t)
{
	struct dns_answer *ans;
	if (dns_query(t->name, DNS_T_TXT, t->ma->eoh_deadline, &ans) < 0)
		ans = dns_answer_new_status(DNS_T_TXT, DNS_TEMPFAIL);
	dns_memo_put(&t->ma->keys, t->name, DNS_T_TXT, ans);
}

/* RFC 7489 6.6.3: the DMARC records at _dmarc.DOMAIN; 1 when exactly one
 * usable record was found, 0 when there is none (look further up), -1 for
 * no policy (several records, or one without a usable policy), -2 for a
 * temporary DNS failure. */
static int fetch_dmarc(struct mailauth *ma, const char *domain, struct dmarc_record *rec)
{
	char name[DNS_MAX_NAME + 16];
	struct dns_answer *ans;
	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	if (dns_query(name, DNS_T_TXT, ma->eoh_deadline, &ans) < 0)
		return -2;
	int r = 0, found = 0;
	if (ans->status == DNS_TEMPFAIL) {
		r = -2;
	} else if (ans->status == DNS_OK) {
		const struct dns_record *one = NULL;
		for (unsigned i = 0; i < ans->count; i++) {
			if (dmarc_is_record((const char *)ans->records[i].data, ans->records[i].len)) {
				found++;
				one = &ans->records[i];
			}
		}
		if (found > 1)
			r = -1;
		else if (found == 1)
			r = dmarc_record_parse((const char *)one->data, one->len, rec) == 0 ? 1 : -1;
	}
	dns_answer_unref(&ans);
	return r;
}

static void dmarc_task(struct task *t)
{
	struct mailauth *ma = t->ma;
	const char *org = psl_org_domain(global_psl, ma->from_domain);
	int r = fetch_dmarc(ma, ma->from_domain, &ma->dmarc_rec);
	if (r == 0 && strcmp(org, ma->from_domain) != 0) {
		r = fetch_dmarc(ma, org, &ma->dmarc_rec);
		ma->dmarc_at_org = true;
	}
	ma->dmarc_state = r == 1 ? DMARC_FOUND : r == -2 ? DMARC_TEMPFAIL : DMARC_NO_RECORD;
}

/* --- The message ---------------------------------------------------------- */

/* A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; SPF's ip4
 * terms must see them as the IPv4 addresses they are. */
static char *client_address(const char *ip)
{
	struct in6_addr a6;
	char v4[INET_ADDRSTRLEN];
	if (ip && inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6) &&
	    inet_ntop(AF_INET, &a6.s6_addr[12], v4, sizeof(v4)))
		return xstrdup(v4);
	return xstrndup(ip ? ip : "", INET6_ADDRSTRLEN);
}

int mailauth_begin(const struct mailauth_input *in, struct mailauth **ma_r)
{
	struct mailauth *ma = xcalloc(1, sizeof(*ma));

	ma->client_ip = client_address(in->client_ip);
	ma->helo = xstrndup(in->helo ? in->helo : "", 1024);
	ma->mail_from = xstrndup(in->mail_from ? in->mail_from : "", 1024);
	ma->receiver = xstrndup(in->receiver && *in->receiver ? in->receiver : "localhost", 255);
	coro_event_init(&ma->tasks_done);
	ma->hdr = (struct buf)BUF_INIT(SEAL_MAX_HEADER_BLOCK);
	ma->body = (struct buf)BUF_INIT(BODY_WINDOW);
	ma->dkim = mailauth_dkim_new();
	ma->spf_deadline = coro_now_ms() + time_budget_ms;
	if (!global_up) {
		ma->spf.result = MAILAUTH_SPF_TEMPERROR;
		ma->spf.problem = "not initialised";
		ma->spf_done = true;
	} else if (!task_start(ma, spf_task, NULL, SPF_STACK)) {
		ma->spf.result = MAILAUTH_SPF_TEMPERROR;
		ma->spf.problem = "out of resources";
		ma->spf_done = true;
	}
	*ma_r = ma;
	return 0;
}

/* libopendkim's header work, on the pool: a header of 256 KiB can hold a
 * thousand signatures for it to parse. */
struct eoh_job {
	struct dkim_verifier *dkim;
	const struct header_fields *f;
	char (*names)[DNS_MAX_NAME + 1];
	size_t nnames;
	bool active;
};

static void eoh_work(void *arg)
{
	struct eoh_job *j = arg;
	for (size_t i = 0; i < j->f->n; i++)
		mailauth_dkim_header(j->dkim, j->f->text.data + j->f->span[i][0], j->f->span[i][1]);
	j->active = mailauth_dkim_eoh(j->dkim) == 0;
	if (j->active)
		j->nnames = mailauth_dkim_key_names(j->dkim, j->names, MAILAUTH_MAX_SIGNATURES);
}

/* The header is complete (hdr holds it without the blank line): split it
 * into fields, then start the DNS work it calls for. */
static void end_of_header(struct mailauth *ma, size_t hdr_len)
{
	struct header_fields f;
	char names[MAILAUTH_MAX_SIGNATURES][DNS_MAX_NAME + 1];
	struct eoh_job j = { ma->dkim, &f, names, 0, false };

	mailauth_header_fields(ma->hdr.data ? ma->hdr.data : "", hdr_len, &f);
	buf_free(&ma->hdr);
	ma->in_body = true;
	ma->from_state = f.from;
	memcpy(ma->from_domain, f.from_domain, sizeof(ma->from_domain));
	/* Unsigned mail (most of it) needs no DKIM work at all. */
	if (f.dkim_signed && coro_await_work(eoh_work, &j) < 0)
		eoh_work(&j);
	mailauth_header_fields_free(&f);
	ma->eoh_deadline = coro_now_ms() + time_budget_ms;

	if (j.active) {
		ma->dkim_active = true;
		for (size_t i = 0; i < j.nnames; i++)
			if (!task_start(ma, key_task, names[i], 0))
				dns_memo_put(&ma->keys, names[i], DNS_T_TXT,
					     dns_answer_new_status(DNS_T_TXT, DNS_TEMPFAIL));
	}
	if (ma->from_state == 1) {
		if (!task_start(ma, dmarc_task, NULL, 0))
			ma->dmarc_state = DMARC_TEMPFAIL;
	}
}

struct body_job {
	struct dkim_verifier *dkim;
	const void *data;
	size_t len;
};

static void body_work(void *arg)
{
	struct body_job *j = arg;
	mailauth_dkim_body(j->dkim, j->data, j->len);
}

static void hash_body(struct mailauth *ma, const void *data, size_t len)
{
	struct body_job j = { ma->dkim, data, len };
	if (len && coro_await_work(body_work, &j) < 0)
		body_work(&j);	/* no pool: the loop hashes it */
}

static void feed_body(struct mailauth *ma, const char *p, size_t len)
{
	if (!ma->dkim_active)
		return;
	if (ma->body.len == 0 && len >= BODY_WINDOW) {
		hash_body(ma, p, len);
		return;
	}
	while (len) {
		size_t room = BODY_WINDOW - ma->body.len;
		size_t n = len < room ? len : room;
		buf_append(&ma->body, p, n);
		p += n, len -= n;
		if (ma->body.len == BODY_WINDOW) {
			hash_body(ma, ma->body.data, ma->body.len);
			buf_reset(&ma->body);
		}
	}
}

int mailauth_feed(struct mailauth *ma, const void *data, size_t len)
{
	const char *p = data;

	if (ma->finished)
		return -EINVAL;
	if (ma->in_body) {
		feed_body(ma, p, len);
		return 0;
	}
	if (ma->hdr_too_big)
		return 0;
	/* Only what still fits the header bound is kept; the blank line must
	 * come within it. */
	size_t before = ma->hdr.len;
	size_t take = SEAL_MAX_HEADER_BLOCK - before < len ? SEAL_MAX_HEADER_BLOCK - before : len;
	buf_append(&ma->hdr, p, take);
	size_t body_at;
	long hlen = mailauth_header_end(ma->hdr.data, ma->hdr.len, ma->hdr_scanned, &body_at);
	/* A blank line may straddle chunks: look again at the last 2 bytes. */
	ma->hdr_scanned = ma->hdr.len > 2 ? ma->hdr.len - 2 : 0;
	if (hlen < 0) {
		if (take < len || ma->hdr.len == SEAL_MAX_HEADER_BLOCK) {
			/* Over SEAL_MAX_HEADER_BLOCK without a blank line: SMTP
			 * rejects such a message; DKIM and DMARC give up. */
			ma->hdr_too_big = true;
			buf_free(&ma->hdr);
		}
		return 0;
	}
	/* The bytes after the blank line came with this chunk. */
	size_t rest_at = body_at > before ? body_at - before : 0;
	end_of_header(ma, (size_t)hlen);
	feed_body(ma, p + rest_at, len - rest_at);
	return 0;
}

struct eom_job {
	struct mailauth *ma;
	struct mailauth_dkim_sig *sigs;
	size_t nsigs;
};

static void eom_work(void *arg)
{
	struct eom_job *j = arg;
	mailauth_dkim_body(j->ma->dkim, j->ma->body.data, j->ma->body.len);
	mailauth_dkim_eom(j->ma->dkim, &j->ma->keys, &j->sigs, &j->nsigs);
}

static enum mailauth_dkim overall_dkim(const struct mailauth_result *res)
{
	/* The best result says most: pass over fail over errors. */
	static const int rank[] = {
		[MAILAUTH_DKIM_PASS] = 6, [MAILAUTH_DKIM_FAIL] = 5,
		[MAILAUTH_DKIM_POLICY] = 4, [MAILAUTH_DKIM_NEUTRAL] = 3,
		[MAILAUTH_DKIM_TEMPERROR] = 2, [MAILAUTH_DKIM_PERMERROR] = 1,
		[MAILAUTH_DKIM_NONE] = 0,
	};
	enum mailauth_dkim best = MAILAUTH_DKIM_NONE;
	for (size_t i = 0; i < res->nsigs; i++)
		if (rank[res->sigs[i].result] > rank[best])
			best = res->sigs[i].result;
	return best;
}

static void finish_dmarc(struct mailauth *ma, struct mailauth_result *res,
			 enum mailauth_policy *disposition)
{
	*disposition = MAILAUTH_POLICY_NONE;
	if (ma->from_state == 1)
		res->from_domain = xstrdup(ma->from_domain);
	if (ma->hdr_too_big || ma->from_state != 1) {
		res->dmarc = MAILAUTH_DMARC_PERMERROR;
		return;
	}
	if (ma->dmarc_state == DMARC_TEMPFAIL || ma->dmarc_state == DMARC_NOT_LOOKED) {
		res->dmarc = MAILAUTH_DMARC_TEMPERROR;
		return;
	}
	struct dmarc_input in = {
		.from_domain = ma->from_domain,
		.rec = ma->dmarc_state == DMARC_FOUND ? &ma->dmarc_rec : NULL,
		.rec_at_org = ma->dmarc_at_org,
		.spf = res->spf,
		.spf_domain = res->spf_domain,
		.sigs = res->sigs,
		.nsigs = res->nsigs,
		.sample = arc4random_uniform(100),
	};
	struct dmarc_outcome out;
	dmarc_evaluate(global_psl, &in, &out);
	res->dmarc = out.result;
	res->policy = out.policy;
	*disposition = out.disposition;
	res->dmarc_reject = out.result == MAILAUTH_DMARC_FAIL &&
			    out.disposition == MAILAUTH_POLICY_REJECT;
}

int mailauth_finish(struct mailauth *ma, struct mailauth_result *res)
{
	if (ma->finished)
		return -EINVAL;
	ma->finished = true;
	memset(res, 0, sizeof(*res));
	if (!ma->in_body && !ma->hdr_too_big)
		end_of_header(ma, ma->hdr.len);	/* a message without a body */

	bool settled = wait_tasks(ma);
	if (ma->dkim_active && settled) {
		struct eom_job j = { ma, NULL, 0 };
		if (coro_await_work(eom_work, &j) < 0)
			eom_work(&j);
		res->sigs = j.sigs;
		res->nsigs = j.nsigs;
	}
	buf_free(&ma->body);
	res->dkim = overall_dkim(res);
	if (ma->dkim_active && !settled)
		res->dkim = MAILAUTH_DKIM_TEMPERROR;

	const char *spf_problem = NULL;
	if (ma->spf_done) {
		res->spf = ma->spf.result;
		res->spf_helo = ma->spf.helo_identity;
		spf_problem = ma->spf.problem;
		if (ma->spf.domain[0])
			res->spf_domain = xstrdup(ma->spf.domain);
	} else {
		res->spf = MAILAUTH_SPF_TEMPERROR;
		res->spf_helo = ma->mail_from[0] == '\0';
		spf_problem = "DNS timeout";
	}

	enum mailauth_policy disposition;
	if (settled) {
		finish_dmarc(ma, res, &disposition);
	} else {
		res->dmarc = MAILAUTH_DMARC_TEMPERROR;
		disposition = MAILAUTH_POLICY_NONE;
	}
	struct mailauth_report rep = {
		.receiver = ma->receiver, .client_ip = ma->client_ip,
		.helo = ma->helo, .mail_from = ma->mail_from,
		.res = res, .disposition = disposition, .spf_problem = spf_problem,
	};
	res->header_block = mailauth_format_headers(&rep);
	/* Hostile selectors and domains of ten signatures stay below the
	 * bound; should they not, the last signatures go unlisted. */
	while (strlen(res->header_block) > MAILAUTH_MAX_HEADER_BLOCK && res->nsigs > 0) {
		res->nsigs--;
		free(res->sigs[res->nsigs].domain);
		free(res->sigs[res->nsigs].selector);
		free(res->sigs[res->nsigs].b_prefix);
		free(res->header_block);
		res->header_block = mailauth_format_headers(&rep);
	}
	return 0;
}

void mailauth_result_free(struct mailauth_result *res)
{
	free(res->spf_domain);
	for (size_t i = 0; i < res->nsigs; i++) {
		free(res->sigs[i].domain);
		free(res->sigs[i].selector);
		free(res->sigs[i].b_prefix);
	}
	free(res->sigs);
	free(res->from_domain);
	free(res->header_block);
	memset(res, 0, sizeof(*res));
}

static void destroy(struct mailauth *ma)
{
	mailauth_dkim_free(&ma->dkim);
	dns_memo_free(&ma->keys);
	buf_free(&ma->hdr);
	buf_free(&ma->body);
	free(ma->client_ip);
	free(ma->helo);
	free(ma->mail_from);
	free(ma->receiver);
	free(ma);
}

void mailauth_free(struct mailauth **pma)
{
	struct mailauth *ma = *pma;
	if (!ma)
		return;
	*pma = NULL;
	if (ma->tasks) {
		/* The tasks hold ma; the last one to end frees it. */
		ma->freed = true;
		cancel_tasks(ma);
		return;
	}
	destroy(ma);
}

const char *mailauth_spf_name(enum mailauth_spf r)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail",
		"softfail", "temperror", "permerror" };
	return (unsigned)r < 7 ? names[r] : "permerror";
}

const char *mailauth_dkim_name(enum mailauth_dkim r)
{
	static const char *const names[] = { "none", "pass", "fail", "neutral",
		"policy", "temperror", "permerror" };
	return (unsigned)r < 7 ? names[r] : "permerror";
}

const char *mailauth_dmarc_name(enum mailauth_dmarc r)
{
	static const char *const names[] = { "none", "pass", "fail",
		"temperror", "permerror" };
	return (unsigned)r < 5 ? names[r] : "permerror";
}

const char *mailauth_policy_name(enum mailauth_policy p)
{
	static const char *const names[] = { "none", "quarantine", "reject" };
	return (unsigned)p < 3 ? names[p] : "none";
}
