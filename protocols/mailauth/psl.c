/* The Public Suffix List (publicsuffix.org; Debian package `publicsuffix`),
 * loaded once, for organisational domains (RFC 7489 3.2).
 *
 * Rules are kept by their suffix in an open-addressing hash table: "ck"
 * marked WILDCARD stands for "*.ck", "www.ck" marked EXCEPTION for
 * "!www.ck". Matching walks the label boundaries of the domain, so a lookup
 * costs one probe per label.
 */
#include "protocols/mailauth/mailauth-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/util/xmalloc.h"

#define PSL_MAX_FILE (16u << 20)

enum { RULE = 1, WILDCARD = 2, EXCEPTION = 4 };

struct slot {
	uint32_t hash;
	uint32_t off;		/* into names; 0 marks an empty slot */
	uint8_t flags;
};

struct psl {
	struct slot *slots;
	size_t nslots, nrules;
	struct buf names;	/* NUL-separated, starting with a NUL */
};

static uint32_t hash_str(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h | 1;	/* never 0 */
}

static struct slot *probe(const struct psl *psl, const char *s, size_t len, uint32_t h)
{
	size_t mask = psl->nslots - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *sl = &psl->slots[i];
		if (sl->off == 0)
			return sl;
		const char *name = psl->names.data + sl->off;
		if (sl->hash == h && strncmp(name, s, len) == 0 && name[len] == '\0')
			return sl;
	}
}

static void grow(struct psl *psl)
{
	struct slot *old = psl->slots;
	size_t n = psl->nslots;
	psl->nslots = n ? n * 2 : 1024;
	psl->slots = xcalloc(psl->nslots, sizeof(*psl->slots));
	for (size_t i = 0; i < n; i++) {
		if (old[i].off == 0)
			continue;
		const char *name = psl->names.data + old[i].off;
		*probe(psl, name, strlen(name), old[i].hash) = old[i];
	}
	free(old);
}

static void add_rule(struct psl *psl, const char *s, size_t len, uint8_t flag)
{
	if ((psl->nrules + 1) * 2 > psl->nslots)
		grow(psl);
	uint32_t h = hash_str(s, len);
	struct slot *sl = probe(psl, s, len, h);
	if (sl->off == 0) {
		sl->hash = h;
		sl->off = (uint32_t)psl->names.len;
		buf_append(&psl->names, s, len);
		buf_append(&psl->names, "", 1);
		psl->nrules++;
	}
	sl->flags |= flag;
}

static uint8_t flags_of(const struct psl *psl, const char *s)
{
	size_t len = strlen(s);
	return probe(psl, s, len, hash_str(s, len))->flags;
}

/* One line: the rule is the first word; "//" starts a comment. */
static void parse_line(struct psl *psl, const char *line, size_t len)
{
	char norm[DNS_MAX_NAME + 1];
	size_t n = 0;
	uint8_t flag = RULE;

	while (n < len && line[n] != ' ' && line[n] != '\t' && line[n] != '\r')
		n++;
	if (n == 0 || (n >= 2 && line[0] == '/' && line[1] == '/'))
		return;
	if (line[0] == '!') {
		flag = EXCEPTION;
		line++, n--;
	} else if (n > 2 && line[0] == '*' && line[1] == '.') {
		flag = WILDCARD;
		line += 2, n -= 2;
	}
	if (mailauth_domain_normalize(line, n, norm, sizeof(norm)) < 0)
		return;	/* nothing we could match anyway */
	add_rule(psl, norm, strlen(norm), flag);
}

int psl_load_text(const char *text, size_t len, struct psl **psl_r)
{
	struct psl *psl = xcalloc(1, sizeof(*psl));
	psl->names = (struct buf)BUF_INIT(0);
	buf_append(&psl->names, "", 1);	/* offset 0 means empty */
	grow(psl);
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		parse_line(psl, text + i, end - i);
		i = end + 1;
	}
	*psl_r = psl;
	return 0;
}

int psl_load_file(const char *path, struct psl **psl_r)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size > PSL_MAX_FILE) {
		int e = st.st_size > PSL_MAX_FILE ? -EFBIG : -errno;
		close(fd);
		return e;
	}
	char *text = xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
		if (r <= 0) {
			int e = r < 0 ? -errno : -EIO;
			free(text);
			close(fd);
			return e;
		}
		got += (size_t)r;
	}
	close(fd);
	int r = psl_load_text(text, got, psl_r);
	free(text);
	return r;
}

void psl_free(struct psl **psl)
{
	if (!*psl)
		return;
	free((*psl)->slots);
	buf_free(&(*psl)->names);
	free(*psl);
	*psl = NULL;
}

size_t psl_rule_count(const struct psl *psl)
{
	return psl->nrules;
}

/* publicsuffix.org "Algorithm": an exception rule wins, then the rule with
 * the most labels; "*.x" matches one label more than "x"; with no match
 * the default rule "*" makes the last label the suffix. */
const char *psl_public_suffix(const struct psl *psl, const char *domain)
{
	const char *labels[128];
	size_t n = 0;

	labels[n++] = domain;
	for (const char *p = domain; *p && n < 128; p++)
		if (*p == '.')
			labels[n++] = p + 1;
	for (size_t i = 0; i < n; i++)
		if (flags_of(psl, labels[i]) & EXCEPTION)
			return i + 1 < n ? labels[i + 1] : labels[i];
	/* Longest first: labels[0] is the whole domain. */
	for (size_t i = 0; i < n; i++) {
		if (flags_of(psl, labels[i]) & RULE)
			return labels[i];
		if (i + 1 < n && (flags_of(psl, labels[i + 1]) & WILDCARD))
			return labels[i];
	}
	return labels[n - 1];
}

const char *psl_org_domain(const struct psl *psl, const char *domain)
{
	if (!psl)
		return domain;
	const char *suffix = psl_public_suffix(psl, domain);
	if (suffix == domain)
		return domain;
	/* One label more: back up to the dot before the suffix's label. */
	const char *p = suffix - 1;	/* the dot */
	while (p > domain && p[-1] != '.')
		p--;
	return p;
}
