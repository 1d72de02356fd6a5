/*
 * What a reload may change (daemon/service/reload.c): legs keep their indexes and new
 * ones come after; a leg that vanishes or changes kind refuses the file; a
 * changed typical time and every setting that needs a restart keep their
 * running values, while the other limits take the file's.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_table.h"
#include "reload.h"

static struct leg
leg(const char *code, enum leg_kind kind, double typical_h)
{
	struct leg l;

	memset(&l, 0, sizeof l);
	snprintf(l.code, sizeof l.code, "%s", code);
	snprintf(l.from, sizeof l.from, "from %s", code);
	l.kind = kind;
	l.typical_h = typical_h;
	return l;
}

static void
test_legs_keep_their_indexes(void **state)
{
	struct leg_table *running = calloc(1, sizeof *running), *next = calloc(1, sizeof *next);
	char err[256];

	(void)state;
	running->legs[running->count++] = leg("A", LEG_MOVEMENT, 10);
	running->legs[running->count++] = leg("B", LEG_PORT, 20);
	running->legs[running->count++] = leg("C", LEG_BORDER, 30);
	next->legs[next->count++] = leg("C", LEG_BORDER, 30);
	next->legs[next->count++] = leg("D", LEG_MOVEMENT, 40);
	next->legs[next->count++] = leg("A", LEG_MOVEMENT, 10);
	next->legs[next->count++] = leg("B", LEG_PORT, 25);	/* a new typical time */
	snprintf(next->legs[2].from, sizeof next->legs[2].from, "renamed");
	assert_int_equal(reload_reconcile_legs(running, next, err, sizeof err), 0);
	assert_int_equal(next->count, 4);
	assert_string_equal(next->legs[0].code, "A");
	assert_string_equal(next->legs[0].from, "renamed");	/* descriptions apply */
	assert_string_equal(next->legs[1].code, "B");
	assert_true(next->legs[1].typical_h == 20);		/* needs a restart */
	assert_string_equal(next->legs[2].code, "C");
	assert_string_equal(next->legs[3].code, "D");
	free(running);
	free(next);
}

static void
test_leg_may_not_vanish_or_change_kind(void **state)
{
	struct leg_table *running = calloc(1, sizeof *running), *next = calloc(1, sizeof *next);
	char err[256];

	(void)state;
	running->legs[running->count++] = leg("A", LEG_MOVEMENT, 10);
	running->legs[running->count++] = leg("B", LEG_PORT, 20);
	next->legs[next->count++] = leg("A", LEG_MOVEMENT, 10);
	assert_int_equal(reload_reconcile_legs(running, next, err, sizeof err), -1);
	assert_non_null(strstr(err, "leg B is gone"));
	next->legs[next->count++] = leg("B", LEG_BORDER, 20);
	assert_int_equal(reload_reconcile_legs(running, next, err, sizeof err), -1);
	assert_non_null(strstr(err, "leg B would change kind from port to border"));
	free(running);
	free(next);
}

static void
test_restart_only_settings_keep_running_values(void **state)
{
	struct config *running = config_new(), *next = config_new();
	char err[128];

	(void)state;
	next->limits.writers = running->limits.writers + 1;
	next->limits.query_threads = running->limits.query_threads + 1;
	next->limits.max_batch_updates = 7;
	next->limits.auth_fail_delay_ms = 9;
	snprintf(next->state_dir, sizeof next->state_dir, "/elsewhere");
	snprintf(next->query_listen, sizeof next->query_listen, "0.0.0.0:1");
	next->log_level = LOG_LEVEL_DEBUG;
	next->sync = STORE_SYNC_NORMAL;
	assert_int_equal(config_set(next, "tls", "min_version", "1.3", err, sizeof err), 0);
	assert_int_equal(reload_keep_restart_only(running, next), 6);
	assert_int_equal(next->sync, running->sync);
	assert_int_equal(next->tls.min_version, running->tls.min_version);
	assert_int_equal(next->limits.writers, running->limits.writers);
	assert_int_equal(next->limits.query_threads, running->limits.query_threads);
	assert_string_equal(next->state_dir, running->state_dir);
	assert_string_equal(next->query_listen, running->query_listen);
	/* these apply at once */
	assert_int_equal(next->limits.max_batch_updates, 7);
	assert_int_equal(next->limits.auth_fail_delay_ms, 9);
	assert_int_equal(next->log_level, LOG_LEVEL_DEBUG);
	config_release(running);
	config_release(next);
}

/* Every option of config_table.c documents itself, and its default is what a
 * new configuration holds, written back the way the file would say it. */
static void
test_config_table_coherent(void **state)
{
	struct config *cfg = config_new();
	char value[CONFIG_PATH_MAX], err[128];

	(void)state;
	for (size_t i = 0; i < config_options_count; i++) {
		const struct config_option *o = &config_options[i];

		assert_non_null(o->doc);
		assert_true(o->doc[0] != '\0');
		assert_ptr_equal(config_option_find(o->section, o->name), o);
		assert_true(o->offset + o->size <= sizeof *cfg);
		config_option_format(cfg, o, value, sizeof value);
		assert_string_equal(value, o->def);
		if (o->type == CONFIG_ENUM)
			assert_int_equal(config_set(cfg, o->section, o->name, "nonsense", err,
			    sizeof err), -1);
		for (size_t j = 0; j < i; j++)
			assert_false(strcmp(config_options[j].name, o->name) == 0 &&
			    strcmp(config_options[j].section, o->section) == 0);
	}
	assert_int_equal(config_set(cfg, "daemon", "nonsense", "1", err, sizeof err), -1);
	assert_string_equal(err, "unknown setting \"nonsense\" in [daemon]");
	assert_int_equal(config_set(cfg, "nonsense", "a", "1", err, sizeof err), -1);
	assert_string_equal(err, "unknown section [nonsense]");
	assert_int_equal(config_set(cfg, "daemon", "query_listen", "nowhere", err, sizeof err), -1);
	assert_string_equal(err, "query_listen: \"nowhere\" is not host:port");
	assert_int_equal(config_set(cfg, "daemon", "metrics_listen", "", err, sizeof err), 0);
	assert_int_equal(config_set(cfg, "daemon", "log_level", "debug", err, sizeof err), 0);
	assert_int_equal(cfg->log_level, LOG_LEVEL_DEBUG);
	config_release(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legs_keep_their_indexes),
		cmocka_unit_test(test_leg_may_not_vanish_or_change_kind),
		cmocka_unit_test(test_restart_only_settings_keep_running_values),
		cmocka_unit_test(test_config_table_coherent),
	};

	return UNIT_RUN(tests);
}
