/* profile.h -- behaviour profiles: knobs set by named deviations.
 *
 * A profile is a JSON file: {"name", "description", "extends", "deviations":
 * [{"id", "title", "explanation", "set": {knob: value}, "catches": [...]}]}.
 * Every knob's default is the upstream (conformant) behaviour. Handlers read a
 * knob through mc_knob(r, MC_KNOB_X) at their hook point: when the value is not
 * the default, the deviation that set it is named in the reply's
 * X-Mockcloud-Deviations header and in the journal. No code compares profile
 * names. */
#ifndef MC_PROFILE_H
#define MC_PROFILE_H

#include "mockcloud.h"

/* One row per knob; keep in step with the table in profile.c. */
typedef enum {
    /* ---- core: every service (latency, faults, errors, rate limits) ---- */
    MC_KNOB_LATENCY_MS = 0,


    /* ---- identity and catalog ---- */


    /* ---- compute ---- */
    MC_KNOB_COMPUTE_MAX_MICROVERSION,   /* minor part of 2.x */
    MC_KNOB_COMPUTE_BUILD_MS,


    /* ---- network ---- */


    /* ---- image ---- */


    /* ---- metadata service and config drive ---- */


    MC_KNOB_COUNT
} mc_knob_id;

typedef enum { MC_KNOB_INT, MC_KNOB_BOOL, MC_KNOB_STR } mc_knob_type;

typedef struct mc_knob_def {
    const char *name;
    mc_knob_type type;
    long long dflt, min, max;
    const char *dflt_str;
    const char *doc;
} mc_knob_def;

struct mc_profile {
    char *name;
    char *description;
    char *path;
    cJSON *doc;                           /* the file, with parents' deviations merged */
    long long iv[MC_KNOB_COUNT];
    char *sv[MC_KNOB_COUNT];
    const char *src[MC_KNOB_COUNT];       /* deviation id that set the knob (in doc) */
};

const mc_knob_def *mc_knob_defs(void);

/* Loads NAME (profiles_dir/NAME.json) or a path. On error returns NULL and
 * writes the reason (file, key, range) to err. */
mc_profile *mc_profile_load(const char *profiles_dir, const char *name_or_path, char *err, size_t errsz);
void mc_profile_free(mc_profile *p);
const char *mc_profile_name(const mc_profile *p);

/* Knob value at a hook point; names the deviation in the reply when set. */
long long mc_knob(mc_req *r, mc_knob_id k);
const char *mc_knob_str(mc_req *r, mc_knob_id k);
/* Knob value where there is no request (timers). */
long long mc_knob_srv(const mc_server *srv, mc_knob_id k);
const char *mc_knob_srv_str(const mc_server *srv, mc_knob_id k);
/* Appends a deviation id to the reply's list (no duplicates). */
void mc_deviation_note(mc_req *r, const char *id);

/* Request-side hook: latency, injected faults. Returns -1 when it answered. */
int mc_profile_before(mc_req *r);
/* Response-side hook: may change status, body, content type, or replace the
 * body with raw bytes (*raw, malloc'd, taken by the caller). */
void mc_profile_after(mc_req *r, int *status, cJSON **body, bool is_error,
                      const char **ctype, char **raw, size_t *rawlen);

#endif
