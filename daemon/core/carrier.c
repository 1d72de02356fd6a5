/* Carriers' acknowledgement state; see carrier.h. */
#include "carrier.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
carrier_code_valid(const char *code)
{
	size_t n = strlen(code);

	if (n < 2 || n >= CARRIER_CODE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)code[i]) && !isdigit((unsigned char)code[i]))
			return 0;
	return 1;
}

struct carrier *
carrier_find(struct carrier_table *t, const char *code)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->items[i].code, code) == 0)
			return &t->items[i];
	return NULL;
}

const struct carrier_conf *
carrier_list_find(const struct carrier_list *l, const char *code)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].code, code) == 0)
			return &l->items[i];
	return NULL;
}

int
carrier_list_add(struct carrier_list *l, const char *code, const char *name)
{
	struct carrier_conf *c;

	if (!carrier_code_valid(code))
		return -1;
	c = (struct carrier_conf *)carrier_list_find(l, code);
	if (c == NULL) {
		if (l->count == CARRIERS_MAX)
			return -1;
		c = &l->items[l->count++];
		snprintf(c->code, sizeof c->code, "%s", code);
	}
	snprintf(c->name, sizeof c->name, "%s", name != NULL ? name : "");
	return 0;
}

int
carrier_add(struct carrier_table *t, const char *code, const char *name)
{
	struct carrier *c;

	if (!carrier_code_valid(code))
		return -1;
	c = carrier_find(t, code);
	if (c == NULL) {
		if (t->count == CARRIERS_MAX)
			return -1;
		c = &t->items[t->count++];
		memset(c, 0, sizeof *c);
		snprintf(c->code, sizeof c->code, "%s", code);
	}
	c->configured = true;
	snprintf(c->name, sizeof c->name, "%s", name != NULL ? name : "");
	return 0;
}

int
carrier_init_window(struct carrier *c, uint64_t window)
{
	free(c->done);
	free(c->queued);
	c->window = window;
	c->done = calloc((size_t)(window + 7) / 8, 1);
	c->queued = calloc((size_t)(window + 7) / 8, 1);
	return c->done == NULL || c->queued == NULL ? -1 : 0;
}

int
carrier_table_init_windows(struct carrier_table *t, uint64_t window)
{
	for (size_t i = 0; i < t->count; i++)
		if (carrier_init_window(&t->items[i], window) == -1)
			return -1;
	return 0;
}

void
carrier_table_free(struct carrier_table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->items[i].done);
		free(t->items[i].queued);
		t->items[i].done = t->items[i].queued = NULL;
	}
}

bool
carrier_seq_in_window(const struct carrier *c, uint64_t seq)
{
	return seq <= c->acked_seq || seq - c->acked_seq <= c->window;
}

static bool
bit_get(const struct carrier *c, const uint8_t *bits, uint64_t seq)
{
	uint64_t b = seq % c->window;

	return (bits[b / 8] >> (b % 8)) & 1;
}

static void
bit_set(struct carrier *c, uint8_t *bits, uint64_t seq, bool on)
{
	uint64_t b = seq % c->window;

	if (on)
		bits[b / 8] |= (uint8_t)(1u << (b % 8));
	else
		bits[b / 8] &= (uint8_t)~(1u << (b % 8));
}

bool
carrier_seq_used(const struct carrier *c, uint64_t seq)
{
	if (seq <= c->acked_seq)
		return true;
	if (!carrier_seq_in_window(c, seq))
		return false;
	return bit_get(c, c->done, seq) || bit_get(c, c->queued, seq);
}

void
carrier_seq_queued(struct carrier *c, uint64_t seq, bool on)
{
	/* a queued seq holds the mark below it, so it is always in the window */
	if (seq > c->acked_seq && carrier_seq_in_window(c, seq))
		bit_set(c, c->queued, seq, on);
}

bool
carrier_mark_done(struct carrier *c, uint64_t seq)
{
	uint64_t before = c->acked_seq;

	if (seq <= c->acked_seq || !carrier_seq_in_window(c, seq))
		return false;
	bit_set(c, c->done, seq, true);
	while (bit_get(c, c->done, c->acked_seq + 1)) {
		bit_set(c, c->done, c->acked_seq + 1, false);
		c->acked_seq++;
	}
	return c->acked_seq != before;
}

bool
carrier_mark_raise(struct carrier *c, uint64_t seq)
{
	if (seq <= c->acked_seq)
		return false;
	if (seq - c->acked_seq >= c->window) {
		memset(c->done, 0, (size_t)(c->window + 7) / 8);
		memset(c->queued, 0, (size_t)(c->window + 7) / 8);
	} else
		for (uint64_t s = c->acked_seq + 1; s <= seq; s++) {
			bit_set(c, c->done, s, false);
			bit_set(c, c->queued, s, false);
		}
	c->acked_seq = seq;
	/* what was done above it carries on from there */
	while (bit_get(c, c->done, c->acked_seq + 1)) {
		bit_set(c, c->done, c->acked_seq + 1, false);
		c->acked_seq++;
	}
	return true;
}
