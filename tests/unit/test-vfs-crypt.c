/* Tests of the encrypted SQLite VFS (storage/vfs-crypt.h): nothing readable
 * on disk, keys checked, tampering detected, crash safety kept, files that
 * would be written in the clear refused. Each test works in its own
 * mkdtemp directory. */
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <sqlite3.h>
#ifdef SEAL_SANITIZE
#include <sanitizer/lsan_interface.h>
#endif

#include "storage/vfs-crypt.h"

#define MARKER "SEALMARK-c0ffee-4b1d-plaintext"

/* The integers a..b as table s(value) (no generate_series in libsqlite3). */
#define SERIES(a, b)                                                                   \
	"WITH RECURSIVE s(value) AS (SELECT " #a " UNION ALL SELECT value + 1 FROM s "  \
	"WHERE value < " #b ") "

static const uint8_t key_a[VFS_CRYPT_KEY_LEN] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
static const uint8_t key_b[VFS_CRYPT_KEY_LEN] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x78 };

static char test_dir[64];
static char db_path[128];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A fresh directory per test, removed when the test passes (a failed one
 * keeps it to look at). Under the sanitizer build, each test ends with a
 * leak check: the harness leaves a test with _exit(), which skips LSan's. */
static void setup_dir(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test-vfs-crypt-XXXXXX");
	CHECK(mkdtemp(test_dir) != NULL);
	snprintf(db_path, sizeof(db_path), "%s/meta.sqlite", test_dir);
}

static void cleanup_dir(void)
{
	CHECK_INT(nftw(test_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
#ifdef SEAL_SANITIZE
	__lsan_do_leak_check();
#endif
}

#define VFS_TEST(name)                                                                 \
	static void vfs_test_##name(void);                                             \
	TEST(name)                                                                     \
	{                                                                              \
		setup_dir();                                                           \
		vfs_test_##name();                                                     \
		cleanup_dir();                                                         \
	}                                                                              \
	static void vfs_test_##name(void)

static sqlite3 *open_ok(const uint8_t *key, int flags)
{
	sqlite3 *db = NULL;
	const char *error = NULL;
	int r = vfs_crypt_open(db_path, key, flags, &db, &error);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "vfs_crypt_open: %d %s", r, error);
	CHECK(db != NULL);
	return db;
}

static sqlite3 *create_db(void)
{
	return open_ok(key_a, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}

#define EXEC(db, sql)                                                                  \
	do {                                                                           \
		char *err_ = NULL;                                                     \
		if (sqlite3_exec((db), (sql), NULL, NULL, &err_) != SQLITE_OK)         \
			test_fail(__FILE__, __LINE__, "%s: %s", (sql), err_);          \
	} while (0)

/* Runs sql, which returns one integer; the SQLite result code goes to
 * *rc_r when rc_r is given, otherwise anything but a row fails the test. */
static long long query_int_rc(sqlite3 *db, const char *sql, int *rc_r)
{
	sqlite3_stmt *st;
	long long v = -1;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (rc_r)
		*rc_r = rc == SQLITE_ROW ? SQLITE_OK : sqlite3_extended_errcode(db);
	else if (rc != SQLITE_ROW)
		test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
	return v;
}

static long long query_int(sqlite3 *db, const char *sql)
{
	return query_int_rc(db, sql, NULL);
}

static void check_integrity(sqlite3 *db)
{
	sqlite3_stmt *st;
	CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), ==, SQLITE_OK);
	CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

static void check_text(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st;
	CHECK_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
}

static uint8_t *read_whole(const char *path, size_t *len_r)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	CHECK(buf != NULL);
	CHECK_INT(read(fd, buf, (size_t)st.st_size), ==, st.st_size);
	close(fd);
	*len_r = (size_t)st.st_size;
	return buf;
}

static void write_whole(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, buf, len), ==, (long long)len);
	close(fd);
}

/* Needles: the marker and its base64 form at each of the three alignments
 * (only the characters that do not depend on neighbouring bytes). */
static int make_needles(char needles[4][64])
{
	snprintf(needles[0], 64, "%s", MARKER);
	for (int shift = 0; shift < 3; shift++) {
		char src[64], enc[128];
		size_t n;
		snprintf(src, sizeof(src), "%.*s%s", shift, "xx", MARKER);
		CHECK(mbedtls_base64_encode((unsigned char *)enc, sizeof(enc), &n,
					    (unsigned char *)src, strlen(src)) == 0);
		size_t skip = shift ? 4 : 0;
		snprintf(needles[1 + shift], 64, "%.*s", (int)(n - skip - 4), enc + skip);
	}
	return 4;
}

/* How many needles occur in the files of dir; *files_r counts the files. */
static int scan_dir(const char *dir, int *files_r)
{
	char needles[4][64];
	int count = make_needles(needles), hits = 0;
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	*files_r = 0;
	for (struct dirent *e; (e = readdir(d));) {
		char path[512];
		size_t len;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		uint8_t *buf = read_whole(path, &len);
		CHECK(buf != NULL);
		(*files_r)++;
		for (int i = 0; i < count; i++)
			if (memmem(buf, len, needles[i], strlen(needles[i])))
				hits++;
		free(buf);
	}
	closedir(d);
	return hits;
}

static void fill_marked(sqlite3 *db)
{
	EXEC(db, "CREATE TABLE msg(id INTEGER PRIMARY KEY, body TEXT)");
	EXEC(db, "BEGIN");
	for (int i = 0; i < 300; i++) {
		char *sql = sqlite3_mprintf("INSERT INTO msg(body) VALUES('%d %s %q')", i, MARKER,
					    i % 2 ? "aGVsbG8=" : "subject");
		EXEC(db, sql);
		sqlite3_free(sql);
	}
		/* One row of 40 KB, so overflow pages carry the marker too. */
	EXEC(db, "INSERT INTO msg(id, body) VALUES(100000, "
		 "(WITH RECURSIVE r(i, s) AS (SELECT 0, '' UNION ALL "
		 "SELECT i + 1, s || '" MARKER "' FROM r WHERE i < 1300) "
		 "SELECT s FROM r ORDER BY i DESC LIMIT 1))");
	EXEC(db, "COMMIT");
}

/* The same content in a clear database must be found by scan_dir: proof that
 * the scan would see a leak. */
VFS_TEST(scan_finds_plaintext_in_clear_db)
{
	sqlite3 *db;
	CHECK_INT(sqlite3_open(db_path, &db), ==, SQLITE_OK);
	fill_marked(db);
	sqlite3_close(db);
	int files;
	CHECK_INT(scan_dir(test_dir, &files), >, 0);
}

VFS_TEST(no_plaintext_on_disk_and_reopen)
{
	sqlite3 *db = create_db();
	fill_marked(db);
	int files;
	/* While open: the rows are in the WAL, the -shm exists. */
	CHECK_INT(scan_dir(test_dir, &files), ==, 0);
	CHECK_INT(files, ==, 3);
	vfs_crypt_close(&db);
	CHECK(db == NULL);
	CHECK_INT(scan_dir(test_dir, &files), ==, 0);
	CHECK_INT(files, >=, 1);

	db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	CHECK_INT(query_int(db, "SELECT count(*) FROM msg"), ==, 301);
	CHECK_INT(query_int(db, "SELECT count(*) FROM msg WHERE body LIKE '%" MARKER "%'"), ==,
		  301);
	CHECK_INT(query_int(db, "SELECT length(body) FROM msg WHERE id = 100000"), ==,
		  1300 * (long long)strlen(MARKER));
	CHECK_INT(query_int(db, "SELECT count(*) FROM msg WHERE body = '17 " MARKER " aGVsbG8='"),
		  ==, 1);
	check_integrity(db);
	vfs_crypt_close(&db);
	CHECK_INT(scan_dir(test_dir, &files), ==, 0);
}

VFS_TEST(wrong_key_fails_cleanly)
{
	sqlite3 *db = create_db();
	fill_marked(db);
	vfs_crypt_close(&db);

	const char *error = NULL;
	db = (sqlite3 *)1;
	CHECK_INT(vfs_crypt_open(db_path, key_b, SQLITE_OPEN_READWRITE, &db, &error), ==, -EACCES);
	CHECK(db == NULL);
	CHECK(error != NULL && strstr(error, "wrong key") != NULL);

	/* A wrong key while the right one has the database open is refused
	 * before anything is read. */
	sqlite3 *good = open_ok(key_a, SQLITE_OPEN_READWRITE);
	error = NULL;
	CHECK_INT(vfs_crypt_open(db_path, key_b, SQLITE_OPEN_READWRITE, &db, &error), ==, -EACCES);
	CHECK(db == NULL);
	CHECK(error != NULL);
	CHECK_INT(query_int(good, "SELECT count(*) FROM msg"), ==, 301);
	vfs_crypt_close(&good);

	/* And the key is gone with the last file: the same path can hold a
	 * new database under another key. */
	char path[256];
	snprintf(path, sizeof(path), "%s-wal", db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db_path);
	unlink(path);
	CHECK_INT(unlink(db_path), ==, 0);
	db = open_ok(key_b, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	EXEC(db, "CREATE TABLE t(x)");
	vfs_crypt_close(&db);
}

/* Two databases open at once, each under its own key. */
VFS_TEST(two_databases_two_keys)
{
	char other[160];
	snprintf(other, sizeof(other), "%s/other.sqlite", test_dir);
	sqlite3 *a = create_db(), *b = NULL;
	const char *error;
	CHECK_INT(vfs_crypt_open(other, key_b, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &b,
				 &error),
		  ==, 0);
	EXEC(a, "CREATE TABLE t(x); INSERT INTO t VALUES('in a')");
	EXEC(b, "CREATE TABLE t(x); INSERT INTO t VALUES('in b')");
	check_text(a, "SELECT x FROM t", "in a");
	check_text(b, "SELECT x FROM t", "in b");
	sqlite3 *c = NULL;
	CHECK_INT(vfs_crypt_open(other, key_a, SQLITE_OPEN_READWRITE, &c, &error), ==, -EACCES);
	vfs_crypt_close(&b);
	CHECK_INT(vfs_crypt_open(other, key_a, SQLITE_OPEN_READWRITE, &c, &error), ==, -EACCES);
	CHECK(c == NULL);
	vfs_crypt_close(&a);
}

/* Processes that create the same new database at the same moment all get
 * it, in WAL mode, and none of them needs a rollback journal. */
VFS_TEST(concurrent_creation)
{
	pid_t pids[4];
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		CHECK(pids[i] >= 0);
		if (pids[i] == 0) {
			sqlite3 *db = create_db();
			EXEC(db, "CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES(1)");
			vfs_crypt_close(&db);
			_exit(0);
		}
	}
	for (int i = 0; i < 4; i++) {
		int status;
		CHECK_INT(waitpid(pids[i], &status, 0), ==, pids[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	sqlite3 *db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	CHECK_INT(query_int(db, "SELECT count(*) FROM t"), ==, 4);
	check_text(db, "PRAGMA journal_mode", "wal");
	vfs_crypt_close(&db);
}

VFS_TEST(open_errors)
{
	sqlite3 *db = (sqlite3 *)1;
	const char *error = NULL;
	CHECK_INT(vfs_crypt_open(db_path, key_a, SQLITE_OPEN_READWRITE, &db, &error), ==, -ENOENT);
	CHECK(db == NULL);
	CHECK(error != NULL);

	/* A clear SQLite database is not readable as a sealed one. */
	CHECK_INT(sqlite3_open(db_path, &db), ==, SQLITE_OK);
	EXEC(db, "CREATE TABLE t(x); INSERT INTO t VALUES('" MARKER "')");
	sqlite3_close(db);
	CHECK_INT(vfs_crypt_open(db_path, key_a, SQLITE_OPEN_READWRITE, &db, &error), ==, -EACCES);
	CHECK(db == NULL);
	unlink(db_path);

	/* And a sealed one is not readable by SQLite without us. */
	db = create_db();
	EXEC(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1)");
	vfs_crypt_close(&db);
	CHECK_INT(sqlite3_open(db_path, &db), ==, SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "SELECT * FROM t", NULL, NULL, NULL), ==, SQLITE_NOTADB);
	sqlite3_close(db);
}

VFS_TEST(checkpointed_and_uncheckpointed_wal_readable)
{
	sqlite3 *db = create_db();
	EXEC(db, "PRAGMA wal_autocheckpoint=0");
	EXEC(db, "CREATE TABLE t(n INTEGER PRIMARY KEY, s TEXT)");
	EXEC(db, SERIES(1, 500) "INSERT INTO t SELECT value, printf('%0500d', value) FROM s");
	EXEC(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	EXEC(db, SERIES(501, 800) "INSERT INTO t SELECT value, printf('%0500d', value) FROM s");
	EXEC(db, "UPDATE t SET s = 'changed' WHERE n % 7 = 0");
	/* Leave the WAL as a crash would. */
	CHECK_INT(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), ==, SQLITE_OK);
	vfs_crypt_close(&db);

	char wal[256];
	struct stat st;
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	CHECK_INT(stat(wal, &st), ==, 0);
	CHECK_INT(st.st_size, >, 100 * 4096);

	db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	CHECK_INT(query_int(db, "SELECT count(*) FROM t"), ==, 800);
	CHECK_INT(query_int(db, "SELECT count(*) FROM t WHERE s = 'changed'"), ==, 800 / 7);
	CHECK_INT(query_int(db, "SELECT sum(n) FROM t WHERE s != 'changed' AND "
				"CAST(s AS INTEGER) = n"),
		  ==, 800 * 801 / 2 - 7 * (114 * 115 / 2));
	check_integrity(db);
	EXEC(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	vfs_crypt_close(&db);
	db = open_ok(key_a, SQLITE_OPEN_READONLY);
	CHECK_INT(query_int(db, "SELECT count(*) FROM t"), ==, 800);
	vfs_crypt_close(&db);
}

/* Reads below the page: the 100-byte header read on open, the 16 bytes at
 * 24, a read across two pages, and a read past the end of the file. */
VFS_TEST(sub_page_reads)
{
	sqlite3 *db = create_db();
	EXEC(db, "CREATE TABLE t(b)");
	EXEC(db, SERIES(1, 20) "INSERT INTO t SELECT randomblob(3000) FROM s");
	EXEC(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	sqlite3_file *f = NULL;
	CHECK_INT(sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f), ==, SQLITE_OK);
	uint8_t pages[2 * 4096], part[4096];
	CHECK_INT(f->pMethods->xRead(f, pages, 4096, 0), ==, SQLITE_OK);
	CHECK_INT(f->pMethods->xRead(f, pages + 4096, 4096, 4096), ==, SQLITE_OK);
	CHECK_MEM(pages, "SQLite format 3", 16);
	CHECK_INT(pages[16] << 8 | pages[17], ==, 4096);
	CHECK_INT(pages[20], ==, VFS_CRYPT_RESERVE);
	CHECK_INT(f->pMethods->xRead(f, part, 100, 0), ==, SQLITE_OK);
	CHECK_MEM(part, pages, 100);
	CHECK_INT(f->pMethods->xRead(f, part, 16, 24), ==, SQLITE_OK);
	CHECK_MEM(part, pages + 24, 16);
	CHECK_INT(f->pMethods->xRead(f, part, 300, 4096 - 100), ==, SQLITE_OK);
	CHECK_MEM(part, pages + 4096 - 100, 300);

	sqlite3_int64 size;
	CHECK_INT(f->pMethods->xFileSize(f, &size), ==, SQLITE_OK);
	CHECK_INT(size % 4096, ==, 0);
	memset(part, 0xaa, sizeof(part));
	CHECK_INT(f->pMethods->xRead(f, part, 4096, size), ==, SQLITE_IOERR_SHORT_READ);
	for (int i = 0; i < 4096; i++)
		CHECK_INT(part[i], ==, 0);
	/* Writes of part of a page cannot be sealed and are refused. */
	CHECK_INT(f->pMethods->xWrite(f, part, 100, 0), ==, SQLITE_IOERR_WRITE);
	CHECK_INT(f->pMethods->xWrite(f, part, 4096, 100), ==, SQLITE_IOERR_WRITE);
	vfs_crypt_close(&db);
}

/* Flips one byte of the file at off. */
static void flip_byte(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t c;
	CHECK(fd >= 0);
	CHECK_INT(pread(fd, &c, 1, off), ==, 1);
	c ^= 0x20;
	CHECK_INT(pwrite(fd, &c, 1, off), ==, 1);
	close(fd);
}

VFS_TEST(tamper_db_file)
{
	sqlite3 *db = create_db();
	EXEC(db, "CREATE TABLE a(x TEXT); CREATE TABLE b(x TEXT);"
		 "INSERT INTO a VALUES('alpha'); INSERT INTO b VALUES('beta');"
		 "PRAGMA wal_checkpoint(TRUNCATE)");
	long long root_a = query_int(db, "SELECT rootpage FROM sqlite_schema WHERE name = 'a'");
	vfs_crypt_close(&db);
	size_t len;
	uint8_t *orig = read_whole(db_path, &len);
	CHECK(orig != NULL);
	CHECK_INT(len, ==, 3 * 4096);

	const off_t page_a = (off_t)(root_a - 1) * 4096;
	const struct {
		off_t off;
		bool page1;
	} cases[] = {
		{ 50, true },			/* page 1: header */
		{ 4000, true },			/* page 1: schema cells */
		{ 4064 + 2, true },		/* page 1: nonce */
		{ page_a + 10, false },		/* table a: ciphertext */
		{ page_a + 4064 + 3, false },	/* nonce */
		{ page_a + 4076 + 5, false },	/* tag */
		{ page_a + 4092, false },	/* zero pad */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_whole(db_path, orig, len);
		flip_byte(db_path, cases[i].off);
		const char *error = NULL;
		int r = vfs_crypt_open(db_path, key_a, SQLITE_OPEN_READWRITE, &db, &error);
		if (cases[i].page1) {
			CHECK_INT(r, ==, -EACCES);
			CHECK(db == NULL);
			continue;
		}
		CHECK_INT(r, ==, 0);
		int rc;
		long long n = query_int_rc(db, "SELECT count(*) FROM a WHERE x = 'alpha'", &rc);
		CHECK_INT(rc, ==, SQLITE_IOERR_DATA);
		CHECK_INT(n, ==, -1);
		CHECK_INT(vfs_crypt_errno(rc), ==, -EBADMSG);
		check_text(db, "SELECT x FROM b", "beta");
		vfs_crypt_close(&db);
	}
	write_whole(db_path, orig, len);
	db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	check_text(db, "SELECT x FROM a", "alpha");
	check_integrity(db);
	vfs_crypt_close(&db);
	free(orig);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The offset of the last WAL frame that holds page pgno. */
static off_t wal_frame_of(uint32_t pgno)
{
	char wal[256];
	size_t len;
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	uint8_t *buf = read_whole(wal, &len);
	CHECK(buf != NULL);
	off_t found = -1;
	for (size_t off = 32; off + 4120 <= len; off += 4120)
		if (be32(buf + off) == pgno)
			found = (off_t)off;
	free(buf);
	CHECK(found > 0);
	return found;
}

/* A damaged frame in the WAL: a reader fails on it; recovery treats it as
 * the end of the log, so the database comes back as of the commit before
 * it (never with the damaged page). */
VFS_TEST(tamper_wal_frame)
{
	sqlite3 *db = create_db();
	CHECK_INT(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), ==, SQLITE_OK);
	EXEC(db, "PRAGMA wal_autocheckpoint=0;"
		 "CREATE TABLE a(x TEXT); CREATE TABLE b(x TEXT);"
		 "INSERT INTO a VALUES('a1'); INSERT INTO b VALUES('b1');"
		 "PRAGMA wal_checkpoint(TRUNCATE)");
	EXEC(db, "UPDATE a SET x = 'a2'");
	EXEC(db, "UPDATE b SET x = 'b2'");
	long long root_a = query_int(db, "SELECT rootpage FROM sqlite_schema WHERE name = 'a'");
	char wal[256];
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	flip_byte(wal, wal_frame_of((uint32_t)root_a) + 24 + 200);

	/* The wal-index is live (db is open): a new connection reads the
	 * frame data alone and must fail. */
	sqlite3 *db2 = open_ok(key_a, SQLITE_OPEN_READWRITE);
	CHECK_INT(sqlite3_db_config(db2, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), ==, SQLITE_OK);
	int rc;
	query_int_rc(db2, "SELECT count(*) FROM a WHERE x = 'a2'", &rc);
	CHECK_INT(rc, ==, SQLITE_IOERR_DATA);
	check_text(db2, "SELECT x FROM b", "b2");
	/* A checkpoint cannot copy the damaged page either. */
	CHECK_INT(sqlite3_exec(db2, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), ==,
		  SQLITE_IOERR_DATA);
	vfs_crypt_close(&db2);
	vfs_crypt_close(&db);

	db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	check_text(db, "SELECT x FROM a", "a1");
	check_text(db, "SELECT x FROM b", "b1");
	check_integrity(db);
	vfs_crypt_close(&db);
}

/* Ten commits, one row each, left in the WAL as a crash leaves them. */
static void ten_commits_in_wal(void)
{
	sqlite3 *db = create_db();
	CHECK_INT(sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL), ==, SQLITE_OK);
	EXEC(db, "PRAGMA wal_autocheckpoint=0; CREATE TABLE t(n INTEGER PRIMARY KEY, s TEXT)");
	for (int i = 1; i <= 10; i++) {
		char *sql = sqlite3_mprintf("INSERT INTO t VALUES(%d, '%d')", i, i);
		EXEC(db, sql);
		sqlite3_free(sql);
	}
	vfs_crypt_close(&db);
}

/* A last frame torn by power loss (half its data never reached the disk),
 * or cut short, ends the log: the database opens as of the commit before. */
VFS_TEST(torn_wal_tail_ends_the_log)
{
	char wal[256];
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	for (int how = 0; how < 2; how++) {
		ten_commits_in_wal();
		struct stat st;
		CHECK_INT(stat(wal, &st), ==, 0);
		CHECK_INT((st.st_size - 32) % 4120, ==, 0);
		if (how == 0) {
			static const uint8_t zeros[2048];
			int fd = open(wal, O_WRONLY);
			CHECK_INT(pwrite(fd, zeros, sizeof(zeros), st.st_size - 2048), ==, 2048);
			close(fd);
		} else {
			CHECK_INT(truncate(wal, st.st_size - 1000), ==, 0);
		}
		sqlite3 *db = open_ok(key_a, SQLITE_OPEN_READWRITE);
		CHECK_INT(query_int(db, "SELECT count(*) FROM t"), ==, 9);
		CHECK_INT(query_int(db, "SELECT max(n) FROM t"), ==, 9);
		check_integrity(db);
		/* And the log goes on from there. */
		EXEC(db, "INSERT INTO t VALUES(10, 'again')");
		vfs_crypt_close(&db);
		db = open_ok(key_a, SQLITE_OPEN_READWRITE);
		check_text(db, "SELECT s FROM t WHERE n = 10", "again");
		vfs_crypt_close(&db);
		CHECK_INT(unlink(db_path), ==, 0);
		unlink(wal);
	}
}

/* The child of one crash round: commits small transactions until killed,
 * and writes the number of each to fd once COMMIT has returned. */
static void crash_child(int fd, unsigned seed)
{
	sqlite3 *db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	EXEC(db, "PRAGMA wal_autocheckpoint=8");
	long long n = query_int(db, "SELECT coalesce(max(n), 0) FROM t");
	sqlite3_stmt *ins, *upd;
	CHECK_INT(sqlite3_prepare_v2(db, "INSERT INTO t(n, pad) VALUES(?, randomblob(?))", -1,
				     &ins, NULL),
		  ==, SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "UPDATE total SET sum = sum + ?", -1, &upd, NULL), ==,
		  SQLITE_OK);
	for (;;) {
		n++;
		EXEC(db, "BEGIN");
		sqlite3_bind_int64(ins, 1, n);
		sqlite3_bind_int(ins, 2, (int)(rand_r(&seed) % 6000));
		CHECK_INT(sqlite3_step(ins), ==, SQLITE_DONE);
		sqlite3_reset(ins);
		sqlite3_bind_int64(upd, 1, n);
		CHECK_INT(sqlite3_step(upd), ==, SQLITE_DONE);
		sqlite3_reset(upd);
		if (n % 5 == 0)
			EXEC(db, "DELETE FROM t WHERE n % 5 = 1 AND pad IS NOT NULL AND n < "
				 "(SELECT max(n) - 50 FROM t)");
		EXEC(db, "COMMIT");
		CHECK_INT(write(fd, &n, sizeof(n)), ==, sizeof(n));
	}
}

/* Every number the child reported is committed: present in t, except the
 * rows a later transaction deleted on purpose (n % 5 == 1, left alone). */
static void crash_verify(long long reported)
{
	sqlite3 *db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	check_integrity(db);
	char *sql = sqlite3_mprintf("SELECT count(*) FROM t WHERE n <= %lld AND n %% 5 != 1",
				    reported);
	CHECK_INT(query_int(db, sql), ==, reported - (reported + 4) / 5);
	sqlite3_free(sql);
	CHECK_INT(query_int(db, "SELECT coalesce(max(n), 0) FROM t"), >=, reported);
	/* Both tables change in the same transactions. */
	CHECK_INT(query_int(db, "SELECT sum FROM total"), ==,
		  query_int(db, "SELECT coalesce(max(n) * (max(n) + 1) / 2, 0) FROM t"));
	vfs_crypt_close(&db);
}

static long long drain_pipe(int fd, long long reported)
{
	long long n;
	ssize_t got;
	while ((got = read(fd, &n, sizeof(n))) == sizeof(n))
		reported = n > reported ? n : reported;
	CHECK_INT(got, ==, 0);
	return reported;
}

VFS_TEST(crash_safety_under_sigkill)
{
	sqlite3 *db = create_db();
	EXEC(db, "CREATE TABLE t(n INTEGER PRIMARY KEY, pad BLOB);"
		 "CREATE TABLE total(sum INTEGER); INSERT INTO total VALUES(0)");
	vfs_crypt_close(&db);

	unsigned seed = (unsigned)time(NULL);
	long long reported = 0;
	/* 80 rounds take about 5 s; more for a soak run. */
	const char *env = getenv("VFS_CRYPT_CRASH_ROUNDS");
	int rounds = env ? atoi(env) : 80;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int round = 0; round < rounds; round++) {
		int fds[2];
		CHECK_INT(pipe(fds), ==, 0);
		fflush(NULL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			crash_child(fds[1], seed + (unsigned)round);
			_exit(1);
		}
		close(fds[1]);
		struct timespec wait = { 0, (long)(rand_r(&seed) % 60000) * 1000 };
		nanosleep(&wait, NULL);
		CHECK_INT(kill(pid, SIGKILL), ==, 0);
		int status;
		CHECK_INT(waitpid(pid, &status, 0), ==, pid);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		reported = drain_pipe(fds[0], reported);
		close(fds[0]);
		crash_verify(reported);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("crash rounds: %d, commits reported: %lld, %.1f s\n", rounds, reported,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	CHECK_INT(reported, >, rounds / 8);
}

/* Files other than the database and its WAL are never opened, and the
 * pragmas that would need them are refused. */
VFS_TEST(refuses_files_in_the_clear)
{
	sqlite3 *db = create_db();
	EXEC(db, "CREATE TABLE t(x); INSERT INTO t VALUES('" MARKER "')");
	static const char *const refused[] = {
		"PRAGMA journal_mode=DELETE", "PRAGMA journal_mode=TRUNCATE",
		"PRAGMA journal_mode=PERSIST", "PRAGMA journal_mode=MEMORY",
		"PRAGMA journal_mode=OFF", "PRAGMA main.journal_mode=delete",
		"PRAGMA temp_store=FILE", "PRAGMA temp_store=0", "PRAGMA page_size=8192",
		"PRAGMA mmap_size=1048576",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *err = NULL;
		CHECK_INT(sqlite3_exec(db, refused[i], NULL, NULL, &err), ==, SQLITE_ERROR);
		CHECK(err && strstr(err, "sealcrypt"));
		sqlite3_free(err);
	}
	check_text(db, "PRAGMA journal_mode", "wal");
	EXEC(db, "PRAGMA journal_mode=WAL; PRAGMA temp_store=MEMORY; PRAGMA page_size=4096;"
		 "PRAGMA mmap_size=0");
	EXEC(db, "INSERT INTO t VALUES('" MARKER "')");

	/* Another database, through ATTACH or VACUUM INTO, is refused; a
	 * temporary one ('' and TEMP tables) lives in memory. */
	char *sql = sqlite3_mprintf("ATTACH '%q/other.db' AS o", test_dir);
	CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_CANTOPEN);
	sqlite3_free(sql);
	sql = sqlite3_mprintf("VACUUM INTO '%q/copy.db'", test_dir);
	CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_CANTOPEN);
	sqlite3_free(sql);
	EXEC(db, "ATTACH '' AS scratch; CREATE TABLE scratch.s AS SELECT * FROM t;"
		 "CREATE TEMP TABLE tt AS SELECT * FROM t; DETACH scratch");

	/* The VFS itself refuses every other kind of file. */
	sqlite3_vfs *vfs = sqlite3_vfs_find(VFS_CRYPT_NAME);
	CHECK(vfs != NULL);
	static const int kinds[] = { SQLITE_OPEN_MAIN_JOURNAL, SQLITE_OPEN_TEMP_DB,
				     SQLITE_OPEN_TEMP_JOURNAL, SQLITE_OPEN_SUBJOURNAL,
				     SQLITE_OPEN_SUPER_JOURNAL, SQLITE_OPEN_TRANSIENT_DB };
	sqlite3_file *f = calloc(1, (size_t)vfs->szOsFile);
	char *journal = sqlite3_mprintf("%s-journal", db_path);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int flags = kinds[i] | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
		CHECK_INT(vfs->xOpen(vfs, journal, f, flags, NULL), ==, SQLITE_CANTOPEN);
		CHECK(f->pMethods == NULL);
		CHECK_INT(vfs->xOpen(vfs, NULL, f, flags | SQLITE_OPEN_DELETEONCLOSE, NULL), ==,
			  SQLITE_CANTOPEN);
	}
	/* A main database nobody gave a key for. */
	CHECK_INT(vfs->xOpen(vfs, journal, f, SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_READWRITE |
						     SQLITE_OPEN_CREATE, NULL),
		  ==, SQLITE_CANTOPEN);
	sqlite3_free(journal);
	free(f);
	vfs_crypt_close(&db);

	int files;
	CHECK_INT(scan_dir(test_dir, &files), ==, 0);
	CHECK_INT(files, ==, 1);	/* the database alone; WAL deleted on close */
}

/* A transaction far bigger than the page cache, a sort bigger than it, an
 * index build, a statement that needs a statement journal, and VACUUM: all
 * without a temporary file. */
VFS_TEST(big_transaction_and_vacuum)
{
	sqlite3 *db = create_db();
	EXEC(db, "PRAGMA cache_size=-512");	/* 512 KiB, to force spills */
	EXEC(db, "CREATE TABLE m(id INTEGER PRIMARY KEY, uid INTEGER UNIQUE, body TEXT)");
	EXEC(db, "BEGIN");
	EXEC(db, SERIES(1, 20000) "INSERT INTO m(uid, body) "
				  "SELECT value, printf('%d-%s', value, hex(randomblob(150))) FROM s");
	EXEC(db, "UPDATE m SET uid = uid + 100000");	/* UNIQUE: a statement journal */
	EXEC(db, "CREATE INDEX m_body ON m(body)");
	EXEC(db, "COMMIT");
	CHECK_INT(query_int(db, "SELECT count(*) FROM (SELECT body FROM m ORDER BY random())"), ==,
		  20000);
	CHECK_INT(query_int(db, "SELECT count(DISTINCT substr(body, 10)) FROM m"), ==, 20000);
	EXEC(db, "DELETE FROM m WHERE id % 2 = 0");
	long long before = query_int(db, "PRAGMA page_count");
	EXEC(db, "VACUUM");
	CHECK_INT(query_int(db, "PRAGMA page_count"), <, before);
	check_integrity(db);
	CHECK_INT(query_int(db, "SELECT sum(uid) FROM m"), ==, 10000LL * 100000 + 10000LL * 10000);
	/* VACUUM kept the geometry. */
	int reserve = -1;
	CHECK_INT(sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve), ==,
		  SQLITE_OK);
	CHECK_INT(reserve, ==, VFS_CRYPT_RESERVE);
	vfs_crypt_close(&db);
	db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	CHECK_INT(query_int(db, "SELECT count(*) FROM m"), ==, 10000);
	check_integrity(db);
	vfs_crypt_close(&db);
}

VFS_TEST(two_connections_take_turns)
{
	sqlite3 *a = create_db();
	EXEC(a, "CREATE TABLE t(n INTEGER, who TEXT)");
	sqlite3 *b = open_ok(key_a, SQLITE_OPEN_READWRITE);
	for (int i = 1; i <= 100; i++) {
		sqlite3 *w = i % 2 ? a : b, *r = i % 2 ? b : a;
		char *sql = sqlite3_mprintf("INSERT INTO t VALUES(%d, '%s')", i, i % 2 ? "a" : "b");
		EXEC(w, sql);
		sqlite3_free(sql);
		CHECK_INT(query_int(r, "SELECT count(*) FROM t"), ==, i);
		CHECK_INT(query_int(r, "SELECT max(n) FROM t"), ==, i);
		if (i % 25 == 0)
			EXEC(r, "PRAGMA wal_checkpoint(PASSIVE)");
	}
	/* A read transaction in one sees a stable snapshot while the other
	 * writes. */
	EXEC(b, "BEGIN");
	CHECK_INT(query_int(b, "SELECT count(*) FROM t"), ==, 100);
	EXEC(a, "INSERT INTO t VALUES(101, 'a')");
	CHECK_INT(query_int(b, "SELECT count(*) FROM t"), ==, 100);
	EXEC(b, "COMMIT");
	CHECK_INT(query_int(b, "SELECT count(*) FROM t"), ==, 101);
	vfs_crypt_close(&a);
	check_integrity(b);
	vfs_crypt_close(&b);
}

static void *thread_writer(void *arg)
{
	sqlite3 *db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	for (int i = 0; i < 200; i++) {
		char *sql = sqlite3_mprintf("BEGIN IMMEDIATE; INSERT INTO t VALUES(%d, %d);"
					    "COMMIT",
					    (int)(intptr_t)arg, i);
		EXEC(db, sql);
		sqlite3_free(sql);
		CHECK_INT(query_int(db, "SELECT count(*) FROM t"), >, i);
	}
	vfs_crypt_close(&db);
	return NULL;
}

/* Connections opened and used on several threads at once share the key
 * registry and the wal-index. */
VFS_TEST(threads_share_the_database)
{
	sqlite3 *db = create_db();
	EXEC(db, "CREATE TABLE t(thread INTEGER, i INTEGER)");
	vfs_crypt_close(&db);
	pthread_t th[4];
	for (intptr_t i = 0; i < 4; i++)
		CHECK_INT(pthread_create(&th[i], NULL, thread_writer, (void *)i), ==, 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	db = open_ok(key_a, SQLITE_OPEN_READWRITE);
	CHECK_INT(query_int(db, "SELECT count(*) FROM t"), ==, 800);
	CHECK_INT(query_int(db, "SELECT count(DISTINCT thread) FROM t"), ==, 4);
	check_integrity(db);
	vfs_crypt_close(&db);
}
