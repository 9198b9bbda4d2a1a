/* The answer cache: a chained hash table of (type, name) with an LRU list,
 * bounded in entries and bytes. An entry lives until its TTL runs out, it
 * is evicted as the least recently used, or the cache is cleared; answers
 * are shared by reference, so eviction never frees what a caller holds.
 */
#include "protocols/dns/dns.h"

#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

struct entry {
	struct entry *hnext;		/* hash chain */
	struct entry *prev, *next;	/* LRU: head is the most recent */
	struct dns_answer *ans;
	int64_t expires_ms;
	size_t bytes;
	uint32_t hash;
	uint16_t type;
	char name[];
};

struct dns_cache {
	struct entry **table;
	size_t nbuckets;
	struct entry *head, *tail;
	size_t entries, bytes;
	size_t max_entries, max_bytes;
};

static uint32_t hash_key(const char *name, uint16_t type)
{
	uint32_t h = 2166136261u ^ type;	/* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

struct dns_cache *dns_cache_new(size_t max_entries, size_t max_bytes)
{
	struct dns_cache *c = xcalloc(1, sizeof(*c));
	c->max_entries = max_entries ? max_entries : 1;
	c->max_bytes = max_bytes;
	c->nbuckets = 16;
	while (c->nbuckets < c->max_entries)
		c->nbuckets <<= 1;
	c->table = xcalloc(c->nbuckets, sizeof(*c->table));
	return c;
}

static void lru_unlink(struct dns_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct dns_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

static void remove_entry(struct dns_cache *c, struct entry *e)
{
	struct entry **pp = &c->table[e->hash & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->entries--;
	c->bytes -= e->bytes;
	dns_answer_unref(&e->ans);
	free(e);
}

static struct entry *find(struct dns_cache *c, const char *name, uint16_t type,
			  uint32_t h)
{
	for (struct entry *e = c->table[h & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->type == type && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

struct dns_answer *dns_cache_get(struct dns_cache *c, const char *name,
				 enum dns_type type, int64_t now_ms)
{
	uint32_t h = hash_key(name, (uint16_t)type);
	struct entry *e = find(c, name, (uint16_t)type, h);
	if (!e)
		return NULL;
	if (now_ms >= e->expires_ms) {
		remove_entry(c, e);
		return NULL;
	}
	lru_unlink(c, e);
	lru_push(c, e);
	return dns_answer_ref(e->ans);
}

void dns_cache_put(struct dns_cache *c, const char *name, enum dns_type type,
		   struct dns_answer *ans, int64_t now_ms)
{
	if (ans->status == DNS_TEMPFAIL || ans->status == DNS_BADNAME ||
	    ans->ttl == 0)
		return;
	size_t nlen = strlen(name);
	size_t bytes = sizeof(struct entry) + nlen + 1 + ans->bytes;
	if (bytes > c->max_bytes)
		return;

	uint32_t h = hash_key(name, (uint16_t)type);
	struct entry *old = find(c, name, (uint16_t)type, h);
	if (old)
		remove_entry(c, old);
	while (c->tail && (c->entries >= c->max_entries ||
			   c->bytes > c->max_bytes - bytes))
		remove_entry(c, c->tail);

	struct entry *e = xmalloc(sizeof(*e) + nlen + 1);
	memcpy(e->name, name, nlen + 1);
	e->type = (uint16_t)type;
	e->hash = h;
	e->bytes = bytes;
	e->ans = dns_answer_ref(ans);
	e->expires_ms = now_ms + (int64_t)ans->ttl * 1000;
	struct entry **bucket = &c->table[h & (c->nbuckets - 1)];
	e->hnext = *bucket;
	*bucket = e;
	lru_push(c, e);
	c->entries++;
	c->bytes += bytes;
}

void dns_cache_clear(struct dns_cache *c)
{
	while (c->tail)
		remove_entry(c, c->tail);
}

void dns_cache_free(struct dns_cache **cache)
{
	struct dns_cache *c = *cache;
	if (!c)
		return;
	dns_cache_clear(c);
	free(c->table);
	free(c);
	*cache = NULL;
}

size_t dns_cache_entries(const struct dns_cache *c)
{
	return c->entries;
}

size_t dns_cache_bytes(const struct dns_cache *c)
{
	return c->bytes;
}
