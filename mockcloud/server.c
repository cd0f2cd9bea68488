/* server.c -- libevent wiring and the world's lifecycle.
 *
 * One event_base; mockcloud's own HTTP/1.1 server (httpd.c) on it hands
 * every request to the router. It replaced evhttp, which spent ~36k of the
 * ~49k instructions of a small GET (a calloc and strdup a header, evkeyvalq
 * lists, a printf a reply header, URI parsing, four epoll_ctl a request):
 * httpd.c parses in place, keeps the read event armed and writes a reply
 * with one sendmsg. The world is seeded from fixtures/ by each service in
 * turn and reset to exactly that state on demand. */
#include "server.h"
#include "auth.h"
#include "guest.h"
#include "http.h"
#include "httpd.h"
#include "journal.h"
#include "profile.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* With the change list, event changes made during one loop pass are merged
 * and applied once before epoll_wait (httpd.c arms EV_WRITE only when a
 * socket is full, and evhttp, which turned reading off and writing on for
 * every reply, is gone, but a write that blocks still adds and removes it).
 * libevent's caveat is fds cloned with dup(), which mockcloud never
 * registers. */
struct event_base *mc_event_base_new(void) {
    struct event_config *ec = event_config_new();
    if (ec == NULL) return NULL;
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *base = event_base_new_with_config(ec);
    event_config_free(ec);
    return base;
}

void mc_config_defaults(mc_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    mc_strlcpy(cfg->host, "127.0.0.1", sizeof cfg->host);
    cfg->port = 8080;
    mc_strlcpy(cfg->profile, "conformant", sizeof cfg->profile);
    mc_strlcpy(cfg->fixtures, "fixtures", sizeof cfg->fixtures);
    mc_strlcpy(cfg->profiles_dir, "profiles", sizeof cfg->profiles_dir);
    cfg->token_ttl = 3600;
    cfg->log_level = MC_LOG_INFO;
    cfg->max_body = 1 << 20;
    cfg->max_upload = 64u << 20;
}

typedef struct {
    int (*seed)(mc_server *, const char *, char *, size_t);
    void (*reset)(mc_server *);
} world_part;

static const world_part parts[] = {
    {identity_seed, identity_reset},
    {network_seed, network_reset},
    {image_seed, image_reset},
    {compute_seed, compute_reset},
    {volume_seed, volume_reset},
    {metadata_seed, metadata_reset},
};

static void world_clear(mc_server *srv) {
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) parts[i].reset(srv);
    for (int k = 0; k < MC_K_COUNT; k++) mc_store_clear(&srv->world[k]);
}

static int world_seed(mc_server *srv, char *err, size_t errsz) {
    if (srv->cfg.seed != 0) mc_rand_init(srv, srv->cfg.seed);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i].seed(srv, srv->cfg.fixtures, err, errsz) != 0) return -1;
    return 0;
}

int mc_server_reset(mc_server *srv, char *err, size_t errsz) {
    world_clear(srv);
    mc_auth_clear(srv);
    return world_seed(srv, err, errsz);
}

int mc_server_set_profile(mc_server *srv, const char *name, char *err, size_t errsz) {
    mc_profile *p = mc_profile_load(srv->cfg.profiles_dir, name, err, errsz);
    if (p == NULL) return -1;
    mc_profile_free(srv->profile);
    srv->profile = p;
    mc_log(MC_LOG_INFO, "profile %s active", p->name);
    return 0;
}

mc_server *mc_server_new(struct event_base *base, const mc_config *cfg, bool listen, char *err,
                         size_t errsz) {
    mc_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) mc_panic("out of memory");
    srv->base = base;
    srv->cfg = *cfg;
    mc_rand_init(srv, cfg->seed);
    srv->journal = mc_journal_new(4096);
    const char *extra[16];
    for (int i = 0; i < cfg->ndeviate && i < 16; i++) extra[i] = cfg->deviate[i];
    srv->profile = mc_profile_load_with(cfg->profiles_dir, cfg->profile, extra, (size_t)cfg->ndeviate, err, errsz);
    if (srv->profile == NULL) goto err;

    srv->port = cfg->port;
    if (listen) {
        /* Bodies over twice the upload cap are refused before they are read
         * (413); below that the router answers 413 in the service's dialect. */
        srv->httpd = mc_httpd_new(base, cfg->host, cfg->port, 2 * cfg->max_upload, mc_router_dispatch, srv, err, errsz);
        if (srv->httpd == NULL) goto err;
        mc_httpd_set_errfn(srv->httpd, mc_wire_error);   /* its own errors in the path's dialect */
        srv->port = mc_httpd_port(srv->httpd);
    }
    if (cfg->public_url[0] != '\0') {
        mc_strlcpy(srv->public_url, cfg->public_url, sizeof srv->public_url);
        size_t n = strlen(srv->public_url);
        while (n > 0 && srv->public_url[n - 1] == '/') srv->public_url[--n] = '\0';
    } else {
        snprintf(srv->public_url, sizeof srv->public_url, "http://%s%s%s:%d",
                 strchr(cfg->host, ':') ? "[" : "", cfg->host, strchr(cfg->host, ':') ? "]" : "", srv->port);
    }
    if (mc_guest_start(srv, err, errsz) != 0) goto err;
    if (world_seed(srv, err, errsz) != 0) goto err;
    return srv;
err:
    mc_server_free(srv);
    return NULL;
}

void mc_server_free(mc_server *srv) {
    if (srv == NULL) return;
    mc_profile_server_free(srv);   /* before mc_httpd_free: deferred replies */
    mc_guest_free(srv);
    world_clear(srv);
    mc_auth_clear(srv);
    mc_httpd_free(srv->httpd);
    mc_profile_free(srv->profile);
    mc_journal_free(srv->journal);
    free(srv);
}
