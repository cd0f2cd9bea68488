/* identity_int.h -- private to the Keystone files (identity.c, identity_admin.c,
 * identity_catalog.c):
 * the lookups and reply helpers they share, and the handlers and hooks of
 * identity_admin.c (groups, domain writes, role assignments of every kind,
 * implied roles) that identity.c's route table and token code name. Nothing
 * else includes this header. */
#ifndef MC_IDENTITY_INT_H
#define MC_IDENTITY_INT_H

#include "auth.h"
#include "http.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "util.h"
#include "validate.h"

/* ---- identity.c: lookups and replies */
mc_record *find_domain(mc_server *srv, const cJSON *ref);
cJSON *links_self(mc_req *r, const char *path);
/* A record's public view: doc without private "_" keys, plus links.self. */
cJSON *public_view(mc_req *r, const mc_record *rec, const char *collection);
typedef bool (*rec_pred)(mc_req *r, const mc_record *rec);
/* Whether each query key of 'filters' (NULL-ended) present in the request
 * equals the record's doc field: a string exactly; a boolean "true"/"True"
 * or "false"/"False", or by the value's initial when 'bool_by_initial'
 * (list_kind's ?enabled=t). */
bool query_matches(mc_req *r, const mc_record *x, const char *const *filters, bool bool_by_initial);
/* Lists a kind filtered by ?name, ?domain_id, ?enabled... and 'pred'. */
void list_kind(mc_req *r, mc_kind kind, const char *collection, rec_pred pred);
void reply_forbidden(mc_req *r, const char *action);
/* What Keystone's default policies give "admin" or, for a read (GET/HEAD),
 * a system-scoped reader (mc_auth_may_admin): every check of the identity
 * handlers that lets an admin through. */
bool may_admin(const mc_req *r);
mc_record *find_or_reply(mc_req *r, mc_kind kind, const char *what, const char *id);
void show_one(mc_req *r, int status, const char *single, const char *collection, const mc_record *x);
bool name_taken(mc_server *srv, mc_kind kind, const char *name, const char *domain_id, const mc_record *except);
void merge_fields(cJSON *doc, const cJSON *in, const char *const *allowed);
/* The body's object 'single', or NULL after a 400 "'single' is a required property". */
cJSON *body_obj_or_reply(mc_req *r, const char *single);
/* A new record's doc: {"id": a new id (written to 'id')}; the caller adds the rest. */
cJSON *new_doc(mc_req *r, char id[33]);

/* A kind of identity record with a name unique in its domain (projects,
 * users, groups, roles): what its create and update check, in Keystone's
 * order and words, as data. */
typedef struct id_kind {
    mc_kind kind;
    const char *single;          /* "group": the body's object, the 404's noun */
    const char *spec;            /* the create body's members (validate.h) */
    size_t name_max;             /* a name has 1 to name_max characters */
    bool require_body;           /* no body object: "'group' is a required property" (else the name's 400) */
    bool global_ok;              /* domain_id may be null: a global record (roles) */
    int no_domain_status;        /* an unknown domain: 400 (projects) or 404 */
    const char *taken_lead;      /* the 409: "... store <single> - <taken_lead><name>[ at domain ID <id>]." */
    bool taken_at_domain;
} id_kind;
/* Create, first step: the body object, its members and the name (into
 * *name); the body object, or NULL after a 400. */
const cJSON *idkind_body_or_reply(mc_req *r, const id_kind *k, const char **name);
/* Create, second step: the domain exists (when not NULL) and has no record
 * of the kind named so; 0, or -1 after a 400/404 or 409. */
int idkind_domain_or_reply(mc_req *r, const id_kind *k, const char *name, const char *domain_id);
/* Update (PATCH /v3/<kind>s/{id}): the record (*x, 404), the body object and
 * its members ('spec'), no change of domain, a non-empty name free in the
 * domain; the body object, or NULL after replying. */
const cJSON *idkind_update_or_reply(mc_req *r, const id_kind *k, const char *spec, mc_record **x);
void credentials_delete_where(mc_server *srv, const char *key, const char *value);
/* Removes a project or a user with everything hanging off it (assignments,
 * credentials, group memberships, tokens), as their DELETE does. */
void project_remove(mc_server *srv, mc_record *p);
void user_remove(mc_server *srv, mc_record *u);

/* ---- identity_admin.c: assignments and implied roles.
 * An assignment is a record keyed "<u|g>:<actor>:<target>:<role>[:i]" with
 * doc {"user_id" | "group_id", "target_id", "scope": "project" | "domain" |
 * "system", "is_domain", "role_id", "inherited"}; a system assignment's
 * target is "all". */
mc_record *idadm_assignment_add(mc_server *srv, bool group, const char *actor, const char *scope,
                                const char *target, const char *role_id, bool inherited);
/* Deletes every assignment naming 'id' (actor, target or role) and, for a
 * user or a role, its group memberships and implication rules. */
void idadm_forget(mc_server *srv, const char *id);
/* The effective roles of a user on a project or domain id ({id,name} each):
 * direct, through groups, inherited from the domain or parent projects,
 * with implied roles and without domain-specific roles. */
cJSON *idadm_effective_roles(mc_server *srv, const char *user_id, const char *target);
/* The effective roles of a user on the system (system grants, direct and
 * through groups, with implied roles). */
cJSON *idadm_system_roles(mc_server *srv, const char *user_id);
/* Adds 'role' and the roles it implies (transitively) to 'roles'. */
void idadm_add_role_implied(mc_server *srv, cJSON *roles, const mc_record *role);
/* A global role (domain_id null) by name. */
mc_record *idadm_role_by_name(mc_server *srv, const char *name);
/* A project created with is_domain: true is a domain too: created (and
 * replied) here, kept in step after a PATCH, and deleted with its contents
 * when the project is (1: done, project included; 0: not a domain; -1:
 * replied 403, still enabled). */
void idadm_project_domain_create(mc_req *r, const cJSON *in);
void idadm_project_domain_sync(mc_server *srv, const mc_record *p);
int idadm_project_domain_delete_or_reply(mc_req *r, mc_record *p);
/* Seeds the fixture tree's "groups" ({id, name, domain_id, description,
 * users: [user names of that domain]}); 0, or -1 with 'err'. */
int idadm_seed_groups(mc_server *srv, const cJSON *fx, char *err, size_t errsz);
/* Whether the domain 'id' exists and is enabled. */
bool idadm_domain_enabled(mc_server *srv, const char *id);

/* Handlers (routes in identity.c). */
void identity_domain_create(mc_req *r);
void identity_domain_update(mc_req *r);
void identity_domain_delete(mc_req *r);
void identity_group_list(mc_req *r);
void identity_group_create(mc_req *r);
void identity_group_show(mc_req *r);
void identity_group_update(mc_req *r);
void identity_group_delete(mc_req *r);
void identity_group_users(mc_req *r);
void identity_group_member(mc_req *r);
void identity_user_groups(mc_req *r);
void identity_role_list(mc_req *r);
void identity_role_create(mc_req *r);
void identity_role_update(mc_req *r);
void identity_role_delete(mc_req *r);
void identity_role_implies_list(mc_req *r);
void identity_role_implies(mc_req *r);
void identity_role_inferences(mc_req *r);
void identity_grant_pu(mc_req *r);   /* project, user */
void identity_grant_pg(mc_req *r);   /* project, group */
void identity_grant_du(mc_req *r);
void identity_grant_dg(mc_req *r);
void identity_grant_su(mc_req *r);   /* system */
void identity_grant_sg(mc_req *r);
void identity_grant_idu(mc_req *r);  /* OS-INHERIT: domain, user */
void identity_grant_idg(mc_req *r);
void identity_grant_ipu(mc_req *r);  /* OS-INHERIT: project, user */
void identity_grant_ipg(mc_req *r);
void identity_grants_pu(mc_req *r);  /* lists */
void identity_grants_pg(mc_req *r);
void identity_grants_du(mc_req *r);
void identity_grants_dg(mc_req *r);
void identity_grants_su(mc_req *r);
void identity_grants_sg(mc_req *r);
void identity_grants_idu(mc_req *r);
void identity_grants_idg(mc_req *r);
void identity_role_assignments(mc_req *r);
void identity_project_tags(mc_req *r);
void identity_project_tag(mc_req *r);

/* ---- identity_catalog.c: the service catalog, built from the services and
 * endpoints stored in the world. The seeded ones (identity_catalog_seed,
 * from --listen/--public-url) carry a service-relative "_path" instead of a
 * URL, so their URLs follow the server's public URL. */
int identity_catalog_seed(mc_server *srv, char *err, size_t errsz);
/* The catalog tree for a token scoped to 'project_id' ("" = domain scope),
 * with the catalog deviations applied. Caller owns it. */
cJSON *identity_catalog_build(mc_req *r, const char *project_id);
/* Writes the key of every per-request input of identity_catalog_build (the
 * knobs as read, the public URL, the project id where a URL carries it) into
 * 'key'; false when it does not fit (no cache then). The stored services
 * and endpoints are not in the key: a change to them drops the cache
 * (identity_catalog_changed). */
bool identity_catalog_key(mc_req *r, const char *project_id, char *key, size_t keysz);
/* Drops the cached catalog text (services, endpoints or regions changed). */
void identity_catalog_changed(mc_server *srv);
void identity_region_list(mc_req *r);
void identity_region_create(mc_req *r);
void identity_region_show(mc_req *r);
void identity_region_put(mc_req *r);
void identity_region_update(mc_req *r);
void identity_region_delete(mc_req *r);
void identity_service_list(mc_req *r);
void identity_service_create(mc_req *r);
void identity_service_show(mc_req *r);
void identity_service_update(mc_req *r);
void identity_service_delete(mc_req *r);
void identity_endpoint_list(mc_req *r);
void identity_endpoint_create(mc_req *r);
void identity_endpoint_show(mc_req *r);
void identity_endpoint_update(mc_req *r);
void identity_endpoint_delete(mc_req *r);

void identity_policy_list(mc_req *r);
void identity_policy_create(mc_req *r);
void identity_policy_show(mc_req *r);
void identity_policy_update(mc_req *r);
void identity_policy_delete(mc_req *r);
void identity_epgroup_list(mc_req *r);
void identity_epgroup_create(mc_req *r);
void identity_epgroup_show(mc_req *r);
void identity_epgroup_update(mc_req *r);
void identity_epgroup_delete(mc_req *r);

/* A project's, a user's or a domain's records kept here (trusts, domain
 * configuration) go with it. */
void identity_catalog_forget(mc_server *srv, const char *id);
/* Token scope {"OS-TRUST:trust": {"id"}} ('ref'): checks the trust for the
 * authenticated *user (the trustee), then sets *user (the trustor when the
 * trust impersonates), *project, *roles (owned), *expires (0 = none) and
 * *info (the token's "OS-TRUST:trust", owned); -1 after replying. */
int identity_trust_scope_or_reply(mc_req *r, const cJSON *ref, mc_record **user, mc_record **project,
                                  cJSON **roles, double *expires, cJSON **info);
/* Counts a use of the trust (a token was issued through it); tokens issued
 * through a trust are revoked with it (mc_auth_revoke_by trust). */
void identity_trust_used(mc_server *srv, const char *trust_id);
/* A trust-scoped token rebuilt from its id: the live trust 'trust_id' whose
 * token acts as 'user_id' (the trustor when it impersonates, the trustee
 * otherwise) gives *project, *roles (owned) and returns the token's
 * "OS-TRUST:trust" (owned); NULL when the trust is gone or the user no
 * longer fits it. */
cJSON *identity_trust_token_parts(mc_server *srv, const char *trust_id, const char *user_id, mc_record **project,
                                  cJSON **roles);
void identity_trust_list(mc_req *r);
void identity_trust_create(mc_req *r);
void identity_trust_show(mc_req *r);
void identity_trust_delete(mc_req *r);
void identity_trust_roles(mc_req *r);
void identity_consumer_list(mc_req *r);
void identity_consumer_create(mc_req *r);
void identity_consumer_show(mc_req *r);
void identity_consumer_update(mc_req *r);
void identity_consumer_delete(mc_req *r);
void identity_domain_config(mc_req *r);
void identity_domain_config_default(mc_req *r);

void identity_ec2tokens(mc_req *r);
/* identity.c, for /v3/ec2tokens: replies 'status' with a token of 'user' on
 * 'project' (the user's roles there, 401 without any), methods [method]. */
void identity_token_for_project(mc_req *r, mc_record *user, mc_record *project, const char *method, int status);

#endif
