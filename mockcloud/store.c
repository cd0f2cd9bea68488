/* store.c -- in-memory resource store.
 *
 * One uthash table per resource kind, keyed by the id string held inside each
 * record. Iteration order is creation order (uthash "app order"), which is what
 * limit/marker pagination walks: a marker is one HASH_FIND away and a page is a
 * walk of 'limit' matching records, never a scan of the whole table. The store
 * owns every record and its cJSON doc; callers get borrowed pointers valid
 * until the next mc_store_delete()/mc_store_clear(). */
#include "store.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

mc_record *mc_store_add(mc_store *st, const char *id, const char *project_id, cJSON *doc) {
    if (strlen(id) >= sizeof(((mc_record *)0)->id)) return NULL;
    if (mc_store_find(st, id) != NULL) return NULL;
    mc_record *rec = calloc(1, sizeof *rec);
    if (rec == NULL) mc_panic("out of memory");
    mc_strlcpy(rec->id, id, sizeof rec->id);
    mc_strlcpy(rec->project_id, project_id ? project_id : "", sizeof rec->project_id);
    rec->seq = st->next_seq++;
    rec->doc = doc;
    HASH_ADD_STR(st->head, id, rec);
    st->count++;
    return rec;
}

mc_record *mc_store_find(const mc_store *st, const char *id) {
    mc_record *rec = NULL;
    if (id == NULL) return NULL;
    HASH_FIND_STR(st->head, id, rec);
    return rec;
}

const char *mc_record_view(const mc_record *rec, uint64_t key) {
    return key != 0 && rec->view_key == key ? rec->view : NULL;
}

const char *mc_record_view_set(mc_record *rec, uint64_t key, char *text) {
    mc_record_touch(rec);
    rec->view = text;
    rec->view_key = text != NULL ? key : 0;
    return text;
}

void mc_record_touch(mc_record *rec) {
    cJSON_free(rec->view);
    rec->view = NULL;
    rec->view_key = 0;
}

void mc_store_delete(mc_store *st, mc_record *rec) {
    HASH_DEL(st->head, rec);
    st->count--;
    mc_record_touch(rec);
    cJSON_Delete(rec->doc);
    if (rec->priv != NULL && rec->priv_free != NULL) rec->priv_free(rec->priv);
    free(rec);
}

void mc_store_clear(mc_store *st) {
    mc_record *rec, *tmp;
    HASH_ITER(hh, st->head, rec, tmp) mc_store_delete(st, rec);
    st->next_seq = 0;
}

mc_record *mc_store_first(const mc_store *st) { return st->head; }

mc_record *mc_store_last(const mc_store *st) {
    if (st->head == NULL) return NULL;
    return ELMT_FROM_HH(st->head->hh.tbl, st->head->hh.tbl->tail);
}

long mc_store_page(const mc_store *st, const char *marker, long limit, bool reverse,
                   mc_store_filter filter, void *arg, mc_record **out, size_t cap,
                   bool *more) {
    mc_record *start;
    *more = false;
    if (marker != NULL) {
        mc_record *m = mc_store_find(st, marker);
        if (m == NULL) return -1;
        start = reverse ? m->hh.prev : m->hh.next;
    } else {
        start = reverse ? mc_store_last(st) : mc_store_first(st);
    }
    size_t n = 0;
    for (mc_record *r = start; r != NULL; r = reverse ? r->hh.prev : r->hh.next) {
        if (filter != NULL && !filter(r, arg)) continue;
        if ((limit >= 0 && (long)n >= limit) || n >= cap) {
            *more = true;
            break;
        }
        out[n++] = r;
    }
    return (long)n;
}
