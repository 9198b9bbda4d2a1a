#include "protocols/imap/seqset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

static int range_cmp(const void *a, const void *b)
{
	const struct seq_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges overlapping or adjacent ranges. */
static void seqset_normalise(struct seqset *set)
{
	if (set->count < 2)
		return;
	qsort(set->ranges, set->count, sizeof(*set->ranges), range_cmp);
	size_t w = 0;
	for (size_t r = 1; r < set->count; r++) {
		struct seq_range *cur = &set->ranges[w], *next = &set->ranges[r];
		if (next->lo <= cur->hi || next->lo - cur->hi == 1) {
			if (next->hi > cur->hi)
				cur->hi = next->hi;
		} else {
			set->ranges[++w] = *next;
		}
	}
	set->count = w + 1;
}

/* A number or '*'; 0 is not a valid sequence number or UID. */
static int parse_number(const char **p, const char *end, uint32_t star, uint32_t *n)
{
	if (*p < end && **p == '*') {
		(*p)++;
		*n = star;
		return 1; /* '*' */
	}
	uint64_t v = 0;
	const char *start = *p;
	while (*p < end && **p >= '0' && **p <= '9') {
		v = v * 10 + (uint64_t)(**p - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
		(*p)++;
	}
	if (*p == start || v == 0 || *start == '0')
		return -EINVAL;
	*n = (uint32_t)v;
	return 0;
}

int seqset_parse(const char *text, size_t len, uint32_t star, size_t max_ranges,
		 struct seqset *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 1 && text[0] == '$')
		return -ENOENT;
	const char *p = text, *end = text + len;
	size_t cap = 0;
	while (p < end) {
		uint32_t a, b;
		int sa = parse_number(&p, end, star, &a), sb = sa;
		if (sa < 0)
			goto bad;
		b = a;
		if (p < end && *p == ':') {
			p++;
			sb = parse_number(&p, end, star, &b);
			if (sb < 0)
				goto bad;
		}
		if (p < end && *p++ != ',')
			goto bad;
		if (p == end && end[-1] == ',')
			goto bad;
		/* With an empty mailbox '*' is 0 and names nothing. */
		if ((sa == 1 && a == 0) || (sb == 1 && b == 0)) {
			if (a == 0 && b == 0)
				continue;
			if (a == 0)
				a = b;
			else
				b = a;
		}
		if (out->count == max_ranges) {
			seqset_free(out);
			return -E2BIG;
		}
		if (out->count == cap) {
			cap = cap ? cap * 2 : 8;
			out->ranges = xrealloc(out->ranges, cap * sizeof(*out->ranges));
		}
		out->ranges[out->count++] = (struct seq_range){ a < b ? a : b, a < b ? b : a };
	}
	if (len == 0)
		goto bad;
	seqset_normalise(out);
	return 0;
bad:
	seqset_free(out);
	return -EINVAL;
}

void seqset_free(struct seqset *set)
{
	free(set->ranges);
	set->ranges = NULL;
	set->count = 0;
}

bool seqset_contains(const struct seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (n < set->ranges[mid].lo)
			hi = mid;
		else if (n > set->ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t seqset_size(const struct seqset *set)
{
	uint64_t n = 0;
	for (size_t i = 0; i < set->count; i++)
		n += (uint64_t)set->ranges[i].hi - set->ranges[i].lo + 1;
	return n;
}

void seqset_add(struct seqset *set, uint32_t lo, uint32_t hi)
{
	set->ranges = xrealloc(set->ranges, (set->count + 1) * sizeof(*set->ranges));
	set->ranges[set->count++] = (struct seq_range){ lo < hi ? lo : hi, lo < hi ? hi : lo };
	seqset_normalise(set);
}

int imap_append_number_set(struct buf *out, const uint32_t *v, size_t n)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < n;) {
		size_t j = i;
		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		if (j == i)
			r = buf_printf(out, "%s%u", i ? "," : "", v[i]);
		else
			r = buf_printf(out, "%s%u:%u", i ? "," : "", v[i], v[j]);
		i = j + 1;
	}
	return r;
}
