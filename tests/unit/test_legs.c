/*
 * The leg table (lib/legs.c): the built-in defaults from schema/legs.tsv, and
 * a configured TSV that overrides or adds legs, with errors that name the line.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "legs.h"

#define HEADER "code\tfrom\tto\tcountry\tkind\tmode\tdistance_km\tmin_h\ttypical_h\tbad_h\tbasis\n"

static struct leg_table table;
static char err[256];

static int
setup(void **state)
{
	(void)state;
	memset(&table, 0, sizeof table);
	err[0] = '\0';
	return 0;
}

static void
load_defaults(void)
{
	if (legs_load_default(&table, err, sizeof err) != 0)
		fail_msg("defaults: %s", err);
}

/* Parses text expecting an error that names line; returns nothing. */
static void
parse_fails_at(const char *text, int line)
{
	char want[32];

	assert_int_equal(legs_parse_tsv(&table, text, err, sizeof err), -1);
	snprintf(want, sizeof want, "line %d:", line);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not name %s", err, want);
}

static void
test_defaults(void **state)
{
	static const char *const codes[] = {
		"KZ-BRD-ALT", "KZ-BRD-DOS", "KZ-RAIL-ALT-AKT", "KZ-RAIL-DOS-AKT", "KZ-PORT-AKT",
		"KZ-PORT-KUR", "CASP-AKT-ALT", "CASP-KUR-ALT", "AZ-PORT-ALT", "AZ-RAIL-ALT-BKS",
		"AZGE-BRD-BKS", "GE-RAIL-GAR-POT",
	};
	const struct leg *l;

	(void)state;
	load_defaults();
	assert_int_equal(table.count, 12);
	for (size_t i = 0; i < 12; i++) {
		assert_string_equal(table.legs[i].code, codes[i]);
		assert_int_equal(legs_index(&table, codes[i]), (int)i);
		assert_true(table.legs[i].min_h <= table.legs[i].typical_h);
		assert_true(table.legs[i].typical_h <= table.legs[i].bad_h);
	}
	l = legs_find(&table, "KZ-RAIL-ALT-AKT");
	assert_non_null(l);
	assert_int_equal(l->kind, LEG_MOVEMENT);
	assert_string_equal(l->from, "Altynkol");
	assert_string_equal(l->to, "Aktau port station");
	assert_string_equal(l->country, "KZ");
	assert_string_equal(l->mode, "rail");
	assert_true(l->distance_km == 3200);
	assert_true(l->min_h == 84 && l->typical_h == 120 && l->bad_h == 240);
	assert_int_equal(legs_find(&table, "KZ-PORT-AKT")->kind, LEG_PORT);
	assert_int_equal(legs_find(&table, "AZGE-BRD-BKS")->kind, LEG_BORDER);
	assert_true(legs_find(&table, "KZ-BRD-DOS")->min_h == 4.25);
	assert_string_equal(legs_find(&table, "CASP-AKT-ALT")->country, "KZ/AZ");
}

static void
test_find_missing(void **state)
{
	(void)state;
	load_defaults();
	assert_null(legs_find(&table, "NOPE"));
	assert_null(legs_find(&table, ""));
	assert_null(legs_find(&table, "kz-port-akt"));
	assert_int_equal(legs_index(&table, "NOPE"), -1);
}

static void
test_override(void **state)
{
	(void)state;
	load_defaults();
	assert_int_equal(legs_parse_tsv(&table, HEADER
	    "KZ-PORT-AKT\tAktau\tAktau\tKZ\tport\tsea\t0\t6\t48\t96\tmeasured 2026\n",
	    err, sizeof err), 0);
	assert_int_equal(table.count, 12);
	assert_int_equal(legs_index(&table, "KZ-PORT-AKT"), 4);	/* keeps its place */
	assert_true(legs_find(&table, "KZ-PORT-AKT")->typical_h == 48);
	assert_string_equal(legs_find(&table, "KZ-PORT-AKT")->from, "Aktau");
}

static void
test_add(void **state)
{
	(void)state;
	load_defaults();
	assert_int_equal(legs_parse_tsv(&table, HEADER
	    "# Georgia to Turkiye by rail, Baku-Tbilisi-Kars\n"
	    "GE-RAIL-TBS-KRS\tTbilisi\tKars\tGE/TR\tmovement\trail\t258\t12\t24\t72\n"
	    "GE-PORT-POT\tPoti\tPoti\tGE\tport\tsea\t0\t1.5\t24\t96\tno basis\tPOT\tPOT\n",
	    err, sizeof err), 0);
	assert_int_equal(table.count, 14);
	assert_int_equal(legs_index(&table, "GE-RAIL-TBS-KRS"), 12);
	/* without node columns both ends are the leg code; with them, the nodes */
	assert_string_equal(legs_find(&table, "GE-RAIL-TBS-KRS")->from_node, "GE-RAIL-TBS-KRS");
	assert_string_equal(leg_origin(legs_find(&table, "GE-PORT-POT"), 'W'), "POT");
	assert_string_equal(leg_origin(legs_find(&table, "KZ-RAIL-ALT-AKT"), 'W'), "ALK");
	assert_string_equal(leg_origin(legs_find(&table, "KZ-RAIL-ALT-AKT"), 'E'), "AKT");
	assert_string_equal(leg_destination(legs_find(&table, "CASP-AKT-ALT"), 'W'), "BAK");
	assert_int_equal(legs_parse_tsv(&table, HEADER
	    "GE-PORT-BAT\tBatumi\tBatumi\tGE\tport\tsea\t0\t1\t2\t3\tx\tbad node\tBAT\n",
	    err, sizeof err), -1);
	assert_int_equal(legs_index(&table, "GE-PORT-POT"), 13);
	assert_true(legs_find(&table, "GE-PORT-POT")->min_h == 1.5);
	assert_int_equal(legs_find(&table, "GE-RAIL-TBS-KRS")->kind, LEG_MOVEMENT);
}

static void
test_no_header_crlf_and_comments(void **state)
{
	(void)state;
	assert_int_equal(legs_parse_tsv(&table,
	    "# no header line\r\n"
	    "A-B\tA\tB\tKZ\tborder\trail\t5\t1\t2\t3\r\n",
	    err, sizeof err), 0);
	assert_int_equal(table.count, 1);
	assert_true(table.legs[0].bad_h == 3);
	assert_int_equal(table.legs[0].kind, LEG_BORDER);
	assert_int_equal(legs_parse_tsv(&table, "", err, sizeof err), 0);
	assert_int_equal(table.count, 1);
}

static void
test_errors_name_the_line(void **state)
{
	(void)state;
	/* too few columns */
	parse_fails_at(HEADER "X-1\tA\tB\tKZ\tport\n", 2);
	/* bad code */
	parse_fails_at(HEADER "OK-1\tA\tB\tKZ\tport\tsea\t0\t1\t2\t3\n"
	    "bad code\tA\tB\tKZ\tport\tsea\t0\t1\t2\t3\n", 3);
	parse_fails_at(HEADER "lower\tA\tB\tKZ\tport\tsea\t0\t1\t2\t3\n", 2);
	/* bad kind */
	parse_fails_at(HEADER "# comment\nX-1\tA\tB\tKZ\tstation\tsea\t0\t1\t2\t3\n", 3);
	/* numbers */
	parse_fails_at(HEADER "X-1\tA\tB\tKZ\tport\tsea\tfar\t1\t2\t3\n", 2);
	parse_fails_at(HEADER "X-1\tA\tB\tKZ\tport\tsea\t0\t1h\t2\t3\n", 2);
	parse_fails_at(HEADER "X-1\tA\tB\tKZ\tport\tsea\t0\t-1\t2\t3\n", 2);
	/* order of hours */
	parse_fails_at(HEADER "X-1\tA\tB\tKZ\tport\tsea\t0\t3\t2\t4\n", 2);
	parse_fails_at(HEADER "X-1\tA\tB\tKZ\tport\tsea\t0\t1\t5\t4\n", 2);
	/* equal hours are fine */
	assert_int_equal(legs_parse_tsv(&table, "X-1\tA\tB\tKZ\tport\tsea\t0\t2\t2\t2\n",
	    err, sizeof err), 0);
	/* a header that is not on line 1 is just a bad line */
	parse_fails_at("# first\n" HEADER, 2);
}

static void
test_error_line_after_blank(void **state)
{
	int rc;

	(void)state;
	rc = legs_parse_tsv(&table, HEADER "\n# comment\n\nX-1\tA\tB\tKZ\tstation\tsea\t0\t1\t2\t3\n",
	    err, sizeof err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "line 5:"));
}

static void
test_empty_column_stays_in_place(void **state)
{
	(void)state;
	/* an empty "from" must not shift "to" into its place */
	parse_fails_at(HEADER "X-1\t\tB\tKZ\tport\tsea\t0\t1\t2\t3\n", 2);
	assert_non_null(strstr(err, "from and to"));
}

static void
test_table_full(void **state)
{
	char *text = malloc((LEGS_MAX + 1) * 64);
	size_t n = 0;

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < LEGS_MAX; i++)
		n += (size_t)sprintf(text + n, "L%d\tA\tB\tKZ\tport\tsea\t0\t1\t2\t3\n", i);
	assert_int_equal(legs_parse_tsv(&table, text, err, sizeof err), 0);
	assert_int_equal(table.count, LEGS_MAX);
	/* replacing still works when full; adding does not */
	assert_int_equal(legs_parse_tsv(&table, "L7\tA\tB\tKZ\tborder\tsea\t0\t1\t2\t3\n",
	    err, sizeof err), 0);
	assert_int_equal(table.legs[7].kind, LEG_BORDER);
	parse_fails_at("L7\tA\tB\tKZ\tport\tsea\t0\t1\t2\t3\n"
	    "ONE-MORE\tA\tB\tKZ\tport\tsea\t0\t1\t2\t3\n", 2);
	assert_int_equal(table.count, LEGS_MAX);
	free(text);
}

static void
test_code_valid(void **state)
{
	char longest[LEG_CODE_MAX + 1];

	(void)state;
	assert_true(leg_code_valid("KZ-PORT-AKT"));
	assert_true(leg_code_valid("A_1"));
	assert_true(leg_code_valid("9"));
	assert_false(leg_code_valid(""));
	assert_false(leg_code_valid("KZ PORT"));
	assert_false(leg_code_valid("kz-port"));
	assert_false(leg_code_valid("KZ.PORT"));
	memset(longest, 'A', LEG_CODE_MAX);
	longest[LEG_CODE_MAX - 1] = '\0';
	assert_true(leg_code_valid(longest));	/* 31 characters */
	longest[LEG_CODE_MAX - 1] = 'A';
	longest[LEG_CODE_MAX] = '\0';
	assert_false(leg_code_valid(longest));	/* 32 */
}

static void
test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(leg_kind_name(LEG_MOVEMENT), "movement");
	assert_string_equal(leg_kind_name(LEG_PORT), "port");
	assert_string_equal(leg_kind_name(LEG_BORDER), "border");
	assert_string_equal(leg_kind_name((enum leg_kind)9), "?");
}

#define T(f) cmocka_unit_test_setup(f, setup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults), T(test_find_missing), T(test_override), T(test_add),
		T(test_no_header_crlf_and_comments), T(test_errors_name_the_line),
		T(test_error_line_after_blank),
		T(test_empty_column_stays_in_place), T(test_table_full), T(test_code_valid),
		T(test_kind_names),
	};

	return UNIT_RUN(tests);
}
