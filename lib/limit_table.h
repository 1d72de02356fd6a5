/*
 * Every bound a peer or the workload can push against, in one table: name,
 * default, min, max and what it protects. The config file, `corridord --help`
 * and docs/limits.md are checked against this table (see tests).
 */
#ifndef CORRIDOR_LIMIT_TABLE_H
#define CORRIDOR_LIMIT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct limits {
	int64_t max_frame_bytes;
	int64_t max_decode_bytes;
	int64_t max_batch_updates;
	int64_t max_inflight_updates;
	int64_t max_queued_updates;
	int64_t conn_read_buffer_bytes;
	int64_t large_frame_budget_bytes;
	int64_t max_hello_frame_bytes;
	int64_t max_string_bytes;
	int64_t max_remark_bytes;
	int64_t max_connections;
	int64_t listen_backlog;
	int64_t max_query_line_bytes;
	int64_t max_query_rows;
	int64_t handshake_timeout_s;
	int64_t idle_timeout_s;
	int64_t write_timeout_s;
	int64_t max_future_skew_s;
	int64_t max_plan_horizon_days;
	int64_t max_event_age_days;
	int64_t max_container_gross_kg;
	int64_t max_gross_kg;
	int64_t max_teu;
	int64_t max_container_count;
	int64_t seq_window;
	int64_t writers;
	int64_t writer_batch_updates;
	int64_t writer_commit_delay_ms;
	int64_t pg_analyze_until_rows;
	int64_t query_threads;
	int64_t shutdown_deadline_s;
	int64_t output_buffer_bytes;
	int64_t leg_cache_mib;
	int64_t query_thread_nice;
	int64_t retention_days;
	int64_t retention_check_s;
	int64_t retention_batch_units;
	int64_t max_connections_per_ip;
	int64_t max_metrics_connections;
	int64_t frame_timeout_s;
	int64_t query_line_timeout_s;
	int64_t max_credential_bytes;
	int64_t auth_fail_delay_ms;
	int64_t auth_fail_delay_max_ms;
	int64_t auth_fail_window_s;
	int64_t auth_fail_addresses;
	int64_t auth_threads;
	int64_t auth_checks_per_ip;
	int64_t auth_checks_max;
};

struct limit_def {
	const char *name;
	size_t offset;
	int64_t def;
	int64_t min;
	int64_t max;
	bool restart;		/* a reload keeps the running value */
	const char *help;
};

extern const struct limit_def limit_defs[];
extern const size_t limit_defs_count;

void limits_set_defaults(struct limits *l);
const struct limit_def *limits_find(const char *name);
/* Sets a limit by name from text; 0, or -1 with a reason in err. */
int limits_set(struct limits *l, const char *name, const char *value, char *err, size_t errlen);
int64_t limits_get(const struct limits *l, const struct limit_def *d);

#endif
