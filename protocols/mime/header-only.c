/* Trees from a header block alone (mime.h, "Header-only trees").
 *
 * Why a parse of the first hdr_len bytes gives the root of the full parse:
 * the top-level header is read with no boundary open (nothing but a blank
 * line or the end stops it), each line is decided by its own bytes up to
 * and including its line feed, and the scan stops right after the blank
 * line, so it reads and decides exactly what the full parse did. The root's
 * range is never changed afterwards (only a boundary of an enclosing part
 * can cut a header short). What the body adds to the root, its length and
 * line count, is set from the facts the cache kept; a root with children or
 * an enclosed message has more than that, so it only ever serves the
 * header items. The checks below refuse a block that does not end where a
 * full parse would have ended it. */
#include <errno.h>

#include "protocols/mime/mime-private.h"

void mime_header_facts(const struct mime_message *msg, struct mime_header_facts *f_r)
{
	const struct mime_part *root = msg->root;
	f_r->hdr_len = root->hdr_off == 0 ? root->hdr_len : 0;
	f_r->single = !(root->flags & MIME_PART_MULTIPART) && root->message == NULL;
	f_r->lines = f_r->single ? root->lines : 0;
}

int mime_parse_header(const void *hdr, size_t hdr_len, uint64_t size, const uint64_t *lines,
		      struct mime_message **msg_r)
{
	*msg_r = NULL;
	if (hdr_len == 0 || hdr_len > size)
		return -ESTALE;
	struct mime_source src = mime_source_memory(hdr, hdr_len);
	struct mime_message *msg;
	int r = mime_parse(&src, NULL, &msg);
	if (r < 0)
		return r;
	struct mime_part *root = msg->root;
	bool whole = root->hdr_off == 0 && root->hdr_len == hdr_len &&
		     ((root->flags & MIME_PART_BLANK_LINE) || hdr_len == size);
	bool single = !(root->flags & MIME_PART_MULTIPART) && root->message == NULL;
	if (!whole || (lines && !single)) {
		mime_message_free(&msg);
		return -ESTALE;
	}
	msg->size = size;
	root->body_off = hdr_len;
	root->body_len = size - hdr_len;
	root->lines = lines ? *lines : 0;
	*msg_r = msg;
	return 0;
}
