/*
 * Rendering a query answer for people (an aligned table, numeric columns
 * right-aligned, fitted to the terminal by table_fit.c), for programs (JSON
 * through json-c: an array of objects keyed by column) or for spreadsheets
 * (CSV quoted as RFC 4180 says).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "render.h"
#include "table_fit.h"

static json_object *
field_json(const char *s)
{
	int is_int;

	if (s[0] == '\0')
		return NULL;
	if (qfield_number(s, &is_int))
		return is_int ? json_object_new_int64(strtoll(s, NULL, 10)) :
		    json_object_new_double_s(strtod(s, NULL), s);
	return json_object_new_string(s);
}

static int
render_json(const struct qresult *r, FILE *out)
{
	json_object *arr = json_object_new_array();

	if (arr == NULL)
		return -1;
	for (size_t i = 0; i < r->nrows; i++) {
		json_object *o = json_object_new_object();

		for (size_t c = 0; c < r->ncols; c++)
			json_object_object_add(o, r->cols[c], field_json(r->rows[i][c]));
		json_object_array_add(arr, o);
	}
	fprintf(out, "%s\n", json_object_to_json_string_ext(arr,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return ferror(out) ? -1 : 0;
}

static void
csv_field(const char *s, FILE *out)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static int
render_csv(const struct qresult *r, FILE *out)
{
	for (size_t i = 0; i <= r->nrows; i++) {
		char **f = i == 0 ? r->cols : r->rows[i - 1];

		for (size_t c = 0; c < r->ncols; c++) {
			if (c > 0)
				fputc(',', out);
			csv_field(f[c], out);
		}
		fputs("\r\n", out);
	}
	return ferror(out) ? -1 : 0;
}

int
render_result_fit(const struct qresult *r, enum render_fmt fmt, size_t width,
    const char *command, FILE *out)
{
	switch (fmt) {
	case RENDER_JSON:
		return render_json(r, out);
	case RENDER_CSV:
		return render_csv(r, out);
	default:
		return render_table_fit(r, width, command ? fit_drop_order(command) : NULL, out);
	}
}
