/* server.h -- the server: libevent wiring, world lifecycle. */
#ifndef MC_SERVER_H
#define MC_SERVER_H

#include "mockcloud.h"

void mc_config_defaults(mc_config *cfg);
/* The event loop mockcloud runs on (epoll's change list on: see server.c). */
struct event_base *mc_event_base_new(void);
/* Loads the profile and the fixtures; binds when 'listen' is true. NULL with
 * the reason in err. */
mc_server *mc_server_new(struct event_base *base, const mc_config *cfg, bool listen, char *err, size_t errsz);
void mc_server_free(mc_server *srv);
/* Back to exactly the fixture world (tokens, resources, journal kept). */
int mc_server_reset(mc_server *srv, char *err, size_t errsz);
/* Switches the active profile; -1 with the reason in err. */
int mc_server_set_profile(mc_server *srv, const char *name_or_path, char *err, size_t errsz);

#endif
