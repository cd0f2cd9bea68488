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

/* ---- imageapi.h: to be implemented by the image service ---- */
#include "imageapi.h"

mc_record *mc_image_find(mc_server *srv, const char *id, const char *project_id) {
    (void)srv; (void)id; (void)project_id; return NULL;
}
mc_record *mc_image_snapshot_create(mc_server *srv, const char *project_id, const char *name,
                                    const cJSON *properties) {
    (void)srv; (void)project_id; (void)name; (void)properties; return NULL;
}
void mc_image_set_status(mc_server *srv, mc_record *image, const char *status) {
    (void)srv; (void)image; (void)status;
}
void mc_image_delete(mc_server *srv, mc_record *image) { (void)srv; (void)image; }
