/* Operator AUTH and rights on the query port; see query_auth.h. */
#include "query_auth.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "auth_check.h"
#include "config.h"
#include "counters.h"
#include "log.h"
#include "qproto.h"
#include "query_exec.h"
#include "query_service.h"
#include "workq.h"

struct query_auth_job {
	struct auth_check check;	/* first: its base is the workq's job */
	struct query_auth *auth;	/* NULL once the connection is gone */
	struct config *cfg;		/* a reference: op lives in it */
	const struct operator_token *op;
	char *secret;
	size_t len;
	bool ok;
};

struct query_refusal {
	struct query_auth *auth;
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

void
query_auth_attach(struct query_auth *a, struct query_service *qs, uint64_t id,
    const char *peer, struct evbuffer *out, void (*answered)(void *conn), void *conn)
{
	memset(a, 0, sizeof *a);
	a->qs = qs;
	a->id = id;
	a->peer = peer;
	a->out = out;
	a->answered = answered;
	a->conn = conn;
	a->right = RIGHT_NONE;
	LIST_INSERT_HEAD(&qs->auths, a, entry);
}

int
query_auth_permit(struct query_auth *a, const char *command)
{
	enum op_right need = query_right_needed(command);
	struct evbuffer *out = a->out;
	char word[24];

	if (a->right >= need)
		return 0;
	/* the command is a peer's word: only a short, printable one goes back */
	snprintf(word, sizeof word, "%s", command);
	for (char *p = word; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '?';
	if (a->right == RIGHT_NONE) {
		counters_auth_failed(a->qs->counters, AUTH_FAIL_UNAUTHENTICATED);
		log_info("conn=%llu peer=%s refused command=%s reason=unauthenticated",
		    (unsigned long long)a->id, a->peer, word);
		evbuffer_add_printf(out, "ERR UNAUTHORIZED %s needs the %s right: send AUTH <name> "
		    "<secret> first\n", word, op_right_name(need));
	} else {
		counters_auth_failed(a->qs->counters, AUTH_FAIL_FORBIDDEN);
		log_info("conn=%llu peer=%s operator=%s refused command=%s reason=forbidden",
		    (unsigned long long)a->id, a->peer, a->op_name, word);
		evbuffer_add_printf(out, "ERR FORBIDDEN %s needs the %s right; operator %s has %s\n",
		    word, op_right_name(need), a->op_name, op_right_name(a->right));
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
	struct query_auth *a = r->auth;

	(void)fd;
	(void)what;
	a->refusal = NULL;
	event_free(r->ev);
	free(r);
	evbuffer_add_printf(a->out, "ERR UNAUTHORIZED wrong operator name or secret\n");
	a->answered(a->conn);
}

/* Counts the failure; the ERR comes after the throttle's delay (at once,
 * answered, when no timer can be had). */
static void
refuse(struct query_auth *a, enum auth_failure why, const char *name)
{
	int64_t delay = auth_check_failed(a->qs->checker, why, a->peer);
	struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000 };
	struct query_refusal *r = calloc(1, sizeof *r);
	char shown[ACCESS_NAME_MAX];

	snprintf(shown, sizeof shown, "%s", name);
	for (char *p = shown; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			*p = '?';
	log_warnx("conn=%llu peer=%s operator authentication failed reason=%s operator=%s "
	    "delay_ms=%lld", (unsigned long long)a->id, a->peer, auth_failure_name(why), shown,
	    (long long)delay);
	if (r != NULL) {
		r->auth = a;
		r->ev = evtimer_new(a->qs->base, refusal_fire, r);
		if (r->ev != NULL && evtimer_add(r->ev, &tv) == 0) {
			a->refusal = r;
			return;
		}
		if (r->ev != NULL)
			event_free(r->ev);
		free(r);
	}
	evbuffer_add_printf(a->out, "ERR UNAUTHORIZED wrong operator name or secret\n");
	a->answered(a->conn);
}

static void
grant(struct query_auth *a, const struct operator_token *op)
{
	a->right = op->right;
	snprintf(a->op_name, sizeof a->op_name, "%s", op->name);
	snprintf(a->op_hash, sizeof a->op_hash, "%s", op->hash_text);
	log_info("conn=%llu peer=%s operator=%s authenticated right=%s",
	    (unsigned long long)a->id, a->peer, op->name, op_right_name(op->right));
	evbuffer_add_printf(a->out, "OK\n# operator\tright\n%s\t%s\nEND 1\n", op->name,
	    op_right_name(op->right));
	a->answered(a->conn);
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
	struct query_auth *a = job->auth;
	const struct operator_token *op = job->op;

	auth_check_finish(&job->check);
	if (a == NULL) {
		/* a peer that did not wait for the answer still made its guess */
		auth_check_orphan_failed(&job->check, job->ok, AUTH_FAIL_WRONG_TOKEN);
		job_free(job);
		return;
	}
	a->job = NULL;
	/* a reload while it was checked: the token must still be there, unchanged */
	if (job->ok && job->cfg != query_cfg(a->qs)) {
		op = access_operator_find(&query_cfg(a->qs)->access, job->op->name);
		if (op != NULL && strcmp(op->hash_text, job->op->hash_text) != 0)
			op = NULL;
	}
	if (!job->ok || op == NULL)
		refuse(a, AUTH_FAIL_WRONG_TOKEN, job->op->name);
	else
		grant(a, op);
	job_free(job);
}

bool
query_auth_begin(struct query_auth *a, char *line)
{
	struct query_service *qs = a->qs;
	const struct operator_token *op;
	struct query_auth_job *job;
	enum auth_gate gate;
	char busy[160];
	struct qrequest req;
	size_t len, linelen = strlen(line);

	/* a new AUTH speaks for the connection from now on, right or wrong */
	a->right = RIGHT_NONE;
	a->op_name[0] = a->op_hash[0] = '\0';
	if (qproto_split(line, &req) == -1 || req.argc != 3) {
		evbuffer_add_printf(a->out, "ERR BAD_ARGUMENT usage: AUTH <name> <secret>\n");
		OPENSSL_cleanse(line, linelen);
		free(line);
		return false;
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
		refuse(a, len > (size_t)query_cfg(qs)->limits.max_credential_bytes ?
		    AUTH_FAIL_TOKEN_TOO_LONG : op == NULL ? AUTH_FAIL_UNKNOWN_OPERATOR :
		    AUTH_FAIL_WRONG_TOKEN, req.argv[1]);
		OPENSSL_cleanse(line, linelen);
		free(line);
		return a->refusal != NULL;	/* the ERR waits out the delay */
	}
	job->len = len;
	job->check.base.run = job_run;
	job->check.base.done = job_done;
	job->auth = a;
	job->cfg = config_hold(query_cfg(qs));
	job->op = op;
	OPENSSL_cleanse(line, linelen);
	free(line);
	gate = auth_check_start(&job->check, qs->checker, (unsigned long long)a->id, a->peer);
	if (gate != AUTH_GATE_OK) {
		/* nothing was checked: the connection stays and may try again */
		job_free(job);
		auth_check_busy_message(gate, qs->checker, busy, sizeof busy);
		evbuffer_add_printf(a->out, "ERR BUSY %s\n", busy);
		return false;
	}
	a->job = job;
	return true;
}

/* Drops the check under way (its answer will find no connection) and the
 * refusal timer. */
static void
forget(struct query_auth *a)
{
	if (a->job != NULL) {
		struct query_auth_job *job = a->job;

		job->auth = NULL;
		a->job = NULL;
		if (auth_check_detach(&job->check))
			job_free(job);	/* it was still waiting its turn */
	}
	if (a->refusal != NULL) {
		event_free(a->refusal->ev);
		free(a->refusal);
		a->refusal = NULL;
	}
}

void
query_auth_peer_closed(struct query_auth *a)
{
	struct query_auth_job *job = a->job;

	if (job == NULL || !auth_check_waiting(&job->check))
		return;
	log_info("conn=%llu peer=%s operator authentication dropped reason=peer_closed_while_waiting",
	    (unsigned long long)a->id, a->peer);
	forget(a);
	evbuffer_add_printf(a->out, "ERR UNAUTHORIZED the connection was shut down while its AUTH "
	    "waited for its turn; nothing was checked\n");
	a->answered(a->conn);
}

void
query_auth_detach(struct query_auth *a)
{
	forget(a);
	LIST_REMOVE(a, entry);
}

size_t
query_auth_recheck(struct query_service *qs)
{
	struct query_auth *a;
	size_t lost = 0;

	LIST_FOREACH(a, &qs->auths, entry) {
		const struct operator_token *op;

		if (a->right == RIGHT_NONE)
			continue;
		op = access_operator_find(&query_cfg(qs)->access, a->op_name);
		if (op != NULL && strcmp(op->hash_text, a->op_hash) == 0) {
			a->right = op->right;
			continue;
		}
		log_warnx("conn=%llu operator=%s token revoked; the connection must AUTH again",
		    (unsigned long long)a->id, a->op_name);
		a->right = RIGHT_NONE;
		lost++;
	}
	return lost;
}
