/* mailauth-check: runs sealmail's SPF, DKIM and DMARC checks
 * (protocols/mailauth/) on one message read from stdin, with the real DNS
 * code, and prints the header block they make, then one line per result:
 *
 *   mailauth-check --ip IP [--helo NAME] [--from ADDR] [--receiver NAME]
 *                  [--dns HOST:PORT]... [--budget MS] [--chunk N]
 *
 *   Authentication-Results: ...
 *   Received-SPF: ...
 *   spf=pass dkim=pass dmarc=fail policy=reject reject=yes
 *
 * --from "" is the null reverse path. --chunk feeds the message in chunks
 * of N bytes (default 4096), as SMTP would. --budget sets the DNS time
 * budget of each phase. Exit status 0, 2 on bad usage or set-up failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "coro/coro.h"
#include "protocols/mailauth/mailauth-private.h"
#include "src/config.h"
#include "src/util/buf.h"
#include "src/util/limits.h"

struct job {
	struct mailauth_input in;
	struct buf msg;
	size_t chunk;
	int status;
};

static void run(void *arg)
{
	struct job *j = arg;
	struct mailauth *ma;
	struct mailauth_result res;

	mailauth_begin(&j->in, &ma);
	for (size_t off = 0; off < j->msg.len; off += j->chunk) {
		size_t n = j->msg.len - off < j->chunk ? j->msg.len - off : j->chunk;
		mailauth_feed(ma, j->msg.data + off, n);
	}
	mailauth_finish(ma, &res);
	fputs(res.header_block, stdout);
	printf("spf=%s dkim=%s dmarc=%s policy=%s reject=%s\n", mailauth_spf_name(res.spf),
	       mailauth_dkim_name(res.dkim), mailauth_dmarc_name(res.dmarc),
	       mailauth_policy_name(res.policy), res.dmarc_reject ? "yes" : "no");
	mailauth_result_free(&res);
	mailauth_free(&ma);
	mailauth_global_shutdown();
	j->status = 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: mailauth-check --ip IP [--helo NAME] [--from ADDR] "
			"[--receiver NAME] [--dns HOST:PORT]... [--budget MS] [--chunk N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct job j = { .in = { .helo = "", .mail_from = "", .receiver = "mx.test" },
			 .msg = BUF_INIT(SEAL_MAX_MESSAGE), .chunk = 4096, .status = 2 };
	char *servers[16];
	size_t nservers = 0;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!val)
			return usage();
		i++;
		if (strcmp(opt, "--ip") == 0)
			j.in.client_ip = val;
		else if (strcmp(opt, "--helo") == 0)
			j.in.helo = val;
		else if (strcmp(opt, "--from") == 0)
			j.in.mail_from = val;
		else if (strcmp(opt, "--receiver") == 0)
			j.in.receiver = val;
		else if (strcmp(opt, "--dns") == 0 && nservers < 16)
			servers[nservers++] = (char *)val;
		else if (strcmp(opt, "--budget") == 0)
			mailauth__set_time_budget((unsigned)atoi(val));
		else if (strcmp(opt, "--chunk") == 0 && atoi(val) > 0)
			j.chunk = (size_t)atoi(val);
		else
			return usage();
	}
	if (!j.in.client_ip)
		return usage();

	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), stdin)) > 0) {
		if (buf_append(&j.msg, tmp, n) < 0) {
			fprintf(stderr, "mailauth-check: message too big\n");
			return 2;
		}
	}

	uv_loop_t loop;
	uv_loop_init(&loop);
	coro_runtime_init(&loop);
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.dns_servers.items = servers;
	cfg.dns_servers.count = nservers;
	const char *err;
	if (mailauth_global_init(&cfg, &err) < 0) {
		fprintf(stderr, "mailauth-check: %s\n", err);
		return 2;
	}
	coro_spawn(run, &j, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	buf_free(&j.msg);
	return j.status;
}
