/*
 * Setting and reading a ShipmentUpdate's fields by proto name through the
 * protobuf-c descriptors, so every format (JSONL, CSV, the simulator's
 * output) names fields exactly as corridor.proto does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"
#include "update_io.h"

#define DESC corridor__shipment_update__descriptor

Corridor__ShipmentUpdate *
update_new(void)
{
	Corridor__ShipmentUpdate *u = malloc(sizeof *u);

	if (u != NULL)
		corridor__shipment_update__init(u);
	return u;
}

void
update_free(Corridor__ShipmentUpdate *u)
{
	if (u != NULL)
		corridor__shipment_update__free_unpacked(u, NULL);
}

int
update_set_string(char **field, const char *s)
{
	char *copy = NULL;

	if (s != NULL && (copy = strdup(s)) == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

static void *
member(const Corridor__ShipmentUpdate *u, size_t off)
{
	return (char *)(uintptr_t)u + off;
}

static int
parse_unsigned(const char *text, uint64_t max, uint64_t *out)
{
	char *end;

	if (text[0] == '-' || text[0] == '\0')
		return -1;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return *end != '\0' || errno != 0 || *out > max ? -1 : 0;
}

static int
set_scalar(const ProtobufCFieldDescriptor *fd, void *p, const char *text, int64_t *iso)
{
	uint64_t uv;
	char *end;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
		return parse_unsigned(text, UINT64_MAX, p);
	case PROTOBUF_C_TYPE_UINT32:
		if (parse_unsigned(text, UINT32_MAX, &uv) == -1)
			return -1;
		*(uint32_t *)p = (uint32_t)uv;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
		errno = 0;
		*(int64_t *)p = strtoll(text, &end, 10);
		if (text[0] != '\0' && *end == '\0' && errno == 0)
			return 0;
		if (iso == NULL || time_parse_iso(text, iso) == -1)
			return -1;
		*(int64_t *)p = *iso;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
			*(protobuf_c_boolean *)p = 1;
		else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
			*(protobuf_c_boolean *)p = 0;
		else
			return -1;
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value_by_name(fd->descriptor, text);

		if (ev == NULL)
			return -1;
		*(int *)p = ev->value;
		return 0;
	}
	default:
		return -1;
	}
}

int
update_set_text(Corridor__ShipmentUpdate *u, const char *name, const char *text,
    char *err, size_t errlen)
{
	const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field_by_name(&DESC, name);
	char alias[64];
	int64_t iso;

	if (fd == NULL) {
		/* event_time, next_eta: the ISO 8601 forms of the *_ms fields */
		snprintf(alias, sizeof alias, "%s_ms", name);
		fd = protobuf_c_message_descriptor_get_field_by_name(&DESC, alias);
		if (fd == NULL || fd->type != PROTOBUF_C_TYPE_INT64) {
			snprintf(err, errlen, "unknown field \"%s\"", name);
			return -1;
		}
	}
	if (fd->type == PROTOBUF_C_TYPE_STRING) {
		if (update_set_string(member(u, fd->offset), text) == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	if (set_scalar(fd, member(u, fd->offset), text,
	    fd->type == PROTOBUF_C_TYPE_INT64 ? &iso : NULL) == -1) {
		snprintf(err, errlen, "field %s: bad value \"%.40s\"%s", fd->name, text,
		    fd->type == PROTOBUF_C_TYPE_ENUM ? " (use the enum's name)" : "");
		return -1;
	}
	*(protobuf_c_boolean *)member(u, fd->quantifier_offset) = 1;
	return 0;
}

int
update_set_json(Corridor__ShipmentUpdate *u, const char *name, json_object *v,
    char *err, size_t errlen)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_object:
	case json_type_array:
		snprintf(err, errlen, "field %s: a scalar value is expected", name);
		return -1;
	default:
		return update_set_text(u, name, json_object_get_string(v), err, errlen);
	}
}

static json_object *
field_to_json(const ProtobufCFieldDescriptor *fd, const void *p)
{
	const ProtobufCEnumValue *ev;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		return json_object_new_string(*(char *const *)p);
	case PROTOBUF_C_TYPE_UINT64:
		return json_object_new_uint64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
		return json_object_new_int64(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
		return json_object_new_int64(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_object_new_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p);
		return ev ? json_object_new_string(ev->name) : json_object_new_int(*(const int *)p);
	default:
		return NULL;
	}
}

json_object *
update_to_json(const Corridor__ShipmentUpdate *u)
{
	json_object *o = json_object_new_object();

	for (unsigned i = 0; o != NULL && i < DESC.n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &DESC.fields[i];
		const void *p = member(u, fd->offset);

		if (fd->type == PROTOBUF_C_TYPE_STRING ? *(char *const *)p == NULL :
		    !*(const protobuf_c_boolean *)member(u, fd->quantifier_offset))
			continue;
		json_object_object_add(o, fd->name, field_to_json(fd, p));
	}
	return o;
}
