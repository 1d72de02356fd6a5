/*
 * The loader's update files: one per carrier, the carrier's updates in the
 * order it sends them, each already packed as a ShipmentUpdate with its seq,
 * so pushing them costs a copy and not a protobuf encoding. A file is
 * "CORRUPD1" followed by records: u32 length (little-endian), u8 flags,
 * then that many bytes.
 */
#ifndef CORRIDOR_BENCH_UPDFILE_H
#define CORRIDOR_BENCH_UPDFILE_H

#include <stdint.h>
#include <stdio.h>

#define UPDFILE_BAD 0x01	/* bad on purpose: the daemon must reject it */
#define UPDFILE_RECORD_MAX 65536

struct updfile_writer {
	FILE *f;
	uint64_t count, bad;
	uint64_t checksum;	/* FNV-1a over the records, in order */
	char *buf;		/* stdio buffer */
};

/* 0, or -1 with errno set. */
int updfile_create(struct updfile_writer *w, const char *path);
/* Appends a packed update (without its seq) and then its seq field. 0 or -1. */
int updfile_append(struct updfile_writer *w, uint8_t flags, const uint8_t *packed, size_t len,
    uint64_t seq);
int updfile_close(struct updfile_writer *w);

struct updfile_map {
	const uint8_t *base;
	size_t size;
	uint64_t count, bad;
	uint64_t *offsets;	/* of each record's flags byte */
};

/* Maps a file and indexes its records. 0, or -1 with the reason in err. */
int updfile_open(struct updfile_map *m, const char *path, char *err, size_t errlen);
void updfile_unmap(struct updfile_map *m);
/* Record i: its bytes and length; *flags too when flags is not NULL. */
const uint8_t *updfile_record(const struct updfile_map *m, uint64_t i, size_t *len,
    uint8_t *flags);
/* FNV-1a 64 step, for checksums of what is written. */
uint64_t updfile_fnv(uint64_t h, const void *p, size_t n);

#endif
