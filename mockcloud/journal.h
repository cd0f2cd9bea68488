/* journal.h -- the request journal: a ring buffer of the last exchanges. */
#ifndef MC_JOURNAL_H
#define MC_JOURNAL_H

#include "mockcloud.h"

typedef struct mc_journal_entry {
    uint64_t seq;
    double time;
    int method;
    int status;
    mc_service svc;
    size_t bytes;
    double latency_ms;        /* arrival to reply, profile delays included */
    char project[40];         /* the token's project ("" = none) */
    char path[200];
    char req_id[48];
    char profile[48];
    char deviations[256];
} mc_journal_entry;

mc_journal *mc_journal_new(size_t capacity);
void mc_journal_free(mc_journal *j);
void mc_journal_clear(mc_journal *j);
void mc_journal_record(mc_journal *j, const mc_req *r, int status, size_t bytes);
/* An exchange that is not an HTTP request (guest.c: an SSH command; method
 * 0, shown as "SSH"): 'what' goes in the path column, 'status' is its exit status. */
void mc_journal_event(mc_server *srv, mc_service svc, const char *what, int status, const char *project,
                      const char *deviations);
/* Which entries mc_journal_json returns (NULL / 0 = any). */
typedef struct mc_journal_filter {
    const char *service;      /* service name */
    const char *method;       /* "GET", ... */
    int status;               /* exact status */
    const char *deviation;    /* a deviation id (or "fault-N") in the entry */
} mc_journal_filter;

/* Entries with seq > since, oldest first, the last 'limit' (0 = all) that
 * pass 'f' (NULL = all), as a JSON array. */
cJSON *mc_journal_json(const mc_journal *j, uint64_t since, size_t limit, const mc_journal_filter *f);
const char *mc_method_name(int method);
const char *mc_service_name(mc_service svc);

#endif
