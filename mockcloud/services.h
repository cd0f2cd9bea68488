/* services.h -- what each service file offers the server besides its routes:
 * seeding its part of the world from fixtures/, and dropping its private
 * state (timers) on reset. */
#ifndef MC_SERVICES_H
#define MC_SERVICES_H

#include "mockcloud.h"

#define MC_DECLARE_SERVICE(name) \
    int name##_seed(mc_server *srv, const char *fixtures_dir, char *err, size_t errsz); \
    void name##_reset(mc_server *srv);
MC_DECLARE_SERVICE(identity)
MC_DECLARE_SERVICE(compute)
MC_DECLARE_SERVICE(network)
MC_DECLARE_SERVICE(image)
MC_DECLARE_SERVICE(metadata)

/* Bulk seeding (control API, benchmarks): 'count' copies of server 'from'.
 * Returns how many were made, or -1 with the reason in err. */
long compute_servers_clone(mc_server *srv, const char *from, long count, char *err, size_t errsz);

/* clouds.yaml for the fixture users, with this server's URLs. Caller frees. */
char *identity_clouds_yaml(mc_server *srv);

#endif
