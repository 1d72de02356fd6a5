/* One leg's SQLite file, write side; see leg_store.h. */
#include "leg_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leg_store_internal.h"
#include "sqlite_store.h"
#include "log.h"

extern const char *const leg_migrations[];
extern const size_t leg_migrations_count;

const char leg_store_insert_event_sql[] =
	    "INSERT INTO events (carrier, seq, message_id, event_class, classifier, event_code,"
	    " event_time_ms, record_time_ms, node, locode, direction, mode, unit, train_id,"
	    " wagon_id, vessel_imo, voyage, truck_plate, container, iso_type, empty, gross_kg,"
	    " teu, container_count, delay_reason, remark, next_eta_ms, retracts_message_id,"
	    " unit_teu, unit_containers)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT (carrier, seq) DO NOTHING";

static const char *const stmt_sql[ST_COUNT] = {
	[ST_INSERT_EVENT] = leg_store_insert_event_sql,
	[ST_RETRACT] =
	    "UPDATE events SET retracted = 1 WHERE message_id = ?1 AND carrier = ?2"
	    " AND retracted = 0 RETURNING unit, direction",
	[ST_IS_RETRACTED] =
	    "SELECT 1 FROM events WHERE retracts_message_id = ?1 AND carrier = ?2 LIMIT 1",
	[ST_MARK_RETRACTED] = "UPDATE events SET retracted = 1 WHERE id = ?1",
	[ST_UNIT_EVENTS] =
	    "SELECT id, event_time_ms, event_code, carrier, unit_teu, unit_containers, gross_kg,"
	    " classifier, train_id, vessel_imo, voyage, record_time_ms"
	    " FROM events INDEXED BY events_by_unit WHERE unit = ?1 AND direction = ?2"
	    " AND retracted = 0 ORDER BY event_time_ms, id",
	[ST_UNIT_TRAVERSALS] =
	    "SELECT enter_time_ms, exit_time_ms, carrier, teu, containers, gross_kg, train_id,"
	    " vessel_call, plan_ms, eta_n, eta_err_ms FROM traversals"
	    " WHERE unit = ?1 AND direction = ?2 ORDER BY enter_time_ms",
	[ST_DELETE_TRAVERSAL] = "DELETE FROM traversals WHERE unit = ?1 AND direction = ?2"
	    " AND enter_time_ms = ?3",
	[ST_UPSERT_TRAVERSAL] =
	    "INSERT INTO traversals (unit, direction, enter_time_ms, exit_time_ms, duration_ms,"
	    " carrier, teu, containers, gross_kg, train_id, vessel_call, plan_ms, eta_n,"
	    " eta_err_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
	    " ON CONFLICT (unit, direction, enter_time_ms) DO UPDATE SET"
	    " exit_time_ms = excluded.exit_time_ms, duration_ms = excluded.duration_ms,"
	    " carrier = excluded.carrier, teu = excluded.teu, containers = excluded.containers,"
	    " gross_kg = excluded.gross_kg, train_id = excluded.train_id,"
	    " vessel_call = excluded.vessel_call, plan_ms = excluded.plan_ms,"
	    " eta_n = excluded.eta_n, eta_err_ms = excluded.eta_err_ms",
	[ST_MAX_ID] = "SELECT coalesce(max(id), 0) FROM events",
	/* retractions whose target has not arrived (yet) */
	[ST_ORPHAN_RETRACTIONS] =
	    "SELECT count(*) FROM events r WHERE r.retracts_message_id IS NOT NULL"
	    " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.message_id = r.retracts_message_id"
	    " AND e.carrier = r.carrier)",
	/* whether the update stored under (carrier, seq) is the one bound (the
	 * parameters of the insert): the columns the carrier sent, not the
	 * record time (?8) nor what is derived from them (?29, ?30) */
	[ST_SAME_EVENT] =
	    "SELECT message_id IS ?3 AND event_class IS ?4 AND classifier IS ?5"
	    " AND event_code IS ?6 AND event_time_ms IS ?7 AND ?8 IS ?8 AND node IS ?9"
	    " AND locode IS ?10 AND direction IS ?11 AND mode IS ?12 AND unit IS ?13"
	    " AND train_id IS ?14 AND wagon_id IS ?15 AND vessel_imo IS ?16 AND voyage IS ?17"
	    " AND truck_plate IS ?18 AND container IS ?19 AND iso_type IS ?20 AND empty IS ?21"
	    " AND gross_kg IS ?22 AND teu IS ?23 AND container_count IS ?24"
	    " AND delay_reason IS ?25 AND remark IS ?26 AND next_eta_ms IS ?27"
	    " AND retracts_message_id IS ?28 AND ?29 IS ?29 AND ?30 IS ?30"
	    " FROM events WHERE carrier = ?1 AND seq = ?2",
};

/* Runs a statement that yields one integer. */
static int
query_int(sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int64_t
meta_value(sqlite3 *db, const char *key, int64_t dflt)
{
	sqlite3_stmt *st = NULL;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db, "SELECT value FROM rollup_meta WHERE key = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return dflt;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Derives traversals and rollups again when they were made by an older
 * schema or against another typical time of the leg. */
static int
rollups_current(struct leg_store *s, const struct leg *leg, char *err, size_t errlen)
{
	int64_t typical = (int64_t)(leg->typical_h * 3600000.0 + 0.5);
	int rc;

	if ((s->derive = derive_new(s->kind, s->code, typical)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (meta_value(s->db, "derived", 0) == DERIVE_VERSION &&
	    meta_value(s->db, "typical_ms", -1) == typical)
		return 0;
	if ((rc = leg_rederive(s, typical)) != SQLITE_OK) {
		snprintf(err, errlen, "%s: deriving traversals and rollups: %s", s->path,
		    sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

struct leg_store *
leg_store_open(const char *legs_dir, const struct leg *leg, enum store_sync sync, char *err,
    size_t errlen)
{
	struct leg_store *s = calloc(1, sizeof *s);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->path, sizeof s->path, "%s/%s.db", legs_dir, leg->code);
	snprintf(s->code, sizeof s->code, "%s", leg->code);
	s->kind = leg->kind;
	s->db = db_open_rw(s->path, sync, leg_migrations, leg_migrations_count, err, errlen);
	if (s->db == NULL) {
		free(s);
		return NULL;
	}
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: preparing statement %d: %s", s->path, i,
			    sqlite3_errmsg(s->db));
			leg_store_close(s);
			return NULL;
		}
	if (query_int(s->st[ST_ORPHAN_RETRACTIONS], &s->orphan_retractions) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
		leg_store_close(s);
		return NULL;
	}
	if ((s->rollup_store = rollup_store_new(s->db, err, errlen)) == NULL ||
	    rollups_current(s, leg, err, errlen) == -1) {
		leg_store_close(s);
		return NULL;
	}
	return s;
}

void
leg_store_close(struct leg_store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	rollup_store_free(s->rollup_store);
	derive_free(s->derive);
	sqlite3_close(s->db);
	free(s->retain_after);
	free(s);
}

void
leg_store_set_cache(struct leg_store *s, int64_t mib)
{
	char sql[64];

	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%lld", (long long)mib * 1024);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		log_warnx("leg=%s cannot set cache_size: %s", s->code, sqlite3_errmsg(s->db));
}

const char *
leg_store_code(const struct leg_store *s)
{
	return s->code;
}

void
leg_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

void
leg_bind_opt_int(sqlite3_stmt *st, int i, int64_t v, int present)
{
	if (present)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

void
leg_store_bind_event(sqlite3_stmt *st, const struct update_rec *r)
{
	char dir[2] = { r->direction, '\0' };

	leg_bind_text(st, 1, r->carrier_code);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->seq);
	leg_bind_text(st, 3, r->message_id);
	sqlite3_bind_int(st, 4, r->event_class);
	sqlite3_bind_int(st, 5, r->classifier);
	sqlite3_bind_int(st, 6, r->event_code);
	sqlite3_bind_int64(st, 7, r->event_time_ms);
	sqlite3_bind_int64(st, 8, r->record_time_ms);
	leg_bind_text(st, 9, r->node);
	leg_bind_text(st, 10, r->locode);
	sqlite3_bind_text(st, 11, dir, 1, SQLITE_TRANSIENT);
	leg_bind_opt_int(st, 12, r->mode, r->mode != 0);
	leg_bind_text(st, 13, r->unit);
	leg_bind_text(st, 14, r->train_id);
	leg_bind_text(st, 15, r->wagon_id);
	leg_bind_text(st, 16, r->vessel_imo);
	leg_bind_text(st, 17, r->voyage);
	leg_bind_text(st, 18, r->truck_plate);
	leg_bind_text(st, 19, r->container);
	leg_bind_text(st, 20, r->iso_type);
	leg_bind_opt_int(st, 21, r->empty, r->has_empty);
	leg_bind_opt_int(st, 22, r->gross_kg, r->gross_kg >= 0);
	leg_bind_opt_int(st, 23, r->teu, r->teu >= 0);
	leg_bind_opt_int(st, 24, r->container_count, r->container_count >= 0);
	leg_bind_text(st, 25, r->delay_reason);
	leg_bind_text(st, 26, r->remark);
	leg_bind_opt_int(st, 27, r->next_eta_ms, r->has_next_eta);
	leg_bind_text(st, 28, r->retracts);
	sqlite3_bind_int64(st, 29, r->unit_teu);
	sqlite3_bind_int64(st, 30, r->unit_containers);
}

static int
insert_event(struct leg_store *s, const struct update_rec *r, int *inserted)
{
	sqlite3_stmt *st = s->st[ST_INSERT_EVENT];
	int rc;

	leg_store_bind_event(st, r);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return rc;
	*inserted = sqlite3_changes(s->db) > 0;
	return SQLITE_OK;
}

/* A resend, or a fresh update whose (carrier, seq) was stored already:
 * REC_DUPLICATE when this leg holds the same update under it, REC_REUSED
 * when it holds another one or none (used on another leg, or rejected). */
static int
compare_event(struct leg_store *s, struct update_rec *r)
{
	sqlite3_stmt *st = s->st[ST_SAME_EVENT];
	int rc, same = 0;

	leg_store_bind_event(st, r);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		same = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return rc;
	r->result = same ? REC_DUPLICATE : REC_REUSED;
	return SQLITE_OK;
}

/* Applies r's retraction and checks whether r itself was retracted earlier
 * (the retraction arrived first); collects the units to re-pair. */
static int
apply_retractions(struct leg_store *s, const struct update_rec *r, struct unit_set *units)
{
	sqlite3_stmt *st;
	int rc;

	if (r->retracts != NULL) {
		int found = 0;

		st = s->st[ST_RETRACT];
		leg_bind_text(st, 1, r->retracts);
		leg_bind_text(st, 2, r->carrier_code);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			found = 1;
			if (unit_set_add(units, (const char *)sqlite3_column_text(st, 0),
			    (const char *)sqlite3_column_text(st, 1), true, true) == -1)
				rc = SQLITE_NOMEM;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return rc;
		if (!found)
			s->orphan_retractions++;
	}
	if (s->orphan_retractions == 0)
		return SQLITE_OK;
	st = s->st[ST_IS_RETRACTED];
	leg_bind_text(st, 1, r->message_id);
	leg_bind_text(st, 2, r->carrier_code);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		s->orphan_retractions--;
		st = s->st[ST_MARK_RETRACTED];
		sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(s->db));
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
append_all(struct leg_store *s, struct update_rec **recs, size_t n, struct unit_set *units)
{
	struct derive_tx tx;
	int rc;

	for (size_t i = 0; i < n; i++) {
		struct update_rec *r = recs[i];
		char dir[2] = { r->direction, '\0' };
		int inserted = 0;

		if (!r->resend && (rc = insert_event(s, r, &inserted)) != SQLITE_OK)
			return rc;
		if (inserted)
			r->result = REC_STORED;
		else if ((rc = compare_event(s, r)) != SQLITE_OK)
			return rc;
		if (r->result != REC_REUSED &&
		    (rc = leg_derive_rc(derive_note_update(s->derive, r))) != SQLITE_OK)
			return rc;
		if (!inserted)
			continue;
		if ((rc = apply_retractions(s, r, units)) != SQLITE_OK)
			return rc;
		if (unit_set_add(units, r->unit, dir, false, false) == -1)
			return SQLITE_NOMEM;
	}
	tx = leg_derive_tx(s);
	if ((rc = leg_derive_rc(derive_repair(s->derive, &tx, units))) != SQLITE_OK)
		return rc;
	return leg_derive_rc(derive_flush(s->derive, &tx));
}

int
leg_store_append(struct leg_store *s, struct update_rec **recs, size_t n, struct store_error *err)
{
	struct unit_set units = { 0 };
	int rc;

	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK && (rc = query_int(s->st[ST_MAX_ID], &s->first_new_id)) == SQLITE_OK) {
		s->first_new_id++;
		rc = append_all(s, recs, n, &units);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	unit_set_free(&units);
	derive_reset(s->derive);
	if (rc == SQLITE_OK)
		return 0;
	log_warnx("leg=%s store failed updates=%zu sqlite=\"%s\" code=%d", s->code, n,
	    sqlite3_errstr(rc), rc);
	sqlite_error(err, s->db, rc, s->code);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	/* the rolled-back batch may have counted retractions that are gone */
	if (query_int(s->st[ST_ORPHAN_RETRACTIONS], &s->orphan_retractions) != SQLITE_OK)
		s->orphan_retractions = 1;	/* unknown: keep checking */
	for (size_t i = 0; i < n; i++) {
		recs[i]->result = REC_FAILED;
		recs[i]->fail_kind = sqlite_error_kind(rc);
	}
	return -1;
}
