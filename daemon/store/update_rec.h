/*
 * An accepted update on its way to a writer: the validated protobuf fields
 * copied into one allocation, so the decoded frame can be freed at once and
 * what a carrier has in flight is bounded by the validated field limits.
 * Owned by the loop; lent to a writer between queueing and completion.
 */
#ifndef CORRIDOR_UPDATE_REC_H
#define CORRIDOR_UPDATE_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "corridor.pb-c.h"
#include "store_error.h"

/* REC_REUSED: (carrier, seq) names another update (stored with other
 * content, or not in this leg: used on another leg, or finally rejected). */
enum rec_result { REC_PENDING, REC_STORED, REC_DUPLICATE, REC_REUSED, REC_FAILED };

struct carrier;

struct update_rec {
	struct update_rec *next;	/* queue and completion lists */
	struct carrier *carrier;	/* loop side only */
	int leg_index;
	bool resend;			/* seq was used: compare with what is stored, never insert */
	enum rec_result result;
	enum store_error_kind fail_kind;	/* when REC_FAILED */

	uint64_t seq;
	int event_class, classifier, event_code, mode;	/* mode 0 = none */
	char direction;			/* 'W' or 'E' */
	int64_t event_time_ms, record_time_ms, next_eta_ms;
	bool has_next_eta, has_empty, empty;
	int64_t gross_kg, teu, container_count;	/* -1 = absent */
	uint32_t unit_teu, unit_containers;	/* what the unit carries */

	/* NULL when absent; all point into buf */
	const char *carrier_code, *message_id, *node, *locode, *leg, *unit;
	const char *train_id, *wagon_id, *vessel_imo, *voyage, *truck_plate;
	const char *container, *iso_type, *delay_reason, *remark, *retracts;
	char buf[];
};

/* Copies a validated update. NULL on allocation failure. */
struct update_rec *update_rec_new(const Corridor__ShipmentUpdate *u, int leg_index,
    int64_t record_time_ms);
void update_rec_free_list(struct update_rec *r);

#endif
