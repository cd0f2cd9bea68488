/* compute.c -- placeholder: the compute service is not implemented yet. */
#include "http.h"
#include "router.h"
#include "services.h"

static void compute_not_implemented(mc_req *r) {
    mc_reply_error(r, 501, NULL, "The compute service is not implemented yet.");
}

const mc_route compute_routes[] = {
    {MC_COMPUTE, EVHTTP_REQ_GET, "/", compute_not_implemented, MC_NO_AUTH},
};
const size_t compute_nroutes = sizeof compute_routes / sizeof compute_routes[0];

int compute_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    (void)srv; (void)dir; (void)err; (void)errsz;
    return 0;
}

void compute_reset(mc_server *srv) { (void)srv; }

int compute_before(mc_req *r) { (void)r; return 0; }
