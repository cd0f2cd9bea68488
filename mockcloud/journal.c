/* journal.c -- the request journal.
 *
 * A fixed ring of entries, written once per reply from the reply funnel: no
 * allocation on the hot path. Each entry names the profile that answered and
 * the deviations that shaped the reply, so a person reading the journal sees
 * what went wrong and why. Read through GET /mockcloud/v1/journal. */
#include "journal.h"
#include "http.h"
#include "auth.h"
#include "profile.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct mc_journal {
    mc_journal_entry *ring;
    size_t cap;
    uint64_t next;   /* seq of the next entry; entries [next-cap, next) live */
};

mc_journal *mc_journal_new(size_t capacity) {
    mc_journal *j = calloc(1, sizeof *j);
    if (j == NULL || (j->ring = calloc(capacity, sizeof *j->ring)) == NULL) mc_panic("out of memory");
    j->cap = capacity;
    j->next = 1;
    return j;
}

void mc_journal_free(mc_journal *j) {
    if (j == NULL) return;
    free(j->ring);
    free(j);
}

void mc_journal_clear(mc_journal *j) {
    memset(j->ring, 0, j->cap * sizeof *j->ring);
    j->next = 1;
}

const char *mc_method_name(int method) {
    switch (method) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case 0: return "SSH";   /* mc_journal_event: a command run in a guest */
    default: return "?";
    }
}

const char *mc_service_name(mc_service svc) {
    switch (svc) {
    case MC_IDENTITY: return "identity";
    case MC_COMPUTE: return "compute";
    case MC_NETWORK: return "network";
    case MC_IMAGE: return "image";
    case MC_METADATA: return "metadata";
    case MC_CONTROL: return "control";
    case MC_VOLUME: return "volume";
    default: return "none";
    }
}

void mc_journal_record(mc_journal *j, const mc_req *r, int status, size_t bytes) {
    if (j == NULL) return;
    mc_journal_entry *e = &j->ring[j->next % j->cap];
    e->seq = j->next++;
    e->time = mc_now();
    e->method = r->method;
    e->status = status;
    e->svc = r->svc;
    e->bytes = bytes;
    e->latency_ms = r->t_start > 0 ? (e->time - r->t_start) * 1000.0 : 0;
    /* r->tok may be gone (the handler revoked it, an issue purged it) or
     * unset (an error before auth): then look the token up again. */
    const mc_token *tok = r->tok;
    if (tok == NULL || r->tok_drops != r->srv->token_drops || tok->expires <= e->time) {
        const char *tokid = mc_header(r, "X-Auth-Token");
        tok = tokid ? mc_auth_lookup(r->srv, tokid) : NULL;
    }
    mc_strlcpy(e->project, tok ? tok->project_id : "", sizeof e->project);
    mc_strlcpy(e->path, mc_req_uri(r), sizeof e->path);
    mc_strlcpy(e->req_id, r->req_id, sizeof e->req_id);
    mc_strlcpy(e->profile, mc_profile_name(r->srv->profile), sizeof e->profile);
    mc_strlcpy(e->deviations, r->deviations, sizeof e->deviations);
}

void mc_journal_event(mc_server *srv, mc_service svc, const char *what, int status, const char *project,
                      const char *deviations) {
    mc_journal *j = srv->journal;
    if (j == NULL) return;
    mc_journal_entry *e = &j->ring[j->next % j->cap];
    memset(e, 0, sizeof *e);
    e->seq = j->next++;
    e->time = mc_now();
    e->status = status;
    e->svc = svc;
    mc_strlcpy(e->project, project ? project : "", sizeof e->project);
    mc_strlcpy(e->path, what, sizeof e->path);
    mc_strlcpy(e->profile, mc_profile_name(srv->profile), sizeof e->profile);
    mc_strlcpy(e->deviations, deviations ? deviations : "", sizeof e->deviations);
}

static bool has_id(const char *list, const char *id) {
    size_t n = strlen(id);
    for (const char *p = list; (p = strstr(p, id)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return true;
    return false;
}

static bool entry_passes(const mc_journal_entry *e, const mc_journal_filter *f) {
    if (f == NULL) return true;
    if (f->service != NULL && strcmp(f->service, mc_service_name(e->svc)) != 0) return false;
    if (f->method != NULL && strcmp(f->method, mc_method_name(e->method)) != 0) return false;
    if (f->status != 0 && f->status != e->status) return false;
    if (f->deviation != NULL && !has_id(e->deviations, f->deviation)) return false;
    return true;
}

cJSON *mc_journal_json(const mc_journal *j, uint64_t since, size_t limit, const mc_journal_filter *f) {
    cJSON *arr = cJSON_CreateArray();
    uint64_t first = j->next > j->cap ? j->next - j->cap : 1;
    if (since + 1 > first) first = since + 1;
    if (f == NULL && limit > 0 && j->next - first > limit) first = j->next - limit;
    size_t n = 0;
    for (uint64_t s = first; s < j->next; s++) {
        const mc_journal_entry *e = &j->ring[s % j->cap];
        if (!entry_passes(e, f)) continue;
        if (limit > 0 && n == limit) {
            cJSON_DeleteItemFromArray(arr, 0);
            n--;
        }
        n++;
        cJSON *o = cJSON_CreateObject();
        char ts[32];
        mc_time_iso(e->time, ts);
        cJSON_AddNumberToObject(o, "seq", (double)e->seq);
        cJSON_AddStringToObject(o, "time", ts);
        cJSON_AddStringToObject(o, "method", mc_method_name(e->method));
        cJSON_AddStringToObject(o, "path", e->path);
        cJSON_AddStringToObject(o, "service", mc_service_name(e->svc));
        cJSON_AddNumberToObject(o, "status", e->status);
        cJSON_AddNumberToObject(o, "bytes", (double)e->bytes);
        cJSON_AddNumberToObject(o, "latency_ms", (double)(long long)(e->latency_ms * 1000.0) / 1000.0);
        if (e->project[0] != '\0') cJSON_AddStringToObject(o, "project_id", e->project);
        cJSON_AddStringToObject(o, "request_id", e->req_id);
        cJSON_AddStringToObject(o, "profile", e->profile);
        cJSON *devs = cJSON_AddArrayToObject(o, "deviations");
        char buf[256];
        mc_strlcpy(buf, e->deviations, sizeof buf);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(devs, cJSON_CreateString(t));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
