/*
 * The storage interface (DESIGN decision 7): what every backend offers,
 * below the asynchronous boundary. The loop never calls it: the writer pool
 * (writer.h) and the worker queues call these synchronous handles from their
 * own threads, and every handle is owned by the one thread that opened it:
 *
 *   struct store          the opened backend; any thread (immutable once open)
 *   struct store_catalog  legs, carriers, marks, rejections, recovery;
 *                         the checkpoint thread (store_catalog.h)
 *   struct store_writer   one per writer thread: append a batch for a leg in
 *                         one transaction, retention steps (store_writer.h)
 *   struct store_reader   one per query thread: typed rows for the query
 *                         commands, backup (store_reader.h)
 *
 * Errors come back as a struct store_error; no backend's codes or types
 * pass this interface. store.c picks the backend from the configuration
 * ([daemon] store); store_backend.h is what a backend implements.
 */
#ifndef CORRIDOR_STORE_H
#define CORRIDOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store_error.h"

struct store;

/* Opens the backend cfg names (cfg->store_backend) over cfg->state_dir with
 * cfg->sync; nothing is read yet. Any thread; NULL with err filled. */
struct store *store_open(const struct config *cfg, struct store_error *err);
void store_close(struct store *st);
/* "sqlite", ... */
const char *store_backend_name(const struct store *st);
/* The backend's library version, for the log and the metrics. */
const char *store_backend_version(const struct store *st);
/* Whether other daemons may write the same store at once (postgresql):
 * a carrier's acknowledged mark may then move while this daemon does not
 * look, and is read again from the store when the carrier says Hello. */
bool store_shared(const struct store *st);
/* True if name is a backend this build has. */
bool store_backend_known(const char *name);

#include "store_catalog.h"
#include "store_reader.h"
#include "store_writer.h"

#endif
