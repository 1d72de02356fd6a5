/*
 * Connections per address (daemon/core/conn_limits.c): IPv4 and its IPv4-mapped
 * IPv6 form are one address, counts go up and down to nothing, colliding
 * addresses stay apart, non-IP peers are not counted; and the [tls] section
 * (daemon/core/tls_config.c) takes only settings that make sense together.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/un.h>

#include "conn_limits.h"
#include "config.h"
#include "tls_config.h"

static struct conn_addr
v4(const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct conn_addr a;

	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	conn_addr_from((struct sockaddr *)&sin, &a);
	return a;
}

static struct conn_addr
v6(const char *ip)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct conn_addr a;

	assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	conn_addr_from((struct sockaddr *)&sin6, &a);
	return a;
}

static void
test_counts(void **state)
{
	struct ip_table *t = ip_table_new();
	struct conn_addr a = v4("10.1.2.3"), mapped = v6("::ffff:10.1.2.3"), b = v4("10.1.2.4");

	(void)state;
	assert_non_null(t);
	assert_int_equal(ip_table_count(t, &a), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ip_table_add(t, &a), 0);
	assert_int_equal(ip_table_add(t, &b), 0);
	assert_int_equal(ip_table_count(t, &a), 3);
	assert_int_equal(ip_table_count(t, &mapped), 3);	/* the same address */
	assert_int_equal(ip_table_count(t, &b), 1);
	assert_int_equal(ip_table_size(t), 2);
	ip_table_remove(t, &mapped);
	assert_int_equal(ip_table_count(t, &a), 2);
	ip_table_remove(t, &a);
	ip_table_remove(t, &a);
	assert_int_equal(ip_table_count(t, &a), 0);
	assert_int_equal(ip_table_size(t), 1);
	ip_table_remove(t, &a);		/* not there: nothing happens */
	assert_int_equal(ip_table_count(t, &b), 1);
	ip_table_free(t);
}

static void
test_many_addresses(void **state)
{
	struct ip_table *t = ip_table_new();
	char ip[32];

	(void)state;
	/* far more addresses than buckets: chains keep them apart */
	for (int i = 0; i < 5000; i++) {
		struct conn_addr a;

		snprintf(ip, sizeof ip, "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
		a = v4(ip);
		for (int k = 0; k <= i % 3; k++)
			assert_int_equal(ip_table_add(t, &a), 0);
	}
	assert_int_equal(ip_table_size(t), 5000);
	for (int i = 0; i < 5000; i++) {
		struct conn_addr a;

		snprintf(ip, sizeof ip, "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
		a = v4(ip);
		assert_int_equal(ip_table_count(t, &a), (size_t)(i % 3 + 1));
		if (i % 2 == 0)
			for (int k = 0; k <= i % 3; k++)
				ip_table_remove(t, &a);
	}
	assert_int_equal(ip_table_size(t), 2500);
	ip_table_free(t);
}

static void
test_not_ip(void **state)
{
	struct ip_table *t = ip_table_new();
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct conn_addr a;

	(void)state;
	conn_addr_from((struct sockaddr *)&sun, &a);
	assert_int_equal(a.family, 0);
	assert_int_equal(ip_table_add(t, &a), 0);
	assert_int_equal(ip_table_count(t, &a), 0);
	assert_int_equal(ip_table_size(t), 0);
	ip_table_remove(t, &a);
	conn_addr_from(NULL, &a);
	assert_int_equal(a.family, 0);
	ip_table_free(t);
}

static void
test_reason_names(void **state)
{
	(void)state;
	for (int r = 0; r < REFUSE_REASONS; r++) {
		const char *n = refuse_reason_name((enum refuse_reason)r);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		for (int q = 0; q < r; q++)
			assert_string_not_equal(refuse_reason_name((enum refuse_reason)q), n);
	}
	assert_string_equal(refuse_reason_name(REFUSE_PER_IP), "per_ip");
	assert_string_equal(refuse_reason_name(REFUSE_REASONS), "unknown");
}

static void
test_tls_config(void **state)
{
	struct config *cfg = config_new();
	const struct tls_config *t = &cfg->tls;
	char err[256];

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(tls_config_check(t, err, sizeof err), 0);
	assert_false(tls_listener_enabled(&t->carrier));
	assert_int_equal(config_set(cfg, "tls", "carrier_cert", "/c.crt", err, sizeof err), 0);
	assert_int_equal(tls_config_check(t, err, sizeof err), -1);
	assert_non_null(strstr(err, "carrier_cert and carrier_key go together"));
	assert_int_equal(config_set(cfg, "tls", "carrier_key", "/c.key", err, sizeof err), 0);
	assert_int_equal(tls_config_check(t, err, sizeof err), 0);
	assert_true(tls_listener_enabled(&t->carrier));
	/* a CA makes client certificates optional unless said otherwise */
	assert_int_equal(config_set(cfg, "tls", "carrier_ca", "/ca.crt", err, sizeof err), 0);
	assert_int_equal(t->carrier.client_cert, TLS_CLIENT_CERT_OPTIONAL);
	assert_int_equal(config_set(cfg, "tls", "carrier_client_cert", "required", err, sizeof err),
	    0);
	assert_int_equal(tls_config_check(t, err, sizeof err), 0);
	assert_int_equal(config_set(cfg, "tls", "carrier_client_cert", "maybe", err, sizeof err), -1);
	assert_int_equal(config_set(cfg, "tls", "carrier_client_cert", "none", err, sizeof err), 0);
	assert_int_equal(tls_config_check(t, err, sizeof err), -1);	/* CA without use */
	assert_int_equal(config_set(cfg, "tls", "min_version", "1.0", err, sizeof err), -1);
	assert_int_equal(config_set(cfg, "tls", "min_version", "1.3", err, sizeof err), 0);
	assert_int_equal(config_set(cfg, "tls", "query_ca", "/x", err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown setting"));

	config_release(cfg);
	cfg = config_new();
	t = &cfg->tls;
	assert_int_equal(config_set(cfg, "tls", "carrier_client_cert", "required", err, sizeof err),
	    0);
	assert_int_equal(tls_config_check(t, err, sizeof err), -1);
	assert_non_null(strstr(err, "needs carrier_ca"));
	config_release(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_many_addresses),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_tls_config),
	};

	return UNIT_RUN(tests);
}
