/*
 * The catalog (<state>/corridor.db): the legs and carriers the daemon knows
 * and each carrier's acknowledged high-water mark. The mark is saved some
 * time after it advances; after a crash it may be behind the truth, which is
 * safe because resends of stored updates are recognised as duplicates.
 */
#ifndef CORRIDOR_CATALOG_H
#define CORRIDOR_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "carrier.h"
#include "db.h"
#include "legs.h"

struct catalog;

struct catalog *catalog_open(const char *path, enum db_sync sync, char *err, size_t errlen);
void catalog_close(struct catalog *cat);
/* Records the configured legs and carriers and loads each carrier's mark. */
int catalog_sync(struct catalog *cat, const struct leg_table *legs, struct carrier_table *ct,
    char *err, size_t errlen);

struct catalog_mark {
	char code[CARRIER_CODE_MAX];
	uint64_t acked_seq;
	uint64_t mark_duplicates;	/* resends answered from the mark since the last save */
};

/* Saves marks in one transaction; never lowers a saved mark. Resends
 * answered from the mark are added to the current hour's count. */
int catalog_save_marks(struct catalog *cat, const struct catalog_mark *marks, size_t n,
    char *err, size_t errlen);

struct catalog_rejection {
	char code[CARRIER_CODE_MAX];
	uint64_t seq;
	int reason;
	const char *message;
};

/* Records final rejections in one transaction (a repeat is kept once). */
int catalog_save_rejections(struct catalog *cat, const struct catalog_rejection *r, size_t n,
    char *err, size_t errlen);

/* Calls fn for every recorded rejection of carrier with seq > after. */
int catalog_each_rejection(struct catalog *cat, const char *carrier, uint64_t after,
    void (*fn)(void *arg, uint64_t seq), void *arg);

#endif
