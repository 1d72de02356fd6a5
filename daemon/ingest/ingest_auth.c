/* Carrier authentication in the handshake; see ingest_auth.h. */
#include "ingest_auth.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "auth_check.h"
#include "carrier.h"
#include "config.h"
#include "counters.h"
#include "ingest_internal.h"
#include "log.h"
#include "marks.h"
#include "validate.h"
#include "workq.h"

struct ingest_auth_job {
	struct auth_check check;	/* first: its base is the workq's job */
	struct ingest_conn *conn;	/* loop side; NULL once the connection is gone */
	struct config *cfg;		/* a reference: the candidates live in it */
	char code[CARRIER_CODE_MAX];
	const struct credential *cand[CREDENTIALS_PER_CODE_MAX];
	size_t ncand;
	char *secret;
	size_t len;
	int match;			/* index into cand, -1 for none */
};

struct ingest_refusal {
	struct ingest_conn *conn;
	struct event *ev;
	const char *reason;		/* a log word */
	Corridor__ErrorCode code;
	char message[160];
};

static void
job_free(struct ingest_auth_job *job)
{
	if (job->secret != NULL) {
		OPENSSL_cleanse(job->secret, job->len);
		free(job->secret);
	}
	config_release(job->cfg);
	free(job);
}

static void
refusal_fire(evutil_socket_t fd, short what, void *arg)
{
	struct ingest_refusal *r = arg;
	struct ingest_conn *c = r->conn;

	(void)fd;
	(void)what;
	c->refusal = NULL;
	ingest_conn_close(c, r->reason, r->code, r->message);
	event_free(r->ev);
	free(r);
}

/* Counts the failure and refuses the session once the throttle's delay is over. */
static void
refuse(struct ingest_conn *c, enum auth_failure why, Corridor__ErrorCode code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
refuse(struct ingest_conn *c, enum auth_failure why, Corridor__ErrorCode code,
    const char *fmt, ...)
{
	int64_t delay = auth_check_failed(c->ing->checker, why, c->peer);
	struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000 };
	struct ingest_refusal *r = calloc(1, sizeof *r);
	va_list ap;

	log_warnx("conn=%llu peer=%s authentication failed reason=%s delay_ms=%lld",
	    (unsigned long long)c->id, c->peer, auth_failure_name(why), (long long)delay);
	if (r == NULL) {
		ingest_conn_close(c, auth_failure_name(why), code, "authentication failed");
		return;
	}
	r->conn = c;
	r->reason = auth_failure_name(why);
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	/* nothing more is read from a peer being refused */
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->state = INGEST_REFUSING;
	c->refusal = r;
	r->ev = evtimer_new(c->ing->base, refusal_fire, r);
	if (r->ev == NULL || evtimer_add(r->ev, &tv) == -1) {
		if (r->ev != NULL)
			event_free(r->ev);
		c->refusal = NULL;
		c->state = INGEST_HELLO;	/* so that the close below is not skipped */
		ingest_conn_close(c, r->reason, r->code, r->message);
		free(r);
	}
}

void
ingest_auth_detach(struct ingest_conn *c)
{
	if (c->auth_job != NULL) {
		struct ingest_auth_job *job = c->auth_job;

		job->conn = NULL;
		c->auth_job = NULL;
		if (auth_check_detach(&job->check))
			job_free(job);	/* it was still waiting its turn */
	}
	if (c->refusal != NULL) {
		event_free(c->refusal->ev);
		free(c->refusal);
		c->refusal = NULL;
	}
}

/* Worker thread: the slow part. */
static void
job_run(struct workq_job *base, void *ctx)
{
	struct ingest_auth_job *job = (struct ingest_auth_job *)base;

	(void)ctx;
	job->match = -1;
	if (!auth_check_wanted(&job->check))
		return;
	for (size_t i = 0; i < job->ncand; i++)
		if (cred_verify(&job->cand[i]->hash, job->secret, job->len)) {
			job->match = (int)i;
			break;
		}
}

static void mark_refreshed(void *arg);
static void welcome_checked(struct ingest_conn *c, struct ingest_auth_job *job);

/* Loop thread: welcome or refuse. */
static void
job_done(struct workq_job *base)
{
	struct ingest_auth_job *job = (struct ingest_auth_job *)base;
	struct ingest_conn *c = job->conn;
	struct ingest *ing;
	struct carrier *carrier;

	auth_check_finish(&job->check);
	if (c == NULL || c->state != INGEST_AUTH) {
		/* a peer that did not wait for the answer still made its guess */
		if (c != NULL)
			c->auth_job = NULL;
		auth_check_orphan_failed(&job->check, job->match >= 0, AUTH_FAIL_WRONG_CREDENTIAL);
		job_free(job);
		return;
	}
	c->auth_job = NULL;
	ing = c->ing;
	if (job->match < 0) {
		refuse(c, AUTH_FAIL_WRONG_CREDENTIAL, CORRIDOR__ERROR_CODE__AUTH_FAILED,
		    "wrong credential for carrier %s", job->code);
		job_free(job);
		return;
	}
	carrier = carrier_find(ing->carriers, job->code);
	/* the mark another daemon may have moved, read before the Welcome
	 * tells it; the connection keeps the job until then (detach) */
	if (ing->shared_store && carrier != NULL &&
	    marks_refresh(ing, carrier, mark_refreshed, job) == 0) {
		c->auth_job = job;
		return;
	}
	welcome_checked(c, job);
	job_free(job);
}

/* Loop thread: the store's mark is in; welcome unless the peer went. */
static void
mark_refreshed(void *arg)
{
	struct ingest_auth_job *job = arg;
	struct ingest_conn *c = job->conn;

	if (c != NULL) {
		c->auth_job = NULL;
		if (c->state == INGEST_AUTH)
			welcome_checked(c, job);
	}
	job_free(job);
}

/* Loop thread: the credential matched; welcome if it still holds. */
static void
welcome_checked(struct ingest_conn *c, struct ingest_auth_job *job)
{
	struct ingest *ing = c->ing;
	const struct credential *cred;
	struct carrier *carrier;

	cred = job->cand[job->match];
	carrier = carrier_find(ing->carriers, job->code);
	/* a reload while it was checked: it must still hold in the new configuration */
	if (job->cfg != ingest_cfg(ing))
		cred = access_credential_same(&ingest_cfg(ing)->access, cred->name,
		    cred->hash_text, job->code);
	if (cred == NULL || carrier == NULL || !carrier->configured) {
		refuse(c, AUTH_FAIL_REVOKED, CORRIDOR__ERROR_CODE__AUTH_FAILED,
		    "the credential for carrier %s was revoked by a configuration reload",
		    job->code);
		return;
	}
	ingest_conn_welcome(c, carrier, cred);
}

void
ingest_auth_begin(struct ingest_conn *c, const Corridor__Hello *h)
{
	struct ingest *ing = c->ing;
	const struct config *cfg = ingest_cfg(ing);
	struct carrier *carrier = carrier_find(ing->carriers, h->carrier);
	struct ingest_auth_job *job;
	enum auth_gate gate;
	char busy[160];
	size_t len;

	if (h->client_name != NULL && text_is_identifier(h->client_name) &&
	    strlen(h->client_name) < sizeof c->client_name)
		snprintf(c->client_name, sizeof c->client_name, "%s", h->client_name);
	if (carrier == NULL || !carrier->configured) {
		refuse(c, AUTH_FAIL_UNKNOWN_CARRIER, CORRIDOR__ERROR_CODE__UNKNOWN_CARRIER,
		    "carrier code %s is not configured", h->carrier);
		return;
	}
	/* mutual TLS first: a certificate for another carrier needs no hash */
	if (!ingest_client_cert_ok(c, carrier))
		return;
	if (h->credential == NULL || h->credential[0] == '\0') {
		refuse(c, AUTH_FAIL_NO_CREDENTIAL, CORRIDOR__ERROR_CODE__AUTH_FAILED,
		    "this daemon needs the carrier's credential in the Hello");
		return;
	}
	len = strlen(h->credential);
	if (len > (size_t)cfg->limits.max_credential_bytes) {
		refuse(c, AUTH_FAIL_CREDENTIAL_TOO_LONG, CORRIDOR__ERROR_CODE__AUTH_FAILED,
		    "the credential is longer than max_credential_bytes (%lld)",
		    (long long)cfg->limits.max_credential_bytes);
		return;
	}
	if ((job = calloc(1, sizeof *job)) == NULL || (job->secret = malloc(len + 1)) == NULL) {
		free(job);
		ingest_conn_close(c, "out_of_memory", CORRIDOR__ERROR_CODE__SHUTTING_DOWN,
		    "the daemon is out of memory; try again later");
		return;
	}
	job->ncand = access_credentials_for(&cfg->access, h->carrier, job->cand,
	    CREDENTIALS_PER_CODE_MAX);
	if (job->ncand == 0) {
		free(job->secret);
		free(job);
		refuse(c, AUTH_FAIL_NOT_CONFIGURED, CORRIDOR__ERROR_CODE__AUTH_FAILED,
		    "no credential is configured for carrier %s", h->carrier);
		return;
	}
	memcpy(job->secret, h->credential, len + 1);
	job->len = len;
	job->check.base.run = job_run;
	job->check.base.done = job_done;
	job->conn = c;
	job->cfg = config_hold(ingest_cfg(ing));
	snprintf(job->code, sizeof job->code, "%s", h->carrier);
	/* Still read (frames wait in the buffer, up to its watermark), so that a
	 * peer that gives up is noticed and its check skipped: when many Hellos
	 * wait their turn or queue for the auth threads, the ones nobody waits
	 * for cost nothing. */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	c->auth_job = job;
	c->state = INGEST_AUTH;
	gate = auth_check_start(&job->check, ing->checker, (unsigned long long)c->id, c->peer);
	if (gate != AUTH_GATE_OK) {
		c->auth_job = NULL;
		job_free(job);
		auth_check_busy_message(gate, ing->checker, busy, sizeof busy);
		/* retryable, as a full connection table is: nothing was checked */
		ingest_conn_close(c, gate == AUTH_GATE_PER_IP ? "auth_checks_per_ip" :
		    "auth_checks_max", CORRIDOR__ERROR_CODE__TOO_MANY_CONNECTIONS, busy);
	}
}

void
ingest_auth_wrong_carrier(struct ingest_conn *c, const char *code, struct reject *rej)
{
	const char *own = c->carrier->code;
	const struct credential *cred = access_credential_same(&ingest_cfg(c->ing)->access,
	    c->cred_name, c->cred_hash, own);

	rej->reason = CORRIDOR__REJECT_REASON__WRONG_CARRIER;
	rej->retryable = false;
	if (!carrier_code_valid(code))
		snprintf(rej->message, sizeof rej->message, "the update's carrier is not a carrier "
		    "code; this session writes as %s", own);
	else if (cred != NULL && credential_covers(cred, code))
		snprintf(rej->message, sizeof rej->message, "carrier %s is yours too, but this "
		    "session writes as %s: send it in a session of %s (seq is per carrier)", code,
		    own, code);
	else
		snprintf(rej->message, sizeof rej->message, "credential %s may not write as %s; "
		    "this session writes as %s", c->cred_name, code, own);
}

size_t
ingest_auth_recheck(struct ingest *ing)
{
	struct ingest_conn *c;
	size_t closed = 0;

	TAILQ_FOREACH(c, &ing->conns, entry) {
		if (c->state != INGEST_STREAMING || c->carrier == NULL)
			continue;
		if (!c->carrier->configured) {
			log_warnx("conn=%llu carrier=%s closing: carrier no longer configured",
			    (unsigned long long)c->id, c->carrier->code);
			ingest_conn_close(c, "carrier_removed", CORRIDOR__ERROR_CODE__UNKNOWN_CARRIER,
			    "this carrier was removed by a configuration reload");
			closed++;
		} else if (access_credential_same(&ingest_cfg(ing)->access, c->cred_name,
		    c->cred_hash, c->carrier->code) == NULL) {
			counters_auth_failed(ing->counters, AUTH_FAIL_REVOKED);
			log_warnx("conn=%llu carrier=%s credential=%s closing: credential revoked",
			    (unsigned long long)c->id, c->carrier->code, c->cred_name);
			ingest_conn_close(c, "credential_revoked", CORRIDOR__ERROR_CODE__AUTH_FAILED,
			    "the credential of this session was revoked by a configuration reload");
			closed++;
		}
	}
	return closed;
}
