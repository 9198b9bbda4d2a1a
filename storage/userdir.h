/* User names, the users directory, and the small file helpers the account
 * and key code share (DESIGN.md section 4, manual "Managing Users").
 *
 * A user is an entry of ROOT/users: a directory, or a symlink to one (an
 * alias). Nothing inside the user directory records the user's name, so
 * renaming the entry renames the user, and moving a directory (or a symlink
 * to it) into users/ imports one.
 *
 * A name that starts with '%' is a disabled user: every lookup fails as "no
 * such user". We go one step further than the manual: an alias whose target
 * directory's own name starts with '%' is disabled too, so disabling a user
 * by renaming it also disables its aliases.
 *
 * Thread safety: every function here is reentrant and may run on the worker
 * pool (they block on the file system).
 *
 * Errors: negative errno codes; where an error_r parameter is a char **, it
 * receives a heap string for the log that the caller frees (it may be NULL
 * to ignore the text); a const char ** receives a static string.
 */
#ifndef SEAL_STORAGE_USERDIR_H
#define SEAL_STORAGE_USERDIR_H

#include <stdbool.h>
#include <stddef.h>

#define USERDIR_NAME_MAX 255	/* bytes of a user name (one path component) */

/* Checks that name may name a user: not empty, at most USERDIR_NAME_MAX
 * bytes, valid UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), no '/', no control characters (C0, DEL, C1), not starting with
 * '.' (hidden entries, "." and "..", and our temporary directories) nor
 * with '%' (disabled users). Returns 0, or -EINVAL with *error_r (if not
 * NULL) set to a static reason. */
int userdir_check_name(const char *name, const char **error_r);

/* True when s[0..len) is valid UTF-8 without control characters (C0, DEL,
 * C1): text we store in our own files, such as mailbox names. */
bool userdir_text_valid(const char *s, size_t len);

/* Finds the data directory of user name under users_dir (a directory or a
 * symlink to one). On success returns 0 and sets *user_dir_r to the
 * canonical absolute path (symlinks resolved, so an alias and the user it
 * points to give the same string), which the caller frees.
 * Returns -ENOENT ("no such user") for an invalid, disabled ('%') or
 * missing name, an entry that is not a directory, or an alias to a disabled
 * directory; -EACCES or -EIO for file system trouble. */
int userdir_lookup(const char *users_dir, const char *name, char **user_dir_r, char **error_r);

/* Reads the whole regular file at path (not following a final symlink) into
 * a new NUL-terminated heap buffer. Files of more than max bytes are refused
 * with -EFBIG; -ENOENT when missing; other negative errno codes on I/O
 * errors. The caller frees *data_r (wiping it first if it holds secrets). */
int userdir_read_file(const char *path, size_t max, char **data_r, size_t *len_r, char **error_r);

/* Writes len bytes to dir/name atomically and durably: a temporary file in
 * tmp_dir (which must be on the same file system as dir, normally the user's
 * tmp/), fsync, rename to dir/name, fsync dir. The file gets mode 0600.
 * When replace is false, an existing dir/name is never overwritten: the call
 * fails with -EEXIST and leaves it alone. On any failure the temporary file
 * is removed. */
int userdir_write_atomic(const char *dir, const char *tmp_dir, const char *name, const void *data,
			 size_t len, bool replace, char **error_r);

/* fsyncs the directory at path. Returns 0 or a negative errno code. */
int userdir_fsync_dir(const char *path);

/* Removes path and, if it is a directory, everything below it without
 * following symlinks (at most 16 levels deep). A missing path is not an
 * error. Returns 0 or the first negative errno code met. */
int userdir_remove_tree(const char *path);

#endif
