/* DNS responses (RFC 1035 4.1) to the answers of dns.h.
 *
 * The bytes come from the network, so every read is bounds-checked and
 * compressed names may not loop. Records are taken only from the owner
 * asked for or from the names its CNAME chain leads to (RFC 1034 3.6.2),
 * so a server cannot slip in records for other names. c-ares checks that
 * the response matches the query (id, question) before we see it.
 */
#include "protocols/dns/dns-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

#define DNS_HEADER 12
#define DNS_T_CNAME 5
#define DNS_T_SOA 6
#define DNS_C_IN 1
#define MAX_CNAMES 8
/* Compression pointers followed while reading one name: a name has at
 * most 127 labels, so more jumps than that mean a loop. */
#define MAX_JUMPS 128

struct rr {
	size_t owner;		/* offset of the owner name */
	uint16_t type;
	uint32_t ttl;
	size_t rdata;
	uint16_t rdlen;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the name at *off into out (lower-case, dotted, no final dot; "" for
 * the root; at least DNS_MAX_NAME + 1 bytes) and moves *off past it.
 * Labels holding dots or bytes outside printable ASCII make the name
 * unusable: -1, as for any malformation. */
static int read_name(const uint8_t *msg, size_t len, size_t *off, char *out)
{
	size_t pos = *off, outlen = 0;
	size_t end = 0;		/* where the name ends in place, once known */
	unsigned jumps = 0;

	for (;;) {
		if (pos >= len)
			return -1;
		uint8_t l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++jumps > MAX_JUMPS)
				return -1;
			if (!end)
				end = pos + 2;
			pos = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			continue;
		}
		if (l & 0xc0)
			return -1;	/* extended label types: not for us */
		if (l == 0) {
			pos++;
			break;
		}
		if (pos + 1 + l > len || outlen + (outlen ? 1 : 0) + l > DNS_MAX_NAME)
			return -1;
		if (outlen)
			out[outlen++] = '.';
		for (unsigned i = 0; i < l; i++) {
			uint8_t c = msg[pos + 1 + i];
			if (c <= 0x20 || c >= 0x7f || c == '.')
				return -1;
			out[outlen++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
		}
		pos += 1 + (size_t)l;
	}
	out[outlen] = '\0';
	*off = end ? end : pos;
	return 0;
}

static int skip_name(const uint8_t *msg, size_t len, size_t *off)
{
	char tmp[DNS_MAX_NAME + 1];
	return read_name(msg, len, off, tmp);
}

/* Reads one resource record's fixed part; *off moves past its rdata. */
static int read_rr(const uint8_t *msg, size_t len, size_t *off, struct rr *rr)
{
	rr->owner = *off;
	if (skip_name(msg, len, off) < 0 || len - *off < 10)
		return -1;
	const uint8_t *p = msg + *off;
	rr->type = get16(p);
	uint16_t class = get16(p + 2);
	rr->ttl = get32(p + 4);
	rr->rdlen = get16(p + 8);
	/* RFC 2181 8: a TTL with the top bit set means zero. */
	if (rr->ttl & 0x80000000u)
		rr->ttl = 0;
	*off += 10;
	rr->rdata = *off;
	if (rr->rdlen > len - *off)
		return -1;
	*off += rr->rdlen;
	if (class != DNS_C_IN)
		rr->type = 0;	/* ignored below */
	return 0;
}

static bool owner_is(const uint8_t *msg, size_t len, const struct rr *rr,
		     const char *name)
{
	char owner[DNS_MAX_NAME + 1];
	size_t off = rr->owner;
	return read_name(msg, len, &off, owner) == 0 && strcmp(owner, name) == 0;
}

/* RFC 2308 5: a negative answer lives as long as the smaller of the SOA
 * record's TTL and its MINIMUM field. */
static uint32_t negative_ttl(const uint8_t *msg, size_t len, size_t off,
			     unsigned nscount)
{
	for (unsigned i = 0; i < nscount; i++) {
		struct rr rr;
		if (read_rr(msg, len, &off, &rr) < 0)
			return 0;
		if (rr.type != DNS_T_SOA)
			continue;
		size_t p = rr.rdata, end = rr.rdata + rr.rdlen;
		if (skip_name(msg, end, &p) < 0 || skip_name(msg, end, &p) < 0 ||
		    end - p < 20)
			return 0;
		uint32_t min = get32(msg + p + 16);
		if (min & 0x80000000u)
			min = 0;
		uint32_t ttl = rr.ttl < min ? rr.ttl : min;
		return ttl < DNS_MAX_NEG_TTL ? ttl : DNS_MAX_NEG_TTL;
	}
	return 0;
}

/* TXT: the character-strings joined, straight into the builder; a
 * malformed record is dropped. */
static void add_txt(struct dns_builder *b, const uint8_t *msg, const struct rr *rr)
{
	size_t n = 0, p = 0;

	while (p < rr->rdlen) {
		uint8_t l = msg[rr->rdata + p];
		if (l > rr->rdlen - p - 1)
			return;
		n += l;
		p += 1 + (size_t)l;
	}
	if (b->n >= DNS_MAX_RECORDS)
		return;
	size_t start = b->data.len;
	for (p = 0; p < rr->rdlen; p += 1 + (size_t)msg[rr->rdata + p]) {
		if (buf_append(&b->data, msg + rr->rdata + p + 1,
			       msg[rr->rdata + p]) < 0) {
			b->data.len = start;
			return;
		}
	}
	if (buf_append(&b->data, "", 1) < 0) {
		b->data.len = start;
		return;
	}
	b->off[b->n] = start;
	b->len[b->n] = (uint16_t)n;
	b->pref[b->n] = 0;
	b->n++;
}

static void add_record(struct dns_builder *b, const uint8_t *msg, size_t len,
		       const struct rr *rr)
{
	char name[DNS_MAX_NAME + 1];
	size_t p = rr->rdata;
	size_t end = rr->rdata + rr->rdlen;

	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rr->rdlen == (rr->type == DNS_T_A ? 4 : 16))
			dns_builder_add(b, msg + p, rr->rdlen, 0);
		break;
	case DNS_T_TXT:
		add_txt(b, msg, rr);
		break;
	case DNS_T_MX:
		if (rr->rdlen < 3)
			break;
		p += 2;
		/* Names in rdata may point anywhere in the message (RFC 1035
		 * 4.1.4) but must end inside the rdata. */
		if (read_name(msg, len, &p, name) == 0 && p <= end)
			dns_builder_add(b, name, strlen(name), get16(msg + rr->rdata));
		break;
	case DNS_T_PTR:
		if (read_name(msg, len, &p, name) == 0 && p <= end)
			dns_builder_add(b, name, strlen(name), 0);
		break;
	}
}

static struct dns_answer *fail(struct dns_builder *b, struct rr *rrs)
{
	free(rrs);
	return dns_builder_finish(b, DNS_TEMPFAIL, 0);
}

struct dns_answer *dns_parse_response(const uint8_t *msg, size_t len,
				      const char *qname, enum dns_type qtype)
{
	struct dns_builder b;
	struct rr *rrs = NULL;

	dns_builder_init(&b, qtype);
	if (len < DNS_HEADER)
		return fail(&b, rrs);
	unsigned flags = get16(msg + 2), qd = get16(msg + 4);
	unsigned an = get16(msg + 6), ns = get16(msg + 8);
	unsigned rcode = flags & 0xf;
	/* A truncated answer may miss records that change an SPF result;
	 * c-ares retries over TCP, so one arriving here is broken. */
	if (!(flags & 0x8000) || (flags & 0x0200) || (rcode != 0 && rcode != 3))
		return fail(&b, rrs);

	size_t off = DNS_HEADER;
	for (unsigned i = 0; i < qd; i++) {
		if (skip_name(msg, len, &off) < 0 || len - off < 4)
			return fail(&b, rrs);
		off += 4;
	}
	/* Every answer record is at least 11 bytes, which bounds `an`. */
	rrs = xcalloc(an ? an : 1, sizeof(*rrs));
	unsigned nrr = 0;
	for (unsigned i = 0; i < an; i++) {
		if (read_rr(msg, len, &off, &rrs[nrr]) < 0)
			return fail(&b, rrs);
		nrr++;
	}
	if (rcode == 3) {
		free(rrs);
		return dns_builder_finish(&b, DNS_NXDOMAIN,
					  negative_ttl(msg, len, off, ns));
	}

	/* Follow the CNAME chain from qname, then take the records of the
	 * type asked for that the names of the chain own. */
	char chain[MAX_CNAMES + 1][DNS_MAX_NAME + 1];
	unsigned nchain = 1;
	uint32_t ttl = UINT32_MAX;
	snprintf(chain[0], sizeof(chain[0]), "%s", qname);
	for (unsigned i = 0; i < nrr && nchain <= MAX_CNAMES; i++) {
		if (rrs[i].type != DNS_T_CNAME ||
		    !owner_is(msg, len, &rrs[i], chain[nchain - 1]))
			continue;
		size_t p = rrs[i].rdata;
		if (read_name(msg, len, &p, chain[nchain]) < 0)
			return fail(&b, rrs);
		if (rrs[i].ttl < ttl)
			ttl = rrs[i].ttl;
		nchain++;
		i = (unsigned)-1;	/* the next link may come earlier */
	}
	for (unsigned i = 0; i < nrr; i++) {
		if (rrs[i].type != qtype)
			continue;
		bool mine = false;
		for (unsigned c = 0; c < nchain && !mine; c++)
			mine = owner_is(msg, len, &rrs[i], chain[c]);
		if (!mine)
			continue;
		unsigned before = b.n;
		add_record(&b, msg, len, &rrs[i]);
		if (b.n > before && rrs[i].ttl < ttl)
			ttl = rrs[i].ttl;
	}
	free(rrs);
	if (b.n == 0)
		return dns_builder_finish(&b, DNS_NODATA,
					  negative_ttl(msg, len, off, ns));
	if (ttl > DNS_MAX_TTL)
		ttl = DNS_MAX_TTL;
	return dns_builder_finish(&b, DNS_OK, ttl);
}
