/* compute_int.h -- private to compute.c and compute_servers.c: the service
 * state, the helpers both files use and the server handlers the route table
 * (in compute.c) names. Nothing else includes this header. */
#ifndef MC_COMPUTE_INT_H
#define MC_COMPUTE_INT_H

#include "auth.h"
#include "compute.h"
#include "http.h"
#include "imageapi.h"
#include "netapi.h"
#include "profile.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "util.h"
#include "validate.h"
#include "volattach.h"

#define COMPUTE_HOST "mockcloud-compute-1"
#define COMPUTE_HOST2 "mockcloud-compute-2"
#define COMPUTE_NHOSTS 2

/* What the live servers on one compute host use (compute_servers.c keeps
 * it as servers come, go, move or resize: the scheduler and the hypervisor
 * views read it instead of walking every server). */
typedef struct host_tally {
    long vms, vcpus, ram, disk;   /* disk: root + ephemeral GB */
} host_tally;

/* srv->svc_state[MC_COMPUTE]. */
typedef struct compute_state {
    cJSON *quotas;           /* {project: {key: limit}} overrides */
    cJSON *quota_defaults;   /* {key: limit} from fixtures */
    cJSON *zones;            /* array of zone names */
    uint64_t keypair_seq;
    uint64_t instance_seq;
    mc_store deleted;        /* compute_servers.c: soft-deleted servers, in deletion order */
    void **snaps;            /* compute_servers.c: flavor snapshots in use (flv_snap *) */
    size_t nsnaps, capsnaps;
    struct admin_state *admin;   /* compute_admin.c: aggregates, services, migrations */
    host_tally hosts[COMPUTE_NHOSTS];   /* compute_servers.c: per host, index = host - 1 */
} compute_state;

typedef struct usage {
    long instances, cores, ram, server_groups;
} usage;

compute_state *cs(mc_server *srv);
bool mv_ge(const mc_req *r, int minor);
bool is_admin(const mc_req *r);
const char *req_project(const mc_req *r);
const char *req_user(const mc_req *r);
void now_iso(char out[32]);
void now_naive(char out[32]);
cJSON *nova_links(mc_req *r, const char *coll, const char *id);
cJSON *bookmark_links(mc_req *r, const char *coll, const char *id);
void add_collection_next(mc_req *r, cJSON *root, const char *key, const char *coll, const char *last_id);
int page_limit_or_reply(mc_req *r, long *limit);
const char *ref_id(const char *ref);
void b64_encode(const unsigned char *in, size_t n, char *out);
long b64_decode(const char *in, unsigned char *out, size_t outsz);
mc_record *flavor_find(mc_req *r, const char *id);
mc_record *keypair_find(mc_server *srv, const char *user, const char *name);
long quota_limit(mc_server *srv, const char *project, const char *key);

/* compute_servers.c */
void project_usage(mc_server *srv, const char *project, usage *u);
void servers_cancel_timers(mc_server *srv);
void servers_reset(mc_server *srv);   /* before the compute state is freed */
mc_record *server_visible(mc_req *r, const char *id);
void compute_server_list(mc_req *r);
void compute_server_detail(mc_req *r);
void compute_server_create(mc_req *r);
void compute_server_show(mc_req *r);
void compute_server_update(mc_req *r);
void compute_server_delete(mc_req *r);
void compute_server_action(mc_req *r);
void compute_server_ips(mc_req *r);
void compute_server_ips_network(mc_req *r);
void compute_server_metadata(mc_req *r);
void compute_server_metadata_item(mc_req *r);
void compute_server_tags(mc_req *r);
void compute_server_tag(mc_req *r);
void compute_server_actions_list(mc_req *r);
void compute_server_action_show(mc_req *r);
void compute_server_secgroups(mc_req *r);
void compute_server_interfaces(mc_req *r);
void compute_server_interface(mc_req *r);
void compute_server_password(mc_req *r);
void server_states(mc_record *s, const char **vm, const char **task);
/* compute_volumes.c: os-volume_attachments and the server view's list */
void compute_server_volume_attachments(mc_req *r);
void compute_server_volume_attachment(mc_req *r);
cJSON *compute_volumes_attached(mc_req *r, mc_record *s);
void compute_volumes(mc_req *r);    /* os-volumes (the proxy, up to 2.35) */
void compute_volume(mc_req *r);
/* compute_admin.c: aggregates, hypervisors, services, os-hosts, migrations,
 * usage, audit log, diagnostics, external events */
void compute_aggregate(mc_req *r);
void compute_aggregate_action(mc_req *r);
void compute_aggregates(mc_req *r);
void compute_audit_log(mc_req *r);
void compute_external_events(mc_req *r);
void compute_host(mc_req *r);
void compute_host_list(mc_req *r);
void compute_host_power(mc_req *r);
void compute_hypervisor_list(mc_req *r);
void compute_hypervisor_search(mc_req *r);
void compute_hypervisor_show(mc_req *r);
void compute_hypervisor_statistics(mc_req *r);
void compute_hypervisor_uptime(mc_req *r);
void compute_migration_list(mc_req *r);
void compute_server_diagnostics(mc_req *r);
void compute_server_migrations(mc_req *r);
void compute_service(mc_req *r);
void compute_service_list(mc_req *r);
void compute_tenant_usage_list(mc_req *r);
void compute_tenant_usage_show(mc_req *r);
void compute_admin_free(compute_state *st);
void compute_server_remote_console(mc_req *r);
void compute_console_action(mc_req *r, mc_record *s, const cJSON *arg);
const char *compute_host_zone(mc_server *srv, int idx);
const char *compute_host_name(int idx);   /* 1-based; NULL for 0 */
int compute_host_index(const char *name);  /* 0 when unknown */
/* What the live servers on host h (1..COMPUTE_NHOSTS) use, kept up to date
 * as servers change (O(1)); compute_host_recount walks every live server
 * for the same figures (tests compare the two). */
const host_tally *compute_host_tally(mc_server *srv, int h);
void compute_host_recount(mc_server *srv, host_tally out[COMPUTE_NHOSTS]);
/* A server's fields as the operator APIs read them, from the compact record
 * (no document printed or kept). False for a record that is not a server. */
typedef struct server_info {
    const char *name;            /* "" when unset */
    const char *vm_state;
    const char *flavor_name;     /* the flavor's original_name, else its name ("" when none) */
    int host;                    /* compute_host_name() index; 0: none */
    long vcpus, ram, disk;       /* the flavor's; disk: root + ephemeral */
    double created, launched_at, terminated_at;   /* launched/terminated < 0: null */
    bool deleted;                /* status DELETED */
    bool config_drive;
} server_info;
bool compute_server_info(mc_record *s, server_info *out);
/* Nova's host_status of a server on host idx (1-based): "", UP, DOWN or
 * MAINTENANCE; and a signature of all hosts' that changes with any of them. */
const char *compute_host_status(mc_server *srv, int idx);
unsigned compute_host_status_sig(mc_server *srv);
int compute_host_pick(mc_server *srv, const char *zone, unsigned avoid, unsigned only);
const char *compute_zone_find(mc_server *srv, const char *zone);
void compute_zones_each(mc_server *srv, void (*fn)(const char *zone, void *arg), void *arg);
void compute_migration_add(mc_req *r, mc_record *s, const char *type, long old_flavor, long new_flavor, int src, int dst);
void compute_migration_status(mc_server *srv, const char *server_id, const char *status);
/* compute_fip.c: the floating-IP proxy (os-floating-ips, pools, actions) */
void compute_floating_ips(mc_req *r);
void compute_floating_ip(mc_req *r);
void compute_floating_ip_pools(mc_req *r);
void compute_floating_ip_action(mc_req *r, mc_record *s, const cJSON *arg);
/* compute.c: the Nova shape of a Neutron security group */
cJSON *secgroup_nova_view(mc_server *srv, mc_record *sg);

#endif
