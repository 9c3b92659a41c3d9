#include "log/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util/err.h"

/* The sink: set from the main thread, read everywhere (see log.h). */
static struct {
	char			prog[32];
	enum log_format		format;
	enum log_target		target;
	_Atomic int		level[LOG_SRC_COUNT];
} sink = {
	.prog = "arcdns",
	.level = {LOG_LEVEL_INFO, LOG_LEVEL_INFO, LOG_LEVEL_INFO,
	    LOG_LEVEL_INFO, LOG_LEVEL_INFO, LOG_LEVEL_INFO, LOG_LEVEL_INFO,
	    LOG_LEVEL_INFO, LOG_LEVEL_INFO},
};

/* Rate limit for log_neterr: one window per second, shared by sources. */
static _Atomic long neterr_window;
static _Atomic unsigned neterr_count;
static _Atomic unsigned neterr_dropped;
#define NETERR_PER_SEC 5

static const char *const src_names[LOG_SRC_COUNT] = {
	"main", "conf", "zone", "dns", "arc", "policy", "http", "ctl",
	"fence"
};
static const char *const level_names[] = {
	"error", "warning", "notice", "info", "debug"
};

void
log_setup(const char *progname, enum log_format format,
    enum log_target target, enum log_level level)
{
	snprintf(sink.prog, sizeof(sink.prog), "%s", progname);
	sink.format = format;
	if (target == LOG_TARGET_SYSLOG && sink.target != LOG_TARGET_SYSLOG)
		openlog(sink.prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	sink.target = target;
	for (int i = 0; i < LOG_SRC_COUNT; i++)
		atomic_store(&sink.level[i], (int)level);
}

void
log_set_level(enum log_source src, enum log_level level)
{
	atomic_store(&sink.level[src], (int)level);
}

bool
log_enabled(enum log_source src, enum log_level level)
{
	return (int)level <= atomic_load(&sink.level[src]);
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{"err", LOG_LEVEL_ERR}, {"error", LOG_LEVEL_ERR},
		{"warn", LOG_LEVEL_WARN}, {"warning", LOG_LEVEL_WARN},
		{"notice", LOG_LEVEL_NOTICE}, {"info", LOG_LEVEL_INFO},
		{"debug", LOG_LEVEL_DEBUG},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return ERR_INVAL;
}

/*
 * Length of the valid UTF-8 character at p (1..4), or 0 when p does not
 * start one (stray continuation, overlong form, surrogate, > U+10FFFF):
 * JSON decoders reject those.
 */
static size_t
utf8_char_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Append s to buf as the body of a JSON string, leaving room for the
 * closing "}\n. A character is written whole or not at all, and bytes
 * that are not UTF-8 become U+FFFD, so that the line always decodes.
 */
static size_t
json_escape(char *buf, size_t size, size_t off, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	/* 6: the longest escape; 3: the closing "}\n. */
	while (*p != '\0' && off + 6 + 3 <= size) {
		size_t n = utf8_char_len(p);

		if (*p == '"' || *p == '\\') {
			buf[off++] = '\\';
			buf[off++] = (char)*p;
		} else if (*p < 0x20) {
			off += (size_t)snprintf(buf + off, size - off,
			    "\\u%04x", *p);
		} else if (n == 0) {
			memcpy(buf + off, "\\ufffd", 6);
			off += 6;
		} else {
			memcpy(buf + off, p, n);
			off += n;
			p += n;
			continue;
		}
		p++;
	}
	return off;
}

static void
emit(enum log_source src, enum log_level level, const char *msg)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE,
	    LOG_INFO, LOG_DEBUG};
	char line[2048], ts[64];
	struct timespec now;
	struct tm tm;
	size_t off;

	if (sink.target == LOG_TARGET_SYSLOG) {
		syslog(prio[level], "%s: %s", src_names[src], msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (now.tv_nsec / 1000000) % 1000);
	if (sink.format == LOG_FORMAT_JSON) {
		off = (size_t)snprintf(line, sizeof(line),
		    "{\"ts\":\"%s\",\"prog\":\"%s\",\"level\":\"%s\","
		    "\"source\":\"%s\",\"msg\":\"", ts, sink.prog,
		    level_names[level], src_names[src]);
		if (off >= sizeof(line))
			off = sizeof(line) - 1;
		off = json_escape(line, sizeof(line), off, msg);
		if (off + 3 > sizeof(line))
			off = sizeof(line) - 3;
		memcpy(line + off, "\"}\n", 3);
		off += 3;
	} else {
		int n = snprintf(line, sizeof(line), "%s %s[%ld]: %s: %s: %s\n",
		    ts, sink.prog, (long)getpid(), level_names[level],
		    src_names[src], msg);

		off = n < 0 ? 0 : (size_t)n;
		if (off >= sizeof(line)) {
			off = sizeof(line) - 1;
			line[off - 1] = '\n';
		}
	}
	/* One write per line; a short write to stderr is not worth a retry. */
	(void)!write(STDERR_FILENO, line, off);
}

static void
vlog(enum log_source src, enum log_level level, int errnum, const char *fmt,
    va_list ap)
{
	char msg[1536];
	int n;

	if (!log_enabled(src, level))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(errnum));
	emit(src, level, msg);
}

void
log_msg(enum log_source src, enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(src, level, 0, fmt, ap);
	va_end(ap);
}

void
log_msg_errno(enum log_source src, enum log_level level, int errnum,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(src, level, errnum, fmt, ap);
	va_end(ap);
}

void
log_neterr(enum log_source src, const char *fmt, ...)
{
	long now = (long)time(NULL);
	long win = atomic_load(&neterr_window);
	unsigned dropped;
	va_list ap;

	if (!log_enabled(src, LOG_LEVEL_WARN))
		return;
	if (win != now && atomic_compare_exchange_strong(&neterr_window, &win,
	    now)) {
		atomic_store(&neterr_count, 0);
		dropped = atomic_exchange(&neterr_dropped, 0);
		if (dropped > 0)
			log_msg(src, LOG_LEVEL_WARN,
			    "%u similar messages suppressed", dropped);
	}
	if (atomic_fetch_add(&neterr_count, 1) >= NETERR_PER_SEC) {
		atomic_fetch_add(&neterr_dropped, 1);
		return;
	}
	va_start(ap, fmt);
	vlog(src, LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
}
