/* IMAP sequence sets (RFC 9051 section 9: sequence-set), for message
 * sequence numbers and UIDs alike: "1:3,5,7:*". The result is a sorted
 * list of disjoint, non-adjacent ranges. */
#ifndef SEAL_IMAP_SEQSET_H
#define SEAL_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/util/buf.h"

struct seq_range {
	uint32_t lo, hi;	/* inclusive, 1 <= lo <= hi */
};

struct seqset {
	struct seq_range *ranges;	/* heap; seqset_free() */
	size_t count;
};

/* Parses text[0..len). '*' stands for star (the largest number in use: the
 * message count, or the highest UID; when the mailbox is empty the caller
 * passes 0, and a set naming only '*' is then empty for UIDs, as RFC 9051
 * 6.4.9 allows). "$" (SEARCHRES) is the caller's business: it is refused
 * here with -ENOENT so the caller can substitute its saved set. Returns 0,
 * -EINVAL for bad syntax or a 0, -E2BIG past max_ranges ranges. */
int seqset_parse(const char *text, size_t len, uint32_t star, size_t max_ranges,
		 struct seqset *out);
void seqset_free(struct seqset *set);

bool seqset_contains(const struct seqset *set, uint32_t n);
/* How many numbers the set holds (64-bit: a set can name 2^32 - 1). */
uint64_t seqset_size(const struct seqset *set);
/* Adds [lo, hi], keeping the set normalised. */
void seqset_add(struct seqset *set, uint32_t lo, uint32_t hi);

/* Appends numbers in sequence-set syntax ("1:3,7"; COPYUID, APPENDUID,
 * VANISHED, MODIFIED); ascending input; n may be 0 (nothing appended).
 * 0 or the buffer's error. */
int imap_append_number_set(struct buf *out, const uint32_t *v, size_t n);

#endif
