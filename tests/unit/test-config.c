/* sealmail.toml into struct config: the manual's full example, defaults,
 * and each kind of error with its exact "FILE:LINE: ..." message. Files
 * are written into a mkdtemp() directory per test. */
#include "tests/unit/test.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "src/config.h"

static char dir[64];
static char file[128];

static void cleanup(void)
{
	unlink(file);
	rmdir(dir);
}

#define LTEST(name)                                                            \
	static void name##_body(void);                                         \
	TEST(name)                                                             \
	{                                                                      \
		snprintf(dir, sizeof(dir), "/tmp/test-config.XXXXXX");         \
		CHECK(mkdtemp(dir) != NULL);                                   \
		snprintf(file, sizeof(file), "%s/sealmail.toml", dir);         \
		name##_body();                                                 \
		cleanup();                                                     \
	}                                                                      \
	static void name##_body(void)

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK_INT(fwrite(text, 1, len, f), ==, len);
	CHECK_INT(fclose(f), ==, 0);
}

static struct config *load_ok_at(const char *src, int line, const char *text)
{
	struct config *cfg = (void *)1;
	char *error = NULL;

	write_text(file, text, strlen(text));
	int r = config_load(file, NULL, &cfg, &error);
	if (r != 0 || cfg == NULL)
		test_fail(src, line, "config_load: %d %s", r,
			  error ? error : "(no message)");
	CHECK(error == NULL);
	return cfg;
}
#define LOAD_OK(text) load_ok_at(__FILE__, __LINE__, (text))

/* expected is the message after the file name: ":3: unknown key 'x'". */
static void load_err_at(const char *src, int line, const char *text,
			const char *expected)
{
	struct config *cfg = (void *)1;
	char *error = NULL, want[512];

	snprintf(want, sizeof(want), "%s%s", file, expected);
	write_text(file, text, strlen(text));
	int r = config_load(file, NULL, &cfg, &error);
	if (r == 0)
		test_fail(src, line, "loaded, expected \"%s\"", want);
	if (cfg != NULL)
		test_fail(src, line, "cfg not NULL on error");
	if (error == NULL || strcmp(error, want) != 0)
		test_fail(src, line, "error \"%s\", expected \"%s\"",
			  error ? error : "(null)", want);
	free(error);
}
#define LOAD_ERR(text, expected) load_err_at(__FILE__, __LINE__, (text), (expected))

static const char full_doc[] =
	"[tls]\n"					/* 1 */
	"private_key = \"tls/key.pem\"\n"
	"certificate_chain = \"/etc/ssl/chain.pem\"\n"
	"\n"
	"[identification]\n"				/* 5 */
	"vendor = \"Example Company\"\n"
	"support_url = \"mailto:it@example.com\"\n"
	"address = \"1313 Dead End Dr\"\n"
	"\n"
	"[security]\n"					/* 10 */
	"chroot_system = true\n"
	"system_user = \"sealmail\"\n"
	"\n"
	"[smtp]\n"
	"host_name = \"mx.example.net\"\n"		/* 15 */
	"keep_recipient_domain = true\n"
	"verbatim_user_names = true\n"
	"reject_dmarc_failures = true\n"
	"verbose_outbound_tls = true\n"
	"\n"						/* 20 */
	"[smtp.domains.\"example.com\"]\n"
	"dkim.selector2 = \"ed25519:13SSM\"\n"
	"dkim.selector1 = \"rsa:MIQU2whmZwg\"\n"
	"\n"
	"[smtp.domains.\"Example.ORG\"]\n"		/* 25 */
	"\n"
	"[listen]\n"
	"imaps       = [\"0.0.0.0:993\", \"[::]:993\"]\n"
	"imap        = [\"127.0.0.1:143\"]\n"
	"smtp        = [\"0.0.0.0:25\"]\n"		/* 30 */
	"submissions = [\"0.0.0.0:465\"]\n"
	"submission  = [\n"
	"  \"0.0.0.0:587\",   # v4\n"
	"  \"[::1]:587\",\n"
	"]\n"						/* 35 */
	"lmtp        = [\"unix:/run/sealmail/lmtp.sock\"]\n"
	"admin       = \"unix:/run/sealmail/admin.sock\"\n"
	"max_connections = 1_000\n"
	"max_connections_per_ip = 0x20\n"
	"imap_idle_timeout = 600\n"			/* 40 */
	"smtp_idle_timeout = 60\n"
	"shutdown_grace = 0\n"
	"\n"
	"[dns]\n"
	"servers = [\"127.0.0.1:5353\", \"::1\"]\n"	/* 45 */
	"\n"
	"[log]\n"
	"level = \"debug\"\n"
	"target = \"syslog\"\n"
	"\n"						/* 50 */
	"[diagnostic]\n"
	"stderr = \"stderr.log\"\n";

static char *in_dir(const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

LTEST(full_example)
{
	struct config *cfg = LOAD_OK(full_doc);

	CHECK_STR(cfg->path, file);
	CHECK_STR(cfg->root, dir);
	CHECK_STR(cfg->tls_private_key, in_dir("tls/key.pem"));
	CHECK_STR(cfg->tls_certificate_chain, "/etc/ssl/chain.pem");

	CHECK_INT(cfg->identification_count, ==, 3);
	CHECK_STR(cfg->identification[0].key, "vendor");
	CHECK_STR(cfg->identification[0].value, "Example Company");
	CHECK_STR(cfg->identification[1].key, "support-url");
	CHECK_STR(cfg->identification[1].value, "mailto:it@example.com");
	CHECK_STR(cfg->identification[2].key, "address");

	CHECK(cfg->chroot_system);
	CHECK_STR(cfg->system_user, "sealmail");
	CHECK_STR(cfg->smtp_host_name, "mx.example.net");
	CHECK(cfg->keep_recipient_domain && cfg->verbatim_user_names);
	CHECK(cfg->reject_dmarc_failures && cfg->verbose_outbound_tls);

	CHECK_INT(cfg->smtp_domain_count, ==, 2);
	struct config_smtp_domain *d = &cfg->smtp_domains[0];
	CHECK_STR(d->name, "example.com");
	CHECK_INT(d->dkim_count, ==, 2);
	/* Sorted by selector, as the manual says keys sign in that order. */
	CHECK_STR(d->dkim[0].selector, "selector1");
	CHECK_STR(d->dkim[0].value, "rsa:MIQU2whmZwg");
	CHECK_STR(d->dkim[1].selector, "selector2");
	CHECK_STR(d->dkim[1].value, "ed25519:13SSM");
	CHECK_STR(cfg->smtp_domains[1].name, "example.org");
	CHECK_INT(cfg->smtp_domains[1].dkim_count, ==, 0);

	CHECK_INT(cfg->listen_imaps.count, ==, 2);
	CHECK_STR(cfg->listen_imaps.items[0], "0.0.0.0:993");
	CHECK_STR(cfg->listen_imaps.items[1], "[::]:993");
	CHECK_STR(cfg->listen_imap.items[0], "127.0.0.1:143");
	CHECK_STR(cfg->listen_smtp.items[0], "0.0.0.0:25");
	CHECK_STR(cfg->listen_submissions.items[0], "0.0.0.0:465");
	CHECK_INT(cfg->listen_submission.count, ==, 2);
	CHECK_STR(cfg->listen_submission.items[1], "[::1]:587");
	CHECK_STR(cfg->listen_lmtp.items[0], "unix:/run/sealmail/lmtp.sock");
	CHECK_STR(cfg->listen_admin, "unix:/run/sealmail/admin.sock");
	CHECK_INT(cfg->max_connections, ==, 1000);
	CHECK_INT(cfg->max_connections_per_ip, ==, 32);
	CHECK_INT(cfg->imap_idle_timeout, ==, 600);
	CHECK_INT(cfg->smtp_idle_timeout, ==, 60);
	CHECK_INT(cfg->shutdown_grace, ==, 0);

	CHECK_INT(cfg->dns_servers.count, ==, 2);
	CHECK_STR(cfg->dns_servers.items[0], "127.0.0.1:5353");
	CHECK_STR(cfg->dns_servers.items[1], "::1");
	CHECK_INT(cfg->log_level, ==, LOG_DEBUG);
	CHECK_INT(cfg->log_target, ==, LOG_TARGET_SYSLOG);
	CHECK_STR(cfg->diagnostic_stderr, in_dir("stderr.log"));
	config_free(&cfg);
	CHECK(cfg == NULL);
	config_free(&cfg);
	config_free(NULL);
}

LTEST(defaults)
{
	char admin[256];
	struct config *cfg = LOAD_OK("# nothing set\n");

	snprintf(admin, sizeof(admin), "unix:%s/admin.sock", dir);
	CHECK_STR(cfg->root, dir);
	CHECK_STR(cfg->listen_admin, admin);
	CHECK_INT(cfg->listen_imaps.count + cfg->listen_imap.count +
			  cfg->listen_smtp.count + cfg->listen_submissions.count +
			  cfg->listen_submission.count + cfg->listen_lmtp.count,
		  ==, 0);
	CHECK(cfg->listen_imap.items == NULL);
	CHECK_INT(cfg->max_connections, ==, 20000);
	CHECK_INT(cfg->max_connections_per_ip, ==, 200);
	CHECK_INT(cfg->max_connection_rate_per_ip, ==, 600);
	CHECK_INT(cfg->max_messages_per_ip_per_hour, ==, 0);
	CHECK_INT(cfg->imap_idle_timeout, ==, 1800);
	CHECK_INT(cfg->smtp_idle_timeout, ==, 300);
	CHECK_INT(cfg->shutdown_grace, ==, 10);
	CHECK(cfg->tls_private_key == NULL && cfg->tls_certificate_chain == NULL);
	CHECK(!cfg->chroot_system);
	CHECK_STR(cfg->system_user, "");
	CHECK_INT(cfg->identification_count, ==, 0);
	CHECK_STR(cfg->smtp_host_name, "");
	CHECK(!cfg->keep_recipient_domain && !cfg->verbatim_user_names);
	CHECK(!cfg->reject_dmarc_failures && !cfg->verbose_outbound_tls);
	CHECK_INT(cfg->smtp_domain_count, ==, 0);
	CHECK_INT(cfg->dns_servers.count, ==, 0);
	CHECK_INT(cfg->log_target, ==, LOG_TARGET_STDERR);
	CHECK_INT(cfg->log_level, ==, LOG_INFO);
	CHECK(cfg->diagnostic_stderr == NULL);
	config_free(&cfg);
}

/* The manual's defaults, written out, with its `stderr = null`; null
 * anywhere means "not set". */
LTEST(manual_defaults_and_null)
{
	struct config *cfg = LOAD_OK(
		"[identification]\nvendor = null\n"
		"[security]\nchroot_system = false\nsystem_user = null\n"
		"[lmtp]\nhost_name = \"\"\nkeep_recipient_domain = false\n"
		"[lmtp.domains.\"example.com\"]\n"
		"[log]\nlevel = null\n"
		"[diagnostic]\nstderr = null\n");

	CHECK_INT(cfg->identification_count, ==, 0);
	CHECK_STR(cfg->system_user, "");
	CHECK_INT(cfg->smtp_domain_count, ==, 1);
	CHECK_STR(cfg->smtp_domains[0].name, "example.com");
	CHECK_INT(cfg->log_level, ==, LOG_INFO);
	CHECK(cfg->diagnostic_stderr == NULL);
	config_free(&cfg);
}

LTEST(root_argument_and_relative_paths)
{
	struct config *cfg = (void *)1;
	char *error = NULL, cwd[PATH_MAX], want[PATH_MAX + 64];

	const char *text = "[tls]\nprivate_key = './k.pem'\ncertificate_chain = 'c.pem'\n"
			   "[listen]\nimaps = ['127.0.0.1:993']\n";
	write_text(file, text, strlen(text));
	CHECK_INT(config_load(file, "/srv/mail/", &cfg, &error), ==, 0);
	CHECK_STR(cfg->root, "/srv/mail");
	CHECK_STR(cfg->listen_admin, "unix:/srv/mail/admin.sock");
	/* [tls] paths follow the file, not ROOT. */
	CHECK_STR(cfg->tls_private_key, in_dir("k.pem"));
	CHECK_STR(cfg->tls_certificate_chain, in_dir("c.pem"));
	config_free(&cfg);

	/* A relative file name and root are made absolute. */
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_INT(chdir(dir), ==, 0);
	CHECK_INT(config_load("sealmail.toml", "data", &cfg, &error), ==, 0);
	CHECK_STR(cfg->path, "sealmail.toml");
	snprintf(want, sizeof(want), "%s/data", dir);
	CHECK_STR(cfg->root, want);
	CHECK_STR(cfg->tls_private_key, in_dir("k.pem"));
	config_free(&cfg);
	CHECK_INT(config_load("./sealmail.toml", NULL, &cfg, &error), ==, 0);
	CHECK_STR(cfg->root, dir);
	config_free(&cfg);
	CHECK_INT(chdir(cwd), ==, 0);
}

LTEST(lmtp_is_smtp)
{
	struct config *cfg = LOAD_OK("[lmtp]\nhost_name = \"old.example\"\n"
				     "[lmtp.domains.a]\ndkim.s = 'rsa:AAAA'\n");
	CHECK_STR(cfg->smtp_host_name, "old.example");
	CHECK_STR(cfg->smtp_domains[0].dkim[0].selector, "s");
	config_free(&cfg);
	LOAD_ERR("[smtp]\nhost_name = 'a'\n[lmtp]\nhost_name = 'b'\n",
		 ":3: [lmtp] is the old name of [smtp]: use only one of them");
	LOAD_ERR("[lmtp]\nbogus = 1\n", ":2: unknown key 'lmtp.bogus'");
}

LTEST(unknown_keys)
{
	LOAD_ERR("[security]\nchroot_system = true\nchroot = true\n",
		 ":3: unknown key 'security.chroot'");
	LOAD_ERR("x = 1\n", ":1: unknown key 'x'");
	LOAD_ERR("[tls]\n\n[bogus]\nk = 1\n", ":3: unknown section '[bogus]'");
	LOAD_ERR("[listen.extra]\n", ":1: unknown key 'listen.extra'");
	LOAD_ERR("[smtp.domains.\"a.com\"]\ndkim.s = 'rsa:x'\nfoo = 1\n",
		 ":3: unknown key 'smtp.domains.\"a.com\".foo'");
	LOAD_ERR("[smtp]\ndomain.x = 1\n", ":2: unknown key 'smtp.domain'");
	/* The lowest line wins. */
	LOAD_ERR("[log]\nlevel = 'info'\nlvl = 1\n[tls]\nkey = 1\n",
		 ":3: unknown key 'log.lvl'");
}

LTEST(wrong_types)
{
	LOAD_ERR("[tls]\nprivate_key = 5\n",
		 ":2: key 'tls.private_key': expected a string");
	LOAD_ERR("[tls]\nprivate_key = ''\n",
		 ":2: key 'tls.private_key': expected a file name");
	LOAD_ERR("[security]\nchroot_system = \"yes\"\n",
		 ":2: key 'security.chroot_system': expected a boolean");
	LOAD_ERR("[listen]\nmax_connections = '10'\n",
		 ":2: key 'listen.max_connections': expected an integer");
	LOAD_ERR("[listen]\nimaps = \"0.0.0.0:993\"\n",
		 ":2: key 'listen.imaps': expected an array of strings");
	LOAD_ERR("[listen]\nimaps = [\n\"0.0.0.0:993\",\n993]\n",
		 ":4: key 'listen.imaps': expected an array of strings");
	LOAD_ERR("[listen]\nadmin = ['unix:/a']\n",
		 ":2: key 'listen.admin': expected a string");
	LOAD_ERR("tls = 'x'\n", ":1: key 'tls': expected a table");
	LOAD_ERR("[identification]\nvendor.x = 'a'\n",
		 ":2: key 'identification.vendor': expected a string");
	LOAD_ERR("[smtp]\ndomains = ['a.com']\n",
		 ":2: key 'smtp.domains': expected a table");
	LOAD_ERR("[smtp.domains]\n'a.com' = 1\n",
		 ":2: key 'smtp.domains.\"a.com\"': expected a table");
	LOAD_ERR("[smtp.domains.'a.com']\ndkim = 'rsa:x'\n",
		 ":2: key 'smtp.domains.\"a.com\".dkim': expected a table");
	LOAD_ERR("[smtp.domains.'a.com']\ndkim.s = 1\n",
		 ":2: key 'smtp.domains.\"a.com\".dkim.s': expected a string");
}

LTEST(integer_ranges)
{
	LOAD_ERR("[listen]\nmax_connections = 0\n",
		 ":2: key 'listen.max_connections': expected an integer from 1 to 1000000");
	LOAD_ERR("[listen]\nshutdown_grace = -1\n",
		 ":2: key 'listen.shutdown_grace': expected an integer from 0 to 3600");
	LOAD_ERR("[listen]\nimap_idle_timeout = 0x7fffffffffffffff\n",
		 ":2: key 'listen.imap_idle_timeout': expected an integer from 1 to 86400");
	LOAD_ERR("[listen]\nsmtp_idle_timeout = 99999999999999999999\n",
		 ":2: key 'listen.smtp_idle_timeout': integer out of range");
	LOAD_ERR("[listen]\nmax_connection_rate_per_ip = 1_000_001\n",
		 ":2: key 'listen.max_connection_rate_per_ip': expected an integer from 0 to 1000000");
	LOAD_ERR("[listen]\nmax_connection_rate_per_ip = -1\n",
		 ":2: key 'listen.max_connection_rate_per_ip': expected an integer from 0 to 1000000");
	LOAD_ERR("[smtp]\nmax_messages_per_ip_per_hour = 10000001\n",
		 ":2: key 'smtp.max_messages_per_ip_per_hour': expected an integer from 0 to "
		 "10000000");
	LOAD_ERR("[smtp]\nmax_messages_per_ip_per_hour = '5'\n",
		 ":2: key 'smtp.max_messages_per_ip_per_hour': expected an integer");
	/* Each belongs to its own section. */
	LOAD_ERR("[smtp]\nmax_connection_rate_per_ip = 5\n",
		 ":2: unknown key 'smtp.max_connection_rate_per_ip'");
	LOAD_ERR("[listen]\nmax_messages_per_ip_per_hour = 5\n",
		 ":2: unknown key 'listen.max_messages_per_ip_per_hour'");
}

/* 0 turns either rate off; the bounds themselves are accepted. */
LTEST(rate_limits)
{
	struct config *cfg = LOAD_OK("[listen]\nmax_connection_rate_per_ip = 0\n"
				     "[smtp]\nmax_messages_per_ip_per_hour = 10_000_000\n");
	CHECK_INT(cfg->max_connection_rate_per_ip, ==, 0);
	CHECK_INT(cfg->max_messages_per_ip_per_hour, ==, 10000000);
	config_free(&cfg);
	cfg = LOAD_OK("[listen]\nmax_connection_rate_per_ip = 1000000\n"
		      "[smtp]\nmax_messages_per_ip_per_hour = 0\n");
	CHECK_INT(cfg->max_connection_rate_per_ip, ==, 1000000);
	CHECK_INT(cfg->max_messages_per_ip_per_hour, ==, 0);
	config_free(&cfg);
	cfg = LOAD_OK("[lmtp]\nmax_messages_per_ip_per_hour = 30\n");
	CHECK_INT(cfg->max_messages_per_ip_per_hour, ==, 30);
	config_free(&cfg);
}

LTEST(listen_addresses)
{
	static const struct {
		const char *addr, *why;
	} bad[] = {
		{ "0.0.0.0:0", "the port must be 1 to 65535" },
		{ "0.0.0.0:65536", "the port must be 1 to 65535" },
		{ "0.0.0.0:-1", "the port must be 1 to 65535" },
		{ "0.0.0.0:", "the port must be 1 to 65535" },
		{ "0.0.0.0:123456", "the port must be 1 to 65535" },
		{ "0.0.0.0", "missing ':PORT'" },
		{ "1.2.3:25", "invalid IPv4 address" },
		{ "256.1.1.1:25", "invalid IPv4 address" },
		{ "localhost:25", "invalid IPv4 address" },
		{ ":25", "invalid IPv4 address" },
		{ "::1:25", "write IPv6 addresses in brackets: [ADDRESS]:PORT" },
		{ "[::1]25", "expected ':PORT' after ']'" },
		{ "[::1]", "missing ':PORT'" },
		{ "[::1:25", "missing ']' after the IPv6 address" },
		{ "[1.2.3.4]:25", "invalid IPv6 address" },
		{ "[]:25", "invalid IPv6 address" },
		{ "unix:run/lmtp.sock", "a unix socket path must be absolute" },
		{ "unix:", "a unix socket path must be absolute" },
		{ "", "empty address" },
	};
	char text[512], want[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[tls]\nprivate_key = 'k'\n"
			 "certificate_chain = 'c'\n[listen]\nsmtp = [\n"
			 "  '127.0.0.1:25',\n  '%s']\n", bad[i].addr);
		snprintf(want, sizeof(want),
			 ":7: key 'listen.smtp': invalid address '%s': %s",
			 bad[i].addr, bad[i].why);
		LOAD_ERR(text, want);
	}
	LOAD_ERR("[listen]\nadmin = '127.0.0.1:4190'\n",
		 ":2: key 'listen.admin': invalid address '127.0.0.1:4190': expected unix:/absolute/path");
	LOAD_ERR("[listen]\nlmtp = [\"unix:/x\\ny\"]\n",
		 ":2: key 'listen.lmtp': invalid address: control characters are not allowed");

	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	snprintf(text, sizeof(text), "[listen]\nlmtp = ['unix:/%s']\n", longpath);
	snprintf(want, sizeof(want),
		 ":2: key 'listen.lmtp': invalid address 'unix:/%s': the path is too long for a unix socket",
		 longpath);
	LOAD_ERR(text, want);

	LOAD_ERR("[tls]\nprivate_key = 'k'\ncertificate_chain = 'c'\n"
		 "[listen]\nimap = ['0.0.0.0:143']\nsubmission = ['0.0.0.0:143']\n",
		 ":6: key 'listen.submission': address '0.0.0.0:143' is already used by listen.imap");
	LOAD_ERR("[listen]\nlmtp = ['unix:/run/x', 'unix:/run/x']\n",
		 ":2: key 'listen.lmtp': address 'unix:/run/x' is already used by listen.lmtp");
	LOAD_ERR("[listen]\nlmtp = ['unix:/run/x']\nadmin = 'unix:/run/x'\n",
		 ":3: key 'listen.admin': address 'unix:/run/x' is already used by listen.lmtp");

	/* Valid forms. */
	struct config *cfg = LOAD_OK(
		"[tls]\nprivate_key = '/k'\ncertificate_chain = '/c'\n"
		"[listen]\nimap = ['1.2.3.4:1', '[fe80::1]:65535', '[::ffff:1.2.3.4]:143',"
		" 'unix:/run/imap.sock']\n");
	CHECK_INT(cfg->listen_imap.count, ==, 4);
	config_free(&cfg);
}

LTEST(tls_requirements)
{
	const char *why = "needs TLS: set tls.private_key and tls.certificate_chain"
			  " (required by every network listener but admin)";
	char want[256];

	snprintf(want, sizeof(want), ":3: key 'listen.imap' %s", why);
	LOAD_ERR("[listen]\nlmtp = ['unix:/run/lmtp']\nimap = ['127.0.0.1:143']\n", want);
	/* Implicit TLS needs the keys even on a unix socket. */
	snprintf(want, sizeof(want), ":3: key 'listen.imaps' %s", why);
	LOAD_ERR("[listen]\n\nimaps = ['unix:/run/imaps']\n", want);
	snprintf(want, sizeof(want), ":4: key 'listen.lmtp' %s", why);
	LOAD_ERR("[listen]\nlmtp = [\n'unix:/run/lmtp',\n'127.0.0.1:24']\n", want);
	LOAD_ERR("[tls]\nprivate_key = 'k.pem'\n",
		 ":2: key 'tls.private_key': tls.certificate_chain must be set too");
	LOAD_ERR("[tls]\ncertificate_chain = 'c.pem'\n",
		 ":2: key 'tls.certificate_chain': tls.private_key must be set too");

	/* Unix-socket LMTP and the admin socket alone need no TLS. */
	struct config *cfg = LOAD_OK("[listen]\nlmtp = ['unix:/run/lmtp']\n"
				     "admin = 'unix:/run/admin'\n");
	CHECK(cfg->tls_private_key == NULL);
	config_free(&cfg);
}

LTEST(log_and_dns)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = { { "error", LOG_ERR }, { "warning", LOG_WARNING },
		       { "notice", LOG_NOTICE }, { "info", LOG_INFO },
		       { "debug", LOG_DEBUG } };
	char text[128];

	for (size_t i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "[log]\nlevel = '%s'\ntarget = 'stderr'\n",
			 levels[i].name);
		struct config *cfg = LOAD_OK(text);
		CHECK_INT(cfg->log_level, ==, levels[i].level);
		CHECK_INT(cfg->log_target, ==, LOG_TARGET_STDERR);
		config_free(&cfg);
	}
	LOAD_ERR("[log]\nlevel = 'verbose'\n",
		 ":2: key 'log.level': expected \"error\", \"warning\", \"notice\", \"info\" or \"debug\"");
	LOAD_ERR("[log]\ntarget = 'file'\n",
		 ":2: key 'log.target': expected \"stderr\" or \"syslog\"");

	struct config *cfg = LOAD_OK("[dns]\nservers = ['127.0.0.1', '[::1]:5353', '10.0.0.1:53']\n");
	CHECK_INT(cfg->dns_servers.count, ==, 3);
	CHECK_STR(cfg->dns_servers.items[1], "[::1]:5353");
	config_free(&cfg);
	LOAD_ERR("[dns]\nservers = ['unix:/run/dns']\n",
		 ":2: key 'dns.servers': invalid address 'unix:/run/dns': DNS servers cannot be unix sockets");
	LOAD_ERR("[dns]\nservers = ['ns1.example:53']\n",
		 ":2: key 'dns.servers': invalid address 'ns1.example:53': invalid IPv4 address");
	LOAD_ERR("[dns]\nservers = '127.0.0.1'\n",
		 ":2: key 'dns.servers': expected an array of strings");
}

LTEST(identification)
{
	struct config *cfg = LOAD_OK("[identification]\nname = 'sealmail'\n"
				     "\"support-url\" = 'https://example.com/'\n"
				     "os_version = ''\n");
	CHECK_INT(cfg->identification_count, ==, 3);
	CHECK_STR(cfg->identification[1].key, "support-url");
	CHECK_STR(cfg->identification[2].key, "os-version");
	CHECK_STR(cfg->identification[2].value, "");
	config_free(&cfg);

	LOAD_ERR("[identification]\nsupport_url = 'a'\n\"Support-URL\" = 'b'\n",
		 ":3: key 'identification.Support-URL': 'support-url' is already set");
	LOAD_ERR("[identification]\nthis_name_is_much_longer_than_thirty = 'a'\n",
		 ":2: key 'identification.this_name_is_much_longer_than_thirty': names are 1 to 30 printable ASCII characters (RFC 2971)");
	LOAD_ERR("[identification]\nvendor = \"a\\nb\"\n",
		 ":2: key 'identification.vendor': values are at most 1024 bytes without control characters (RFC 2971)");
	LOAD_ERR("[identification]\nvendor = 1\n",
		 ":2: key 'identification.vendor': expected a string");
}

LTEST(smtp_domains)
{
	LOAD_ERR("[smtp.domains.'a.com']\n[smtp.domains.'A.com']\n",
		 ":2: key 'smtp.domains.\"A.com\"': domain 'a.com' is already configured");
	LOAD_ERR("[smtp.domains.'bad_domain.com']\n",
		 ":1: key 'smtp.domains.\"bad_domain.com\"': invalid domain name (use the xn-- form for international names)");
	LOAD_ERR("[smtp.domains.'a..com']\n",
		 ":1: key 'smtp.domains.\"a..com\"': invalid domain name (use the xn-- form for international names)");
	LOAD_ERR("[smtp.domains.'-a.com']\n",
		 ":1: key 'smtp.domains.\"-a.com\"': invalid domain name (use the xn-- form for international names)");
	LOAD_ERR("[smtp.domains.'a.com']\ndkim.s1 = 'dsa:AAAA'\n",
		 ":2: key 'smtp.domains.\"a.com\".dkim.s1': expected \"rsa:BASE64\" or \"ed25519:BASE64\"");
	LOAD_ERR("[smtp.domains.'a.com']\ndkim.s1 = 'rsa:'\n",
		 ":2: key 'smtp.domains.\"a.com\".dkim.s1': expected \"rsa:BASE64\" or \"ed25519:BASE64\"");
	LOAD_ERR("[smtp.domains.'a.com']\ndkim.'bad sel' = 'rsa:AAAA'\n",
		 ":2: key 'smtp.domains.\"a.com\".dkim.\"bad sel\"': invalid DKIM selector");

	struct config *cfg = LOAD_OK(
		"[smtp.domains]\n"
		"'b.example' = { dkim = { z = 'rsa:Z', '2024_a' = 'ed25519:A', m = 'rsa:M' } }\n"
		"'xn--bcher-kva.example' = {}\n");
	CHECK_INT(cfg->smtp_domain_count, ==, 2);
	struct config_smtp_domain *d = &cfg->smtp_domains[0];
	CHECK_INT(d->dkim_count, ==, 3);
	CHECK_STR(d->dkim[0].selector, "2024_a");
	CHECK_STR(d->dkim[1].selector, "m");
	CHECK_STR(d->dkim[2].selector, "z");
	CHECK_STR(cfg->smtp_domains[1].name, "xn--bcher-kva.example");
	config_free(&cfg);
}

LTEST(toml_errors_pass_through)
{
	LOAD_ERR("[tls]\n\nprivate_key = \"abc\n", ":3: key 'tls.private_key': unterminated string");
	LOAD_ERR("[tls]\nprivate_key = \"a\\qb\"\n",
		 ":2: key 'tls.private_key': invalid escape sequence '\\q'");
	LOAD_ERR("[log]\nlevel = 'info'\nlevel = 'debug'\n",
		 ":3: key 'log.level' is already defined (line 2)");
	LOAD_ERR("[log]\n[security]\n[log]\n", ":3: table 'log' is already defined (line 1)");
	LOAD_ERR("[listen]\nmax_connections = 18446744073709551616\n",
		 ":2: key 'listen.max_connections': integer out of range");
	LOAD_ERR("[security]\nsystem_user = 'm\xe9'\n", ":2: invalid UTF-8");
	LOAD_ERR("[security]\nsystem_user = 'a\x01'\n",
		 ":2: key 'security.system_user': control character U+0001 in string");
	LOAD_ERR("[security]\nchroot_system\n", ":2: expected '=' after key 'chroot_system'");
}

LTEST(file_errors)
{
	struct config *cfg = (void *)1;
	char *error = NULL, want[256];

	snprintf(want, sizeof(want), "%s/missing.toml: No such file or directory", dir);
	CHECK_INT(config_load(in_dir("missing.toml"), NULL, &cfg, &error), ==, -ENOENT);
	CHECK(cfg == NULL);
	CHECK_STR(error, want);
	free(error);

	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	CHECK_INT(config_load(dir, NULL, &cfg, &error), ==, -EISDIR);
	CHECK_STR(error, want);
	free(error);

	size_t big = 1024 * 1024 + 1;
	char *text = malloc(big);
	memset(text, '\n', big);
	write_text(file, text, big);
	free(text);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", file);
	CHECK_INT(config_load(file, NULL, &cfg, &error), ==, -EFBIG);
	CHECK_STR(error, want);
	free(error);
}

LTEST(default_admin_too_long)
{
	struct config *cfg = (void *)1;
	char *error = NULL, root[160], want[512];

	write_text(file, "", 0);
	memset(root, 'r', sizeof(root) - 1);
	root[0] = '/';
	root[sizeof(root) - 1] = '\0';
	snprintf(want, sizeof(want),
		 "%s: the default listen.admin 'unix:%s/admin.sock' is too long for a unix socket: set listen.admin",
		 file, root);
	CHECK_INT(config_load(file, root, &cfg, &error), ==, -EINVAL);
	CHECK_STR(error, want);
	free(error);
}

/* Every strict prefix of the full example loads or fails cleanly. */
LTEST(every_prefix)
{
	size_t len = strlen(full_doc);

	for (size_t n = 0; n < len; n++) {
		struct config *cfg = (void *)1;
		char *error = NULL;
		write_text(file, full_doc, n);
		int r = config_load(file, NULL, &cfg, &error);
		if (r == 0) {
			CHECK(cfg != NULL && error == NULL);
			config_free(&cfg);
		} else {
			CHECK(cfg == NULL);
			CHECK(error != NULL && strncmp(error, file, strlen(file)) == 0);
			CHECK(strchr(error, '\n') == NULL);
			free(error);
		}
	}
}
