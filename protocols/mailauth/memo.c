/* The DNS answers of one message's checks, held for libspf2 and
 * libopendkim, which ask synchronously. A handful of entries per message
 * (at most a few hundred for a pathological SPF record), so a list. */
#include "protocols/mailauth/mailauth-private.h"

#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

struct memo_entry {
	char *name;
	enum dns_type type;
	struct dns_answer *ans;
};

struct dns_answer *dns_memo_get(const struct dns_memo *m, const char *name,
				enum dns_type type)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->entries[i].type == type && strcmp(m->entries[i].name, name) == 0)
			return m->entries[i].ans;
	return NULL;
}

void dns_memo_put(struct dns_memo *m, const char *name, enum dns_type type,
		  struct dns_answer *ans)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->entries[i].type == type && strcmp(m->entries[i].name, name) == 0) {
			dns_answer_unref(&m->entries[i].ans);
			m->entries[i].ans = ans;
			return;
		}
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 8;
		m->entries = xrealloc(m->entries, m->cap * sizeof(*m->entries));
	}
	m->entries[m->n++] = (struct memo_entry){ xstrdup(name), type, ans };
}

void dns_memo_free(struct dns_memo *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->entries[i].name);
		dns_answer_unref(&m->entries[i].ans);
	}
	free(m->entries);
	memset(m, 0, sizeof(*m));
}
