/*
 * What the fuzz targets share: the entry point libFuzzer (or replay_main.c)
 * calls, a fixed "now" so that every input replays the same way, and
 * FUZZ_CHECK, which turns a broken property into a crash the fuzzer keeps.
 */
#ifndef CORRIDOR_FUZZ_CHECK_H
#define CORRIDOR_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* 2026-05-28T08:26:40Z: the seeds' event times lie around it. */
#define FUZZ_NOW_MS 1780000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: fuzz property broken: %s\n", __FILE__, \
			    __LINE__, #cond);                                         \
			abort();                                                      \
		}                                                                     \
	} while (0)

#endif
