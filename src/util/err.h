/*
 * err.h -- error codes shared by every module.
 *
 * Fallible functions return int: 0 on success, a negative errno value, or
 * one of the ERR_* codes below (all below -1000). err_str() names either.
 */
#ifndef UTIL_ERR_H
#define UTIL_ERR_H

enum {
	ERR_IO = -1001,		/* read, write or rename failed */
	ERR_PARSE = -1002,	/* malformed input (config, zone, JSON) */
	ERR_INVAL = -1003,	/* well-formed but invalid value */
	ERR_NOTFOUND = -1004,	/* no such name, key or entry */
	ERR_SPACE = -1005,	/* does not fit the buffer */
	ERR_FORMAT = -1006,	/* malformed DNS message */
	ERR_LIMIT = -1007	/* a configured limit was reached */
};

/* Borrowed static string describing code (ERR_* or -errno). */
const char	*err_str(int code);

#endif
