/* store-crash USERS_DIR USER PASSWORD SEED: the victim of the store's crash
 * test (tests/unit/test-store-crash.c). Logs USER in, prints "READY", then
 * loops for ever, alternating an in-process delivery (store_deliver_*,
 * taken in at once since the user is logged in) and an APPEND
 * (store_append_*), each a small message unique to SEED and its number,
 * into one of two mailboxes. Beside that loop, DELIVERERS coroutines
 * deliver without pause, so deliveries meet at their commit and commit in
 * groups (store-deliver.c): kills land inside group commits too. After
 * each acknowledged message (the call returned 0: SMTP 250 or APPEND OK
 * would be sent now) it prints
 *
 *   ACK <d|a> <mailbox> <sha256 of the message, hex>
 *
 * and flushes stdout. The test kills it with SIGKILL at random moments and
 * checks that every message it saw acknowledged is there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <uv.h>

#include "coro/coro.h"
#include "storage/store.h"

#define DELIVERERS 3

struct victim {
	const char *users, *user, *password;
	unsigned seed;
	int status;
	struct store *st;
};

struct deliverer {
	struct victim *v;
	unsigned id;
};

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* "Subject: ..." then 50 to 3000 bytes of binary content; who is 0 for
 * the main loop, else a deliverer's number. */
static size_t make_message(const struct victim *v, unsigned who, unsigned n, uint32_t *x,
			   char *buf)
{
	size_t len = (size_t)snprintf(buf, 128, "Subject: crash %u-%u-%u\r\n\r\n", v->seed, who,
				      n);
	size_t body = 50 + rnd(x) % 2950;
	for (size_t i = 0; i < body; i++)
		buf[len + i] = (char)rnd(x);
	return len + body;
}

static void ack(char kind, const char *mailbox, const char *data, size_t len)
{
	uint8_t h[32];
	mbedtls_sha256_ret((const unsigned char *)data, len, h, 0);
	printf("ACK %c %s ", kind, mailbox);
	for (int i = 0; i < 32; i++)
		printf("%02x", h[i]);
	printf("\n");
	fflush(stdout);
}

static int deliver(struct store *st, const struct victim *v, const char *mailbox,
		   const char *data, size_t len)
{
	struct delivery_opts o = { .mailbox = mailbox };
	struct store_delivery *d;
	int r = store_deliver_begin(st, v->user, &o, &d, NULL);
	if (r == 0)
		r = store_deliver_write(d, data, len);
	if (r == 0)
		return store_deliver_commit(&d, NULL);
	store_deliver_abort(&d);
	return r;
}

static int append(struct store_user *u, const char *mailbox, const char *data, size_t len)
{
	struct store_append_opts o = { .flags = META_FLAG_SEEN };
	struct store_append *a;
	int r = store_append_begin(u, mailbox, &o, &a, NULL);
	if (r == 0)
		r = store_append_write(a, data, len);
	if (r == 0)
		return store_append_commit(&a, NULL, NULL);
	store_append_abort(&a);
	return r;
}

static void deliverer_run(void *arg)
{
	struct deliverer *dl = arg;
	uint32_t x = dl->v->seed * 2654435761u + dl->id * 40503u + 1;
	char buf[4096];

	for (unsigned n = 0;; n++) {
		size_t len = make_message(dl->v, dl->id, n, &x, buf);
		const char *mailbox = n % 2 ? "Archive" : "INBOX";
		int r = deliver(dl->v->st, dl->v, mailbox, buf, len);
		if (r < 0) {
			fprintf(stderr, "store-crash: delivery %u failed: %d\n", dl->id, r);
			exit(1);
		}
		ack('d', mailbox, buf, len);
	}
}

static void victim_run(void *arg)
{
	struct victim *v = arg;
	struct store_settings s;
	struct store *st;
	struct store_user *u;
	char *err = NULL, buf[4096];
	uint32_t x = v->seed * 2654435761u + 1;

	store_settings_default(&s);
	s.no_key_rotation = true;
	if (store_new(v->users, &s, &st) < 0 ||
	    store_login(st, v->user, v->password, &u, &err) < 0) {
		fprintf(stderr, "store-crash: login: %s\n", err ? err : "failed");
		v->status = 1;
		exit(1);
	}
	printf("READY\n");
	fflush(stdout);
	v->st = st;
	static struct deliverer dls[DELIVERERS];
	for (unsigned i = 0; i < DELIVERERS; i++) {
		dls[i] = (struct deliverer){ v, i + 1 };
		coro_spawn(deliverer_run, &dls[i], 256 * 1024);
	}
	for (unsigned n = 0;; n++) {
		size_t len = make_message(v, 0, n, &x, buf);
		bool delivery = n % 2 == 0;
		const char *mailbox = delivery ? (n % 4 ? "Archive" : "INBOX")
					       : (n % 4 == 1 ? "INBOX" : "Drafts");
		int r = delivery ? deliver(st, v, mailbox, buf, len) : append(u, mailbox, buf, len);
		if (r < 0) {
			fprintf(stderr, "store-crash: %s failed: %d\n", delivery ? "delivery" : "append",
				r);
			exit(1);
		}
		ack(delivery ? 'd' : 'a', mailbox, buf, len);
	}
}

int main(int argc, char **argv)
{
	struct victim v = { 0 };
	uv_loop_t loop;

	if (argc != 5) {
		fprintf(stderr, "usage: store-crash USERS_DIR USER PASSWORD SEED\n");
		return 2;
	}
	v.users = argv[1];
	v.user = argv[2];
	v.password = argv[3];
	v.seed = (unsigned)strtoul(argv[4], NULL, 10);
	uv_loop_init(&loop);
	coro_runtime_init(&loop);
	coro_spawn(victim_run, &v, 256 * 1024);
	uv_run(&loop, UV_RUN_DEFAULT);
	return v.status;
}
