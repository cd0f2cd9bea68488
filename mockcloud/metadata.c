/* metadata.c -- placeholder: the metadata service is not implemented yet. */
#include "http.h"
#include "router.h"
#include "services.h"

static void metadata_not_implemented(mc_req *r) {
    mc_reply_error(r, 501, NULL, "The metadata service is not implemented yet.");
}

const mc_route metadata_routes[] = {
    {MC_METADATA, EVHTTP_REQ_GET, "/", metadata_not_implemented, MC_NO_AUTH},
};
const size_t metadata_nroutes = sizeof metadata_routes / sizeof metadata_routes[0];

int metadata_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    (void)srv; (void)dir; (void)err; (void)errsz;
    return 0;
}

void metadata_reset(mc_server *srv) { (void)srv; }
