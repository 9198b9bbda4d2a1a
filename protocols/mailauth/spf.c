/* SPF (RFC 7208) with libspf2, which asks DNS synchronously through a
 * resolver layer (DESIGN.md section 7).
 *
 * How libspf2 gets its answers without any thread waiting for DNS: our
 * layer answers from the message's memo of DNS answers only. On the first
 * name not in the memo it records the miss and answers "try again", which
 * ends libspf2's evaluation (temperror). The coroutine then looks the name
 * up through dns_query(), parked on the loop like any other I/O, puts the
 * answer in the memo and runs the evaluation again from the start.
 * Measured on this machine kind: a full evaluation of a record with ip4,
 * ip6, include, mx and a terms (6 lookups, answered from memory) costs
 * 14.5 us, so a message needing 6 replays spends under 0.1 ms of loop time,
 * in slices far below the 1 ms rule of DESIGN.md section 2. RFC 7208 4.6.4
 * bounds the lookups (10 mechanisms, 10 names per MX or PTR), which bounds
 * the replays (SPF_MAX_RUNS).
 *
 * The alternative, running libspf2 on the worker pool with a resolver that
 * blocks the worker until the loop answered, holds a pool thread for every
 * DNS round trip: with 2 workers (2 cores) two slow SPF domains would stop
 * Argon2 logins and fsyncs for seconds. Here the pool is never used, and a
 * run is short enough for the loop (see the measurement in the tests).
 *
 * We also evaluate without libspf2's SPF_request_query_mailfrom(), which
 * passes every loopback client ("localhost free ride"): RFC 7208 has no
 * such rule, and tests deliver over loopback.
 */
#include "protocols/mailauth/mailauth-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libspf2's headers need these first. */
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <spf2/spf.h>

/* Evaluations of one message, each adding at least one answer to the memo:
 * more than the RFC's limits allow (1 + 10 mechanisms, 10 addresses for
 * each of them, exp=) means something loops. */
#define SPF_MAX_RUNS 160

struct spf_run {
	struct dns_memo *memo;
	unsigned voids;		/* NXDOMAIN or NODATA answers given */
	bool missed;
	char miss_name[DNS_MAX_NAME + 1];
	enum dns_type miss_type;
};

/* The run in progress on this thread; libspf2's layer has no per-request
 * context. Runs never yield, so one thread has at most one. */
static _Thread_local struct spf_run *current;

static SPF_server_t *spf_server;
static SPF_dns_server_t spf_layer;

static void quiet(const char *file, int line, const char *msg)
{
	/* libspf2 reports record syntax problems (the sender's) this way;
	 * the result says permerror, which is what the log needs. */
}

static bool map_type(ns_type t, enum dns_type *out)
{
	switch ((int)t) {
	case ns_t_a: *out = DNS_T_A; return true;
	case ns_t_aaaa: *out = DNS_T_AAAA; return true;
	case ns_t_mx: *out = DNS_T_MX; return true;
	case ns_t_txt: *out = DNS_T_TXT; return true;
	case ns_t_ptr: *out = DNS_T_PTR; return true;
	default: return false;
	}
}

/* libspf2 matches "v=spf1 " with its space; RFC 7208 4.5 also takes a bare
 * "v=spf1" (a record without terms, which gives neutral). */
static bool bare_version(const struct dns_record *rec)
{
	return rec->len == 6 && strncasecmp((const char *)rec->data, "v=spf1", 6) == 0;
}

static SPF_dns_rr_t *to_rr(SPF_dns_server_t *srv, const char *domain, ns_type t,
			   const struct dns_answer *ans)
{
	static const int herrno[] = {
		[DNS_OK] = NETDB_SUCCESS, [DNS_NODATA] = NO_DATA,
		[DNS_NXDOMAIN] = HOST_NOT_FOUND, [DNS_TEMPFAIL] = TRY_AGAIN,
		[DNS_BADNAME] = HOST_NOT_FOUND,
	};
	SPF_dns_rr_t *rr = SPF_dns_rr_new_init(srv, domain, t, (int)ans->ttl,
					       herrno[ans->status]);
	if (!rr || ans->status != DNS_OK)
		return rr;
	for (unsigned i = 0; i < ans->count; i++) {
		const struct dns_record *rec = &ans->records[i];
		bool pad = t == ns_t_txt && bare_version(rec);
		if (SPF_dns_rr_buf_realloc(rr, (int)i, (size_t)rec->len + 2) != SPF_E_SUCCESS)
			break;
		if (t == ns_t_a)
			memcpy(&rr->rr[i]->a, rec->data, 4);
		else if (t == ns_t_aaaa)
			memcpy(&rr->rr[i]->aaaa, rec->data, 16);
		else {
			char *dst = rr->rr[i]->txt;	/* same place for mx, ptr */
			memcpy(dst, rec->data, rec->len);
			/* A NUL inside a TXT string ends it for libspf2. */
			memcpy(dst + rec->len, pad ? " " : "", pad ? 2 : 1);
		}
		rr->num_rr = (int)i + 1;
	}
	return rr;
}

static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *srv, const char *domain,
				  ns_type t, int should_cache)
{
	char norm[DNS_MAX_NAME + 1];
	enum dns_type type;
	struct spf_run *run = current;

	/* RFC 7208 3.1: the SPF RR type is gone; libspf2 still asks for it
	 * first, so say there is none without asking DNS. */
	if (!map_type(t, &type))
		return SPF_dns_rr_new_init(srv, domain, t, 0, NO_DATA);
	if (!run || dns_name_normalize(domain, norm, sizeof(norm)) < 0)
		return SPF_dns_rr_new_init(srv, domain, t, 0, HOST_NOT_FOUND);
	const struct dns_answer *ans = dns_memo_get(run->memo, norm, type);
	if (ans) {
		if (ans->status == DNS_NXDOMAIN || ans->status == DNS_NODATA)
			run->voids++;
		return to_rr(srv, domain, t, ans);
	}
	if (!run->missed) {
		run->missed = true;
		memcpy(run->miss_name, norm, strlen(norm) + 1);
		run->miss_type = type;
	}
	return SPF_dns_rr_new_init(srv, domain, t, 0, TRY_AGAIN);
}

int mailauth_spf_global_init(const char **error_r)
{
	SPF_warning_handler = quiet;
	SPF_info_handler = quiet;
	SPF_debug_handler = quiet;
	memset(&spf_layer, 0, sizeof(spf_layer));
	spf_layer.lookup = layer_lookup;
	spf_layer.name = "sealmail";
	/* destroy stays NULL: the layer is ours, libspf2 must not free it. */
	spf_server = SPF_server_new_dns(&spf_layer, 0);
	if (!spf_server) {
		*error_r = "cannot create the SPF server (libspf2)";
		return -ENOMEM;
	}
	return 0;
}

void mailauth_spf_global_shutdown(void)
{
	if (spf_server)
		SPF_server_free(spf_server);
	spf_server = NULL;
}

/* Exactly one SPF record at the checked domain? Then libspf2's "no SPF
 * record" for it can only mean the record did not compile. */
static bool has_one_record(const struct dns_memo *memo, const char *domain)
{
	const struct dns_answer *ans = dns_memo_get(memo, domain, DNS_T_TXT);
	unsigned n = 0;
	for (unsigned i = 0; ans && i < ans->count; i++) {
		const struct dns_record *r = &ans->records[i];
		if (bare_version(r) || (r->len > 6 && strncasecmp((const char *)r->data, "v=spf1 ", 7) == 0))
			n++;
	}
	return n == 1;
}

static enum mailauth_spf map_result(SPF_result_t r, SPF_errcode_t err)
{
	switch (r) {
	case SPF_RESULT_PASS: return MAILAUTH_SPF_PASS;
	case SPF_RESULT_FAIL: return MAILAUTH_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL: return MAILAUTH_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return MAILAUTH_SPF_NEUTRAL;
	case SPF_RESULT_NONE: return MAILAUTH_SPF_NONE;
	case SPF_RESULT_TEMPERROR: return MAILAUTH_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR: return MAILAUTH_SPF_PERMERROR;
	default:
		return err == SPF_E_DNS_ERROR ? MAILAUTH_SPF_TEMPERROR : MAILAUTH_SPF_PERMERROR;
	}
}

/* One evaluation from the top: SPF_request_query_mailfrom() without its
 * loopback shortcut. */
static enum mailauth_spf run_once(struct spf_run *run, const char *ip, bool v6,
				  const char *helo, const char *mail_from,
				  const char *domain, const char *receiver)
{
	SPF_request_t *req = SPF_request_new(spf_server);
	SPF_response_t *resp;
	SPF_record_t *rec = NULL;
	enum mailauth_spf result;

	SPF_server_set_rec_dom(spf_server, receiver);
	if (v6)
		SPF_request_set_ipv6_str(req, ip);
	else
		SPF_request_set_ipv4_str(req, ip);
	SPF_request_set_helo_dom(req, helo);
	/* An empty reverse path makes libspf2 use postmaster@HELO. */
	SPF_request_set_env_from(req, mail_from);
	req->cur_dom = domain;
	resp = SPF_response_new(req);

	current = run;
	SPF_errcode_t err = SPF_server_get_record(spf_server, req, resp, &rec);
	if (err != SPF_E_SUCCESS && rec) {
		/* A record that failed to compile comes back half-built. */
		SPF_record_free(rec);
		rec = NULL;
	}
	if (err == SPF_E_SUCCESS) {
		resp->spf_record_exp = rec;
		err = SPF_record_interpret(rec, req, resp, 0);
		SPF_record_free(rec);
		result = map_result(SPF_response_result(resp), err);
	} else if (SPF_response_result(resp) == SPF_RESULT_INVALID &&
		   err != SPF_E_DNS_ERROR) {
		result = has_one_record(run->memo, domain) ? MAILAUTH_SPF_PERMERROR
							   : MAILAUTH_SPF_NONE;
	} else {
		result = map_result(SPF_response_result(resp), err);
	}
	current = NULL;
	SPF_response_free(resp);
	SPF_request_free(req);
	return result;
}

/* RFC 7208 4.3: a malformed or single-label domain gives "none" at once. */
static bool usable_domain(const char *norm)
{
	return strchr(norm, '.') != NULL;
}

void mailauth_spf_check(const char *client_ip, const char *helo,
			const char *mail_from, const char *receiver,
			int64_t deadline, struct spf_outcome *out)
{
	struct dns_memo memo = { 0 };
	unsigned char addr[16];
	const char *dom;

	memset(out, 0, sizeof(*out));
	helo = helo ? helo : "";
	mail_from = mail_from ? mail_from : "";
	out->helo_identity = *mail_from == '\0';
	if (out->helo_identity) {
		dom = helo;
	} else {
		const char *at = strrchr(mail_from, '@');
		dom = at ? at + 1 : mail_from;
	}
	if (mailauth_domain_normalize(dom, strlen(dom), out->domain, sizeof(out->domain)) < 0 ||
	    !usable_domain(out->domain)) {
		out->domain[0] = '\0';
		out->result = MAILAUTH_SPF_NONE;
		out->problem = "no usable domain";
		return;
	}
	bool v6 = strchr(client_ip, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, client_ip, addr) != 1) {
		out->result = MAILAUTH_SPF_PERMERROR;
		out->problem = "bad client address";
		return;
	}

	struct spf_run run = { .memo = &memo };
	for (unsigned runs = 0;; runs++) {
		if (!spf_server) {
			/* mailauth_global_shutdown() came first */
			out->result = MAILAUTH_SPF_TEMPERROR;
			out->problem = "shutting down";
			break;
		}
		run.missed = false;
		run.voids = 0;
		out->result = run_once(&run, client_ip, v6, helo, mail_from, out->domain,
				       receiver && *receiver ? receiver : "localhost");
		/* RFC 7208 4.6.4: more than two lookups that find nothing
		 * make a permerror (libspf2 1.2.10 does not count them). The
		 * first, for the record itself, ends the check with "none". */
		if (run.voids > 2 && out->result != MAILAUTH_SPF_TEMPERROR) {
			out->result = MAILAUTH_SPF_PERMERROR;
			out->problem = "too many void lookups";
			break;
		}
		if (!run.missed)
			break;
		if (runs == SPF_MAX_RUNS) {
			out->result = MAILAUTH_SPF_PERMERROR;
			out->problem = "too many DNS lookups";
			break;
		}
		struct dns_answer *ans;
		if (dns_query(run.miss_name, run.miss_type, deadline, &ans) < 0)
			ans = dns_answer_new_status(run.miss_type, DNS_TEMPFAIL);
		dns_memo_put(&memo, run.miss_name, run.miss_type, ans);
	}
	if (out->result == MAILAUTH_SPF_TEMPERROR && !out->problem)
		out->problem = "DNS failure";
	if (out->result == MAILAUTH_SPF_PERMERROR && !out->problem)
		out->problem = "invalid SPF record";
	dns_memo_free(&memo);
}
