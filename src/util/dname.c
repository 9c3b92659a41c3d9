#include "util/dname.h"

#include <stdio.h>
#include <string.h>

#include "util/err.h"

size_t
dname_len(const uint8_t *n)
{
	const uint8_t *p = n;

	while (*p != 0)
		p += *p + 1;
	return (size_t)(p - n) + 1;
}

unsigned
dname_labels(const uint8_t *n)
{
	unsigned count = 0;

	while (*n != 0) {
		n += *n + 1;
		count++;
	}
	return count;
}

static inline uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

void
dname_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = lower(src[i]);
}

bool
dname_equal(const uint8_t *a, const uint8_t *b)
{
	size_t la = dname_len(a), lb = dname_len(b);

	if (la != lb)
		return false;
	for (size_t i = 0; i < la; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

bool
dname_is_subdomain(const uint8_t *child, const uint8_t *parent)
{
	unsigned lc = dname_labels(child), lp = dname_labels(parent);

	if (lc < lp)
		return false;
	while (lc-- > lp)
		child += *child + 1;
	return dname_equal(child, parent);
}

const uint8_t *
dname_parent(const uint8_t *n)
{
	return *n == 0 ? n : n + *n + 1;
}

void
dname_to_str(const uint8_t *n, char *buf, size_t size)
{
	size_t off = 0;

	if (size == 0)
		return;
	if (*n == 0) {
		snprintf(buf, size, ".");
		return;
	}
	while (*n != 0 && off + 5 < size) {
		uint8_t len = *n++;

		for (uint8_t i = 0; i < len && off + 5 < size; i++) {
			uint8_t c = n[i];

			if (c == '.' || c == '\\' || c == '"' || c == '(' ||
			    c == ')' || c == ';' || c == '$' || c == '@') {
				buf[off++] = '\\';
				buf[off++] = (char)c;
			} else if (c <= 0x20 || c >= 0x7f) {
				off += (size_t)snprintf(buf + off, size - off,
				    "\\%03u", c);
			} else
				buf[off++] = (char)c;
		}
		n += len;
		buf[off++] = '.';
	}
	buf[off] = '\0';
}

int
dname_from_str(const char *s, const uint8_t *origin, uint8_t *out,
    size_t *outlen)
{
	size_t off = 0, lstart = 0;
	bool absolute = false;

	if (strcmp(s, ".") == 0) {
		out[0] = 0;
		*outlen = 1;
		return 0;
	}
	if (*s == '\0' || *s == '.')
		return ERR_PARSE;
	out[off++] = 0;			/* length byte of the first label */
	for (const char *p = s; *p != '\0'; p++) {
		unsigned c = (unsigned char)*p;

		if (c == '.') {
			size_t llen = off - lstart - 1;

			if (llen == 0)
				return ERR_PARSE;	/* empty label */
			out[lstart] = (uint8_t)llen;
			if (p[1] == '\0') {
				absolute = true;
				break;
			}
			if (off >= DNAME_MAXLEN - 1)
				return ERR_PARSE;
			lstart = off;
			out[off++] = 0;
			continue;
		}
		if (c == '\\') {
			p++;
			if (p[0] >= '0' && p[0] <= '9') {
				if (p[1] < '0' || p[1] > '9' || p[2] < '0' ||
				    p[2] > '9')
					return ERR_PARSE;
				c = (unsigned)(p[0] - '0') * 100 +
				    (unsigned)(p[1] - '0') * 10 +
				    (unsigned)(p[2] - '0');
				if (c > 255)
					return ERR_PARSE;
				p += 2;
			} else if (p[0] == '\0')
				return ERR_PARSE;
			else
				c = (unsigned char)p[0];
		}
		if (off - lstart - 1 >= DNAME_MAXLABEL || off >= DNAME_MAXLEN - 1)
			return ERR_PARSE;
		out[off++] = (uint8_t)c;
	}
	if (!absolute) {
		size_t llen = off - lstart - 1;

		if (llen == 0)
			return ERR_PARSE;
		out[lstart] = (uint8_t)llen;
	}
	if (!absolute && origin != NULL) {
		size_t olen = dname_len(origin);

		if (off + olen > DNAME_MAXLEN)
			return ERR_PARSE;
		memcpy(out + off, origin, olen);
		off += olen;
	} else {
		if (off + 1 > DNAME_MAXLEN)
			return ERR_PARSE;
		out[off++] = 0;
	}
	*outlen = off;
	return 0;
}
