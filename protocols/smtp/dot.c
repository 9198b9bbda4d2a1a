#include "protocols/smtp/dot.h"

void smtp_dot_init(struct smtp_dot *d, bool client_unix)
{
	d->convert = client_unix;
	d->detect = true;
	d->bol = true;
}

bool smtp_dot_line(struct smtp_dot *d, const char *line, size_t len, bool crlf, size_t *skip_r,
		   const char **eol_r)
{
	if (d->detect) {
		d->detect = false;
		if (!crlf)
			d->convert = true;
	}
	*skip_r = 0;
	if (d->bol && len >= 1 && line[0] == '.') {
		if (len == 1)
			return true;
		*skip_r = 1;
	}
	*eol_r = crlf || d->convert ? "\r\n" : "\n";
	d->bol = crlf || d->convert;
	return false;
}
