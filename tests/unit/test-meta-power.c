/* Tests of storage/meta.h, durability: which commits are synced, and the
 * MODSEQ renumbering after a power failure (meta-power.c). A "crash" is a
 * child process that exits without closing; "another boot" is the record
 * of the open rewritten to a boot id that is not this one. */
#include "tests/unit/meta-test.h"

#include <stdlib.h>
#include <sys/wait.h>

#include "storage/meta-private.h"

static void store_seen(struct meta *m, int64_t mailbox, uint32_t uid)
{
	struct meta_uid_range set = { uid, uid };
	struct meta_store_req req = { META_STORE_ADD, META_FLAG_SEEN, NULL, 0,
				      META_UNCHANGED_ANY };
	struct meta_store_result res;
	MT_OK(meta_store(m, mailbox, &set, 1, &req, &res, NULL));
	CHECK(res.modseq > 0);
	meta_store_result_free(&res);
}

static void expunge_one(struct meta *m, int64_t mailbox, uint32_t uid)
{
	struct meta_uid_range set = { uid, uid };
	struct meta_uids gone;
	uint64_t modseq;
	MT_OK(meta_expunge(m, mailbox, &set, 1, META_EXPUNGE_ANY, &gone, &modseq, NULL));
	CHECK_INT(gone.n, ==, 1);
	meta_uids_free(&gone);
}

META_TEST(flags_and_expunges_commit_without_sync)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	uint64_t before = vfs_crypt_syncs();
	struct meta_appended a = mt_append(m, inbox, 0);
	mt_append(m, inbox, 0);
	CHECK(vfs_crypt_syncs() > before);	/* an append is synced */

	before = vfs_crypt_syncs();
	store_seen(m, inbox, a.uid);
	expunge_one(m, inbox, a.uid);
	CHECK_INT(vfs_crypt_syncs(), ==, before);
	/* The connection is back at FULL afterwards. */
	mt_append(m, inbox, 0);
	CHECK(vfs_crypt_syncs() > before);

	before = vfs_crypt_syncs();
	MT_OK(meta_sync(m, NULL));
	CHECK(vfs_crypt_syncs() > before);
	before = vfs_crypt_syncs();
	meta_close(&m);
	CHECK(vfs_crypt_syncs() > before);
}

/* In a child: opens, changes flags, optionally pretends the open happened
 * in another boot, and exits without closing. */
static void crash_child(bool other_boot)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct meta *m = mt_open();
		int64_t inbox = mt_id(m, "INBOX");
		store_seen(m, inbox, 1);
		if (other_boot) {
			MT_OK(meta__begin(m, true));
			MT_OK(meta__end(m, meta__info_set(m, "open_boot", 12345)));
		}
		_exit(0);
	}
	int st;
	CHECK_INT(waitpid(pid, &st, 0), ==, pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static uint64_t setup_mailbox(void)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	for (int i = 0; i < 3; i++)
		mt_append(m, inbox, 0);
	uint64_t highest = mt_status(m, "INBOX").highest_modseq;
	meta_close(&m);
	return highest;
}

META_TEST(process_crash_keeps_modseqs)
{
	uint64_t highest = setup_mailbox();
	crash_child(false);
	struct meta *m = mt_open();
	CHECK(!meta_renumbered(m));
	/* The child's STORE is there, with the next MODSEQ. */
	CHECK_INT(mt_status(m, "INBOX").highest_modseq, ==, highest + 1);
	meta_close(&m);
}

META_TEST(open_across_a_boot_renumbers_every_message)
{
	uint64_t highest = setup_mailbox();
	crash_child(true);
	struct meta *m = mt_open();
	CHECK(meta_renumbered(m));
	int64_t inbox = mt_id(m, "INBOX");
	uint64_t now = mt_status(m, "INBOX").highest_modseq;
	CHECK(now > highest + ((uint64_t)1 << 31));
	/* A client that saw any MODSEQ handed out before gets every message. */
	struct meta_changes ch;
	MT_OK(meta_changes(m, inbox, highest + 1000, &ch, NULL));
	CHECK_INT(ch.msgs.n, ==, 3);
	for (size_t i = 0; i < ch.msgs.n; i++)
		CHECK_INT(ch.msgs.v[i].modseq, ==, now);
	meta_changes_free(&ch);
	/* Later changes go on from there. */
	store_seen(m, inbox, 2);
	CHECK_INT(mt_status(m, "INBOX").highest_modseq, ==, now + 1);
	meta_close(&m);

	/* Once only: closed cleanly, the next open keeps the numbers. */
	m = mt_open();
	CHECK(!meta_renumbered(m));
	CHECK_INT(mt_status(m, "INBOX").highest_modseq, ==, now + 1);
	meta_close(&m);
}

META_TEST(clean_close_then_another_boot_keeps_modseqs)
{
	uint64_t highest = setup_mailbox();
	struct meta *m = mt_open();
	MT_OK(meta__begin(m, true));
	MT_OK(meta__end(m, meta__info_set(m, "open_boot", 12345)));
	meta_close(&m);
	m = mt_open();
	CHECK(!meta_renumbered(m));
	CHECK_INT(mt_status(m, "INBOX").highest_modseq, ==, highest);
	meta_close(&m);
}
