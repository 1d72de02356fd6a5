/*
 * The updates of a carrier's batches: each counted, checked (its carrier
 * code, the sequence window, NUL bytes, validation) and queued for a writer
 * or rejected with a reason; whole batches refused with BUSY while the
 * writers are too far behind; and what the writers stored, acknowledged.
 * The session around them (frames, Hello, deadlines, TLS) is ingest_conn.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "carrier.h"
#include "config.h"
#include "counters.h"
#include "ingest.h"
#include "ingest_auth.h"
#include "ingest_flow.h"
#include "ingest_internal.h"
#include "log.h"
#include "marks.h"
#include "timeutil.h"
#include "update_rec.h"
#include "validate.h"
#include "writer.h"

static void
ingest_reject(struct ingest_conn *c, uint64_t seq, const struct reject *rej)
{
	struct carrier *carrier = c->carrier;

	counters_rejected(c->ing->counters, rej->reason);
	carrier->rejected++;
	log_info("conn=%llu carrier=%s rejected seq=%llu reason=%s retryable=%d msg=\"%s\"",
	    (unsigned long long)c->id, carrier->code, (unsigned long long)seq,
	    reject_reason_name(rej->reason), rej->retryable, rej->message);
	/* A final rejection counts towards the mark, so it is recorded before the
	 * carrier hears of it; the others (and one without a seq) go out now, and
	 * so does one of a resend: its seq is settled by the update first sent
	 * under it (or will be), never by this copy. */
	if (!rej->retryable && seq != 0 && !carrier_seq_used(carrier, seq))
		marks_reject(c->ing, carrier, seq, rej);
	else
		ingest_conn_send_rejection(c, seq, rej);
}

static void
ingest_count_received(struct ingest_conn *c)
{
	counters_received(c->ing->counters);
	c->carrier->received++;
}

/* One update of a batch: rejected, or queued for a writer. One whose seq is
 * already used (acknowledged, done or in flight) goes to its leg's writer as
 * a resend, which compares it with what that leg stored under the seq: the
 * same update earns the Ack again, another one SEQ_REUSED. A fresh seq costs
 * two bit operations, no lookup. nul: a string holds a NUL byte (wire_scan.h). */
static void
ingest_take_update(struct ingest_conn *c, const Corridor__ShipmentUpdate *u, int64_t now,
    bool nul)
{
	struct ingest *ing = c->ing;
	const struct config *cfg = ingest_cfg(ing);
	struct carrier *carrier = c->carrier;
	struct reject rej = { .retryable = false };
	struct update_rec *r;
	uint64_t seq = u->has_seq ? u->seq : 0;

	ingest_count_received(c);
	if (u->carrier != NULL && u->carrier[0] != '\0' && strcmp(u->carrier, carrier->code) != 0) {
		ingest_auth_wrong_carrier(c, u->carrier, &rej);
		ingest_reject(c, seq, &rej);
		return;
	}
	if (seq != 0 && !carrier_seq_in_window(carrier, seq)) {
		rej.reason = CORRIDOR__REJECT_REASON__SEQ_OUT_OF_WINDOW;
		rej.retryable = true;
		snprintf(rej.message, sizeof rej.message,
		    "seq %llu is more than %llu above the acknowledged mark %llu",
		    (unsigned long long)seq, (unsigned long long)carrier->window,
		    (unsigned long long)carrier->acked_seq);
		ingest_reject(c, seq, &rej);
		return;
	}
	if (nul) {
		rej.reason = CORRIDOR__REJECT_REASON__BAD_VALUE;
		snprintf(rej.message, sizeof rej.message, "a string field holds a NUL byte (it "
		    "would be cut there, so what is stored would not be what was sent)");
		ingest_reject(c, seq, &rej);
		return;
	}
	if (update_validate(u, carrier->code, &cfg->legs, &cfg->limits, now, &rej) == -1) {
		ingest_reject(c, seq, &rej);
		return;
	}
	r = update_rec_new(u, legs_index(&cfg->legs, u->leg), now);
	if (r != NULL) {
		r->carrier = carrier;
		r->resend = carrier_seq_used(carrier, seq);
		if (!r->resend)
			carrier_seq_queued(carrier, seq, true);
		writer_pool_stage(ing->writers, r);
		carrier->inflight++;
		return;
	}
	rej.reason = CORRIDOR__REJECT_REASON__BUSY;
	rej.retryable = true;
	snprintf(rej.message, sizeof rej.message, "out of memory; resend later");
	ingest_reject(c, seq, &rej);
}

/* The writers are max_queued_updates behind: every update of the batch gets
 * a retryable BUSY (a resend too: whether it is the update stored under its
 * seq is only known once it is compared), and the connection is not read
 * until the backlog has halved. */
static void
ingest_refuse_batch(struct ingest_conn *c, const Corridor__Batch *b)
{
	struct carrier *carrier = c->carrier;
	struct reject rej = { CORRIDOR__REJECT_REASON__BUSY, true, "" };

	snprintf(rej.message, sizeof rej.message, "the store is %zu updates behind; resend later",
	    writer_pool_backlog(c->ing->writers));
	counters_busy_batch(c->ing->counters);
	log_info("conn=%llu carrier=%s busy updates=%zu backlog=%zu", (unsigned long long)c->id,
	    carrier->code, b->n_updates, writer_pool_backlog(c->ing->writers));
	for (size_t i = 0; i < b->n_updates && c->state != INGEST_CLOSING; i++) {
		uint64_t seq = b->updates[i]->has_seq ? b->updates[i]->seq : 0;

		ingest_count_received(c);
		counters_rejected(c->ing->counters, rej.reason);
		carrier->rejected++;
		ingest_conn_send_rejection(c, seq, &rej);
	}
	ingest_conn_send_ack(c);
	if (c->state == INGEST_STREAMING)
		ingest_pause(c, PAUSE_BACKLOG);
}

void
ingest_batch_take(struct ingest_conn *c, const Corridor__Batch *b, const bool *nul)
{
	const struct limits *l = &ingest_cfg(c->ing)->limits;
	int64_t now = time_now_ms();

	if (b->n_updates > (size_t)c->max_batch_updates) {
		char msg[128];

		snprintf(msg, sizeof msg, "batch of %zu updates is above the limit of %lu",
		    b->n_updates, (unsigned long)c->max_batch_updates);
		ingest_conn_close(c, "batch_too_large", CORRIDOR__ERROR_CODE__PROTOCOL, msg);
		return;
	}
	if (!ingest_backlog_has_room(c->ing, b->n_updates)) {
		ingest_refuse_batch(c, b);
		return;
	}
	for (size_t i = 0; i < b->n_updates; i++)
		ingest_take_update(c, b->updates[i], now, nul[i]);
	writer_pool_flush(c->ing->writers);
	marks_flush(c->ing);
	ingest_conn_send_ack(c);
	if (c->carrier->inflight >= (uint64_t)l->max_inflight_updates &&
	    c->state == INGEST_STREAMING)
		ingest_pause(c, PAUSE_INFLIGHT);
}

/* A second update under a used (carrier, seq). Final, yet not recorded
 * like other final rejections: it does not settle seq (its first update
 * does, and the mark already covers it or waits for that one), so neither
 * the mark nor its recovery needs it. */
static void
ingest_reject_reused(struct ingest *ing, const struct update_rec *r)
{
	struct carrier *carrier = r->carrier;
	struct reject rej = { CORRIDOR__REJECT_REASON__SEQ_REUSED, false, "" };

	snprintf(rej.message, sizeof rej.message, "seq %llu already names another update of "
	    "%s (stored with other content, or on another leg, or rejected); a seq names one "
	    "update: send this one under a new seq", (unsigned long long)r->seq, carrier->code);
	counters_rejected(ing->counters, rej.reason);
	carrier->rejected++;
	log_info("conn=%llu carrier=%s rejected seq=%llu reason=SEQ_REUSED retryable=0 leg=%s "
	    "resend=%d", carrier->session != NULL ? (unsigned long long)carrier->session->id : 0ULL,
	    carrier->code, (unsigned long long)r->seq, r->leg != NULL ? r->leg : "-", r->resend);
	if (carrier->session != NULL)
		ingest_conn_send_rejection(carrier->session, r->seq, &rej);
}

void
ingest_on_stored(struct ingest *ing, struct update_rec *list)
{

	for (struct update_rec *r = list; r != NULL; r = r->next) {
		struct carrier *carrier = r->carrier;

		carrier->inflight--;
		if (!r->resend)
			carrier_seq_queued(carrier, r->seq, false);
		if (r->result == REC_REUSED) {
			ingest_reject_reused(ing, r);
			/* a fresh seq found stored (with other content) is settled */
			if (!r->resend)
				carrier_mark_done(carrier, r->seq);
			continue;
		}
		if (r->result == REC_FAILED) {
			struct reject rej = { CORRIDOR__REJECT_REASON__STORE_FAILED, true, "" };

			snprintf(rej.message, sizeof rej.message, "the store failed (%s); resend",
			    store_error_kind_name(r->fail_kind));
			counters_store_failed(ing->counters);
			counters_rejected(ing->counters, rej.reason);
			if (carrier->session != NULL)
				ingest_conn_send_rejection(carrier->session, r->seq, &rej);
			continue;
		}
		if (r->result == REC_STORED) {
			carrier->stored++;
			counters_stored(ing->counters, r->leg_index);
		} else {
			carrier->duplicates++;
			counters_duplicate(ing->counters);
			if (carrier->session != NULL)
				carrier->session->ack_wanted = true;	/* the Ack again */
		}
		carrier_mark_done(carrier, r->seq);
	}
	update_rec_free_list(list);

	ingest_ack_all(ing);
	ingest_flow_run(ing);
}

void
ingest_ack_all(struct ingest *ing)
{
	struct ingest_conn *c;

	TAILQ_FOREACH(c, &ing->conns, entry)
		if (c->carrier != NULL && c->state != INGEST_CLOSING)
			ingest_conn_send_ack(c);
}
