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
MC_DECLARE_SERVICE(volume)

/* POST /mockcloud/v1/fixtures (fixtures.h). X_fixtures_check checks the
 * service's part of a post against the world and the whole post: 0, or -1
 * with the reason in fx->err. X_seed_tree inserts one fixtures tree (the
 * files go through it too): 0, or -1 with the reason in err. */
struct mc_fx;
#define MC_DECLARE_FIXTURES(name) \
    int name##_fixtures_check(struct mc_fx *fx, const cJSON *tree); \
    int name##_seed_tree(mc_server *srv, const cJSON *tree, char *err, size_t errsz);
MC_DECLARE_FIXTURES(identity)
MC_DECLARE_FIXTURES(compute)
MC_DECLARE_FIXTURES(network)
MC_DECLARE_FIXTURES(image)
/* Releases the addresses and MACs of the ports made since 'mark' (each
 * kind's next_seq before a post) and deletes those ports. */
void network_fixtures_undo(mc_server *srv, const uint64_t *mark);

/* Bulk seeding (control API, benchmarks): 'count' copies of server 'from'.
 * Returns how many were made, or -1 with the reason in err. */
long compute_servers_clone(mc_server *srv, const char *from, long count, char *err, size_t errsz);

/* clouds.yaml for the fixture users, with this server's URLs. Caller frees. */
char *identity_clouds_yaml(mc_server *srv);

#endif
