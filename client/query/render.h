/*
 * Rendering a query answer (render.c) as a fitted table, JSON or CSV.
 */
#ifndef CORRIDORCTL_RENDER_H
#define CORRIDORCTL_RENDER_H

#include <stdio.h>

#include "ctl.h"
#include "qresult.h"

/* Writes r (an OK answer) to out as fmt says: a table is fitted into width
 * characters (0: any) in the drop order of the query command that answered (NULL: from the right). */
int render_result_fit(const struct qresult *r, enum render_fmt fmt, size_t width,
    const char *command, FILE *out);

#endif
