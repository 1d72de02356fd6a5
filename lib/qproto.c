/* Query protocol line splitting; see qproto.h. */
#include "qproto.h"

#include <string.h>

int
qproto_split(char *line, struct qrequest *req)
{
	char *p = line;

	req->argc = 0;
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			if (*c != '\t')
				return -1;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (req->argc == QPROTO_MAX_ARGS)
			return -1;
		req->argv[req->argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return 0;
}

int
qproto_arg_given(const struct qrequest *req, int i)
{
	return i < req->argc && strcmp(req->argv[i], "-") != 0 && strcmp(req->argv[i], "*") != 0;
}
