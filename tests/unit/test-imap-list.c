#include <string.h>

#include "protocols/imap/list.h"
#include "tests/unit/test.h"
#include "src/util/xmalloc.h"

TEST(wildcards)
{
	CHECK(list_match("*", "a/b/c"));
	CHECK(list_match("%", "Archive"));
	CHECK(!list_match("%", "a/b"));
	CHECK(list_match("a/%", "a/b"));
	CHECK(!list_match("a/%", "a/b/c"));
	CHECK(list_match("a/*", "a/b/c"));
	CHECK(!list_match("a/*", "a"));
	CHECK(list_match("a*", "a"));
	CHECK(list_match("%/%/%", "x/y/z"));
	CHECK(list_match("*c", "a/b/c"));
	CHECK(!list_match("*d", "a/b/c"));
	CHECK(list_match("", "") && !list_match("", "a"));
	CHECK(list_match("a%c", "abbc") && !list_match("a%c", "ab/c"));
}

TEST(inbox_in_any_case_other_names_exactly)
{
	CHECK(list_match("inbox", "INBOX"));
	CHECK(list_match("InB*", "INBOX"));
	CHECK(!list_match("archive", "Archive"));
	CHECK(!list_match("inbox", "inbox-old"));
}

TEST(many_wildcards_stay_linear)
{
	char pat[1001], name[1001];
	for (int i = 0; i < 1000; i++) {
		pat[i] = i % 2 ? '*' : 'a';
		name[i] = 'a';
	}
	pat[1000] = name[1000] = '\0';
	pat[999] = 'b';
	CHECK(!list_match(pat, name));
}

static struct meta_mailbox box(const char *name, uint32_t attrs, const char *use)
{
	struct meta_mailbox m = { .name = xstrdup(name), .id = 1, .attrs = attrs,
				  .special_use = use };
	return m;
}

TEST(recursivematch_and_implied_parents)
{
	struct meta_mailbox v[] = {
		box("Fruit", META_MBOX_HAS_CHILDREN, NULL),
		box("Fruit/Apple", META_MBOX_SUBSCRIBED, NULL),
		box("Gone/Away", META_MBOX_NONEXISTENT | META_MBOX_SUBSCRIBED, NULL),
		box("INBOX", META_MBOX_SUBSCRIBED, NULL),
		box("Trash", 0, "\\Trash"),
	};
	struct meta_mailbox_list list = { v, 5 };
	char *pat = xstrdup("%");
	struct list_request req = { .kind = LIST_PLAIN, .patterns = &pat, .n_patterns = 1,
				    .sel = LIST_SEL_SUBSCRIBED | LIST_SEL_RECURSIVEMATCH };
	struct list_result res;
	list_select(&req, &list, &res);
	CHECK_INT(res.n, ==, 3);
	CHECK_STR(res.v[0].name, "Fruit");
	CHECK(res.v[0].childinfo && !res.v[0].selected);
	CHECK_STR(res.v[1].name, "Gone");
	CHECK(res.v[1].childinfo && (res.v[1].attrs & META_MBOX_NONEXISTENT));
	CHECK_STR(res.v[2].name, "INBOX");
	CHECK(res.v[2].selected && !res.v[2].childinfo);
	list_result_free(&res);
	/* SPECIAL-USE selection; plain LIST leaves out subscription-only names. */
	req.sel = LIST_SEL_SPECIAL_USE;
	free(pat);
	pat = xstrdup("*");
	list_select(&req, &list, &res);
	CHECK_INT(res.n, ==, 1);
	CHECK_STR(res.v[0].name, "Trash");
	list_result_free(&res);
	req.sel = 0;
	list_select(&req, &list, &res);
	CHECK_INT(res.n, ==, 4);
	list_result_free(&res);
	free(pat);
	for (size_t i = 0; i < 5; i++)
		free(v[i].name);
}
