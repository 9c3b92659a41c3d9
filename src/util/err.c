#include "util/err.h"

#include <string.h>

const char *
err_str(int code)
{
	switch (code) {
	case 0:
		return "success";
	case ERR_IO:
		return "input/output error";
	case ERR_PARSE:
		return "parse error";
	case ERR_INVAL:
		return "invalid value";
	case ERR_NOTFOUND:
		return "not found";
	case ERR_SPACE:
		return "no space in buffer";
	case ERR_FORMAT:
		return "malformed message";
	case ERR_LIMIT:
		return "limit reached";
	default:
		if (code < 0 && code > -1000)
			return strerror(-code);
		return "unknown error";
	}
}
