/* The loader's update files; see bench_updfile.h. */
#include "bench_updfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "CORRUPD1"
#define MAGIC_LEN 8
#define WRITE_BUF (1u << 20)
#define FNV_OFFSET 0xcbf29ce484222325ULL

uint64_t
updfile_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int
updfile_create(struct updfile_writer *w, const char *path)
{
	memset(w, 0, sizeof *w);
	w->checksum = FNV_OFFSET;
	if ((w->f = fopen(path, "wb")) == NULL)
		return -1;
	if ((w->buf = malloc(WRITE_BUF)) != NULL)
		setvbuf(w->f, w->buf, _IOFBF, WRITE_BUF);
	if (fwrite(MAGIC, 1, MAGIC_LEN, w->f) != MAGIC_LEN) {
		updfile_close(w);
		return -1;
	}
	return 0;
}

int
updfile_append(struct updfile_writer *w, uint8_t flags, const uint8_t *packed, size_t len,
    uint64_t seq)
{
	uint8_t head[5], tail[11];
	size_t tl = 0, total;

	tail[tl++] = 0x10;	/* ShipmentUpdate.seq, field 2, varint */
	while (seq >= 0x80) {
		tail[tl++] = (uint8_t)(seq | 0x80);
		seq >>= 7;
	}
	tail[tl++] = (uint8_t)seq;
	total = len + tl;
	if (total > UPDFILE_RECORD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	for (int i = 0; i < 4; i++)
		head[i] = (uint8_t)(total >> (8 * i));
	head[4] = flags;
	if (fwrite(head, 1, sizeof head, w->f) != sizeof head ||
	    fwrite(packed, 1, len, w->f) != len || fwrite(tail, 1, tl, w->f) != tl)
		return -1;
	w->checksum = updfile_fnv(w->checksum, head, sizeof head);
	w->checksum = updfile_fnv(w->checksum, packed, len);
	w->checksum = updfile_fnv(w->checksum, tail, tl);
	w->count++;
	w->bad += (flags & UPDFILE_BAD) != 0;
	return 0;
}

int
updfile_close(struct updfile_writer *w)
{
	int rc = 0;

	if (w->f != NULL && fclose(w->f) != 0)
		rc = -1;
	w->f = NULL;
	free(w->buf);
	w->buf = NULL;
	return rc;
}

int
updfile_open(struct updfile_map *m, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	size_t pos = MAGIC_LEN, cap = 0;
	int fd;

	memset(m, 0, sizeof *m);
	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((size_t)st.st_size < MAGIC_LEN) {
		snprintf(err, errlen, "%s: not an update file", path);
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		return -1;
	}
	m->base = p;
	m->size = (size_t)st.st_size;
	if (memcmp(m->base, MAGIC, MAGIC_LEN) != 0) {
		snprintf(err, errlen, "%s: not an update file (no %s)", path, MAGIC);
		updfile_unmap(m);
		return -1;
	}
	madvise(p, m->size, MADV_SEQUENTIAL);
	while (pos < m->size) {
		size_t len;

		if (m->size - pos < 5 ||
		    (len = (size_t)m->base[pos] | (size_t)m->base[pos + 1] << 8 |
		    (size_t)m->base[pos + 2] << 16 | (size_t)m->base[pos + 3] << 24) >
		    m->size - pos - 5 || len > UPDFILE_RECORD_MAX) {
			snprintf(err, errlen, "%s: record %llu is cut short", path,
			    (unsigned long long)m->count);
			updfile_unmap(m);
			return -1;
		}
		if (m->count == cap) {
			uint64_t *no = realloc(m->offsets, (cap ? cap * 2 : 65536) * sizeof *no);

			if (no == NULL) {
				snprintf(err, errlen, "out of memory");
				updfile_unmap(m);
				return -1;
			}
			m->offsets = no;
			cap = cap ? cap * 2 : 65536;
		}
		m->offsets[m->count++] = pos + 4;
		m->bad += (m->base[pos + 4] & UPDFILE_BAD) != 0;
		pos += 5 + len;
	}
	return 0;
}

void
updfile_unmap(struct updfile_map *m)
{
	if (m->base != NULL)
		munmap((void *)(uintptr_t)m->base, m->size);
	free(m->offsets);
	memset(m, 0, sizeof *m);
}

const uint8_t *
updfile_record(const struct updfile_map *m, uint64_t i, size_t *len, uint8_t *flags)
{
	const uint8_t *r = m->base + m->offsets[i];
	const uint8_t *h = r - 4;

	*len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
	if (flags != NULL)
		*flags = r[0];
	return r + 1;
}
