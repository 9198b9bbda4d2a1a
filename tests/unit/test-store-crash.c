/* Unit tests of storage/store*.c, part 5: crash safety. tests/tools/
 * store-crash (built beside this binary) delivers and appends small
 * messages in a loop and prints an ACK line after each acknowledged one;
 * we SIGKILL it at a random moment (during login, import, maintenance,
 * deliveries, appends: anywhere), CRASH_KILLS times in all, restarting it
 * each time. After every kill, a fresh store logs in and every message
 * ever acknowledged must be in its mailbox, byte for byte (by hash), and
 * meta.sqlite must pass meta_check(). */
#include "tests/unit/test-store.h"

#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <mbedtls/sha256.h>

#include "storage/crypto.h"

#define CRASH_KILLS 200
#define CRASH_MAX_DELAY_MS 100	/* the kill comes 0 to this after the start,
				 * or every other time after the login */

struct acked {
	char mailbox[16];
	uint8_t hash[32];
};

static struct acked *acks;
static size_t n_acks, cap_acks;

static void parse_ack(const char *line)
{
	char kind, mailbox[16], hex[65];
	if (sscanf(line, "ACK %c %15s %64s", &kind, mailbox, hex) != 3)
		return;	/* READY, or a line cut by the kill */
	CHECK_INT(strlen(hex), ==, 64);
	if (n_acks == cap_acks) {
		cap_acks = cap_acks ? cap_acks * 2 : 256;
		acks = xrealloc(acks, cap_acks * sizeof(*acks));
	}
	struct acked *a = &acks[n_acks++];
	snprintf(a->mailbox, sizeof(a->mailbox), "%s", mailbox);
	for (int i = 0; i < 32; i++)
		CHECK(sscanf(hex + 2 * i, "%2hhx", &a->hash[i]) == 1);
}

static char *tool_path(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0);
	self[n] = '\0';
	return xasprintf("%s/store-crash", dirname(self));
}

/* Reads what the victim printed: ACK lines are recorded (only whole
 * lines: a line cut by the kill was never acknowledged). Returns true when
 * a READY line was seen. */
static bool take_lines(char *buf, size_t *len)
{
	bool ready = false;
	char *nl;
	while ((nl = memchr(buf, '\n', *len)) != NULL) {
		*nl = '\0';
		ready |= strcmp(buf, "READY") == 0;
		parse_ack(buf);
		*len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, *len);
	}
	return ready;
}

static pid_t start_victim(const char *tool, unsigned seed, int *fd_r)
{
	int fds[2];
	char seed_s[16];
	CHECK_INT(pipe(fds), ==, 0);
	snprintf(seed_s, sizeof(seed_s), "%u", seed);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(tool, tool, st_users, "u", ST_PASSWORD, seed_s, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	*fd_r = fds[0];
	return pid;
}

/* Runs the victim and kills it delay_ms after its start or, with
 * after_ready, after its first acknowledgement. */
static void run_victim(const char *tool, unsigned seed, int delay_ms, bool after_ready)
{
	int fd;
	pid_t pid = start_victim(tool, seed, &fd);
	uint64_t delay = (uint64_t)delay_ms * 1000000;
	uint64_t deadline = after_ready ? UINT64_MAX : uv_hrtime() + delay;
	char buf[65536];
	size_t len = 0;
	bool killed = false;

	for (;;) {
		int wait_ms = -1;
		if (!killed && uv_hrtime() >= deadline) {
			kill(pid, SIGKILL);
			killed = true;
		} else if (!killed && deadline != UINT64_MAX) {
			wait_ms = (int)((deadline - uv_hrtime()) / 1000000) + 1;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, wait_ms) == 0)
			continue;
		CHECK(len < sizeof(buf));
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		size_t acked_before = n_acks;
		take_lines(buf, &len);
		/* Armed only once the victim acknowledged something, so these runs
		 * are killed mid-work however slow the login was. */
		if (n_acks > acked_before && deadline == UINT64_MAX)
			deadline = uv_hrtime() + delay;
	}
	close(fd);
	int status;
	CHECK_INT(waitpid(pid, &status, 0), ==, pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		test_fail(__FILE__, __LINE__, "store-crash ended before the kill: 0x%x", status);
}

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* The sorted hashes of every message of mailbox. */
static size_t mailbox_hashes(struct store_user *u, const char *mailbox, uint8_t (**out)[32])
{
	uint32_t *uids;
	size_t n = st_uids(u, mailbox, &uids);
	int64_t id = st_mailbox(u, mailbox);
	uint8_t(*h)[32] = xmalloc((n + 1) * 32);
	for (size_t i = 0; i < n; i++) {
		uint8_t *data;
		size_t len;
		int r = st_read(u, id, uids[i], &data, &len);
		if (r != 0)
			test_fail(__FILE__, __LINE__, "%s uid %u unreadable: %d", mailbox, uids[i], r);
		CHECK_INT(mbedtls_sha256_ret(data, len, h[i], 0), ==, 0);
		free(data);
	}
	free(uids);
	qsort(h, n, 32, cmp_hash);
	*out = h;
	return n;
}

static void check_meta(void)
{
	uint8_t master[ACCOUNT_KEY_LEN], key[META_KEY_LEN];
	char path[256];
	struct meta *m;
	const char *why = NULL;

	CHECK_INT(account_login(st_dir, ST_PASSWORD, master, NULL), ==, 0);
	CHECK_INT(crypto_derive(master, CRYPTO_LABEL_METADATA_DB, NULL, 0, key, sizeof(key)), ==, 0);
	snprintf(path, sizeof(path), "%s/meta.sqlite", st_dir);
	CHECK_INT(meta_open(path, key, false, &m, &why), ==, 0);
	int r = meta_check(m, &why);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "meta_check: %d %s", r, why);
	meta_close(&m);
}

/* Every message acknowledged so far is where it was sent, and readable. */
static void check_acked(void)
{
	static const char *boxes[] = { "INBOX", "Archive", "Drafts" };
	struct store_settings s = st_settings();
	uint8_t(*h[3])[32];
	size_t n[3];

	s.clock = NULL;
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	for (int b = 0; b < 3; b++)
		n[b] = mailbox_hashes(u, boxes[b], &h[b]);
	for (size_t i = 0; i < n_acks; i++) {
		int b = 0;
		while (b < 3 && strcmp(boxes[b], acks[i].mailbox) != 0)
			b++;
		CHECK(b < 3);
		if (!bsearch(acks[i].hash, h[b], n[b], 32, cmp_hash))
			test_fail(__FILE__, __LINE__, "acknowledged message %zu lost from %s", i,
				  acks[i].mailbox);
	}
	for (int b = 0; b < 3; b++)
		free(h[b]);
	store_logout(&u);
	store_shutdown(&st);
	check_meta();
}

STORE_TEST(acknowledged_messages_survive_sigkill_anywhere)
{
	char *tool = tool_path();
	uint32_t x = (uint32_t)uv_hrtime() | 1;

	CHECK_INT(access(tool, X_OK), ==, 0);
	for (unsigned kill_no = 0; kill_no < CRASH_KILLS; kill_no++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		run_victim(tool, kill_no, (int)(x % (CRASH_MAX_DELAY_MS + 1)), kill_no % 2);
		check_acked();
	}
	fprintf(stderr, "%d kills, %zu messages acknowledged, all present\n", CRASH_KILLS, n_acks);
	CHECK(n_acks >= CRASH_KILLS / 2);
	free(tool);
	free(acks);
}

int main(int argc, char **argv)
{
	return st_main(argc, argv, "test-store-crash");
}
