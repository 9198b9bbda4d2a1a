/* Logging to stderr or syslog, with levels (syslog's LOG_* values) and an
 * optional connection id so one session's lines can be followed:
 *
 *   2026-11-23T02:03:04.123Z info [c42] imaps: 127.0.0.1:51234 connected
 *
 * Not thread-safe beyond what stdio and syslog guarantee; call from the loop
 * thread (workers return errors instead of logging). */
#ifndef SEAL_LOG_H
#define SEAL_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

void log_init(const char *ident, bool use_syslog, int max_level);
void log_set_level(int max_level);
bool log_enabled(int level);
/* conn_id 0 means no connection. */
void log_msg(int level, uint64_t conn_id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *log_level_name(int level);

#define log_error(...) log_msg(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, 0, __VA_ARGS__)

#endif
