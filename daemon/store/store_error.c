/* What a failed store call says; see store_error.h. */
#include "store_error.h"

#include <stdarg.h>
#include <stdio.h>

void
store_error_clear(struct store_error *e)
{
	e->kind = STORE_OK;
	e->message[0] = '\0';
}

void
store_error_set(struct store_error *e, enum store_error_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
}

const char *
store_error_kind_name(enum store_error_kind kind)
{
	switch (kind) {
	case STORE_OK:
		return "ok";
	case STORE_RETRYABLE:
		return "retryable";
	case STORE_CORRUPT:
		return "corrupt";
	case STORE_UNSUPPORTED:
		return "unsupported";
	case STORE_CONFLICT:
		return "conflict";
	}
	return "unknown";
}
