/* identity_admin.c -- Keystone v3 admin APIs: groups and their members,
 * domain writes (create, update, delete with its cascade), roles (global and
 * domain-specific) with implied roles, and role assignments of every kind:
 * user or group, on a project, a domain or the system, direct or inherited
 * (OS-INHERIT), with GET /v3/role_assignments and its filters.
 *
 * Records: groups are MC_K_GROUP records {id, name, description, domain_id}
 * whose members are the keys of the private "_users" object. A role's
 * implication rules are the ids in its private "_implies" array (the
 * fixtures give one role name as a string, resolved on first use). An
 * assignment is an MC_K_ASSIGNMENT record (see identity_int.h for its key
 * and doc). Effective roles (tokens, ?effective) follow Keystone: group
 * assignments reach the group's members, inherited assignments the projects
 * of the domain or the subtree of the project, implied roles are added and
 * domain-specific roles dropped (they only carry their implications). */
#include "identity_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST(srv, k) (&(srv)->world[k])
#define MAX_DEPTH 32

static const char *const sys_target = "all";

/* ---------------------------------------------------------------- small helpers */

static bool doc_true(const cJSON *doc, const char *key) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, key));
}

static bool role_is_domain_specific(const mc_record *role) {
    return mc_json_str(role->doc, "domain_id") != NULL;
}

mc_record *idadm_role_by_name(mc_server *srv, const char *name) {
    for (mc_record *x = mc_store_first(ST(srv, MC_K_ROLE)); x; x = mc_store_next(x))
        if (!role_is_domain_specific(x) && mc_str_eq(mc_json_str(x->doc, "name"), name)) return x;
    return NULL;
}

bool idadm_domain_enabled(mc_server *srv, const char *id) {
    mc_record *d = id ? mc_store_find(ST(srv, MC_K_DOMAIN), id) : NULL;
    return d != NULL && !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(d->doc, "enabled"));
}

/* The members of a group: an object keyed by user id (created on demand). */
static cJSON *group_members(mc_record *g) {
    cJSON *m = mc_json_obj(g->doc, "_users");
    if (m == NULL) m = cJSON_AddObjectToObject(g->doc, "_users");
    if (m == NULL) mc_panic("out of memory");
    return m;
}

static bool group_has(const mc_record *g, const char *user_id) {
    return cJSON_GetObjectItemCaseSensitive(mc_json_obj(g->doc, "_users"), user_id) != NULL;
}

/* A role's implied role ids; a fixture's "implies" name becomes an array of one id. */
static cJSON *implies_of(mc_server *srv, mc_record *role) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(role->doc, "_implies");
    if (cJSON_IsArray(v)) return v;
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL) mc_panic("out of memory");
    mc_record *x = cJSON_IsString(v) ? idadm_role_by_name(srv, v->valuestring) : NULL;
    if (x != NULL) cJSON_AddItemToArray(arr, cJSON_CreateString(x->id));
    mc_json_set(role->doc, "_implies", arr);
    return arr;
}

static bool implies_has(mc_server *srv, mc_record *prior, const char *implied_id) {
    const cJSON *x;
    cJSON_ArrayForEach(x, implies_of(srv, prior)) if (mc_str_eq(x->valuestring, implied_id)) return true;
    return false;
}

static bool roles_have(const cJSON *roles, const char *id) {
    const cJSON *x;
    cJSON_ArrayForEach(x, roles) if (mc_str_eq(mc_json_str(x, "id"), id)) return true;
    return false;
}

/* Adds 'role' and its implications to 'roles' ({id, name, prior}: the role
 * that implied it, "" for 'role' itself); domain-specific roles are walked
 * through but not added. 'seen' holds every id visited (cycles). */
static void add_implied(mc_server *srv, cJSON *roles, cJSON *seen, const mc_record *role, const char *prior,
                        int depth) {
    if (role == NULL || depth > MAX_DEPTH || cJSON_GetObjectItemCaseSensitive(seen, role->id) != NULL) return;
    cJSON_AddBoolToObject(seen, role->id, true);
    if (!role_is_domain_specific(role) && !roles_have(roles, role->id)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", role->id);
        cJSON_AddStringToObject(o, "name", mc_json_str(role->doc, "name"));
        if (prior != NULL) cJSON_AddStringToObject(o, "_prior", prior);
        cJSON_AddItemToArray(roles, o);
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, implies_of(srv, (mc_record *)role))
        add_implied(srv, roles, seen, mc_store_find(ST(srv, MC_K_ROLE), x->valuestring), role->id, depth + 1);
}

static void add_implied_top(mc_server *srv, cJSON *roles, const mc_record *role) {
    cJSON *seen = cJSON_CreateObject();
    add_implied(srv, roles, seen, role, NULL, 0);
    cJSON_Delete(seen);
}

void idadm_add_role_implied(mc_server *srv, cJSON *roles, const mc_record *role) {
    add_implied_top(srv, roles, role);
    cJSON *x;
    cJSON_ArrayForEach(x, roles) cJSON_DeleteItemFromObjectCaseSensitive(x, "_prior");
}

/* ---------------------------------------------------------------- assignments */

static void assignment_key(char *key, size_t n, bool group, const char *actor, const char *target,
                           const char *role_id, bool inherited) {
    snprintf(key, n, "%c:%s:%s:%s%s", group ? 'g' : 'u', actor, target, role_id, inherited ? ":i" : "");
}

mc_record *idadm_assignment_add(mc_server *srv, bool group, const char *actor, const char *scope,
                                const char *target, const char *role_id, bool inherited) {
    char key[256];
    assignment_key(key, sizeof key, group, actor, target, role_id, inherited);
    mc_record *a = mc_store_find(ST(srv, MC_K_ASSIGNMENT), key);
    if (a != NULL) return a;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, group ? "group_id" : "user_id", actor);
    cJSON_AddStringToObject(doc, "target_id", target);
    cJSON_AddStringToObject(doc, "scope", scope);
    cJSON_AddBoolToObject(doc, "is_domain", strcmp(scope, "domain") == 0);
    cJSON_AddStringToObject(doc, "role_id", role_id);
    cJSON_AddBoolToObject(doc, "inherited", inherited);
    a = mc_store_add(ST(srv, MC_K_ASSIGNMENT), key, "", doc);
    if (a == NULL) cJSON_Delete(doc);
    return a;
}

void idadm_forget(mc_server *srv, const char *id) {
    mc_store *st = ST(srv, MC_K_ASSIGNMENT);
    for (mc_record *a = mc_store_first(st), *next; a != NULL; a = next) {
        next = mc_store_next(a);
        if (mc_str_eq(mc_json_str(a->doc, "user_id"), id) || mc_str_eq(mc_json_str(a->doc, "group_id"), id) ||
            mc_str_eq(mc_json_str(a->doc, "target_id"), id) || mc_str_eq(mc_json_str(a->doc, "role_id"), id))
            mc_store_delete(st, a);
    }
    for (mc_record *g = mc_store_first(ST(srv, MC_K_GROUP)); g; g = mc_store_next(g))
        cJSON_DeleteItemFromObjectCaseSensitive(mc_json_obj(g->doc, "_users"), id);
    for (mc_record *x = mc_store_first(ST(srv, MC_K_ROLE)); x; x = mc_store_next(x)) {
        cJSON *imp = implies_of(srv, x);
        for (int i = cJSON_GetArraySize(imp) - 1; i >= 0; i--)
            if (mc_str_eq(cJSON_GetArrayItem(imp, i)->valuestring, id)) cJSON_DeleteItemFromArray(imp, i);
    }
}

static const char *a_scope(const mc_record *a) { return mc_json_str(a->doc, "scope"); }
static const char *a_target(const mc_record *a) { return mc_json_str(a->doc, "target_id"); }
static const char *a_role(const mc_record *a) { return mc_json_str(a->doc, "role_id"); }
static bool a_inherited(const mc_record *a) { return doc_true(a->doc, "inherited"); }

/* Whether project 'anc' is a strict ancestor of project 'p'. */
static bool project_below(mc_server *srv, const char *anc, const mc_record *p) {
    for (int depth = 0; p != NULL && depth < MAX_DEPTH; depth++) {
        const char *parent = mc_json_str(p->doc, "parent_id");
        if (parent == NULL || mc_str_eq(parent, mc_json_str(p->doc, "domain_id"))) return false;
        if (mc_str_eq(parent, anc)) return true;
        p = mc_store_find(ST(srv, MC_K_PROJECT), parent);
    }
    return false;
}

/* Whether assignment 'a' gives its roles on project 'p' or domain 'd'. */
static bool assignment_reaches(mc_server *srv, const mc_record *a, const mc_record *p, const mc_record *d) {
    const char *scope = a_scope(a), *tid = a_target(a);
    bool inh = a_inherited(a);
    if (p != NULL) {
        if (mc_str_eq(scope, "project"))
            return inh ? project_below(srv, tid, p) : mc_str_eq(tid, p->id);
        return inh && mc_str_eq(scope, "domain") && mc_str_eq(tid, mc_json_str(p->doc, "domain_id"));
    }
    return d != NULL && !inh && mc_str_eq(scope, "domain") && mc_str_eq(tid, d->id);
}

static bool assignment_for_user(mc_server *srv, const mc_record *a, const char *user_id) {
    if (mc_str_eq(mc_json_str(a->doc, "user_id"), user_id)) return true;
    const char *gid = mc_json_str(a->doc, "group_id");
    mc_record *g = gid ? mc_store_find(ST(srv, MC_K_GROUP), gid) : NULL;
    return g != NULL && group_has(g, user_id);
}

cJSON *idadm_effective_roles(mc_server *srv, const char *user_id, const char *target) {
    cJSON *roles = cJSON_CreateArray();
    mc_record *p = mc_store_find(ST(srv, MC_K_PROJECT), target);
    mc_record *d = p ? NULL : mc_store_find(ST(srv, MC_K_DOMAIN), target);
    if (p == NULL && d == NULL) return roles;
    for (mc_record *a = mc_store_first(ST(srv, MC_K_ASSIGNMENT)); a; a = mc_store_next(a)) {
        if (!assignment_reaches(srv, a, p, d) || !assignment_for_user(srv, a, user_id)) continue;
        add_implied_top(srv, roles, mc_store_find(ST(srv, MC_K_ROLE), a_role(a)));
    }
    cJSON *x;
    cJSON_ArrayForEach(x, roles) cJSON_DeleteItemFromObjectCaseSensitive(x, "_prior");
    return roles;
}

cJSON *idadm_system_roles(mc_server *srv, const char *user_id) {
    cJSON *roles = cJSON_CreateArray();
    for (mc_record *a = mc_store_first(ST(srv, MC_K_ASSIGNMENT)); a; a = mc_store_next(a))
        if (mc_str_eq(a_scope(a), "system") && assignment_for_user(srv, a, user_id))
            add_implied_top(srv, roles, mc_store_find(ST(srv, MC_K_ROLE), a_role(a)));
    cJSON *x;
    cJSON_ArrayForEach(x, roles) cJSON_DeleteItemFromObjectCaseSensitive(x, "_prior");
    return roles;
}

/* Revokes the tokens of a group's members (a role of theirs went away). */
static void revoke_members(mc_server *srv, mc_record *g) {
    const cJSON *m;
    cJSON_ArrayForEach(m, mc_json_obj(g->doc, "_users")) mc_auth_revoke_user(srv, m->string);
}

/* Revokes the tokens of 'user_id' that an assignment on 'target' gave
 * roles to, as Keystone's revocation events for a deleted grant: those
 * scoped to the target, or for an inherited one to a project below it. */
static void revoke_scoped(mc_server *srv, const char *user_id, const char *scope, const char *target, bool inherited) {
    mc_token *t, *tmp;
    HASH_ITER(hh, srv->tokens, t, tmp) {
        if (!mc_str_eq(t->user_id, user_id)) continue;
        mc_record *p = t->project_id[0] ? mc_store_find(ST(srv, MC_K_PROJECT), t->project_id) : NULL;
        bool hit;
        if (!inherited)
            hit = mc_str_eq(t->project_id, target) || mc_str_eq(t->domain_id, target);
        else if (strcmp(scope, "domain") == 0)
            hit = p != NULL && mc_str_eq(mc_json_str(p->doc, "domain_id"), target);
        else
            hit = p != NULL && project_below(srv, target, p);
        if (hit) mc_auth_revoke(srv, t->id);
    }
}

/* ---------------------------------------------------------------- domains */

static const char *const domain_fields[] = {"name", "description", "enabled", "tags", "options", NULL};

static int domain_name_or_reply(mc_req *r, const char *name, const mc_record *except) {
    if (name == NULL || name[0] == '\0' || strlen(name) > 64) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'name': a name of 1 to 64 characters is required.");
        return -1;
    }
    for (mc_record *d = mc_store_first(ST(r->srv, MC_K_DOMAIN)); d; d = mc_store_next(d))
        if (d != except && mc_str_eq(mc_json_str(d->doc, "name"), name)) {
            mc_reply_error(r, 409, NULL, "Conflict occurred attempting to store domain - Duplicate entry found with name %.64s.", name);
            return -1;
        }
    return 0;
}

void identity_domain_create(mc_req *r) {
    cJSON *in = body_obj_or_reply(r, "domain");
    if (in == NULL) return;
    if (mc_check_or_reply(r, in, "name=s|description=S|enabled=B|tags=r|options=o|explicit_domain_id=S64") != 0) return;
    if (domain_name_or_reply(r, mc_json_str(in, "name"), NULL) != 0) return;
    char id[40];
    const char *explicit = mc_json_str(in, "explicit_domain_id");
    if (explicit != NULL) mc_strlcpy(id, explicit, sizeof id); else mc_uuid_hex(r->srv, id);
    if (mc_store_find(ST(r->srv, MC_K_DOMAIN), id) != NULL || mc_store_find(ST(r->srv, MC_K_PROJECT), id) != NULL) {
        mc_reply_error(r, 409, NULL, "Conflict occurred attempting to store domain - Duplicate ID, %.64s.", id);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "name", "");
    cJSON_AddStringToObject(doc, "description", "");
    cJSON_AddBoolToObject(doc, "enabled", true);
    cJSON_AddItemToObject(doc, "tags", cJSON_CreateArray());
    cJSON_AddItemToObject(doc, "options", cJSON_CreateObject());
    merge_fields(doc, in, domain_fields);
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "description")))
        mc_json_set_str(doc, "description", "");
    show_one(r, 201, "domain", "domains", mc_store_add(ST(r->srv, MC_K_DOMAIN), id, "", doc));
}

void identity_domain_update(mc_req *r) {
    mc_record *d = find_or_reply(r, MC_K_DOMAIN, "domain", r->params[0]);
    if (d == NULL) return;
    cJSON *in = body_obj_or_reply(r, "domain");
    if (in == NULL) return;
    if (mc_check_or_reply(r, in, "name=s|description=S|enabled=B|tags=r|options=o|id=s") != 0) return;
    const char *nid = mc_json_str(in, "id");
    if (nid != NULL && !mc_str_eq(nid, d->id)) {
        mc_reply_error(r, 400, NULL, "Cannot change ID");
        return;
    }
    if (mc_json_has(in, "name") && domain_name_or_reply(r, mc_json_str(in, "name"), d) != 0) return;
    bool was_enabled = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(d->doc, "enabled"));
    merge_fields(d->doc, in, domain_fields);
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d->doc, "description")))
        mc_json_set_str(d->doc, "description", "");
    /* Keystone: disabling a domain is a revocation event by domain id: its
     * users' tokens and those scoped to it or to one of its projects, which
     * stay revoked when the domain is enabled again */
    if (was_enabled && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(d->doc, "enabled")))
        mc_auth_revoke_by(r->srv, MC_REVOKE_DOMAIN, d->id);
    show_one(r, 200, "domain", "domains", d);
}

static void group_remove(mc_server *srv, mc_record *g) {
    revoke_members(srv, g);
    idadm_forget(srv, g->id);
    mc_store_delete(ST(srv, MC_K_GROUP), g);
}

static void role_remove(mc_server *srv, mc_record *role) {
    idadm_forget(srv, role->id);
    mc_store_delete(ST(srv, MC_K_ROLE), role);
}

/* Deletes domain 'd' with its projects, users, groups, domain-specific
 * roles and assignments (and the project acting as it, if any). */
static void domain_remove(mc_server *srv, mc_record *d) {
    static const mc_kind kinds[] = {MC_K_PROJECT, MC_K_USER, MC_K_GROUP, MC_K_ROLE};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        mc_store *st = ST(srv, kinds[k]);
        for (mc_record *x = mc_store_first(st), *next; x != NULL; x = next) {
            next = mc_store_next(x);
            if (!mc_str_eq(mc_json_str(x->doc, "domain_id"), d->id)) continue;
            /* a deleted project may be the next one's child: restart after it */
            switch (kinds[k]) {
            case MC_K_PROJECT: project_remove(srv, x); next = mc_store_first(st); break;
            case MC_K_USER: user_remove(srv, x); break;
            case MC_K_GROUP: group_remove(srv, x); break;
            default: role_remove(srv, x); break;
            }
        }
    }
    idadm_forget(srv, d->id);
    mc_record *p = mc_store_find(ST(srv, MC_K_PROJECT), d->id);
    if (p != NULL) project_remove(srv, p);
    identity_catalog_forget(srv, d->id);
    mc_store_delete(ST(srv, MC_K_DOMAIN), d);
}

/* Keystone: a domain must be disabled before it is deleted; its projects,
 * users, groups, domain-specific roles and assignments go with it. */
void identity_domain_delete(mc_req *r) {
    mc_record *d = find_or_reply(r, MC_K_DOMAIN, "domain", r->params[0]);
    if (d == NULL) return;
    if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(d->doc, "enabled"))) {
        mc_reply_error(r, 403, NULL, "Cannot delete a domain that is enabled, please disable it first.");
        return;
    }
    domain_remove(r->srv, d);
    mc_reply_json(r, 204, NULL);
}

/* ---- projects acting as domains (is_domain: true): Keystone keeps one
 * entity for both; here a domain record with the project's id mirrors its
 * name, description and enabled. */

void idadm_project_domain_create(mc_req *r, const cJSON *in) {
    if (domain_name_or_reply(r, mc_json_str(in, "name"), NULL) != 0) return;
    char id[33];
    mc_uuid_hex(r->srv, id);
    cJSON *pdoc = cJSON_CreateObject();
    cJSON_AddStringToObject(pdoc, "id", id);
    cJSON_AddStringToObject(pdoc, "description", "");
    cJSON_AddBoolToObject(pdoc, "enabled", true);
    cJSON_AddNullToObject(pdoc, "domain_id");
    cJSON_AddNullToObject(pdoc, "parent_id");
    cJSON_AddBoolToObject(pdoc, "is_domain", true);
    cJSON_AddItemToObject(pdoc, "tags", cJSON_CreateArray());
    cJSON_AddItemToObject(pdoc, "options", cJSON_CreateObject());
    merge_fields(pdoc, in, (const char *const[]){"name", "description", "enabled", "tags", "options", NULL});
    mc_record *p = mc_store_add(ST(r->srv, MC_K_PROJECT), id, id, pdoc);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "description", "");
    cJSON_AddBoolToObject(doc, "enabled", true);
    cJSON_AddItemToObject(doc, "tags", cJSON_CreateArray());
    cJSON_AddItemToObject(doc, "options", cJSON_CreateObject());
    merge_fields(doc, in, domain_fields);
    if (mc_store_add(ST(r->srv, MC_K_DOMAIN), id, "", doc) == NULL) cJSON_Delete(doc);
    show_one(r, 201, "project", "projects", p);
}

void idadm_project_domain_sync(mc_server *srv, const mc_record *p) {
    mc_record *d = mc_store_find(ST(srv, MC_K_DOMAIN), p->id);
    if (d == NULL || !doc_true(p->doc, "is_domain")) return;
    merge_fields(d->doc, p->doc, (const char *const[]){"name", "description", "enabled", NULL});
}

int idadm_project_domain_delete_or_reply(mc_req *r, mc_record *p) {
    mc_record *d = mc_store_find(ST(r->srv, MC_K_DOMAIN), p->id);
    if (d == NULL || !doc_true(p->doc, "is_domain")) return 0;
    if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(d->doc, "enabled"))) {
        mc_reply_error(r, 403, NULL, "Cannot delete an enabled project acting as a domain. Please disable the project %.64s first.", p->id);
        return -1;
    }
    domain_remove(r->srv, d);   /* the project goes with it */
    return 1;
}

/* ---------------------------------------------------------------- groups */

static const char *const group_fields[] = {"name", "description", NULL};

void identity_group_list(mc_req *r) { list_kind(r, MC_K_GROUP, "groups", NULL); }

static const id_kind K_GROUP = {MC_K_GROUP, "group", "name=s|description=S|domain_id=S64", 255, true, false, 404,
                                "Duplicate entry found with name ", true};

void identity_group_create(mc_req *r) {
    const char *name;
    const cJSON *in = idkind_body_or_reply(r, &K_GROUP, &name);
    if (in == NULL) return;
    const char *domain_id = mc_json_str(in, "domain_id");
    if (domain_id == NULL) domain_id = r->tok->domain_id[0] ? r->tok->domain_id : "default";
    if (idkind_domain_or_reply(r, &K_GROUP, name, domain_id) != 0) return;
    char id[33];
    cJSON *doc = new_doc(r, id);
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddStringToObject(doc, "description", "");
    cJSON_AddStringToObject(doc, "domain_id", domain_id);
    merge_fields(doc, in, group_fields);
    show_one(r, 201, "group", "groups", mc_store_add(ST(r->srv, MC_K_GROUP), id, "", doc));
}

void identity_group_show(mc_req *r) {
    mc_record *g = find_or_reply(r, MC_K_GROUP, "group", r->params[0]);
    if (g != NULL) show_one(r, 200, "group", "groups", g);
}

void identity_group_update(mc_req *r) {
    mc_record *g;
    const cJSON *in = idkind_update_or_reply(r, &K_GROUP, "name=s255|description=S|domain_id=S64", &g);
    if (in == NULL) return;
    merge_fields(g->doc, in, group_fields);
    show_one(r, 200, "group", "groups", g);
}

void identity_group_delete(mc_req *r) {
    mc_record *g = find_or_reply(r, MC_K_GROUP, "group", r->params[0]);
    if (g == NULL) return;
    group_remove(r->srv, g);
    mc_reply_json(r, 204, NULL);
}

static bool member_of_param_group(mc_req *r, const mc_record *u) {
    mc_record *g = mc_store_find(ST(r->srv, MC_K_GROUP), r->params[0]);
    return g != NULL && group_has(g, u->id);
}

/* GET /v3/groups/{g}/users */
void identity_group_users(mc_req *r) {
    if (find_or_reply(r, MC_K_GROUP, "group", r->params[0]) == NULL) return;
    list_kind(r, MC_K_USER, "users", member_of_param_group);
}

/* PUT (add), HEAD/GET (check), DELETE (remove) /v3/groups/{g}/users/{u} */
void identity_group_member(mc_req *r) {
    mc_record *g = find_or_reply(r, MC_K_GROUP, "group", r->params[0]);
    if (g == NULL) return;
    mc_record *u = find_or_reply(r, MC_K_USER, "user", r->params[1]);
    if (u == NULL) return;
    cJSON *m = group_members(g);
    if (r->method == EVHTTP_REQ_PUT) {
        if (!group_has(g, u->id)) cJSON_AddBoolToObject(m, u->id, true);
    } else if (!group_has(g, u->id)) {
        mc_reply_error(r, 404, NULL, "Could not find user: %.64s. User '%.64s' not found in group '%.64s'.", u->id, u->id, g->id);
        return;
    } else if (r->method == EVHTTP_REQ_DELETE) {
        cJSON_DeleteItemFromObjectCaseSensitive(m, u->id);
        mc_auth_revoke_user(r->srv, u->id);
    }
    mc_reply_json(r, 204, NULL);
}

static bool group_has_param_user(mc_req *r, const mc_record *g) { return group_has(g, r->params[0]); }

/* GET /v3/users/{u}/groups: the admin, or the user themself. */
void identity_user_groups(mc_req *r) {
    if (!may_admin(r) && !mc_str_eq(r->tok->user_id, r->params[0])) {
        reply_forbidden(r, "identity:list_groups_for_user");
        return;
    }
    if (find_or_reply(r, MC_K_USER, "user", r->params[0]) == NULL) return;
    list_kind(r, MC_K_GROUP, "groups", group_has_param_user);
}

/* ---------------------------------------------------------------- roles */

static const char *const role_fields[] = {"name", "description", "options", NULL};

static bool role_in_listed_domain(mc_req *r, const mc_record *x) {
    /* Keystone lists global roles unless ?domain_id asks for a domain's */
    return mc_query(r, "domain_id") != NULL || !role_is_domain_specific(x);
}

void identity_role_list(mc_req *r) { list_kind(r, MC_K_ROLE, "roles", role_in_listed_domain); }

static const id_kind K_ROLE = {MC_K_ROLE, "role", "name=s|description=S|domain_id=S64|options=o", 255, true, true, 404,
                               "Duplicate entry found with name ", false};

void identity_role_create(mc_req *r) {
    const char *name;
    const cJSON *in = idkind_body_or_reply(r, &K_ROLE, &name);
    if (in == NULL) return;
    const char *domain_id = mc_json_str(in, "domain_id");   /* none: a global role */
    if (idkind_domain_or_reply(r, &K_ROLE, name, domain_id) != 0) return;
    char id[33];
    cJSON *doc = new_doc(r, id);
    cJSON_AddStringToObject(doc, "name", name);
    if (domain_id) cJSON_AddStringToObject(doc, "domain_id", domain_id); else cJSON_AddNullToObject(doc, "domain_id");
    cJSON_AddNullToObject(doc, "description");
    cJSON_AddItemToObject(doc, "options", cJSON_CreateObject());
    merge_fields(doc, in, role_fields);
    show_one(r, 201, "role", "roles", mc_store_add(ST(r->srv, MC_K_ROLE), id, "", doc));
}

void identity_role_update(mc_req *r) {
    mc_record *x;
    const cJSON *in = idkind_update_or_reply(r, &K_ROLE, "name=s255|description=S|domain_id=S|options=o", &x);
    if (in == NULL) return;
    merge_fields(x->doc, in, role_fields);
    show_one(r, 200, "role", "roles", x);
}

void identity_role_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_ROLE, "role", r->params[0]);
    if (x == NULL) return;
    role_remove(r->srv, x);
    mc_reply_json(r, 204, NULL);
}

/* ---- implied roles */

static cJSON *role_brief(mc_req *r, const mc_record *x) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", x->id);
    cJSON_AddStringToObject(o, "name", mc_json_str(x->doc, "name"));
    char path[200];
    snprintf(path, sizeof path, "/v3/roles/%s", x->id);
    cJSON *links = links_self(r, path);
    cJSON_DeleteItemFromObjectCaseSensitive(links, "previous");
    cJSON_DeleteItemFromObjectCaseSensitive(links, "next");
    cJSON_AddItemToObject(o, "links", links);
    return o;
}

static cJSON *self_links(mc_req *r, const char *path) {
    cJSON *links = links_self(r, path);
    cJSON_DeleteItemFromObjectCaseSensitive(links, "previous");
    cJSON_DeleteItemFromObjectCaseSensitive(links, "next");
    return links;
}

/* {prior_role: brief, implies: brief or [briefs]} for one prior role. */
static cJSON *inference(mc_req *r, mc_record *prior, const mc_record *one) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "prior_role", role_brief(r, prior));
    if (one != NULL) {
        cJSON_AddItemToObject(o, "implies", role_brief(r, one));
        return o;
    }
    cJSON *arr = cJSON_AddArrayToObject(o, "implies");
    const cJSON *x;
    cJSON_ArrayForEach(x, implies_of(r->srv, prior)) {
        mc_record *imp = mc_store_find(ST(r->srv, MC_K_ROLE), x->valuestring);
        if (imp != NULL) cJSON_AddItemToArray(arr, role_brief(r, imp));
    }
    return o;
}

/* GET /v3/roles/{prior}/implies */
void identity_role_implies_list(mc_req *r) {
    mc_record *prior = find_or_reply(r, MC_K_ROLE, "role", r->params[0]);
    if (prior == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "role_inference", inference(r, prior, NULL));
    cJSON_AddItemToObject(root, "links", self_links(r, r->path));
    mc_reply_json(r, 200, root);
}

/* PUT (201), GET (200), HEAD (204), DELETE (204) /v3/roles/{prior}/implies/{implied}.
 * As Keystone, a rule that closes a loop (a role implying itself included)
 * is stored: Keystone's RoleManager.create_implied_role checks only the
 * prohibited names and global -> domain-specific, and its expansion
 * (add_implied_roles) stops where a role was already reached, as
 * add_implied does here. */
void identity_role_implies(mc_req *r) {
    mc_record *prior = find_or_reply(r, MC_K_ROLE, "role", r->params[0]);
    if (prior == NULL) return;
    mc_record *implied = find_or_reply(r, MC_K_ROLE, "role", r->params[1]);
    if (implied == NULL) return;
    bool have = implies_has(r->srv, prior, implied->id);
    int status = 200;
    if (r->method == EVHTTP_REQ_PUT) {
        if (mc_str_eq(mc_json_str(implied->doc, "name"), "admin") ||
            (!role_is_domain_specific(prior) && role_is_domain_specific(implied))) {
            mc_reply_error(r, 403, NULL, "%s cannot be an implied roles.", implied->id);
            return;
        }
        if (!have) cJSON_AddItemToArray(implies_of(r->srv, prior), cJSON_CreateString(implied->id));
        status = 201;
    } else if (!have) {
        mc_reply_error(r, 404, NULL, "%s does not imply %s.", prior->id, implied->id);
        return;
    } else if (r->method == EVHTTP_REQ_DELETE || r->method == EVHTTP_REQ_HEAD) {
        if (r->method == EVHTTP_REQ_DELETE) {
            cJSON *imp = implies_of(r->srv, prior);
            for (int i = cJSON_GetArraySize(imp) - 1; i >= 0; i--)
                if (mc_str_eq(cJSON_GetArrayItem(imp, i)->valuestring, implied->id)) cJSON_DeleteItemFromArray(imp, i);
        }
        mc_reply_json(r, 204, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "role_inference", inference(r, prior, implied));
    cJSON_AddItemToObject(root, "links", self_links(r, r->path));
    mc_reply_json(r, status, root);
}

/* GET /v3/role_inferences: every prior role with its implied roles. */
void identity_role_inferences(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "role_inferences");
    for (mc_record *x = mc_store_first(ST(r->srv, MC_K_ROLE)); x; x = mc_store_next(x))
        if (cJSON_GetArraySize(implies_of(r->srv, x)) > 0) cJSON_AddItemToArray(arr, inference(r, x, NULL));
    cJSON_AddItemToObject(root, "links", self_links(r, "/v3/role_inferences"));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- grants */

typedef struct {
    bool group;          /* the actor is a group (else a user) */
    const char *scope;   /* "project", "domain" or "system" */
    bool inherited;      /* OS-INHERIT ... /inherited_to_projects */
} grant_kind;

static const grant_kind G_PU = {false, "project", false}, G_PG = {true, "project", false};
static const grant_kind G_DU = {false, "domain", false}, G_DG = {true, "domain", false};
static const grant_kind G_SU = {false, "system", false}, G_SG = {true, "system", false};
static const grant_kind G_IDU = {false, "domain", true}, G_IDG = {true, "domain", true};
static const grant_kind G_IPU = {false, "project", true}, G_IPG = {true, "project", true};

/* Resolves the path's target, actor and (when 'with_role') role; 0, or -1
 * after a 404. System paths have no target parameter. */
static int grant_parts_or_reply(mc_req *r, const grant_kind *k, bool with_role, const char **target,
                                mc_record **actor, mc_record **role) {
    int i = 0;
    *target = sys_target;
    if (strcmp(k->scope, "system") != 0) {
        bool dom = strcmp(k->scope, "domain") == 0;
        mc_record *t = find_or_reply(r, dom ? MC_K_DOMAIN : MC_K_PROJECT, k->scope, r->params[i++]);
        if (t == NULL) return -1;
        *target = t->id;
    }
    *actor = find_or_reply(r, k->group ? MC_K_GROUP : MC_K_USER, k->group ? "group" : "user", r->params[i++]);
    if (*actor == NULL) return -1;
    if (with_role) {
        *role = find_or_reply(r, MC_K_ROLE, "role", r->params[i]);
        if (*role == NULL) return -1;
    }
    return 0;
}

static void grant(mc_req *r, const grant_kind *k) {
    const char *target;
    mc_record *actor, *role;
    if (grant_parts_or_reply(r, k, true, &target, &actor, &role) != 0) return;
    char key[256];
    assignment_key(key, sizeof key, k->group, actor->id, target, role->id, k->inherited);
    mc_record *a = mc_store_find(ST(r->srv, MC_K_ASSIGNMENT), key);
    if (r->method == EVHTTP_REQ_PUT) {
        idadm_assignment_add(r->srv, k->group, actor->id, k->scope, target, role->id, k->inherited);
    } else if (a == NULL) {
        mc_reply_error(r, 404, NULL, "Could not find role assignment with role: %s, %s: %s, %s: %s.", role->id,
                       k->group ? "group" : "user", actor->id, k->scope, target);
        return;
    } else if (r->method == EVHTTP_REQ_DELETE) {
        mc_store_delete(ST(r->srv, MC_K_ASSIGNMENT), a);
        if (!k->group) {
            revoke_scoped(r->srv, actor->id, k->scope, target, k->inherited);
        } else {
            const cJSON *m;
            cJSON_ArrayForEach(m, mc_json_obj(actor->doc, "_users")) revoke_scoped(r->srv, m->string, k->scope, target, k->inherited);
        }
    }
    mc_reply_json(r, 204, NULL);
}

static void grants_list(mc_req *r, const grant_kind *k) {
    const char *target;
    mc_record *actor, *role;
    if (grant_parts_or_reply(r, k, false, &target, &actor, &role) != 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "roles");
    for (mc_record *a = mc_store_first(ST(r->srv, MC_K_ASSIGNMENT)); a; a = mc_store_next(a)) {
        if (!mc_str_eq(mc_json_str(a->doc, k->group ? "group_id" : "user_id"), actor->id) ||
            !mc_str_eq(a_target(a), target) || !mc_str_eq(a_scope(a), k->scope) || a_inherited(a) != k->inherited)
            continue;
        mc_record *x = mc_store_find(ST(r->srv, MC_K_ROLE), a_role(a));
        if (x != NULL) cJSON_AddItemToArray(arr, public_view(r, x, "roles"));
    }
    cJSON_AddItemToObject(root, "links", links_self(r, r->path));
    mc_reply_json(r, 200, root);
}

void identity_grant_pu(mc_req *r) { grant(r, &G_PU); }
void identity_grant_pg(mc_req *r) { grant(r, &G_PG); }
void identity_grant_du(mc_req *r) { grant(r, &G_DU); }
void identity_grant_dg(mc_req *r) { grant(r, &G_DG); }
void identity_grant_su(mc_req *r) { grant(r, &G_SU); }
void identity_grant_sg(mc_req *r) { grant(r, &G_SG); }
void identity_grant_idu(mc_req *r) { grant(r, &G_IDU); }
void identity_grant_idg(mc_req *r) { grant(r, &G_IDG); }
void identity_grant_ipu(mc_req *r) { grant(r, &G_IPU); }
void identity_grant_ipg(mc_req *r) { grant(r, &G_IPG); }
void identity_grants_pu(mc_req *r) { grants_list(r, &G_PU); }
void identity_grants_pg(mc_req *r) { grants_list(r, &G_PG); }
void identity_grants_du(mc_req *r) { grants_list(r, &G_DU); }
void identity_grants_dg(mc_req *r) { grants_list(r, &G_DG); }
void identity_grants_su(mc_req *r) { grants_list(r, &G_SU); }
void identity_grants_sg(mc_req *r) { grants_list(r, &G_SG); }
void identity_grants_idu(mc_req *r) { grants_list(r, &G_IDU); }
void identity_grants_idg(mc_req *r) { grants_list(r, &G_IDG); }

/* ---------------------------------------------------------------- role assignments */

typedef struct {
    const char *user, *group, *role, *project, *domain;
    bool system, effective, names, subtree, inherited_only;
    cJSON *out;
} ra_query;

/* {id, name, domain: {id, name}} when names are asked for, {id} otherwise. */
static cJSON *ra_ref(mc_req *r, const ra_query *q, mc_kind kind, const char *id) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    if (!q->names) return o;
    mc_record *x = mc_store_find(ST(r->srv, kind), id);
    cJSON_AddStringToObject(o, "name", x ? mc_json_str(x->doc, "name") : "");
    const char *dom = x ? mc_json_str(x->doc, "domain_id") : NULL;
    if (kind != MC_K_DOMAIN && dom != NULL) {
        mc_record *d = mc_store_find(ST(r->srv, MC_K_DOMAIN), dom);
        cJSON *dref = cJSON_AddObjectToObject(o, "domain");
        cJSON_AddStringToObject(dref, "id", dom);
        cJSON_AddStringToObject(dref, "name", d ? mc_json_str(d->doc, "name") : "");
    }
    return o;
}

static bool project_in_subtree(mc_server *srv, const char *root, const char *pid) {
    if (mc_str_eq(root, pid)) return true;
    mc_record *p = mc_store_find(ST(srv, MC_K_PROJECT), pid);
    return p != NULL && project_below(srv, root, p);
}

/* The raw assignment's URL (links.assignment). */
static void assignment_url(mc_req *r, const mc_record *a, char *url, size_t n) {
    const char *uid = mc_json_str(a->doc, "user_id");
    const char *actor = uid ? uid : mc_json_str(a->doc, "group_id");
    const char *scope = a_scope(a);
    if (mc_str_eq(scope, "system"))
        snprintf(url, n, "%s/identity/v3/system/%s/%s/roles/%s", r->srv->public_url, uid ? "users" : "groups", actor,
                 a_role(a));
    else
        snprintf(url, n, "%s/identity/v3/%s%ss/%s/%s/%s/roles/%s%s", r->srv->public_url,
                 a_inherited(a) ? "OS-INHERIT/" : "", scope, a_target(a), uid ? "users" : "groups", actor, a_role(a),
                 a_inherited(a) ? "/inherited_to_projects" : "");
}

/* Adds one assignment line when it passes the filters. 'user' is the
 * effective user (NULL: the raw actor); 'scope'/'target' where it applies;
 * 'prior' the role that implied 'role_id' (NULL: none). */
static void ra_emit(mc_req *r, ra_query *q, const mc_record *a, const char *user, const char *scope,
                    const char *target, const char *role_id, const char *prior) {
    const char *uid = user ? user : mc_json_str(a->doc, "user_id");
    const char *gid = user ? NULL : mc_json_str(a->doc, "group_id");
    bool inh_raw = !q->effective && a_inherited(a);
    if (q->user && !mc_str_eq(q->user, uid)) return;
    if (q->group && !mc_str_eq(q->group, gid)) return;
    if (q->role && !mc_str_eq(q->role, role_id)) return;
    if (q->inherited_only && !a_inherited(a)) return;
    if (q->system && strcmp(scope, "system") != 0) return;
    if (q->domain && !(mc_str_eq(scope, "domain") && mc_str_eq(target, q->domain))) return;
    if (q->project && !(mc_str_eq(scope, "project") &&
                        (q->subtree ? project_in_subtree(r->srv, q->project, target) : mc_str_eq(target, q->project))))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "role", ra_ref(r, q, MC_K_ROLE, role_id));
    if (uid != NULL) cJSON_AddItemToObject(o, "user", ra_ref(r, q, MC_K_USER, uid));
    else cJSON_AddItemToObject(o, "group", ra_ref(r, q, MC_K_GROUP, gid));
    cJSON *so = cJSON_AddObjectToObject(o, "scope");
    if (strcmp(scope, "system") == 0) {
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(so, "system"), "all", true);
    } else {
        cJSON_AddItemToObject(so, scope, ra_ref(r, q, strcmp(scope, "domain") == 0 ? MC_K_DOMAIN : MC_K_PROJECT, target));
        if (inh_raw) cJSON_AddStringToObject(so, "OS-INHERIT:inherited_to", "projects");
    }
    cJSON *links = cJSON_AddObjectToObject(o, "links");
    char url[700];
    assignment_url(r, a, url, sizeof url);
    cJSON_AddStringToObject(links, "assignment", url);
    const char *agid = mc_json_str(a->doc, "group_id");
    if (user != NULL && agid != NULL) {
        snprintf(url, sizeof url, "%s/identity/v3/groups/%s/users/%s", r->srv->public_url, agid, user);
        cJSON_AddStringToObject(links, "membership", url);
    }
    if (prior != NULL) {
        snprintf(url, sizeof url, "%s/identity/v3/roles/%s/implies/%s", r->srv->public_url, prior, role_id);
        cJSON_AddStringToObject(links, "prior_role", url);
    }
    cJSON_AddItemToArray(q->out, o);
}

/* The effective lines of one assignment: its users (a group's members),
 * its projects (an inherited one's), its roles (with implied ones). */
static void ra_effective(mc_req *r, ra_query *q, const mc_record *a) {
    mc_server *srv = r->srv;
    cJSON *users = cJSON_CreateArray();
    const char *uid = mc_json_str(a->doc, "user_id");
    if (uid != NULL) {
        cJSON_AddItemToArray(users, cJSON_CreateString(uid));
    } else {
        mc_record *g = mc_store_find(ST(srv, MC_K_GROUP), mc_json_str(a->doc, "group_id"));
        const cJSON *m;
        if (g != NULL) cJSON_ArrayForEach(m, mc_json_obj(g->doc, "_users")) cJSON_AddItemToArray(users, cJSON_CreateString(m->string));
    }
    cJSON *targets = cJSON_CreateArray();
    const char *scope = a_scope(a);
    if (!a_inherited(a)) {
        cJSON_AddItemToArray(targets, cJSON_CreateString(a_target(a)));
    } else {
        for (mc_record *p = mc_store_first(ST(srv, MC_K_PROJECT)); p; p = mc_store_next(p))
            if (mc_str_eq(scope, "domain") ? mc_str_eq(mc_json_str(p->doc, "domain_id"), a_target(a))
                                           : project_below(srv, a_target(a), p))
                cJSON_AddItemToArray(targets, cJSON_CreateString(p->id));
        scope = "project";
    }
    cJSON *roles = cJSON_CreateArray();
    add_implied_top(srv, roles, mc_store_find(ST(srv, MC_K_ROLE), a_role(a)));
    const cJSON *u, *t, *ro;
    cJSON_ArrayForEach(u, users) cJSON_ArrayForEach(t, targets) cJSON_ArrayForEach(ro, roles)
        ra_emit(r, q, a, u->valuestring, scope, t->valuestring, mc_json_str(ro, "id"), mc_json_str(ro, "_prior"));
    cJSON_Delete(users);
    cJSON_Delete(targets);
    cJSON_Delete(roles);
}

static bool query_flag(mc_req *r, const char *key) {
    const char *v = mc_query(r, key);
    bool b = true;
    return v != NULL && (v[0] == '\0' || !mc_str_bool(v, &b) || b);
}

void identity_role_assignments(mc_req *r) {
    ra_query q = {0};
    q.user = mc_query(r, "user.id");
    q.group = mc_query(r, "group.id");
    q.role = mc_query(r, "role.id");
    q.project = mc_query(r, "scope.project.id");
    q.domain = mc_query(r, "scope.domain.id");
    q.system = mc_query(r, "scope.system") != NULL;
    q.effective = query_flag(r, "effective");
    q.names = query_flag(r, "include_names");
    q.subtree = query_flag(r, "include_subtree");
    q.inherited_only = mc_query(r, "scope.OS-INHERIT:inherited_to") != NULL;
    if (!may_admin(r) && !(q.user != NULL && mc_str_eq(q.user, r->tok->user_id))) {
        reply_forbidden(r, "identity:list_role_assignments");
        return;
    }
    if (q.effective && q.group != NULL) {
        mc_reply_error(r, 400, NULL, "Combining effective and group filter will always result in an empty list.");
        return;
    }
    if ((q.project != NULL) + (q.domain != NULL) + q.system > 1) {
        mc_reply_error(r, 400, NULL, "Specify one of domain, project or system scope, not more.");
        return;
    }
    if (q.subtree && q.project == NULL) {
        mc_reply_error(r, 400, NULL, "scope.project.id needs to be specified if include_subtree is also specified.");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    q.out = cJSON_AddArrayToObject(root, "role_assignments");
    for (mc_record *a = mc_store_first(ST(r->srv, MC_K_ASSIGNMENT)); a; a = mc_store_next(a)) {
        if (q.effective)
            ra_effective(r, &q, a);
        else
            ra_emit(r, &q, a, NULL, a_scope(a), a_target(a), a_role(a), NULL);
    }
    cJSON_AddItemToObject(root, "links", links_self(r, "/v3/role_assignments"));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- project tags */

/* Keystone's tag rules: a string of 1 to 255 characters without '/' or ','. */
static bool tag_valid(const char *t) {
    return t != NULL && t[0] != '\0' && strlen(t) <= 255 && strchr(t, '/') == NULL && strchr(t, ',') == NULL;
}

static cJSON *project_tags(mc_record *p) {
    cJSON *tags = mc_json_arr(p->doc, "tags");
    if (tags == NULL) {
        tags = cJSON_CreateArray();
        mc_json_set(p->doc, "tags", tags);
    }
    return tags;
}

static int tag_index(const cJSON *tags, const char *tag) {
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, tags) {
        if (cJSON_IsString(x) && mc_str_eq(x->valuestring, tag)) return i;
        i++;
    }
    return -1;
}

/* The project of the path, readable by an admin or a token scoped to it. */
static mc_record *tags_project_or_reply(mc_req *r) {
    mc_record *p = find_or_reply(r, MC_K_PROJECT, "project", r->params[0]);
    if (p == NULL) return NULL;
    bool write = r->method == EVHTTP_REQ_PUT || r->method == EVHTTP_REQ_DELETE;
    if (!may_admin(r) && (write || !mc_str_eq(r->tok->project_id, p->id))) {
        reply_forbidden(r, write ? "identity:update_project_tags" : "identity:get_project_tag");
        return NULL;
    }
    return p;
}

/* GET (list), PUT (replace all: {"tags": [...]}), DELETE (all) /v3/projects/{p}/tags */
void identity_project_tags(mc_req *r) {
    mc_record *p = tags_project_or_reply(r);
    if (p == NULL) return;
    if (r->method == EVHTTP_REQ_PUT) {
        cJSON *in = mc_json_arr(r->body, "tags");
        if (in == NULL || cJSON_GetArraySize(in) > 80) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'tags': an array of at most 80 tags is required.");
            return;
        }
        const cJSON *x;
        cJSON_ArrayForEach(x, in) if (!cJSON_IsString(x) || !tag_valid(x->valuestring)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'tags': a tag is a string of 1 to 255 characters without '/' or ','.");
            return;
        }
        mc_json_set(p->doc, "tags", cJSON_Duplicate(in, 1));
    } else if (r->method == EVHTTP_REQ_DELETE) {
        mc_json_set(p->doc, "tags", cJSON_CreateArray());
        mc_reply_json(r, 204, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "tags", cJSON_Duplicate(project_tags(p), 1));
    cJSON_AddItemToObject(root, "links", self_links(r, r->path));
    mc_reply_json(r, 200, root);
}

/* PUT (add, 201), GET/HEAD (204 or 404), DELETE /v3/projects/{p}/tags/{tag} */
void identity_project_tag(mc_req *r) {
    mc_record *p = tags_project_or_reply(r);
    if (p == NULL) return;
    const char *tag = r->params[1];
    cJSON *tags = project_tags(p);
    int i = tag_index(tags, tag);
    if (r->method == EVHTTP_REQ_PUT) {
        if (!tag_valid(tag)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'tags': a tag is a string of 1 to 255 characters without '/' or ','.");
            return;
        }
        if (i < 0 && cJSON_GetArraySize(tags) >= 80) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'tags': a project has at most 80 tags.");
            return;
        }
        if (i < 0) cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
        mc_reply_json(r, 201, NULL);
        return;
    }
    if (i < 0) {
        mc_reply_error(r, 404, NULL, "Tag %.255s was not found on project %.64s.", tag, p->id);
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) cJSON_DeleteItemFromArray(tags, i);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- fixtures */

int idadm_seed_groups(mc_server *srv, const cJSON *fx, char *err, size_t errsz) {
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(fx, "groups")) {
        const char *id = mc_json_str(x, "id"), *name = mc_json_str(x, "name"), *dom = mc_json_str(x, "domain_id");
        if (id == NULL || name == NULL || dom == NULL) {
            snprintf(err, errsz, "every group needs 'id', 'name' and 'domain_id'");
            return -1;
        }
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "id", id);
        cJSON_AddStringToObject(doc, "name", name);
        const char *desc = mc_json_str(x, "description");
        cJSON_AddStringToObject(doc, "description", desc ? desc : "");
        cJSON_AddStringToObject(doc, "domain_id", dom);
        mc_record *g = mc_store_add(ST(srv, MC_K_GROUP), id, "", doc);
        if (g == NULL) {
            cJSON_Delete(doc);
            snprintf(err, errsz, "duplicate group id '%.64s'", id);
            return -1;
        }
        const cJSON *m;
        cJSON_ArrayForEach(m, mc_json_arr(x, "users")) {
            mc_record *u = NULL;
            for (mc_record *y = mc_store_first(ST(srv, MC_K_USER)); y && u == NULL; y = mc_store_next(y))
                if (cJSON_IsString(m) && mc_str_eq(mc_json_str(y->doc, "name"), m->valuestring) &&
                    mc_str_eq(mc_json_str(y->doc, "domain_id"), dom))
                    u = y;
            if (u == NULL) {
                snprintf(err, errsz, "group '%.64s' names an unknown user", id);
                return -1;
            }
            if (!group_has(g, u->id)) cJSON_AddBoolToObject(group_members(g), u->id, true);
        }
    }
    return 0;
}
