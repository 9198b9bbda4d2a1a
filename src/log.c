#include "src/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static bool log_to_syslog;
static int log_max_level = LOG_INFO;

void log_init(const char *ident, bool use_syslog, int max_level)
{
	if (log_to_syslog && !use_syslog)
		closelog();
	log_to_syslog = use_syslog;
	log_max_level = max_level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_level(int max_level)
{
	log_max_level = max_level;
}

bool log_enabled(int level)
{
	return level <= log_max_level;
}

const char *log_level_name(int level)
{
	switch (level) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void log_msg(int level, uint64_t conn_id, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Control characters from peers must not forge log lines. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	char id[32] = "";
	if (conn_id)
		snprintf(id, sizeof(id), "[c%llu] ", (unsigned long long)conn_id);
	if (log_to_syslog) {
		syslog(level, "%s%s", id, msg);
		return;
	}
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char ts[32];
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03dZ %s %s%s\n", ts, (int)(tv.tv_usec / 1000),
		log_level_name(level), id, msg);
}
