/* Acknowledged marks: recovery, durable rejections, checkpoints; see marks.h. */
#include "marks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"
#include "config.h"
#include "ingest_flow.h"
#include "ingest_internal.h"
#include "log.h"
#include "store.h"
#include "workq.h"

struct pending_reject {
	struct pending_reject *next;
	struct carrier *carrier;
	uint64_t seq;
	struct reject rej;
};

struct reject_job {
	struct workq_job base;
	struct ingest *ing;
	struct pending_reject *list;
	int failed;
	char error[256];
};

struct checkpoint_job {
	struct workq_job base;
	struct ingest *ing;
	struct store_mark *marks;
	size_t n;
	int failed;
};

/* ------------------------------------------------------------ recovery */

static void
recover_seq(void *arg, uint64_t seq)
{
	carrier_mark_done(arg, seq);
}

int
marks_recover_table(struct store_catalog *cat, const struct leg_table *legs,
    struct carrier_table *ct, char *err, size_t errlen)
{
	struct store_error serr;

	for (size_t l = 0; l < legs->count; l++)
		for (size_t i = 0; i < ct->count; i++) {
			struct carrier *c = &ct->items[i];

			/* the window beyond the mark is all the mark can use */
			if (store_catalog_each_stored_seq(cat, &legs->legs[l], c->code,
			    c->acked_seq, c->acked_seq + c->window, recover_seq, c, &serr) == -1) {
				snprintf(err, errlen, "%s", serr.message);
				return -1;
			}
		}
	for (size_t i = 0; i < ct->count; i++) {
		struct carrier *c = &ct->items[i];

		if (store_catalog_each_rejection(cat, c->code, c->acked_seq, recover_seq, c,
		    &serr) == -1) {
			snprintf(err, errlen, "reading recorded rejections of %s: %s", c->code,
			    serr.message);
			return -1;
		}
		if (c->acked_seq != c->saved_seq)
			log_info("carrier=%s mark recovered acked_seq=%llu checkpoint=%llu", c->code,
			    (unsigned long long)c->acked_seq, (unsigned long long)c->saved_seq);
	}
	return 0;
}

/* ------------------------------------------------------------ a mark moved by another daemon */

struct refresh_job {
	struct workq_job base;
	struct ingest *ing;
	struct carrier *carrier;	/* loop side */
	struct config *cfg;		/* a reference: its legs are read on the thread */
	char code[CARRIER_CODE_MAX];
	uint64_t from, window;		/* the mark and window when it was asked */
	uint64_t saved;			/* the store's saved mark */
	uint64_t *seqs;			/* stored or rejected in (start, start + window] */
	size_t nseqs, cap;
	int failed;
	char error[STORE_ERROR_MAX];
	void (*done)(void *arg);
	void *arg;
};

static void
refresh_seq(void *arg, uint64_t seq)
{
	struct refresh_job *job = arg;
	uint64_t start = job->saved > job->from ? job->saved : job->from;

	/* bounded by the window: nothing above it can move the mark */
	if (seq <= start || seq - start > job->window || job->failed)
		return;
	if (job->nseqs == job->cap) {
		size_t cap = job->cap ? job->cap * 2 : 64;
		uint64_t *n = reallocarray(job->seqs, cap, sizeof *n);

		if (n == NULL) {
			/* the mark stays lower: safe, resends are recognised */
			job->failed = 1;
			snprintf(job->error, sizeof job->error, "out of memory");
			return;
		}
		job->seqs = n;
		job->cap = cap;
	}
	job->seqs[job->nseqs++] = seq;
}

static void
refresh_run(struct workq_job *base, void *ctx)
{
	struct refresh_job *job = (struct refresh_job *)base;
	struct store_catalog *cat = job->ing->catalog;
	const struct leg_table *legs = &job->cfg->legs;
	struct store_error err;
	uint64_t start;

	(void)ctx;
	if (store_catalog_saved_mark(cat, job->code, &job->saved, &err) == -1)
		goto failed;
	/* a saved mark is never ahead of what is stored or rejected */
	start = job->saved > job->from ? job->saved : job->from;
	for (size_t l = 0; l < legs->count; l++)
		if (store_catalog_each_stored_seq(cat, &legs->legs[l], job->code, start,
		    start + job->window, refresh_seq, job, &err) == -1)
			goto failed;
	if (store_catalog_each_rejection(cat, job->code, start, refresh_seq, job, &err) == -1)
		goto failed;
	return;		/* job->failed may be set by refresh_seq */
failed:
	job->failed = 1;
	snprintf(job->error, sizeof job->error, "%s", err.message);
}

static void
refresh_done(struct workq_job *base)
{
	struct refresh_job *job = (struct refresh_job *)base;
	struct carrier *c = job->carrier;
	uint64_t before = c->acked_seq;

	if (job->failed)
		log_warnx("carrier=%s mark not read from the store error=\"%s\"; the session"
		    " starts from this daemon's acked_seq=%llu", c->code, job->error,
		    (unsigned long long)c->acked_seq);
	else {
		/* What the store holds is stored, whichever daemon stored it. An
		 * update of c still in flight here under a seq this passes
		 * settles as a resend does: its completion finds the seq at or
		 * below the mark and changes nothing. */
		carrier_mark_raise(c, job->saved);
		for (size_t i = 0; i < job->nseqs; i++)
			carrier_mark_done(c, job->seqs[i]);
		if (c->acked_seq != before)
			log_info("carrier=%s mark read from the store acked_seq=%llu (was %llu)",
			    c->code, (unsigned long long)c->acked_seq, (unsigned long long)before);
	}
	job->done(job->arg);
	config_release(job->cfg);
	free(job->seqs);
	free(job);
}

int
marks_refresh(struct ingest *ing, struct carrier *c, void (*done)(void *arg), void *arg)
{
	struct refresh_job *job = calloc(1, sizeof *job);

	if (job == NULL)
		return -1;
	job->base.run = refresh_run;
	job->base.done = refresh_done;
	job->ing = ing;
	job->carrier = c;
	job->cfg = config_hold(ingest_cfg(ing));
	snprintf(job->code, sizeof job->code, "%s", c->code);
	job->from = c->acked_seq;
	job->window = c->window;
	job->done = done;
	job->arg = arg;
	workq_submit(ing->checkpoints, &job->base);
	return 0;
}

/* ------------------------------------------------------------ rejections */

void
marks_reject(struct ingest *ing, struct carrier *c, uint64_t seq, const struct reject *rej)
{
	struct pending_reject *p = calloc(1, sizeof *p);

	if (p == NULL) {
		/* cannot remember it: let the carrier send it again later */
		struct reject busy = { CORRIDOR__REJECT_REASON__BUSY, true, "out of memory" };

		if (c->session != NULL)
			ingest_conn_send_rejection(c->session, seq, &busy);
		return;
	}
	p->carrier = c;
	p->seq = seq;
	p->rej = *rej;
	/* seq was not used (ingest_batch.c); a second copy of it meanwhile
	 * must not be taken as a fresh update */
	carrier_seq_queued(c, seq, true);
	p->next = ing->pending_rejects;
	ing->pending_rejects = p;
	c->inflight++;		/* settles like a stored update */
}

static void
reject_run(struct workq_job *base, void *ctx)
{
	struct reject_job *job = (struct reject_job *)base;
	struct store_rejection *rows;
	struct store_error err;
	size_t n = 0;

	(void)ctx;
	for (struct pending_reject *p = job->list; p != NULL; p = p->next)
		n++;
	if ((rows = calloc(n, sizeof *rows)) == NULL) {
		job->failed = 1;
		snprintf(job->error, sizeof job->error, "out of memory");
		return;
	}
	n = 0;
	for (struct pending_reject *p = job->list; p != NULL; p = p->next, n++) {
		snprintf(rows[n].code, sizeof rows[n].code, "%s", p->carrier->code);
		rows[n].seq = p->seq;
		rows[n].reason = (int)p->rej.reason;
		rows[n].message = p->rej.message;
	}
	if (store_catalog_save_rejections(job->ing->catalog, rows, n, &err) == -1) {
		snprintf(job->error, sizeof job->error, "%s", err.message);
		job->failed = 1;
	}
	free(rows);
}

static void
reject_done(struct workq_job *base)
{
	struct reject_job *job = (struct reject_job *)base;
	struct ingest *ing = job->ing;
	struct pending_reject *p, *next;

	if (job->failed)
		log_warnx("recording rejections failed error=\"%s\"; carriers will resend",
		    job->error);
	for (p = job->list; p != NULL; p = next) {
		struct carrier *c = p->carrier;

		next = p->next;
		c->inflight--;
		carrier_seq_queued(c, p->seq, false);
		if (job->failed) {
			struct reject busy = { CORRIDOR__REJECT_REASON__STORE_FAILED, true,
			    "the daemon could not record this rejection; resend" };

			if (c->session != NULL)
				ingest_conn_send_rejection(c->session, p->seq, &busy);
		} else {
			if (c->session != NULL)
				ingest_conn_send_rejection(c->session, p->seq, &p->rej);
			carrier_mark_done(c, p->seq);
		}
		free(p);
	}
	free(job);
	ingest_ack_all(ing);
	ingest_flow_run(ing);
}

void
marks_flush(struct ingest *ing)
{
	struct reject_job *job;

	if (ing->pending_rejects == NULL)
		return;
	if ((job = calloc(1, sizeof *job)) == NULL)
		return;		/* tried again after the next batch */
	job->base.run = reject_run;
	job->base.done = reject_done;
	job->ing = ing;
	job->list = ing->pending_rejects;
	ing->pending_rejects = NULL;
	workq_submit(ing->checkpoints, &job->base);
}

/* ------------------------------------------------------------ checkpoints */

/* Marks that moved since the catalog last saved them; NULL when none. */
static struct store_mark *
collect_marks(struct ingest *ing, size_t *n)
{
	struct carrier_table *ct = ing->carriers;
	struct store_mark *marks = NULL;

	*n = 0;
	for (size_t i = 0; i < ct->count; i++) {
		if (ct->items[i].acked_seq <= ct->items[i].saved_seq &&
		    ct->items[i].mark_duplicates == ct->items[i].saved_mark_duplicates)
			continue;
		if (marks == NULL && (marks = calloc(ct->count, sizeof *marks)) == NULL)
			return NULL;
		snprintf(marks[*n].code, sizeof marks[*n].code, "%s", ct->items[i].code);
		marks[*n].acked_seq = ct->items[i].acked_seq;
		marks[*n].mark_duplicates = ct->items[i].mark_duplicates -
		    ct->items[i].saved_mark_duplicates;
		(*n)++;
	}
	return marks;
}

static void
checkpoint_run(struct workq_job *base, void *ctx)
{
	struct checkpoint_job *job = (struct checkpoint_job *)base;
	struct store_error err;

	(void)ctx;
	if (store_catalog_save_marks(job->ing->catalog, job->marks, job->n, &err) == -1) {
		log_warnx("checkpoint failed error=\"%s\"", err.message);
		job->failed = 1;
	}
}

static void
checkpoint_done(struct workq_job *base)
{
	struct checkpoint_job *job = (struct checkpoint_job *)base;
	struct ingest *ing = job->ing;

	if (!job->failed)
		for (size_t i = 0; i < job->n; i++) {
			struct carrier *c = carrier_find(ing->carriers, job->marks[i].code);

			if (c != NULL && job->marks[i].acked_seq > c->saved_seq)
				c->saved_seq = job->marks[i].acked_seq;
			if (c != NULL)
				c->saved_mark_duplicates += job->marks[i].mark_duplicates;
		}
	ing->checkpoint_running = false;
	free(job->marks);
	free(job);
}

void
marks_checkpoint(struct ingest *ing)
{
	struct checkpoint_job *job;
	struct store_mark *marks;
	size_t n;

	if (ing->checkpoint_running || (marks = collect_marks(ing, &n)) == NULL)
		return;
	if ((job = calloc(1, sizeof *job)) == NULL) {
		free(marks);
		return;
	}
	job->base.run = checkpoint_run;
	job->base.done = checkpoint_done;
	job->ing = ing;
	job->marks = marks;
	job->n = n;
	ing->checkpoint_running = true;
	workq_submit(ing->checkpoints, &job->base);
}

void
marks_final_checkpoint(struct ingest *ing)
{
	struct store_mark *marks;
	size_t n;
	struct store_error err;

	if ((marks = collect_marks(ing, &n)) == NULL)
		return;
	if (store_catalog_save_marks(ing->catalog, marks, n, &err) == -1)
		log_warnx("final checkpoint failed error=\"%s\"", err.message);
	free(marks);
}
