/* identity.c -- Keystone v3: versions, tokens, the service catalog, and the
 * read (and admin write) APIs for domains, projects, users, roles, role
 * assignments and application credentials.
 *
 * Records: domains, projects, users, roles and application credentials are
 * stored with their API shape in 'doc'; a user's password (and an
 * application credential's secret) lives in 'priv' and never reaches a
 * reply. Role assignments are records keyed "<user>:<project|domain>:<role>",
 * and roles imply one another as Keystone's default roles do (admin ->
 * member -> reader). The catalog is built from the server's public URL, the
 * single source of every URL mockcloud hands out. */
#include "fixtures.h"
#include "identity_int.h"
#include "journal.h"
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#define W(r, k) (&(r)->srv->world[k])

typedef struct user_priv {
    char *password;
    int failures;            /* consecutive failed logins */
    double last_failure;     /* when the last one was counted */
    cJSON *history;          /* previous passwords, newest first */
    double password_changed;
} user_priv;

static void user_priv_free(void *p) {
    user_priv *u = p;
    free(u->password);
    cJSON_Delete(u->history);
    free(u);
}

static void secret_free(void *p) { free(p); }

/* ---------------------------------------------------------------- lookups */

mc_record *find_domain(mc_server *srv, const cJSON *ref) {
    const char *id = mc_json_str(ref, "id");
    const char *name = mc_json_str(ref, "name");
    if (id != NULL) return mc_store_find(&srv->world[MC_K_DOMAIN], id);
    if (name == NULL) return NULL;
    for (mc_record *d = mc_store_first(&srv->world[MC_K_DOMAIN]); d; d = mc_store_next(d))
        if (mc_str_eq(mc_json_str(d->doc, "name"), name)) return d;
    return NULL;
}

static mc_record *find_by_name_in_domain(mc_server *srv, mc_kind kind, const cJSON *ref) {
    const char *id = mc_json_str(ref, "id");
    if (id != NULL) return mc_store_find(&srv->world[kind], id);
    const char *name = mc_json_str(ref, "name");
    cJSON *dref = mc_json_obj(ref, "domain");
    if (name == NULL || dref == NULL) return NULL;
    mc_record *dom = find_domain(srv, dref);
    if (dom == NULL) return NULL;
    for (mc_record *x = mc_store_first(&srv->world[kind]); x; x = mc_store_next(x))
        if (mc_str_eq(mc_json_str(x->doc, "name"), name) &&
            mc_str_eq(mc_json_str(x->doc, "domain_id"), dom->id))
            return x;
    return NULL;
}

static mc_record *find_role_by_name(mc_server *srv, const char *name) {
    return idadm_role_by_name(srv, name);
}

/* Adds role 'role' and every role it implies to 'roles' (an array of
 * {id,name}), skipping duplicates. */
static void add_role_implied(mc_server *srv, cJSON *roles, mc_record *role) {
    idadm_add_role_implied(srv, roles, role);
}

/* The effective roles of a user on a target (project or domain id): direct,
 * through groups, inherited, implied (identity_admin.c); an empty array
 * when none. */
static cJSON *effective_roles(mc_server *srv, const char *user_id, const char *target) {
    return idadm_effective_roles(srv, user_id, target);
}

static cJSON *domain_ref(mc_server *srv, const char *domain_id) {
    cJSON *o = cJSON_CreateObject();
    mc_record *d = mc_store_find(&srv->world[MC_K_DOMAIN], domain_id);
    cJSON_AddStringToObject(o, "id", domain_id ? domain_id : "");
    cJSON_AddStringToObject(o, "name", d ? mc_json_str(d->doc, "name") : "");
    return o;
}

/* Deletes the credentials whose 'key' (user_id, project_id) is 'value'. */
void credentials_delete_where(mc_server *srv, const char *key, const char *value) {
    mc_record *c = mc_store_first(&srv->world[MC_K_CREDENTIAL]);
    while (c != NULL) {
        mc_record *next = mc_store_next(c);
        if (mc_str_eq(mc_json_str(c->doc, key), value)) mc_store_delete(&srv->world[MC_K_CREDENTIAL], c);
        c = next;
    }
}

/* ---------------------------------------------------------------- catalog */

static const char *region_name(mc_server *srv) {
    mc_record *reg = mc_store_first(&srv->world[MC_K_REGION]);
    return reg ? reg->id : "RegionOne";
}

/* The catalog's printed text is cached in the identity state: a token issue
 * or validation spliced it in raw instead of building, printing and freeing
 * ~100 nodes (~40% of a token reply). The key (identity_catalog_key) holds
 * every per-request input of the build (public URL, the catalog knobs as
 * read, the project id when a URL carries it), read through the same knob
 * calls so the reply notes the same deviations; a profile switch or a
 * --deviate changes the key, a change to regions, services or endpoints or a
 * reset drops it. No cache when a body rewrite or time rule could reach into
 * the catalog's tree. */
/* The catalog for a reply: the cached printed text as a raw node when the
 * key allows it (same bytes as build_catalog printed: no numbers, so
 * mc_json_print's integer pass has nothing to do), the tree otherwise. The
 * node borrows the cached text (mc_json_raw_ref), which the next call with
 * another key replaces: one call per reply. */
static const char *catalog_text(mc_req *r, const char *project_id) {
    char key[1024];
    if (!identity_catalog_key(r, project_id, key, sizeof key)) return NULL;
    cJSON *st = r->srv->svc_state[MC_IDENTITY];
    if (st == NULL) {
        st = cJSON_CreateObject();
        if (st == NULL) mc_panic("out of memory");
        r->srv->svc_state[MC_IDENTITY] = st;
    }
    const char *k = mc_json_str(st, "_catalog_key"), *text = mc_json_str(st, "_catalog");
    if (k == NULL || text == NULL || strcmp(k, key) != 0) {
        cJSON *cat = identity_catalog_build(r, project_id);
        char *printed = cJSON_PrintUnformatted(cat);
        cJSON_Delete(cat);
        if (printed == NULL) mc_panic("out of memory");
        mc_json_set_str(st, "_catalog_key", key);
        mc_json_set_str(st, "_catalog", printed);
        cJSON_free(printed);
        text = mc_json_str(st, "_catalog");
        if (text == NULL) mc_panic("out of memory");
    }
    return text;
}

static cJSON *catalog_json(mc_req *r, const char *project_id) {
    const char *text = catalog_text(r, project_id);
    return text != NULL ? mc_json_raw_ref(text) : identity_catalog_build(r, project_id);
}

/* A token reply straight from the token's stored text (no parse, no tree,
 * no second print): with the catalog, its cached text goes in as the
 * token's last member, where the tree path adds it, so the bytes are those
 * cJSON prints for the tree (test_identity.c token_reply_splice_*). NULL
 * when the catalog cache is off or a body rule could reach into the tree:
 * then build the tree. */
static cJSON *token_body_text(mc_req *r, const mc_token *t, bool catalog) {
    if (mc_profile_rewrites_bodies(r->srv) || t->body_text == NULL) return NULL;
    if (!catalog) return mc_json_raw_ref(t->body_text);
    size_t bl = strlen(t->body_text);
    if (bl < 2 || strcmp(t->body_text + bl - 2, "}}") != 0 || t->body_text[bl - 3] == '{') return NULL;
    const char *cat = catalog_text(r, t->project_id);
    if (cat == NULL) return NULL;
    static const char member[] = ",\"catalog\":";
    size_t cl = strlen(cat), ml = sizeof member - 1;
    char *s = cJSON_malloc(bl + ml + cl + 1);
    if (s == NULL) mc_panic("out of memory");
    memcpy(s, t->body_text, bl - 2);
    memcpy(s + bl - 2, member, ml);
    memcpy(s + bl - 2 + ml, cat, cl);
    memcpy(s + bl - 2 + ml + cl, "}}", 3);
    return mc_json_raw_take(s);
}

/* ---------------------------------------------------------------- versions */

static cJSON *v3_version(mc_server *srv) {
    cJSON *v = cJSON_CreateObject();
    char url[400];
    cJSON_AddStringToObject(v, "id", "v3.14");
    cJSON_AddStringToObject(v, "status", "stable");
    cJSON_AddStringToObject(v, "updated", "2020-04-07T00:00:00Z");
    mc_service_url(srv, "/identity/v3/", url, sizeof url);
    mc_json_add_link(cJSON_AddArrayToObject(v, "links"), "self", url);
    mc_json_add_media_type(v, "application/vnd.openstack.identity-v3+json");
    return v;
}

static void identity_versions(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *versions = cJSON_AddObjectToObject(root, "versions");
    cJSON *values = cJSON_AddArrayToObject(versions, "values");
    cJSON_AddItemToArray(values, v3_version(r->srv));
    mc_reply_json(r, 300, root);
}

static void identity_v3(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "version", v3_version(r->srv));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- tokens */

static void reply_401(mc_req *r, const char *msg) {
    mc_reply_error(r, 401, NULL, "%s", msg ? msg : "The request you have made requires authentication.");
}

/* Keystone's [security_compliance] options, copied from fixtures/identity.json
 * ("security_compliance") into every user's doc as private "_" keys when the
 * user is created (fixture or API), so a user carries the policy it is
 * checked against. Absent keys mean Keystone's defaults: no lockout, lockout
 * duration 1800 s (0 = locked until re-enabled), no password history. */
static const char *const compliance_keys[] = {"lockout_failure_attempts", "lockout_duration",
                                              "unique_last_password_count", NULL};

static long user_policy(const mc_record *user, const char *key, long dflt) {
    char k[64];
    snprintf(k, sizeof k, "_%s", key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(user->doc, k);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : dflt;
}

static void user_apply_policy(mc_server *srv, mc_record *user) {
    const cJSON *sc = srv->svc_state[MC_IDENTITY];
    for (int i = 0; sc != NULL && compliance_keys[i] != NULL; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(sc, compliance_keys[i]);
        if (!cJSON_IsNumber(v)) continue;
        char k[64];
        snprintf(k, sizeof k, "_%s", compliance_keys[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(user->doc, k);
        cJSON_AddNumberToObject(user->doc, k, v->valuedouble);
    }
}

typedef enum { PW_OK, PW_WRONG, PW_LOCKED, PW_DISABLED } pw_result;

/* Keystone's identity driver authenticate(): a locked account is refused
 * before the password is looked at (and the attempt is not counted); a wrong
 * password counts a failure; success clears the count. The lock ends
 * lockout_duration seconds after the last counted failure (never when 0),
 * and the user option ignore_lockout_failure_attempts exempts the user. */
static pw_result check_password(mc_record *user, const char *password) {
    user_priv *up = user->priv;
    long max = user_policy(user, "lockout_failure_attempts", 0);
    long duration = user_policy(user, "lockout_duration", 1800);
    bool exempt = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mc_json_obj(user->doc, "options"),
                                                                "ignore_lockout_failure_attempts"));
    double now = mc_now();
    if (max > 0 && !exempt && up->failures >= max) {
        if (duration <= 0 || up->last_failure + (double)duration > now) return PW_LOCKED;
        up->failures = 0;
    }
    if (up->password == NULL || !mc_str_eq(up->password, password)) {
        up->failures++;
        up->last_failure = now;
        return PW_WRONG;
    }
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(user->doc, "enabled"))) return PW_DISABLED;
    up->failures = 0;
    return PW_OK;
}

static void reply_password_failure(mc_req *r, const mc_record *user, pw_result res) {
    if (res == PW_LOCKED)
        mc_reply_error(r, 401, NULL, "The account is locked for user: %s.", user->id);
    else
        reply_401(r, NULL);
}

/* Checks a password login; replies 401 and returns NULL on failure. Counts
 * failures for the lockout policy. */
static mc_record *password_user_or_reply(mc_req *r, const cJSON *pw) {
    cJSON *u = mc_json_obj(pw, "user");
    const char *password = mc_json_str(u, "password");
    if (u == NULL || password == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'identity/password/user': 'password' is a required property");
        return NULL;
    }
    mc_record *user = find_by_name_in_domain(r->srv, MC_K_USER, u);
    if (user == NULL) {
        reply_401(r, "The request you have made requires authentication.");
        return NULL;
    }
    pw_result res = check_password(user, password);
    if (res != PW_OK) {
        reply_password_failure(r, user, res);
        return NULL;
    }
    if (!idadm_domain_enabled(r->srv, mc_json_str(user->doc, "domain_id"))) {
        reply_401(r, NULL);   /* Keystone: the user's domain is disabled */
        return NULL;
    }
    return user;
}

static cJSON *user_ref(mc_server *srv, mc_record *user) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "domain", domain_ref(srv, mc_json_str(user->doc, "domain_id")));
    cJSON_AddStringToObject(o, "id", user->id);
    cJSON_AddStringToObject(o, "name", mc_json_str(user->doc, "name"));
    cJSON_AddNullToObject(o, "password_expires_at");
    return o;
}

static void set_role_flags(mc_token *t, const cJSON *roles) {
    const cJSON *x;
    cJSON_ArrayForEach(x, roles) {
        const char *n = mc_json_str(x, "name");
        if (mc_str_eq(n, "admin")) t->admin = true;
        if (mc_str_eq(n, "member")) t->member = true;
        if (mc_str_eq(n, "reader")) t->reader = true;
    }
}

/* The token's body as Keystone prints it, without the catalog: methods,
 * user, audit ids, expiry, issue time, scope (project, domain or system),
 * roles (consumed; NULL when unscoped), the application credential and the
 * trust ('trust', consumed). The same function builds it at issue and when a
 * token is validated again from its id alone (identity_token_rebuild), so
 * both print the same bytes; it also notes the token's domains for the
 * revocation events by domain. */
static cJSON *token_body(mc_server *srv, mc_token *t, cJSON *methods, mc_record *user, mc_record *project,
                         mc_record *domain, cJSON *roles, const mc_record *cred, cJSON *trust) {
    char ts[40];
    mc_strlcpy(t->user_domain_id, mc_json_str(user->doc, "domain_id") ? mc_json_str(user->doc, "domain_id") : "",
               sizeof t->user_domain_id);
    const char *sd = project ? mc_json_str(project->doc, "domain_id") : domain ? domain->id : NULL;
    mc_strlcpy(t->scope_domain_id, sd ? sd : "", sizeof t->scope_domain_id);
    cJSON *root = cJSON_CreateObject();
    cJSON *tok = cJSON_AddObjectToObject(root, "token");
    cJSON_AddItemToObject(tok, "methods", methods);
    cJSON_AddItemToObject(tok, "user", user_ref(srv, user));
    cJSON *audit = cJSON_AddArrayToObject(tok, "audit_ids");
    cJSON_AddItemToArray(audit, cJSON_CreateString(t->audit_id));
    if (t->audit_parent[0] != '\0') cJSON_AddItemToArray(audit, cJSON_CreateString(t->audit_parent));
    mc_time_keystone(t->expires, ts);
    cJSON_AddStringToObject(tok, "expires_at", ts);
    mc_time_keystone(t->issued, ts);
    cJSON_AddStringToObject(tok, "issued_at", ts);
    if (project != NULL) {
        cJSON *p = cJSON_AddObjectToObject(tok, "project");
        cJSON_AddItemToObject(p, "domain", domain_ref(srv, mc_json_str(project->doc, "domain_id")));
        cJSON_AddStringToObject(p, "id", project->id);
        cJSON_AddStringToObject(p, "name", mc_json_str(project->doc, "name"));
        cJSON_AddBoolToObject(tok, "is_domain", false);
    } else if (domain != NULL) {
        cJSON *d = cJSON_AddObjectToObject(tok, "domain");
        cJSON_AddStringToObject(d, "id", domain->id);
        cJSON_AddStringToObject(d, "name", mc_json_str(domain->doc, "name"));
    } else if (t->system) {
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(tok, "system"), "all", true);
    }
    if (roles != NULL) {
        set_role_flags(t, roles);
        cJSON_AddItemToObject(tok, "roles", roles);
    }
    if (cred != NULL) {
        cJSON *acj = cJSON_AddObjectToObject(tok, "application_credential");
        cJSON_AddStringToObject(acj, "id", cred->id);
        cJSON_AddStringToObject(acj, "name", mc_json_str(cred->doc, "name"));
        cJSON_AddBoolToObject(acj, "restricted", !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cred->doc, "unrestricted")));
    }
    if (trust != NULL) cJSON_AddItemToObject(tok, "OS-TRUST:trust", trust);
    return root;
}

/* An application credential's roles, with the roles they imply. */
static cJSON *appcred_roles(mc_server *srv, const mc_record *cred) {
    cJSON *roles = cJSON_CreateArray();
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(cred->doc, "roles"))
        add_role_implied(srv, roles, mc_store_find(&srv->world[MC_K_ROLE], mc_json_str(x, "id")));
    return roles;
}

/* Builds a token and its body (*body_out, without the catalog); 'methods'
 * and 'roles' are consumed (roles NULL when unscoped). token_reply() stores
 * and sends it. NULL (nothing built) when the methods do not fit a token:
 * Keystone knows no such methods either. */
/* The scope of a token to issue besides a project or domain: the system,
 * or a trust (its "OS-TRUST:trust" object, consumed). */
typedef struct {
    bool system;
    cJSON *trust;
} tok_extra;

static mc_token *issue_token(mc_req *r, mc_record *user, cJSON *methods, mc_record *project,
                             mc_record *domain, cJSON *roles, bool nocatalog, const char *audit_parent,
                             double expires_cap, const mc_record *cred, tok_extra extra, cJSON **body_out) {
    mc_server *srv = r->srv;
    char *mtext = cJSON_PrintUnformatted(methods);
    const char *trust_id = extra.trust ? mc_json_str(extra.trust, "id") : "";
    if (mtext == NULL || strlen(mtext) >= sizeof((mc_token *)0)->methods || strlen(user->id) >= 40 ||
        (project != NULL && strlen(project->id) >= 40) || (domain != NULL && strlen(domain->id) >= 40) ||
        (cred != NULL && strlen(cred->id) >= 40) || trust_id == NULL || strlen(trust_id) >= 40) {
        cJSON_free(mtext);
        cJSON_Delete(methods);
        cJSON_Delete(roles);
        cJSON_Delete(extra.trust);
        return NULL;
    }
    mc_token *t = mc_auth_token_new(srv);
    mc_strlcpy(t->methods, mtext, sizeof t->methods);
    cJSON_free(mtext);
    long long ttl = mc_knob_srv(srv, MC_KNOB_IDENTITY_TOKEN_TTL_S);
    if (ttl > 0) t->expires = t->issued + (double)mc_knob(r, MC_KNOB_IDENTITY_TOKEN_TTL_S);
    if (expires_cap > 0 && expires_cap < t->expires) t->expires = expires_cap;
    /* whole microseconds, as the id carries them */
    t->expires = (double)(long long)(t->expires * 1e6 + 0.5) / 1e6;
    mc_strlcpy(t->user_id, user->id, sizeof t->user_id);
    unsigned char raw[16];
    mc_rand_bytes(srv, raw, sizeof raw);
    mc_b64url(raw, sizeof raw, t->audit_id, sizeof t->audit_id);
    if (audit_parent != NULL) mc_strlcpy(t->audit_parent, audit_parent, sizeof t->audit_parent);
    if (project != NULL) mc_strlcpy(t->project_id, project->id, sizeof t->project_id);
    else if (domain != NULL) mc_strlcpy(t->domain_id, domain->id, sizeof t->domain_id);
    if (cred != NULL) mc_strlcpy(t->appcred_id, cred->id, sizeof t->appcred_id);
    mc_strlcpy(t->trust_id, trust_id, sizeof t->trust_id);
    t->system = extra.system;
    t->catalog = roles != NULL && !nocatalog;
    *body_out = token_body(srv, t, methods, user, project, domain, roles, cred, extra.trust);
    return t;
}

bool identity_token_rebuild(mc_server *srv, mc_token *t) {
    mc_record *user = mc_store_find(&srv->world[MC_K_USER], t->user_id);
    if (user == NULL || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(user->doc, "enabled")) ||
        !idadm_domain_enabled(srv, mc_json_str(user->doc, "domain_id")))
        return false;
    mc_record *project = NULL, *domain = NULL, *cred = NULL;
    cJSON *roles = NULL, *trust = NULL;
    if (t->trust_id[0] != '\0') {
        /* the trust as now: gone (deleted, used up, expired) ends the token */
        trust = identity_trust_token_parts(srv, t->trust_id, t->user_id, &project, &roles);
        if (trust == NULL) return false;
    } else if (t->system) {
        roles = idadm_system_roles(srv, user->id);
        if (cJSON_GetArraySize(roles) == 0) {
            cJSON_Delete(roles);
            return false;
        }
    } else if (t->appcred_id[0] != '\0') {
        cred = mc_store_find(&srv->world[MC_K_APPCRED], t->appcred_id);
        if (cred == NULL) return false;
        project = mc_store_find(&srv->world[MC_K_PROJECT], mc_json_str(cred->doc, "project_id"));
        if (project == NULL) return false;
        roles = appcred_roles(srv, cred);
    } else if (t->project_id[0] != '\0' || t->domain_id[0] != '\0') {
        if (t->project_id[0] != '\0') {
            project = mc_store_find(&srv->world[MC_K_PROJECT], t->project_id);
            if (project == NULL || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(project->doc, "enabled")))
                return false;
        } else if ((domain = mc_store_find(&srv->world[MC_K_DOMAIN], t->domain_id)) == NULL) {
            return false;
        }
        if (!idadm_domain_enabled(srv, project ? mc_json_str(project->doc, "domain_id") : domain->id)) return false;
        roles = effective_roles(srv, user->id, t->project_id[0] ? t->project_id : t->domain_id);
        if (cJSON_GetArraySize(roles) == 0) {
            cJSON_Delete(roles);
            return false;
        }
    }
    cJSON *methods = cJSON_ParseWithLengthOpts(t->methods, strlen(t->methods) + 1, NULL, 1);
    if (methods == NULL) {
        cJSON_Delete(roles);
        cJSON_Delete(trust);
        return false;
    }
    cJSON *body = token_body(srv, t, methods, user, project, domain, roles, cred, trust);
    t->body_text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    return t->body_text != NULL;
}

/* Stores 't' with its body printed (the tree would cost ~16 KB a token with
 * the catalog; the text ~1 KB), then sends 'body' with the catalog, built
 * now as on every validation. Consumes 'body'. */
static void token_reply(mc_req *r, mc_token *t, cJSON *body, int status) {
    t->body_text = cJSON_PrintUnformatted(body);
    if (t->body_text == NULL) mc_panic("out of memory");
    mc_auth_add(r->srv, t);
    cJSON *text = token_body_text(r, t, t->catalog);
    if (text != NULL) {
        cJSON_Delete(body);
        body = text;
    } else if (t->catalog) {
        cJSON_AddItemToObject(mc_json_obj(body, "token"), "catalog", catalog_json(r, t->project_id));
    }
    mc_header_set(r, "X-Subject-Token", t->id);
    mc_reply_json(r, status, body);
}

/* Resolves "scope"; returns 0 with project/domain set (both NULL and
 * *system false = unscoped) or -1 after replying. */
static int scope_or_reply(mc_req *r, const cJSON *scope, mc_record *user, mc_record **project,
                          mc_record **domain, bool *system) {
    *project = NULL;
    *domain = NULL;
    *system = false;
    if (scope == NULL || cJSON_IsString(scope)) {
        const char *dp = mc_json_str(user->doc, "default_project_id");
        if (scope == NULL && dp != NULL) {
            mc_record *p = mc_store_find(&r->srv->world[MC_K_PROJECT], dp);
            cJSON *roles = p ? effective_roles(r->srv, user->id, p->id) : NULL;
            if (roles != NULL && cJSON_GetArraySize(roles) > 0) *project = p;
            cJSON_Delete(roles);
        }
        return 0;
    }
    if (!cJSON_IsObject(scope)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'scope'.");
        return -1;
    }
    cJSON *pref = mc_json_obj(scope, "project");
    cJSON *dref = mc_json_obj(scope, "domain");
    if (pref != NULL) {
        *project = find_by_name_in_domain(r->srv, MC_K_PROJECT, pref);
        if (*project == NULL) {
            reply_401(r, NULL);
            return -1;
        }
        return 0;
    }
    if (dref != NULL) {
        *domain = find_domain(r->srv, dref);
        if (*domain == NULL) {
            reply_401(r, NULL);
            return -1;
        }
        return 0;
    }
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(scope, "system");
    if (sys != NULL) {
        /* Keystone's schema: {"system": {"all": true}}, the only system */
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sys, "all"))) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'scope/system': {\"all\": true} is the only system scope.");
            return -1;
        }
        *system = true;
        return 0;
    }
    mc_reply_error(r, 400, NULL, "Invalid input for field 'scope'.");
    return -1;
}

/* Keystone's auth schema: wrong types are 400s, before any credential is tried. */
static int auth_schema_or_reply(mc_req *r, const cJSON *auth) {
    const cJSON *ident = mc_json_obj(auth, "identity");
    const cJSON *pw = mc_json_obj(ident, "password");
    const cJSON *scope = mc_json_obj(auth, "scope");
    if (mc_check_or_reply(r, auth, "identity=o") != 0 ||
        mc_check_or_reply(r, ident, "methods=r|password=o|token=o|application_credential=o") != 0 ||
        mc_check_or_reply(r, pw, "user=o") != 0 ||
        mc_check_or_reply(r, mc_json_obj(pw, "user"), "id=s|name=s|password=s4096|domain=o") != 0 ||
        mc_check_or_reply(r, mc_json_obj(mc_json_obj(pw, "user"), "domain"), "id=s|name=s") != 0 ||
        mc_check_or_reply(r, scope, "project=o|domain=o|system=o") != 0 ||
        mc_check_or_reply(r, mc_json_obj(scope, "system"), "all=B") != 0 ||
        mc_check_or_reply(r, mc_json_obj(scope, "project"), "id=s|name=s|domain=o") != 0)
        return -1;
    return 0;
}

/* The new token's methods: those of the request and, for the "token"
 * method, those of the token it was given too (Keystone: a password token
 * rescoped has ["token", "password"]). */
static cJSON *token_methods(const cJSON *methods, const mc_token *old) {
    cJSON *out = cJSON_Duplicate(methods, 1);
    cJSON *oldj = old ? mc_auth_token_json(old) : NULL;
    const cJSON *m, *x;
    cJSON_ArrayForEach(m, mc_json_arr(mc_json_obj(oldj, "token"), "methods")) {
        bool have = false;
        cJSON_ArrayForEach(x, out) have |= cJSON_IsString(x) && cJSON_IsString(m) && mc_str_eq(x->valuestring, m->valuestring);
        if (!have) cJSON_AddItemToArray(out, cJSON_Duplicate(m, 1));
    }
    cJSON_Delete(oldj);
    return out;
}

static void identity_token_issue(mc_req *r) {
    cJSON *auth = mc_json_obj(r->body, "auth");
    if (auth_schema_or_reply(r, auth) != 0) return;
    cJSON *ident = mc_json_obj(auth, "identity");
    cJSON *methods = mc_json_arr(ident, "methods");
    if (auth == NULL || ident == NULL || methods == NULL || cJSON_GetArraySize(methods) == 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'identity': 'methods' is a required property");
        return;
    }
    bool nocatalog = mc_query(r, "nocatalog") != NULL;
    const char *method = cJSON_IsString(cJSON_GetArrayItem(methods, 0)) ? cJSON_GetArrayItem(methods, 0)->valuestring : "";
    mc_record *user = NULL, *project = NULL, *domain = NULL;
    const char *audit_parent = NULL;
    const mc_token *rescoped = NULL;   /* the "token" method's token */
    double expires_cap = 0;
    cJSON *scope = cJSON_GetObjectItemCaseSensitive(auth, "scope");

    if (strcmp(method, "password") == 0) {
        user = password_user_or_reply(r, mc_json_obj(ident, "password"));
        if (user == NULL) return;
    } else if (strcmp(method, "token") == 0) {
        const char *id = mc_json_str(mc_json_obj(ident, "token"), "id");
        const mc_token *old = mc_auth_lookup(r->srv, id);
        if (old == NULL) {
            /* Keystone: an unknown, expired or revoked token given as the
             * "token" method is TokenNotFound, a 404 (not a 401). */
            mc_reply_error(r, 404, NULL, "Could not find token: %.64s.", id ? id : "");
            return;
        }
        user = mc_store_find(&r->srv->world[MC_K_USER], old->user_id);
        rescoped = old;
        audit_parent = old->audit_id;
        expires_cap = old->expires;
        if (user == NULL) {
            reply_401(r, NULL);
            return;
        }
    } else if (strcmp(method, "application_credential") == 0) {
        cJSON *ac = mc_json_obj(ident, "application_credential");
        const char *secret = mc_json_str(ac, "secret");
        const char *id = mc_json_str(ac, "id");
        mc_record *cred = NULL;
        if (id != NULL) {
            cred = mc_store_find(&r->srv->world[MC_K_APPCRED], id);
        } else {
            const char *name = mc_json_str(ac, "name");
            mc_record *owner = find_by_name_in_domain(r->srv, MC_K_USER, mc_json_obj(ac, "user"));
            for (mc_record *c = mc_store_first(&r->srv->world[MC_K_APPCRED]); c && owner; c = mc_store_next(c))
                if (mc_str_eq(mc_json_str(c->doc, "name"), name) &&
                    mc_str_eq(mc_json_str(c->doc, "user_id"), owner->id))
                    cred = c;
        }
        if (cred == NULL || secret == NULL || !mc_str_eq(cred->priv, secret)) {
            reply_401(r, NULL);
            return;
        }
        const char *exp = mc_json_str(cred->doc, "expires_at");
        if (exp != NULL && mc_time_parse(exp) <= mc_now()) {
            reply_401(r, NULL);
            return;
        }
        if (exp != NULL) expires_cap = mc_time_parse(exp);
        user = mc_store_find(&r->srv->world[MC_K_USER], mc_json_str(cred->doc, "user_id"));
        project = mc_store_find(&r->srv->world[MC_K_PROJECT], mc_json_str(cred->doc, "project_id"));
        if (user == NULL || project == NULL) {
            reply_401(r, NULL);
            return;
        }
        cJSON *body;
        mc_token *t = issue_token(r, user, cJSON_Duplicate(methods, 1), project, NULL, appcred_roles(r->srv, cred),
                                  nocatalog, NULL, expires_cap, cred, (tok_extra){0}, &body);
        if (t == NULL) {
            mc_reply_error(r, 401, NULL, "Attempted to authenticate with an unsupported method.");
            return;
        }
        token_reply(r, t, body, 201);
        return;
    } else {
        mc_reply_error(r, 401, NULL, "Attempted to authenticate with an unsupported method.");
        return;
    }

    cJSON *trust_ref = mc_json_obj(scope, "OS-TRUST:trust");
    if (trust_ref != NULL) {   /* identity_catalog.c: a trust-scoped token */
        cJSON *roles = NULL, *info = NULL, *body;
        double trust_expires = 0;
        if (identity_trust_scope_or_reply(r, trust_ref, &user, &project, &roles, &trust_expires, &info) != 0) return;
        if (trust_expires > 0 && (expires_cap <= 0 || trust_expires < expires_cap)) expires_cap = trust_expires;
        char trust_id[64];
        mc_strlcpy(trust_id, mc_json_str(info, "id"), sizeof trust_id);
        mc_token *t = issue_token(r, user, cJSON_Duplicate(methods, 1), project, NULL, roles, nocatalog,
                                  audit_parent, expires_cap, NULL, (tok_extra){.trust = info}, &body);
        if (t == NULL) {
            mc_reply_error(r, 401, NULL, "Attempted to authenticate with an unsupported method.");
            return;
        }
        token_reply(r, t, body, 201);
        identity_trust_used(r->srv, trust_id);
        return;
    }
    bool system;
    if (scope_or_reply(r, scope, user, &project, &domain, &system) != 0) return;
    if ((project != NULL && !idadm_domain_enabled(r->srv, mc_json_str(project->doc, "domain_id"))) ||
        (domain != NULL && !idadm_domain_enabled(r->srv, domain->id)) ||
        !idadm_domain_enabled(r->srv, mc_json_str(user->doc, "domain_id"))) {
        reply_401(r, NULL);   /* a disabled domain: its users and projects cannot be used */
        return;
    }
    cJSON *roles = NULL;
    if (system) {
        roles = idadm_system_roles(r->srv, user->id);
        if (cJSON_GetArraySize(roles) == 0) {
            cJSON_Delete(roles);
            reply_401(r, "User has no access to the system.");
            return;
        }
    } else if (project != NULL || domain != NULL) {
        roles = effective_roles(r->srv, user->id, project ? project->id : domain->id);
        if (cJSON_GetArraySize(roles) == 0) {
            cJSON_Delete(roles);
            reply_401(r, project ? "User has no access to project." : "User has no access to domain.");
            return;
        }
        if (project != NULL && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(project->doc, "enabled"))) {
            cJSON_Delete(roles);
            reply_401(r, NULL);
            return;
        }
    }
    cJSON *body;
    mc_token *t = issue_token(r, user, token_methods(methods, rescoped), project, domain, roles, nocatalog,
                              audit_parent, expires_cap, NULL, (tok_extra){.system = system}, &body);
    if (t == NULL) {
        mc_reply_error(r, 401, NULL, "Attempted to authenticate with an unsupported method.");
        return;
    }
    token_reply(r, t, body, 201);
}

void identity_token_for_project(mc_req *r, mc_record *user, mc_record *project, const char *method, int status) {
    cJSON *roles = effective_roles(r->srv, user->id, project->id);
    if (cJSON_GetArraySize(roles) == 0) {
        cJSON_Delete(roles);
        reply_401(r, "User not valid for project.");
        return;
    }
    cJSON *methods = cJSON_CreateArray(), *body;
    cJSON_AddItemToArray(methods, cJSON_CreateString(method));
    mc_token *t = issue_token(r, user, methods, project, NULL, roles, mc_query(r, "nocatalog") != NULL, NULL, 0, NULL,
                              (tok_extra){0}, &body);
    if (t == NULL) {
        mc_reply_error(r, 401, NULL, "Attempted to authenticate with an unsupported method.");
        return;
    }
    token_reply(r, t, body, status);
}

static const mc_token *subject_or_reply(mc_req *r) {
    const char *sub = mc_header(r, "X-Subject-Token");
    if (sub == NULL) {
        mc_reply_error(r, 400, NULL, "X-Subject-Token is required.");
        return NULL;
    }
    const mc_token *t = mc_auth_lookup(r->srv, sub);
    if (t == NULL) {
        mc_reply_error(r, 404, NULL, "Could not find token: %.64s.", sub);
        return NULL;
    }
    return t;
}

static bool may_see_token(const mc_req *r, const mc_token *t) {
    return may_admin(r) || mc_str_eq(r->tok->user_id, t->user_id);
}

static void identity_token_validate(mc_req *r) {
    const mc_token *t = subject_or_reply(r);
    if (t == NULL) return;
    if (!may_see_token(r, t)) {
        mc_reply_error(r, 403, NULL, "You are not authorized to perform the requested action: identity:validate_token.");
        return;
    }
    if (r->method == EVHTTP_REQ_HEAD) {
        mc_header_set(r, "X-Subject-Token", t->id);
        mc_reply_json(r, 200, NULL);
        return;
    }
    bool catalog = t->catalog && mc_query(r, "nocatalog") == NULL;
    cJSON *body = token_body_text(r, t, catalog);
    if (body == NULL) {
        body = mc_auth_token_json(t);
        if (body == NULL) mc_panic("out of memory");
        if (catalog) cJSON_AddItemToObject(mc_json_obj(body, "token"), "catalog", catalog_json(r, t->project_id));
    }
    mc_header_set(r, "X-Subject-Token", t->id);
    mc_reply_json(r, 200, body);
}

static void identity_token_revoke(mc_req *r) {
    const mc_token *t = subject_or_reply(r);
    if (t == NULL) return;
    if (!may_see_token(r, t)) {
        mc_reply_error(r, 403, NULL, "You are not authorized to perform the requested action: identity:revoke_token.");
        return;
    }
    mc_auth_revoke(r->srv, t->id);
    mc_reply_json(r, 204, NULL);
}

static void identity_auth_catalog(mc_req *r) {
    if (r->tok->project_id[0] == '\0' && r->tok->domain_id[0] == '\0') {
        mc_reply_error(r, 403, NULL, "The authenticated token must be scoped to see the catalog.");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "catalog", catalog_json(r, r->tok->project_id));
    char url[400];
    mc_service_url(r->srv, "/identity/v3/auth/catalog", url, sizeof url);
    cJSON *links = cJSON_AddObjectToObject(root, "links");
    cJSON_AddStringToObject(links, "self", url);
    cJSON_AddNullToObject(links, "previous");
    cJSON_AddNullToObject(links, "next");
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- listing */

cJSON *links_self(mc_req *r, const char *path) {
    char url[600];
    mc_service_url(r->srv, "/identity", url, sizeof url);
    size_t n = strlen(url);
    snprintf(url + n, sizeof url - n, "%s", path);
    cJSON *links = cJSON_CreateObject();
    cJSON_AddStringToObject(links, "self", url);
    cJSON_AddNullToObject(links, "previous");
    cJSON_AddNullToObject(links, "next");
    return links;
}

cJSON *public_view(mc_req *r, const mc_record *rec, const char *collection) {
    cJSON *o = cJSON_CreateObject();
    const cJSON *kv;
    cJSON_ArrayForEach(kv, rec->doc) {
        if (kv->string[0] == '_') continue;
        cJSON_AddItemToObject(o, kv->string, cJSON_Duplicate(kv, 1));
    }
    char path[300];
    snprintf(path, sizeof path, "/v3/%s/%s", collection, rec->id);
    cJSON *links = links_self(r, path);
    cJSON_DeleteItemFromObjectCaseSensitive(links, "previous");
    cJSON_DeleteItemFromObjectCaseSensitive(links, "next");
    cJSON_AddItemToObject(o, "links", links);
    return o;
}

/* Lists a kind, filtered by the query keys 'filters' (exact match on doc
 * fields) and by 'pred'. */
bool query_matches(mc_req *r, const mc_record *x, const char *const *filters, bool bool_by_initial) {
    for (int i = 0; filters[i] != NULL; i++) {
        const char *want = mc_query(r, filters[i]);
        if (want == NULL) continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->doc, filters[i]);
        bool ok;
        if (cJSON_IsString(v))
            ok = strcmp(v->valuestring, want) == 0;
        else if (cJSON_IsBool(v) && bool_by_initial)
            ok = (cJSON_IsTrue(v) ? "true" : "false")[0] == (want[0] | 0x20);
        else if (cJSON_IsBool(v))
            ok = strcmp(cJSON_IsTrue(v) ? "true" : "false", want) == 0 || strcmp(cJSON_IsTrue(v) ? "True" : "False", want) == 0;
        else
            ok = false;
        if (!ok) return false;
    }
    return true;
}

void list_kind(mc_req *r, mc_kind kind, const char *collection, rec_pred pred) {
    static const char *const filters[] = {"name", "domain_id", "enabled", "parent_id", "is_domain", "user_id", NULL};
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, collection);
    for (mc_record *x = mc_store_first(&r->srv->world[kind]); x; x = mc_store_next(x))
        if ((pred == NULL || pred(r, x)) && query_matches(r, x, filters, true))
            cJSON_AddItemToArray(arr, public_view(r, x, collection));
    char path[100];
    snprintf(path, sizeof path, "/v3/%s", collection);
    cJSON_AddItemToObject(root, "links", links_self(r, path));
    mc_reply_json(r, 200, root);
}

bool may_admin(const mc_req *r) { return mc_auth_may_admin(r->tok, (int)r->method); }

void reply_forbidden(mc_req *r, const char *action) {
    mc_reply_error(r, 403, NULL, "You are not authorized to perform the requested action: %s.", action);
}

mc_record *find_or_reply(mc_req *r, mc_kind kind, const char *what, const char *id) {
    mc_record *x = mc_store_find(&r->srv->world[kind], id);
    if (x == NULL) mc_reply_error(r, 404, NULL, "Could not find %s: %.64s.", what, id);
    return x;
}

/* Replies 'status' with {single: x as the API shows it} (show, create, update). */
void show_one(mc_req *r, int status, const char *single, const char *collection, const mc_record *x) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, single, public_view(r, x, collection));
    mc_reply_json(r, status, root);
}

/* ---------------------------------------------------------------- domains */

static bool domain_visible(mc_req *r, const mc_record *d) {
    if (may_admin(r)) return true;
    if (mc_str_eq(r->tok->domain_id, d->id)) return true;
    mc_record *p = mc_store_find(&r->srv->world[MC_K_PROJECT], r->tok->project_id);
    return p != NULL && mc_str_eq(mc_json_str(p->doc, "domain_id"), d->id);
}

static void identity_domain_list(mc_req *r) {
    list_kind(r, MC_K_DOMAIN, "domains", domain_visible);
}

static void identity_domain_show(mc_req *r) {
    mc_record *d = find_or_reply(r, MC_K_DOMAIN, "domain", r->params[0]);
    if (d == NULL) return;
    if (!domain_visible(r, d)) {
        reply_forbidden(r, "identity:get_domain");
        return;
    }
    show_one(r, 200, "domain", "domains", d);
}

static void identity_auth_domains(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "domains");
    for (mc_record *d = mc_store_first(&r->srv->world[MC_K_DOMAIN]); d; d = mc_store_next(d)) {
        cJSON *roles = effective_roles(r->srv, r->tok->user_id, d->id);
        if (cJSON_GetArraySize(roles) > 0) cJSON_AddItemToArray(arr, public_view(r, d, "domains"));
        cJSON_Delete(roles);
    }
    cJSON_AddItemToObject(root, "links", links_self(r, "/v3/auth/domains"));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- projects */

static bool has_any_role(mc_req *r, const char *user_id, const char *target) {
    cJSON *roles = effective_roles(r->srv, user_id, target);
    bool any = cJSON_GetArraySize(roles) > 0;
    cJSON_Delete(roles);
    return any;
}

static bool project_visible(mc_req *r, const mc_record *p) {
    return may_admin(r) || mc_str_eq(r->tok->project_id, p->id);
}

static void identity_project_list(mc_req *r) {
    if (!may_admin(r)) {
        reply_forbidden(r, "identity:list_projects");
        return;
    }
    list_kind(r, MC_K_PROJECT, "projects", NULL);
}

static void identity_project_show(mc_req *r) {
    mc_record *p = mc_store_find(&r->srv->world[MC_K_PROJECT], r->params[0]);
    if (p == NULL && !may_admin(r)) {
        reply_forbidden(r, "identity:get_project");
        return;
    }
    if (p == NULL) {
        mc_reply_error(r, 404, NULL, "Could not find project: %.64s.", r->params[0]);
        return;
    }
    if (!project_visible(r, p)) {
        reply_forbidden(r, "identity:get_project");
        return;
    }
    show_one(r, 200, "project", "projects", p);
}

static bool user_projects_pred_user(mc_req *r, const mc_record *p) {
    return has_any_role(r, r->params[0], p->id);
}

static bool auth_projects_pred(mc_req *r, const mc_record *p) {
    return has_any_role(r, r->tok->user_id, p->id);
}

static void identity_auth_projects(mc_req *r) {
    list_kind(r, MC_K_PROJECT, "projects", auth_projects_pred);
}

static void identity_user_projects(mc_req *r) {
    if (!may_admin(r) && !mc_str_eq(r->tok->user_id, r->params[0])) {
        reply_forbidden(r, "identity:list_user_projects");
        return;
    }
    if (find_or_reply(r, MC_K_USER, "user", r->params[0]) == NULL) return;
    list_kind(r, MC_K_PROJECT, "projects", user_projects_pred_user);
}

/* Validates an optional string field; replies 400 and returns -1 when the
 * field is present with the wrong type. */
static int opt_string_or_reply(mc_req *r, const cJSON *obj, const char *key, const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsString(v) || cJSON_IsNull(v)) return 0;
    mc_reply_error(r, 400, NULL, "Invalid input for field '%s': %s is not of type 'string'", key, what);
    return -1;
}

static int opt_bool_or_reply(mc_req *r, const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsBool(v)) return 0;
    mc_reply_error(r, 400, NULL, "Invalid input for field '%s': not of type 'boolean'", key);
    return -1;
}

/* The record an update names and the body's object 'single' (into *in),
 * with "name" a string and "enabled" a boolean when present; replies 404 or
 * 400 and returns NULL otherwise. */
static mc_record *update_target_or_reply(mc_req *r, mc_kind kind, const char *single, cJSON **in) {
    mc_record *x = find_or_reply(r, kind, single, r->params[0]);
    if (x == NULL) return NULL;
    *in = mc_json_obj(r->body, single);
    if (*in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input: '%s' is a required property", single);
        return NULL;
    }
    if (opt_string_or_reply(r, *in, "name", "name") || opt_bool_or_reply(r, *in, "enabled")) return NULL;
    return x;
}

bool name_taken(mc_server *srv, mc_kind kind, const char *name, const char *domain_id,
                       const mc_record *except) {
    for (mc_record *x = mc_store_first(&srv->world[kind]); x; x = mc_store_next(x))
        if (x != except && mc_str_eq(mc_json_str(x->doc, "name"), name) &&
            mc_str_eq(mc_json_str(x->doc, "domain_id"), domain_id))
            return true;
    return false;
}

cJSON *body_obj_or_reply(mc_req *r, const char *single) {
    cJSON *in = mc_json_obj(r->body, single);
    if (in == NULL) mc_reply_error(r, 400, NULL, "Invalid input for field '%s': '%s' is a required property", single, single);
    return in;
}

cJSON *new_doc(mc_req *r, char id[33]) {
    mc_uuid_hex(r->srv, id);
    cJSON *doc = cJSON_CreateObject();
    if (doc == NULL) mc_panic("out of memory");
    cJSON_AddStringToObject(doc, "id", id);
    return doc;
}

/* ---- identity kinds named in a domain (projects, users, groups, roles):
 * the checks their create and update share, in Keystone's order and words. */

const cJSON *idkind_body_or_reply(mc_req *r, const id_kind *k, const char **name) {
    cJSON *in = k->require_body ? body_obj_or_reply(r, k->single) : mc_json_obj(r->body, k->single);
    if ((k->require_body && in == NULL) || mc_check_or_reply(r, in, k->spec) != 0) return NULL;
    *name = mc_json_str(in, "name");
    if (in == NULL || *name == NULL || (*name)[0] == '\0' || strlen(*name) > k->name_max) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'name': a name of 1 to %zu characters is required.", k->name_max);
        return NULL;
    }
    return in;
}

static int name_free_or_reply(mc_req *r, const id_kind *k, const char *name, const char *domain_id,
                              const mc_record *except) {
    if (!name_taken(r->srv, k->kind, name, domain_id, except)) return 0;
    bool at = k->taken_at_domain && except == NULL;   /* Keystone names the domain on create only */
    mc_reply_error(r, 409, NULL, "Conflict occurred attempting to store %s - %s%.64s%s%.64s.", k->single, k->taken_lead, name,
                   at ? " at domain ID " : "", at && domain_id ? domain_id : "");
    return -1;
}

int idkind_domain_or_reply(mc_req *r, const id_kind *k, const char *name, const char *domain_id) {
    if (domain_id != NULL && mc_store_find(&r->srv->world[MC_K_DOMAIN], domain_id) == NULL) {
        mc_reply_error(r, k->no_domain_status, NULL, "Could not find domain: %.64s.", domain_id);
        return -1;
    }
    return name_free_or_reply(r, k, name, domain_id, NULL);
}

const cJSON *idkind_update_or_reply(mc_req *r, const id_kind *k, const char *spec, mc_record **x) {
    *x = find_or_reply(r, k->kind, k->single, r->params[0]);
    if (*x == NULL) return NULL;
    cJSON *in = body_obj_or_reply(r, k->single);
    if (in == NULL || mc_check_or_reply(r, in, spec) != 0) return NULL;
    const char *dom = mc_json_str((*x)->doc, "domain_id");
    /* a kind that may be global (roles): null asks for a global record too */
    bool changes = k->global_ok ? mc_json_has(in, "domain_id") && !mc_str_eq(mc_json_str(in, "domain_id"), dom)
                                : mc_json_str(in, "domain_id") != NULL && !mc_str_eq(mc_json_str(in, "domain_id"), dom);
    if (changes) {
        mc_reply_error(r, 400, NULL, "Cannot change Domain ID");
        return NULL;
    }
    const char *name = mc_json_str(in, "name");
    if (name != NULL && name[0] == '\0') {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'name': a name of 1 to %zu characters is required.", k->name_max);
        return NULL;
    }
    if (name != NULL && name_free_or_reply(r, k, name, dom, *x) != 0) return NULL;
    return in;
}

/* Copies the allowed keys of 'in' onto 'doc' (create and PATCH alike). */
void merge_fields(cJSON *doc, const cJSON *in, const char *const *allowed) {
    for (int i = 0; allowed[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, allowed[i]);
        if (v != NULL) mc_json_set(doc, allowed[i], cJSON_Duplicate(v, 1));
    }
}

static const char *const project_fields[] = {"name", "description", "enabled", "tags", "options", NULL};

static const id_kind K_PROJECT = {
    MC_K_PROJECT, "project", "name=s|description=S|enabled=B|domain_id=S64|parent_id=S64|is_domain=B|tags=r|options=o",
    64, false, false, 400, "it is not permitted to have two projects with the same name in the same domain : ", false};

static void identity_project_create(mc_req *r) {
    const char *name;
    const cJSON *in = idkind_body_or_reply(r, &K_PROJECT, &name);
    if (in == NULL) return;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "is_domain"))) {
        idadm_project_domain_create(r, in);   /* a project acting as a domain */
        return;
    }
    const char *domain_id = mc_json_str(in, "domain_id");
    const char *parent_id = mc_json_str(in, "parent_id");
    mc_record *parent = parent_id ? mc_store_find(&r->srv->world[MC_K_PROJECT], parent_id) : NULL;
    if (parent_id != NULL && parent == NULL && mc_store_find(&r->srv->world[MC_K_DOMAIN], parent_id) == NULL) {
        mc_reply_error(r, 404, NULL, "Could not find project: %.64s.", parent_id);
        return;
    }
    if (parent != NULL && domain_id != NULL && !mc_str_eq(domain_id, mc_json_str(parent->doc, "domain_id"))) {
        mc_reply_error(r, 400, NULL, "Cannot create project, since its parent (%.64s) is in another domain.", parent_id);
        return;
    }
    if (domain_id == NULL) domain_id = parent ? mc_json_str(parent->doc, "domain_id") : parent_id ? parent_id : "default";
    if (idkind_domain_or_reply(r, &K_PROJECT, name, domain_id) != 0) return;
    char id[33];
    cJSON *doc = new_doc(r, id);
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddStringToObject(doc, "domain_id", domain_id);
    cJSON_AddStringToObject(doc, "description", "");
    cJSON_AddBoolToObject(doc, "enabled", true);
    cJSON_AddStringToObject(doc, "parent_id", parent ? parent->id : domain_id);
    cJSON_AddBoolToObject(doc, "is_domain", false);
    cJSON_AddItemToObject(doc, "tags", cJSON_CreateArray());
    cJSON_AddItemToObject(doc, "options", cJSON_CreateObject());
    merge_fields(doc, in, project_fields);
    mc_record *p = mc_store_add(&r->srv->world[MC_K_PROJECT], id, id, doc);
    show_one(r, 201, "project", "projects", p);
}

static void identity_project_update(mc_req *r) {
    cJSON *in;
    mc_record *p = update_target_or_reply(r, MC_K_PROJECT, "project", &in);
    if (p == NULL) return;
    if (mc_check_or_reply(r, in, "name=s64|description=S|enabled=B|tags=r|options=o") != 0) return;
    if (opt_string_or_reply(r, in, "description", "description")) return;
    const char *name = mc_json_str(in, "name");
    if (name != NULL && name_taken(r->srv, MC_K_PROJECT, name, mc_json_str(p->doc, "domain_id"), p)) {
        mc_reply_error(r, 409, NULL, "Conflict occurred attempting to store project - duplicate name: %.64s.", name);
        return;
    }
    bool was_enabled = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p->doc, "enabled"));
    merge_fields(p->doc, in, project_fields);
    idadm_project_domain_sync(r->srv, p);
    /* Keystone: a revocation event by project id when it is disabled */
    if (was_enabled && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p->doc, "enabled"))) {
        mc_auth_revoke_by(r->srv, MC_REVOKE_PROJECT, p->id);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p->doc, "is_domain")))   /* acting as a domain: both */
            mc_auth_revoke_by(r->srv, MC_REVOKE_DOMAIN, p->id);
    }
    show_one(r, 200, "project", "projects", p);
}

void project_remove(mc_server *srv, mc_record *p) {
    mc_auth_revoke_by(srv, MC_REVOKE_PROJECT, p->id);
    idadm_forget(srv, p->id);
    identity_catalog_forget(srv, p->id);
    credentials_delete_where(srv, "project_id", p->id);
    mc_store_delete(&srv->world[MC_K_PROJECT], p);
}

static void identity_project_delete(mc_req *r) {
    mc_record *p = find_or_reply(r, MC_K_PROJECT, "project", r->params[0]);
    if (p == NULL) return;
    int as_domain = idadm_project_domain_delete_or_reply(r, p);
    if (as_domain < 0) return;
    if (as_domain == 0) project_remove(r->srv, p);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- users */

static void identity_user_list(mc_req *r) {
    list_kind(r, MC_K_USER, "users", NULL);
}

static void identity_user_show(mc_req *r) {
    if (!may_admin(r) && !mc_str_eq(r->tok->user_id, r->params[0])) {
        reply_forbidden(r, "identity:get_user");
        return;
    }
    mc_record *u = find_or_reply(r, MC_K_USER, "user", r->params[0]);
    if (u == NULL) return;
    show_one(r, 200, "user", "users", u);
}

static const char *const user_fields[] = {"name", "description", "enabled", "email", "default_project_id", "options",
                                          "project_id", NULL};   /* project_id: an extra attribute clients still send */

static mc_record *user_add(mc_server *srv, const char *id, const cJSON *in, const char *domain_id,
                           const char *password) {
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "name", mc_json_str(in, "name"));
    cJSON_AddStringToObject(doc, "domain_id", domain_id);
    cJSON_AddBoolToObject(doc, "enabled", true);
    cJSON_AddNullToObject(doc, "password_expires_at");
    cJSON_AddItemToObject(doc, "options", cJSON_CreateObject());
    merge_fields(doc, in, user_fields);
    mc_record *u = mc_store_add(&srv->world[MC_K_USER], id, "", doc);
    if (u == NULL) {
        cJSON_Delete(doc);
        return NULL;
    }
    user_priv *up = calloc(1, sizeof *up);
    if (up == NULL) mc_panic("out of memory");
    up->password = password ? strdup(password) : NULL;   /* no password: no password login */
    up->history = cJSON_CreateArray();
    up->password_changed = mc_now();
    u->priv = up;
    u->priv_free = user_priv_free;
    user_apply_policy(srv, u);
    return u;
}

/* Keystone's password history (unique_last_password_count = N): the new
 * password must differ from the last N passwords, the current one included.
 * Replies 400 and returns -1 when it does not. */
static int password_reused_or_reply(mc_req *r, mc_record *u, const char *pw) {
    long unique = user_policy(u, "unique_last_password_count", 0);
    if (unique <= 0) return 0;
    user_priv *up = u->priv;
    bool reused = up->password != NULL && mc_str_eq(up->password, pw);
    long n = 1;
    const cJSON *h;
    cJSON_ArrayForEach(h, up->history) {
        if (n++ >= unique) break;
        reused |= mc_str_eq(h->valuestring, pw);
    }
    if (!reused) return 0;
    mc_reply_error(r, 400, NULL, "The new password cannot be identical to a previous password. The total number which includes the new password must be unique is %ld.", unique);
    return -1;
}

/* Sets a new password, keeping the old one in the history (newest first). */
static void set_password(mc_record *u, const char *pw) {
    user_priv *up = u->priv;
    if (up->password != NULL) cJSON_InsertItemInArray(up->history, 0, cJSON_CreateString(up->password));
    while (cJSON_GetArraySize(up->history) > 32) cJSON_DeleteItemFromArray(up->history, 32);
    free(up->password);
    up->password = strdup(pw);
    up->password_changed = mc_now();
}

static const id_kind K_USER = {
    MC_K_USER, "user", "name=s|password=S4096|enabled=B|domain_id=S64|default_project_id=S64|description=S|options=o|"
                       "email=S|project_id=S64",
    255, false, false, 404 /* Keystone: DomainNotFound */, "Duplicate entry found with name ", true};

static void identity_user_create(mc_req *r) {
    const char *name;
    const cJSON *in = idkind_body_or_reply(r, &K_USER, &name);
    if (in == NULL) return;
    const char *domain_id = mc_json_str(in, "domain_id");
    if (domain_id == NULL) domain_id = "default";
    if (idkind_domain_or_reply(r, &K_USER, name, domain_id) != 0) return;
    char id[33];
    mc_uuid_hex(r->srv, id);
    mc_record *u = user_add(r->srv, id, in, domain_id, mc_json_str(in, "password"));
    show_one(r, 201, "user", "users", u);
}

static void identity_user_update(mc_req *r) {
    cJSON *in;
    mc_record *u = update_target_or_reply(r, MC_K_USER, "user", &in);
    if (u == NULL) return;
    if (mc_check_or_reply(r, in, "name=s255|password=S4096|enabled=B|default_project_id=S64|description=S|options=o|"
                                 "email=S|project_id=S64") != 0)
        return;
    if (opt_string_or_reply(r, in, "password", "password")) return;
    /* Keystone: an admin's reset does not check the password history (only
     * the user's own change does), but the old password joins it */
    const char *pw = mc_json_str(in, "password");
    merge_fields(u->doc, in, user_fields);
    if (pw != NULL) set_password(u, pw);
    if (pw != NULL || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(in, "enabled")))
        mc_auth_revoke_user(r->srv, u->id);
    show_one(r, 200, "user", "users", u);
}

static void access_rules_forget(mc_server *srv, const char *user_id);

void user_remove(mc_server *srv, mc_record *u) {
    mc_auth_revoke_user(srv, u->id);
    access_rules_forget(srv, u->id);
    idadm_forget(srv, u->id);
    identity_catalog_forget(srv, u->id);
    credentials_delete_where(srv, "user_id", u->id);
    mc_store_delete(&srv->world[MC_K_USER], u);
}

static void identity_user_delete(mc_req *r) {
    mc_record *u = find_or_reply(r, MC_K_USER, "user", r->params[0]);
    if (u == NULL) return;
    user_remove(r->srv, u);
    mc_reply_json(r, 204, NULL);
}

/* POST /v3/users/{id}/password: self-service change, with the password
 * history of the security-compliance options when the user has them. */
static void identity_user_password(mc_req *r) {
    mc_record *u = find_or_reply(r, MC_K_USER, "user", r->params[0]);
    if (u == NULL) return;
    cJSON *in = mc_json_obj(r->body, "user");
    if (mc_check_or_reply(r, in, "!password=s4096|original_password=s4096") != 0) return;
    const char *orig = mc_json_str(in, "original_password");
    const char *pw = mc_json_str(in, "password");
    if (orig == NULL || pw == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'user': 'original_password' and 'password' are required properties");
        return;
    }
    pw_result res = check_password(u, orig);
    if (res != PW_OK) {
        reply_password_failure(r, u, res);
        return;
    }
    if (password_reused_or_reply(r, u, pw)) return;
    set_password(u, pw);
    mc_auth_revoke_user(r->srv, u->id);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- roles */

static void identity_role_show(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_ROLE, "role", r->params[0]);
    if (x != NULL) show_one(r, 200, "role", "roles", x);
}

/* ---------------------------------------------------------------- application credentials */

static bool appcred_owner_or_reply(mc_req *r) {
    if (mc_str_eq(r->tok->user_id, r->params[0])) return true;
    if (r->method == EVHTTP_REQ_GET && may_admin(r)) return true;
    reply_forbidden(r, "identity:application_credential");
    return false;
}

static cJSON *appcred_view(mc_req *r, const mc_record *c) {
    cJSON *o = cJSON_CreateObject();
    const cJSON *kv;
    cJSON_ArrayForEach(kv, c->doc) cJSON_AddItemToObject(o, kv->string, cJSON_Duplicate(kv, 1));
    char url[600];
    snprintf(url, sizeof url, "%s/identity/v3/users/%s/application_credentials/%s", r->srv->public_url,
             mc_json_str(c->doc, "user_id"), c->id);
    cJSON *links = cJSON_AddObjectToObject(o, "links");
    cJSON_AddStringToObject(links, "self", url);
    return o;
}

/* ---- access rules: records {id, service, path, method, "_user_id"}, one
 * per user and (service, path, method), as Keystone's access_rule table:
 * an application credential names them by id in its "access_rules"
 * ([{id, service, path, method}]), a second credential with the same rule
 * shares the record, and a rule stays when its credentials go (deleted
 * through /v3/users/{id}/access_rules/{id}, refused while in use). */

static const char *const access_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", NULL};

static mc_record *access_rule_of(mc_server *srv, const char *user_id, const char *service, const char *path,
                                 const char *method) {
    for (mc_record *x = mc_store_first(&srv->world[MC_K_ACCESS_RULE]); x; x = mc_store_next(x))
        if (mc_str_eq(mc_json_str(x->doc, "_user_id"), user_id) && mc_str_eq(mc_json_str(x->doc, "service"), service) &&
            mc_str_eq(mc_json_str(x->doc, "path"), path) && mc_str_eq(mc_json_str(x->doc, "method"), method))
            return x;
    return NULL;
}

/* The credential's "access_rules" from the request's (Keystone's schema:
 * {service, path, method} or {id} of one of the user's rules), records
 * made as needed; NULL after a 400 or 404. */
static cJSON *access_rules_or_reply(mc_req *r, const cJSON *in) {
    cJSON *out = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, in) {
        if (mc_check_or_reply(r, x, "!service=s|path=s|method=s|id=s") != 0) goto fail;
        const char *id = mc_json_str(x, "id"), *svc = mc_json_str(x, "service");
        const char *path = mc_json_str(x, "path"), *method = mc_json_str(x, "method");
        mc_record *rule = NULL;
        if (id != NULL) {
            rule = mc_store_find(&r->srv->world[MC_K_ACCESS_RULE], id);
            if (rule == NULL || !mc_str_eq(mc_json_str(rule->doc, "_user_id"), r->tok->user_id)) {
                mc_reply_error(r, 404, NULL, "Could not find access rule: %.64s.", id);
                goto fail;
            }
        } else {
            bool known = false;
            for (int i = 0; method != NULL && access_methods[i] != NULL; i++) known |= strcmp(method, access_methods[i]) == 0;
            if (svc == NULL || path == NULL || !known) {
                mc_reply_error(r, 400, NULL, "Invalid input for field 'access_rules': a rule needs 'service', 'path' and "
                                             "'method' (one of GET, HEAD, POST, PUT, PATCH, DELETE), or the 'id' of one.");
                goto fail;
            }
            rule = access_rule_of(r->srv, r->tok->user_id, svc, path, method);
            if (rule == NULL) {
                char rid[33];
                mc_uuid_hex(r->srv, rid);
                cJSON *doc = cJSON_CreateObject();
                cJSON_AddStringToObject(doc, "id", rid);
                cJSON_AddStringToObject(doc, "service", svc);
                cJSON_AddStringToObject(doc, "path", path);
                cJSON_AddStringToObject(doc, "method", method);
                cJSON_AddStringToObject(doc, "_user_id", r->tok->user_id);
                rule = mc_store_add(&r->srv->world[MC_K_ACCESS_RULE], rid, "", doc);
            }
        }
        cJSON *o = cJSON_CreateObject();
        static const char *const keys[] = {"id", "path", "method", "service", NULL};
        for (int i = 0; keys[i] != NULL; i++) cJSON_AddStringToObject(o, keys[i], mc_json_str(rule->doc, keys[i]));
        cJSON_AddItemToArray(out, o);
    }
    return out;
fail:
    cJSON_Delete(out);
    return NULL;
}

static bool access_rule_in_use(mc_server *srv, const mc_record *rule) {
    for (mc_record *c = mc_store_first(&srv->world[MC_K_APPCRED]); c; c = mc_store_next(c)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, mc_json_arr(c->doc, "access_rules")) if (mc_str_eq(mc_json_str(x, "id"), rule->id)) return true;
    }
    return false;
}

static void access_rules_forget(mc_server *srv, const char *user_id) {
    mc_store *st = &srv->world[MC_K_ACCESS_RULE];
    for (mc_record *x = mc_store_first(st), *next; x != NULL; x = next) {
        next = mc_store_next(x);
        if (mc_str_eq(mc_json_str(x->doc, "_user_id"), user_id)) mc_store_delete(st, x);
    }
}

static cJSON *access_rule_view(mc_req *r, const mc_record *x) {
    char path[300];
    snprintf(path, sizeof path, "users/%s/access_rules", mc_json_str(x->doc, "_user_id"));
    return public_view(r, x, path);
}

/* keystonemiddleware's match of a rule's path against a request's, segment
 * by segment ('/'-separated): "*" is any one segment, "**" any number of
 * them (none included), anything else itself. */
static bool access_segs_match(char **pat, int np, char **path, int ns) {
    if (np == 0) return ns == 0;
    if (strcmp(pat[0], "**") == 0) {
        for (int k = 0; k <= ns; k++)
            if (access_segs_match(pat + 1, np - 1, path + k, ns - k)) return true;
        return false;
    }
    if (ns == 0 || (strcmp(pat[0], "*") != 0 && strcmp(pat[0], path[0]) != 0)) return false;
    return access_segs_match(pat + 1, np - 1, path + 1, ns - 1);
}

/* Splits 's' (copied into buf) at '/' into at most 32 non-empty segments; -1 when more. */
static int split_segs(const char *s, char *buf, size_t bufsz, char **segs) {
    mc_strlcpy(buf, s, bufsz);
    int n = 0;
    for (char *p = buf; *p != '\0';) {
        char *e = p + strcspn(p, "/");
        bool last = *e == '\0';
        *e = '\0';
        if (*p != '\0') {
            if (n == 32) return -1;
            segs[n++] = p;
        }
        if (last) break;
        p = e + 1;
    }
    return n;
}

static bool access_path_match(const char *pat, const char *path) {
    char pb[512], sb[512];
    char *ps[32], *ss[32];
    if (strlen(pat) >= sizeof pb || strlen(path) >= sizeof sb) return false;
    int np = split_segs(pat, pb, sizeof pb, ps), ns = split_segs(path, sb, sizeof sb, ss);
    return np >= 0 && ns >= 0 && access_segs_match(ps, np, ss, ns);
}

bool identity_access_rules_ok_or_reply(mc_req *r) {
    static const char *const types[MC_SVC_COUNT] = {[MC_COMPUTE] = "compute", [MC_NETWORK] = "network",
                                                    [MC_IMAGE] = "image"};
    const char *type = r->svc > MC_SVC_NONE && r->svc < MC_SVC_COUNT ? types[r->svc] : NULL;
    if (type == NULL) return true;   /* Keystone, the metadata and control APIs */
    mc_record *c = mc_store_find(&r->srv->world[MC_K_APPCRED], r->tok->appcred_id);
    const cJSON *rules = c ? mc_json_arr(c->doc, "access_rules") : NULL;
    if (cJSON_GetArraySize(rules) == 0) return true;
    const char *method = mc_method_name(r->method);
    const cJSON *x;
    cJSON_ArrayForEach(x, rules)
        if (mc_str_eq(mc_json_str(x, "service"), type) && mc_str_eq(mc_json_str(x, "method"), method) &&
            access_path_match(mc_json_str(x, "path") ? mc_json_str(x, "path") : "", r->path))
            return true;
    mc_reply_json(r, 401, mc_error_body(MC_IDENTITY, 401, NULL, "The request you have made requires authentication."));
    return false;
}

/* GET /v3/users/{u}/access_rules (?service, ?path, ?method): the user's own, or any for an admin. */
static void identity_access_rule_list(mc_req *r) {
    if (!appcred_owner_or_reply(r)) return;
    static const char *const filters[] = {"service", "path", "method", NULL};
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "access_rules");
    for (mc_record *x = mc_store_first(&r->srv->world[MC_K_ACCESS_RULE]); x; x = mc_store_next(x)) {
        bool ok = mc_str_eq(mc_json_str(x->doc, "_user_id"), r->params[0]);
        for (int i = 0; ok && filters[i] != NULL; i++)
            ok = mc_query(r, filters[i]) == NULL || mc_str_eq(mc_query(r, filters[i]), mc_json_str(x->doc, filters[i]));
        if (ok) cJSON_AddItemToArray(arr, access_rule_view(r, x));
    }
    char path[200];
    snprintf(path, sizeof path, "/v3/users/%s/access_rules", r->params[0]);
    cJSON_AddItemToObject(root, "links", links_self(r, path));
    mc_reply_json(r, 200, root);
}

/* GET, DELETE /v3/users/{u}/access_rules/{id}: a rule in use is 403. */
static void identity_access_rule(mc_req *r) {
    if (!appcred_owner_or_reply(r)) return;
    mc_record *x = mc_store_find(&r->srv->world[MC_K_ACCESS_RULE], r->params[1]);
    if (x == NULL || !mc_str_eq(mc_json_str(x->doc, "_user_id"), r->params[0])) {
        mc_reply_error(r, 404, NULL, "Could not find access rule: %.64s.", r->params[1]);
        return;
    }
    if (r->method == EVHTTP_REQ_GET) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "access_rule", access_rule_view(r, x));
        mc_reply_json(r, 200, root);
        return;
    }
    if (access_rule_in_use(r->srv, x)) {
        mc_reply_error(r, 403, NULL, "Cannot delete access rule %s: it is used by an application credential.", x->id);
        return;
    }
    mc_store_delete(&r->srv->world[MC_K_ACCESS_RULE], x);
    mc_reply_json(r, 204, NULL);
}

static void identity_appcred_create(mc_req *r) {
    if (!mc_str_eq(r->tok->user_id, r->params[0])) {
        reply_forbidden(r, "identity:create_application_credential");
        return;
    }
    if (r->tok->appcred_id[0] != '\0') {
        reply_forbidden(r, "identity:create_application_credential (a restricted application credential cannot create another)");
        return;
    }
    cJSON *in = mc_json_obj(r->body, "application_credential");
    if (mc_check_or_reply(r, in, "name=s255|description=S|secret=S|expires_at=S|roles=a|unrestricted=B|access_rules=a") != 0)
        return;
    const char *name = mc_json_str(in, "name");
    if (in == NULL || name == NULL || name[0] == '\0' || strlen(name) > 255) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'name': 'name' is a required property");
        return;
    }
    if (opt_string_or_reply(r, in, "description", "description") || opt_string_or_reply(r, in, "secret", "secret") ||
        opt_string_or_reply(r, in, "expires_at", "expires_at") || opt_bool_or_reply(r, in, "unrestricted"))
        return;
    if (r->tok->project_id[0] == '\0') {
        mc_reply_error(r, 400, NULL, "Application credentials need a project-scoped token.");
        return;
    }
    const char *expires = mc_json_str(in, "expires_at");
    double exp_t = 0;
    if (expires != NULL) {
        exp_t = mc_time_parse(expires);
        if (exp_t < 0) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'expires_at': '%.64s' is not a valid date-time", expires);
            return;
        }
    }
    for (mc_record *c = mc_store_first(&r->srv->world[MC_K_APPCRED]); c; c = mc_store_next(c))
        if (mc_str_eq(mc_json_str(c->doc, "user_id"), r->tok->user_id) && mc_str_eq(mc_json_str(c->doc, "name"), name)) {
            mc_reply_error(r, 409, NULL, "Conflict occurred attempting to store application_credential - Duplicate entry found with name %.64s.", name);
            return;
        }
    /* Roles: the token's by default; those requested must be the user's on
     * the project now (Keystone's _check_roles), not only the token's. */
    cJSON *want = mc_json_arr(in, "roles");
    cJSON *tokj = want ? effective_roles(r->srv, r->tok->user_id, r->tok->project_id) : mc_auth_token_json(r->tok);
    cJSON *tok_roles = want ? tokj : mc_json_arr(mc_json_obj(tokj, "token"), "roles");
    cJSON *roles = cJSON_CreateArray();
    const cJSON *x;
    if (want == NULL) {
        cJSON_ArrayForEach(x, tok_roles) cJSON_AddItemToArray(roles, cJSON_Duplicate(x, 1));
    } else {
        cJSON_ArrayForEach(x, want) {
            const char *wid = mc_json_str(x, "id"), *wname = mc_json_str(x, "name");
            const cJSON *have = NULL, *y;
            cJSON_ArrayForEach(y, tok_roles)
                if ((wid && mc_str_eq(wid, mc_json_str(y, "id"))) || (wname && mc_str_eq(wname, mc_json_str(y, "name")))) have = y;
            if (have == NULL) {
                cJSON_Delete(roles);
                cJSON_Delete(tokj);
                mc_reply_error(r, 400, NULL, "Role %.64s is not assigned to the user on the project.", wid ? wid : wname ? wname : "?");
                return;
            }
            cJSON_AddItemToArray(roles, cJSON_Duplicate(have, 1));
        }
    }
    cJSON_Delete(tokj);
    cJSON *rules = access_rules_or_reply(r, mc_json_arr(in, "access_rules"));
    if (rules == NULL) {
        cJSON_Delete(roles);
        return;
    }
    char id[33], secret[90];
    mc_uuid_hex(r->srv, id);
    const char *given = mc_json_str(in, "secret");
    if (given != NULL) {
        mc_strlcpy(secret, given, sizeof secret);
    } else {
        unsigned char raw[48];
        mc_secret_bytes(r->srv, raw, sizeof raw);
        mc_b64url(raw, sizeof raw, secret, sizeof secret);
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "name", name);
    const char *desc = mc_json_str(in, "description");
    if (desc) cJSON_AddStringToObject(doc, "description", desc); else cJSON_AddNullToObject(doc, "description");
    if (expires != NULL) {
        char ts[40];
        mc_time_keystone(exp_t, ts);
        ts[26] = '\0';   /* Keystone shows application credential expiry without a zone */
        cJSON_AddStringToObject(doc, "expires_at", ts);
    } else {
        cJSON_AddNullToObject(doc, "expires_at");
    }
    cJSON_AddStringToObject(doc, "project_id", r->tok->project_id);
    cJSON_AddItemToObject(doc, "roles", roles);
    cJSON_AddBoolToObject(doc, "unrestricted", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "unrestricted")));
    cJSON_AddItemToObject(doc, "access_rules", rules);
    cJSON_AddStringToObject(doc, "user_id", r->tok->user_id);
    mc_record *c = mc_store_add(&r->srv->world[MC_K_APPCRED], id, r->tok->project_id, doc);
    c->priv = strdup(secret);
    c->priv_free = secret_free;
    cJSON *view = appcred_view(r, c);
    cJSON_AddStringToObject(view, "secret", secret);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "application_credential", view);
    mc_reply_json(r, 201, root);
}

static void identity_appcred_list(mc_req *r) {
    if (!appcred_owner_or_reply(r)) return;
    const char *name = mc_query(r, "name");
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "application_credentials");
    for (mc_record *c = mc_store_first(&r->srv->world[MC_K_APPCRED]); c; c = mc_store_next(c)) {
        if (!mc_str_eq(mc_json_str(c->doc, "user_id"), r->params[0])) continue;
        if (name != NULL && !mc_str_eq(mc_json_str(c->doc, "name"), name)) continue;
        cJSON_AddItemToArray(arr, appcred_view(r, c));
    }
    char path[200];
    snprintf(path, sizeof path, "/v3/users/%s/application_credentials", r->params[0]);
    cJSON_AddItemToObject(root, "links", links_self(r, path));
    mc_reply_json(r, 200, root);
}

static mc_record *appcred_find_or_reply(mc_req *r) {
    if (!appcred_owner_or_reply(r)) return NULL;
    mc_record *c = mc_store_find(&r->srv->world[MC_K_APPCRED], r->params[1]);
    if (c == NULL || !mc_str_eq(mc_json_str(c->doc, "user_id"), r->params[0])) {
        mc_reply_error(r, 404, NULL, "Could not find Application Credential: %.64s.", r->params[1]);
        return NULL;
    }
    return c;
}

static void identity_appcred_show(mc_req *r) {
    mc_record *c = appcred_find_or_reply(r);
    if (c == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "application_credential", appcred_view(r, c));
    mc_reply_json(r, 200, root);
}

static void identity_appcred_delete(mc_req *r) {
    mc_record *c = appcred_find_or_reply(r);
    if (c == NULL) return;
    mc_auth_revoke_appcred(r->srv, c->id);
    mc_store_delete(&r->srv->world[MC_K_APPCRED], c);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- credentials */

/* Credentials (/v3/credentials) are records {id, user_id, project_id, type,
 * blob}, 'blob' a string as the client sent it. EC2 credentials are those of
 * type "ec2": 'blob' is JSON {"access","secret","trust_id"} and the id is the
 * hex SHA-256 of the access key, so /v3/users/{id}/credentials/OS-EC2 and
 * /v3/credentials show the same records. A user manages their own, an admin
 * everyone's; Keystone's policy answers 403 for another user's. */

#define EC2_TYPE "ec2"

static void ec2_cred_id(const char *access, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(access, strlen(access), md, &mdlen, EVP_sha256(), NULL);
    mc_hex(md, mdlen, out);
}

/* A blob as JSON (NULL when it is not JSON): STYLE.md 2.5, a NUL-terminated
 * text with the NUL inside the length. */
static cJSON *blob_parse(const char *blob) {
    return blob ? cJSON_ParseWithLengthOpts(blob, strlen(blob) + 1, NULL, 1) : NULL;
}

static bool credential_owner(mc_req *r, const mc_record *c) {
    return may_admin(r) || mc_str_eq(r->tok->user_id, mc_json_str(c->doc, "user_id"));
}

/* GET/PATCH/DELETE /v3/credentials/{id}: the record, or a reply (403 for a
 * credential the caller may not see, present or not, as Keystone's policy). */
static mc_record *credential_find_or_reply(mc_req *r, const char *action) {
    mc_record *c = mc_store_find(&r->srv->world[MC_K_CREDENTIAL], r->params[0]);
    if (c != NULL && credential_owner(r, c)) return c;
    if (c == NULL && may_admin(r))
        mc_reply_error(r, 404, NULL, "Could not find credential: %.64s.", r->params[0]);
    else
        reply_forbidden(r, action);
    return NULL;
}

/* Checks an ec2 credential's blob (JSON with a string "access") and writes
 * its id; 0, or -1 after a reply. */
static int ec2_blob_or_reply(mc_req *r, const char *blob, char id[65]) {
    cJSON *b = blob_parse(blob);
    const char *access = mc_json_str(b, "access");
    int rc = 0;
    if (b == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid blob in credential");
        rc = -1;
    } else if (!cJSON_IsObject(b) || cJSON_GetArraySize(b) == 0) {
        mc_reply_error(r, 400, NULL, "Expecting to find blob in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
        rc = -1;
    } else if (access == NULL) {
        mc_reply_error(r, 400, NULL, "Expecting to find access in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
        rc = -1;
    } else {
        ec2_cred_id(access, id);
    }
    cJSON_Delete(b);
    return rc;
}

static int credential_fields_or_reply(mc_req *r, const cJSON *in) {
    static const char *const keys[] = {"blob", "type", "user_id", "project_id", NULL};
    for (int i = 0; keys[i] != NULL; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[i]);
        if (v != NULL && !cJSON_IsString(v) && !(cJSON_IsNull(v) && mc_str_eq(keys[i], "project_id"))) {
            mc_reply_error(r, 400, NULL, "Invalid input for field '%s': not of type 'string'", keys[i]);
            return -1;
        }
    }
    return 0;
}

static void identity_credential_create(mc_req *r) {
    cJSON *in = mc_json_obj(r->body, "credential");
    const char *user_id = mc_json_str(in, "user_id");
    if (!may_admin(r) && !mc_str_eq(user_id, r->tok->user_id)) {
        reply_forbidden(r, "identity:create_credential");
        return;
    }
    static const char *const required[] = {"blob", "type", "user_id", NULL};
    for (int i = 0; required[i] != NULL; i++)
        if (!mc_json_has(in, required[i])) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'credential': '%s' is a required property", required[i]);
            return;
        }
    if (credential_fields_or_reply(r, in)) return;
    const char *type = mc_json_str(in, "type"), *blob = mc_json_str(in, "blob");
    const char *project_id = mc_json_str(in, "project_id");
    char id[65];
    if (strcasecmp(type, EC2_TYPE) == 0) {
        if (project_id == NULL) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'credential': 'project_id' is a required property (ec2 credential requires project_id)");
            return;
        }
        if (ec2_blob_or_reply(r, blob, id)) return;
    } else {
        mc_uuid_hex(r->srv, id);
    }
    if (mc_store_find(&r->srv->world[MC_K_CREDENTIAL], id) != NULL) {
        mc_reply_error(r, 409, NULL, "Conflict occurred attempting to store credential - Duplicate entry found with ID %s.", id);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "user_id", user_id);
    if (project_id) cJSON_AddStringToObject(doc, "project_id", project_id); else cJSON_AddNullToObject(doc, "project_id");
    cJSON_AddStringToObject(doc, "type", type);
    cJSON_AddStringToObject(doc, "blob", blob);
    show_one(r, 201, "credential", "credentials", mc_store_add(&r->srv->world[MC_K_CREDENTIAL], id, "", doc));
}

static void identity_credential_list(mc_req *r) {
    const char *fu = mc_query(r, "user_id"), *ft = mc_query(r, "type");
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "credentials");
    for (mc_record *c = mc_store_first(&r->srv->world[MC_K_CREDENTIAL]); c; c = mc_store_next(c)) {
        if (!credential_owner(r, c)) continue;
        if (fu != NULL && !mc_str_eq(fu, mc_json_str(c->doc, "user_id"))) continue;
        if (ft != NULL && !mc_str_eq(ft, mc_json_str(c->doc, "type"))) continue;
        cJSON_AddItemToArray(arr, public_view(r, c, "credentials"));
    }
    cJSON_AddItemToObject(root, "links", links_self(r, "/v3/credentials"));
    mc_reply_json(r, 200, root);
}

static void identity_credential_show(mc_req *r) {
    mc_record *c = credential_find_or_reply(r, "identity:get_credential");
    if (c != NULL) show_one(r, 200, "credential", "credentials", c);
}

static void identity_credential_update(mc_req *r) {
    mc_record *c = credential_find_or_reply(r, "identity:update_credential");
    if (c == NULL) return;
    cJSON *in = mc_json_obj(r->body, "credential");
    if (in == NULL || cJSON_GetArraySize(in) == 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'credential': {} does not have enough properties");
        return;
    }
    const char *nid = mc_json_str(in, "id");
    if (nid != NULL && !mc_str_eq(nid, c->id)) {
        mc_reply_error(r, 400, NULL, "Cannot change ID");
        return;
    }
    if (credential_fields_or_reply(r, in)) return;
    const char *type = mc_json_str(in, "type");
    if (type == NULL) type = mc_json_str(c->doc, "type");
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(in, "project_id");
    bool has_project = pv != NULL ? cJSON_IsString(pv) : mc_json_str(c->doc, "project_id") != NULL;
    if (strcasecmp(type, EC2_TYPE) == 0 && !has_project) {
        mc_reply_error(r, 400, NULL, "Credential type ec2 requires project_id");
        return;
    }
    static const char *const keys[] = {"blob", "type", "user_id", "project_id", NULL};
    for (int i = 0; keys[i] != NULL; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[i]);
        if (v != NULL) cJSON_ReplaceItemInObjectCaseSensitive(c->doc, keys[i], cJSON_Duplicate(v, 1));
    }
    mc_record_touch(c);
    show_one(r, 200, "credential", "credentials", c);
}

static void identity_credential_delete(mc_req *r) {
    mc_record *c = credential_find_or_reply(r, "identity:delete_credential");
    if (c == NULL) return;
    mc_store_delete(&r->srv->world[MC_K_CREDENTIAL], c);
    mc_reply_json(r, 204, NULL);
}

/* ---- OS-EC2: /v3/users/{user_id}/credentials/OS-EC2[/{access}] */

/* The EC2 view of a credential record: user_id, tenant_id, access, secret,
 * trust_id and links.self (named by the access key). */
static cJSON *ec2_view(mc_req *r, const mc_record *c) {
    cJSON *b = blob_parse(mc_json_str(c->doc, "blob"));
    cJSON *o = cJSON_CreateObject();
    static const char *const from_blob[] = {"access", "secret", "trust_id", NULL};
    const char *uid = mc_json_str(c->doc, "user_id"), *pid = mc_json_str(c->doc, "project_id");
    cJSON_AddStringToObject(o, "user_id", uid);
    if (pid) cJSON_AddStringToObject(o, "tenant_id", pid); else cJSON_AddNullToObject(o, "tenant_id");
    for (int i = 0; from_blob[i] != NULL; i++) {
        const char *v = mc_json_str(b, from_blob[i]);
        if (v) cJSON_AddStringToObject(o, from_blob[i], v); else cJSON_AddNullToObject(o, from_blob[i]);
    }
    char path[400];
    snprintf(path, sizeof path, "/v3/users/%s/credentials/OS-EC2/%s", uid, mc_json_str(b, "access") ? mc_json_str(b, "access") : "");
    cJSON *links = links_self(r, path);
    cJSON_DeleteItemFromObjectCaseSensitive(links, "previous");
    cJSON_DeleteItemFromObjectCaseSensitive(links, "next");
    cJSON_AddItemToObject(o, "links", links);
    cJSON_Delete(b);
    return o;
}

static bool ec2_owner_or_reply(mc_req *r, const char *user_id, const char *action) {
    if (may_admin(r) || mc_str_eq(r->tok->user_id, user_id)) return true;
    reply_forbidden(r, action);
    return false;
}

static void identity_ec2_create(mc_req *r) {
    if (!ec2_owner_or_reply(r, r->params[0], "identity:ec2_create_credential")) return;
    if (find_or_reply(r, MC_K_USER, "user", r->params[0]) == NULL) return;
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(r->body, "tenant_id");
    const char *tenant = cJSON_IsString(tv) ? tv->valuestring : NULL;
    if (tenant == NULL) {
        mc_reply_error(r, 404, NULL, "Could not find project: None.");
        return;
    }
    if (find_or_reply(r, MC_K_PROJECT, "project", tenant) == NULL) return;
    char access[33], secret[33], id[65];
    mc_uuid_hex(r->srv, access);
    mc_uuid_hex(r->srv, secret);
    ec2_cred_id(access, id);
    cJSON *blob = cJSON_CreateObject();
    cJSON_AddStringToObject(blob, "access", access);
    cJSON_AddStringToObject(blob, "secret", secret);
    cJSON_AddNullToObject(blob, "trust_id");
    char *text = cJSON_PrintUnformatted(blob);
    cJSON_Delete(blob);
    if (text == NULL) mc_panic("out of memory");
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "user_id", r->params[0]);
    cJSON_AddStringToObject(doc, "project_id", tenant);
    cJSON_AddStringToObject(doc, "type", EC2_TYPE);
    cJSON_AddStringToObject(doc, "blob", text);
    free(text);
    mc_record *c = mc_store_add(&r->srv->world[MC_K_CREDENTIAL], id, "", doc);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "credential", ec2_view(r, c));
    mc_reply_json(r, 201, root);
}

static void identity_ec2_list(mc_req *r) {
    if (!ec2_owner_or_reply(r, r->params[0], "identity:ec2_list_credentials")) return;
    if (find_or_reply(r, MC_K_USER, "user", r->params[0]) == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "credentials");
    for (mc_record *c = mc_store_first(&r->srv->world[MC_K_CREDENTIAL]); c; c = mc_store_next(c))
        if (mc_str_eq(mc_json_str(c->doc, "user_id"), r->params[0]) && mc_str_eq(mc_json_str(c->doc, "type"), EC2_TYPE))
            cJSON_AddItemToArray(arr, ec2_view(r, c));
    char path[200];
    snprintf(path, sizeof path, "/v3/users/%s/credentials/OS-EC2", r->params[0]);
    cJSON_AddItemToObject(root, "links", links_self(r, path));
    mc_reply_json(r, 200, root);
}

/* GET/DELETE of one EC2 credential, in Keystone's order: the credential
 * (404), the policy on its owner (403), the user in the path (404), its
 * type (401 "EC2 access key not found."). */
static mc_record *ec2_find_or_reply(mc_req *r, const char *action) {
    char id[65];
    ec2_cred_id(r->params[1], id);
    mc_record *c = find_or_reply(r, MC_K_CREDENTIAL, "credential", id);
    if (c == NULL || !ec2_owner_or_reply(r, mc_json_str(c->doc, "user_id"), action)) return NULL;
    if (find_or_reply(r, MC_K_USER, "user", r->params[0]) == NULL) return NULL;
    if (!mc_str_eq(mc_json_str(c->doc, "type"), EC2_TYPE)) {
        mc_reply_error(r, 401, NULL, "EC2 access key not found.");
        return NULL;
    }
    return c;
}

static void identity_ec2_show(mc_req *r) {
    mc_record *c = ec2_find_or_reply(r, "identity:ec2_get_credential");
    if (c == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "credential", ec2_view(r, c));
    mc_reply_json(r, 200, root);
}

static void identity_ec2_delete(mc_req *r) {
    mc_record *c = ec2_find_or_reply(r, "identity:ec2_delete_credential");
    if (c == NULL) return;
    mc_store_delete(&r->srv->world[MC_K_CREDENTIAL], c);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- routes */

#define GET EVHTTP_REQ_GET
#define HEAD EVHTTP_REQ_HEAD
#define POST EVHTTP_REQ_POST
#define PUT EVHTTP_REQ_PUT
#define PATCH EVHTTP_REQ_PATCH
#define DEL EVHTTP_REQ_DELETE

/* The rows of one resource kind, by the handlers' names (identity_<k>_list,
 * _create, _show, _update, _delete): list and create on the collection,
 * show, PATCH and DELETE on one; reads need 'rd' (0 or MC_ADMIN), writes are
 * the admin's (Keystone's default policy). */
#define ROW(m, path, h, fl) {MC_IDENTITY, m, "/v3/" path, h, fl}
#define CRUD(coll, k, rd)                                                                                      \
    ROW(GET, coll, identity_##k##_list, rd), ROW(POST, coll, identity_##k##_create, MC_ADMIN | MC_BODY_JSON), \
    ROW(GET, coll "/{}", identity_##k##_show, rd), ROW(PATCH, coll "/{}", identity_##k##_update, MC_ADMIN | MC_BODY_JSON), \
    ROW(DEL, coll "/{}", identity_##k##_delete, MC_ADMIN)
/* A grant kind (identity_admin.c): the list of an actor's roles on a target
 * and one grant (PUT, DELETE, HEAD/GET), admin only. */
#define GRANTS(base, k)                                                                                        \
    ROW(GET, base "/roles", identity_grants_##k, MC_ADMIN),                                                    \
    ROW(PUT | DEL | HEAD | GET, base "/roles/{}", identity_grant_##k, MC_ADMIN)
#define INHERITED(base, k) ROW(PUT | DEL | HEAD | GET, base "/roles/{}/inherited_to_projects", identity_grant_##k, MC_ADMIN)

const mc_route identity_routes[] = {
    {MC_IDENTITY, GET, "/", identity_versions, MC_NO_AUTH},
    {MC_IDENTITY, GET, "/v3", identity_v3, MC_NO_AUTH},
    {MC_IDENTITY, POST, "/v3/auth/tokens", identity_token_issue, MC_NO_AUTH | MC_BODY_JSON},
    {MC_IDENTITY, GET | HEAD, "/v3/auth/tokens", identity_token_validate, 0},
    {MC_IDENTITY, DEL, "/v3/auth/tokens", identity_token_revoke, 0},
    {MC_IDENTITY, GET, "/v3/auth/catalog", identity_auth_catalog, 0},
    {MC_IDENTITY, GET, "/v3/auth/projects", identity_auth_projects, 0},
    {MC_IDENTITY, GET, "/v3/auth/domains", identity_auth_domains, 0},
    /* identity_catalog.c: regions, services, endpoints, policies, OS-EP-FILTER */
    CRUD("regions", region, 0),
    ROW(PUT, "regions/{}", identity_region_put, MC_ADMIN | MC_BODY_JSON),
    CRUD("services", service, MC_ADMIN),
    CRUD("endpoints", endpoint, MC_ADMIN),
    CRUD("policies", policy, MC_ADMIN),
    ROW(HEAD, "OS-EP-FILTER/endpoint_groups/{}", identity_epgroup_show, MC_ADMIN),
    CRUD("OS-EP-FILTER/endpoint_groups", epgroup, MC_ADMIN),
    {MC_IDENTITY, POST, "/v3/ec2tokens", identity_ec2tokens, MC_NO_AUTH | MC_BODY_JSON},
    {MC_IDENTITY, GET, "/v3/OS-TRUST/trusts", identity_trust_list, 0},
    {MC_IDENTITY, POST, "/v3/OS-TRUST/trusts", identity_trust_create, MC_BODY_JSON},
    {MC_IDENTITY, GET, "/v3/OS-TRUST/trusts/{}", identity_trust_show, 0},
    {MC_IDENTITY, DEL, "/v3/OS-TRUST/trusts/{}", identity_trust_delete, 0},
    {MC_IDENTITY, GET, "/v3/OS-TRUST/trusts/{}/roles", identity_trust_roles, 0},
    {MC_IDENTITY, GET | HEAD, "/v3/OS-TRUST/trusts/{}/roles/{}", identity_trust_roles, 0},
    CRUD("OS-OAUTH1/consumers", consumer, MC_ADMIN),
    {MC_IDENTITY, GET, "/v3/domains/config/default", identity_domain_config_default, MC_ADMIN},
    {MC_IDENTITY, GET, "/v3/domains/config/{}/default", identity_domain_config_default, MC_ADMIN},
    {MC_IDENTITY, GET, "/v3/domains/config/{}/{}/default", identity_domain_config_default, MC_ADMIN},
    {MC_IDENTITY, GET | PUT | PATCH | DEL, "/v3/domains/{}/config", identity_domain_config, MC_ADMIN | MC_BODY_OPT},
    {MC_IDENTITY, GET | PATCH | DEL, "/v3/domains/{}/config/{}", identity_domain_config, MC_ADMIN | MC_BODY_OPT},
    {MC_IDENTITY, GET | PATCH | DEL, "/v3/domains/{}/config/{}/{}", identity_domain_config, MC_ADMIN | MC_BODY_OPT},
    CRUD("domains", domain, 0),
    /* identity_admin.c: groups, grants of every kind, implied roles */
    GRANTS("domains/{}/users/{}", du),
    GRANTS("domains/{}/groups/{}", dg),
    GRANTS("projects/{}/groups/{}", pg),
    GRANTS("system/users/{}", su),
    GRANTS("system/groups/{}", sg),
    ROW(GET, "OS-INHERIT/domains/{}/users/{}/roles/inherited_to_projects", identity_grants_idu, MC_ADMIN),
    INHERITED("OS-INHERIT/domains/{}/users/{}", idu),
    ROW(GET, "OS-INHERIT/domains/{}/groups/{}/roles/inherited_to_projects", identity_grants_idg, MC_ADMIN),
    INHERITED("OS-INHERIT/domains/{}/groups/{}", idg),
    INHERITED("OS-INHERIT/projects/{}/users/{}", ipu),
    INHERITED("OS-INHERIT/projects/{}/groups/{}", ipg),
    CRUD("groups", group, MC_ADMIN),
    {MC_IDENTITY, GET, "/v3/groups/{}/users", identity_group_users, MC_ADMIN},
    {MC_IDENTITY, PUT | DEL | HEAD | GET, "/v3/groups/{}/users/{}", identity_group_member, MC_ADMIN},
    {MC_IDENTITY, GET, "/v3/users/{}/groups", identity_user_groups, 0},
    {MC_IDENTITY, GET, "/v3/roles/{}/implies", identity_role_implies_list, MC_ADMIN},
    {MC_IDENTITY, PUT | DEL | HEAD | GET, "/v3/roles/{}/implies/{}", identity_role_implies, MC_ADMIN},
    {MC_IDENTITY, GET, "/v3/role_inferences", identity_role_inferences, MC_ADMIN},
    {MC_IDENTITY, PATCH, "/v3/roles/{}", identity_role_update, MC_ADMIN | MC_BODY_JSON},
    CRUD("projects", project, 0),
    {MC_IDENTITY, GET | PUT | DEL, "/v3/projects/{}/tags", identity_project_tags, MC_BODY_OPT},
    {MC_IDENTITY, GET | HEAD | PUT | DEL, "/v3/projects/{}/tags/{}", identity_project_tag, MC_BODY_OPT},
    GRANTS("projects/{}/users/{}", pu),
    ROW(GET, "users", identity_user_list, MC_ADMIN),   /* a user shows themself: not CRUD's flags */
    ROW(POST, "users", identity_user_create, MC_ADMIN | MC_BODY_JSON),
    ROW(GET, "users/{}", identity_user_show, 0),
    ROW(PATCH, "users/{}", identity_user_update, MC_ADMIN | MC_BODY_JSON),
    ROW(DEL, "users/{}", identity_user_delete, MC_ADMIN),
    {MC_IDENTITY, POST, "/v3/users/{}/password", identity_user_password, MC_NO_AUTH | MC_BODY_JSON},
    {MC_IDENTITY, GET, "/v3/users/{}/projects", identity_user_projects, 0},
    {MC_IDENTITY, GET, "/v3/users/{}/application_credentials", identity_appcred_list, 0},
    {MC_IDENTITY, POST, "/v3/users/{}/application_credentials", identity_appcred_create, MC_BODY_JSON},
    {MC_IDENTITY, GET, "/v3/users/{}/application_credentials/{}", identity_appcred_show, 0},
    {MC_IDENTITY, DEL, "/v3/users/{}/application_credentials/{}", identity_appcred_delete, 0},
    {MC_IDENTITY, GET, "/v3/users/{}/access_rules", identity_access_rule_list, 0},
    {MC_IDENTITY, GET | DEL, "/v3/users/{}/access_rules/{}", identity_access_rule, 0},
    {MC_IDENTITY, GET, "/v3/users/{}/credentials/OS-EC2", identity_ec2_list, 0},
    {MC_IDENTITY, POST, "/v3/users/{}/credentials/OS-EC2", identity_ec2_create, MC_BODY_OPT},
    {MC_IDENTITY, GET, "/v3/users/{}/credentials/OS-EC2/{}", identity_ec2_show, 0},
    {MC_IDENTITY, DEL, "/v3/users/{}/credentials/OS-EC2/{}", identity_ec2_delete, 0},
    /* credentials: each user their own (the handlers check), so no MC_ADMIN */
    ROW(GET, "credentials", identity_credential_list, 0),
    ROW(POST, "credentials", identity_credential_create, MC_BODY_JSON),
    ROW(GET, "credentials/{}", identity_credential_show, 0),
    ROW(PATCH, "credentials/{}", identity_credential_update, MC_BODY_JSON),
    ROW(DEL, "credentials/{}", identity_credential_delete, 0),
    {MC_IDENTITY, GET, "/v3/roles", identity_role_list, MC_ADMIN},
    {MC_IDENTITY, POST, "/v3/roles", identity_role_create, MC_ADMIN | MC_BODY_JSON},
    {MC_IDENTITY, GET, "/v3/roles/{}", identity_role_show, MC_ADMIN},
    {MC_IDENTITY, DEL, "/v3/roles/{}", identity_role_delete, MC_ADMIN},
    {MC_IDENTITY, GET, "/v3/role_assignments", identity_role_assignments, 0},
};
const size_t identity_nroutes = sizeof identity_routes / sizeof identity_routes[0];

/* ---------------------------------------------------------------- fixtures */

/* One fixtures tree (fixtures/identity.json, or the "identity" part of a
 * POST /mockcloud/v1/fixtures): its region when new, then domains,
 * projects, users, roles and assignments. The state settings of the file
 * (security_compliance) are identity_seed's. */
int identity_seed_tree(mc_server *srv, const cJSON *fx, char *err, size_t errsz) {
    const char *region = mc_json_str(fx, "region");
    if (region != NULL && mc_store_find(&srv->world[MC_K_REGION], region) == NULL)
        mc_store_add(&srv->world[MC_K_REGION], region, "", cJSON_CreateObject());
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(fx, "domains")) {
        const char *id = mc_json_str(x, "id");
        if (id == NULL || mc_json_str(x, "name") == NULL) {
            snprintf(err, errsz, "every domain needs 'id' and 'name'");
            return -1;
        }
        cJSON *doc = cJSON_Duplicate(x, 1);
        if (!mc_json_has(doc, "description")) cJSON_AddStringToObject(doc, "description", "");
        if (!mc_json_has(doc, "enabled")) cJSON_AddBoolToObject(doc, "enabled", true);
        cJSON_AddItemToObject(doc, "tags", cJSON_CreateArray());
        cJSON_AddItemToObject(doc, "options", cJSON_CreateObject());
        if (mc_store_add(&srv->world[MC_K_DOMAIN], id, "", doc) == NULL) {
            cJSON_Delete(doc);
            snprintf(err, errsz, "duplicate domain id '%.64s'", id);
            return -1;
        }
    }
    cJSON_ArrayForEach(x, mc_json_arr(fx, "projects")) {
        const char *id = mc_json_str(x, "id");
        const char *dom = mc_json_str(x, "domain_id");
        if (id == NULL || mc_json_str(x, "name") == NULL || dom == NULL) {
            snprintf(err, errsz, "every project needs 'id', 'name' and 'domain_id'");
            return -1;
        }
        cJSON *doc = cJSON_Duplicate(x, 1);
        if (!mc_json_has(doc, "description")) cJSON_AddStringToObject(doc, "description", "");
        if (!mc_json_has(doc, "enabled")) cJSON_AddBoolToObject(doc, "enabled", true);
        cJSON_AddStringToObject(doc, "parent_id", dom);
        cJSON_AddBoolToObject(doc, "is_domain", false);
        cJSON_AddItemToObject(doc, "tags", cJSON_CreateArray());
        cJSON_AddItemToObject(doc, "options", cJSON_CreateObject());
        if (mc_store_add(&srv->world[MC_K_PROJECT], id, id, doc) == NULL) {
            cJSON_Delete(doc);
            snprintf(err, errsz, "duplicate project id '%.64s'", id);
            return -1;
        }
    }
    cJSON_ArrayForEach(x, mc_json_arr(fx, "users")) {
        const char *id = mc_json_str(x, "id");
        const char *dom = mc_json_str(x, "domain_id");
        if (id == NULL || mc_json_str(x, "name") == NULL || dom == NULL) {
            snprintf(err, errsz, "every user needs 'id', 'name' and 'domain_id'");
            return -1;
        }
        mc_record *u = user_add(srv, id, x, dom, mc_json_str(x, "password"));
        if (u == NULL) {
            snprintf(err, errsz, "duplicate user id '%.64s'", id);
            return -1;
        }
        const char *cloud = mc_json_str(x, "cloud");
        if (cloud) cJSON_AddStringToObject(u->doc, "_cloud", cloud);
    }
    cJSON_ArrayForEach(x, mc_json_arr(fx, "roles")) {
        const char *id = mc_json_str(x, "id"), *name = mc_json_str(x, "name");
        if (id == NULL || name == NULL) {
            snprintf(err, errsz, "every role needs 'id' and 'name'");
            return -1;
        }
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "id", id);
        cJSON_AddStringToObject(doc, "name", name);
        cJSON_AddNullToObject(doc, "domain_id");
        cJSON_AddItemToObject(doc, "options", cJSON_CreateObject());
        const char *implies = mc_json_str(x, "implies");
        if (implies) cJSON_AddStringToObject(doc, "_implies", implies);
        if (mc_store_add(&srv->world[MC_K_ROLE], id, "", doc) == NULL) {
            cJSON_Delete(doc);
            snprintf(err, errsz, "duplicate role id '%.64s'", id);
            return -1;
        }
    }
    if (idadm_seed_groups(srv, fx, err, errsz) != 0) return -1;
    cJSON_ArrayForEach(x, mc_json_arr(fx, "assignments")) {
        const char *un = mc_json_str(x, "user"), *pn = mc_json_str(x, "project"), *rn = mc_json_str(x, "role");
        const char *dn = mc_json_str(x, "domain"), *gn = mc_json_str(x, "group");
        bool sys = mc_json_str(x, "system") != NULL;
        cJSON *uref = cJSON_CreateObject(), *dref = cJSON_CreateObject();
        cJSON_AddStringToObject(dref, "id", "default");
        cJSON_AddStringToObject(uref, "name", un ? un : gn ? gn : "");
        cJSON_AddItemToObject(uref, "domain", dref);
        mc_record *u = find_by_name_in_domain(srv, un ? MC_K_USER : MC_K_GROUP, uref);
        mc_record *t = NULL;
        if (sys) {
            t = NULL;
        } else if (pn) {
            cJSON_ReplaceItemInObjectCaseSensitive(uref, "name", cJSON_CreateString(pn));
            t = find_by_name_in_domain(srv, MC_K_PROJECT, uref);
        } else if (dn) {
            cJSON_ReplaceItemInObjectCaseSensitive(uref, "name", cJSON_CreateString(dn));
            cJSON_DeleteItemFromObjectCaseSensitive(uref, "domain");
            t = find_domain(srv, uref);
        }
        cJSON_Delete(uref);
        mc_record *role = rn ? find_role_by_name(srv, rn) : NULL;
        if (u == NULL || (t == NULL && !sys) || role == NULL) {
            snprintf(err, errsz, "an assignment names an unknown user or group, project/domain or role");
            return -1;
        }
        idadm_assignment_add(srv, un == NULL, u->id, sys ? "system" : pn ? "project" : "domain", sys ? "all" : t->id,
                             role->id, false);
    }
    return 0;
}

int identity_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    char path[1024], why[400];
    snprintf(path, sizeof path, "%s/identity.json", dir);
    cJSON *fx = mc_json_load_file(path, err, errsz);
    if (fx == NULL) return -1;
    int rc = -1;
    if (mc_json_str(fx, "region") == NULL)
        mc_store_add(&srv->world[MC_K_REGION], "RegionOne", "", cJSON_CreateObject());
    /* Security compliance (Keystone's [security_compliance] options) apply to
     * every user, from the fixtures and created later through the API. */
    cJSON *sc = mc_json_obj(fx, "security_compliance");
    if (sc != NULL) {
        for (int i = 0; compliance_keys[i] != NULL; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(sc, compliance_keys[i]);
            if (v != NULL && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9)) {
                snprintf(err, errsz, "%s: security_compliance values must be numbers from 0 to 1e9", path);
                goto out;
            }
        }
        srv->svc_state[MC_IDENTITY] = cJSON_Duplicate(sc, 1);
    }
    if (identity_seed_tree(srv, fx, why, sizeof why) != 0 || identity_catalog_seed(srv, why, sizeof why) != 0) {
        snprintf(err, errsz, "%s: %s", path, why);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(fx);
    return rc;
}

/* Whether a domain (by id, or also by name) is in the world or the post. */
static bool fx_domain_known(const mc_fx *fx, const char *ref, bool by_name) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, by_name ? "name" : "id", ref);
    bool found = find_domain(fx->srv, r) != NULL;
    cJSON_Delete(r);
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_fx_posted(fx, "identity", "domains"))
        found |= mc_str_eq(mc_json_str(x, by_name ? "name" : "id"), ref);
    return found;
}

/* Whether a user or project named 'name' in domain 'dom' is in the world or the post. */
static bool fx_named_in_domain(const mc_fx *fx, mc_kind kind, const char *list, const char *name, const char *dom) {
    for (mc_record *x = mc_store_first(&fx->srv->world[kind]); x; x = mc_store_next(x))
        if (mc_str_eq(mc_json_str(x->doc, "name"), name) && mc_str_eq(mc_json_str(x->doc, "domain_id"), dom)) return true;
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_fx_posted(fx, "identity", list))
        if (mc_str_eq(mc_json_str(x, "name"), name) && mc_str_eq(mc_json_str(x, "domain_id"), dom)) return true;
    return false;
}

/* A posted project or user ('what'): its id is free in the world and the
 * post, its domain exists, and its name is new in that domain. */
static int fx_owned_by_domain(mc_fx *fx, const char *w, const cJSON *list, const cJSON *x, mc_kind kind,
                              const char *what) {
    const char *id = mc_json_str(x, "id"), *name = mc_json_str(x, "name"), *dom = mc_json_str(x, "domain_id");
    if (mc_store_find(&fx->srv->world[kind], id) || mc_fx_dup_before(list, x, "id", NULL))
        return mc_fx_fail(fx, "%s: %s id '%s' is taken", w, what, id);
    if (!fx_domain_known(fx, dom, false)) return mc_fx_fail(fx, "%s: 'domain_id' names no domain: '%s'", w, dom);
    if (mc_fx_dup_before(list, x, "name", "domain_id") || fx_named_in_domain(fx, kind, "", name, dom))
        return mc_fx_fail(fx, "%s: domain '%s' already has a %s named '%s'", w, dom, what, name);
    return 0;
}

static bool fx_role_known(const mc_fx *fx, const char *name) {
    if (find_role_by_name(fx->srv, name) != NULL) return true;
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_fx_posted(fx, "identity", "roles")) if (mc_str_eq(mc_json_str(x, "name"), name)) return true;
    return false;
}

/* Identity ids are at most 36 characters: an assignment's key holds three. */
#define FX_ID_MAX 36

int identity_fixtures_check(mc_fx *fx, const cJSON *t) {
    static const char *const keys[] = {"region", "domains", "projects", "users", "roles", "assignments", "groups", NULL};
    if (mc_json_has(t, "security_compliance"))
        return mc_fx_fail(fx, "identity: 'security_compliance' is a setting of fixtures/identity.json, read at start and on reset; it cannot be posted");
    if (mc_fx_keys(fx, "identity", t, keys) || mc_fx_id(fx, "identity", t, "region", false, 64)) return -1;
    for (int i = 1; keys[i] != NULL; i++)
        if (mc_fx_list(fx, "identity", t, keys[i])) return -1;
    char w[96];
    int i = 0;
    const cJSON *x, *list = mc_json_arr(t, "domains");
    cJSON_ArrayForEach(x, list) {
        snprintf(w, sizeof w, "identity.domains[%d]", i++);
        if (mc_fx_id(fx, w, x, "id", true, FX_ID_MAX) || mc_fx_str(fx, w, x, "name", true, 64) ||
            mc_fx_str(fx, w, x, "description", false, 255) || mc_fx_bool(fx, w, x, "enabled"))
            return -1;
        const char *id = mc_json_str(x, "id"), *name = mc_json_str(x, "name");
        if (mc_store_find(&fx->srv->world[MC_K_DOMAIN], id) || mc_fx_dup_before(list, x, "id", NULL))
            return mc_fx_fail(fx, "%s: domain id '%s' is taken", w, id);
        bool named = mc_fx_dup_before(list, x, "name", NULL);
        for (mc_record *d = mc_store_first(&fx->srv->world[MC_K_DOMAIN]); d; d = mc_store_next(d))
            named |= mc_str_eq(mc_json_str(d->doc, "name"), name);
        if (named) return mc_fx_fail(fx, "%s: a domain is already named '%s'", w, name);
    }
    i = 0;
    list = mc_json_arr(t, "projects");
    cJSON_ArrayForEach(x, list) {
        snprintf(w, sizeof w, "identity.projects[%d]", i++);
        if (mc_fx_id(fx, w, x, "id", true, FX_ID_MAX) || mc_fx_str(fx, w, x, "name", true, 64) ||
            mc_fx_id(fx, w, x, "domain_id", true, FX_ID_MAX) || mc_fx_str(fx, w, x, "description", false, 255) ||
            mc_fx_bool(fx, w, x, "enabled"))
            return -1;
        if (fx_owned_by_domain(fx, w, list, x, MC_K_PROJECT, "project") != 0) return -1;
    }
    i = 0;
    list = mc_json_arr(t, "users");
    cJSON_ArrayForEach(x, list) {
        snprintf(w, sizeof w, "identity.users[%d]", i++);
        if (mc_fx_id(fx, w, x, "id", true, FX_ID_MAX) || mc_fx_str(fx, w, x, "name", true, 255) ||
            mc_fx_id(fx, w, x, "domain_id", true, FX_ID_MAX) || mc_fx_str(fx, w, x, "password", false, 4096) ||
            mc_fx_id(fx, w, x, "default_project_id", false, FX_ID_MAX) || mc_fx_str(fx, w, x, "email", false, 255) ||
            mc_fx_str(fx, w, x, "description", false, 255) || mc_fx_bool(fx, w, x, "enabled") ||
            mc_fx_id(fx, w, x, "cloud", false, 64) || mc_fx_obj(fx, w, x, "options"))
            return -1;
        if (fx_owned_by_domain(fx, w, list, x, MC_K_USER, "user") != 0) return -1;
        const char *dp = mc_json_str(x, "default_project_id");
        if (dp != NULL && !mc_fx_project_known(fx, dp, false))
            return mc_fx_fail(fx, "%s: 'default_project_id' names no project: '%s'", w, dp);
    }
    i = 0;
    list = mc_json_arr(t, "roles");
    cJSON_ArrayForEach(x, list) {
        snprintf(w, sizeof w, "identity.roles[%d]", i++);
        if (mc_fx_id(fx, w, x, "id", true, FX_ID_MAX) || mc_fx_str(fx, w, x, "name", true, 255) ||
            mc_fx_str(fx, w, x, "implies", false, 255))
            return -1;
        const char *id = mc_json_str(x, "id"), *name = mc_json_str(x, "name"), *imp = mc_json_str(x, "implies");
        if (mc_store_find(&fx->srv->world[MC_K_ROLE], id) || mc_fx_dup_before(list, x, "id", NULL))
            return mc_fx_fail(fx, "%s: role id '%s' is taken", w, id);
        if (find_role_by_name(fx->srv, name) || mc_fx_dup_before(list, x, "name", NULL))
            return mc_fx_fail(fx, "%s: a role is already named '%s'", w, name);
        if (imp != NULL && !fx_role_known(fx, imp)) return mc_fx_fail(fx, "%s: 'implies' names no role: '%s'", w, imp);
    }
    i = 0;
    list = mc_json_arr(t, "groups");
    cJSON_ArrayForEach(x, list) {
        snprintf(w, sizeof w, "identity.groups[%d]", i++);
        if (mc_fx_keys(fx, w, x, (const char *const[]){"id", "name", "domain_id", "description", "users", NULL}) ||
            mc_fx_id(fx, w, x, "id", true, FX_ID_MAX) || mc_fx_str(fx, w, x, "name", true, 255) ||
            mc_fx_id(fx, w, x, "domain_id", true, FX_ID_MAX) || mc_fx_str(fx, w, x, "description", false, 255))
            return -1;
        if (fx_owned_by_domain(fx, w, list, x, MC_K_GROUP, "group") != 0) return -1;
        const cJSON *members = cJSON_GetObjectItemCaseSensitive(x, "users"), *m;
        if (members != NULL && !cJSON_IsArray(members)) return mc_fx_fail(fx, "%s: 'users' must be an array of user names", w);
        cJSON_ArrayForEach(m, members)
            if (!cJSON_IsString(m) || !fx_named_in_domain(fx, MC_K_USER, "users", m->valuestring, mc_json_str(x, "domain_id")))
                return mc_fx_fail(fx, "%s: 'users' names no user of domain '%s'", w, mc_json_str(x, "domain_id"));
    }
    i = 0;
    cJSON_ArrayForEach(x, mc_json_arr(t, "assignments")) {
        snprintf(w, sizeof w, "identity.assignments[%d]", i++);
        if (mc_fx_keys(fx, w, x, (const char *const[]){"user", "group", "project", "domain", "system", "role", NULL}) ||
            mc_fx_str(fx, w, x, "user", false, 255) || mc_fx_str(fx, w, x, "group", false, 255) ||
            mc_fx_str(fx, w, x, "role", true, 255) ||
            mc_fx_str(fx, w, x, "project", false, 64) || mc_fx_str(fx, w, x, "domain", false, 64))
            return -1;
        const char *un = mc_json_str(x, "user"), *pn = mc_json_str(x, "project"), *dn = mc_json_str(x, "domain");
        const char *gn = mc_json_str(x, "group");
        const char *rn = mc_json_str(x, "role");
        const char *sn = mc_json_str(x, "system");
        if (sn != NULL && !mc_str_eq(sn, "all")) return mc_fx_fail(fx, "%s: 'system' must be \"all\"", w);
        if ((pn != NULL) + (dn != NULL) + (sn != NULL) != 1)
            return mc_fx_fail(fx, "%s: give one of 'project' or 'domain' (a name), or 'system': \"all\"", w);
        if ((un == NULL) == (gn == NULL)) return mc_fx_fail(fx, "%s: give either 'user' or 'group' (a name)", w);
        if (gn != NULL && !fx_named_in_domain(fx, MC_K_GROUP, "groups", gn, "default"))
            return mc_fx_fail(fx, "%s: 'group' names no group of domain 'default': '%s'", w, gn);
        if (un != NULL && !fx_named_in_domain(fx, MC_K_USER, "users", un, "default"))
            return mc_fx_fail(fx, "%s: 'user' names no user of domain 'default': '%s'", w, un);
        if (pn != NULL && !fx_named_in_domain(fx, MC_K_PROJECT, "projects", pn, "default"))
            return mc_fx_fail(fx, "%s: 'project' names no project of domain 'default': '%s'", w, pn);
        if (dn != NULL && !fx_domain_known(fx, dn, true)) return mc_fx_fail(fx, "%s: 'domain' names no domain: '%s'", w, dn);
        if (!fx_role_known(fx, rn)) return mc_fx_fail(fx, "%s: 'role' names no role: '%s'", w, rn);
    }
    return 0;
}

void identity_reset(mc_server *srv) {
    cJSON_Delete(srv->svc_state[MC_IDENTITY]);
    srv->svc_state[MC_IDENTITY] = NULL;
}

/* ---------------------------------------------------------------- clouds.yaml */

char *identity_clouds_yaml(mc_server *srv) {
    size_t cap = 8192, len = 0;
    char *out = malloc(cap);
    if (out == NULL) mc_panic("out of memory");
    len += (size_t)snprintf(out + len, cap - len,
                            "# clouds.yaml for mockcloud at %s (profile %s)\n"
                            "# Use: openstack --os-cloud mockcloud token issue\nclouds:\n",
                            srv->public_url, mc_profile_name(srv->profile));
    for (mc_record *u = mc_store_first(&srv->world[MC_K_USER]); u; u = mc_store_next(u)) {
        const char *cloud = mc_json_str(u->doc, "_cloud");
        const char *pid = mc_json_str(u->doc, "default_project_id");
        mc_record *p = pid ? mc_store_find(&srv->world[MC_K_PROJECT], pid) : NULL;
        mc_record *d = mc_store_find(&srv->world[MC_K_DOMAIN], mc_json_str(u->doc, "domain_id"));
        user_priv *up = u->priv;
        if (cloud == NULL || p == NULL || d == NULL || up->password == NULL) continue;
        mc_record *pd = mc_store_find(&srv->world[MC_K_DOMAIN], mc_json_str(p->doc, "domain_id"));
        if (len + 1024 > cap) {
            cap *= 2;
            char *n = realloc(out, cap);
            if (n == NULL) mc_panic("out of memory");
            out = n;
        }
        len += (size_t)snprintf(out + len, cap - len,
                                "  %s:\n"
                                "    auth:\n"
                                "      auth_url: %s/identity/v3\n"
                                "      username: \"%s\"\n"
                                "      password: \"%s\"\n"
                                "      project_name: \"%s\"\n"
                                "      user_domain_name: \"%s\"\n"
                                "      project_domain_name: \"%s\"\n"
                                "    region_name: %s\n"
                                "    interface: public\n"
                                "    identity_api_version: 3\n",
                                cloud, srv->public_url, mc_json_str(u->doc, "name"), up->password,
                                mc_json_str(p->doc, "name"), mc_json_str(d->doc, "name"),
                                pd ? mc_json_str(pd->doc, "name") : "Default", region_name(srv));
    }
    return out;
}
