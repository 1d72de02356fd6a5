/*
 * Fuzz target: update validation (lib/validate.c) on a decoded
 * ShipmentUpdate. The input is the protobuf encoding of one update; it is
 * unpacked into a decode arena as the daemon does, validated for the session
 * of carrier KTZE against the default legs at a fixed "now", once under the
 * default limits and once with every limit at the smallest value the limit
 * table allows (and a 30-day retention), and an accepted update is copied
 * into an update_rec (daemon/store/update_rec.c).
 * Properties: an accepted update really has every field the wire contract
 * requires within its limits (checked here independently of validate.c), a
 * rejection has a known reason and a message, the unit key and the copy
 * agree with the update, and text_is_clean_utf8() agrees with the C
 * library's UTF-8 decoder.
 */
#include <locale.h>
#include <stdbool.h>
#include <string.h>
#include <wchar.h>

#include "arena.h"
#include "iso6346.h"
#include "legs.h"
#include "limit_table.h"
#include "update_rec.h"
#include "validate.h"

#include "fuzz_check.h"

#define FUZZ_DECODE_LIMIT (256u * 1024u)
#define MS_PER_DAY (86400LL * 1000)
#define YEAR_2000_MS 946684800000LL
#define SESSION_CARRIER "KTZE"

static struct arena decode_arena;
static struct leg_table legs;
static struct limits limit_sets[2];	/* the defaults; every limit at its minimum */
static locale_t utf8_locale;

static void
fuzz_setup(void)
{
	char err[200];

	arena_init(&decode_arena, FUZZ_DECODE_LIMIT);
	limits_set_defaults(&limit_sets[0]);
	for (size_t i = 0; i < limit_defs_count; i++) {
		char value[32], err[200];

		snprintf(value, sizeof value, "%lld", (long long)limit_defs[i].min);
		FUZZ_CHECK(limits_set(&limit_sets[1], limit_defs[i].name, value, err,
		    sizeof err) == 0);
	}
	limit_sets[1].retention_days = 30;
	FUZZ_CHECK(legs_load_default(&legs, err, sizeof err) == 0);
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	FUZZ_CHECK(utf8_locale != (locale_t)0);
}

/* The C library's view: valid UTF-8 of Unicode scalar values, none of them
 * a C0 or C1 control character or DEL. */
static bool
reference_clean_utf8(const char *s)
{
	locale_t old = uselocale(utf8_locale);
	mbstate_t st;
	size_t left = strlen(s);
	bool ok = true;

	memset(&st, 0, sizeof st);
	while (left > 0) {
		wchar_t w;
		size_t n = mbrtowc(&w, s, left, &st);

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0 || w > 0x10ffff ||
		    w < 0x20 || (w >= 0x7f && w <= 0x9f) || (w >= 0xd800 && w <= 0xdfff)) {
			ok = false;
			break;
		}
		s += n;
		left -= n;
	}
	uselocale(old);
	return ok;
}

static bool
present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static bool
ident_ok(const char *s, const struct limits *lim)
{
	return s == NULL || s[0] == '\0' ||
	    (strlen(s) <= (size_t)lim->max_string_bytes && text_is_identifier(s));
}

static bool
code_belongs(int cls, int code)
{
	switch (cls) {
	case CORRIDOR__EVENT_CLASS__TRANSPORT:
		return code == CORRIDOR__EVENT_CODE__ARRI || code == CORRIDOR__EVENT_CODE__DEPA;
	case CORRIDOR__EVENT_CLASS__EQUIPMENT:
		return code == CORRIDOR__EVENT_CODE__LOAD || code == CORRIDOR__EVENT_CODE__DISC ||
		    code == CORRIDOR__EVENT_CODE__GTIN || code == CORRIDOR__EVENT_CODE__GTOT ||
		    code == CORRIDOR__EVENT_CODE__STUF || code == CORRIDOR__EVENT_CODE__STRP ||
		    code == CORRIDOR__EVENT_CODE__INSP;
	case CORRIDOR__EVENT_CLASS__SHIPMENT:
		return code == CORRIDOR__EVENT_CODE__HOLD || code == CORRIDOR__EVENT_CODE__RELS;
	default:
		return false;
	}
}

/* What the wire contract and the limits promise about a stored update. */
static void
check_accepted(const Corridor__ShipmentUpdate *u, const struct limits *lim)
{
	const char *idents[] = { u->carrier, u->message_id, u->node, u->leg, u->locode,
		u->train_id, u->wagon_id, u->vessel_imo, u->voyage, u->truck_plate, u->container,
		u->iso_type, u->delay_reason, u->retracts_message_id };
	int64_t ahead = u->classifier == CORRIDOR__CLASSIFIER__ACT ?
	    lim->max_future_skew_s * 1000 : lim->max_plan_horizon_days * MS_PER_DAY;
	int64_t oldest = FUZZ_NOW_MS - lim->max_event_age_days * MS_PER_DAY;

	if (lim->retention_days > 0 &&
	    FUZZ_NOW_MS - lim->retention_days * MS_PER_DAY > oldest)
		oldest = FUZZ_NOW_MS - lim->retention_days * MS_PER_DAY;
	FUZZ_CHECK(u->has_seq && u->seq > 0);
	FUZZ_CHECK(present(u->carrier) && strcmp(u->carrier, SESSION_CARRIER) == 0);
	FUZZ_CHECK(present(u->message_id) && present(u->node) && present(u->leg));
	FUZZ_CHECK(legs_find(&legs, u->leg) != NULL);
	for (size_t i = 0; i < sizeof idents / sizeof idents[0]; i++)
		FUZZ_CHECK(ident_ok(idents[i], lim));
	FUZZ_CHECK(u->remark == NULL || (strlen(u->remark) <= (size_t)lim->max_remark_bytes &&
	    reference_clean_utf8(u->remark)));
	FUZZ_CHECK(u->has_event_class && u->has_classifier && u->has_event_code &&
	    u->has_direction);
	FUZZ_CHECK(code_belongs(u->event_class, u->event_code));
	FUZZ_CHECK(u->classifier >= CORRIDOR__CLASSIFIER__ACT &&
	    u->classifier <= CORRIDOR__CLASSIFIER__PLN);
	FUZZ_CHECK(u->direction == CORRIDOR__DIRECTION__W || u->direction == CORRIDOR__DIRECTION__E);
	FUZZ_CHECK(!u->has_mode || (u->mode >= CORRIDOR__MODE__RAIL && u->mode <= CORRIDOR__MODE__TRUCK));
	FUZZ_CHECK(u->has_event_time_ms && u->event_time_ms >= YEAR_2000_MS &&
	    u->event_time_ms >= oldest &&
	    u->event_time_ms <= FUZZ_NOW_MS + ahead);
	FUZZ_CHECK(!u->has_next_eta_ms || (u->next_eta_ms >= YEAR_2000_MS &&
	    u->next_eta_ms <= FUZZ_NOW_MS + lim->max_plan_horizon_days * MS_PER_DAY));
	FUZZ_CHECK(present(u->container) || present(u->train_id) || present(u->vessel_imo) ||
	    present(u->wagon_id) || present(u->truck_plate));
	FUZZ_CHECK(!present(u->container) || iso6346_valid(u->container));
	FUZZ_CHECK(!present(u->iso_type) || strlen(u->iso_type) == 4);
	FUZZ_CHECK(!u->has_gross_kg || (int64_t)u->gross_kg <= (present(u->container) ?
	    lim->max_container_gross_kg : lim->max_gross_kg));
	FUZZ_CHECK(!u->has_teu || (int64_t)u->teu <= lim->max_teu);
	FUZZ_CHECK(!u->has_container_count || (int64_t)u->container_count <=
	    lim->max_container_count);
}

/* The copy queued for a writer holds what the update said. */
static void
check_record(const Corridor__ShipmentUpdate *u)
{
	int leg = legs_index(&legs, u->leg);
	struct update_rec *r = update_rec_new(u, leg, FUZZ_NOW_MS);
	char unit[160];

	FUZZ_CHECK(r != NULL);
	update_unit_key(u, unit, sizeof unit);
	FUZZ_CHECK(r->unit != NULL && strcmp(r->unit, unit) == 0);
	FUZZ_CHECK(!present(u->container) || strcmp(r->unit, u->container) == 0);
	FUZZ_CHECK(strcmp(r->carrier_code, u->carrier) == 0 && strcmp(r->leg, u->leg) == 0 &&
	    strcmp(r->message_id, u->message_id) == 0 && strcmp(r->node, u->node) == 0);
	FUZZ_CHECK((r->remark == NULL) == !present(u->remark));
	FUZZ_CHECK(r->remark == NULL || strcmp(r->remark, u->remark) == 0);
	FUZZ_CHECK(r->seq == u->seq && r->leg_index == leg && r->event_time_ms == u->event_time_ms);
	FUZZ_CHECK(r->direction == (u->direction == CORRIDOR__DIRECTION__W ? 'W' : 'E'));
	FUZZ_CHECK(r->unit_teu == update_teu(u) && r->unit_containers == update_containers(u));
	update_rec_free_list(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	Corridor__ShipmentUpdate *u;
	struct reject rej;

	if (!ready) {
		fuzz_setup();
		ready = true;
	}
	u = corridor__shipment_update__unpack(&decode_arena.allocator, size, data);
	if (u == NULL) {
		arena_reset(&decode_arena);
		return 0;
	}
	if (u->remark != NULL)
		FUZZ_CHECK(text_is_clean_utf8(u->remark) == reference_clean_utf8(u->remark));
	for (size_t k = 0; k < sizeof limit_sets / sizeof limit_sets[0]; k++) {
		const struct limits *lim = &limit_sets[k];

		memset(&rej, 0, sizeof rej);
		if (update_validate(u, SESSION_CARRIER, &legs, lim, FUZZ_NOW_MS, &rej) == 0) {
			check_accepted(u, lim);
			check_record(u);
			continue;
		}
		FUZZ_CHECK(strcmp(reject_reason_name(rej.reason), "UNKNOWN") != 0);
		FUZZ_CHECK(rej.message[0] != '\0' &&
		    memchr(rej.message, '\0', sizeof rej.message) != NULL);
		FUZZ_CHECK(!rej.retryable);
	}
	arena_reset(&decode_arena);
	return 0;
}
