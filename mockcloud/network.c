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

/* ---- netapi.h: to be implemented by the network service ---- */
#include "netapi.h"
#include <stdio.h>

static void unimpl(int *status, char *err, size_t errsz) {
    if (status) *status = 501;
    if (err) snprintf(err, errsz, "network service not implemented yet");
}
mc_record *mc_net_port_create(mc_server *srv, const mc_port_req *req, int *status, char *err, size_t errsz) {
    (void)srv; (void)req; unimpl(status, err, errsz); return NULL;
}
int mc_net_port_attach(mc_server *srv, const char *port_id, const char *project_id, const char *device_id,
                       const char *device_owner, int *status, char *err, size_t errsz) {
    (void)srv; (void)port_id; (void)project_id; (void)device_id; (void)device_owner;
    unimpl(status, err, errsz); return -1;
}
void mc_net_ports_set_status(mc_server *srv, const char *device_id, const char *status) {
    (void)srv; (void)device_id; (void)status;
}
void mc_net_ports_release(mc_server *srv, const char *device_id) { (void)srv; (void)device_id; }
void mc_net_ports_each(mc_server *srv, const char *device_id, void (*fn)(mc_record *, void *), void *arg) {
    (void)srv; (void)device_id; (void)fn; (void)arg;
}
void mc_net_floatingips_each(mc_server *srv, const char *port_id, void (*fn)(mc_record *, void *), void *arg) {
    (void)srv; (void)port_id; (void)fn; (void)arg;
}
mc_record *mc_net_network_find(mc_server *srv, const char *id, const char *project_id) {
    (void)srv; (void)id; (void)project_id; return NULL;
}
mc_record *mc_net_network_auto(mc_server *srv, const char *project_id) { (void)srv; (void)project_id; return NULL; }
mc_record *mc_net_secgroup_find(mc_server *srv, const char *name_or_id, const char *project_id) {
    (void)srv; (void)name_or_id; (void)project_id; return NULL;
}
mc_record *mc_net_secgroup_default(mc_server *srv, const char *project_id) { (void)srv; (void)project_id; return NULL; }
mc_record *mc_net_secgroup_create(mc_server *srv, const char *project_id, const char *name,
                                  const char *description, int *status, char *err, size_t errsz) {
    (void)srv; (void)project_id; (void)name; (void)description; unimpl(status, err, errsz); return NULL;
}
mc_record *mc_net_secgroup_rule_create(mc_server *srv, const char *project_id, const cJSON *rule,
                                       int *status, char *err, size_t errsz) {
    (void)srv; (void)project_id; (void)rule; unimpl(status, err, errsz); return NULL;
}
int mc_net_secgroup_delete(mc_server *srv, mc_record *sg, int *status, char *err, size_t errsz) {
    (void)srv; (void)sg; unimpl(status, err, errsz); return -1;
}
int mc_net_secgroup_rule_delete(mc_server *srv, mc_record *rule, int *status, char *err, size_t errsz) {
    (void)srv; (void)rule; unimpl(status, err, errsz); return -1;
}
