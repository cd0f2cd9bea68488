/* mockcloud.h -- types shared by every module of mockcloud.
 *
 * One mc_server travels through the program as the httpd callback argument: it
 * owns the event loop, the configuration, the active profile, the world (the
 * in-memory stores of every resource kind) and the request journal. Each
 * request becomes an mc_req on the stack of the dispatcher; a handler reads it
 * and answers it exactly once through mc_reply_json()/mc_reply_error(). */
#ifndef MOCKCLOUD_H
#define MOCKCLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cJSON.h>
#include <event2/event.h>
#include <event2/http.h>   /* the EVHTTP_REQ_* method values only */
#include <uthash.h>

#define MC_VERSION "0.1.0"
#define MC_MAX_PARAMS 6

/* The services, told apart by path prefix as devstack does. */
typedef enum {
    MC_SVC_NONE = 0,
    MC_IDENTITY,
    MC_COMPUTE,
    MC_NETWORK,
    MC_IMAGE,
    MC_METADATA,
    MC_CONTROL,
    MC_VOLUME,      /* volume.c: Cinder v3 */
    MC_SVC_COUNT
} mc_service;

/* Every resource kind the world holds: one mc_store each. */
typedef enum {
    MC_K_DOMAIN = 0, MC_K_PROJECT, MC_K_USER, MC_K_ROLE, MC_K_ASSIGNMENT,
    MC_K_APPCRED, MC_K_REGION, MC_K_SERVICE, MC_K_ENDPOINT, MC_K_GROUP,
    MC_K_FLAVOR, MC_K_SERVER, MC_K_KEYPAIR, MC_K_INSTANCE_ACTION, MC_K_SERVER_GROUP,
    MC_K_IMAGE, MC_K_IMAGE_MEMBER,
    MC_K_NETWORK, MC_K_SUBNET, MC_K_SUBNETPOOL, MC_K_PORT, MC_K_ROUTER,
    MC_K_FLOATINGIP, MC_K_SECGROUP, MC_K_SECGROUP_RULE, MC_K_QUOTA,
    MC_K_VOLUME,
    MC_K_CREDENTIAL,
    MC_K_POLICY, MC_K_EP_GROUP, MC_K_TRUST, MC_K_CONSUMER, MC_K_DOMAIN_CONFIG,   /* identity_catalog.c */
    MC_K_METERING_LABEL, MC_K_METERING_RULE, MC_K_ADDRESS_SCOPE,  /* network.c */
    MC_K_ACCESS_RULE,                          /* identity.c: application credential access rules */
    MC_K_METADEF_NS, MC_K_METADEF_RT,         /* image_metadefs.c */
    MC_K_COUNT
} mc_kind;

/* One stored resource. The store owns 'doc' (the resource as the API shows
 * it, before per-request shaping) and 'priv' (freed with priv_free). */
typedef struct mc_record {
    char id[128];
    uint64_t seq;             /* creation counter: tie-breaker for any sort */
    char project_id[40];      /* owning project ("" = none/global) */
    cJSON *doc;
    void *priv;
    void (*priv_free)(void *priv);
    char *view;               /* cached printed view (store.h mc_record_view) */
    uint64_t view_key;        /* what 'view' was printed for; 0 = none */
    UT_hash_handle hh;        /* app order == creation order */
} mc_record;

typedef struct mc_store {
    mc_record *head;
    uint64_t next_seq;
    size_t count;
} mc_store;

typedef struct mc_token mc_token;
typedef struct mc_profile mc_profile;
typedef struct mc_server mc_server;
typedef struct mc_req mc_req;
typedef struct mc_journal mc_journal;
typedef struct mc_fault mc_fault;
struct mc_hreq;
struct mc_httpd;

typedef void (*mc_handler)(mc_req *r);

/* One query parameter, key and value percent-decoded ('+' is a space), in
 * the order of the query string; owned by the request. */
typedef struct mc_kv {
    char *key;
    char *value;
} mc_kv;

/* Route flags. */
enum {
    MC_NO_AUTH    = 1 << 0,   /* no X-Auth-Token needed */
    MC_BODY_JSON  = 1 << 1,   /* body must be a JSON object: 400 otherwise */
    MC_BODY_OPT   = 1 << 2,   /* JSON body parsed when present */
    MC_BODY_RAW   = 1 << 3,   /* body left as bytes (image upload), larger cap */
    MC_ADMIN      = 1 << 4,   /* the token must carry the admin role: 403 */
};

typedef struct mc_route {
    mc_service svc;
    int methods;              /* EVHTTP_REQ_* mask */
    const char *pattern;      /* service-relative, "{}" = one segment */
    mc_handler fn;
    int flags;
} mc_route;

typedef struct mc_config {
    char host[64];
    int port;
    char public_url[256];     /* "" = http://host:port */
    char profile[512];
    char deviate[16][128];    /* --deviate ID[=VALUE], on top of the profile */
    int ndeviate;
    char fixtures[512];
    char profiles_dir[512];
    uint64_t seed;            /* 0 = random */
    int token_ttl;
    int log_level;
    size_t max_body;          /* JSON body cap */
    size_t max_upload;        /* raw body cap (image data) */
    char control_token[128];  /* "" = control API on loopback only */
    int guest_port;           /* guest.h: SSH port of the guests (0 = no guests) */
} mc_config;

struct mc_req {
    struct mc_hreq *hq;       /* httpd.h: the request on its connection */
    mc_server *srv;
    const mc_route *route;
    mc_service svc;
    int method;
    const char *path;         /* service-relative path, e.g. "/v3/auth/tokens" */
    const char *raw_path;     /* the path as sent (not decoded, no query) */
    char *params[MC_MAX_PARAMS];
    int nparams;
    mc_kv *query;             /* http.c: the query string, decoded */
    int nquery;
    struct mc_qextra *qextra; /* http.c: values set by mc_query_set */
    cJSON *body;              /* owned by the dispatcher */
    const mc_token *tok;      /* NULL on MC_NO_AUTH routes without a token */
    uint64_t tok_drops;       /* srv->token_drops when 'tok' was looked up */
    char req_id[48];
    int replied;
    int status;               /* what was sent */
    int mv_major, mv_minor;   /* compute microversion asked for (2.1 default) */
    char deviations[256];     /* ids of deviations that shaped this reply */
    double t_start;           /* when the request arrived (journal latency) */
    long wire_truncate;       /* >= 0: send only this many body bytes, then close */
    long wire_slow_ms;        /* > 0: the body trickles out over about N ms */
};

struct mc_server {
    struct event_base *base;
    struct mc_httpd *httpd;   /* NULL when not listening */
    struct event *sig_int, *sig_term;
    mc_config cfg;
    char public_url[256];
    int port;                 /* the bound port (port 0 -> ephemeral) */
    mc_profile *profile;      /* active profile */
    mc_store world[MC_K_COUNT];
    mc_token *tokens;         /* uthash by token id, oldest first */
    mc_journal *journal;
    mc_fault *faults;         /* injected through the control API */
    struct mc_profile_state *pstate;  /* profile.c: deferred replies, rate limit */
    uint64_t rng;             /* deterministic stream when cfg.seed != 0 */
    uint64_t requests;
    void *svc_state[MC_SVC_COUNT];  /* each service's private state */
    uint64_t token_drops;     /* auth.c: tokens freed so far (a held mc_token * is
                                 still live while this has not moved) */
    struct mc_auth_state *auth;  /* auth.c: token key, revocation events */
    struct mc_guest *guest;   /* guest.c: SSH listeners and sessions (NULL = mode off) */
};

#endif
