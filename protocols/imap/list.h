/* LIST, LSUB and XLIST (cmd-list.c) over the mailbox tree: which names a
 * request selects (list-select.c). RFC 9051 6.3.9, RFC 5258
 * (LIST-EXTENDED), RFC 6154 (SPECIAL-USE), RFC 5819 (LIST-STATUS), RFC
 * 3348 (CHILDREN), RFC 3501 6.3.9 (LSUB). Internal to those two files. */
#ifndef SEAL_IMAP_LIST_H
#define SEAL_IMAP_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/meta.h"

enum {
	LIST_SEL_SUBSCRIBED = 1 << 0,
	LIST_SEL_REMOTE = 1 << 1,
	LIST_SEL_RECURSIVEMATCH = 1 << 2,
	LIST_SEL_SPECIAL_USE = 1 << 3,
};

enum {
	LIST_RET_SUBSCRIBED = 1 << 0,
	LIST_RET_CHILDREN = 1 << 1,
	LIST_RET_SPECIAL_USE = 1 << 2,
	LIST_RET_STATUS = 1 << 3,
};

enum list_kind { LIST_PLAIN, LIST_LSUB, LIST_XLIST };

struct list_request {
	enum list_kind kind;
	unsigned sel, ret;	/* LIST_SEL_, LIST_RET_ */
	unsigned status_items;	/* IMAP_STATUS_ with LIST_RET_STATUS */
	char **patterns;	/* UTF-8, reference prefixed, normalised */
	size_t n_patterns;
};

/* One name to answer with. */
struct list_item {
	const char *name;	/* points into the mailbox list or owned */
	uint32_t attrs;		/* META_MBOX_ */
	const char *special_use;
	bool selected;		/* meets the selection criteria itself */
	bool childinfo;		/* a descendant does, and matches no pattern */
};

struct list_result {
	struct list_item *v;
	size_t n;
	char **owned;		/* names of implied parents */
	size_t n_owned;
};

/* Whether name matches pattern ('*' anything, '%' anything but '/'),
 * INBOX compared in any case. */
bool list_match(const char *pattern, const char *name);

/* Applies the request to every mailbox and subscription (list, from
 * store_list with subscriptions), in name order. */
void list_select(const struct list_request *req, const struct meta_mailbox_list *list,
		 struct list_result *out);
void list_result_free(struct list_result *res);

#endif
