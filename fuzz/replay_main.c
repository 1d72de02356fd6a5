/*
 * Runs checked-in fuzz inputs through a target's LLVMFuzzerTestOneInput
 * without libFuzzer, so the ordinary test suite (gcc, and again under
 * ASan/UBSan) replays every corpus file. Each input is copied into a heap
 * block of exactly its size, as libFuzzer does, so a read past the end is
 * caught by ASan. Fails when it finds no input at all.
 * usage: replay_<target> FILE|DIR...
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_check.h"

/* Larger than anything tools/fuzz.sh lets libFuzzer write (-max_len). */
#define REPLAY_MAX_INPUT (1024 * 1024)

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_MAX_INPUT + 1);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, REPLAY_MAX_INPUT + 1, f);
	fclose(f);
	if (n > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s is larger than %d bytes\n", path, REPLAY_MAX_INPUT);
		free(buf);
		return -1;
	}
	{
		/* exactly n bytes, so ASan sees any read past the input */
		uint8_t *exact = malloc(n > 0 ? n : 1);

		if (exact == NULL) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	return 0;
}

/* Every regular file of dir (not hidden), in name order. */
static int
replay_dir(const char *dir, size_t *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	int rc = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) == -1)
				rc = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) == -1)
				rc = 1;
		} else if (replay_file(argv[i]) == -1)
			rc = 1;
		else
			count++;
	}
	printf("replayed %zu inputs\n", count);
	if (count == 0) {
		fprintf(stderr, "replay: no inputs found\n");
		return 1;
	}
	return rc;
}
