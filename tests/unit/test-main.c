#include "tests/unit/test.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(SEAL_SANITIZE)
#include <sanitizer/lsan_interface.h>
static int test_leak_check(void)
{
	return __lsan_do_recoverable_leak_check();
}
#else
static int test_leak_check(void)
{
	return 0;
}
#endif

#define TEST_KEPT_MAX 16384
static void *test_kept[TEST_KEPT_MAX];
static size_t test_nkept;

void *test_keep(void *p)
{
	if (test_nkept == TEST_KEPT_MAX)
		test_fail(__FILE__, __LINE__, "test_keep: more than %d allocations", TEST_KEPT_MAX);
	test_kept[test_nkept++] = p;
	return p;
}

static struct test_case *tests_head, **tests_tail = &tests_head;

void test_register(struct test_case *tc)
{
	*tests_tail = tc;
	tests_tail = &tc->next;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: FAILED: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

static int run_one(const struct test_case *tc)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return -1;
	}
	if (pid == 0) {
		if (tc->expect_signal) {
			/* The death is expected: keep the core dump out of it. */
			struct sigaction sa = { .sa_handler = SIG_DFL };
			sigaction(tc->expect_signal, &sa, NULL);
		}
		tc->fn();
		fflush(stdout);
		/* _exit skips LeakSanitizer's own check: run it here. */
		if (test_leak_check())
			_exit(1);
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		;
	if (tc->expect_signal) {
		if (WIFSIGNALED(status) && WTERMSIG(status) == tc->expect_signal)
			return 0;
		fprintf(stderr, "%s: expected death by signal %d, got status 0x%x\n",
			tc->name, tc->expect_signal, status);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		fprintf(stderr, "%s: killed by signal %d\n", tc->name, WTERMSIG(status));
	return -1;
}

int test_main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	if (argc > 1 && strcmp(argv[1], "--list") == 0) {
		for (struct test_case *tc = tests_head; tc; tc = tc->next)
			printf("%s\n", tc->name);
		return 0;
	}
	for (struct test_case *tc = tests_head; tc; tc = tc->next) {
		if (argc > 1 && strcmp(argv[1], tc->name) != 0)
			continue;
		int r = run_one(tc);
		printf("%s %s\n", r == 0 ? "ok  " : "FAIL", tc->name);
		if (r == 0)
			passed++;
		else
			failed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed || passed == 0 ? 1 : 0;
}

/* Weak, so a test file may bring its own main (to set up before the run). */
__attribute__((weak)) int main(int argc, char **argv)
{
	return test_main(argc, argv);
}
