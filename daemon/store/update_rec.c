/* Copying a validated protobuf update into one allocation; see update_rec.h. */
#include "update_rec.h"

#include <stdlib.h>
#include <string.h>

#include "validate.h"

#define UNIT_KEY_MAX 160

static size_t
str_size(const char *s)
{
	return s != NULL && s[0] != '\0' ? strlen(s) + 1 : 0;
}

static const char *
str_put(char **cursor, const char *s)
{
	size_t n = str_size(s);
	char *at = *cursor;

	if (n == 0)
		return NULL;
	memcpy(at, s, n);
	*cursor += n;
	return at;
}

struct update_rec *
update_rec_new(const Corridor__ShipmentUpdate *u, int leg_index, int64_t record_time_ms)
{
	const char *strs[] = { u->carrier, u->message_id, u->node, u->locode, u->leg,
		u->train_id, u->wagon_id, u->vessel_imo, u->voyage, u->truck_plate,
		u->container, u->iso_type, u->delay_reason, u->remark,
		u->retracts_message_id };
	char unit[UNIT_KEY_MAX];
	size_t total = 0;
	struct update_rec *r;
	char *cur;

	update_unit_key(u, unit, sizeof unit);
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		total += str_size(strs[i]);
	total += strlen(unit) + 1;
	r = calloc(1, sizeof *r + total);
	if (r == NULL)
		return NULL;
	cur = r->buf;
	r->carrier_code = str_put(&cur, u->carrier);
	r->message_id = str_put(&cur, u->message_id);
	r->node = str_put(&cur, u->node);
	r->locode = str_put(&cur, u->locode);
	r->leg = str_put(&cur, u->leg);
	r->train_id = str_put(&cur, u->train_id);
	r->wagon_id = str_put(&cur, u->wagon_id);
	r->vessel_imo = str_put(&cur, u->vessel_imo);
	r->voyage = str_put(&cur, u->voyage);
	r->truck_plate = str_put(&cur, u->truck_plate);
	r->container = str_put(&cur, u->container);
	r->iso_type = str_put(&cur, u->iso_type);
	r->delay_reason = str_put(&cur, u->delay_reason);
	r->remark = str_put(&cur, u->remark);
	r->retracts = str_put(&cur, u->retracts_message_id);
	r->unit = str_put(&cur, unit);

	r->leg_index = leg_index;
	r->result = REC_PENDING;
	r->seq = u->seq;
	r->event_class = u->event_class;
	r->classifier = u->classifier;
	r->event_code = u->event_code;
	r->mode = u->has_mode ? (int)u->mode : 0;
	r->direction = u->direction == CORRIDOR__DIRECTION__W ? 'W' : 'E';
	r->event_time_ms = u->event_time_ms;
	r->record_time_ms = record_time_ms;
	r->has_next_eta = u->has_next_eta_ms;
	r->next_eta_ms = u->next_eta_ms;
	r->has_empty = u->has_empty;
	r->empty = u->empty;
	r->gross_kg = u->has_gross_kg ? (int64_t)u->gross_kg : -1;
	r->teu = u->has_teu ? (int64_t)u->teu : -1;
	r->container_count = u->has_container_count ? (int64_t)u->container_count : -1;
	r->unit_teu = update_teu(u);
	r->unit_containers = update_containers(u);
	return r;
}

void
update_rec_free_list(struct update_rec *r)
{
	while (r != NULL) {
		struct update_rec *next = r->next;

		free(r);
		r = next;
	}
}
