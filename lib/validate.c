/* Update validation; see validate.h. */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iso6346.h"

#define MS_PER_DAY (86400LL * 1000)
#define YEAR_2000_MS 946684800000LL

static const char *const event_code_names[] = {
	[CORRIDOR__EVENT_CODE__ARRI] = "ARRI", [CORRIDOR__EVENT_CODE__DEPA] = "DEPA",
	[CORRIDOR__EVENT_CODE__LOAD] = "LOAD", [CORRIDOR__EVENT_CODE__DISC] = "DISC",
	[CORRIDOR__EVENT_CODE__GTIN] = "GTIN", [CORRIDOR__EVENT_CODE__GTOT] = "GTOT",
	[CORRIDOR__EVENT_CODE__STUF] = "STUF", [CORRIDOR__EVENT_CODE__STRP] = "STRP",
	[CORRIDOR__EVENT_CODE__INSP] = "INSP", [CORRIDOR__EVENT_CODE__HOLD] = "HOLD",
	[CORRIDOR__EVENT_CODE__RELS] = "RELS",
};
#define EVENT_CODE_LAST CORRIDOR__EVENT_CODE__RELS

const char *
event_code_name(int code)
{
	if (code < 1 || code > EVENT_CODE_LAST)
		return "?";
	return event_code_names[code];
}

int
event_code_from_name(const char *name)
{
	for (int c = 1; c <= EVENT_CODE_LAST; c++)
		if (strcmp(event_code_names[c], name) == 0)
			return c;
	return 0;
}

const char *
reject_reason_name(Corridor__RejectReason r)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&corridor__reject_reason__descriptor, (int)r);

	return v != NULL ? v->name : "UNKNOWN";
}

static int
fail(struct reject *rej, Corridor__RejectReason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct reject *rej, Corridor__RejectReason reason, const char *fmt, ...)
{
	va_list ap;

	rej->reason = reason;
	rej->retryable = false;
	va_start(ap, fmt);
	vsnprintf(rej->message, sizeof rej->message, fmt, ap);
	va_end(ap);
	return -1;
}

bool
text_is_identifier(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

bool
text_is_clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p;
		int extra;
		unsigned cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else
			return false;
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3f);
		}
		if ((extra == 1 && cp < 0xa0) ||	/* overlong or a C1 control */
		    (extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
	}
	return true;
}

/* An identifier field: optional unless required, bounded, printable. */
static int
check_ident(struct reject *rej, const char *name, const char *v, bool required, size_t max)
{
	if (v == NULL || v[0] == '\0') {
		if (required)
			return fail(rej, CORRIDOR__REJECT_REASON__MISSING_FIELD,
			    "%s is required", name);
		return 0;
	}
	if (strlen(v) > max)
		return fail(rej, CORRIDOR__REJECT_REASON__FIELD_TOO_LONG,
		    "%s is %zu bytes, the limit is %zu", name, strlen(v), max);
	if (!text_is_identifier(v))
		return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE,
		    "%s must be printable ASCII without spaces", name);
	return 0;
}

static bool
code_in_class(Corridor__EventClass cls, Corridor__EventCode code)
{
	switch (cls) {
	case CORRIDOR__EVENT_CLASS__TRANSPORT:
		return code == CORRIDOR__EVENT_CODE__ARRI || code == CORRIDOR__EVENT_CODE__DEPA;
	case CORRIDOR__EVENT_CLASS__EQUIPMENT:
		return code >= CORRIDOR__EVENT_CODE__LOAD && code <= CORRIDOR__EVENT_CODE__INSP;
	case CORRIDOR__EVENT_CLASS__SHIPMENT:
		return code == CORRIDOR__EVENT_CODE__HOLD || code == CORRIDOR__EVENT_CODE__RELS;
	default:
		return false;
	}
}

static int
check_identifiers(const Corridor__ShipmentUpdate *u, size_t max, struct reject *rej)
{
	const struct { const char *name; const char *v; bool req; } f[] = {
		{ "carrier", u->carrier, true }, { "message_id", u->message_id, true },
		{ "node", u->node, true }, { "leg", u->leg, true },
		{ "locode", u->locode, false }, { "train_id", u->train_id, false },
		{ "wagon_id", u->wagon_id, false }, { "vessel_imo", u->vessel_imo, false },
		{ "voyage", u->voyage, false }, { "truck_plate", u->truck_plate, false },
		{ "container", u->container, false }, { "iso_type", u->iso_type, false },
		{ "delay_reason", u->delay_reason, false },
		{ "retracts_message_id", u->retracts_message_id, false },
	};

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (check_ident(rej, f[i].name, f[i].v, f[i].req, max) == -1)
			return -1;
	return 0;
}

static int
check_enums(const Corridor__ShipmentUpdate *u, struct reject *rej)
{
	if (!u->has_event_class || !u->has_classifier || !u->has_event_code ||
	    !u->has_direction)
		return fail(rej, CORRIDOR__REJECT_REASON__MISSING_FIELD,
		    "%s is required", !u->has_event_class ? "event_class" :
		    !u->has_classifier ? "classifier" : !u->has_event_code ? "event_code" :
		    "direction");
	if (protobuf_c_enum_descriptor_get_value(&corridor__event_class__descriptor,
	    (int)u->event_class) == NULL ||
	    protobuf_c_enum_descriptor_get_value(&corridor__classifier__descriptor,
	    (int)u->classifier) == NULL ||
	    protobuf_c_enum_descriptor_get_value(&corridor__event_code__descriptor,
	    (int)u->event_code) == NULL ||
	    protobuf_c_enum_descriptor_get_value(&corridor__direction__descriptor,
	    (int)u->direction) == NULL ||
	    (u->has_mode && protobuf_c_enum_descriptor_get_value(&corridor__mode__descriptor,
	    (int)u->mode) == NULL))
		return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE,
		    "an enum field has a value this protocol version does not define");
	if (!code_in_class(u->event_class, u->event_code))
		return fail(rej, CORRIDOR__REJECT_REASON__CODE_NOT_IN_CLASS,
		    "event_code %s does not belong to event_class %s",
		    event_code_name(u->event_code),
		    protobuf_c_enum_descriptor_get_value(&corridor__event_class__descriptor,
		    (int)u->event_class)->name);
	return 0;
}

static int
check_times(const Corridor__ShipmentUpdate *u, const struct limits *lim, int64_t now,
    struct reject *rej)
{
	int64_t ahead = u->classifier == CORRIDOR__CLASSIFIER__ACT ?
	    lim->max_future_skew_s * 1000 : lim->max_plan_horizon_days * MS_PER_DAY;
	int64_t age_days = lim->retention_days > 0 && lim->retention_days < lim->max_event_age_days ?
	    lim->retention_days : lim->max_event_age_days;
	int64_t oldest = now - age_days * MS_PER_DAY;

	if (!u->has_event_time_ms)
		return fail(rej, CORRIDOR__REJECT_REASON__MISSING_FIELD, "event_time_ms is required");
	if (u->event_time_ms > now + ahead)
		return fail(rej, CORRIDOR__REJECT_REASON__TIME_IN_FUTURE,
		    "event_time_ms is %lld s ahead of the daemon's clock, the limit is %lld s",
		    (long long)((u->event_time_ms - now) / 1000), (long long)(ahead / 1000));
	if (u->event_time_ms < oldest || u->event_time_ms < YEAR_2000_MS)
		return fail(rej, CORRIDOR__REJECT_REASON__TIME_TOO_OLD,
		    "event_time_ms is older than %lld days (%s) or before 2000",
		    (long long)age_days, age_days == lim->max_event_age_days ?
		    "max_event_age_days" : "retention_days");
	if (u->has_next_eta_ms && (u->next_eta_ms < YEAR_2000_MS ||
	    u->next_eta_ms > now + lim->max_plan_horizon_days * MS_PER_DAY))
		return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE,
		    "next_eta_ms is outside 2000 .. now + %lld days",
		    (long long)lim->max_plan_horizon_days);
	return 0;
}

static int
check_cargo(const Corridor__ShipmentUpdate *u, const struct limits *lim, struct reject *rej)
{
	bool has_container = u->container != NULL && u->container[0] != '\0';

	if (!has_container && (u->train_id == NULL || !u->train_id[0]) &&
	    (u->vessel_imo == NULL || !u->vessel_imo[0]) &&
	    (u->wagon_id == NULL || !u->wagon_id[0]) &&
	    (u->truck_plate == NULL || !u->truck_plate[0]))
		return fail(rej, CORRIDOR__REJECT_REASON__MISSING_FIELD,
		    "a unit is required: container, train_id, vessel_imo, wagon_id or truck_plate");
	if (has_container) {
		const char *c = u->container;

		if (strlen(c) != 11 || iso6346_check_digit(c) < 0 || strchr("UJZ", c[3]) == NULL ||
		    c[10] < '0' || c[10] > '9')
			return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE,
			    "container \"%s\" is not 4 capital letters and 7 digits", c);
		if (!iso6346_valid(c))
			return fail(rej, CORRIDOR__REJECT_REASON__BAD_CHECK_DIGIT,
			    "container %s: check digit should be %d", c, iso6346_check_digit(c));
	}
	if (u->iso_type != NULL && u->iso_type[0] != '\0' && strlen(u->iso_type) != 4)
		return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE,
		    "iso_type must be a 4-character size-type code such as 22G1");
	if (u->has_gross_kg && u->gross_kg > (has_container ? lim->max_container_gross_kg :
	    lim->max_gross_kg))
		return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE,
		    "gross_kg %u is above the limit of %lld", u->gross_kg,
		    (long long)(has_container ? lim->max_container_gross_kg : lim->max_gross_kg));
	if (u->has_teu && u->teu > lim->max_teu)
		return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE, "teu %u is above the limit of %lld",
		    u->teu, (long long)lim->max_teu);
	if (u->has_container_count && u->container_count > lim->max_container_count)
		return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE,
		    "container_count %u is above the limit of %lld", u->container_count,
		    (long long)lim->max_container_count);
	return 0;
}

int
update_validate(const Corridor__ShipmentUpdate *u, const char *session_carrier,
    const struct leg_table *legs, const struct limits *lim, int64_t now_ms,
    struct reject *rej)
{
	if (!u->has_seq || u->seq == 0)
		return fail(rej, CORRIDOR__REJECT_REASON__MISSING_FIELD, "seq is required and > 0");
	if (check_identifiers(u, (size_t)lim->max_string_bytes, rej) == -1)
		return -1;
	if (strcmp(u->carrier, session_carrier) != 0)
		return fail(rej, CORRIDOR__REJECT_REASON__WRONG_CARRIER,
		    "carrier %s is not this session's carrier %s", u->carrier, session_carrier);
	if (legs_find(legs, u->leg) == NULL)
		return fail(rej, CORRIDOR__REJECT_REASON__UNKNOWN_LEG,
		    "leg %s is not configured (the LEGS query lists them)", u->leg);
	if (u->remark != NULL) {
		if (strlen(u->remark) > (size_t)lim->max_remark_bytes)
			return fail(rej, CORRIDOR__REJECT_REASON__FIELD_TOO_LONG,
			    "remark is %zu bytes, the limit is %lld", strlen(u->remark),
			    (long long)lim->max_remark_bytes);
		if (!text_is_clean_utf8(u->remark))
			return fail(rej, CORRIDOR__REJECT_REASON__BAD_VALUE,
			    "remark must be UTF-8 without control characters");
	}
	if (check_enums(u, rej) == -1 || check_times(u, lim, now_ms, rej) == -1 ||
	    check_cargo(u, lim, rej) == -1)
		return -1;
	return 0;
}

static bool
present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

void
update_unit_key(const Corridor__ShipmentUpdate *u, char *buf, size_t len)
{
	if (present(u->container))
		snprintf(buf, len, "%s", u->container);
	else if (present(u->train_id))
		snprintf(buf, len, "TRAIN:%s", u->train_id);
	else if (present(u->vessel_imo))
		snprintf(buf, len, "VESSEL:%s/%s", u->vessel_imo,
		    present(u->voyage) ? u->voyage : "-");
	else if (present(u->wagon_id))
		snprintf(buf, len, "WAGON:%s", u->wagon_id);
	else
		snprintf(buf, len, "TRUCK:%s", present(u->truck_plate) ? u->truck_plate : "-");
}

uint32_t
update_teu(const Corridor__ShipmentUpdate *u)
{
	unsigned t;

	if (u->has_teu)
		return u->teu;
	if (!present(u->container))
		return 0;
	t = iso6346_teu(u->iso_type);
	return t != 0 ? t : 1;
}

uint32_t
update_containers(const Corridor__ShipmentUpdate *u)
{
	if (present(u->container))
		return 1;
	return u->has_container_count ? u->container_count : 0;
}
