/*
 * Update validation (lib/validate.c): every rejection reason of
 * docs/wire-protocol.md that validation decides, each from a minimal valid
 * update changed in one field, with the limits at their edges; then the unit
 * key, TEU and container helpers.
 */
#include "unit.h"

#include <stdio.h>

#include "validate.h"

#define NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z */
#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)
#define Y2000_MS 946684800000LL

static struct leg_table legs;
static struct limits lim;

static int
setup(void **state)
{
	char err[128];

	(void)state;
	legs.count = 0;
	limits_set_defaults(&lim);
	return legs_load_default(&legs, err, sizeof err);
}

/* The smallest update validation accepts: a KTZE container departing Altynkol. */
static Corridor__ShipmentUpdate
minimal(void)
{
	Corridor__ShipmentUpdate u = CORRIDOR__SHIPMENT_UPDATE__INIT;

	u.carrier = "KTZE";
	u.has_seq = 1;
	u.seq = 1;
	u.message_id = "m-1";
	u.has_event_class = 1;
	u.event_class = CORRIDOR__EVENT_CLASS__EQUIPMENT;
	u.has_classifier = 1;
	u.classifier = CORRIDOR__CLASSIFIER__ACT;
	u.has_event_code = 1;
	u.event_code = CORRIDOR__EVENT_CODE__LOAD;
	u.has_event_time_ms = 1;
	u.event_time_ms = NOW_MS - HOUR_MS;
	u.node = "ALTYNKOL";
	u.leg = "KZ-RAIL-ALT-AKT";
	u.has_direction = 1;
	u.direction = CORRIDOR__DIRECTION__W;
	u.container = "CSQU3054383";
	return u;
}

static void
accepted(const Corridor__ShipmentUpdate *u)
{
	struct reject rej;

	memset(&rej, 0, sizeof rej);
	if (update_validate(u, "KTZE", &legs, &lim, NOW_MS, &rej) != 0)
		fail_msg("rejected: %s: %s", reject_reason_name(rej.reason), rej.message);
}

/* Rejected with reason, not retryable, with a message. */
static void
rejected(const Corridor__ShipmentUpdate *u, Corridor__RejectReason reason)
{
	struct reject rej;

	memset(&rej, 0, sizeof rej);
	rej.retryable = true;
	assert_int_equal(update_validate(u, "KTZE", &legs, &lim, NOW_MS, &rej), -1);
	if (rej.reason != reason)
		fail_msg("got %s (%s), want %s", reject_reason_name(rej.reason), rej.message,
		    reject_reason_name(reason));
	assert_false(rej.retryable);
	assert_true(rej.message[0] != '\0');
}

/* A string of n copies of c, in a static buffer (one at a time). */
static char *
repeat(char c, size_t n)
{
	static char buf[2][9000];
	static int which;
	char *s = buf[which ^= 1];

	assert_true(n < sizeof buf[0]);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_minimal_valid(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	accepted(&u);
}

static void
test_missing_seq(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.has_seq = 0;
	rejected(&u, CORRIDOR__REJECT_REASON__MISSING_FIELD);
	u = minimal();
	u.seq = 0;
	rejected(&u, CORRIDOR__REJECT_REASON__MISSING_FIELD);
	u.seq = UINT64_MAX;
	accepted(&u);
}

static void
test_missing_identifiers(void **state)
{
	(void)state;
	for (int f = 0; f < 4; f++) {
		for (int empty = 0; empty < 2; empty++) {
			Corridor__ShipmentUpdate u = minimal();
			char **field = f == 0 ? &u.carrier : f == 1 ? &u.message_id :
			    f == 2 ? &u.node : &u.leg;

			*field = empty ? "" : NULL;
			rejected(&u, CORRIDOR__REJECT_REASON__MISSING_FIELD);
		}
	}
}

static void
test_missing_enums(void **state)
{
	(void)state;
	for (int f = 0; f < 4; f++) {
		Corridor__ShipmentUpdate u = minimal();

		if (f == 0)
			u.has_event_class = 0;
		else if (f == 1)
			u.has_classifier = 0;
		else if (f == 2)
			u.has_event_code = 0;
		else
			u.has_direction = 0;
		rejected(&u, CORRIDOR__REJECT_REASON__MISSING_FIELD);
	}
}

static void
test_missing_time(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.has_event_time_ms = 0;
	rejected(&u, CORRIDOR__REJECT_REASON__MISSING_FIELD);
}

static void
test_unit_required(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.container = NULL;
	rejected(&u, CORRIDOR__REJECT_REASON__MISSING_FIELD);
	u.container = "";
	rejected(&u, CORRIDOR__REJECT_REASON__MISSING_FIELD);
	u.voyage = "V12";	/* a voyage alone is not a unit */
	rejected(&u, CORRIDOR__REJECT_REASON__MISSING_FIELD);
	for (int f = 0; f < 4; f++) {
		Corridor__ShipmentUpdate v = minimal();

		v.container = NULL;
		if (f == 0)
			v.train_id = "KZ8001";
		else if (f == 1)
			v.vessel_imo = "9876543";
		else if (f == 2)
			v.wagon_id = "215612345678";
		else
			v.truck_plate = "10AB123";
		accepted(&v);
	}
}

static void
test_unknown_leg(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.leg = "KZ-RAIL-NOWHERE";
	rejected(&u, CORRIDOR__REJECT_REASON__UNKNOWN_LEG);
	u.leg = "kz-rail-alt-akt";	/* leg codes are case-sensitive */
	rejected(&u, CORRIDOR__REJECT_REASON__UNKNOWN_LEG);
	for (size_t i = 0; i < legs.count; i++) {
		u.leg = legs.legs[i].code;
		accepted(&u);
	}
}

static void
test_wrong_carrier(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.carrier = "ADYC";
	rejected(&u, CORRIDOR__REJECT_REASON__WRONG_CARRIER);
	u.carrier = "KTZ";
	rejected(&u, CORRIDOR__REJECT_REASON__WRONG_CARRIER);
	u.carrier = "KTZEX";
	rejected(&u, CORRIDOR__REJECT_REASON__WRONG_CARRIER);
}

static void
test_bad_check_digit(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.container = "CSQU3054384";
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_CHECK_DIGIT);
	u.container = "MWCU6059780";
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_CHECK_DIGIT);
	u.container = "MWCU6059784";
	accepted(&u);
	u.container = "APZU4812090";
	accepted(&u);
}

static void
test_container_shape(void **state)
{
	static char *const bad[] = {
		"csqu3054383", "CSQU305438", "CSQU30543830", "CSQ13054383", "CSQU30543X3",
		"CSQU305438X",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		Corridor__ShipmentUpdate u = minimal();

		u.container = bad[i];
		rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
	}
}

static void
test_container_category(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.container = "CSQJ3054386";
	accepted(&u);
	u.container = "CSQZ3054387";
	accepted(&u);
	/* X is no ISO 6346 category; its check digit (2) is right, so this is a
	 * wrong shape, not a wrong check digit. */
	u.container = "CSQX3054382";
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
}

static void
test_time_in_future_act(void **state)
{
	Corridor__ShipmentUpdate u = minimal();
	int64_t skew = lim.max_future_skew_s * 1000;

	(void)state;
	u.event_time_ms = NOW_MS + skew;
	accepted(&u);
	u.event_time_ms = NOW_MS + skew + 1;
	rejected(&u, CORRIDOR__REJECT_REASON__TIME_IN_FUTURE);
	u.event_time_ms = NOW_MS + DAY_MS;
	rejected(&u, CORRIDOR__REJECT_REASON__TIME_IN_FUTURE);
	u.event_time_ms = INT64_MAX;
	rejected(&u, CORRIDOR__REJECT_REASON__TIME_IN_FUTURE);
}

static void
test_time_in_future_plan(void **state)
{
	int64_t horizon = lim.max_plan_horizon_days * DAY_MS;

	(void)state;
	for (int c = 0; c < 2; c++) {
		Corridor__ShipmentUpdate u = minimal();

		u.classifier = c == 0 ? CORRIDOR__CLASSIFIER__PLN : CORRIDOR__CLASSIFIER__EST;
		/* a day ahead is too far for an actual event, fine for a plan */
		u.event_time_ms = NOW_MS + DAY_MS;
		accepted(&u);
		u.event_time_ms = NOW_MS + horizon;
		accepted(&u);
		u.event_time_ms = NOW_MS + horizon + 1;
		rejected(&u, CORRIDOR__REJECT_REASON__TIME_IN_FUTURE);
	}
}

static void
test_skew_limit_zero(void **state)
{
	Corridor__ShipmentUpdate u = minimal();
	char err[128];

	(void)state;
	assert_int_equal(limits_set(&lim, "max_future_skew_s", "0", err, sizeof err), 0);
	u.event_time_ms = NOW_MS;
	accepted(&u);
	u.event_time_ms = NOW_MS + 1;
	rejected(&u, CORRIDOR__REJECT_REASON__TIME_IN_FUTURE);
}

static void
test_time_too_old(void **state)
{
	Corridor__ShipmentUpdate u = minimal();
	int64_t age = lim.max_event_age_days * DAY_MS;
	char err[128];

	(void)state;
	u.event_time_ms = NOW_MS - age;
	accepted(&u);
	u.event_time_ms = NOW_MS - age - 1;
	rejected(&u, CORRIDOR__REJECT_REASON__TIME_TOO_OLD);
	u.event_time_ms = 0;
	rejected(&u, CORRIDOR__REJECT_REASON__TIME_TOO_OLD);
	u.event_time_ms = -1;
	rejected(&u, CORRIDOR__REJECT_REASON__TIME_TOO_OLD);
	/* with a long age limit, 2000-01-01 is still the floor */
	assert_int_equal(limits_set(&lim, "max_event_age_days", "36500", err, sizeof err), 0);
	u.event_time_ms = Y2000_MS;
	accepted(&u);
	u.event_time_ms = Y2000_MS - 1;
	rejected(&u, CORRIDOR__REJECT_REASON__TIME_TOO_OLD);
}

static void
test_next_eta(void **state)
{
	Corridor__ShipmentUpdate u = minimal();
	int64_t horizon = lim.max_plan_horizon_days * DAY_MS;

	(void)state;
	u.has_next_eta_ms = 1;
	u.next_eta_ms = NOW_MS + horizon;
	accepted(&u);
	u.next_eta_ms = NOW_MS + horizon + 1;
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
	u.next_eta_ms = Y2000_MS;
	accepted(&u);
	u.next_eta_ms = Y2000_MS - 1;
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
}

static void
test_unknown_enum_values(void **state)
{
	(void)state;
	for (int f = 0; f < 5; f++) {
		for (int bad = 0; bad < 2; bad++) {
			Corridor__ShipmentUpdate u = minimal();
			int v = bad == 0 ? 0 : 99;

			if (f == 0)
				u.event_class = (Corridor__EventClass)v;
			else if (f == 1)
				u.classifier = (Corridor__Classifier)v;
			else if (f == 2)
				u.event_code = (Corridor__EventCode)v;
			else if (f == 3)
				u.direction = (Corridor__Direction)v;
			else {
				u.has_mode = 1;
				u.mode = (Corridor__Mode)v;
			}
			rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
		}
	}
}

static void
test_modes_valid(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.has_mode = 1;
	for (int m = CORRIDOR__MODE__RAIL; m <= CORRIDOR__MODE__TRUCK; m++) {
		u.mode = (Corridor__Mode)m;
		accepted(&u);
	}
	u.direction = CORRIDOR__DIRECTION__E;
	accepted(&u);
}

static int
belongs(int cls, int code)
{
	switch (cls) {
	case CORRIDOR__EVENT_CLASS__TRANSPORT:
		return code == CORRIDOR__EVENT_CODE__ARRI || code == CORRIDOR__EVENT_CODE__DEPA;
	case CORRIDOR__EVENT_CLASS__SHIPMENT:
		return code == CORRIDOR__EVENT_CODE__HOLD || code == CORRIDOR__EVENT_CODE__RELS;
	default:
		return code != CORRIDOR__EVENT_CODE__ARRI && code != CORRIDOR__EVENT_CODE__DEPA &&
		    code != CORRIDOR__EVENT_CODE__HOLD && code != CORRIDOR__EVENT_CODE__RELS;
	}
}

static void
test_code_in_class(void **state)
{
	(void)state;
	/* every class against every code, from the table in docs/wire-protocol.md */
	for (int cls = CORRIDOR__EVENT_CLASS__TRANSPORT; cls <= CORRIDOR__EVENT_CLASS__SHIPMENT;
	    cls++) {
		for (int code = CORRIDOR__EVENT_CODE__ARRI; code <= CORRIDOR__EVENT_CODE__RELS;
		    code++) {
			Corridor__ShipmentUpdate u = minimal();

			u.event_class = (Corridor__EventClass)cls;
			u.event_code = (Corridor__EventCode)code;
			if (belongs(cls, code))
				accepted(&u);
			else
				rejected(&u, CORRIDOR__REJECT_REASON__CODE_NOT_IN_CLASS);
		}
	}
}

static void
test_identifier_length(void **state)
{
	size_t max = (size_t)lim.max_string_bytes;

	(void)state;
	for (int f = 0; f < 6; f++) {
		Corridor__ShipmentUpdate u = minimal();
		char **field = f == 0 ? &u.message_id : f == 1 ? &u.node : f == 2 ? &u.locode :
		    f == 3 ? &u.voyage : f == 4 ? &u.delay_reason : &u.retracts_message_id;

		*field = repeat('A', max);
		accepted(&u);
		*field = repeat('A', max + 1);
		rejected(&u, CORRIDOR__REJECT_REASON__FIELD_TOO_LONG);
	}
	for (int f = 0; f < 4; f++) {
		Corridor__ShipmentUpdate u = minimal();
		char **field = f == 0 ? &u.train_id : f == 1 ? &u.wagon_id :
		    f == 2 ? &u.vessel_imo : &u.truck_plate;

		u.container = NULL;
		*field = repeat('7', max);
		accepted(&u);
		*field = repeat('7', max + 1);
		rejected(&u, CORRIDOR__REJECT_REASON__FIELD_TOO_LONG);
	}
}

static void
test_identifier_charset(void **state)
{
	static char *const bad[] = { "m 1", "m\t1", "m\x01", "m\x7f", "caf\xc3\xa9" };

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		Corridor__ShipmentUpdate u = minimal();

		u.message_id = bad[i];
		rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
	}
	assert_true(text_is_identifier("KTZE-2026/01:#7~"));
	assert_true(text_is_identifier(""));
	assert_false(text_is_identifier(" "));
	assert_false(text_is_identifier("a\x80"));
}

static void
test_remark_length(void **state)
{
	Corridor__ShipmentUpdate u = minimal();
	size_t max = (size_t)lim.max_remark_bytes;
	char multi[600];

	(void)state;
	u.remark = "";
	accepted(&u);
	u.remark = repeat('r', max);
	accepted(&u);
	u.remark = repeat('r', max + 1);
	rejected(&u, CORRIDOR__REJECT_REASON__FIELD_TOO_LONG);
	/* the limit counts bytes, not characters: 256 two-byte characters fit,
	 * one more byte does not */
	for (size_t i = 0; i < max; i += 2)
		memcpy(multi + i, "\xd0\x96", 2);
	multi[max] = '\0';
	u.remark = multi;
	accepted(&u);
	multi[max] = '!';
	multi[max + 1] = '\0';
	rejected(&u, CORRIDOR__REJECT_REASON__FIELD_TOO_LONG);
}

static void
test_remark_utf8(void **state)
{
	static char *const good[] = {
		"weather: WEA, ferry waiting at Aktau",
		"\xd0\x9f\xd0\xbe\xd1\x80\xd1\x82 \xd0\x90\xd0\xba\xd1\x82\xd0\xb0\xd1\x83", /* Cyrillic */
		"Bak\xc4\xb1 liman\xc4\xb1",	/* Azerbaijani dotless i */
		"\xe2\x82\xac 100",		/* euro sign, 3 bytes */
		"\xf0\x9f\x9a\xa2",		/* ship emoji, 4 bytes */
		"\xf4\x8f\xbf\xbf",		/* U+10FFFF */
		"\xed\x9f\xbf",			/* U+D7FF, just below the surrogates */
	};
	static char *const bad[] = {
		"\x80",			/* lone continuation byte */
		"abc\xc3",		/* truncated 2-byte sequence */
		"\xe2\x82",		/* truncated 3-byte sequence */
		"\xc0\xaf",		/* overlong '/' */
		"\xc1\xbf",		/* overlong */
		"\xe0\x80\xaf",		/* overlong 3-byte */
		"\xf0\x80\x80\xaf",	/* overlong 4-byte */
		"\xed\xa0\x80",		/* surrogate U+D800 */
		"\xf4\x90\x80\x80",	/* above U+10FFFF */
		"\xf5\x80\x80\x80",
		"\xff",
		"line\nbreak",		/* control characters */
		"tab\there",
		"bell\x07",
		"del\x7f",
	};

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		Corridor__ShipmentUpdate u = minimal();

		assert_true(text_is_clean_utf8(good[i]));
		u.remark = good[i];
		accepted(&u);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		Corridor__ShipmentUpdate u = minimal();

		if (text_is_clean_utf8(bad[i]))
			fail_msg("bad[%zu] passed as clean UTF-8", i);
		u.remark = bad[i];
		rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
	}
}

static void
test_iso_type(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.iso_type = "45G1";
	accepted(&u);
	u.iso_type = "";
	accepted(&u);
	u.iso_type = "45G";
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
	u.iso_type = "45G1X";
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
}

static void
test_weights_and_counts(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	u.has_gross_kg = 1;
	u.gross_kg = (uint32_t)lim.max_container_gross_kg;
	accepted(&u);
	u.gross_kg++;
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
	/* a train may weigh more than a container */
	u.container = NULL;
	u.train_id = "KZ8001";
	accepted(&u);
	u.gross_kg = (uint32_t)lim.max_gross_kg;
	accepted(&u);
	u.gross_kg++;
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);

	u = minimal();
	u.has_teu = 1;
	u.teu = (uint32_t)lim.max_teu;
	accepted(&u);
	u.teu++;
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);

	u = minimal();
	u.has_container_count = 1;
	u.container_count = (uint32_t)lim.max_container_count;
	accepted(&u);
	u.container_count++;
	rejected(&u, CORRIDOR__REJECT_REASON__BAD_VALUE);
}

static void
test_unit_key(void **state)
{
	Corridor__ShipmentUpdate u = minimal();
	char key[128];

	(void)state;
	u.train_id = "KZ8001";	/* the container wins */
	update_unit_key(&u, key, sizeof key);
	assert_string_equal(key, "CSQU3054383");
	u.container = "";
	update_unit_key(&u, key, sizeof key);
	assert_string_equal(key, "TRAIN:KZ8001");
	u.train_id = NULL;
	u.vessel_imo = "9876543";
	update_unit_key(&u, key, sizeof key);
	assert_string_equal(key, "VESSEL:9876543/-");
	u.voyage = "V042";
	update_unit_key(&u, key, sizeof key);
	assert_string_equal(key, "VESSEL:9876543/V042");
	u.vessel_imo = NULL;
	u.wagon_id = "215612345678";
	update_unit_key(&u, key, sizeof key);
	assert_string_equal(key, "WAGON:215612345678");
	u.wagon_id = NULL;
	u.truck_plate = "10AB123";
	update_unit_key(&u, key, sizeof key);
	assert_string_equal(key, "TRUCK:10AB123");
	u.truck_plate = NULL;
	update_unit_key(&u, key, sizeof key);
	assert_string_equal(key, "TRUCK:-");
	/* truncated, never overrun */
	u.container = "CSQU3054383";
	update_unit_key(&u, key, 5);
	assert_string_equal(key, "CSQU");
}

static void
test_teu_and_containers(void **state)
{
	Corridor__ShipmentUpdate u = minimal();

	(void)state;
	assert_int_equal(update_teu(&u), 1);	/* a container without a type counts 1 */
	assert_int_equal(update_containers(&u), 1);
	u.iso_type = "22G1";
	assert_int_equal(update_teu(&u), 1);
	u.iso_type = "45G1";
	assert_int_equal(update_teu(&u), 2);
	u.iso_type = "L5G1";
	assert_int_equal(update_teu(&u), 2);
	u.iso_type = "ZZZZ";
	assert_int_equal(update_teu(&u), 1);
	u.has_teu = 1;	/* a given teu wins over the type */
	u.teu = 3;
	assert_int_equal(update_teu(&u), 3);
	u.has_container_count = 1;	/* one container is one container */
	u.container_count = 40;
	assert_int_equal(update_containers(&u), 1);

	u = minimal();
	u.container = NULL;
	u.train_id = "KZ8001";
	assert_int_equal(update_teu(&u), 0);
	assert_int_equal(update_containers(&u), 0);
	u.has_teu = 1;
	u.teu = 84;
	u.has_container_count = 1;
	u.container_count = 42;
	assert_int_equal(update_teu(&u), 84);
	assert_int_equal(update_containers(&u), 42);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(reject_reason_name(CORRIDOR__REJECT_REASON__MISSING_FIELD),
	    "MISSING_FIELD");
	assert_string_equal(reject_reason_name(CORRIDOR__REJECT_REASON__BUSY), "BUSY");
	assert_string_equal(reject_reason_name((Corridor__RejectReason)0), "UNKNOWN");
	assert_string_equal(reject_reason_name((Corridor__RejectReason)999), "UNKNOWN");
	for (int c = CORRIDOR__EVENT_CODE__ARRI; c <= CORRIDOR__EVENT_CODE__RELS; c++) {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(&corridor__event_code__descriptor, c);

		assert_non_null(v);
		assert_string_equal(event_code_name(c), v->name);
		assert_int_equal(event_code_from_name(v->name), c);
	}
	assert_string_equal(event_code_name(0), "?");
	assert_string_equal(event_code_name(12), "?");
	assert_string_equal(event_code_name(-1), "?");
	assert_int_equal(event_code_from_name("arri"), 0);
	assert_int_equal(event_code_from_name(""), 0);
	assert_int_equal(event_code_from_name("XXXX"), 0);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_minimal_valid), T(test_missing_seq), T(test_missing_identifiers),
		T(test_missing_enums), T(test_missing_time), T(test_unit_required),
		T(test_unknown_leg), T(test_wrong_carrier), T(test_bad_check_digit),
		T(test_container_shape), T(test_container_category),
		T(test_time_in_future_act), T(test_time_in_future_plan), T(test_skew_limit_zero),
		T(test_time_too_old), T(test_next_eta), T(test_unknown_enum_values),
		T(test_modes_valid), T(test_code_in_class), T(test_identifier_length),
		T(test_identifier_charset), T(test_remark_length), T(test_remark_utf8),
		T(test_iso_type), T(test_weights_and_counts), T(test_unit_key),
		T(test_teu_and_containers), T(test_names),
	};

	return UNIT_RUN(tests);
}
