/* The store and its registry of open users: references, the reaper that
 * closes a user once its login cache lifetime has passed, shutdown. */
#include "storage/store-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/util/xmalloc.h"

void store_settings_default(struct store_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->login_cache_ms = STORE_LOGIN_CACHE_DEFAULT_MS;
}

int64_t store__clock(void *ctx)
{
	return store_now(ctx);
}

int64_t store_now(const struct store *st)
{
	return st->set.clock ? st->set.clock(st->set.clock_ctx) : (int64_t)time(NULL);
}

bool store_error_is_temporary(int err)
{
	static const int temporary[] = {
		EAGAIN, EBUSY, EINTR, ETIMEDOUT, ENOSPC, EDQUOT, ENOMEM, EMFILE,
		ENFILE, EIO, EROFS, ENOKEY, EUCLEAN, ECANCELED,
	};

	for (size_t i = 0; i < sizeof(temporary) / sizeof(temporary[0]); i++)
		if (err == -temporary[i])
			return true;
	return false;
}

void store__set_error(char **error_r, char *msg)
{
	if (error_r && !*error_r)
		*error_r = msg;
	else
		free(msg);
}

void store_get_stats(const struct store *st, struct store_stats *out)
{
	*out = st->stats;
	out->users_open = 0;
	for (const struct store_user *u = st->users; u; u = u->next)
		out->users_open += u->state == STORE__OPEN;
}

const char *store_user_dir(const struct store_user *u)
{
	return u->dir;
}

/* --- Registry --------------------------------------------------------- */

struct store_user *store__user_find(struct store *st, const char *dir)
{
	for (struct store_user *u = st->users; u; u = u->next)
		if (strcmp(u->dir, dir) == 0)
			return u;
	return NULL;
}

struct store_user *store__user_get(struct store *st, const char *dir)
{
	struct store_user *u = store__user_find(st, dir);
	if (u)
		return u;
	u = xcalloc(1, sizeof(*u));
	u->store = st;
	u->dir = xstrdup(dir);
	u->state = STORE__NEW;
	coro_event_init(&u->changed);
	u->next = st->users;
	st->users = u;
	return u;
}

static void unregister(struct store_user *u)
{
	struct store_user **p = &u->store->users;
	while (*p && *p != u)
		p = &(*p)->next;
	if (*p)
		*p = u->next;
	u->next = NULL;
}

static void user_free(struct store_user *u)
{
	crypto_wipe(u->master, sizeof(u->master));
	crypto_wipe(u->kek, sizeof(u->kek));
	crypto_wipe(u->tag, sizeof(u->tag));
	free(u->dir);
	free(u);
}

void store__user_ref(struct store_user *u)
{
	u->refs++;
}

void store__user_unref(struct store_user *u)
{
	if (u->refs == 0) {
		fprintf(stderr, "store: reference count underflow\n");
		abort();
	}
	if (--u->refs > 0)
		return;
	if (u->state != STORE__OPEN) {
		/* Never opened (failed logins): nothing to close. */
		unregister(u);
		user_free(u);
		return;
	}
	u->idle_deadline = coro_now_ms() + (u->stale ? 0 : u->store->set.login_cache_ms);
	coro_event_notify_all(&u->store->reaper_wake);
}

void store_logout(struct store_user **up)
{
	if (*up)
		store__user_unref(*up);
	*up = NULL;
}

static int close_job(void *arg)
{
	struct store_user *u = arg;
	meta_close(&u->meta);
	store__keys_free(u);
	return 0;
}

/* It stays in the registry while SQLite closes it, so that no login opens
 * the same database meanwhile: closing a handle on a removed meta.sqlite
 * deletes "meta.sqlite-wal" by name, which by then might be the new
 * handle's. */
void store__user_close(struct store_user *u)
{
	u->state = STORE__CLOSING;
	store__lock(&u->lock);
	store__pool(close_job, u);
	store__unlock(&u->lock);
	unregister(u);
	coro_event_notify_all(&u->store->user_closed);
	user_free(u);
}

/* --- Background coroutines, reaper, shutdown ---------------------------- */

static void background_done(struct store *st)
{
	st->background--;
	coro_event_notify_all(&st->bg_done);
	if (st->background == 0 && st->shutdown_waiter) {
		struct coro *c = st->shutdown_waiter;
		st->shutdown_waiter = NULL;
		coro_wake(c, 0);
	}
}

/* Closes users whose cache lifetime is over, then sleeps until the next
 * one is due or a user goes idle. */
static void reaper_run(void *arg)
{
	struct store *st = arg;

	while (!st->stopping) {
		int64_t now = coro_now_ms(), next = CORO_NO_DEADLINE;
		struct store_user *victim = NULL;
		for (struct store_user *u = st->users; u && !victim; u = u->next) {
			if (u->refs > 0 || u->state != STORE__OPEN)
				continue;
			if (u->idle_deadline <= now)
				victim = u;
			else if (u->idle_deadline < next)
				next = u->idle_deadline;
		}
		if (victim)
			store__user_close(victim);
		else
			coro_event_wait(&st->reaper_wake, next);
	}
	background_done(st);
}

void store_set_login_cache_ms(struct store *st, uint32_t ms)
{
	st->set.login_cache_ms = ms;
}

int store_new(const char *users_dir, const struct store_settings *s, struct store **store_r)
{
	struct store *st = xcalloc(1, sizeof(*st));

	st->users_dir = xstrdup(users_dir);
	if (s)
		st->set = *s;
	else
		store_settings_default(&st->set);
	crypto_random(st->secret, sizeof(st->secret));
	coro_event_init(&st->reaper_wake);
	coro_event_init(&st->bg_done);
	coro_event_init(&st->user_closed);
	st->background = 1;
	if (!coro_spawn(reaper_run, st, 0)) {
		crypto_wipe(st->secret, sizeof(st->secret));
		free(st->users_dir);
		free(st);
		return -ENOMEM;
	}
	*store_r = st;
	return 0;
}

/* Spawns fn(arg) as a background coroutine that store_shutdown() waits
 * for; fn calls store__background_done(st) last. */
int store__background_spawn(struct store *st, void (*fn)(void *), void *arg)
{
	if (st->stopping || !coro_spawn(fn, arg, 0))
		return -ECANCELED;
	st->background++;
	return 0;
}

void store__background_done(struct store *st)
{
	background_done(st);
}

int store_close_idle(struct store *st)
{
	int n = 0;
	for (;;) {
		struct store_user *u = st->users;
		while (u && (u->refs > 0 || u->state != STORE__OPEN))
			u = u->next;
		if (!u)
			return n;
		store__user_close(u);
		n++;
	}
}

void store_shutdown(struct store **stp)
{
	struct store *st = *stp;

	if (!st)
		return;
	st->stopping = true;
	coro_event_notify_all(&st->reaper_wake);
	if (st->background > 0) {
		/* Not interruptible: the background work holds pointers into
		 * the store and cannot be abandoned. */
		st->shutdown_waiter = coro_current();
		coro_park(CORO_NO_DEADLINE, false);
	}
	while (st->users) {
		struct store_user *u = st->users;
		if (u->state == STORE__OPEN) {
			store__user_close(u);
		} else {
			unregister(u);
			user_free(u);
		}
	}
	store__deliver_shutdown(st);
	crypto_wipe(st->secret, sizeof(st->secret));
	free(st->users_dir);
	free(st);
	*stp = NULL;
}
