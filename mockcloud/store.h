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

/* A record's cached printed view: the JSON text a service printed for it
 * (e.g. one element of a list reply), reused instead of building, printing
 * and freeing the same tree again. 'key' (never 0) is the service's hash of
 * everything besides the record that shaped the text (microversion, admin,
 * the knobs it read); one view per record, the last key wins. The service
 * must call mc_record_touch() after every change to the record or to
 * anything its view reads, and must not use views while
 * mc_profile_rewrites_bodies(). mc_record_view returns NULL on a miss;
 * mc_record_view_set takes ownership of 'text' (cJSON_free'd) and returns
 * it. Splice the text into a reply with cJSON_CreateRaw. */
const char *mc_record_view(const mc_record *rec, uint64_t key);
const char *mc_record_view_set(mc_record *rec, uint64_t key, char *text);
void mc_record_touch(mc_record *rec);

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
