/*
 * What the PostgreSQL tests (test_pg_db.c, test_pg_schema.c) share: the
 * server tests/pg/with_postgres.sh started for the binary (its conninfo in
 * CORRIDOR_PG_CONNINFO), a fresh database per case, plain libpq helpers of
 * the test's own, and worker processes let go together on a database.
 */
#ifndef CORRIDOR_PG_FIXTURE_H
#define CORRIDOR_PG_FIXTURE_H

#include <stddef.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "pg_db.h"

#define CONNINFO_MAX 1024
/* How long a case waits for the other processes to reach a lock. */
#define WAIT_MS 20000
#define POLL_MS 20

extern const char *const pg_migrations[];
extern const size_t pg_migrations_count;
extern const char *base_conninfo;	/* CORRIDOR_PG_CONNINFO */

/* 0, or 77 (meson's skip) when no server was started for the binary. */
int pg_fixture_init(void);

void sleep_ms(long ms);
/* A plain connection of the test's own, to the base database or db. */
PGconn *raw_connect(const char *db);
void raw_exec(PGconn *c, const char *sql);
/* The one integer sql yields. */
long long raw_int(PGconn *c, const char *sql);
/* A fresh, empty database for one case. */
void make_db(const char *name);
/* A pg_db handle on database name. */
struct pg_db *open_db(const char *name);
void migrate_ok(struct pg_db *db);
/* Every table of the migrations is there, each migration recorded once. */
void assert_schema(PGconn *c);
/* A child process: waits for the go byte on go_fd, migrates, and runs sql
 * if not NULL; exits 0 on success. */
pid_t spawn_worker(const char *name, int go_fd, const char *sql);
void expect_exit0(pid_t pid);
/* A fresh database name, and two workers let go on it at the same moment;
 * both must succeed. */
void two_at_once(const char *name, const char *sql);

#endif
