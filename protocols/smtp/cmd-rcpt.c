#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"
#include "protocols/smtp/recipient.h"
#include "protocols/smtp/session.h"
#include "src/iplimit.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/xmalloc.h"
#include "storage/userdir.h"

struct lookup_job {
	const char *users_dir, *name;
	char *dir;
	int r;
};

static void lookup_job(void *arg)
{
	struct lookup_job *j = arg;
	j->r = userdir_lookup(j->users_dir, j->name, &j->dir, NULL);
}

/* The user's canonical directory, looked up on the pool (it touches the
 * file system). */
static int lookup_user(struct smtp_session *s, const char *name, char **dir_r)
{
	struct lookup_job j = { s->conn->server->users_dir, name, NULL, 0 };
	int r = coro_await_work(lookup_job, &j);
	*dir_r = j.dir;
	return r < 0 ? r : j.r;
}

/* Whether refusals from the client's address count: not from a unix
 * socket, nor from the loopback address, where a local proxy in front of
 * the daemon (or the administrator's tools) would make every sender one. */
static bool tarpit_applies(struct smtp_session *s)
{
	const char *ip = s->conn->peer_ip;
	return s->pers->tarpit && ip[0] && !iplimit_is_loopback(ip);
}

/* A sender that guesses addresses waits longer for each answer: the
 * per-IP failure count that slows password guessing (src/iplimit.h). */
static int tarpit(struct smtp_session *s)
{
	struct conn *c = s->conn;
	if (!tarpit_applies(s))
		return 0;
	uint64_t ms = iplimit_auth_delay_ms(c->server->per_ip, c->peer_ip, coro_now_ms());
	return ms ? coro_sleep(ms) : 0;
}

static int refuse(struct smtp_session *s, const struct smtp_path *p, int code,
		  const char *enh, const char *text)
{
	conn_log(s->conn, LOG_INFO, "%s: id=%s rcpt <%s> refused: %d %s %s", s->pers->name,
		 s->txn.id, p->text, code, enh, text);
	if (code == 550 && tarpit_applies(s))
		iplimit_auth_failed(s->conn->server->per_ip, s->conn->peer_ip, coro_now_ms());
	return smtp_reply(s, code, enh, "<%s>: %s", p->text, text);
}

static void add_rcpt(struct smtp_txn *t, const struct smtp_path *p, const char *user, char *dir)
{
	t->rcpts = xrealloc(t->rcpts, (t->n_rcpts + 1) * sizeof(*t->rcpts));
	struct smtp_rcpt *rc = &t->rcpts[t->n_rcpts];
	rc->address = xstrdup(p->text);
	rc->user = xstrdup(user);
	rc->user_dir = dir;
	rc->dup_of = -1;
	rc->result = 0;
	/* An alias and its user, or two spellings of one address: one copy. */
	for (size_t i = 0; i < t->n_rcpts; i++)
		if (t->rcpts[i].dup_of < 0 && strcmp(t->rcpts[i].user_dir, dir) == 0)
			rc->dup_of = (int)i;
	t->n_rcpts++;
}

/* RCPT TO (RFC 5321 4.1.1.3): relay policy, normalisation, and the user
 * must exist now (550 5.1.1 at RCPT, never a bounce later). */
int smtp_cmd_rcpt(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_path p;
	struct smtp_params params;
	struct smtp_refusal why;
	const char *syntax;
	char user[USERDIR_NAME_MAX + 1], *dir = NULL;

	if (!smtp_need_helo(s))
		return 0;
	if (!s->txn.mail)
		return smtp_reply(s, 503, "5.5.1", "Need MAIL before RCPT");
	if (s->txn.bdat)
		return smtp_reply(s, 503, "5.5.1", "RCPT after BDAT");
	if (s->txn.n_rcpts >= SMTP_MAX_RCPTS)
		return smtp_reply(s, 452, "4.5.3", "Too many recipients");
	int r = smtp_parse_mail_rcpt(args, len, "TO", &p, &params, &syntax);
	if (r < 0)
		return smtp_reply(s, 501, "5.1.3", "%s",
				  r == -ENAMETOOLONG ? "Recipient address too long" : syntax);
	r = tarpit(s);
	if (r < 0)
		return r;
	const struct config *cfg = s->conn->server->cfg;
	if (!smtp_recipient_allowed(&p, s->pers->check_domains, cfg->smtp_domains,
				    cfg->smtp_domain_count, s->pers->allow_bare, &why))
		return refuse(s, &p, why.code, why.enh, why.text);
	r = smtp_recipient_user(&p, cfg->keep_recipient_domain, cfg->verbatim_user_names, user,
				sizeof(user));
	if (r == 0)
		r = lookup_user(s, user, &dir);
	if (r == -EINVAL || r == -ENAMETOOLONG || r == -ENOENT)
		return refuse(s, &p, 550, "5.1.1", "No such user here");
	if (r < 0) {
		conn_log(s->conn, LOG_WARNING, "%s: looking up user '%s': %s", s->pers->name, user,
			 strerror(-r));
		free(dir);
		return smtp_reply(s, 451, "4.3.0", "<%s>: Local error, try again later", p.text);
	}
	add_rcpt(&s->txn, &p, user, dir);
	return smtp_reply(s, 250, "2.1.5", "Recipient <%s> OK", p.text);
}
