/* The sealed file methods of the "sealcrypt" VFS: every page is encrypted on
 * its way to the unix file and authenticated on its way back. The format is
 * described in vfs-crypt.h.
 *
 * SQLite talks to the main database in whole, page-aligned pages except for
 * the first bytes of the header it reads on open (100 bytes at 0, 16 at 24),
 * and to the WAL in three shapes: its 32-byte header, 24-byte frame headers,
 * and page-sized frame data, written separately and read either separately
 * (readers, checkpoints) or as whole frames (recovery). We accept every read
 * shape and refuse any write that is not one of those, because a partial
 * page cannot be sealed.
 */
#include "storage/vfs-crypt-private.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/platform_util.h>

/* Domain strings of the AAD: a page sealed for one file never opens as a
 * page of the other. */
static const char aad_db[] = "sealmail-db";
static const char aad_wal[] = "sealmail-wal";
#define AAD_MAX (sizeof(aad_wal) - 1 + 8)

static const uint8_t sqlite_magic[16] = "SQLite format 3";

static struct vfs_crypt_file *to_file(sqlite3_file *file)
{
	return (struct vfs_crypt_file *)file;
}

static size_t page_aad(const struct vfs_crypt_file *f, sqlite3_int64 off, uint8_t aad[AAD_MAX])
{
	const char *domain = f->kind == VFS_CRYPT_WAL ? aad_wal : aad_db;
	size_t len = strlen(domain);
	memcpy(aad, domain, len);
	for (int i = 0; i < 8; i++)
		aad[len + i] = (uint8_t)((uint64_t)off >> (56 - 8 * i));
	return len + 8;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

/* SQLite never stores anything in the reserved bytes; our reads give them
 * back as zeros, and the WAL checksums SQLite computes cover them, so a page
 * with something there would make a valid frame look torn at the next
 * recovery. Page 1 must say what the geometry is, or SQLite would read the
 * file with other bounds than we seal it with. Refusing such a write is
 * loud; sealing it would lose data quietly. */
static bool page_writable(const uint8_t *plain)
{
	if (!all_zero(plain + VFS_CRYPT_BODY, VFS_CRYPT_RESERVE))
		return false;
	if (memcmp(plain, sqlite_magic, sizeof(sqlite_magic)) != 0)
		return true;
	unsigned page_size = (unsigned)plain[16] << 8 | plain[17];
	return page_size == VFS_CRYPT_PAGE_SIZE && plain[20] >= VFS_CRYPT_RESERVE;
}

/* Seals one plaintext page for offset off of this file into f->sealed. */
static int page_seal(struct vfs_crypt_file *f, const uint8_t *plain, sqlite3_int64 off)
{
	uint8_t aad[AAD_MAX];
	uint8_t *nonce = f->sealed + VFS_CRYPT_BODY;
	uint8_t *tag = nonce + VFS_CRYPT_NONCE_LEN;

	if (!page_writable(plain))
		return SQLITE_IOERR_WRITE;
	/* A fresh random nonce per write: 2^32 writes under one key keep the
	 * chance of a repeat below 2^-32, far more than a mailbox makes.
	 * getrandom rather than a DRBG: no shared state between threads and
	 * nothing a fork() could duplicate. */
	if (getrandom(nonce, VFS_CRYPT_NONCE_LEN, 0) != VFS_CRYPT_NONCE_LEN)
		return SQLITE_IOERR_WRITE;
	size_t aad_len = page_aad(f, off, aad);
	if (mbedtls_gcm_crypt_and_tag(&f->gcm, MBEDTLS_GCM_ENCRYPT, VFS_CRYPT_BODY, nonce,
				      VFS_CRYPT_NONCE_LEN, aad, aad_len, plain, f->sealed,
				      VFS_CRYPT_TAG_LEN, tag) != 0)
		return SQLITE_IOERR_WRITE;
	memset(tag + VFS_CRYPT_TAG_LEN, 0, VFS_CRYPT_PAGE_SIZE - VFS_CRYPT_BODY -
						   VFS_CRYPT_NONCE_LEN - VFS_CRYPT_TAG_LEN);
	return SQLITE_OK;
}

/* Opens f->sealed, read from offset off, into out (a whole page). Returns
 * false, with out zeroed, when the page does not authenticate. */
static bool page_open(struct vfs_crypt_file *f, sqlite3_int64 off, uint8_t *out)
{
	uint8_t aad[AAD_MAX];
	const uint8_t *nonce = f->sealed + VFS_CRYPT_BODY;
	const uint8_t *tag = nonce + VFS_CRYPT_NONCE_LEN;
	const uint8_t *pad = tag + VFS_CRYPT_TAG_LEN;

	memset(out + VFS_CRYPT_BODY, 0, VFS_CRYPT_RESERVE);
	/* The pad is outside the tag; checking it means no bit of the page
	 * can change unnoticed. */
	if (!all_zero(pad, VFS_CRYPT_PAGE_SIZE - (size_t)(pad - f->sealed)))
		goto fail;
	size_t aad_len = page_aad(f, off, aad);
	if (mbedtls_gcm_auth_decrypt(&f->gcm, VFS_CRYPT_BODY, nonce, VFS_CRYPT_NONCE_LEN, aad,
				     aad_len, tag, VFS_CRYPT_TAG_LEN, f->sealed, out) == 0)
		return true;
fail:
	memset(out, 0, VFS_CRYPT_BODY);
	return false;
}

/* Reads the sealed page at off into f->sealed and opens it into out.
 * SQLITE_IOERR_SHORT_READ (out zeroed) when the page lies wholly past the end
 * of the file, as the unix VFS reports reads past the end. A page that is
 * there but does not authenticate, including one cut short and a hole of
 * zeros, is SQLITE_IOERR_DATA. */
static int page_read(struct vfs_crypt_file *f, sqlite3_int64 off, uint8_t *out)
{
	int rc = f->real->pMethods->xRead(f->real, f->sealed, VFS_CRYPT_PAGE_SIZE, off);
	if (rc == SQLITE_IOERR_SHORT_READ && all_zero(f->sealed, VFS_CRYPT_PAGE_SIZE)) {
		memset(out, 0, VFS_CRYPT_PAGE_SIZE);
		return rc;
	}
	if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
		return rc;
	return page_open(f, off, out) ? SQLITE_OK : SQLITE_IOERR_DATA;
}

/* Copies [off, off + amt) of the page at page_off out of a plaintext page,
 * reading it whole; a read of exactly the page opens straight into buf. */
static int page_read_part(struct vfs_crypt_file *f, sqlite3_int64 page_off, uint8_t *buf,
			  int amt, sqlite3_int64 off)
{
	if (off == page_off && amt == VFS_CRYPT_PAGE_SIZE)
		return page_read(f, page_off, buf);
	int rc = page_read(f, page_off, f->plain);
	memcpy(buf, f->plain + (off - page_off), (size_t)amt);
	return rc;
}

static int db_read(struct vfs_crypt_file *f, uint8_t *buf, int amt, sqlite3_int64 off)
{
	int result = SQLITE_OK;
	while (amt > 0) {
		sqlite3_int64 page_off = off - off % VFS_CRYPT_PAGE_SIZE;
		int n = VFS_CRYPT_PAGE_SIZE - (int)(off - page_off);
		if (n > amt)
			n = amt;
		int rc = page_read_part(f, page_off, buf, n, off);
		if (rc == SQLITE_IOERR_SHORT_READ)
			result = rc;
		else if (rc != SQLITE_OK)
			return rc;
		buf += n;
		off += n;
		amt -= n;
	}
	return result;
}

/* Where off falls in the WAL: [*begin, *end) is its region, and the result
 * says whether that region is sealed frame data or clear header bytes. */
static bool wal_region(sqlite3_int64 off, sqlite3_int64 *begin, sqlite3_int64 *end)
{
	if (off < VFS_CRYPT_WAL_HDR) {
		*begin = 0;
		*end = VFS_CRYPT_WAL_HDR;
		return false;
	}
	sqlite3_int64 frame = off - (off - VFS_CRYPT_WAL_HDR) % VFS_CRYPT_FRAME;
	if (off < frame + VFS_CRYPT_FRAME_HDR) {
		*begin = frame;
		*end = frame + VFS_CRYPT_FRAME_HDR;
		return false;
	}
	*begin = frame + VFS_CRYPT_FRAME_HDR;
	*end = frame + VFS_CRYPT_FRAME;
	return true;
}

/* Frame data that does not authenticate. A read of it alone (a reader or a
 * checkpoint) fails. A read that also covers the frame's header is WAL
 * recovery walking the log, and recovery must treat a torn last frame (power
 * lost mid-write) as the end of the log, not as a fatal error. So we hand it
 * the frame with its salt inverted and its data zeroed: SQLite rejects a
 * frame whose salt differs from the header's and stops there, exactly as it
 * does for a torn frame in a clear WAL. No wrong page ever reaches a query,
 * since readers fetch frame data with reads of their own. */
static int wal_bad_frame(uint8_t *start_buf, sqlite3_int64 start, sqlite3_int64 data_begin,
			 uint8_t *out, int amt)
{
	sqlite3_int64 salt = data_begin - VFS_CRYPT_FRAME_HDR + 8;
	if (start > salt)
		return SQLITE_IOERR_DATA;
	for (int i = 0; i < 8; i++)
		start_buf[salt - start + i] ^= 0xff;
	memset(out, 0, (size_t)amt);
	return SQLITE_OK;
}

static int wal_read(struct vfs_crypt_file *f, uint8_t *buf, int amt, sqlite3_int64 off)
{
	uint8_t *out = buf;
	sqlite3_int64 start = off, begin, end;
	int result = SQLITE_OK, rc;

	while (amt > 0) {
		bool sealed = wal_region(off, &begin, &end);
		int n = end - off < amt ? (int)(end - off) : amt;
		if (!sealed)
			rc = f->real->pMethods->xRead(f->real, out, n, off);
		else
			rc = page_read_part(f, begin, out, n, off);
		if (rc == SQLITE_IOERR_DATA)
			rc = wal_bad_frame(buf, start, begin, out, n);
		if (rc == SQLITE_IOERR_SHORT_READ)
			result = rc;
		else if (rc != SQLITE_OK)
			return rc;
		out += n;
		off += n;
		amt -= n;
	}
	return result;
}

static int crypt_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
	struct vfs_crypt_file *f = to_file(file);
	if (amt < 0 || off < 0)
		return SQLITE_IOERR_READ;
	if (f->kind == VFS_CRYPT_WAL)
		return wal_read(f, buf, amt, off);
	return db_read(f, buf, amt, off);
}

static int page_write(struct vfs_crypt_file *f, const void *buf, sqlite3_int64 off)
{
	int rc = page_seal(f, buf, off);
	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xWrite(f->real, f->sealed, VFS_CRYPT_PAGE_SIZE, off);
}

static int crypt_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	struct vfs_crypt_file *f = to_file(file);
	sqlite3_int64 begin, end;

	if (amt <= 0 || off < 0)
		return SQLITE_IOERR_WRITE;
	if (f->kind == VFS_CRYPT_MAIN_DB) {
		if (off % VFS_CRYPT_PAGE_SIZE != 0 || amt != VFS_CRYPT_PAGE_SIZE)
			return SQLITE_IOERR_WRITE;
		return page_write(f, buf, off);
	}
	if (wal_region(off, &begin, &end)) {
		if (off != begin || amt != VFS_CRYPT_PAGE_SIZE)
			return SQLITE_IOERR_WRITE;
		return page_write(f, buf, off);
	}
	if (amt > end - off)
		return SQLITE_IOERR_WRITE;
	return f->real->pMethods->xWrite(f->real, buf, amt, off);
}

static int crypt_close(sqlite3_file *file)
{
	struct vfs_crypt_file *f = to_file(file);
	int rc = SQLITE_OK;
	if (f->real->pMethods)
		rc = f->real->pMethods->xClose(f->real);
	mbedtls_gcm_free(&f->gcm);
	mbedtls_platform_zeroize(f->plain, sizeof(f->plain));
	vfs_crypt__key_put(&f->key);
	f->base.pMethods = NULL;
	return rc;
}

static int crypt_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xTruncate(real, size);
}

static atomic_uint_fast64_t syncs;

uint64_t vfs_crypt_syncs(void)
{
	return atomic_load(&syncs);
}

static int crypt_sync(sqlite3_file *file, int flags)
{
	sqlite3_file *real = to_file(file)->real;
	atomic_fetch_add(&syncs, 1);
	return real->pMethods->xSync(real, flags);
}

static int crypt_file_size(sqlite3_file *file, sqlite3_int64 *size_r)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xFileSize(real, size_r);
}

static int crypt_lock(sqlite3_file *file, int level)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xLock(real, level);
}

static int crypt_unlock(sqlite3_file *file, int level)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xUnlock(real, level);
}

static int crypt_check_reserved(sqlite3_file *file, int *out)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xCheckReservedLock(real, out);
}

/* Pragmas that would make SQLite write a file in the clear (a rollback
 * journal, a temporary file) or change the page geometry we seal. Returns
 * the reason to refuse, or NULL to let SQLite handle the pragma.
 *
 * journal_mode=OFF passes while the database file is empty, and only then:
 * turning a new database to WAL writes page 1 in a rollback-mode
 * transaction, which would open a rollback journal; with OFF it opens none.
 * vfs_crypt_open() sets OFF then WAL before anything else is written. */
static const char *pragma_refusal(struct vfs_crypt_file *f, const char *name, const char *value)
{
	sqlite3_int64 size;
	if (!value)
		return NULL;	/* a query changes nothing */
	if (sqlite3_stricmp(name, "journal_mode") == 0 && sqlite3_stricmp(value, "wal") != 0) {
		if (sqlite3_stricmp(value, "off") == 0 &&
		    f->real->pMethods->xFileSize(f->real, &size) == SQLITE_OK && size == 0)
			return NULL;
		return "journal_mode must stay WAL";
	}
	if (sqlite3_stricmp(name, "temp_store") == 0 && sqlite3_stricmp(value, "memory") != 0 &&
	    strcmp(value, "2") != 0)
		return "temp_store must stay MEMORY";
	if (sqlite3_stricmp(name, "page_size") == 0 && strcmp(value, "4096") != 0)
		return "page_size must stay 4096";
	/* SQLite would not map the file (no xFetch), but the unix VFS would
	 * then grow it with ftruncate before checkpoints, leaving holes. */
	if (sqlite3_stricmp(name, "mmap_size") == 0 && strcmp(value, "0") != 0)
		return "mmap_size must stay 0";
	return NULL;
}

static int crypt_file_control(sqlite3_file *file, int op, void *arg)
{
	struct vfs_crypt_file *f = to_file(file);
	if (op == SQLITE_FCNTL_PRAGMA) {
		char **args = arg;
		const char *why = pragma_refusal(f, args[1], args[2]);
		if (why) {
			args[0] = sqlite3_mprintf("sealcrypt: %s", why);
			return SQLITE_ERROR;
		}
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

/* Sector size and device characteristics are the unix file's own: SQLite's
 * crash safety rests on them, and we change neither atomicity nor ordering
 * (a page write is still one write of the same size at the same place). */
static int crypt_sector_size(sqlite3_file *file)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xSectorSize(real);
}

static int crypt_device_characteristics(sqlite3_file *file)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xDeviceCharacteristics(real);
}

/* The wal-index (-shm) holds page numbers and hashes, no page content, and
 * lives in shared memory the unix VFS maps: passed through unchanged. */
static int crypt_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **p)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xShmMap(real, page, size, extend, p);
}

static int crypt_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xShmLock(real, offset, n, flags);
}

static void crypt_shm_barrier(sqlite3_file *file)
{
	sqlite3_file *real = to_file(file)->real;
	real->pMethods->xShmBarrier(real);
}

static int crypt_shm_unmap(sqlite3_file *file, int delete_flag)
{
	sqlite3_file *real = to_file(file)->real;
	return real->pMethods->xShmUnmap(real, delete_flag);
}

/* Version 2: the shm methods but no xFetch/xUnfetch, so SQLite never maps
 * the file and reads every page through crypt_read. */
const sqlite3_io_methods vfs_crypt_io_methods = {
	.iVersion = 2,
	.xClose = crypt_close,
	.xRead = crypt_read,
	.xWrite = crypt_write,
	.xTruncate = crypt_truncate,
	.xSync = crypt_sync,
	.xFileSize = crypt_file_size,
	.xLock = crypt_lock,
	.xUnlock = crypt_unlock,
	.xCheckReservedLock = crypt_check_reserved,
	.xFileControl = crypt_file_control,
	.xSectorSize = crypt_sector_size,
	.xDeviceCharacteristics = crypt_device_characteristics,
	.xShmMap = crypt_shm_map,
	.xShmLock = crypt_shm_lock,
	.xShmBarrier = crypt_shm_barrier,
	.xShmUnmap = crypt_shm_unmap,
};
