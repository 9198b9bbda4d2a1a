/* protocols/mailauth/ without DNS: punycode and domains, the Public Suffix
 * List and organisational domains, alignment, DMARC records and their
 * evaluation, the header block, and the message's header parsing fed in
 * every chunking. SPF, DKIM and DMARC against a DNS server are the e2e test
 * test_mailauth.py. */
#include "tests/unit/test.h"

#include <errno.h>

#include "coro/coro.h"
#include "protocols/mailauth/mailauth-private.h"
#include "src/util/limits.h"
#include "src/util/xmalloc.h"

/* --- Punycode and domains ------------------------------------------------- */

static const char *puny(const char *utf8)
{
	static char out[128];
	size_t n;
	CHECK_INT(punycode_encode(utf8, strlen(utf8), out, sizeof(out) - 1, &n), ==, 0);
	out[n] = '\0';
	return out;
}

TEST(punycode_known_labels)
{
	CHECK_STR(puny("b\xc3\xbc" "cher"), "bcher-kva");
	CHECK_STR(puny("m\xc3\xbcnchen"), "mnchen-3ya");
	CHECK_STR(puny("\xc3\xbc"), "tda");
	CHECK_STR(puny("\xe5\x85\xac\xe5\x8f\xb8"), "55qx5d");	/* 公司 */
	CHECK_STR(puny("\xe4\xb8\xad\xe5\x9b\xbd"), "fiqs8s");	/* 中国 */
	CHECK_STR(puny("\xd1\x80\xd1\x84"), "p1ai");		/* рф */
	size_t n;
	char out[8];
	CHECK_INT(punycode_encode("\xc3", 1, out, sizeof(out), &n), ==, -EINVAL);
	CHECK_INT(punycode_encode("\xc0\xaf", 2, out, sizeof(out), &n), ==, -EINVAL);
	CHECK_INT(punycode_encode("\xed\xa0\x80", 3, out, sizeof(out), &n), ==, -EINVAL);
	CHECK_INT(punycode_encode("m\xc3\xbcnchen", 8, out, 4, &n), ==, -E2BIG);
}

static const char *norm(const char *in)
{
	static char out[DNS_MAX_NAME + 1];
	if (mailauth_domain_normalize(in, strlen(in), out, sizeof(out)) < 0)
		return "(invalid)";
	return out;
}

TEST(domain_normalize)
{
	CHECK_STR(norm("Mail.Example.COM."), "mail.example.com");
	CHECK_STR(norm("shop.\xe5\x85\xac\xe5\x8f\xb8.cn"), "shop.xn--55qx5d.cn");
	CHECK_STR(norm("_dmarc.example.com"), "_dmarc.example.com");
	CHECK_STR(norm("a..b"), "(invalid)");
	CHECK_STR(norm(""), "(invalid)");
	CHECK_STR(norm("[192.0.2.1]"), "(invalid)");
	CHECK_STR(norm("a b.example"), "(invalid)");
	CHECK_STR(norm("a@b.example"), "(invalid)");
	CHECK_STR(norm("bad\xff.example"), "(invalid)");
}

/* --- Public Suffix List --------------------------------------------------- */

static struct psl *real_psl(void)
{
	struct psl *psl;
	CHECK_INT(psl_load_file(MAILAUTH_PSL_PATH, &psl), ==, 0);
	CHECK(psl_rule_count(psl) > 5000);
	return psl;
}

TEST(psl_rules_wildcards_exceptions)
{
	struct psl *psl = real_psl();
	CHECK_STR(psl_public_suffix(psl, "example.com"), "com");
	CHECK_STR(psl_org_domain(psl, "example.com"), "example.com");
	CHECK_STR(psl_org_domain(psl, "a.b.example.co.uk"), "example.co.uk");
	CHECK_STR(psl_org_domain(psl, "co.uk"), "co.uk");
	CHECK_STR(psl_org_domain(psl, "uk"), "uk");
	/* *.ck with !www.ck */
	CHECK_STR(psl_public_suffix(psl, "a.b.ck"), "b.ck");
	CHECK_STR(psl_org_domain(psl, "a.b.ck"), "a.b.ck");
	CHECK_STR(psl_org_domain(psl, "www.ck"), "www.ck");
	CHECK_STR(psl_org_domain(psl, "x.www.ck"), "www.ck");
	/* *.kawasaki.jp with !city.kawasaki.jp */
	CHECK_STR(psl_org_domain(psl, "x.city.kawasaki.jp"), "city.kawasaki.jp");
	CHECK_STR(psl_org_domain(psl, "a.b.kawasaki.jp"), "a.b.kawasaki.jp");
	/* The private section counts too: blogs of different owners. */
	CHECK_STR(psl_org_domain(psl, "x.foo.blogspot.com"), "foo.blogspot.com");
	/* Internationalised rules, matched as A-labels. */
	CHECK_STR(psl_public_suffix(psl, "shop.xn--55qx5d.cn"), "xn--55qx5d.cn");
	CHECK_STR(psl_org_domain(psl, "a.shop.xn--55qx5d.cn"), "shop.xn--55qx5d.cn");
	/* Not listed: the default rule "*". */
	CHECK_STR(psl_org_domain(psl, "a.b.example-unlisted"), "b.example-unlisted");
	psl_free(&psl);
	CHECK(psl == NULL);
}

TEST(psl_from_text)
{
	const char *text =
		"// comment\n"
		"com\n"
		"*.wild.example   trailing words ignored\n"
		"!keep.wild.example\n"
		"\n"
		"sub.com\r\n"
		"bad..rule\n";
	struct psl *psl;
	CHECK_INT(psl_load_text(text, strlen(text), &psl), ==, 0);
	CHECK_INT(psl_rule_count(psl), ==, 4);
	CHECK_STR(psl_org_domain(psl, "a.x.sub.com"), "x.sub.com");
	CHECK_STR(psl_org_domain(psl, "a.b.wild.example"), "a.b.wild.example");
	CHECK_STR(psl_org_domain(psl, "a.keep.wild.example"), "keep.wild.example");
	CHECK_STR(psl_org_domain(NULL, "a.b.example"), "a.b.example");
	psl_free(&psl);
}

/* --- Alignment and DMARC records ------------------------------------------ */

TEST(alignment_relaxed_and_strict)
{
	struct psl *psl = real_psl();
	CHECK(dmarc_aligned(psl, "mail.example.com", "example.com", false));
	CHECK(!dmarc_aligned(psl, "mail.example.com", "example.com", true));
	CHECK(dmarc_aligned(psl, "example.com", "example.com", true));
	CHECK(dmarc_aligned(psl, "a.shop.co.uk", "b.shop.co.uk", false));
	CHECK(!dmarc_aligned(psl, "co.uk", "shop.co.uk", false));
	CHECK(!dmarc_aligned(psl, "example.com", "example.net", false));
	CHECK(!dmarc_aligned(psl, NULL, "example.net", false));
	CHECK(!dmarc_aligned(psl, "", "", false));
	psl_free(&psl);
}

static int rec(const char *txt, struct dmarc_record *r)
{
	return dmarc_record_parse(txt, strlen(txt), r);
}

TEST(dmarc_record_parse_tags)
{
	struct dmarc_record r;
	CHECK_INT(rec("v=DMARC1; p=reject", &r), ==, 0);
	CHECK_INT(r.p, ==, MAILAUTH_POLICY_REJECT);
	CHECK_INT(r.sp, ==, MAILAUTH_POLICY_REJECT);
	CHECK(!r.sp_given && !r.adkim_strict && !r.aspf_strict);
	CHECK_INT(r.pct, ==, 100);

	CHECK_INT(rec("v=DMARC1;p=quarantine;sp=none;adkim=s;aspf=s;pct=25;", &r), ==, 0);
	CHECK_INT(r.p, ==, MAILAUTH_POLICY_QUARANTINE);
	CHECK_INT(r.sp, ==, MAILAUTH_POLICY_NONE);
	CHECK(r.sp_given && r.adkim_strict && r.aspf_strict);
	CHECK_INT(r.pct, ==, 25);

	CHECK_INT(rec("v = DMARC1 ;\tP = Reject ; ; fo=1; rua=mailto:a@b.example", &r), ==, 0);
	CHECK_INT(r.p, ==, MAILAUTH_POLICY_REJECT);
	CHECK_INT(rec("v=DMARC1; p=none; p=reject", &r), ==, 0);
	CHECK_INT(r.p, ==, MAILAUTH_POLICY_NONE);	/* the first counts */
}

TEST(dmarc_record_defaults_and_errors)
{
	struct dmarc_record r;
	/* Not DMARC records at all. */
	CHECK_INT(rec("v=dmarc1; p=reject", &r), ==, -ENOENT);
	CHECK_INT(rec("p=reject; v=DMARC1", &r), ==, -ENOENT);
	CHECK_INT(rec("v=DMARC1p=reject", &r), ==, -ENOENT);
	CHECK_INT(rec("v=spf1 -all", &r), ==, -ENOENT);
	CHECK_INT(rec("", &r), ==, -ENOENT);
	CHECK(!dmarc_is_record("v=DMARC", 7));
	CHECK(dmarc_is_record("v=DMARC1; p=none", 8));	/* bounded by len */
	/* DMARC records without a usable policy: no DMARC, or p=none when a
	 * report address is there (RFC 7489 6.6.3). */
	CHECK_INT(rec("v=DMARC1", &r), ==, -EINVAL);
	CHECK_INT(rec("v=DMARC1; p=bogus", &r), ==, -EINVAL);
	CHECK_INT(rec("v=DMARC1; p=reject; sp=bogus", &r), ==, -EINVAL);
	CHECK_INT(rec("v=DMARC1; rua=mailto:d@example.com", &r), ==, 0);
	CHECK_INT(r.p, ==, MAILAUTH_POLICY_NONE);
	CHECK_INT(rec("v=DMARC1; p=bogus; rua=mailto:d@example.com", &r), ==, 0);
	CHECK_INT(r.p, ==, MAILAUTH_POLICY_NONE);
	CHECK_INT(r.sp, ==, MAILAUTH_POLICY_NONE);
	CHECK_INT(rec("v=DMARC1; p=reject; rua=nonsense", &r), ==, 0);
	CHECK_INT(rec("v=DMARC1; p=bogus; rua=nonsense", &r), ==, -EINVAL);
	/* Bad optional values fall back to defaults. */
	CHECK_INT(rec("v=DMARC1; p=reject; pct=101; adkim=x; aspf=", &r), ==, 0);
	CHECK_INT(r.pct, ==, 100);
	CHECK(!r.adkim_strict && !r.aspf_strict);
	CHECK_INT(rec("v=DMARC1; p=reject; pct=abc", &r), ==, 0);
	CHECK_INT(r.pct, ==, 100);
	CHECK_INT(rec("v=DMARC1; p=reject; pct=0", &r), ==, 0);
	CHECK_INT(r.pct, ==, 0);
	/* Longer than any DMARC record. */
	char *big = xmalloc(MAILAUTH_MAX_RECORD + 100);
	memset(big, ' ', MAILAUTH_MAX_RECORD + 99);
	memcpy(big, "v=DMARC1; p=reject;", 19);
	big[MAILAUTH_MAX_RECORD + 99] = '\0';
	CHECK_INT(rec(big, &r), ==, -ENOENT);
	free(big);
}

/* Every prefix of a record parses without reading past it. */
TEST(dmarc_record_prefixes)
{
	const char *txt = "v=DMARC1; p=quarantine; sp=reject; adkim=s; pct=50; rua=mailto:x@y";
	size_t len = strlen(txt);
	for (size_t n = 0; n <= len; n++) {
		char *copy = xmalloc(n ? n : 1);
		memcpy(copy, txt, n);
		struct dmarc_record r;
		int ret = dmarc_record_parse(copy, n, &r);
		CHECK(ret == 0 || ret == -ENOENT || ret == -EINVAL);
		free(copy);
	}
}

/* --- DMARC evaluation ----------------------------------------------------- */

static struct dmarc_outcome eval(const struct dmarc_record *r, const char *from,
				 enum mailauth_spf spf, const char *spf_dom,
				 const char *dkim_dom, unsigned sample, bool at_org)
{
	static struct psl *psl;
	if (!psl)
		psl = real_psl();	/* kept for the process */
	struct mailauth_dkim_sig sig = { .result = MAILAUTH_DKIM_PASS, .domain = (char *)dkim_dom };
	struct dmarc_input in = {
		.from_domain = from, .rec = r, .rec_at_org = at_org, .spf = spf,
		.spf_domain = spf_dom, .sigs = &sig, .nsigs = dkim_dom ? 1 : 0, .sample = sample,
	};
	struct dmarc_outcome out;
	dmarc_evaluate(psl, &in, &out);
	return out;
}

TEST(dmarc_evaluate_alignment)
{
	struct dmarc_record r;
	CHECK_INT(rec("v=DMARC1; p=reject", &r), ==, 0);
	struct dmarc_outcome o;
	o = eval(&r, "example.com", MAILAUTH_SPF_PASS, "bounce.example.com", NULL, 0, false);
	CHECK_INT(o.result, ==, MAILAUTH_DMARC_PASS);
	CHECK(o.spf_aligned && !o.dkim_aligned);
	o = eval(&r, "example.com", MAILAUTH_SPF_FAIL, "example.com", "example.com", 0, false);
	CHECK_INT(o.result, ==, MAILAUTH_DMARC_PASS);
	CHECK(!o.spf_aligned && o.dkim_aligned);
	/* SPF passes, but softfail or another domain does not count. */
	o = eval(&r, "example.com", MAILAUTH_SPF_SOFTFAIL, "example.com", NULL, 0, false);
	CHECK_INT(o.result, ==, MAILAUTH_DMARC_FAIL);
	o = eval(&r, "example.com", MAILAUTH_SPF_PASS, "other.example", "other.example", 0, false);
	CHECK_INT(o.result, ==, MAILAUTH_DMARC_FAIL);
	CHECK_INT(o.policy, ==, MAILAUTH_POLICY_REJECT);
	CHECK_INT(o.disposition, ==, MAILAUTH_POLICY_REJECT);
	/* Strict modes. */
	CHECK_INT(rec("v=DMARC1; p=reject; adkim=s; aspf=s", &r), ==, 0);
	o = eval(&r, "example.com", MAILAUTH_SPF_PASS, "mail.example.com", "mail.example.com", 0, false);
	CHECK_INT(o.result, ==, MAILAUTH_DMARC_FAIL);
	CHECK_INT(rec("v=DMARC1; p=reject; adkim=s", &r), ==, 0);
	o = eval(&r, "example.com", MAILAUTH_SPF_PASS, "mail.example.com", "mail.example.com", 0, false);
	CHECK_INT(o.result, ==, MAILAUTH_DMARC_PASS);	/* aspf relaxed */
	/* No record: none. */
	o = eval(NULL, "example.com", MAILAUTH_SPF_FAIL, "example.com", NULL, 0, false);
	CHECK_INT(o.result, ==, MAILAUTH_DMARC_NONE);
}

TEST(dmarc_evaluate_pct_and_sp)
{
	struct dmarc_record r;
	struct dmarc_outcome o;
	CHECK_INT(rec("v=DMARC1; p=reject; pct=30", &r), ==, 0);
	o = eval(&r, "example.com", MAILAUTH_SPF_FAIL, "example.com", NULL, 29, false);
	CHECK_INT(o.disposition, ==, MAILAUTH_POLICY_REJECT);
	o = eval(&r, "example.com", MAILAUTH_SPF_FAIL, "example.com", NULL, 30, false);
	CHECK_INT(o.disposition, ==, MAILAUTH_POLICY_QUARANTINE);
	CHECK_INT(o.policy, ==, MAILAUTH_POLICY_REJECT);
	CHECK_INT(rec("v=DMARC1; p=quarantine; pct=0", &r), ==, 0);
	o = eval(&r, "example.com", MAILAUTH_SPF_FAIL, "example.com", NULL, 0, false);
	CHECK_INT(o.disposition, ==, MAILAUTH_POLICY_NONE);
	CHECK_INT(rec("v=DMARC1; p=none; sp=reject", &r), ==, 0);
	o = eval(&r, "sub.example.org", MAILAUTH_SPF_FAIL, "sub.example.org", NULL, 0, true);
	CHECK_INT(o.policy, ==, MAILAUTH_POLICY_REJECT);
	o = eval(&r, "example.org", MAILAUTH_SPF_FAIL, "example.org", NULL, 0, false);
	CHECK_INT(o.policy, ==, MAILAUTH_POLICY_NONE);
}

/* --- The header block ----------------------------------------------------- */

static char *value(const char *s)
{
	struct buf b = BUF_INIT(0);
	mailauth_put_value(&b, s);
	return test_keep(buf_steal(&b));
}

TEST(header_values_quoted)
{
	CHECK_STR(value("user@example.com"), "user@example.com");
	CHECK_STR(value("host.example"), "host.example");
	CHECK_STR(value(""), "\"\"");
	CHECK_STR(value("a b"), "\"a b\"");
	CHECK_STR(value("@example.com"), "\"@example.com\"");
	CHECK_STR(value("a@b@c"), "\"a@b@c\"");
	CHECK_STR(value("x\"y\\z"), "\"x\\\"y\\\\z\"");
	CHECK_STR(value("evil\r\nX-Header: 1"), "\"evil??X-Header: 1\"");
	CHECK_STR(value("caf\xc3\xa9"), "\"caf??\"");
	char big[1000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(strlen(value(big)), ==, MAILAUTH_MAX_VALUE);
}

static void check_lines(const char *h)
{
	/* CRLF everywhere, folds start with a tab, nothing else but printable
	 * ASCII, no line over 998. */
	size_t col = 0;
	for (const char *p = h; *p; p++) {
		if (*p == '\r') {
			CHECK(p[1] == '\n');
			p++;
			col = 0;
			if (p[1])
				CHECK(p[1] == '\t' || !strncmp(p + 1, "Received-SPF: ", 14));
			continue;
		}
		CHECK((*p >= 0x20 && *p < 0x7f) || *p == '\t');
		CHECK(++col <= 998);
	}
	CHECK(col == 0);
}

TEST(header_block_format)
{
	struct mailauth_dkim_sig sig = {
		.result = MAILAUTH_DKIM_PASS, .domain = "example.com", .selector = "sel",
		.algorithm = "rsa-sha256", .b_prefix = "AbCdEf12",
	};
	struct mailauth_result res = {
		.spf = MAILAUTH_SPF_PASS, .spf_domain = "example.com",
		.dkim = MAILAUTH_DKIM_PASS, .sigs = &sig, .nsigs = 1,
		.dmarc = MAILAUTH_DMARC_PASS, .from_domain = "example.com",
		.policy = MAILAUTH_POLICY_REJECT,
	};
	struct mailauth_report rep = {
		.receiver = "mx.test", .client_ip = "192.0.2.1", .helo = "client.example",
		.mail_from = "alice@example.com", .res = &res,
	};
	char *h = test_keep(mailauth_format_headers(&rep));
	CHECK_STR(h,
		  "Authentication-Results: mx.test;\r\n"
		  "\tspf=pass smtp.mailfrom=alice@example.com;\r\n"
		  "\tdkim=pass header.d=example.com header.s=sel header.a=rsa-sha256\r\n"
		  "\theader.b=AbCdEf12;\r\n"
		  "\tdmarc=pass (p=reject dis=none) header.from=example.com\r\n"
		  "Received-SPF: pass (mx.test: domain example.com designates 192.0.2.1 as\r\n"
		  "\tpermitted sender) client-ip=192.0.2.1;\r\n"
		  "\tenvelope-from=\"alice@example.com\"; helo=client.example;\r\n"
		  "\treceiver=mx.test; identity=mailfrom\r\n");
	check_lines(h);
}

TEST(header_block_hostile_values)
{
	char huge[3000];
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	struct mailauth_dkim_sig sig = {
		.result = MAILAUTH_DKIM_NEUTRAL, .domain = "a\r\nb;c", .selector = huge,
		.reason = "bad signature",
	};
	struct mailauth_result res = {
		.spf = MAILAUTH_SPF_TEMPERROR, .spf_helo = true,
		.dkim = MAILAUTH_DKIM_NEUTRAL, .sigs = &sig, .nsigs = 1,
		.dmarc = MAILAUTH_DMARC_PERMERROR,
	};
	struct mailauth_report rep = {
		.receiver = "mx (test)", .client_ip = "192.0.2.1\r\nX: y", .helo = "evil\r\nX-Bad: 1",
		.mail_from = "", .res = &res, .spf_problem = "DNS failure",
	};
	char *h = test_keep(mailauth_format_headers(&rep));
	check_lines(h);
	CHECK(strstr(h, "\r\nX") == NULL);
	CHECK(strstr(h, "smtp.helo=\"evil??X-Bad: 1\"") != NULL);
	CHECK(strstr(h, "header.d=\"a??b;c\"") != NULL);
	CHECK(strstr(h, "Authentication-Results: \"mx (test)\";") != NULL);
	CHECK(strstr(h, "client-ip=192.0.2.1??X:?y;") != NULL);
}

/* --- The message header ---------------------------------------------------- */

TEST(header_end_and_fields)
{
	size_t body_at;
	CHECK_INT(mailauth_header_end("A: b\r\n\r\nbody", 15, 0, &body_at), ==, 6);
	CHECK_INT(body_at, ==, 8);
	CHECK_INT(mailauth_header_end("A: b\n\nbody", 11, 0, &body_at), ==, 5);
	CHECK_INT(body_at, ==, 6);
	CHECK_INT(mailauth_header_end("\r\nbody", 6, 0, &body_at), ==, 0);
	CHECK_INT(body_at, ==, 2);
	CHECK_INT(mailauth_header_end("A: b\r\n\r", 7, 0, &body_at), ==, -1);
	CHECK_INT(mailauth_header_end("A: b\r\nC: d\r\n", 12, 0, &body_at), ==, -1);

	const char *h = "\tstray continuation\r\n"
			"DKIM-Signature: v=1;\n\tb=x\r\n"
			"From: \"A\" <a@Example.COM>\r\n"
			"X-Empty:\r\n"
			"no colon line";
	struct header_fields f;
	mailauth_header_fields(h, strlen(h), &f);
	CHECK_INT(f.n, ==, 4);
	CHECK(f.dkim_signed);
	CHECK_INT(f.from, ==, 1);
	CHECK_STR(f.from_domain, "example.com");
	CHECK_INT(f.span[0][1], ==, strlen("DKIM-Signature: v=1;\r\n\tb=x"));
	CHECK_MEM(f.text.data + f.span[0][0], "DKIM-Signature: v=1;\r\n\tb=x", f.span[0][1]);
	CHECK_MEM(f.text.data + f.span[3][0], "no colon line", f.span[3][1]);
	mailauth_header_fields_free(&f);

	mailauth_header_fields("", 0, &f);
	CHECK_INT(f.n, ==, 0);
	CHECK_INT(f.from, ==, 0);
	CHECK(!f.dkim_signed);
	mailauth_header_fields_free(&f);
}

/* --- The message's header, fed in every chunking --------------------------- */

struct feed_case {
	const char *msg;
	size_t len, chunk;
	char from[64];
	enum mailauth_dmarc dmarc;
};

static void feed_coro(void *arg)
{
	struct feed_case *fc = arg;
	struct mailauth_input in = { .client_ip = "192.0.2.1", .helo = "h.example",
				     .mail_from = "a@example.com", .receiver = "mx.test" };
	struct mailauth *ma;
	struct mailauth_result res;
	CHECK_INT(mailauth_begin(&in, &ma), ==, 0);
	for (size_t off = 0; off < fc->len; off += fc->chunk) {
		size_t n = fc->len - off < fc->chunk ? fc->len - off : fc->chunk;
		CHECK_INT(mailauth_feed(ma, fc->msg + off, n), ==, 0);
	}
	CHECK_INT(mailauth_finish(ma, &res), ==, 0);
	CHECK_INT(mailauth_finish(ma, &res), ==, -EINVAL);
	CHECK_INT(mailauth_feed(ma, "x", 1), ==, -EINVAL);
	snprintf(fc->from, sizeof(fc->from), "%s", res.from_domain ? res.from_domain : "-");
	fc->dmarc = res.dmarc;
	/* Not initialised: SPF says so, honestly. */
	CHECK_INT(res.spf, ==, MAILAUTH_SPF_TEMPERROR);
	check_lines(res.header_block);
	mailauth_result_free(&res);
	mailauth_free(&ma);
	CHECK(ma == NULL);
}

static void feed(struct feed_case *fc)
{
	uv_loop_t loop;
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(coro_runtime_init(&loop), ==, 0);
	coro_spawn(feed_coro, fc, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
}

static void feed_all_ways(const char *msg, const char *from, enum mailauth_dmarc dmarc)
{
	size_t len = strlen(msg);
	size_t chunks[] = { 1, 2, 3, 5, len ? len : 1 };
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct feed_case fc = { .msg = msg, .len = len, .chunk = chunks[i] };
		feed(&fc);
		if (strcmp(fc.from, from) != 0 || fc.dmarc != dmarc)
			test_fail(__FILE__, __LINE__, "chunk %zu: from %s dmarc %s for %s",
				  chunks[i], fc.from, mailauth_dmarc_name(fc.dmarc), msg);
	}
}

TEST(feed_finds_the_from_domain_in_any_chunking)
{
	/* Without a resolver the DMARC lookup fails: temperror once the
	 * From domain is known, permerror when the header gives none. */
	feed_all_ways("From: A <a@Example.COM>\r\nSubject: x\r\n\r\nbody\r\nFrom: b@c.example\r\n",
		      "example.com", MAILAUTH_DMARC_TEMPERROR);
	feed_all_ways("Subject: x\nFrom:\n\t\"Folded\" <a@folded.example>\n\nbody\n",
		      "folded.example", MAILAUTH_DMARC_TEMPERROR);
	feed_all_ways("From: a@nobody.example", "nobody.example", MAILAUTH_DMARC_TEMPERROR);
	feed_all_ways("From: a@x.example, b@x.example\r\n\r\n", "x.example",
		      MAILAUTH_DMARC_TEMPERROR);
	feed_all_ways("From: a@x.example, b@y.example\r\n\r\n", "-", MAILAUTH_DMARC_PERMERROR);
	feed_all_ways("From: a@x.example\r\nFROM : b@x.example\r\n\r\n", "-",
		      MAILAUTH_DMARC_PERMERROR);
	feed_all_ways("Subject: x\r\n\r\nFrom: a@body.example\r\n", "-", MAILAUTH_DMARC_PERMERROR);
	feed_all_ways("\r\nFrom: a@body.example\r\n", "-", MAILAUTH_DMARC_PERMERROR);
	feed_all_ways("", "-", MAILAUTH_DMARC_PERMERROR);
	feed_all_ways("From: Undisclosed:;\r\n\r\n", "-", MAILAUTH_DMARC_PERMERROR);
}

TEST(feed_header_over_the_limit)
{
	size_t len = SEAL_MAX_HEADER_BLOCK + 100;
	char *msg = xmalloc(len + 1);
	memcpy(msg, "From: a@x.example\r\nX-Long: ", 27);
	memset(msg + 27, 'a', len - 27);
	msg[len] = '\0';
	struct feed_case fc = { .msg = msg, .len = len, .chunk = 4096 };
	feed(&fc);
	CHECK_INT(fc.dmarc, ==, MAILAUTH_DMARC_PERMERROR);
	fc.chunk = len;
	feed(&fc);
	CHECK_INT(fc.dmarc, ==, MAILAUTH_DMARC_PERMERROR);
	free(msg);
}

TEST(free_without_finish)
{
	uv_loop_t loop;
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(coro_runtime_init(&loop), ==, 0);
	struct mailauth_input in = { .client_ip = "192.0.2.1" };
	struct mailauth *ma;
	CHECK_INT(mailauth_begin(&in, &ma), ==, 0);
	mailauth_free(&ma);
	mailauth_free(&ma);
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
}

/* --- Lookups that never end, abandoned ------------------------------------- */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/config.h"

static const char signed_msg[] =
	"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; c=relaxed/simple;\r\n"
	"\th=from; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; b=AAAAAAAA\r\n"
	"From: a@example.com\r\n\r\nbody\r\n";

struct silent_case {
	bool cancel_finish;
	struct mailauth_result res;
	int64_t took;
};

static void abandon_coro(void *arg)
{
	struct mailauth_input in = { .client_ip = "192.0.2.1", .mail_from = "a@example.com" };
	struct mailauth *ma;
	CHECK_INT(mailauth_begin(&in, &ma), ==, 0);
	CHECK_INT(mailauth_feed(ma, signed_msg, sizeof(signed_msg) - 1), ==, 0);
	coro_sleep(30);
	/* The client left: SPF, the key and DMARC lookups are still out. */
	mailauth_free(&ma);
	coro_sleep(30);
	mailauth_global_shutdown();
}

static void cancelled_finish(void *arg)
{
	struct silent_case *sc = arg;
	struct mailauth_input in = { .client_ip = "192.0.2.1", .mail_from = "a@example.com" };
	struct mailauth *ma;
	CHECK_INT(mailauth_begin(&in, &ma), ==, 0);
	CHECK_INT(mailauth_feed(ma, signed_msg, sizeof(signed_msg) - 1), ==, 0);
	int64_t start = coro_now_ms();
	CHECK_INT(mailauth_finish(ma, &sc->res), ==, 0);
	sc->took = coro_now_ms() - start;
	/* Its tasks are cancelled but may not have ended yet. */
	mailauth_free(&ma);
}

static void canceller(void *arg)
{
	coro_sleep(50);
	coro_cancel(arg);
	coro_sleep(50);
	mailauth_global_shutdown();
}

static void with_silent_dns(void (*fn)(void *), struct silent_case *sc)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	CHECK_INT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
	getsockname(fd, (struct sockaddr *)&sin, &len);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	char *servers[] = { addr };

	uv_loop_t loop;
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(coro_runtime_init(&loop), ==, 0);
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.dns_servers.items = servers;
	cfg.dns_servers.count = 1;
	const char *err;
	CHECK_INT(mailauth_global_init(&cfg, &err), ==, 0);
	struct coro *c = coro_spawn(fn, sc, 0);
	if (sc->cancel_finish)
		coro_spawn(canceller, c, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
	close(fd);
}

TEST(free_while_lookups_run)
{
	struct silent_case sc = { 0 };
	with_silent_dns(abandon_coro, &sc);
}

TEST(finish_of_a_cancelled_session_returns_at_once)
{
	struct silent_case sc = { .cancel_finish = true };
	with_silent_dns(cancelled_finish, &sc);
	CHECK(sc.took < 1000);
	CHECK_INT(sc.res.spf, ==, MAILAUTH_SPF_TEMPERROR);
	CHECK_INT(sc.res.dkim, ==, MAILAUTH_DKIM_TEMPERROR);
	CHECK_INT(sc.res.dmarc, ==, MAILAUTH_DMARC_TEMPERROR);
	CHECK(strstr(sc.res.header_block, "dkim=temperror") != NULL);
	mailauth_result_free(&sc.res);
}
