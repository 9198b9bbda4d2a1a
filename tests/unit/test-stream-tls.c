/* Tests of the TLS layer and its configs: handshakes in one process over a
 * socketpair with certificates made for the test, STARTTLS and its
 * pipelining check, DEFLATE over TLS, certificate verification, reference
 * counting across a reload, and the memory an idle session keeps. */
#include "tests/unit/stream-test.h"

#include <malloc.h>
#include <time.h>

struct tls_case {
	struct cert_dir certs;
	const char *expect_desc;	/* prefix */
	const char *server_name;
	int expect_client;		/* result of the client handshake */
	bool in_socket;			/* pipelined bytes still in the socket */
};

static void tls_case_setup(struct tls_case *tc, struct duo *d, bool rsa)
{
	cert_make(&tc->certs, rsa);
	d->srv = server_config(&tc->certs);
	d->cli = client_config(NULL, false);
	d->extra = tc;
}

static void tls_case_teardown(struct tls_case *tc, struct duo *d)
{
	tls_config_unref(&d->srv);
	tls_config_unref(&d->cli);
	CHECK(d->srv == NULL);
	cert_remove(&tc->certs);
}

/* --- Implicit TLS ---------------------------------------------------------- */

#define TLS_BLOB (300 * 1024)

static void tls_server(void *arg)
{
	struct duo *d = arg;
	struct tls_case *tc = d->extra;
	struct stream *s = d->s[0];
	CHECK_INT(stream_start_tls_server(s, d->srv), ==, 0);
	CHECK(stream_is_tls(s));
	CHECK(strncmp(stream_tls_description(s), tc->expect_desc, strlen(tc->expect_desc)) == 0);
	/* The greeting goes out right after the handshake, as IMAPS does;
	 * it may arrive together with the server's Finished. */
	CHECK_INT(stream_puts(s, "* OK ready\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "a LOGIN", true);
	expect_line(s, "b bare", false);
	unsigned char *blob = malloc(TLS_BLOB);
	pattern_fill(blob, 0, TLS_BLOB);
	CHECK_INT(stream_printf(s, "* %d\r\n", TLS_BLOB), ==, 0);
	CHECK_INT(stream_write(s, blob, TLS_BLOB), ==, 0);
	CHECK_INT(stream_puts(s, "a OK\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	const char *line;
	size_t len;
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);	/* close_notify */
	free(blob);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void tls_client(void *arg)
{
	struct duo *d = arg;
	struct tls_case *tc = d->extra;
	struct stream *s = d->s[1];
	CHECK_INT(stream_start_tls_client(s, d->cli, "localhost"), ==, 0);
	CHECK(strncmp(stream_tls_description(s), tc->expect_desc, strlen(tc->expect_desc)) == 0);
	expect_line(s, "* OK ready", true);
	CHECK_INT(stream_puts(s, "a LOGIN\r\nb bare\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	char want[32];
	snprintf(want, sizeof(want), "* %d", TLS_BLOB);
	expect_line(s, want, true);
	unsigned char *got = malloc(TLS_BLOB), *exp = malloc(TLS_BLOB);
	pattern_fill(exp, 0, TLS_BLOB);
	CHECK_INT(stream_read_exact(s, got, TLS_BLOB), ==, 0);
	CHECK_MEM(got, exp, TLS_BLOB);
	expect_line(s, "a OK", true);
	/* The server now waits for a command: nothing of its own is
	 * buffered while it is idle. */
	coro_sleep(10);
	CHECK(d->s[0]->rbuf == NULL);
	CHECK(d->s[0]->wbuf == NULL);
	CHECK_INT(stream_shutdown(s), ==, 0);
	free(got);
	free(exp);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(tls_ec_lines_both_ways)
{
	struct tls_case tc = { .expect_desc = "TLSv1.2 ECDHE-ECDSA-" };
	struct duo d = { 0 };
	tls_case_setup(&tc, &d, false);
	duo_run(&d, tls_server, tls_client);
	tls_case_teardown(&tc, &d);
}

TEST(tls_rsa_lines_both_ways)
{
	struct tls_case tc = { .expect_desc = "TLSv1.2 ECDHE-RSA-" };
	struct duo d = { 0 };
	tls_case_setup(&tc, &d, true);
	duo_run(&d, tls_server, tls_client);
	tls_case_teardown(&tc, &d);
}

/* The handshake's CPU work runs on the pool: a coroutine that keeps
 * yielding during the handshakes sees jobs queued, and no turn of the loop
 * costs the loop thread as much as an RSA signature (~1.5 ms). Thread CPU
 * time, not wall time: with two cores the pool competes with the loop. */
static struct {
	struct duo *d;
	unsigned max_depth;
	uint64_t max_turn_us;
} ticker;

static uint64_t thread_cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool both_tls(const struct duo *d)
{
	return d->s[0] && stream_is_tls(d->s[0]) && d->s[1] && stream_is_tls(d->s[1]);
}

static void ticker_fn(void *arg)
{
	uint64_t last = thread_cpu_us();
	while (!both_tls(ticker.d)) {
		unsigned depth = coro_work_queue_depth();
		if (depth > ticker.max_depth)
			ticker.max_depth = depth;
		coro_yield();
		uint64_t now = thread_cpu_us();
		if (now - last > ticker.max_turn_us)
			ticker.max_turn_us = now - last;
		last = now;
	}
}

static void ticked_server(void *arg)
{
	CHECK(coro_spawn(ticker_fn, NULL, 0) != NULL);
	tls_server(arg);
}

TEST(tls_handshake_runs_on_pool)
{
	struct tls_case tc = { .expect_desc = "TLSv1.2 ECDHE-RSA-" };
	struct duo d = { 0 };
	ticker.d = &d;
	tls_case_setup(&tc, &d, true);
	duo_run(&d, ticked_server, tls_client);
	tls_case_teardown(&tc, &d);
	printf("pool jobs seen at once: %u, longest loop turn: %llu us of CPU\n",
	       ticker.max_depth, (unsigned long long)ticker.max_turn_us);
	CHECK_INT(ticker.max_depth, >=, 1);
	if (measurements_valid())
		CHECK_INT(ticker.max_turn_us, <, 1000);
}

/* A read timeout under TLS (and DEFLATE) leaves the write side working. */
static void tls_timeout_server(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	const char *line;
	size_t len;
	CHECK_INT(stream_start_tls_server(s, d->srv), ==, 0);
	expect_line(s, "c COMPRESS DEFLATE", true);
	CHECK_INT(stream_puts(s, "c OK\r\n"), ==, 0);
	CHECK_INT(stream_start_deflate(s), ==, 0);
	stream_set_timeout(s, 100);
	/* Half a line, then silence. */
	CHECK_INT(stream_read_line(s, &line, &len), ==, -ETIMEDOUT);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -ETIMEDOUT);
	CHECK_INT(stream_puts(s, "* BYE Autologout\r\n"), ==, 0);
	CHECK_INT(stream_shutdown(s), ==, 0);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void tls_timeout_client(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[1];
	CHECK_INT(stream_start_tls_client(s, d->cli, NULL), ==, 0);
	CHECK_INT(stream_puts(s, "c COMPRESS DEFLATE\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "c OK", true);
	CHECK_INT(stream_start_deflate(s), ==, 0);
	CHECK_INT(stream_puts(s, "a NO"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "* BYE Autologout", true);
	const char *line;
	size_t len;
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(tls_read_timeout_still_writes)
{
	struct tls_case tc = { 0 };
	struct duo d = { 0 };
	tls_case_setup(&tc, &d, false);
	duo_run(&d, tls_timeout_server, tls_timeout_client);
	tls_case_teardown(&tc, &d);
}

/* --- Verification ---------------------------------------------------------- */

static void verify_server(void *arg)
{
	struct duo *d = arg;
	struct tls_case *tc = d->extra;
	int r = stream_start_tls_server(d->s[0], d->srv);
	if (tc->expect_client == 0) {
		CHECK_INT(r, ==, 0);
		expect_line(d->s[0], "hi", true);
	} else {
		CHECK_INT(r, <, 0);
	}
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void verify_client(void *arg)
{
	struct duo *d = arg;
	struct tls_case *tc = d->extra;
	struct stream *s = d->s[1];
	CHECK_INT(stream_start_tls_client(s, d->cli, tc->server_name), ==, tc->expect_client);
	/* The only refusal here is the name: the reason says so. */
	char why[256];
	CHECK(stream_tls_verify_error(s, why, sizeof(why)) == (tc->expect_client != 0));
	CHECK(tc->expect_client == 0 || strstr(why, "does not match with the expected CN"));
	if (tc->expect_client == 0) {
		CHECK_INT(stream_puts(s, "hi\r\n"), ==, 0);
		CHECK_INT(stream_flush(s), ==, 0);
	} else {
		/* Broken for good. */
		CHECK_INT(stream_puts(s, "hi\r\n"), ==, tc->expect_client);
	}
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

static void verify_case(const char *server_name, int expect)
{
	struct tls_case tc = { .server_name = server_name, .expect_client = expect };
	struct duo d = { 0 };
	tls_case_setup(&tc, &d, false);
	tls_config_unref(&d.cli);
	d.cli = client_config(tc.certs.cert, true);
	duo_run(&d, verify_server, verify_client);
	tls_case_teardown(&tc, &d);
}

TEST(tls_verify_accepts_trusted_name)
{
	verify_case("localhost", 0);
}

TEST(tls_verify_rejects_wrong_name)
{
	verify_case("mail.example.org", -EPROTO);
}

TEST(tls_verify_needs_a_name)
{
	rt_start();
	struct tls_config *cli = client_config("/dev/null", false);
	struct cert_dir certs;
	cert_make(&certs, false);
	struct tls_config *verifying = client_config(certs.cert, true);
	struct duo d = { 0 };
	duo_open(&d);
	/* Caller mistakes are refused before anything is sent. */
	CHECK_INT(stream_start_tls_client(d.s[1], verifying, NULL), ==, -EINVAL);
	CHECK_INT(stream_start_tls_server(d.s[1], cli), ==, -EINVAL);
	CHECK(!stream_is_tls(d.s[1]));
	CHECK_STR(stream_tls_description(d.s[1]), "");
	stream_free(&d.s[0]);
	stream_free(&d.s[1]);
	tls_config_unref(&cli);
	tls_config_unref(&verifying);
	cert_remove(&certs);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	rt_finish();
}

TEST(tls_config_errors)
{
	const char *err = NULL;
	CHECK(tls_config_new_server("/nonexistent/c.pem", "/nonexistent/k.pem", &err) == NULL);
	CHECK(err != NULL && strstr(err, "/nonexistent/c.pem") != NULL);
	struct cert_dir a, b;
	cert_make(&a, false);
	cert_make(&b, false);
	err = NULL;
	CHECK(tls_config_new_server(a.cert, b.key, &err) == NULL);
	CHECK(err != NULL && strstr(err, "does not match") != NULL);
	CHECK(tls_config_new_client("/nonexistent/ca.pem", true, &err) == NULL);
	CHECK_INT(tls__config_live(), ==, 0);
	cert_remove(&a);
	cert_remove(&b);
}

/* --- STARTTLS -------------------------------------------------------------- */

static void starttls_server(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	CHECK_INT(stream_puts(s, "220 mail.example.org ESMTP\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "EHLO client", true);
	CHECK_INT(stream_puts(s, "250-mail.example.org\r\n250 STARTTLS\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "STARTTLS", true);
	/* The reply is still buffered: starting TLS sends it in the clear. */
	CHECK_INT(stream_puts(s, "220 Ready to start TLS\r\n"), ==, 0);
	CHECK_INT(stream_start_tls_server(s, d->srv), ==, 0);
	CHECK(strncmp(stream_tls_description(s), "TLSv1.2 ", 8) == 0);
	expect_line(s, "EHLO again", true);
	CHECK_INT(stream_puts(s, "250 mail.example.org\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	CHECK_INT(stream_start_tls_server(s, d->srv), ==, -EINVAL);
	const char *line;
	size_t len;
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void starttls_client(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[1];
	expect_line(s, "220 mail.example.org ESMTP", true);
	CHECK_INT(stream_puts(s, "EHLO client\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "250-mail.example.org", true);
	expect_line(s, "250 STARTTLS", true);
	CHECK_INT(stream_puts(s, "STARTTLS\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "220 Ready to start TLS", true);
	CHECK_INT(stream_start_tls_client(s, d->cli, "mail.example.org"), ==, 0);
	CHECK(stream_is_tls(s));
	CHECK_INT(stream_puts(s, "EHLO again\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "250 mail.example.org", true);
	CHECK_INT(stream_shutdown(s), ==, 0);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(starttls_upgrades_live_stream)
{
	struct tls_case tc = { 0 };
	struct duo d = { 0 };
	tls_case_setup(&tc, &d, false);
	duo_run(&d, starttls_server, starttls_client);
	tls_case_teardown(&tc, &d);
}

/* RFC 3207 section 4.2: a command pipelined after STARTTLS, whether it is
 * already in our read buffer or still in the socket, refuses the upgrade. */
static void pipelined_server(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	bool in_socket = ((struct tls_case *)d->extra)->in_socket;
	expect_line(s, "STARTTLS", true);
	if (in_socket) {
		coro_sleep(50);
		CHECK_INT(stream_buffered(s), ==, 0);
	} else {
		CHECK_INT(stream_buffered(s), >, 0);
	}
	CHECK_INT(stream_puts(s, "220 Ready to start TLS\r\n"), ==, 0);
	CHECK_INT(stream_start_tls_server(s, d->srv), ==, -EPROTO);
	CHECK(!stream_is_tls(s));
	CHECK_INT(stream_flush(s), ==, -EPROTO);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void pipelined_client(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[1];
	bool in_socket = ((struct tls_case *)d->extra)->in_socket;
	if (in_socket) {
		CHECK_INT(stream_puts(s, "STARTTLS\r\n"), ==, 0);
		CHECK_INT(stream_flush(s), ==, 0);
		coro_sleep(20);
		CHECK_INT(stream_puts(s, "RCPT TO:<victim@example.org>\r\n"), ==, 0);
	} else {
		CHECK_INT(stream_puts(s, "STARTTLS\r\nRCPT TO:<victim@example.org>\r\n"), ==, 0);
	}
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "220 Ready to start TLS", true);
	/* The server hangs up; a unix socket closed with our command still
	 * unread there resets the connection. */
	const char *line;
	size_t len;
	int r = stream_read_line(s, &line, &len);
	CHECK(r == -EPIPE || r == -ECONNRESET);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

static void pipelined_case(bool in_socket)
{
	struct tls_case tc = { .in_socket = in_socket };
	struct duo d = { 0 };
	tls_case_setup(&tc, &d, false);
	duo_run(&d, pipelined_server, pipelined_client);
	tls_case_teardown(&tc, &d);
}

TEST(starttls_refuses_pipelined_bytes_in_buffer)
{
	pipelined_case(false);
}

TEST(starttls_refuses_pipelined_bytes_in_socket)
{
	pipelined_case(true);
}

/* --- DEFLATE over TLS ------------------------------------------------------ */

#define BIG_LINES 20000
#define BIG_BINARY (2u << 20)

static char *numbered_lines(int n, size_t *len_r)
{
	char *buf = malloc((size_t)n * 64), *p = buf;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "* %d FETCH (FLAGS (\\Seen) UID %d)\r\n", i + 1, 1000 + i);
	*len_r = (size_t)(p - buf);
	return buf;
}

static void compress_server(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	char want[64];
	CHECK_INT(stream_start_tls_server(s, d->srv), ==, 0);
	expect_line(s, "c COMPRESS DEFLATE", true);
	CHECK_INT(stream_puts(s, "c OK DEFLATE active\r\n"), ==, 0);
	CHECK_INT(stream_start_deflate(s), ==, 0);
	CHECK(stream_is_compressed(s) && stream_is_tls(s));
	for (int i = 0; i < 50; i++) {
		snprintf(want, sizeof(want), "small %d", i);
		expect_line(s, want, true);
	}
	/* An IDLE-style update: one flushed line must arrive whole without
	 * anything sent after it. */
	CHECK_INT(stream_puts(s, "* 3 EXISTS\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	for (int i = 0; i < BIG_LINES; i++) {
		snprintf(want, sizeof(want), "* %d FETCH (FLAGS (\\Seen) UID %d)", i + 1, 1000 + i);
		expect_line(s, want, true);
	}
	unsigned char *blob = malloc(BIG_BINARY);
	pattern_fill(blob, 0, BIG_BINARY);
	CHECK_INT(stream_write(s, blob, BIG_BINARY), ==, 0);
	CHECK_INT(stream_puts(s, "big OK\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	CHECK(s->wbuf == NULL);
	free(blob);
	const char *line;
	size_t len;
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void compress_client(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[1];
	CHECK_INT(stream_start_tls_client(s, d->cli, NULL), ==, 0);
	CHECK_INT(stream_puts(s, "c COMPRESS DEFLATE\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "c OK DEFLATE active", true);
	CHECK_INT(stream_start_deflate(s), ==, 0);
	for (int i = 0; i < 50; i++) {
		CHECK_INT(stream_printf(s, "small %d\r\n", i), ==, 0);
		if (i % 7 == 0)
			CHECK_INT(stream_flush(s), ==, 0);
	}
	CHECK_INT(stream_flush(s), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);	/* an empty flush is harmless */
	expect_line(s, "* 3 EXISTS", true);
	/* One large write: compressed on the pool in chunks. */
	size_t len;
	char *text = numbered_lines(BIG_LINES, &len);
	CHECK_INT(stream_write(s, text, len), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	free(text);
	unsigned char *got = malloc(BIG_BINARY), *want = malloc(BIG_BINARY);
	pattern_fill(want, 0, BIG_BINARY);
	CHECK_INT(stream_read_exact(s, got, BIG_BINARY), ==, 0);
	CHECK_MEM(got, want, BIG_BINARY);
	expect_line(s, "big OK", true);
	free(got);
	free(want);
	CHECK_INT(stream_shutdown(s), ==, 0);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(deflate_over_tls_round_trip)
{
	struct tls_case tc = { 0 };
	struct duo d = { 0 };
	tls_case_setup(&tc, &d, false);
	duo_run(&d, compress_server, compress_client);
	tls_case_teardown(&tc, &d);
}

/* --- Reference counting across a reload ---------------------------------- */

static struct reload {
	struct tls_config *cli;
	int clients_done;
} reload_state;

static void reload_client(void *arg)
{
	struct stream *s = arg;
	CHECK_INT(stream_start_tls_client(s, reload_state.cli, NULL), ==, 0);
	CHECK_INT(stream_puts(s, "ping\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	expect_line(s, "pong", true);
	stream_free(&s);
	reload_state.clients_done++;
}

static void reload_serve(struct stream **s)
{
	expect_line(*s, "ping", true);
	CHECK_INT(stream_puts(*s, "pong\r\n"), ==, 0);
	CHECK_INT(stream_flush(*s), ==, 0);
	stream_free(s);
}

static void reload_main(void *arg)
{
	struct cert_dir *certs = arg;
	struct duo a = { 0 }, b = { 0 };
	duo_open(&a);
	duo_open(&b);
	reload_state.cli = client_config(NULL, false);
	struct tls_config *cfg = server_config(certs);
	CHECK_INT(tls__config_live(), ==, 2);
	coro_spawn(reload_client, a.s[1], 0);
	CHECK_INT(stream_start_tls_server(a.s[0], cfg), ==, 0);
	/* SIGHUP: drop the old config, load a new one. Session a keeps the
	 * old one alive. */
	tls_config_unref(&cfg);
	CHECK(cfg == NULL);
	CHECK_INT(tls__config_live(), ==, 2);
	cfg = server_config(certs);
	CHECK_INT(tls__config_live(), ==, 3);
	coro_spawn(reload_client, b.s[1], 0);
	CHECK_INT(stream_start_tls_server(b.s[0], cfg), ==, 0);
	reload_serve(&b.s[0]);
	CHECK_INT(tls__config_live(), ==, 3);
	reload_serve(&a.s[0]);
	CHECK_INT(tls__config_live(), ==, 2);	/* the old one is gone */
	while (reload_state.clients_done < 2)
		coro_sleep(5);
	tls_config_unref(&cfg);
	tls_config_unref(&reload_state.cli);
	CHECK_INT(tls__config_live(), ==, 0);
}

TEST(tls_config_survives_reload)
{
	struct cert_dir certs;
	cert_make(&certs, false);
	rt_start();
	CHECK(coro_spawn(reload_main, &certs, 0) != NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	CHECK_INT(reload_state.clients_done, ==, 2);
	rt_finish();
	cert_remove(&certs);
}

/* --- Memory of idle sessions ----------------------------------------------- */

#define IDLE_N 16

struct idle {
	struct tls_config *srv, *cli;
	struct coro_event ev;
	int ready;
	int release;	/* 1: clients go, 2: servers go too */
	int gone;
};

static void idle_side(struct idle *id, struct stream *s, bool server)
{
	if (server) {
		CHECK_INT(stream_start_tls_server(s, id->srv), ==, 0);
		expect_line(s, "a NOOP", true);
		CHECK_INT(stream_puts(s, "a OK\r\n"), ==, 0);
	} else {
		CHECK_INT(stream_start_tls_client(s, id->cli, NULL), ==, 0);
		CHECK_INT(stream_puts(s, "a NOOP\r\n"), ==, 0);
		CHECK_INT(stream_flush(s), ==, 0);
		expect_line(s, "a OK", true);
	}
	CHECK_INT(stream_flush(s), ==, 0);
	id->ready++;
	while (id->release < (server ? 2 : 1))
		coro_event_wait(&id->ev, CORO_NO_DEADLINE);
	stream_free(&s);
	id->gone++;
}

static struct idle idle_state;

static void idle_server(void *arg)
{
	idle_side(&idle_state, arg, true);
}

static void idle_client(void *arg)
{
	idle_side(&idle_state, arg, false);
}

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

static void idle_main(void *arg)
{
	struct idle *id = &idle_state;
	for (int i = 0; i < IDLE_N; i++) {
		struct duo p = { 0 };
		duo_open(&p);
		coro_spawn(idle_server, p.s[0], 0);
		coro_spawn(idle_client, p.s[1], 0);
	}
	while (id->ready < 2 * IDLE_N)
		coro_sleep(5);
	coro_sleep(20);
	size_t both = heap_in_use();
	id->release = 1;
	coro_event_notify_all(&id->ev);
	while (id->gone < IDLE_N)
		coro_sleep(5);
	coro_sleep(20);	/* close callbacks free the socket layers */
	size_t servers = heap_in_use();
	id->release = 2;
	coro_event_notify_all(&id->ev);
	while (id->gone < 2 * IDLE_N)
		coro_sleep(5);
	coro_sleep(20);
	size_t none = heap_in_use();
	size_t per_server = (servers - none) / IDLE_N;
	size_t per_client = (both - servers) / IDLE_N;
	printf("idle TLS stream heap: server %zu bytes, client %zu bytes "
	       "(struct stream %zu)\n", per_server, per_client, sizeof(struct stream));
	if (measurements_valid()) {
		/* Two mbedTLS record buffers (2 x 16,717) plus under 4 KB. */
		CHECK_INT(per_server, <, 38 * 1024);
		CHECK_INT(per_server, >, 33 * 1024);
	}
}

TEST(tls_idle_session_memory)
{
	struct cert_dir certs;
	cert_make(&certs, false);
	coro_event_init(&idle_state.ev);
	idle_state.srv = server_config(&certs);
	idle_state.cli = client_config(NULL, false);
	rt_start();
	CHECK(coro_spawn(idle_main, NULL, 0) != NULL);
	uv_run(&test_loop, UV_RUN_DEFAULT);
	CHECK_INT(idle_state.gone, ==, 2 * IDLE_N);
	rt_finish();
	tls_config_unref(&idle_state.srv);
	tls_config_unref(&idle_state.cli);
	cert_remove(&certs);
}
