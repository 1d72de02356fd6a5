/* Query protocol line checks and splitting; see qproto.h. */
#include "qproto.h"

#include <stdio.h>
#include <string.h>

int
qproto_check_line(const char *line, size_t len, size_t *pos, char *msg, size_t msglen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c >= 0x20 && c < 0x7f) || c == '\t')
			continue;
		if (pos != NULL)
			*pos = i + 1;
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "byte %zu of the line (0x%02x) is not printable ASCII; "
			    "a request is printable words separated by spaces or tabs", i + 1, c);
		return -1;
	}
	return 0;
}

int
qproto_split(char *line, struct qrequest *req)
{
	char *p = line;

	req->argc = 0;
	if (qproto_check_line(line, strlen(line), NULL, NULL, 0) == -1)
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
