/* Benchmark update generator; see bench_rows.h. */
#include "bench_rows.h"

#include <stdio.h>
#include <string.h>

#include "iso6346.h"

void
bench_carrier_code(unsigned k, char *buf, size_t len)
{
	snprintf(buf, len, "B%04u", k);
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

void
bench_make_update(struct bench_update *b, const struct leg_table *legs, unsigned k, uint64_t i,
    uint64_t first_seq, int64_t base_ms)
{
	Corridor__ShipmentUpdate init = CORRIDOR__SHIPMENT_UPDATE__INIT;
	uint64_t unit = i / 2;
	int leaving = (int)(i % 2);
	const struct leg *leg = &legs->legs[(unit + k) % legs->count];
	uint64_t h = mix(unit * 1315423911u + k);
	int64_t dur_ms = (int64_t)(leg->typical_h * 3600e3 * (0.5 + (double)(h % 1000) / 1000));
	char first10[11];
	int cd;

	b->u = init;
	bench_carrier_code(k, b->carrier, sizeof b->carrier);
	/* owner code from the carrier, serial from the unit: unique per run */
	snprintf(first10, sizeof first10, "%c%c%cU%06u", 'B' + (int)(k / 676 % 24),
	    'A' + (int)(k / 26 % 26), 'A' + (int)(k % 26), (unsigned)(unit % 1000000));
	cd = iso6346_check_digit(first10);
	snprintf(b->container, sizeof b->container, "%s%d", first10, cd);
	snprintf(b->message_id, sizeof b->message_id, "%s-%llu", b->carrier,
	    (unsigned long long)(first_seq + i));
	snprintf(b->node, sizeof b->node, "%s", leaving ? "EXIT" : "ENTRY");
	snprintf(b->train, sizeof b->train, "T%llu", (unsigned long long)(unit / 45));

	b->u.carrier = b->carrier;
	b->u.has_seq = 1;
	b->u.seq = first_seq + i;
	b->u.message_id = b->message_id;
	b->u.has_event_class = 1;
	b->u.event_class = CORRIDOR__EVENT_CLASS__TRANSPORT;
	b->u.has_classifier = 1;
	b->u.classifier = CORRIDOR__CLASSIFIER__ACT;
	b->u.has_event_code = 1;
	/* movement legs are entered by a departure, stays by an arrival */
	b->u.event_code = (leg->kind == LEG_MOVEMENT) != leaving ? CORRIDOR__EVENT_CODE__DEPA :
	    CORRIDOR__EVENT_CODE__ARRI;
	b->u.has_event_time_ms = 1;
	b->u.event_time_ms = base_ms + (int64_t)(unit % 40000) * 60000 + (leaving ? dur_ms : 0);
	b->u.node = b->node;
	b->u.leg = (char *)leg->code;
	b->u.has_direction = 1;
	b->u.direction = h % 2 ? CORRIDOR__DIRECTION__W : CORRIDOR__DIRECTION__E;
	b->u.has_mode = 1;
	b->u.mode = CORRIDOR__MODE__RAIL;
	b->u.train_id = b->train;
	b->u.container = b->container;
	b->u.iso_type = (char *)(h % 3 ? "45G1" : "22G1");
	b->u.has_gross_kg = 1;
	b->u.gross_kg = (uint32_t)(4000 + h % 24000);
}
