/* IDLE (RFC 2177; RFC 9051 6.3.13): the client waits for news until it
 * sends DONE.
 *
 * Two things are waited for at once: a line from the client, and a change
 * in the user's store. Only the session's coroutine may use its stream,
 * so it reads; a small watcher coroutine sleeps in store_wait_change()
 * and, when something changes, interrupts that read (coro_interrupt makes
 * it return -EINTR with nothing lost). The session then reports the
 * changes and reads again. A delivery reaches the client within a loop
 * turn or two of being taken in. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "coro/coro.h"
#include "coro/stream.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "src/server.h"
#include "storage/store.h"

/* The watcher only waits on an event: a small stack keeps an idling
 * session cheap (bench: 10,000 sessions in IDLE). */
#define IDLE_WATCHER_STACK (16 * 1024)

struct idle_watch {
	struct store_user *user;
	struct coro *session;	/* the coroutine to wake */
	uint64_t seen;		/* change counter already handled */
	bool changed;		/* set by the watcher, cleared by the session */
	bool stop, done;
	struct coro_event done_ev;
};

static void idle_watcher(void *arg)
{
	struct idle_watch *w = arg;
	while (!w->stop) {
		int r = store_wait_change(w->user, &w->seen, CORO_NO_DEADLINE);
		if (w->stop || (r < 0 && r != -EINTR))
			break;
		if (r == 0) {
			w->changed = true;
			coro_interrupt(w->session);
		}
	}
	w->done = true;
	coro_event_notify_all(&w->done_ev);
}

/* Stops the watcher and waits until it has returned: it points into this
 * coroutine's stack. */
static void idle_watch_stop(struct idle_watch *w, struct coro *watcher)
{
	w->stop = true;
	coro_interrupt(watcher);
	while (!w->done) {
		/* Cancelled ourselves: our waits fail at once, so let the
		 * watcher run by yielding instead. */
		if (coro_event_wait(&w->done_ev, CORO_NO_DEADLINE) == -ECANCELED)
			coro_yield();
	}
	/* An interrupt the watcher sent after our last read would make the
	 * next command's read return -EINTR: take it now (a wait that is
	 * already due returns the pending interrupt, or -ETIMEDOUT). */
	struct coro_event none;
	coro_event_init(&none);
	coro_event_wait(&none, coro_now_ms());
}

/* Reads until DONE, reporting changes as they come. Returns 0 when the
 * client said DONE, 1 when it said something else, or a negative code. */
static int idle_loop(struct imap_session *s, struct idle_watch *w)
{
	for (;;) {
		int r = stream_flush(s->stream);
		const char *line;
		size_t len;
		if (r == 0)
			r = stream_read_line(s->stream, &line, &len);
		if (r == -EINTR && !s->conn->server->stopping) {
			if (w->changed) {
				w->changed = false;
				r = imap_view_sync(s, true);
				if (r < 0)
					return r;
			}
			continue;
		}
		if (r == -EMSGSIZE)
			return 1;
		if (r < 0)
			return r;
		return len == 4 && strncasecmp(line, "DONE", 4) == 0 ? 0 : 1;
	}
}

int imap_cmd_idle(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 0)
		return imap_reply(s, cmd->tag, "BAD", "IDLE takes no arguments");
	int r = stream_puts(s->stream, "+ idling\r\n");
	/* What happened before IDLE is news too. */
	if (r == 0)
		r = imap_view_sync(s, true);
	if (r < 0)
		return r;
	struct idle_watch w = {
		.user = s->user,
		.session = coro_current(),
		.seen = s->view ? s->view->change_seq : store_change_seq(s->user),
	};
	coro_event_init(&w.done_ev);
	struct coro *watcher = coro_spawn(idle_watcher, &w, IDLE_WATCHER_STACK);
	if (!watcher)
		return imap_reply(s, cmd->tag, "NO", "[UNAVAILABLE] Cannot idle now");
	r = idle_loop(s, &w);
	idle_watch_stop(&w, watcher);
	if (r < 0)
		return r;
	if (r == 1)
		return imap_reply(s, cmd->tag, "BAD", "Expected DONE");
	return imap_reply(s, cmd->tag, "OK", "IDLE terminated");
}
