/* network.c -- placeholder: the network service is not implemented yet. */
#include "http.h"
#include "router.h"
#include "services.h"

static void network_not_implemented(mc_req *r) {
    mc_reply_error(r, 501, NULL, "The network service is not implemented yet.");
}

const mc_route network_routes[] = {
    {MC_NETWORK, EVHTTP_REQ_GET, "/", network_not_implemented, MC_NO_AUTH},
};
const size_t network_nroutes = sizeof network_routes / sizeof network_routes[0];

int network_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    (void)srv; (void)dir; (void)err; (void)errsz;
    return 0;
}

void network_reset(mc_server *srv) { (void)srv; }
