/*
 * The corridor's legs: movement legs (rail, sea) and stay legs (port,
 * border). The default table ships inside the binary (schema/legs.tsv, from
 * the domain notes); a configured TSV file of the same shape adds or
 * overrides legs.
 */
#ifndef CORRIDOR_LEGS_H
#define CORRIDOR_LEGS_H

#include <stddef.h>

#define LEG_CODE_MAX 32
#define LEG_NAME_MAX 64
#define LEGS_MAX 256
#define LEG_NODE_MAX 17

enum leg_kind { LEG_MOVEMENT, LEG_PORT, LEG_BORDER };

struct leg {
	char code[LEG_CODE_MAX];
	char from[LEG_NAME_MAX];
	char to[LEG_NAME_MAX];
	char country[16];
	enum leg_kind kind;
	char mode[16];
	double distance_km;
	double min_h;
	double typical_h;
	double bad_h;
	/* Node codes at either end (for a W traversal; an E one runs from
	 * to_node to from_node). A stay leg has the same code at both ends.
	 * Journeys between nodes use them. Default: the leg code. */
	char from_node[LEG_NODE_MAX];
	char to_node[LEG_NODE_MAX];
};

struct leg_table {
	struct leg legs[LEGS_MAX];
	size_t count;
};

/* Parses TSV text (header line first, columns as in schema/legs.tsv) into t,
 * adding legs and replacing those with the same code. Returns 0, or -1 with
 * a message naming the line in err. */
int legs_parse_tsv(struct leg_table *t, const char *text, char *err, size_t errlen);

/* The built-in default legs. */
int legs_load_default(struct leg_table *t, char *err, size_t errlen);

const struct leg *legs_find(const struct leg_table *t, const char *code);
int legs_index(const struct leg_table *t, const char *code);
const char *leg_kind_name(enum leg_kind k);
int leg_code_valid(const char *code);
/* The node a traversal in direction dir ('W' or 'E') leaves from / arrives at. */
const char *leg_origin(const struct leg *l, char dir);
const char *leg_destination(const struct leg *l, char dir);

#endif
