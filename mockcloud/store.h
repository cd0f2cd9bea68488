/* store.h -- in-memory resource store (one uthash table per kind). */
#ifndef MC_STORE_H
#define MC_STORE_H

#include "mockcloud.h"

/* Adds a record with 'id' owning 'doc'. Returns NULL (and leaves 'doc' to the
 * caller) when the id is taken. */
mc_record *mc_store_add(mc_store *st, const char *id, const char *project_id, cJSON *doc);
mc_record *mc_store_find(const mc_store *st, const char *id);
/* Frees the record, its doc and its priv. */
void mc_store_delete(mc_store *st, mc_record *rec);
void mc_store_clear(mc_store *st);
mc_record *mc_store_first(const mc_store *st);
mc_record *mc_store_last(const mc_store *st);
static inline mc_record *mc_store_next(const mc_record *r) { return r->hh.next; }
static inline mc_record *mc_store_prev(const mc_record *r) { return r->hh.prev; }

/* Visible-record predicate for pagination: returns true to include. */
typedef bool (*mc_store_filter)(const mc_record *rec, void *arg);

/* A page: up to 'limit' records after 'marker' (exclusive) in creation
 * order, or newest first when 'reverse'. limit < 0 means no limit. Sets
 * *more when another matching record follows. Returns the count written to
 * out[] (which holds 'cap' entries; the page stops there too). A marker that
 * is not in the store returns -1. */
long mc_store_page(const mc_store *st, const char *marker, long limit, bool reverse,
                   mc_store_filter filter, void *arg, mc_record **out, size_t cap,
                   bool *more);

#endif
