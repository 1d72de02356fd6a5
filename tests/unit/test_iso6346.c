/*
 * ISO 6346 container numbers (lib/iso6346.c). Expected check digits were
 * computed by hand from the rule in shared/domain/README.md (A=10 upward,
 * skipping multiples of 11; weights 2^i; mod 11; 10 -> 0), not by the code
 * under test.
 */
#include "unit.h"

#include "iso6346.h"

static void
test_worked_examples(void **state)
{
	(void)state;
	assert_int_equal(iso6346_check_digit("CSQU305438"), 3);
	assert_int_equal(iso6346_check_digit("MWCU605978"), 4);
	assert_int_equal(iso6346_check_digit("APZU481209"), 0);
	assert_true(iso6346_valid("CSQU3054383"));
	assert_true(iso6346_valid("MWCU6059784"));
	assert_true(iso6346_valid("APZU4812090"));
}

static void
test_more_digits(void **state)
{
	(void)state;
	assert_int_equal(iso6346_check_digit("AAAU000000"), 7);
	assert_int_equal(iso6346_check_digit("ZZZU999999"), 2);
	assert_int_equal(iso6346_check_digit("BICU123456"), 5);
	/* sum mod 11 == 10 becomes 0 */
	assert_int_equal(iso6346_check_digit("ABCU000007"), 0);
	assert_true(iso6346_valid("ABCU0000070"));
	/* the check digit only reads the first ten characters */
	assert_int_equal(iso6346_check_digit("CSQU3054389999"), 3);
}

static void
test_wrong_check_digit(void **state)
{
	char s[] = "CSQU3054383";

	(void)state;
	for (char d = '0'; d <= '9'; d++) {
		s[10] = d;
		assert_int_equal(iso6346_valid(s), d == '3');
	}
	/* a transposition in the serial changes the digit */
	assert_false(iso6346_valid("CSQU3504383"));
}

static void
test_bad_shape(void **state)
{
	(void)state;
	assert_int_equal(iso6346_check_digit("CSQ1305438"), -1);
	assert_int_equal(iso6346_check_digit("CSQUX05438"), -1);
	assert_int_equal(iso6346_check_digit("CSQU30543 "), -1);
	assert_int_equal(iso6346_check_digit("1SQU305438"), -1);
	assert_false(iso6346_valid(NULL));
	assert_false(iso6346_valid(""));
	assert_false(iso6346_valid("CSQU305438"));	/* 10 characters */
	assert_false(iso6346_valid("CSQU30543830"));	/* 12 characters */
	assert_false(iso6346_valid("CSQU305438X"));	/* check "digit" not a digit */
	assert_false(iso6346_valid("CSQU 054383"));
	assert_false(iso6346_valid("CSQU3054383\n"));
}

static void
test_lower_case(void **state)
{
	(void)state;
	assert_int_equal(iso6346_check_digit("csqu305438"), -1);
	assert_int_equal(iso6346_check_digit("CSqU305438"), -1);
	assert_false(iso6346_valid("csqu3054383"));
	assert_false(iso6346_valid("CSQu3054383"));
}

static void
test_category_letters(void **state)
{
	(void)state;
	/* U (freight), J (detachable equipment) and Z (trailers, chassis) */
	assert_int_equal(iso6346_check_digit("CSQJ305438"), 6);
	assert_int_equal(iso6346_check_digit("CSQZ305438"), 7);
	assert_true(iso6346_valid("CSQJ3054386"));
	assert_true(iso6346_valid("CSQZ3054387"));
	/* any other category is invalid even with the right check digit */
	assert_int_equal(iso6346_check_digit("CSQX305438"), 2);
	assert_false(iso6346_valid("CSQX3054382"));
	for (char cat = 'A'; cat <= 'Z'; cat++) {
		char s[] = "CSQU305438?";

		s[3] = cat;
		s[10] = (char)('0' + iso6346_check_digit(s));
		assert_int_equal(iso6346_valid(s), cat == 'U' || cat == 'J' || cat == 'Z');
	}
}

static void
test_teu(void **state)
{
	(void)state;
	assert_int_equal(iso6346_teu("22G1"), 1);
	assert_int_equal(iso6346_teu("20G1"), 1);
	assert_int_equal(iso6346_teu("45G1"), 2);
	assert_int_equal(iso6346_teu("42G1"), 2);
	assert_int_equal(iso6346_teu("L5G1"), 2);
	assert_int_equal(iso6346_teu("M5G1"), 2);
	assert_int_equal(iso6346_teu("X5G1"), 0);
	assert_int_equal(iso6346_teu("95G1"), 0);
	assert_int_equal(iso6346_teu("garbage"), 0);
	assert_int_equal(iso6346_teu("22G"), 0);
	assert_int_equal(iso6346_teu("22G1X"), 0);
	assert_int_equal(iso6346_teu(""), 0);
	assert_int_equal(iso6346_teu(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_examples),
		cmocka_unit_test(test_more_digits),
		cmocka_unit_test(test_wrong_check_digit),
		cmocka_unit_test(test_bad_shape),
		cmocka_unit_test(test_lower_case),
		cmocka_unit_test(test_category_letters),
		cmocka_unit_test(test_teu),
	};

	return UNIT_RUN(tests);
}
