/* Worker threads with completions delivered on the loop; see workq.h. */
#include "workq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>

#include "log.h"

struct workq {
	const char *name;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct workq_job *head, **tail;		/* waiting to run */
	struct workq_job *done_head, **done_tail; /* waiting for done() */
	size_t pending;				/* loop thread only */
	bool stopping;
	int nthreads;
	pthread_t *threads;
	struct event *done_ev;
	struct workq_ops ops;
};

static void
workq_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct workq *q = arg;
	struct workq_job *list;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&q->mu);
	list = q->done_head;
	q->done_head = NULL;
	q->done_tail = &q->done_head;
	pthread_mutex_unlock(&q->mu);
	while (list != NULL) {
		struct workq_job *next = list->next;

		q->pending--;
		list->done(list);
		list = next;
	}
}

static void *
workq_thread(void *arg)
{
	struct workq *q = arg;
	void *ctx = q->ops.thread_init != NULL ? q->ops.thread_init(q->ops.arg) : NULL;

	for (;;) {
		struct workq_job *job;

		pthread_mutex_lock(&q->mu);
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		job = q->head;
		if (job == NULL) {
			pthread_mutex_unlock(&q->mu);
			break;
		}
		q->head = job->next;
		if (q->head == NULL)
			q->tail = &q->head;
		pthread_mutex_unlock(&q->mu);

		job->run(job, ctx);

		pthread_mutex_lock(&q->mu);
		job->next = NULL;
		*q->done_tail = job;
		q->done_tail = &job->next;
		pthread_mutex_unlock(&q->mu);
		event_active(q->done_ev, EV_READ, 0);
	}
	if (q->ops.thread_fini != NULL)
		q->ops.thread_fini(ctx);
	return NULL;
}

struct workq *
workq_start(struct event_base *base, const char *name, int nthreads, const struct workq_ops *ops)
{
	struct workq *q = calloc(1, sizeof *q);

	if (q == NULL)
		fatal("workq %s", name);
	q->name = name;
	q->tail = &q->head;
	q->done_tail = &q->done_head;
	q->ops = *ops;
	q->nthreads = nthreads;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->done_ev = event_new(base, -1, 0, workq_deliver, q);
	q->threads = calloc((size_t)nthreads, sizeof *q->threads);
	if (q->done_ev == NULL || q->threads == NULL)
		fatalx("workq %s: out of memory", name);
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&q->threads[i], NULL, workq_thread, q) != 0)
			fatalx("workq %s: cannot start thread %d", name, i);
	return q;
}

void
workq_submit(struct workq *q, struct workq_job *job)
{
	job->next = NULL;
	q->pending++;
	pthread_mutex_lock(&q->mu);
	*q->tail = job;
	q->tail = &job->next;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

size_t
workq_pending(const struct workq *q)
{
	return q->pending;
}

void
workq_stop(struct workq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	workq_deliver(-1, 0, q);
	event_free(q->done_ev);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->threads);
	free(q);
}
