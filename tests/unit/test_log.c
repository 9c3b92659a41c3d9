/*
 * test_log.c -- level names, filtering, and what reaches stderr.
 *
 * Each Criterion test runs in its own process, so a test may point fd 2
 * at a pipe and read back exactly what the logger wrote. JSON lines are
 * checked with jansson: whatever the message holds, a line must decode
 * and give the message back.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "util/err.h"
#include "util/xalloc.h"

/* --- log_level_parse ------------------------------------------------------ */

struct level_case {
	const char	*in;
	int		ret;
	enum log_level	level;
};

static const struct level_case level_cases[] = {
	{"err", 0, LOG_LEVEL_ERR},
	{"error", 0, LOG_LEVEL_ERR},
	{"warn", 0, LOG_LEVEL_WARN},
	{"warning", 0, LOG_LEVEL_WARN},
	{"notice", 0, LOG_LEVEL_NOTICE},
	{"info", 0, LOG_LEVEL_INFO},
	{"debug", 0, LOG_LEVEL_DEBUG},
	{"", ERR_INVAL, 0},
	{"ERR", ERR_INVAL, 0},
	{"Info", ERR_INVAL, 0},
	{"information", ERR_INVAL, 0},
	{"inf", ERR_INVAL, 0},
	{"debug ", ERR_INVAL, 0},
	{" debug", ERR_INVAL, 0},
	{"trace", ERR_INVAL, 0},
	{"crit", ERR_INVAL, 0},
	{"3", ERR_INVAL, 0},
};
#define NLEVEL (sizeof(level_cases) / sizeof(level_cases[0]))

ParameterizedTestParameters(log, level_parse)
{
	static size_t idx[NLEVEL];

	for (size_t i = 0; i < NLEVEL; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NLEVEL);
}

ParameterizedTest(size_t *i, log, level_parse)
{
	const struct level_case *c = &level_cases[*i];
	enum log_level out = (enum log_level)77;
	int ret = log_level_parse(c->in, &out);

	cr_expect_eq(ret, c->ret, "'%s': got %d", c->in, ret);
	if (c->ret == 0)
		cr_expect_eq(out, c->level, "'%s': got %d", c->in, (int)out);
	else
		cr_expect_eq((int)out, 77, "'%s': output written on error",
		    c->in);
}

/* --- capturing stderr --------------------------------------------------- */

static int capture_fd = -1;

/* From here on, fd 2 writes into a pipe that capture_end() drains. */
static void
capture_begin(void)
{
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	/* A line is at most 2 KiB; stay well below the pipe buffer. */
	cr_assert_neq(dup2(fds[1], STDERR_FILENO), -1);
	close(fds[1]);
	capture_fd = fds[0];
}

/* New string: everything written to fd 2 since capture_begin(). */
static char *
capture_end(void)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	int devnull = open("/dev/null", O_WRONLY);
	ssize_t n;

	/* Close the pipe's last write end so that read() sees EOF. */
	cr_assert_geq(devnull, 0);
	cr_assert_neq(dup2(devnull, STDERR_FILENO), -1);
	close(devnull);
	for (;;) {
		if (len + 1 == cap)
			buf = xrealloc(buf, cap *= 2, 1);
		n = read(capture_fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert_geq(n, 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(capture_fd);
	capture_fd = -1;
	return buf;
}

/* Decode one JSON line; the line must be the whole capture. */
static json_t *
json_line(const char *out)
{
	json_error_t jerr;
	size_t len = strlen(out);
	json_t *j;

	cr_assert_gt(len, 0, "nothing was logged");
	cr_assert_eq(out[len - 1], '\n', "line not terminated: %s", out);
	cr_assert_null(memchr(out, '\n', len - 1), "more than one line: %s",
	    out);
	j = json_loadb(out, len - 1, JSON_REJECT_DUPLICATES, &jerr);
	cr_assert_not_null(j, "invalid JSON (%s at %d): %s", jerr.text,
	    jerr.position, out);
	cr_assert(json_is_object(j));
	return j;
}

static const char *
field(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	cr_assert(json_is_string(v), "field '%s' missing or not a string",
	    key);
	return json_string_value(v);
}

Test(log, json_escapes_and_fields)
{
	const char *msg = "say \"hi\" to C:\\dir\nnext\tline\x01\x1f end "
	    "caf\xc3\xa9 \xe2\x82\xac";
	regex_t re;
	json_t *j;
	char *out;

	log_setup("arcdnsd", LOG_FORMAT_JSON, LOG_TARGET_STDERR,
	    LOG_LEVEL_INFO);
	capture_begin();
	log_warn(LOG_SRC_CONF, "%s", msg);
	out = capture_end();

	/* The escapes themselves, byte for byte. */
	cr_expect(strstr(out, "\"msg\":\"say \\\"hi\\\" to C:\\\\dir\\nnext"
	    "\\u0009line\\u0001\\u001f end caf\xc3\xa9 \xe2\x82\xac\"") != NULL ||
	    strstr(out, "\"msg\":\"say \\\"hi\\\" to C:\\\\dir\\u000anext"
	    "\\u0009line\\u0001\\u001f end caf\xc3\xa9 \xe2\x82\xac\"") != NULL,
	    "escaping: %s", out);
	j = json_line(out);
	cr_expect_str_eq(field(j, "msg"), msg);
	cr_expect_str_eq(field(j, "level"), "warning");
	cr_expect_str_eq(field(j, "source"), "conf");
	cr_expect_str_eq(field(j, "prog"), "arcdnsd");
	cr_assert_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$", REG_EXTENDED | REG_NOSUB), 0);
	cr_expect_eq(regexec(&re, field(j, "ts"), 0, NULL, 0), 0, "ts: %s",
	    field(j, "ts"));
	regfree(&re);
	json_decref(j);
	free(out);
}

Test(log, json_every_control_character)
{
	char msg[40];
	json_t *j;
	char *out;

	for (int c = 1; c < 0x20; c++)
		msg[c - 1] = (char)c;
	msg[31] = 0x7f;
	msg[32] = '\0';
	log_setup("t", LOG_FORMAT_JSON, LOG_TARGET_STDERR, LOG_LEVEL_DEBUG);
	capture_begin();
	log_info(LOG_SRC_DNS, "%s", msg);
	out = capture_end();
	j = json_line(out);
	cr_expect_str_eq(field(j, "msg"), msg);
	cr_expect_str_eq(field(j, "source"), "dns");
	json_decref(j);
	free(out);
}

Test(log, json_long_message_stays_one_valid_line)
{
	/* Far more than a line holds, and escapes that grow six-fold. */
	size_t n = 5000;
	char *msg = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		msg[i] = i % 3 == 0 ? '"' : i % 3 == 1 ? '\x02' : 'x';
	msg[n] = '\0';
	/* A prefix of 0..7 bytes moves the cut across every escape. */
	for (int shift = 0; shift < 8; shift++) {
		json_t *j;
		char *out;

		log_setup("t", LOG_FORMAT_JSON, LOG_TARGET_STDERR,
		    LOG_LEVEL_DEBUG);
		capture_begin();
		log_err(LOG_SRC_ZONE, "%.*s%s", shift, "abcdefg", msg);
		out = capture_end();
		cr_expect_leq(strlen(out), 2048);
		j = json_line(out);
		/* Whatever survived is a prefix of the message. */
		cr_expect_gt(strlen(field(j, "msg")), 100);
		cr_expect_eq(strncmp(field(j, "msg") + shift, msg,
		    strlen(field(j, "msg")) - (size_t)shift), 0);
		json_decref(j);
		free(out);
	}
	free(msg);
}

Test(log, json_cut_inside_utf8_stays_valid)
{
	/* Multi-byte characters up to the cut: no half character remains. */
	size_t n = 1500;
	char *msg = xmalloc(n * 3 + 1);
	json_t *j;
	char *out;

	for (size_t i = 0; i < n; i++)
		memcpy(msg + 3 * i, "\xe2\x82\xac", 3);	/* EURO SIGN */
	msg[3 * n] = '\0';
	for (int shift = 0; shift < 3; shift++) {
		log_setup("t", LOG_FORMAT_JSON, LOG_TARGET_STDERR,
		    LOG_LEVEL_DEBUG);
		capture_begin();
		/* A prefix of 0..2 bytes moves the cut across a character. */
		log_err(LOG_SRC_ZONE, "%.*s%s", shift, "ab", msg);
		out = capture_end();
		j = json_line(out);
		json_decref(j);
		free(out);
	}
	free(msg);
}

Test(log, json_invalid_utf8_in_message)
{
	/*
	 * A name from the wire may hold any byte; the line must still parse,
	 * with U+FFFD for each byte that is not part of a valid character:
	 * stray bytes, a cut sequence, an overlong '/', a surrogate.
	 */
	json_t *j;
	char *out;

	log_setup("t", LOG_FORMAT_JSON, LOG_TARGET_STDERR, LOG_LEVEL_DEBUG);
	capture_begin();
	log_warn(LOG_SRC_DNS, "bad \xff\xfe name \xc0\xaf \xed\xa0\x80 "
	    "\xf0\x9f\x98\x80 \xc3");
	out = capture_end();
	j = json_line(out);
	cr_expect_str_eq(field(j, "msg"), "bad \xef\xbf\xbd\xef\xbf\xbd "
	    "name \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd \xf0\x9f\x98\x80 \xef\xbf\xbd");
	json_decref(j);
	free(out);
}

Test(log, text_line_format)
{
	regex_t re;
	char *out, *want;

	log_setup("arcdnsd", LOG_FORMAT_TEXT, LOG_TARGET_STDERR,
	    LOG_LEVEL_INFO);
	capture_begin();
	log_notice(LOG_SRC_MAIN, "ready: %d zones", 2);
	out = capture_end();
	want = xstrfmt("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z "
	    "arcdnsd\\[%ld\\]: notice: main: ready: 2 zones\n$",
	    (long)getpid());
	cr_assert_eq(regcomp(&re, want, REG_EXTENDED | REG_NOSUB), 0);
	cr_expect_eq(regexec(&re, out, 0, NULL, 0), 0, "got: %s", out);
	regfree(&re);
	free(want);
	free(out);
}

Test(log, text_errno_suffix)
{
	char *out, *want;

	log_setup("t", LOG_FORMAT_TEXT, LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	capture_begin();
	log_msg_errno(LOG_SRC_HTTP, LOG_LEVEL_ERR, ENOENT, "open %s", "x");
	out = capture_end();
	want = xstrfmt(": error: http: open x: %s\n", strerror(ENOENT));
	cr_expect_neq(strstr(out, want), NULL, "got: %s", out);
	free(want);
	free(out);
}

Test(log, levels_filter_per_source)
{
	char *out;

	log_setup("t", LOG_FORMAT_TEXT, LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	log_set_level(LOG_SRC_DNS, LOG_LEVEL_WARN);
	cr_expect_not(log_enabled(LOG_SRC_DNS, LOG_LEVEL_INFO));
	cr_expect(log_enabled(LOG_SRC_DNS, LOG_LEVEL_WARN));
	cr_expect(log_enabled(LOG_SRC_CONF, LOG_LEVEL_INFO));
	cr_expect_not(log_enabled(LOG_SRC_CONF, LOG_LEVEL_DEBUG));
	capture_begin();
	log_info(LOG_SRC_DNS, "dropped-dns-info");
	log_debug(LOG_SRC_CONF, "dropped-conf-debug");
	log_warn(LOG_SRC_DNS, "kept-dns-warn");
	log_info(LOG_SRC_CONF, "kept-conf-info");
	out = capture_end();
	cr_expect_null(strstr(out, "dropped"), "got: %s", out);
	cr_expect_neq(strstr(out, "warning: dns: kept-dns-warn\n"), NULL,
	    "got: %s", out);
	cr_expect_neq(strstr(out, "info: conf: kept-conf-info\n"), NULL,
	    "got: %s", out);
	free(out);
}

Test(log, neterr_is_rate_limited)
{
	char *out;
	int lines = 0;

	log_setup("t", LOG_FORMAT_TEXT, LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	capture_begin();
	for (int i = 0; i < 100; i++)
		log_neterr(LOG_SRC_DNS, "bad packet %d", i);
	out = capture_end();
	for (const char *p = out; (p = strstr(p, "bad packet")) != NULL; p++)
		lines++;
	/* 5 a second; a window may turn over once during the loop. */
	cr_expect_geq(lines, 5, "got: %s", out);
	cr_expect_leq(lines, 10, "got %d lines", lines);
	free(out);
}
