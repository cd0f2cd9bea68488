/* image.c -- placeholder: the image service is not implemented yet. */
#include "http.h"
#include "router.h"
#include "services.h"

static void image_not_implemented(mc_req *r) {
    mc_reply_error(r, 501, NULL, "The image service is not implemented yet.");
}

const mc_route image_routes[] = {
    {MC_IMAGE, EVHTTP_REQ_GET, "/", image_not_implemented, MC_NO_AUTH},
};
const size_t image_nroutes = sizeof image_routes / sizeof image_routes[0];

int image_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    (void)srv; (void)dir; (void)err; (void)errsz;
    return 0;
}

void image_reset(mc_server *srv) { (void)srv; }
