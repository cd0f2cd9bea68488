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
    MC_KNOB_LATENCY_JITTER_MS,
    MC_KNOB_RATELIMIT_REQUESTS,
    MC_KNOB_RATELIMIT_WINDOW_S,
    MC_KNOB_RATELIMIT_RETRY_AFTER,
    MC_KNOB_RATELIMIT_STATUS,
    MC_KNOB_ERRORS_HTML_FROM,
    MC_KNOB_ERRORS_NO_MESSAGE,
    MC_KNOB_ERRORS_COMPUTE_413,
    MC_KNOB_ERRORS_FLAKY_PERMILLE,
    MC_KNOB_STATUS_REMAP,
    MC_KNOB_BODY_REMOVE,
    MC_KNOB_BODY_RENAME,
    MC_KNOB_BODY_ADD,
    MC_KNOB_BODY_NAIVE_TIME,
    MC_KNOB_HEADERS_REMOVE,
    MC_KNOB_API_HIDE,
    MC_KNOB_QUERY_DROP,
    MC_KNOB_PAGE_MAX_LIMIT,
    MC_KNOB_PAGE_BAD_MARKER_500,
    MC_KNOB_FILTER_NAME_EXACT,
    MC_KNOB_LISTS_HIDE_NEW_S,


    /* ---- identity and catalog ---- */
    MC_KNOB_IDENTITY_TOKEN_TTL_S,
    MC_KNOB_CATALOG_OMIT,
    MC_KNOB_CATALOG_INTERFACES,
    MC_KNOB_CATALOG_REGION,
    MC_KNOB_CATALOG_PROJECT_IN_URL,
    MC_KNOB_CATALOG_VERSION_IN_URL,


    /* ---- compute ---- */
    MC_KNOB_COMPUTE_MAX_MICROVERSION,   /* minor part of 2.x */
    MC_KNOB_COMPUTE_BUILD_MS,
    MC_KNOB_COMPUTE_MIN_MICROVERSION,   /* minor part of 2.x */
    MC_KNOB_COMPUTE_ACTION_MS,
    MC_KNOB_COMPUTE_DELETE_MS,
    MC_KNOB_COMPUTE_SNAPSHOT_MS,
    MC_KNOB_COMPUTE_BUILD_FAIL_PERCENT,
    MC_KNOB_COMPUTE_ADDR_PUBLIC_PRIVATE,
    MC_KNOB_COMPUTE_SERVER_ID_STYLE,    /* 0 UUID, 1 integer, 2 EC2-style "i-%08x" */


    /* ---- network ---- */
    MC_KNOB_NETWORK_QUOTA_FIP,
    MC_KNOB_NETWORK_HIDE_EXT,
    MC_KNOB_NETWORK_BOOT_EXTERNAL,
    MC_KNOB_NETWORK_IPV6_ONLY,
    MC_KNOB_NETWORK_AUTO_FIP,
    MC_KNOB_NETWORK_PORT_ACTIVE_LAG_MS,


    /* ---- image ---- */
    MC_KNOB_IMAGE_SAVING_MS,            /* uploaded image stays "saving" N ms */
    MC_KNOB_IMAGE_DEFAULT_VISIBILITY,   /* visibility of images created without one */
    MC_KNOB_IMAGE_SIZE_CAP,             /* upload cap in bytes (0 = the server's) */
    MC_KNOB_IMAGE_IMPORT_ONLY,          /* PUT .../file forbidden: use import */
    MC_KNOB_IMAGE_VERSIONS_V1,          /* versions document lists Glance v1 only */


    /* ---- metadata service and config drive ---- */
    MC_KNOB_METADATA_NETWORK_DATA,      /* serve network_data.json */
    MC_KNOB_METADATA_USER_DATA_BASE64,  /* user_data served still base64-encoded */
    MC_KNOB_METADATA_PUBLIC_KEYS,       /* public_keys/keys in meta_data.json, EC2 public-keys */
    MC_KNOB_METADATA_EC2_ONLY,          /* no /openstack tree */
    MC_KNOB_METADATA_DELAY_S,           /* unreachable until N s after launch */
    MC_KNOB_METADATA_CONFIG_DRIVE,      /* 0 as asked, 1 forced, 2 absent */
    MC_KNOB_METADATA_DHCP_DOMAIN,       /* hostname suffix ("" = bare hostname) */

    /* ---- guests (guest.c, --guest-ssh) ---- */
    MC_KNOB_GUEST_HOSTNAME,             /* 0 from metadata, 1 instance-%08x, 2 host-<fixed ip> */
    MC_KNOB_GUEST_VCPUS_DELTA,          /* the guest sees flavor vcpus + N */


    /* ---- block storage (volume.c) ---- */
    MC_KNOB_VOLUME_CREATE_MS,           /* "creating" before "available" */
    MC_KNOB_VOLUME_ATTACH_MS,           /* "attaching" before "in-use" */
    MC_KNOB_VOLUME_DETACH_MS,           /* "detaching" before "available" */
    MC_KNOB_VOLUME_DELETE_MS,           /* "deleting" before gone */
    MC_KNOB_VOLUME_GUEST_DEVICE_SHIFT,  /* the guest sees /dev/vd(X+N) for Nova's /dev/vdX */


    MC_KNOB_COUNT
} mc_knob_id;

/* MC_KNOB_LIST: a list of rules (a string or an array of strings in the
 * file); deviations append to it instead of replacing it, and each rule
 * remembers the deviation that added it. Rules are parsed and checked at load
 * according to the knob's rule syntax. */
typedef enum { MC_KNOB_INT, MC_KNOB_BOOL, MC_KNOB_STR, MC_KNOB_LIST } mc_knob_type;

/* Rule syntaxes of list knobs. SVC is a service name or "*"; PATH is a dot
 * path into the JSON body where "*" is any member or element and "**" any
 * depth. */
typedef enum {
    MC_RULE_NONE = 0,
    MC_RULE_SVC,        /* "SVC" */
    MC_RULE_REMAP,      /* "SVC METHOD PATTERN FROM=TO" (METHOD, PATTERN may be "*") */
    MC_RULE_PATH,       /* "SVC PATH" (or "SVC Header-Name") */
    MC_RULE_PATH_ARG,   /* "SVC PATH=NEWKEY" */
    MC_RULE_PATH_JSON,  /* "SVC PATH=JSON" */
    MC_RULE_SVC_INT,    /* "SVC N" (N in 'from') */
    MC_RULE_WORD,       /* one word, in 'path' */
} mc_rule_syntax;

typedef struct mc_knob_def {
    const char *name;
    mc_knob_type type;
    long long dflt, min, max;
    const char *dflt_str;
    const char *doc;
    mc_rule_syntax syntax;    /* MC_KNOB_LIST only */
} mc_knob_def;

/* One parsed rule of a list knob. */
typedef struct mc_rule {
    char *text;               /* as written */
    const char *dev_id;       /* deviation that added it (in the profile doc) */
    mc_service svc;           /* MC_SVC_NONE = any */
    int method;               /* 0 = any */
    char *pattern;            /* route pattern, NULL = any */
    int from, to;             /* MC_RULE_REMAP */
    char *path;               /* PATH, header name */
    char *arg;                /* MC_RULE_PATH_ARG */
    cJSON *value;             /* MC_RULE_PATH_JSON */
    struct mc_rule *next;
} mc_rule;

struct mc_profile {
    char *name;
    char *description;
    char *path;
    cJSON *doc;                           /* the file, with parents' deviations merged */
    long long iv[MC_KNOB_COUNT];
    char *sv[MC_KNOB_COUNT];
    const char *src[MC_KNOB_COUNT];       /* deviation id that set the knob (in doc) */
    mc_rule *rules[MC_KNOB_COUNT];        /* MC_KNOB_LIST knobs, in order */
};

const mc_knob_def *mc_knob_defs(void);

/* Loads NAME (profiles_dir/NAME.json) or a path. On error returns NULL and
 * writes the reason (file, key, range) to err. */
mc_profile *mc_profile_load(const char *profiles_dir, const char *name_or_path, char *err, size_t errsz);
/* The same, with catalogue deviations "ID" or "ID=VALUE" applied on top (VALUE
 * sets the deviation's "param" knob). The name becomes "NAME+ID+...". */
mc_profile *mc_profile_load_with(const char *profiles_dir, const char *name_or_path,
                                 const char *const *extra, size_t nextra, char *err, size_t errsz);
/* The deviation catalogue (profiles_dir/catalogue/deviations.json): the
 * array of deviations, caller owns it; NULL with the reason in err. */
cJSON *mc_catalogue_load(const char *profiles_dir, char *err, size_t errsz);
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
/* The rules of a list knob (NULL when none); does not name the deviation:
 * call mc_rule_used() when a rule changed the reply. */
const mc_rule *mc_knob_rules(const mc_server *srv, mc_knob_id k);
/* True when a rule of the active profile may rewrite reply bodies after the
 * handler (body remove/rename/add, naive timestamps, hidden new resources):
 * a handler must then build its reply as a tree, not splice cached printed
 * text (mc_record_view), which those rules cannot see into. */
bool mc_profile_rewrites_bodies(const mc_server *srv);
void mc_rule_used(mc_req *r, const mc_rule *rule);
/* True when a SVC-syntax list knob names 'svc' (or "*"); names the deviation. */
bool mc_knob_lists(mc_req *r, mc_knob_id k, const char *svc_name);
/* True when a WORD-syntax list knob holds 'word'; names the deviation. */
bool mc_knob_has_word(mc_req *r, mc_knob_id k, const char *word);
/* Knob value read below a request without the mc_req at hand (netapi.h,
 * imageapi.h): names the deviation in the reply of the request whose handler
 * is running, if any (never from a timer). */
long long mc_knob_cur(mc_server *srv, mc_knob_id k);
/* The handler of r has returned (router.c): no request is current any more. */
void mc_profile_done(mc_req *r);

/* Faults injected through the control API (POST /mockcloud/v1/faults).
 * 'spec' is the JSON object; on error returns NULL with the reason. The
 * returned object describes the fault (caller owns it). */
cJSON *mc_fault_add(mc_server *srv, const cJSON *spec, char *err, size_t errsz);
cJSON *mc_fault_list(const mc_server *srv);
/* Removes one fault (id > 0) or all (id == 0); returns how many. */
int mc_fault_remove(mc_server *srv, uint64_t id);
/* Sends the reply's body ('bytes' of 'body', freed with free_fn unless
 * NULL: then copied) in 10 pieces over r->wire_slow_ms (an injected
 * slow-body fault). r may be freed as soon as it returns. */
void mc_profile_stream(mc_req *r, int status, const char *body, size_t bytes, void (*free_fn)(void *));
/* Cancels deferred replies and frees faults: call before mc_httpd_free. */
void mc_profile_server_free(mc_server *srv);

/* Request-side hook: injected faults, rate limit, latency. Returns 0 to run
 * the handler now, -1 when it answered, 1 when it took the request over (it
 * will call mc_router_run or answer later, from a timer). */
int mc_profile_before(mc_req *r);
/* Response-side hook: may change status, body, content type, or replace the
 * body with raw bytes (*raw, malloc'd, taken by the caller). */
void mc_profile_after(mc_req *r, int *status, cJSON **body, bool is_error,
                      const char **ctype, char **raw, size_t *rawlen);
/* Header hook, run by the funnel after the common headers are set. */
void mc_profile_headers(mc_req *r);

#endif
