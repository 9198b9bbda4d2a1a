/* sealmail-bench smtp: delivery throughput over LMTP or SMTP.
 *
 *   sealmail-bench smtp --target unix:PATH|HOST:PORT [--lmtp]
 *       [--senders N] [--size BYTES] [--seconds S] [--warmup S]
 *       [--users U] [--user-prefix P] [--domain D]
 *
 * N senders, each on its own connection, send messages of about BYTES
 * bytes one after the other for warm-up + S seconds: MAIL, RCPT and DATA
 * pipelined in one write, then the body, then the answer (RFC 2920 allows
 * no more for a client that waits for 354). Each message goes to one of U
 * recipients, P<i>@D (default bench0@example.com ...), in turn, so
 * deliveries spread over users as on a real server. Only messages whose
 * final 250 arrives inside the measured window count. Prints one line:
 *
 *   smtp lmtp senders=50 size=10240 messages=1234 seconds=10.0 rate=123.4/s MB/s=1.2
 *
 * Exit status 0, 1 when any answer was not 2xx/3xx (the first is shown).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "coro/connect.h"
#include "coro/coro.h"
#include "coro/stream.h"
#include "src/util/xmalloc.h"

int bench_smtp_main(int argc, char **argv);

struct smtp_bench {
	const char *target, *user_prefix, *domain;
	bool lmtp;
	unsigned senders, users, seconds, warmup;
	size_t size;
	char *body;		/* the message, dot-safe, ending in CRLF */
	size_t body_len;
	int64_t start, stop;	/* measured window, loop clock */
	bool size_ext;		/* the server offers SIZE (Dovecot's LMTP does not) */
	unsigned long messages, errors;
	unsigned next_rcpt, running;
	char first_error[256];
};

static struct smtp_bench sb;

/* A text message of about size bytes: 78-character lines, no line starts
 * with a dot. */
static void make_body(void)
{
	size_t cap = sb.size + 256;
	sb.body = xmalloc(cap);
	int n = snprintf(sb.body, cap, "From: bench@example.org\r\nTo: bench@%s\r\n"
			 "Subject: delivery benchmark\r\nMessage-ID: <bench@example.org>\r\n\r\n",
			 sb.domain);
	size_t len = (size_t)n;
	for (unsigned line = 0; len + 80 <= sb.size || line == 0; line++) {
		for (int i = 0; i < 78; i++)
			sb.body[len++] = (char)('a' + (line * 7 + (unsigned)i) % 26);
		sb.body[len++] = '\r';
		sb.body[len++] = '\n';
	}
	sb.body_len = len;
}

static int connect_target(void)
{
	int64_t deadline = coro_deadline_in(30000);
	if (strncmp(sb.target, "unix:", 5) == 0) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sb.target + 5);
		return coro_connect((struct sockaddr *)&sun, sizeof(sun), deadline);
	}
	char host[64];
	const char *colon = strrchr(sb.target, ':');
	if (!colon || (size_t)(colon - sb.target) >= sizeof(host))
		return -EINVAL;
	memcpy(host, sb.target, (size_t)(colon - sb.target));
	host[colon - sb.target] = '\0';
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -EINVAL;
	return coro_connect((struct sockaddr *)&sin, sizeof(sin), deadline);
}

static void note_error(const char *what)
{
	sb.errors++;
	if (!sb.first_error[0])
		snprintf(sb.first_error, sizeof(sb.first_error), "%s", what);
}

/* Reads one reply, continuation lines included; true when its code is
 * 2xx or 3xx. Notes whether an EHLO/LHLO reply offers SIZE. */
static bool reply_ok(struct stream *s)
{
	const char *line;
	size_t len;
	do {
		if (stream_read_line(s, &line, &len) < 0 || len < 3) {
			note_error("connection lost");
			return false;
		}
		if (len >= 8 && strncmp(line + 4, "SIZE", 4) == 0 && (len == 8 || line[8] == ' '))
			sb.size_ext = true;
	} while (len > 3 && line[3] == '-');
	if (line[0] != '2' && line[0] != '3') {
		note_error(line);
		return false;
	}
	return true;
}

static bool send_message(struct stream *s)
{
	char head[512];
	unsigned u = sb.next_rcpt++ % sb.users;
	char user[128];
	snprintf(user, sizeof(user), "%s%u", sb.user_prefix, u);
	char size[32] = "";
	if (sb.size_ext)
		snprintf(size, sizeof(size), " SIZE=%zu", sb.body_len);
	int n = snprintf(head, sizeof(head),
			 "MAIL FROM:<bench@example.org>%s\r\nRCPT TO:<%s@%s>\r\nDATA\r\n", size,
			 user, sb.domain);
	if (stream_write(s, head, (size_t)n) < 0 || stream_flush(s) < 0)
		return false;
	if (!reply_ok(s) || !reply_ok(s) || !reply_ok(s))
		return false;
	if (stream_write(s, sb.body, sb.body_len) < 0 || stream_puts(s, ".\r\n") < 0 ||
	    stream_flush(s) < 0)
		return false;
	return reply_ok(s);
}

static void sender(void *arg)
{
	int fd = connect_target();
	struct stream *s = NULL;
	if (fd < 0) {
		note_error(strerror(-fd));
		goto out;
	}
	s = stream_new_socket(fd);
	stream_set_timeout(s, 120000);
	char hello[64];
	int n = snprintf(hello, sizeof(hello), "%s bench.example.org\r\n",
			 sb.lmtp ? "LHLO" : "EHLO");
	if (!reply_ok(s) || stream_write(s, hello, (size_t)n) < 0 || stream_flush(s) < 0 ||
	    !reply_ok(s))
		goto out;
	while (coro_now_ms() < sb.stop) {
		if (!send_message(s))
			break;
		int64_t now = coro_now_ms();
		if (now >= sb.start && now < sb.stop)
			sb.messages++;
	}
	stream_puts(s, "QUIT\r\n");
	stream_flush(s);
out:
	stream_free(&s);
	sb.running--;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sealmail-bench smtp --target unix:PATH|HOST:PORT [--lmtp] "
		   "[--senders N] [--size BYTES] [--seconds S] [--warmup S] [--users U] "
		   "[--user-prefix P] [--domain D]\n");
}

int bench_smtp_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "lmtp", no_argument, NULL, 'l' },
		{ "senders", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "users", required_argument, NULL, 'u' },
		{ "user-prefix", required_argument, NULL, 'f' },
		{ "domain", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	sb = (struct smtp_bench){ .user_prefix = "bench", .domain = "example.com", .senders = 1,
				  .users = 1, .seconds = 10, .warmup = 2, .size = 10240 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': sb.target = optarg; break;
		case 'l': sb.lmtp = true; break;
		case 'n': sb.senders = (unsigned)atoi(optarg); break;
		case 's': sb.size = (size_t)atol(optarg); break;
		case 'S': sb.seconds = (unsigned)atoi(optarg); break;
		case 'w': sb.warmup = (unsigned)atoi(optarg); break;
		case 'u': sb.users = (unsigned)atoi(optarg); break;
		case 'f': sb.user_prefix = optarg; break;
		case 'd': sb.domain = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!sb.target || !sb.senders || !sb.users || !sb.seconds || sb.size < 100 ||
	    sb.size > 60 * 1024 * 1024) {
		usage(stderr);
		return 2;
	}
	make_body();
	uv_loop_t *loop = uv_default_loop();
	coro_runtime_init(loop);
	sb.start = coro_now_ms() + (int64_t)sb.warmup * 1000;
	sb.stop = sb.start + (int64_t)sb.seconds * 1000;
	for (unsigned i = 0; i < sb.senders; i++, sb.running++)
		coro_spawn(sender, NULL, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(loop, UV_RUN_DEFAULT);
	double rate = (double)sb.messages / sb.seconds;
	printf("smtp %s senders=%u size=%zu messages=%lu seconds=%u rate=%.1f/s MB/s=%.2f\n",
	       sb.lmtp ? "lmtp" : "smtp", sb.senders, sb.body_len, sb.messages, sb.seconds, rate,
	       rate * (double)sb.body_len / 1e6);
	if (sb.errors)
		fprintf(stderr, "%lu errors; first: %s\n", sb.errors, sb.first_error);
	free(sb.body);
	return sb.errors ? 1 : 0;
}
