/* Connections per address and refusal reasons; see conn_limits.h. */
#include "conn_limits.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define IP_TABLE_BUCKETS 1024	/* a power of two; chains stay short up to ~100k */

static const char *const reason_names[REFUSE_REASONS] = {
	[REFUSE_STOPPING] = "stopping",
	[REFUSE_TOTAL] = "total",
	[REFUSE_PER_IP] = "per_ip",
	[REFUSE_HANDSHAKE_DEADLINE] = "handshake_deadline",
	[REFUSE_FRAME_DEADLINE] = "frame_deadline",
	[REFUSE_LINE_DEADLINE] = "query_line_deadline",
	[REFUSE_LINE_TOO_LONG] = "query_line_too_long",
	[REFUSE_IDLE] = "idle",
	[REFUSE_TLS] = "tls",
	[REFUSE_TLS_REQUIRED] = "tls_required",
	[REFUSE_CLIENT_CERT] = "client_cert",
	[REFUSE_SLOW_READER] = "slow_reader",
	[REFUSE_AUTH_CHECKS_PER_IP] = "auth_checks_per_ip",
	[REFUSE_AUTH_CHECKS_MAX] = "auth_checks_max",
	[REFUSE_WRITE_TIMEOUT] = "write_timeout",
};

const char *
refuse_reason_name(enum refuse_reason r)
{
	return (unsigned)r < REFUSE_REASONS ? reason_names[r] : "unknown";
}

void
conn_addr_from(const struct sockaddr *sa, struct conn_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		out->bytes[10] = out->bytes[11] = 0xff;
		memcpy(&out->bytes[12], &sin->sin_addr, 4);
		out->family = AF_INET6;	/* one key space: ::ffff:a.b.c.d */
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(out->bytes, &sin6->sin6_addr, 16);
		out->family = AF_INET6;
	}
}

struct ip_entry {
	struct ip_entry *next;
	struct conn_addr addr;
	size_t count;
};

struct ip_table {
	struct ip_entry *buckets[IP_TABLE_BUCKETS];
	size_t size;
};

static size_t
ip_hash(const struct conn_addr *a)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < sizeof a->bytes; i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h & (IP_TABLE_BUCKETS - 1);
}

/* Where a's entry is, or where it would be linked in. */
static struct ip_entry **
ip_slot(struct ip_table *t, const struct conn_addr *a)
{
	struct ip_entry **p = &t->buckets[ip_hash(a)];

	while (*p != NULL && memcmp((*p)->addr.bytes, a->bytes, sizeof a->bytes) != 0)
		p = &(*p)->next;
	return p;
}

struct ip_table *
ip_table_new(void)
{
	return calloc(1, sizeof(struct ip_table));
}

void
ip_table_free(struct ip_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < IP_TABLE_BUCKETS; i++)
		while (t->buckets[i] != NULL) {
			struct ip_entry *e = t->buckets[i];

			t->buckets[i] = e->next;
			free(e);
		}
	free(t);
}

size_t
ip_table_count(const struct ip_table *t, const struct conn_addr *a)
{
	if (a->family == 0)
		return 0;
	for (const struct ip_entry *e = t->buckets[ip_hash(a)]; e != NULL; e = e->next)
		if (memcmp(e->addr.bytes, a->bytes, sizeof a->bytes) == 0)
			return e->count;
	return 0;
}

int
ip_table_add(struct ip_table *t, const struct conn_addr *a)
{
	struct ip_entry **p, *e;

	if (a->family == 0)
		return 0;
	p = ip_slot(t, a);
	if (*p == NULL) {
		if ((e = calloc(1, sizeof *e)) == NULL)
			return -1;
		e->addr = *a;
		*p = e;
		t->size++;
	}
	(*p)->count++;
	return 0;
}

void
ip_table_remove(struct ip_table *t, const struct conn_addr *a)
{
	struct ip_entry **p, *e;

	if (a->family == 0)
		return;
	p = ip_slot(t, a);
	if ((e = *p) == NULL)
		return;
	if (--e->count == 0) {
		*p = e->next;
		free(e);
		t->size--;
	}
}

size_t
ip_table_size(const struct ip_table *t)
{
	return t->size;
}
