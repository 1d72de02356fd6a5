/*
 * ShipmentUpdates to and from text: fields set by their proto name (so the
 * JSONL and CSV formats follow corridor.proto without a hand-kept list), an
 * update as a json-c object, and whole JSONL/CSV files read into a vector.
 */
#ifndef CORRIDORCTL_UPDATE_IO_H
#define CORRIDORCTL_UPDATE_IO_H

#include <stddef.h>

#include <json-c/json.h>

#include "corridor.pb-c.h"

enum upd_format { UPD_JSONL, UPD_CSV };

struct updvec {
	Corridor__ShipmentUpdate **v;
	size_t n, cap;
};

/* Sets field `name` (a proto field name, or event_time / next_eta for the
 * ISO 8601 forms of the *_ms fields) from text; enums by their names.
 * 0, or -1 with the reason in err. */
int update_set_text(Corridor__ShipmentUpdate *u, const char *name, const char *text,
    char *err, size_t errlen);
/* The same from a JSON value (null leaves the field unset). */
int update_set_json(Corridor__ShipmentUpdate *u, const char *name, json_object *v,
    char *err, size_t errlen);
/* The present fields of u as a new JSON object. */
json_object *update_to_json(const Corridor__ShipmentUpdate *u);

Corridor__ShipmentUpdate *update_new(void);
void update_free(Corridor__ShipmentUpdate *u);
/* Replaces a string field with a copy of s (NULL to clear). 0 or -1. */
int update_set_string(char **field, const char *s);

/* Reads a file ("-" for stdin) of updates. 0, or -1 with err naming the line. */
int updfile_read(const char *path, enum upd_format fmt, struct updvec *out,
    char *err, size_t errlen);
void updvec_free(struct updvec *vec);

#endif
