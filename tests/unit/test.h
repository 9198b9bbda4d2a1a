/* A small unit-test harness: every TEST runs in a forked child (as libuv's
 * tests do), so a crash fails that test alone and death tests can expect a
 * signal. Assertions print both sides.
 *
 *   TEST(name) { CHECK_INT(f(), ==, 0); }
 *   DEATH_TEST(name, SIGSEGV) { ...must die by that signal... }
 * (test-main.c provides main(); a file may define its own and call test_main.)
 *
 * `prog` runs all tests; `prog NAME` runs one; `prog --list` lists them.
 */
#ifndef SEAL_TEST_H
#define SEAL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	int expect_signal;	/* 0: must exit 0 */
	struct test_case *next;
};

void test_register(struct test_case *tc);
int test_main(int argc, char **argv);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

#define TEST_DEFINE__(name, sig)                                               \
	static void test_fn_##name(void);                                      \
	static struct test_case test_case_##name = { #name, test_fn_##name,    \
						     sig, NULL };              \
	__attribute__((constructor)) static void test_reg_##name(void)         \
	{                                                                      \
		test_register(&test_case_##name);                              \
	}                                                                      \
	static void test_fn_##name(void)

#define TEST(name) TEST_DEFINE__(name, 0)
#define DEATH_TEST(name, sig) TEST_DEFINE__(name, sig)

/* Keeps an allocation reachable until the test ends, so the leak check that
 * follows every test reports only leaks of the code under test. */
void *test_keep(void *p);
/* A formatted heap string kept that way. */
#define TEST_STR(...) ((char *)test_keep(xasprintf(__VA_ARGS__)))

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);     \
	} while (0)

#define CHECK_INT(a, op, b)                                                    \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (!(a_ op b_))                                               \
			test_fail(__FILE__, __LINE__,                          \
				  "%s %s %s: %lld vs %lld", #a, #op, #b, a_,   \
				  b_);                                         \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                         \
			test_fail(__FILE__, __LINE__,                          \
				  "%s == %s: \"%s\" vs \"%s\"", #a, #b,        \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)");     \
	} while (0)

#define CHECK_MEM(a, b, n)                                                     \
	do {                                                                   \
		if (memcmp((a), (b), (n)) != 0)                                \
			test_fail(__FILE__, __LINE__,                          \
				  "memcmp(%s, %s, %s) != 0", #a, #b, #n);      \
	} while (0)

#endif
