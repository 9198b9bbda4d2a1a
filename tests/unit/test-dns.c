/* protocols/dns/: names, the response parser (hostile input), the TTL
 * cache, and the resolver itself against a DNS server in this process (a
 * coroutine on a UDP socket) that answers, fails or stays silent. */
#include "tests/unit/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coro/coro.h"
#include "protocols/dns/dns.h"
#include "src/util/xmalloc.h"

/* --- Building responses --------------------------------------------------- */

struct msg {
	uint8_t b[4096];
	size_t len;
};

static void put8(struct msg *m, unsigned v)
{
	m->b[m->len++] = (uint8_t)v;
}

static void put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		put8(m, (unsigned)l);
		memcpy(m->b + m->len, name, l);
		m->len += l;
		name += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

/* Header (id 1, response, given rcode and counts) and one question. */
static void header(struct msg *m, unsigned rcode, unsigned an, unsigned ns,
		   const char *qname, unsigned qtype)
{
	m->len = 0;
	put16(m, 1);
	put16(m, 0x8180 | rcode);
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, 0);
	put_name(m, qname);
	put16(m, qtype);
	put16(m, 1);
}

/* An RR whose rdata the caller writes next; returns the rdlength offset. */
static size_t rr(struct msg *m, const char *owner, unsigned type, uint32_t ttl)
{
	put_name(m, owner);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	size_t at = m->len;
	put16(m, 0);
	return at;
}

static void rr_end(struct msg *m, size_t at)
{
	size_t len = m->len - at - 2;
	m->b[at] = (uint8_t)(len >> 8);
	m->b[at + 1] = (uint8_t)len;
}

static void rr_txt(struct msg *m, const char *owner, uint32_t ttl, const char *const *strs)
{
	size_t at = rr(m, owner, DNS_T_TXT, ttl);
	for (; *strs; strs++) {
		put8(m, (unsigned)strlen(*strs));
		memcpy(m->b + m->len, *strs, strlen(*strs));
		m->len += strlen(*strs);
	}
	rr_end(m, at);
}

static void rr_a(struct msg *m, const char *owner, uint32_t ttl, const char *ip)
{
	size_t at = rr(m, owner, DNS_T_A, ttl);
	inet_pton(AF_INET, ip, m->b + m->len);
	m->len += 4;
	rr_end(m, at);
}

static void rr_soa(struct msg *m, uint32_t ttl, uint32_t minimum)
{
	size_t at = rr(m, "test", 6, ttl);
	put_name(m, "ns.test");
	put_name(m, "host.test");
	put32(m, 1), put32(m, 3600), put32(m, 600), put32(m, 86400), put32(m, minimum);
	rr_end(m, at);
}

static struct dns_answer *parse(const struct msg *m, const char *q, enum dns_type t)
{
	return dns_parse_response(m->b, m->len, q, t);
}

/* --- Names ----------------------------------------------------------------- */

TEST(name_normalize)
{
	char out[DNS_MAX_NAME + 1];
	CHECK_INT(dns_name_normalize("Example.COM.", out, sizeof(out)), ==, 0);
	CHECK_STR(out, "example.com");
	CHECK_INT(dns_name_normalize("_dmarc.x-y.example", out, sizeof(out)), ==, 0);
	CHECK_INT(dns_name_normalize("", out, sizeof(out)), ==, -EINVAL);
	CHECK_INT(dns_name_normalize(".", out, sizeof(out)), ==, -EINVAL);
	CHECK_INT(dns_name_normalize("a..b", out, sizeof(out)), ==, -EINVAL);
	CHECK_INT(dns_name_normalize("a b.example", out, sizeof(out)), ==, -EINVAL);
	CHECK_INT(dns_name_normalize("a\\.b.example", out, sizeof(out)), ==, -EINVAL);
	CHECK_INT(dns_name_normalize("caf\xc3\xa9.example", out, sizeof(out)), ==, -EINVAL);
	char label[80];
	memset(label, 'a', 64);
	label[64] = '\0';
	CHECK_INT(dns_name_normalize(label, out, sizeof(out)), ==, -EINVAL);
	label[63] = '\0';
	CHECK_INT(dns_name_normalize(label, out, sizeof(out)), ==, 0);
	char longname[300];
	for (int i = 0; i < 127; i++)
		memcpy(longname + 2 * i, "a.", 2);
	longname[254] = 'a';
	longname[255] = '\0';	/* 255 characters: over 253 */
	CHECK_INT(dns_name_normalize(longname, out, sizeof(out)), ==, -EINVAL);
}

/* --- The parser ------------------------------------------------------------ */

TEST(parse_txt_joins_strings_and_takes_min_ttl)
{
	struct msg m;
	header(&m, 0, 2, 0, "example.com", DNS_T_TXT);
	rr_txt(&m, "example.com", 300, (const char *const[]){ "v=spf1 ", "-all", NULL });
	rr_txt(&m, "Example.COM", 100, (const char *const[]){ "other", NULL });
	struct dns_answer *a = parse(&m, "example.com", DNS_T_TXT);
	CHECK_INT(a->status, ==, DNS_OK);
	CHECK_INT(a->count, ==, 2);
	CHECK_INT(a->ttl, ==, 100);
	CHECK_STR((const char *)a->records[0].data, "v=spf1 -all");
	CHECK_INT(a->records[0].len, ==, 11);
	CHECK_STR((const char *)a->records[1].data, "other");
	dns_answer_unref(&a);
	CHECK(a == NULL);
}

TEST(parse_follows_cnames_and_ignores_strangers)
{
	struct msg m;
	header(&m, 0, 4, 0, "www.example.com", DNS_T_A);
	/* A record for a name nobody asked about comes first. */
	rr_a(&m, "evil.example", 300, "10.6.6.6");
	rr_a(&m, "host.example.net", 60, "192.0.2.7");
	size_t at = rr(&m, "www.example.com", 5, 200);
	put_name(&m, "alias.example.org");
	rr_end(&m, at);
	at = rr(&m, "alias.example.org", 5, 200);
	put_name(&m, "host.example.net");
	rr_end(&m, at);
	struct dns_answer *a = parse(&m, "www.example.com", DNS_T_A);
	CHECK_INT(a->status, ==, DNS_OK);
	CHECK_INT(a->count, ==, 1);
	CHECK_INT(a->ttl, ==, 60);
	CHECK_MEM(a->records[0].data, "\xc0\x00\x02\x07", 4);
	dns_answer_unref(&a);
}

TEST(parse_mx_with_compression)
{
	struct msg m;
	header(&m, 0, 2, 0, "example.com", DNS_T_MX);
	for (int i = 0; i < 2; i++) {
		/* owner: pointer to the question's name (offset 12) */
		put16(&m, 0xc000 | 12);
		put16(&m, DNS_T_MX), put16(&m, 1), put32(&m, 600);
		size_t at = m.len;
		put16(&m, 0);
		put16(&m, 10 * (i + 1));
		put8(&m, 4);
		memcpy(m.b + m.len, i ? "MAIL" : "mx01", 4);
		m.len += 4;
		put16(&m, 0xc000 | 12);	/* ".example.com" */
		rr_end(&m, at);
	}
	struct dns_answer *a = parse(&m, "example.com", DNS_T_MX);
	CHECK_INT(a->status, ==, DNS_OK);
	CHECK_INT(a->count, ==, 2);
	CHECK_STR((const char *)a->records[0].data, "mx01.example.com");
	CHECK_INT(a->records[0].pref, ==, 10);
	CHECK_STR((const char *)a->records[1].data, "mail.example.com");
	CHECK_INT(a->records[1].pref, ==, 20);
	dns_answer_unref(&a);
}

TEST(parse_negative_answers_use_the_soa)
{
	struct msg m;
	header(&m, 3, 0, 1, "nope.example", DNS_T_TXT);
	rr_soa(&m, 500, 120);
	struct dns_answer *a = parse(&m, "nope.example", DNS_T_TXT);
	CHECK_INT(a->status, ==, DNS_NXDOMAIN);
	CHECK_INT(a->ttl, ==, 120);
	CHECK_INT(a->count, ==, 0);
	dns_answer_unref(&a);

	header(&m, 0, 0, 1, "example.com", DNS_T_TXT);
	rr_soa(&m, 30, 3600);
	a = parse(&m, "example.com", DNS_T_TXT);
	CHECK_INT(a->status, ==, DNS_NODATA);
	CHECK_INT(a->ttl, ==, 30);
	dns_answer_unref(&a);

	/* Without an SOA a negative answer is not to be cached. */
	header(&m, 0, 0, 0, "example.com", DNS_T_TXT);
	a = parse(&m, "example.com", DNS_T_TXT);
	CHECK_INT(a->status, ==, DNS_NODATA);
	CHECK_INT(a->ttl, ==, 0);
	dns_answer_unref(&a);
}

TEST(parse_failures_are_tempfail)
{
	struct msg m;
	struct dns_answer *a;

	header(&m, 2, 0, 0, "example.com", DNS_T_A);	/* SERVFAIL */
	a = parse(&m, "example.com", DNS_T_A);
	CHECK_INT(a->status, ==, DNS_TEMPFAIL);
	dns_answer_unref(&a);
	header(&m, 5, 0, 0, "example.com", DNS_T_A);	/* REFUSED */
	a = parse(&m, "example.com", DNS_T_A);
	CHECK_INT(a->status, ==, DNS_TEMPFAIL);
	dns_answer_unref(&a);
	header(&m, 0, 1, 0, "example.com", DNS_T_A);
	rr_a(&m, "example.com", 60, "192.0.2.1");
	m.b[2] |= 0x02;					/* TC */
	a = parse(&m, "example.com", DNS_T_A);
	CHECK_INT(a->status, ==, DNS_TEMPFAIL);
	dns_answer_unref(&a);
	/* Every cut of a valid answer is handled. */
	header(&m, 0, 1, 0, "example.com", DNS_T_A);
	rr_a(&m, "example.com", 60, "192.0.2.1");
	for (size_t cut = 0; cut < m.len; cut++) {
		a = dns_parse_response(m.b, cut, "example.com", DNS_T_A);
		CHECK_INT(a->status, ==, DNS_TEMPFAIL);
		dns_answer_unref(&a);
	}
}

TEST(parse_survives_pointer_loops_and_bad_rdata)
{
	struct msg m;
	header(&m, 0, 1, 0, "example.com", DNS_T_A);
	put16(&m, 0xc000 | (unsigned)m.len);	/* points at itself */
	put16(&m, DNS_T_A), put16(&m, 1), put32(&m, 60), put16(&m, 4);
	put32(&m, 0x01020304);
	struct dns_answer *a = parse(&m, "example.com", DNS_T_A);
	CHECK_INT(a->status, ==, DNS_TEMPFAIL);
	dns_answer_unref(&a);

	/* An A record of the wrong length and a TXT string running past its
	 * rdata are dropped; the rest is kept. */
	header(&m, 0, 2, 0, "example.com", DNS_T_A);
	size_t at = rr(&m, "example.com", DNS_T_A, 60);
	put16(&m, 1);
	rr_end(&m, at);
	rr_a(&m, "example.com", 60, "192.0.2.9");
	a = parse(&m, "example.com", DNS_T_A);
	CHECK_INT(a->status, ==, DNS_OK);
	CHECK_INT(a->count, ==, 1);
	dns_answer_unref(&a);

	header(&m, 0, 1, 0, "example.com", DNS_T_TXT);
	at = rr(&m, "example.com", DNS_T_TXT, 60);
	put8(&m, 200);
	put8(&m, 'x');
	rr_end(&m, at);
	a = parse(&m, "example.com", DNS_T_TXT);
	CHECK_INT(a->status, ==, DNS_NODATA);
	dns_answer_unref(&a);
}

TEST(parse_keeps_at_most_max_records)
{
	static struct msg m;
	header(&m, 0, 100, 0, "example.com", DNS_T_A);
	for (int i = 0; i < 100; i++)
		rr_a(&m, "example.com", 60, "192.0.2.1");
	struct dns_answer *a = parse(&m, "example.com", DNS_T_A);
	CHECK_INT(a->status, ==, DNS_OK);
	CHECK_INT(a->count, ==, DNS_MAX_RECORDS);
	dns_answer_unref(&a);
}

/* --- The cache ------------------------------------------------------------- */

static struct dns_answer *answer_ttl(uint32_t ttl, enum dns_status st)
{
	struct msg m;
	if (st == DNS_OK) {
		header(&m, 0, 1, 0, "x.example", DNS_T_A);
		rr_a(&m, "x.example", ttl, "192.0.2.1");
	} else {
		header(&m, st == DNS_NXDOMAIN ? 3 : 2, 0, 1, "x.example", DNS_T_A);
		rr_soa(&m, ttl, ttl);
	}
	return parse(&m, "x.example", DNS_T_A);
}

TEST(cache_honours_ttl)
{
	struct dns_cache *c = dns_cache_new(16, 1 << 20);
	struct dns_answer *a = answer_ttl(10, DNS_OK);
	dns_cache_put(c, "x.example", DNS_T_A, a, 1000);
	CHECK_INT(a->refs, ==, 2);
	struct dns_answer *hit = dns_cache_get(c, "x.example", DNS_T_A, 10999);
	CHECK(hit == a);
	dns_answer_unref(&hit);
	CHECK(dns_cache_get(c, "x.example", DNS_T_AAAA, 1000) == NULL);
	CHECK(dns_cache_get(c, "y.example", DNS_T_A, 1000) == NULL);
	CHECK(dns_cache_get(c, "x.example", DNS_T_A, 11000) == NULL);	/* expired */
	CHECK_INT(dns_cache_entries(c), ==, 0);
	CHECK_INT(a->refs, ==, 1);
	dns_answer_unref(&a);
	dns_cache_free(&c);
	CHECK(c == NULL);
}

TEST(cache_keeps_negative_answers_but_not_failures)
{
	struct dns_cache *c = dns_cache_new(16, 1 << 20);
	struct dns_answer *nx = answer_ttl(60, DNS_NXDOMAIN);
	struct dns_answer *fail = answer_ttl(60, DNS_TEMPFAIL);
	struct dns_answer *zero = answer_ttl(0, DNS_OK);
	dns_cache_put(c, "nx.example", DNS_T_A, nx, 0);
	dns_cache_put(c, "fail.example", DNS_T_A, fail, 0);
	dns_cache_put(c, "zero.example", DNS_T_A, zero, 0);
	CHECK_INT(dns_cache_entries(c), ==, 1);
	struct dns_answer *hit = dns_cache_get(c, "nx.example", DNS_T_A, 59999);
	CHECK(hit && hit->status == DNS_NXDOMAIN);
	dns_answer_unref(&hit);
	dns_answer_unref(&nx);
	dns_answer_unref(&fail);
	dns_answer_unref(&zero);
	dns_cache_free(&c);
}

TEST(cache_evicts_least_recently_used)
{
	struct dns_cache *c = dns_cache_new(3, 1 << 20);
	char name[32];
	for (int i = 0; i < 3; i++) {
		struct dns_answer *a = answer_ttl(100, DNS_OK);
		snprintf(name, sizeof(name), "n%d.example", i);
		dns_cache_put(c, name, DNS_T_A, a, 0);
		dns_answer_unref(&a);
	}
	struct dns_answer *hit = dns_cache_get(c, "n0.example", DNS_T_A, 1);	/* n0 is fresh now */
	dns_answer_unref(&hit);
	struct dns_answer *a = answer_ttl(100, DNS_OK);
	dns_cache_put(c, "n3.example", DNS_T_A, a, 1);
	dns_answer_unref(&a);
	CHECK_INT(dns_cache_entries(c), ==, 3);
	CHECK((hit = dns_cache_get(c, "n1.example", DNS_T_A, 2)) == NULL);
	CHECK((hit = dns_cache_get(c, "n0.example", DNS_T_A, 2)) != NULL);
	dns_answer_unref(&hit);
	CHECK((hit = dns_cache_get(c, "n3.example", DNS_T_A, 2)) != NULL);
	dns_answer_unref(&hit);
	/* Replacing an entry keeps one. */
	a = answer_ttl(100, DNS_OK);
	dns_cache_put(c, "n3.example", DNS_T_A, a, 3);
	dns_answer_unref(&a);
	CHECK_INT(dns_cache_entries(c), ==, 3);
	dns_cache_free(&c);
}

TEST(cache_bounded_in_bytes)
{
	struct dns_answer *a = answer_ttl(100, DNS_OK);
	size_t one = a->bytes + 200;
	struct dns_cache *c = dns_cache_new(1000, 4 * one);
	char name[32];
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		dns_cache_put(c, name, DNS_T_A, a, 0);
		CHECK(dns_cache_bytes(c) <= 4 * one);
	}
	CHECK(dns_cache_entries(c) >= 3 && dns_cache_entries(c) < 10);
	dns_cache_clear(c);
	CHECK_INT(dns_cache_entries(c), ==, 0);
	CHECK_INT(dns_cache_bytes(c), ==, 0);
	CHECK_INT(a->refs, ==, 1);
	dns_answer_unref(&a);
	dns_cache_free(&c);
}

/* --- The resolver against a server in this process ------------------------ */

enum srv_mode { SRV_ANSWER, SRV_SERVFAIL, SRV_SILENT };

struct server {
	int fd;
	struct coro_fd w;
	enum srv_mode mode;
	unsigned queries;
	bool stop;
};

/* Answers every A query with 192.0.2.<queries> and TTL 60. */
static void server_main(void *arg)
{
	struct server *s = arg;
	uint8_t q[512];
	while (!s->stop) {
		int r = coro_fd_wait(&s->w, UV_READABLE, CORO_NO_DEADLINE);
		if (r < 0)
			break;
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		s->queries++;
		if (s->mode == SRV_SILENT)
			continue;
		/* Echo the question, then answer it. */
		struct msg m;
		memcpy(m.b, q, (size_t)n);
		size_t qend = 12;
		while (q[qend])
			qend += q[qend] + 1u;
		qend += 5;
		m.len = qend;
		m.b[2] = 0x81;
		m.b[3] = s->mode == SRV_SERVFAIL ? 0x82 : 0x80;
		m.b[6] = 0, m.b[7] = s->mode == SRV_ANSWER ? 1 : 0;
		m.b[8] = m.b[9] = m.b[10] = m.b[11] = 0;	/* no NS, no EDNS */
		if (s->mode == SRV_ANSWER) {
			put16(&m, 0xc000 | 12);
			put16(&m, DNS_T_A), put16(&m, 1), put32(&m, 60), put16(&m, 4);
			put8(&m, 192), put8(&m, 0), put8(&m, 2), put8(&m, s->queries);
		}
		sendto(s->fd, m.b, m.len, 0, (struct sockaddr *)&from, fl);
	}
}

struct client {
	struct server *srv;
	char addr[64];
	void (*body)(struct client *c);
};

static void client_main(void *arg)
{
	struct client *c = arg;
	const char *servers[] = { c->addr };
	const char *err;
	CHECK_INT(dns_init(servers, 1, 200, 2, &err), ==, 0);
	c->body(c);
	dns_shutdown();
	c->srv->stop = true;
	coro_fd_close(&c->srv->w, NULL);
}

static void with_server(enum srv_mode mode, void (*body)(struct client *c))
{
	uv_loop_t loop;
	struct server s = { .mode = mode };
	struct client c = { .srv = &s, .body = body };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);

	s.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	CHECK_INT(bind(s.fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
	getsockname(s.fd, (struct sockaddr *)&sin, &len);
	snprintf(c.addr, sizeof(c.addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(coro_runtime_init(&loop), ==, 0);
	CHECK_INT(coro_fd_init(&s.w, s.fd), ==, 0);
	coro_spawn(server_main, &s, 0);
	coro_spawn(client_main, &c, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
}

static void answers_then_cache(struct client *c)
{
	struct dns_answer *a;
	CHECK_INT(dns_query("Host.Example.", DNS_T_A, coro_deadline_in(5000), &a), ==, 0);
	CHECK_INT(a->status, ==, DNS_OK);
	CHECK_INT(a->count, ==, 1);
	CHECK_MEM(a->records[0].data, "\xc0\x00\x02\x01", 4);
	dns_answer_unref(&a);
	/* Same name, other spelling: from the cache, no second query. */
	CHECK_INT(dns_query("host.example", DNS_T_A, coro_deadline_in(5000), &a), ==, 0);
	CHECK_MEM(a->records[0].data, "\xc0\x00\x02\x01", 4);
	dns_answer_unref(&a);
	CHECK_INT(c->srv->queries, ==, 1);
	struct dns_stats st;
	dns_get_stats(&st);
	CHECK_INT(st.queries, ==, 2);
	CHECK_INT(st.cache_hits, ==, 1);
	CHECK_INT(st.cache_entries, ==, 1);
	/* A name we never send. */
	CHECK_INT(dns_query("bad name", DNS_T_A, coro_deadline_in(5000), &a), ==, 0);
	CHECK_INT(a->status, ==, DNS_BADNAME);
	dns_answer_unref(&a);
	CHECK_INT(c->srv->queries, ==, 1);
}

TEST(resolver_answers_and_caches)
{
	with_server(SRV_ANSWER, answers_then_cache);
}

static void servfail_is_tempfail(struct client *c)
{
	struct dns_answer *a;
	CHECK_INT(dns_query("host.example", DNS_T_A, coro_deadline_in(5000), &a), ==, 0);
	CHECK_INT(a->status, ==, DNS_TEMPFAIL);
	dns_answer_unref(&a);
	/* Not cached: asked again. */
	unsigned before = c->srv->queries;
	CHECK_INT(dns_query("host.example", DNS_T_A, coro_deadline_in(5000), &a), ==, 0);
	dns_answer_unref(&a);
	CHECK(c->srv->queries > before);
}

TEST(resolver_servfail_is_tempfail)
{
	with_server(SRV_SERVFAIL, servfail_is_tempfail);
}

static void silence(struct client *c)
{
	struct dns_answer *a;
	/* c-ares gives up after 200 ms + 400 ms (2 tries). */
	int64_t start = coro_now_ms();
	CHECK_INT(dns_query("host.example", DNS_T_A, coro_deadline_in(5000), &a), ==, 0);
	CHECK_INT(a->status, ==, DNS_TEMPFAIL);
	CHECK(coro_now_ms() - start < 3000);
	dns_answer_unref(&a);
	/* Our deadline before c-ares's: the query is abandoned, and freed
	 * when c-ares ends it (the leak check after the test sees to it),
	 * here by the shutdown. */
	start = coro_now_ms();
	CHECK_INT(dns_query("other.example", DNS_T_A, coro_deadline_in(50), &a), ==, -ETIMEDOUT);
	CHECK(a == NULL);
	CHECK(coro_now_ms() - start < 500);
	CHECK_INT(dns_query("third.example", DNS_T_A, coro_now_ms() - 1, &a), ==, -ETIMEDOUT);
}

TEST(resolver_deadline_and_silent_server)
{
	with_server(SRV_SILENT, silence);
}

static void cancel_me(void *arg)
{
	struct dns_answer *a;
	int *r = arg;
	*r = dns_query("host.example", DNS_T_A, coro_deadline_in(5000), &a);
}

static void cancelled(struct client *c)
{
	int r = 1;
	struct coro *co = coro_spawn(cancel_me, &r, 0);
	coro_sleep(20);
	coro_cancel(co);
	coro_sleep(20);
	CHECK_INT(r, ==, -ECANCELED);
}

TEST(resolver_query_can_be_cancelled)
{
	with_server(SRV_SILENT, cancelled);
}

TEST(resolver_not_started)
{
	struct dns_answer *a = (struct dns_answer *)1;
	CHECK_INT(dns_query("x.example", DNS_T_A, 0, &a), ==, -ENOTCONN);
	CHECK(a == NULL);
	CHECK(!dns_initialized());
}
