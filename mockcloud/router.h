/* router.h -- the route tables and the dispatcher. */
#ifndef MC_ROUTER_H
#define MC_ROUTER_H

#include "mockcloud.h"

/* A service: its path prefix, its route table and an optional hook run after
 * auth and before the handler (compute negotiates microversions there). The
 * hook returns -1 when it answered the request. */
typedef struct mc_service_def {
    mc_service svc;
    const char *prefix;
    const mc_route *routes;
    const size_t *nroutes;
    int (*before)(mc_req *r);
} mc_service_def;

/* The httpd callback: every request enters here; arg is the mc_server. */
void mc_router_dispatch(struct mc_hreq *req, void *arg);
/* Runs the handler of a request that the profile deferred (latency). */
void mc_router_run(mc_req *r);
/* Frees a request without answering it (the profile dropped or answered it). */
void mc_router_free_req(mc_req *r);

/* Exposed for tests: matches 'path' (service-relative) against 'pattern';
 * fills params (percent-decoded, caller frees) and returns true on a match. */
bool mc_route_match(const char *pattern, const char *path, char **params, int *nparams);
/* Finds the service for a full path; *rest gets the service-relative path. */
const mc_service_def *mc_router_service(const char *path, const char **rest);

/* Each service file exports its table and count (declared here, one place). */
#define MC_DECLARE_ROUTES(name) \
    extern const mc_route name##_routes[]; \
    extern const size_t name##_nroutes;
MC_DECLARE_ROUTES(identity)
MC_DECLARE_ROUTES(compute)
MC_DECLARE_ROUTES(network)
MC_DECLARE_ROUTES(image)
MC_DECLARE_ROUTES(metadata)
MC_DECLARE_ROUTES(control)
MC_DECLARE_ROUTES(volume)
int compute_before(mc_req *r);
int control_before(mc_req *r);
int volume_before(mc_req *r);
/* Whether a control call from 'peer' (an address) with header value 'given'
 * (may be NULL) is allowed when the server's control token is 'token'. */
bool mc_control_allowed(const char *peer, const char *given, const char *token);

#endif
