/* The metadata handle: opening (schema creation and migration), the
 * statement cache, transactions, error mapping, checked column readers,
 * groups of calls (meta_begin), the integrity check. */
#include "storage/meta-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/util/xmalloc.h"
#include "storage/crypto.h"
#include "storage/vfs-crypt.h"

/* Page cache per handle, in KiB (negative cache_size); SQLite allocates it
 * as pages are read, so small accounts never use it all. One handle per
 * logged-in user. A 100,000-message account is a 19 MB database: with an
 * 8 MiB cache a random meta_lookup() took 27-36 us, with 32 MiB 10-15 us
 * (decrypting pages that fell out of the cache is the difference). */
#define META_CACHE_KIB 16384

int meta__fail(const char **error_r, int err, const char *what)
{
	if (error_r)
		*error_r = what;
	return err;
}

/* SQLite result codes to the errors of meta.h. A busy database is worth a
 * retry (-EAGAIN); a constraint failure means the rows disagree with what
 * we checked before writing, so the data cannot be trusted (-EBADMSG); an
 * SQL error is our bug but corrupts nothing, so it fails the call (-EIO). */
int meta__err(struct meta *m, int rc, const char **error_r, const char *what)
{
	int r;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		r = -EAGAIN;
		break;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
		r = -EBADMSG;
		break;
	default:
		r = vfs_crypt_errno(rc);
		if (r == 0 || r == -EINVAL || r == -EPERM)
			r = -EIO;
		break;
	}
#ifdef META_DEBUG
	fprintf(stderr, "meta: %s: %s (%d)\n", what, sqlite3_errmsg(m->db), rc);
#endif
	return meta__fail(error_r, r, what);
}

static void bind_check(int rc, int idx)
{
	/* Only a wrong index or type (our bug) or no memory can fail here. */
	if (rc != SQLITE_OK) {
		fprintf(stderr, "meta: binding parameter %d failed: %s\n", idx, sqlite3_errstr(rc));
		abort();
	}
}

void meta__bind_i64(sqlite3_stmt *st, int idx, int64_t v)
{
	bind_check(sqlite3_bind_int64(st, idx, v), idx);
}

void meta__bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	bind_check(sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT), idx);
}

void meta__bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t len)
{
	if (!p || len == 0)
		bind_check(sqlite3_bind_null(st, idx), idx);
	else
		bind_check(sqlite3_bind_blob64(st, idx, p, len, SQLITE_TRANSIENT), idx);
}

/* The statement for slot id, prepared on first use and reset since. The
 * text must be the same literal at every use of a slot. */
int meta__prep(struct meta *m, enum meta_sql id, const char *sql, sqlite3_stmt **st_r)
{
	sqlite3_stmt *st = m->stmt[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(m->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return meta__err(m, rc, NULL, "preparing a statement");
		m->stmt[id] = st;
	} else {
		if (strcmp(sqlite3_sql(st), sql) != 0) {
			fprintf(stderr, "meta: statement slot %d used for two texts\n", (int)id);
			abort();
		}
		sqlite3_reset(st);
	}
	sqlite3_clear_bindings(st);
	*st_r = st;
	return 0;
}

int meta__exec(struct meta *m, const char *sql)
{
	int rc = sqlite3_exec(m->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : meta__err(m, rc, NULL, "running a statement");
}

int meta__col_int(sqlite3_stmt *st, int col, int64_t lo, int64_t hi, int64_t *v_r)
{
	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return -EBADMSG;
	int64_t v = sqlite3_column_int64(st, col);
	if (v < lo || v > hi)
		return -EBADMSG;
	*v_r = v;
	return 0;
}

int meta__col_u32(sqlite3_stmt *st, int col, uint32_t lo, uint32_t hi, uint32_t *v_r)
{
	int64_t v;
	int r = meta__col_int(st, col, lo, hi, &v);
	if (r == 0)
		*v_r = (uint32_t)v;
	return r;
}

int meta__col_text(sqlite3_stmt *st, int col, size_t max, char *out)
{
	if (sqlite3_column_type(st, col) != SQLITE_TEXT)
		return -EBADMSG;
	const unsigned char *s = sqlite3_column_text(st, col);
	int len = sqlite3_column_bytes(st, col);
	if (!s || len < 1 || (size_t)len > max || memchr(s, 0, (size_t)len))
		return -EBADMSG;
	memcpy(out, s, (size_t)len);
	out[len] = 0;
	return 0;
}

int meta__col_strdup(sqlite3_stmt *st, int col, size_t max, char **s_r)
{
	char *s = xmalloc(max + 1);
	int r = meta__col_text(st, col, max, s);
	if (r < 0) {
		free(s);
		return r;
	}
	*s_r = xrealloc(s, strlen(s) + 1);
	return 0;
}

static int64_t default_clock(void *ctx)
{
	return (int64_t)time(NULL);
}

int64_t meta__now(struct meta *m)
{
	return m->clock(m->clock_ctx);
}

void meta_set_clock(struct meta *m, int64_t (*fn)(void *ctx), void *ctx)
{
	m->clock = fn ? fn : default_clock;
	m->clock_ctx = fn ? ctx : NULL;
}

/* MAILBOXID and EMAILID (RFC 8474 5.1: 1-255 of ALPHA / DIGIT / "-" / "_"):
 * a letter saying what it names, then 96 random bits in hex. Random rather
 * than counted so that a database restored from a backup never hands out
 * again an id a client has seen for something else. */
void meta__random_id(char prefix, char out[META_OID_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[12];
	crypto_random(raw, sizeof(raw));
	out[0] = prefix;
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[1 + 2 * i] = hex[raw[i] >> 4];
		out[2 + 2 * i] = hex[raw[i] & 15];
	}
	out[1 + 2 * sizeof(raw)] = 0;
}

/* Transactions. Level 0 is BEGIN (IMMEDIATE for writes, so two writers
 * never deadlock upgrading read locks); deeper levels are savepoints, so a
 * failed call inside meta_begin() undoes only itself. */
int meta__begin(struct meta *m, bool write)
{
	if (m->depth >= META_TX_DEPTH) {
		fprintf(stderr, "meta: transactions nested too deep\n");
		abort();
	}
	const char *sql = m->depth > 0 ? "SAVEPOINT meta" : write ? "BEGIN IMMEDIATE" : "BEGIN";
	int rc = sqlite3_exec(m->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return meta__err(m, rc, NULL, "starting a transaction");
	m->kw_mark[m->depth++] = m->kw_n;
	return 0;
}

static void set_synchronous(struct meta *m, const char *sql)
{
	if (sqlite3_exec(m->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "meta: %s failed: %s\n", sql, sqlite3_errmsg(m->db));
		abort();	/* never leave commits unsynced by mistake */
	}
}

int meta__begin_relaxed(struct meta *m)
{
	if (m->depth == 0) {
		set_synchronous(m, "PRAGMA synchronous=NORMAL");
		m->relaxed = true;
	}
	int r = meta__begin(m, true);
	if (r < 0 && m->depth == 0 && m->relaxed) {
		set_synchronous(m, "PRAGMA synchronous=FULL");
		m->relaxed = false;
	}
	return r;
}

int meta__end_relaxed(struct meta *m, int r)
{
	r = meta__end(m, r);
	/* The setting is the connection's: back to FULL before anything else. */
	if (m->depth == 0 && m->relaxed) {
		set_synchronous(m, "PRAGMA synchronous=FULL");
		m->relaxed = false;
	}
	return r;
}

static void reset_all(struct meta *m)
{
	for (int i = 0; i < SQL_COUNT; i++)
		if (m->stmt[i])
			sqlite3_reset(m->stmt[i]);
}

/* Ends the innermost level: commits when r >= 0, else rolls back. Returns
 * r, or the error of a failed commit (after rolling back). */
int meta__end(struct meta *m, int r)
{
	m->depth--;
	reset_all(m);
	if (r >= 0) {
		int rc = sqlite3_exec(m->db, m->depth > 0 ? "RELEASE meta" : "COMMIT", NULL, NULL,
				      NULL);
		if (rc == SQLITE_OK)
			return r;
		r = meta__err(m, rc, NULL, "committing");
	}
	/* An I/O error may already have rolled back the whole transaction;
	 * then there is nothing left to undo. */
	if (!sqlite3_get_autocommit(m->db))
		sqlite3_exec(m->db, m->depth > 0 ? "ROLLBACK TO meta; RELEASE meta" : "ROLLBACK",
			     NULL, NULL, NULL);
	meta__kw_truncate(m, m->kw_mark[m->depth]);
	return r;
}

int meta_begin(struct meta *m)
{
	if (m->depth > 0)
		return -EINVAL;
	int r = meta__begin(m, true);
	m->user_tx = r == 0;
	return r;
}

int meta_commit(struct meta *m)
{
	if (!m->user_tx)
		return -EINVAL;
	m->user_tx = false;
	if (sqlite3_get_autocommit(m->db)) {
		/* A failure inside made SQLite give up the transaction. */
		m->depth = 0;
		meta__kw_truncate(m, m->kw_mark[0]);
		return -EIO;
	}
	return meta__end(m, 0);
}

void meta_rollback(struct meta *m)
{
	if (!m->user_tx)
		return;
	m->user_tx = false;
	meta__end(m, -ECANCELED);
}

int meta__info_get(struct meta *m, const char *name, int64_t *v_r)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_INFO_GET, "SELECT value FROM meta_info WHERE name = ?1", &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = meta__col_int(st, 0, INT64_MIN, INT64_MAX, v_r);
	else
		r = rc == SQLITE_DONE ? -EBADMSG : meta__err(m, rc, NULL, "reading meta_info");
	sqlite3_reset(st);
	return r;
}

int meta__info_set(struct meta *m, const char *name, int64_t v)
{
	sqlite3_stmt *st;
	int r = meta__prep(m, SQL_INFO_SET,
			   "INSERT OR REPLACE INTO meta_info (name, value) VALUES (?1, ?2)", &st);
	if (r < 0)
		return r;
	meta__bind_text(st, 1, name);
	meta__bind_i64(st, 2, v);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : meta__err(m, rc, NULL, "writing meta_info");
}

/* A single-integer query outside the statement cache (used at open). */
static int query_int(struct meta *m, const char *sql, int64_t *v_r)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return meta__err(m, rc, NULL, "preparing a query");
	rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? meta__col_int(st, 0, INT64_MIN, INT64_MAX, v_r)
				 : meta__err(m, rc, NULL, "running a query");
	sqlite3_finalize(st);
	return r;
}

static int create_schema(struct meta *m, const char **error_r)
{
	int r = meta__exec(m, meta__schema_sql);
	if (r == 0)
		r = meta__info_set(m, "schema_version", META_SCHEMA_VERSION);
	/* UIDVALIDITY values are taken from a counter that starts at the
	 * current time and never goes below it (meta-mailbox.c). */
	if (r == 0)
		r = meta__info_set(m, "next_uidvalidity", meta__now(m));
	if (r == 0)
		r = meta__default_mailboxes(m);
	return r < 0 ? meta__fail(error_r, r, "cannot create the schema") : 0;
}

/* Brings an existing database to META_SCHEMA_VERSION, one step per
 * version, in order, all in the transaction setup_schema() opened: a crash
 * or a failure leaves the old version whole. A database migrated forward
 * cannot be opened by an older sealmail again (-EPROTONOSUPPORT there).
 *   1 -> 2  header_cache (meta-headers.c), empty: it fills as FETCH reads
 *           message files.
 */
static int migrate(struct meta *m, const char **error_r)
{
	int64_t version;
	int r = meta__info_get(m, "schema_version", &version);
	if (r < 0)
		return meta__fail(error_r, r, "cannot read the schema version");
	if (version > META_SCHEMA_VERSION)
		return meta__fail(error_r, -EPROTONOSUPPORT,
				  "the database was written by a newer version");
	if (version < 1)
		return meta__fail(error_r, -EBADMSG, "invalid schema version");
	if (version < 2) {
		r = meta__exec(m, meta__schema_v2_sql);
		if (r == 0)
			r = meta__info_set(m, "schema_version", 2);
		if (r < 0)
			return meta__fail(error_r, r, "cannot migrate the database to version 2");
	}
	return 0;
}

static int setup_schema(struct meta *m, const char **error_r)
{
	int r = meta__begin(m, true);
	if (r < 0)
		return meta__fail(error_r, r, "cannot start the schema transaction");
	int64_t has_info, tables;
	r = query_int(m, "SELECT count(*) FROM sqlite_schema WHERE name = 'meta_info'", &has_info);
	if (r == 0)
		r = query_int(m, "SELECT count(*) FROM sqlite_schema", &tables);
	if (r < 0)
		meta__fail(error_r, r, "cannot read the schema");
	else if (has_info)
		r = migrate(m, error_r);
	else if (tables > 0)
		r = meta__fail(error_r, -EBADMSG, "not a sealmail metadata database");
	else
		r = create_schema(m, error_r);
	return meta__end(m, r);
}

/* Connection settings. foreign_keys keeps instances and the expunge log
 * tied to live rows; synchronous=FULL because an APPEND acknowledged to a
 * client must survive power loss (WAL's NORMAL may lose the last commits);
 * only the relaxed commits step down (meta__begin_relaxed). */
static int configure(struct meta *m, const char **error_r)
{
	char sql[128];
	snprintf(sql, sizeof(sql),
		 "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA cache_size=-%d",
		 META_CACHE_KIB);
	int r = meta__exec(m, sql);
	int64_t fk = 0;
	if (r == 0)
		r = query_int(m, "PRAGMA foreign_keys", &fk);
	if (r == 0 && fk != 1)
		r = -EIO;
	return r < 0 ? meta__fail(error_r, r, "cannot configure the connection") : 0;
}

int meta_open(const char *path, const uint8_t key[META_KEY_LEN], bool create,
	      struct meta **m_r, const char **error_r)
{
	*m_r = NULL;
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	int r = vfs_crypt_open(path, key, flags, &db, error_r);
	if (r < 0)
		return r;
	struct meta *m = xcalloc(1, sizeof(*m));
	m->db = db;
	memcpy(m->key, key, META_KEY_LEN);
	meta_set_clock(m, NULL, NULL);
	r = configure(m, error_r);
	if (r == 0)
		r = setup_schema(m, error_r);
	if (r == 0 && meta__power_open(m, &m->renumbered) < 0)
		r = meta__fail(error_r, -EIO, "cannot record the open");
	if (r < 0) {
		meta_close(&m);
		return r;
	}
	*m_r = m;
	return 0;
}

void meta_close(struct meta **mp)
{
	struct meta *m = *mp;
	if (!m)
		return;
	if (m->user_tx)
		meta_rollback(m);
	if (m->depth == 0)
		meta__power_close(m);
	for (int i = 0; i < SQL_COUNT; i++)
		sqlite3_finalize(m->stmt[i]);
	meta__kw_free(m);
	vfs_crypt_close(&m->db);
	crypto_wipe(m->key, sizeof(m->key));
	free(m);
	*mp = NULL;
}

/* Runs a pragma that answers "ok" (integrity_check) or nothing
 * (foreign_key_check) when all is well. */
static int check_pragma(struct meta *m, const char *sql, bool want_ok)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(m->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return meta__err(m, rc, NULL, "preparing a check");
	rc = sqlite3_step(st);
	int r;
	if (rc == SQLITE_ROW)
		r = want_ok && sqlite3_column_type(st, 0) == SQLITE_TEXT &&
				    strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0
			    ? 0
			    : -EBADMSG;
	else if (rc == SQLITE_DONE)
		r = want_ok ? -EBADMSG : 0;
	else
		r = meta__err(m, rc, NULL, "running a check");
	sqlite3_finalize(st);
	return r;
}

int meta_check(struct meta *m, const char **error_r)
{
	if (m->depth > 0)
		return meta__fail(error_r, -EINVAL, "a transaction is open");
	int r = check_pragma(m, "PRAGMA integrity_check(1)", true);
	if (r < 0)
		return meta__fail(error_r, r, "the integrity check failed");
	r = check_pragma(m, "PRAGMA foreign_key_check", false);
	if (r < 0)
		return meta__fail(error_r, r, "the foreign key check failed");
	return 0;
}
