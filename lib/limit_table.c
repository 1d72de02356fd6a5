/* The limits table; see limits.h. */
#include "limit_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* L: a reload applies the new value; R: the running value is built into
 * threads, tables or sockets, so a reload keeps it (service/reload.c). */
#define L(field, def, min, max, help) \
	{ #field, offsetof(struct limits, field), def, min, max, false, help }
#define R(field, def, min, max, help) \
	{ #field, offsetof(struct limits, field), def, min, max, true, help }

const struct limit_def limit_defs[] = {
	L(max_frame_bytes, 1048576, 1024, 16777216,
	    "largest ingest frame; larger ones are refused before any allocation"),
	L(max_decode_bytes, 16777216, 1048576, 1073741824,
	    "memory one frame may take once decoded; a frame that needs more is refused"),
	L(max_batch_updates, 1000, 1, 100000, "most updates in one Batch message"),
	L(max_inflight_updates, 10000, 1, 1000000,
	    "unacknowledged updates per carrier session; above it the daemon stops reading that socket"),
	L(max_queued_updates, 50000, 1000, 10000000,
	    "updates accepted and not yet stored, over all carriers; above it batches get BUSY"),
	L(conn_read_buffer_bytes, 16384, 4096, 16777216,
	    "bytes read ahead from one carrier; a larger frame needs the shared budget below"),
	L(large_frame_budget_bytes, 16777216, 1048576, 1073741824,
	    "bytes all connections together may buffer for frames above conn_read_buffer_bytes"),
	L(max_hello_frame_bytes, 4096, 256, 4096,
	    "largest frame before the Hello is accepted (an unauthenticated peer never holds "
	    "the shared budget; at most the least conn_read_buffer_bytes, so a Hello always fits)"),
	L(max_string_bytes, 64, 8, 1024, "longest identifier field of an update"),
	L(max_remark_bytes, 512, 0, 8192, "longest remark of an update"),
	L(max_connections, 1024, 1, 100000, "carrier, operator and metrics connections at once"),
	L(max_connections_per_ip, 64, 1, 100000,
	    "carrier, operator and metrics connections at once from one IP address"),
	L(max_metrics_connections, 16, 1, 1024,
	    "connections to the metrics listener at once (counted from accept, also in "
	    "max_connections and max_connections_per_ip); beyond it a 503 and the close"),
	R(listen_backlog, 4096, 16, 65535,
	    "connections the kernel queues until corridord accepts them (capped by "
	    "net.core.somaxconn); too small, and a burst of carriers has its Hellos dropped "
	    "and retransmitted for seconds"),
	L(max_query_line_bytes, 1024, 64, 65536, "longest query line an operator may send"),
	L(max_query_rows, 100000, 1, 10000000, "most rows in one query answer"),
	L(handshake_timeout_s, 10, 1, 3600,
	    "seconds from accept until the TLS handshake and a carrier's Hello are done; a "
	    "deadline that bytes trickling in do not extend"),
	L(idle_timeout_s, 600, 5, 86400, "seconds a connection may stay silent"),
	L(write_timeout_s, 60, 1, 86400,
	    "seconds a peer may leave the daemon's answers unread (no byte taken) before it is "
	    "disconnected"),
	L(frame_timeout_s, 120, 1, 3600,
	    "seconds a carrier may take to send one frame, from its first byte to its last "
	    "(while the daemon reads)"),
	L(query_line_timeout_s, 30, 1, 3600,
	    "seconds an operator may take to send one query line, from its first byte to the "
	    "newline"),
	L(max_future_skew_s, 900, 0, 86400,
	    "how far an actual (ACT) event time may lie ahead of the daemon's clock"),
	L(max_plan_horizon_days, 400, 1, 3650,
	    "how far planned and estimated times may lie in the future"),
	L(max_event_age_days, 3650, 1, 36500, "oldest event time accepted"),
	L(max_container_gross_kg, 60000, 1000, 200000, "gross weight limit of one container"),
	L(max_gross_kg, 100000000, 1000, 4000000000,
	    "gross weight limit of a train- or vessel-level update"),
	L(max_teu, 50000, 1, 1000000, "TEU limit of one update"),
	L(max_container_count, 50000, 1, 1000000, "container count limit of one update"),
	R(seq_window, 65536, 1024, 16777216,
	    "how far above the acknowledged mark a sequence number may run ahead"),
	R(writers, 2, 1, 64, "writer threads; legs are shared out among them"),
	R(writer_batch_updates, 20000, 1, 1000000, "most updates one writer commits in a transaction"),
	R(writer_commit_delay_ms, 0, 0, 10000,
	    "a pause before each group commit, to rehearse a slow disk (tests, drills); 0 in production"),
	R(pg_analyze_until_rows, 1000000, 0, 1000000000,
	    "store = postgresql: a writer analyses (ANALYZE) a leg's events partition each time it "
	    "has doubled it, while it holds fewer rows than this; above, autovacuum keeps the "
	    "planner's statistics; 0 leaves it all to autovacuum"),
	R(query_threads, 2, 1, 64, "threads answering operator queries"),
	R(query_thread_nice, 19, 0, 19,
	    "CPU niceness of the query threads: when cores are short, storing updates comes first"),
	L(shutdown_deadline_s, 30, 1, 3600,
	    "seconds a graceful stop may take to commit and acknowledge"),
	L(output_buffer_bytes, 1048576, 65536, 1073741824,
	    "bytes queued towards one peer before the daemon stops serving it"),
	R(leg_cache_mib, 16, 1, 4096,
	    "SQLite page cache of each leg file's writer, in MiB (memory: 12 legs x this)"),
	L(retention_days, 0, 0, 36500,
	    "days of raw events kept per leg (older ones are dropped, the rollups stay); 0 keeps all"),
	L(retention_check_s, 3600, 1, 86400, "seconds between retention passes"),
	R(retention_batch_units, 5000, 1, 1000000,
	    "units one retention transaction drops, so ingest never waits long"),
	L(max_credential_bytes, 256, 16, 4096,
	    "longest carrier credential (Hello) or operator secret (AUTH) the daemon will hash"),
	L(auth_fail_delay_ms, 250, 0, 10000,
	    "after a failed authentication, the next credential check from that address waits "
	    "this long before it is hashed (and the refusal is sent this late); doubles with "
	    "each recent failure from the same address"),
	L(auth_fail_delay_max_ms, 5000, 0, 60000, "the most that delay grows to"),
	L(auth_fail_window_s, 300, 1, 86400,
	    "how long a failed authentication counts as recent for its address"),
	R(auth_fail_addresses, 4096, 16, 1000000,
	    "addresses whose recent failures are remembered (the oldest are forgotten first)"),
	R(auth_threads, 1, 1, 16,
	    "threads that check credentials and tokens (a deliberately slow hash) off the loop"),
	L(auth_checks_per_ip, 8, 1, 1024,
	    "credential checks (Hello or AUTH) from one address waiting or being hashed at once; "
	    "more are refused at once, unhashed"),
	L(auth_checks_max, 256, 1, 100000,
	    "credential checks waiting or being hashed at once, over all addresses; more are "
	    "refused at once, unhashed"),
};

const size_t limit_defs_count = sizeof limit_defs / sizeof limit_defs[0];

static int64_t *
limit_slot(struct limits *l, const struct limit_def *d)
{
	return (int64_t *)(void *)((char *)l + d->offset);
}

int64_t
limits_get(const struct limits *l, const struct limit_def *d)
{
	return *(const int64_t *)(const void *)((const char *)l + d->offset);
}

void
limits_set_defaults(struct limits *l)
{
	for (size_t i = 0; i < limit_defs_count; i++)
		*limit_slot(l, &limit_defs[i]) = limit_defs[i].def;
}

const struct limit_def *
limits_find(const char *name)
{
	for (size_t i = 0; i < limit_defs_count; i++)
		if (strcmp(limit_defs[i].name, name) == 0)
			return &limit_defs[i];
	return NULL;
}

int
limits_set(struct limits *l, const char *name, const char *value, char *err, size_t errlen)
{
	const struct limit_def *d = limits_find(name);
	char *end;
	long long v;

	if (d == NULL) {
		snprintf(err, errlen, "unknown limit \"%s\"", name);
		return -1;
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0') {
		snprintf(err, errlen, "%s: \"%s\" is not a whole number", name, value);
		return -1;
	}
	if (v < d->min || v > d->max) {
		snprintf(err, errlen, "%s: %lld is outside %lld..%lld", name, v,
		    (long long)d->min, (long long)d->max);
		return -1;
	}
	*limit_slot(l, d) = v;
	return 0;
}
