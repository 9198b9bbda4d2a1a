/* The schema of meta.sqlite, version 2 (META_SCHEMA_VERSION), run once in
 * the transaction that creates the database. It lives in the binary so the
 * daemon needs no file beside it. Migrations from earlier versions go in
 * meta.c, one step per version, each with its SQL here.
 *
 * Why the shapes:
 * - instance and expunged are WITHOUT ROWID tables keyed (mailbox_id, uid),
 *   so a mailbox's rows are contiguous in UID order: a SELECT snapshot or a
 *   STATUS is one range scan. Sizes and dates are copied into the instance
 *   (they never change) so neither needs the message table.
 * - The (mailbox_id, modseq) indexes serve CONDSTORE/QRESYNC "changed since".
 * - Ids of mailboxes and messages are AUTOINCREMENT so they are never
 *   reused: a session holding the id of a deleted mailbox can never reach
 *   another one.
 * - message.released_at is the time the last live instance went away: the
 *   24-hour purge rule reads it through a partial index, and appends and
 *   copies set it to NULL. A message that never had an instance (placed = 0:
 *   the store crashed between adding it and appending it) is never purged
 *   but listed by meta_unplaced(), like an orphan file, for INBOX.
 * - keyword names compare case-insensitively (RFC 9051 2.3.2: keywords are
 *   atoms, so ASCII NOCASE is the whole rule). An instance keeps its
 *   keyword ids as a BLOB (meta-flags.c): ascending varint deltas.
 * - The CHECK constraints restate the limits of meta.h, so a bug cannot
 *   write a value the readers would later refuse as corrupt.
 * - header_cache (version 2, meta-headers.c) keeps the header block of a
 *   message once a FETCH has read it, so that ENVELOPE and header fetches
 *   need not open the file. One row per message (copies share it), keyed
 *   by the message's rowid so a lookup is one b-tree search, and dropped
 *   with the message (ON DELETE CASCADE) when it is purged. A rowid table,
 *   not WITHOUT ROWID: its rows are kilobytes.
 */
#include "storage/meta-private.h"

#define META_SCHEMA_V2_SQL                                                             \
	"CREATE TABLE header_cache ("                                                  \
	"  message_id INTEGER PRIMARY KEY REFERENCES message(id) ON DELETE CASCADE,"   \
	"  body_lines INTEGER CHECK (body_lines IS NULL OR body_lines >= 0),"          \
	"  header BLOB NOT NULL CHECK (length(header) BETWEEN 1 AND 65536)"            \
	");"

const char meta__schema_sql[] =
	"CREATE TABLE meta_info ("
	"  name TEXT PRIMARY KEY NOT NULL,"
	"  value INTEGER NOT NULL"
	") WITHOUT ROWID;"

	"CREATE TABLE mailbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE"
	"    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 1024),"
	"  selectable INTEGER NOT NULL CHECK (selectable IN (0, 1)),"
	"  special_use TEXT CHECK (special_use IN ('\\Archive', '\\Drafts',"
	"    '\\Flagged', '\\Important', '\\Junk', '\\Sent', '\\Trash')),"
	"  object_id TEXT NOT NULL UNIQUE CHECK (length(object_id) BETWEEN 2 AND 32),"
	"  uidvalidity INTEGER NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),"
	"  uidnext INTEGER NOT NULL CHECK (uidnext BETWEEN 1 AND 4294967295),"
	"  highest_modseq INTEGER NOT NULL CHECK (highest_modseq >= 1),"
	"  recent_uid INTEGER NOT NULL CHECK (recent_uid BETWEEN 1 AND 4294967295)"
	");"

	"CREATE TABLE subscription ("
	"  name TEXT PRIMARY KEY NOT NULL"
	"    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 1024)"
	") WITHOUT ROWID;"

	"CREATE TABLE keyword ("
	"  id INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 2147483646),"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE"
	"    CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 1024)"
	");"

	"CREATE TABLE message ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  file TEXT NOT NULL UNIQUE CHECK (length(CAST(file AS BLOB)) BETWEEN 1 AND 255),"
	"  size INTEGER NOT NULL CHECK (size BETWEEN 0 AND 1099511627776),"
	"  email_id TEXT NOT NULL UNIQUE CHECK (length(email_id) BETWEEN 2 AND 32),"
	"  key_blob BLOB CHECK (key_blob IS NULL OR length(key_blob) BETWEEN 1 AND 4096),"
	"  created_at INTEGER NOT NULL,"
	"  placed INTEGER NOT NULL DEFAULT 0 CHECK (placed IN (0, 1)),"
	"  released_at INTEGER CHECK (released_at IS NULL OR placed = 1),"
	"  missing INTEGER NOT NULL DEFAULT 0 CHECK (missing IN (0, 1))"
	");"
	"CREATE INDEX message_released ON message(released_at)"
	"  WHERE released_at IS NOT NULL;"
	"CREATE INDEX message_unplaced ON message(created_at) WHERE placed = 0;"

	"CREATE TABLE instance ("
	"  mailbox_id INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,"
	"  uid INTEGER NOT NULL CHECK (uid BETWEEN 1 AND 4294967294),"
	"  message_id INTEGER NOT NULL REFERENCES message(id),"
	"  modseq INTEGER NOT NULL CHECK (modseq >= 1),"
	"  flags INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 31),"
	"  keywords BLOB CHECK (keywords IS NULL OR length(keywords) >= 1),"
	"  size INTEGER NOT NULL CHECK (size BETWEEN 0 AND 1099511627776),"
	"  internal_date INTEGER NOT NULL,"
	"  internal_tz INTEGER NOT NULL CHECK (internal_tz BETWEEN -1439 AND 1439),"
	"  save_date INTEGER NOT NULL,"
	"  PRIMARY KEY (mailbox_id, uid)"
	") WITHOUT ROWID;"
	"CREATE INDEX instance_modseq ON instance(mailbox_id, modseq);"
	"CREATE INDEX instance_message ON instance(message_id);"

	"CREATE TABLE expunged ("
	"  mailbox_id INTEGER NOT NULL REFERENCES mailbox(id) ON DELETE CASCADE,"
	"  uid INTEGER NOT NULL CHECK (uid BETWEEN 1 AND 4294967294),"
	"  modseq INTEGER NOT NULL CHECK (modseq >= 1),"
	"  message_id INTEGER REFERENCES message(id) ON DELETE SET NULL,"
	"  expunged_at INTEGER NOT NULL,"
	"  internal_date INTEGER NOT NULL,"
	"  internal_tz INTEGER NOT NULL CHECK (internal_tz BETWEEN -1439 AND 1439),"
	"  save_date INTEGER NOT NULL,"
	"  PRIMARY KEY (mailbox_id, uid)"
	") WITHOUT ROWID;"
	"CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);"
	"CREATE INDEX expunged_message ON expunged(message_id);"

	META_SCHEMA_V2_SQL;

/* Version 1 to 2: the header cache. */
const char meta__schema_v2_sql[] = META_SCHEMA_V2_SQL;
