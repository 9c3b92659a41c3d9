/*
 * log.h -- leveled logging by source, to stderr (text or JSON) or syslog.
 *
 * The sink is the one piece of file-scope mutable state besides static
 * tables (STYLE.md): it is set once at start and on reload, from the main
 * thread, and read by every thread. Each call writes one line with one
 * write(2), so lines from worker threads never interleave.
 *
 * Never pass credentials, signatures or Authorization headers to these
 * functions.
 */
#ifndef LOG_LOG_H
#define LOG_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

enum log_source {
	LOG_SRC_MAIN = 0,
	LOG_SRC_CONF,
	LOG_SRC_ZONE,
	LOG_SRC_DNS,
	LOG_SRC_ARC,
	LOG_SRC_POLICY,
	LOG_SRC_HTTP,
	LOG_SRC_CTL,
	LOG_SRC_FENCE,
	LOG_SRC_COUNT
};

enum log_format {
	LOG_FORMAT_TEXT = 0,
	LOG_FORMAT_JSON
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG
};

/* Set the program name, format, target and one level for every source. */
void	log_setup(const char *progname, enum log_format format,
	    enum log_target target, enum log_level level);
/* Override the level of one source. */
void	log_set_level(enum log_source src, enum log_level level);
bool	log_enabled(enum log_source src, enum log_level level);

/* Parse "err|warn|notice|info|debug" (and "error", "warning"). */
int	log_level_parse(const char *s, enum log_level *out)
	    __attribute__((warn_unused_result));

void	log_msg(enum log_source src, enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Like log_msg, with ": strerror(errnum)" appended. */
void	log_msg_errno(enum log_source src, enum log_level level, int errnum,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_err(src, ...)	log_msg((src), LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(src, ...)	log_msg((src), LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(src, ...)	log_msg((src), LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(src, ...)	log_msg((src), LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(src, ...)						\
	do {								\
		if (log_enabled((src), LOG_LEVEL_DEBUG))		\
			log_msg((src), LOG_LEVEL_DEBUG, __VA_ARGS__);	\
	} while (0)

/*
 * Rate-limited warning for per-packet trouble (a malformed query, a failed
 * send): at most a few lines per second per source, with a count of what
 * was suppressed. Safe from any thread.
 */
void	log_neterr(enum log_source src, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
