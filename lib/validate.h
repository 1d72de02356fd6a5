/*
 * Validation of one ShipmentUpdate before it is queued for storage. Each
 * failure has a reason code from the wire contract and a message a carrier's
 * engineer can act on. A rejected update never blocks the others of its batch.
 */
#ifndef CORRIDOR_VALIDATE_H
#define CORRIDOR_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor.pb-c.h"
#include "legs.h"
#include "limit_table.h"

struct reject {
	Corridor__RejectReason reason;
	bool retryable;
	char message[192];
};

/* 0 when u may be stored for the session's carrier; -1 and rej filled otherwise. */
int update_validate(const Corridor__ShipmentUpdate *u, const char *session_carrier,
    const struct leg_table *legs, const struct limits *lim, int64_t now_ms,
    struct reject *rej);

/* True for printable ASCII with no spaces (identifiers). */
bool text_is_identifier(const char *s);
/* True for valid UTF-8 without control characters (remarks). */
bool text_is_clean_utf8(const char *s);

/* The unit an update moves: the container number, else "TRAIN:<id>",
 * "VESSEL:<imo>/<voyage>", "WAGON:<id>" or "TRUCK:<plate>". */
void update_unit_key(const Corridor__ShipmentUpdate *u, char *buf, size_t len);

/* What the update contributes to volumes: TEU and containers. */
uint32_t update_teu(const Corridor__ShipmentUpdate *u);
uint32_t update_containers(const Corridor__ShipmentUpdate *u);

const char *reject_reason_name(Corridor__RejectReason r);
const char *event_code_name(int code);
int event_code_from_name(const char *name);

#endif
