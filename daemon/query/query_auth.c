/* Operator AUTH and rights on the query port; see query_auth.h. */
#include "query_auth.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "auth_check.h"
#include "config.h"
#include "counters.h"
#include "log.h"
#include "qproto.h"
#include "query_exec.h"
#include "query_conn.h"
#include "query_service.h"
#include "workq.h"

struct query_auth_job {
	struct auth_check check;	/* first: its base is the workq's job */
	struct query_conn *conn;	/* NULL once the connection is gone */
	struct config *cfg;		/* a reference: op lives in it */
	const struct operator_token *op;
	char *secret;
	size_t len;
	bool ok;
};

struct query_refusal {
	struct query_conn *conn;
	struct event *ev;
};

/*
 * The command table says what each command needs. AUTH is the session's own
 * command (not in the table) and needs nothing; a word the table does not
 * know needs read, so that before AUTH it is refused, not named unknown.
 */
enum op_right
query_right_needed(const char *command)
{
	enum command_right r;

	if (strcasecmp(command, "AUTH") == 0)
		return RIGHT_NONE;
	if (query_command_right(command, &r) == -1)
		return RIGHT_READ;
	switch (r) {
	case COMMAND_PUBLIC:
		return RIGHT_NONE;
	case COMMAND_ADMIN:
		return RIGHT_ADMIN;
	case COMMAND_READ:
	default:	/* UNSET cannot pass test_commands; read is the safe side */
		return RIGHT_READ;
	}
}

int
query_auth_permit(struct query_conn *q, const char *command)
{
	enum op_right need = query_right_needed(command);
	struct evbuffer *out = bufferevent_get_output(q->bev);
	char word[24];

	if (q->right >= need)
		return 0;
	/* the command is a peer's word: only a short, printable one goes back */
	snprintf(word, sizeof word, "%s", command);
	for (char *p = word; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '?';
	if (q->right == RIGHT_NONE) {
		counters_auth_failed(q->qs->counters, AUTH_FAIL_UNAUTHENTICATED);
		log_info("conn=%llu peer=%s refused command=%s reason=unauthenticated",
		    (unsigned long long)q->id, q->peer, word);
		evbuffer_add_printf(out, "ERR UNAUTHORIZED %s needs the %s right: send AUTH <name> "
		    "<secret> first\n", word, op_right_name(need));
	} else {
		counters_auth_failed(q->qs->counters, AUTH_FAIL_FORBIDDEN);
		log_info("conn=%llu peer=%s operator=%s refused command=%s reason=forbidden",
		    (unsigned long long)q->id, q->peer, q->op_name, word);
		evbuffer_add_printf(out, "ERR FORBIDDEN %s needs the %s right; operator %s has %s\n",
		    word, op_right_name(need), q->op_name, op_right_name(q->right));
	}
	return -1;
}

static void
job_free(struct query_auth_job *job)
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
	struct query_refusal *r = arg;
	struct query_conn *q = r->conn;

	(void)fd;
	(void)what;
	q->refusal = NULL;
	event_free(r->ev);
	free(r);
	evbuffer_add_printf(bufferevent_get_output(q->bev),
	    "ERR UNAUTHORIZED wrong operator name or secret\n");
	query_conn_resume(q);
}

/* Counts the failure; the ERR comes after the throttle's delay. */
static void
refuse(struct query_conn *q, enum auth_failure why, const char *name)
{
	int64_t delay = auth_check_failed(q->qs->checker, why, q->peer);
	struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000 };
	struct query_refusal *r = calloc(1, sizeof *r);
	char shown[ACCESS_NAME_MAX];

	snprintf(shown, sizeof shown, "%s", name);
	for (char *p = shown; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			*p = '?';
	log_warnx("conn=%llu peer=%s operator authentication failed reason=%s operator=%s "
	    "delay_ms=%lld", (unsigned long long)q->id, q->peer, auth_failure_name(why), shown,
	    (long long)delay);
	q->state = QUERY_RUNNING;
	if (r != NULL) {
		r->conn = q;
		r->ev = evtimer_new(q->qs->base, refusal_fire, r);
		if (r->ev != NULL && evtimer_add(r->ev, &tv) == 0) {
			q->refusal = r;
			return;
		}
		if (r->ev != NULL)
			event_free(r->ev);
		free(r);
	}
	evbuffer_add_printf(bufferevent_get_output(q->bev),
	    "ERR UNAUTHORIZED wrong operator name or secret\n");
	query_conn_resume(q);
}

static void
grant(struct query_conn *q, const struct operator_token *op)
{
	q->right = op->right;
	snprintf(q->op_name, sizeof q->op_name, "%s", op->name);
	snprintf(q->op_hash, sizeof q->op_hash, "%s", op->hash_text);
	log_info("conn=%llu peer=%s operator=%s authenticated right=%s",
	    (unsigned long long)q->id, q->peer, op->name, op_right_name(op->right));
	evbuffer_add_printf(bufferevent_get_output(q->bev), "OK\n# operator\tright\n%s\t%s\nEND 1\n",
	    op->name, op_right_name(op->right));
	query_conn_resume(q);
}

static void
job_run(struct workq_job *base, void *ctx)
{
	struct query_auth_job *job = (struct query_auth_job *)base;

	(void)ctx;
	job->ok = auth_check_wanted(&job->check) &&
	    cred_verify(&job->op->hash, job->secret, job->len);
}

static void
job_done(struct workq_job *base)
{
	struct query_auth_job *job = (struct query_auth_job *)base;
	struct query_conn *q = job->conn;
	const struct operator_token *op = job->op;

	auth_check_finish(&job->check);
	if (q == NULL) {
		/* a peer that did not wait for the answer still made its guess */
		auth_check_orphan_failed(&job->check, job->ok, AUTH_FAIL_WRONG_TOKEN);
		job_free(job);
		return;
	}
	q->auth_job = NULL;
	/* a reload while it was checked: the token must still be there, unchanged */
	if (job->ok && job->cfg != query_cfg(q->qs)) {
		op = access_operator_find(&query_cfg(q->qs)->access, job->op->name);
		if (op != NULL && strcmp(op->hash_text, job->op->hash_text) != 0)
			op = NULL;
	}
	if (!job->ok || op == NULL)
		refuse(q, AUTH_FAIL_WRONG_TOKEN, job->op->name);
	else
		grant(q, op);
	job_free(job);
}

void
query_auth_begin(struct query_conn *q, char *line)
{
	struct query_service *qs = q->qs;
	const struct operator_token *op;
	struct query_auth_job *job;
	enum auth_gate gate;
	char busy[160];
	struct qrequest req;
	size_t len, linelen = strlen(line);

	/* a new AUTH speaks for the connection from now on, right or wrong */
	q->right = RIGHT_NONE;
	q->op_name[0] = q->op_hash[0] = '\0';
	if (qproto_split(line, &req) == -1 || req.argc != 3) {
		evbuffer_add_printf(bufferevent_get_output(q->bev),
		    "ERR BAD_ARGUMENT usage: AUTH <name> <secret>\n");
		OPENSSL_cleanse(line, linelen);
		free(line);
		return;
	}
	len = strlen(req.argv[2]);
	op = access_operator_find(&query_cfg(qs)->access, req.argv[1]);
	job = NULL;
	if (len <= (size_t)query_cfg(qs)->limits.max_credential_bytes && op != NULL &&
	    (job = calloc(1, sizeof *job)) != NULL && (job->secret = strdup(req.argv[2])) == NULL) {
		free(job);
		job = NULL;
	}
	if (job == NULL) {
		/* out of memory is refused like a wrong secret */
		refuse(q, len > (size_t)query_cfg(qs)->limits.max_credential_bytes ?
		    AUTH_FAIL_TOKEN_TOO_LONG : op == NULL ? AUTH_FAIL_UNKNOWN_OPERATOR :
		    AUTH_FAIL_WRONG_TOKEN, req.argv[1]);
		OPENSSL_cleanse(line, linelen);
		free(line);
		return;
	}
	job->len = len;
	job->check.base.run = job_run;
	job->check.base.done = job_done;
	job->conn = q;
	job->cfg = config_hold(query_cfg(qs));
	job->op = op;
	OPENSSL_cleanse(line, linelen);
	free(line);
	gate = auth_check_start(&job->check, qs->checker, (unsigned long long)q->id, q->peer);
	if (gate != AUTH_GATE_OK) {
		/* nothing was checked: the connection stays and may try again */
		job_free(job);
		auth_check_busy_message(gate, qs->checker, busy, sizeof busy);
		evbuffer_add_printf(bufferevent_get_output(q->bev), "ERR BUSY %s\n", busy);
		return;
	}
	q->auth_job = job;
	q->state = QUERY_RUNNING;
}

void
query_auth_peer_closed(struct query_conn *q)
{
	struct query_auth_job *job = q->auth_job;

	if (job == NULL || !auth_check_waiting(&job->check))
		return;
	log_info("conn=%llu peer=%s operator authentication dropped reason=peer_closed_while_waiting",
	    (unsigned long long)q->id, q->peer);
	query_auth_detach(q);
	evbuffer_add_printf(bufferevent_get_output(q->bev), "ERR UNAUTHORIZED the connection was "
	    "shut down while its AUTH waited for its turn; nothing was checked\n");
	query_conn_resume(q);
}

void
query_auth_detach(struct query_conn *q)
{
	if (q->auth_job != NULL) {
		struct query_auth_job *job = q->auth_job;

		job->conn = NULL;
		q->auth_job = NULL;
		if (auth_check_detach(&job->check))
			job_free(job);	/* it was still waiting its turn */
	}
	if (q->refusal != NULL) {
		event_free(q->refusal->ev);
		free(q->refusal);
		q->refusal = NULL;
	}
}

size_t
query_auth_recheck(struct query_service *qs)
{
	struct query_conn *q;
	size_t lost = 0;

	TAILQ_FOREACH(q, &qs->conns, entry) {
		const struct operator_token *op;

		if (q->right == RIGHT_NONE)
			continue;
		op = access_operator_find(&query_cfg(qs)->access, q->op_name);
		if (op != NULL && strcmp(op->hash_text, q->op_hash) == 0) {
			q->right = op->right;
			continue;
		}
		log_warnx("conn=%llu operator=%s token revoked; the connection must AUTH again",
		    (unsigned long long)q->id, q->op_name);
		q->right = RIGHT_NONE;
		lost++;
	}
	return lost;
}
