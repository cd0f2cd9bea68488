/* identity_catalog.c -- Keystone v3's catalog administration: regions,
 * services and endpoints (the service catalog of every token is built from
 * them here), policies, OS-EP-FILTER endpoint groups, OS-TRUST trusts (and
 * the trust-scoped tokens identity.c issues through them), OS-OAUTH1
 * consumers, domain configuration and /v3/ec2tokens.
 *
 * Records: regions (MC_K_REGION, keyed by their id, which the user may
 * choose), services (MC_K_SERVICE), endpoints (MC_K_ENDPOINT), policies
 * (MC_K_POLICY) and endpoint groups (MC_K_EP_GROUP) keep their API shape in
 * 'doc'. The seeded services and endpoints (identity_catalog_seed: Keystone,
 * Nova, Neutron and Glance, three interfaces each) hold a service-relative
 * "_path" instead of a "url", so their URLs follow --listen/--public-url;
 * PATCHing a url onto one makes it an ordinary endpoint. Every change to
 * regions, services or endpoints drops identity.c's cached catalog text. */
#include "auth.h"
#include "http.h"
#include "identity_int.h"
#include "profile.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define W(r, k) (&(r)->srv->world[k])

/* ---------------------------------------------------------------- seeding */

typedef struct {
    const char *type, *name, *path;
    const char *version;      /* appended by the catalog.version_in_url deviation */
} seed_service;

static const seed_service seed_services[] = {
    {"identity", "keystone", "/identity", "/v3"},
    {"compute", "nova", "/compute/v2.1", ""},
    {"network", "neutron", "/network", "/v2.0"},
    {"image", "glance", "/image", "/v2"},
    /* Cinder as devstack registers it: both types, the project in the URL */
    {"volumev3", "cinderv3", "/volume/v3/$(project_id)s", ""},
    {"block-storage", "cinder", "/volume/v3/$(project_id)s", ""},
};

static const char *const interfaces[] = {"public", "internal", "admin"};

static cJSON *state(mc_server *srv);

static void stable_id(const char *a, const char *b, char out[33]) {
    /* FNV-1a over both strings, twice, for ids that stay put across restarts. */
    uint64_t h1 = 1469598103934665603ULL, h2 = 1099511628211ULL * 31;
    for (const char *p = a; *p; p++) h1 = (h1 ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = b; *p; p++) h1 = (h1 ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = b; *p; p++) h2 = (h2 ^ (unsigned char)*p) * 1469598103934665603ULL;
    for (const char *p = a; *p; p++) h2 = (h2 ^ (unsigned char)*p) * 1469598103934665603ULL;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[i] = hex[(h1 >> (60 - 4 * i)) & 15];
        out[16 + i] = hex[(h2 >> (60 - 4 * i)) & 15];
    }
    out[32] = '\0';
}

/* The four services mockcloud serves and their public, internal and admin
 * endpoints, in the first region; ids are stable across restarts. */
int identity_catalog_seed(mc_server *srv, char *err, size_t errsz) {
    mc_record *reg = mc_store_first(&srv->world[MC_K_REGION]);
    const char *region = reg ? reg->id : "RegionOne";
    for (size_t i = 0; i < sizeof seed_services / sizeof seed_services[0]; i++) {
        const seed_service *ss = &seed_services[i];
        char sid[33], eid[33];
        stable_id(ss->type, ss->name, sid);
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "id", sid);
        cJSON_AddStringToObject(doc, "type", ss->type);
        cJSON_AddStringToObject(doc, "name", ss->name);
        cJSON_AddBoolToObject(doc, "enabled", true);
        if (mc_store_add(&srv->world[MC_K_SERVICE], sid, "", doc) == NULL) {
            cJSON_Delete(doc);
            snprintf(err, errsz, "duplicate service '%s'", ss->type);
            return -1;
        }
        for (size_t j = 0; j < sizeof interfaces / sizeof interfaces[0]; j++) {
            stable_id(ss->type, interfaces[j], eid);
            doc = cJSON_CreateObject();
            cJSON_AddStringToObject(doc, "id", eid);
            cJSON_AddStringToObject(doc, "interface", interfaces[j]);
            cJSON_AddStringToObject(doc, "region_id", region);
            cJSON_AddStringToObject(doc, "service_id", sid);
            cJSON_AddBoolToObject(doc, "enabled", true);
            cJSON_AddStringToObject(doc, "_path", ss->path);
            cJSON_AddStringToObject(doc, "_version", ss->version);
            if (mc_store_add(&srv->world[MC_K_ENDPOINT], eid, "", doc) == NULL) {
                cJSON_Delete(doc);
                snprintf(err, errsz, "duplicate endpoint '%s %s'", ss->type, interfaces[j]);
                return -1;
            }
        }
    }
    /* the volume URLs carry the project: the catalog text depends on it */
    mc_json_set(state(srv), "_catalog_templated", cJSON_CreateTrue());
    identity_catalog_changed(srv);
    return 0;
}

/* ---------------------------------------------------------------- catalog */

static cJSON *state(mc_server *srv) {
    cJSON *st = srv->svc_state[MC_IDENTITY];
    if (st == NULL) {
        st = cJSON_CreateObject();
        if (st == NULL) mc_panic("out of memory");
        srv->svc_state[MC_IDENTITY] = st;
    }
    return st;
}

void identity_catalog_changed(mc_server *srv) {
    if (srv->svc_state[MC_IDENTITY] != NULL)
        cJSON_DeleteItemFromObjectCaseSensitive(srv->svc_state[MC_IDENTITY], "_catalog_key");
}

static bool enabled(const mc_record *x) {
    return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(x->doc, "enabled"));
}

/* Is 'iface' in the comma-separated list 'list'? */
static bool iface_listed(const char *list, const char *iface) {
    size_t n = strlen(iface);
    for (const char *p = list; p != NULL && *p != '\0'; p = strchr(p, ','), p = p ? p + 1 : NULL) {
        while (*p == ' ') p++;
        if (strncmp(p, iface, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ')) return true;
    }
    return false;
}

/* Does a URL carry a project substitution ($(project_id)s, %(tenant_id)s)? */
static const char *const url_subst[] = {"$(project_id)s", "%(project_id)s", "$(tenant_id)s", "%(tenant_id)s"};

static bool url_templated(const char *url) {
    for (size_t i = 0; url != NULL && i < sizeof url_subst / sizeof url_subst[0]; i++)
        if (strstr(url, url_subst[i]) != NULL) return true;
    return false;
}

/* Keystone's format_url for the project keys: false (leave the endpoint out)
 * when the URL needs a project and the token has none. */
static bool url_format(const char *url, const char *project_id, char *out, size_t outsz) {
    size_t n = 0;
    for (const char *p = url; *p != '\0';) {
        size_t k = 0;
        for (size_t i = 0; i < sizeof url_subst / sizeof url_subst[0] && k == 0; i++)
            if (strncmp(p, url_subst[i], strlen(url_subst[i])) == 0) k = strlen(url_subst[i]);
        if (k != 0) {
            if (project_id == NULL || project_id[0] == '\0') return false;
            size_t pl = strlen(project_id);
            if (n + pl >= outsz) return false;
            memcpy(out + n, project_id, pl);
            n += pl;
            p += k;
        } else {
            if (n + 1 >= outsz) return false;
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return true;
}

/* The knobs a seeded endpoint's URL reads, read once per service in the
 * same order by the key and the build, so both note the same deviations. */
typedef struct {
    bool omit, ver, proj;
} svc_knobs;

static bool has_seeded_endpoint(mc_server *srv, const char *service_id, const char **version) {
    for (mc_record *e = mc_store_first(&srv->world[MC_K_ENDPOINT]); e; e = mc_store_next(e))
        if (mc_json_str(e->doc, "_path") != NULL && mc_str_eq(mc_json_str(e->doc, "service_id"), service_id)) {
            *version = mc_json_str(e->doc, "_version");
            return true;
        }
    return false;
}

/* The URL knobs name the type first (cheap, and false without a deviation);
 * only then is the service looked for among the seeded endpoints, whose URLs
 * alone they change (every token issue comes through here). */
static void read_knobs(mc_req *r, const mc_record *svc, const char *project_id, svc_knobs *k) {
    const char *type = mc_json_str(svc->doc, "type");
    k->omit = type != NULL && mc_knob_lists(r, MC_KNOB_CATALOG_OMIT, type);
    k->ver = k->proj = false;
    if (k->omit || type == NULL) return;
    const char *version = NULL;
    bool ver = mc_knob_lists(r, MC_KNOB_CATALOG_VERSION_IN_URL, type);
    bool proj = project_id != NULL && project_id[0] != '\0' && mc_knob_lists(r, MC_KNOB_CATALOG_PROJECT_IN_URL, type);
    if ((!ver && !proj) || !has_seeded_endpoint(r->srv, svc->id, &version)) return;
    k->ver = ver && version != NULL && version[0] != '\0';
    k->proj = proj;
}

static const char *catalog_region(mc_req *r) {
    const char *region_knob = mc_knob_srv_str(r->srv, MC_KNOB_CATALOG_REGION);
    if (region_knob != NULL && region_knob[0] != '\0') return mc_knob_str(r, MC_KNOB_CATALOG_REGION);
    return NULL;
}

/* The URL the API shows for an endpoint: its own, or the seeded path under
 * the server's public URL. */
static void endpoint_url(mc_server *srv, const mc_record *e, char *out, size_t outsz) {
    const char *path = mc_json_str(e->doc, "_path");
    if (path != NULL)
        mc_service_url(srv, path, out, outsz);
    else
        mc_strlcpy(out, mc_json_str(e->doc, "url") ? mc_json_str(e->doc, "url") : "", outsz);
}

cJSON *identity_catalog_build(mc_req *r, const char *project_id) {
    mc_server *srv = r->srv;
    cJSON *cat = cJSON_CreateArray();
    const char *region = catalog_region(r);
    const char *ifaces = mc_knob_str(r, MC_KNOB_CATALOG_INTERFACES);
    for (mc_record *s = mc_store_first(&srv->world[MC_K_SERVICE]); s; s = mc_store_next(s)) {
        if (!enabled(s)) continue;
        svc_knobs k;
        read_knobs(r, s, project_id, &k);
        if (k.omit) continue;
        cJSON *svc = cJSON_CreateObject();
        cJSON *eps = cJSON_AddArrayToObject(svc, "endpoints");
        for (mc_record *e = mc_store_first(&srv->world[MC_K_ENDPOINT]); e; e = mc_store_next(e)) {
            if (!enabled(e) || !mc_str_eq(mc_json_str(e->doc, "service_id"), s->id)) continue;
            const char *iface = mc_json_str(e->doc, "interface");
            if (iface == NULL || !iface_listed(ifaces, iface)) continue;
            char url[1024];
            if (mc_json_str(e->doc, "_path") != NULL) {
                endpoint_url(srv, e, url, sizeof url);
                if (url_templated(url)) {   /* Cinder's /volume/v3/$(project_id)s */
                    char tmpl[1024];
                    mc_strlcpy(tmpl, url, sizeof tmpl);
                    if (!url_format(tmpl, project_id, url, sizeof url)) continue;
                }
                size_t ul = strlen(url);
                const char *version = mc_json_str(e->doc, "_version");
                if (k.ver && version != NULL) ul += (size_t)snprintf(url + ul, sizeof url - ul, "%s", version);
                if (k.proj && ul < sizeof url) snprintf(url + ul, sizeof url - ul, "/%s", project_id);
            } else if (!url_format(mc_json_str(e->doc, "url") ? mc_json_str(e->doc, "url") : "", project_id,
                                   url, sizeof url)) {
                continue;
            }
            const cJSON *rid = cJSON_GetObjectItemCaseSensitive(e->doc, "region_id");
            const char *reg = region != NULL ? region : cJSON_IsString(rid) ? rid->valuestring : NULL;
            cJSON *ep = cJSON_CreateObject();
            cJSON_AddStringToObject(ep, "id", e->id);
            cJSON_AddStringToObject(ep, "interface", iface);
            mc_json_set_str(ep, "region_id", reg);
            cJSON_AddStringToObject(ep, "url", url);
            mc_json_set_str(ep, "region", reg);
            cJSON_AddItemToArray(eps, ep);
        }
        cJSON_AddStringToObject(svc, "id", s->id);
        mc_json_set_str(svc, "type", mc_json_str(s->doc, "type"));
        const char *name = mc_json_str(s->doc, "name");
        cJSON_AddStringToObject(svc, "name", name ? name : "");
        cJSON_AddItemToArray(cat, svc);
    }
    return cat;
}

/* Appends 'len' as decimal digits, ':' and the string (the key's unambiguous
 * field form), or one character when s is NULL; false when it does not fit.
 * No snprintf: it was 4,000 instructions of every token reply. */
static bool key_put(char *key, size_t keysz, size_t *n, char c, const char *s) {
    char digits[24];
    size_t dn = 0, sl = 0;
    if (s != NULL) {
        sl = strlen(s);
        size_t v = sl;
        do digits[dn++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    }
    if (*n + 1 + dn + 1 + sl + 1 > keysz) return false;
    if (c != '\0') key[(*n)++] = c;
    while (dn > 0) key[(*n)++] = digits[--dn];
    if (s != NULL) {
        key[(*n)++] = ':';
        memcpy(key + *n, s, sl);
        *n += sl;
    }
    key[*n] = '\0';
    return true;
}

bool identity_catalog_key(mc_req *r, const char *project_id, char *key, size_t keysz) {
    mc_server *srv = r->srv;
    if (mc_profile_rewrites_bodies(srv)) return false;
    const char *region = catalog_region(r);
    const char *ifaces = mc_knob_str(r, MC_KNOB_CATALOG_INTERFACES);
    if (ifaces == NULL) ifaces = "";
    size_t n = 0;
    if (!key_put(key, keysz, &n, '\0', srv->public_url) || !key_put(key, keysz, &n, '\0', region ? region : "-") ||
        !key_put(key, keysz, &n, '\0', ifaces))
        return false;
    /* a URL with a project substitution: the project is part of the text */
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state(srv), "_catalog_templated")) &&
        !key_put(key, keysz, &n, 't', project_id ? project_id : ""))
        return false;
    for (mc_record *s = mc_store_first(&srv->world[MC_K_SERVICE]); s; s = mc_store_next(s)) {
        if (!enabled(s)) continue;
        svc_knobs k;
        read_knobs(r, s, project_id, &k);
        if (k.omit) {
            if (!key_put(key, keysz, &n, 'o', NULL)) return false;
            continue;
        }
        if (!key_put(key, keysz, &n, k.proj ? (k.ver ? 'V' : 'P') : (k.ver ? 'v' : '-'), k.proj ? project_id : NULL))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- helpers */

/* Lists 'kind' as 'collection', keeping the records whose doc field 'f'
 * equals the query's value for each query key of 'filters' (NULL-ended);
 * 'view' shapes each record (public_view when NULL). */
typedef cJSON *(*view_fn)(mc_req *r, const mc_record *x);

static void list_filtered(mc_req *r, mc_kind kind, const char *collection, const char *const *filters, view_fn view) {
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, collection);
    for (mc_record *x = mc_store_first(&r->srv->world[kind]); x; x = mc_store_next(x))
        if (query_matches(r, x, filters, false))
            cJSON_AddItemToArray(arr, view ? view(r, x) : public_view(r, x, collection));
    char path[100];
    snprintf(path, sizeof path, "/v3/%s", collection);
    cJSON_AddItemToObject(root, "links", links_self(r, path));
    mc_reply_json(r, 200, root);
}

static void reply_one(mc_req *r, int status, const char *single, cJSON *view) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, single, view);
    mc_reply_json(r, status, root);
}

/* The body's object 'single' (400 when missing or not an object). */
/* An update's body must not name another id (Keystone's _require_matching_id). */
static int matching_id_or_reply(mc_req *r, const cJSON *in, const char *id) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "id");
    if (v == NULL || (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)) return 0;
    mc_reply_error(r, 400, NULL, "Cannot change ID");
    return -1;
}

/* Copies every member of 'in' but id and links onto 'doc' (Keystone keeps
 * the extra attributes of regions, services, endpoints and policies). */
static void merge_all(cJSON *doc, const cJSON *in) {
    const cJSON *kv;
    cJSON_ArrayForEach(kv, in) {
        if (strcmp(kv->string, "id") == 0 || strcmp(kv->string, "links") == 0 || kv->string[0] == '_') continue;
        mc_json_set(doc, kv->string, cJSON_Duplicate(kv, 1));
    }
}

/* ---------------------------------------------------------------- regions */

static cJSON *region_view(mc_req *r, const mc_record *x) {
    cJSON *o = public_view(r, x, "regions");
    if (!mc_json_has(o, "id")) cJSON_AddStringToObject(o, "id", x->id);
    if (!mc_json_has(o, "description")) cJSON_AddStringToObject(o, "description", "");
    if (!mc_json_has(o, "parent_region_id")) cJSON_AddNullToObject(o, "parent_region_id");
    return o;
}

static const char *parent_of(const mc_record *x) {
    return mc_json_str(x->doc, "parent_region_id");
}

void identity_region_list(mc_req *r) {
    static const char *const filters[] = {"parent_region_id", NULL};
    list_filtered(r, MC_K_REGION, "regions", filters, region_view);
}

void identity_region_show(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_REGION, "region", r->params[0]);
    if (x != NULL) reply_one(r, 200, "region", region_view(r, x));
}

/* POST /v3/regions (id == NULL: generated unless the body names one) and
 * PUT /v3/regions/{id}. */
static void region_create(mc_req *r, const char *path_id) {
    cJSON *in = body_obj_or_reply(r, "region");
    if (in == NULL || mc_check_or_reply(r, in, "id=s|description=S255|parent_region_id=S") != 0) return;
    const char *id = mc_json_str(in, "id");
    if (path_id != NULL && id != NULL && strcmp(id, path_id) != 0) {
        mc_reply_error(r, 400, NULL, "Conflicting region IDs specified: \"%.64s\" != \"%.64s\"", path_id, id);
        return;
    }
    if (path_id != NULL) id = path_id;
    char gen[33];
    if (id == NULL || id[0] == '\0') {
        mc_uuid_hex(r->srv, gen);
        id = gen;
    }
    if (strlen(id) >= sizeof(((mc_record *)0)->id)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'id': '%.64s...' is too long", id);
        return;
    }
    if (mc_store_find(W(r, MC_K_REGION), id) != NULL) {
        mc_reply_error(r, 409, NULL, "Conflict occurred attempting to store region - Duplicate ID, %.64s.", id);
        return;
    }
    const char *parent = mc_json_str(in, "parent_region_id");
    if (parent != NULL && mc_store_find(W(r, MC_K_REGION), parent) == NULL) {
        mc_reply_error(r, 404, NULL, "Could not find region: %.64s.", parent);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddStringToObject(doc, "description", "");
    cJSON_AddNullToObject(doc, "parent_region_id");
    merge_all(doc, in);
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "description")))
        mc_json_set_str(doc, "description", "");
    mc_record *x = mc_store_add(W(r, MC_K_REGION), id, "", doc);
    if (x == NULL) mc_panic("region add");
    identity_catalog_changed(r->srv);
    reply_one(r, 201, "region", region_view(r, x));
}

void identity_region_create(mc_req *r) { region_create(r, NULL); }
void identity_region_put(mc_req *r) { region_create(r, r->params[0]); }

void identity_region_update(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_REGION, "region", r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "region");
    if (in == NULL || mc_check_or_reply(r, in, "id=s|description=S255|parent_region_id=S") != 0 ||
        matching_id_or_reply(r, in, x->id) != 0)
        return;
    const char *parent = mc_json_str(in, "parent_region_id");
    if (parent != NULL) {
        if (mc_store_find(W(r, MC_K_REGION), parent) == NULL) {
            mc_reply_error(r, 404, NULL, "Could not find region: %.64s.", parent);
            return;
        }
        /* no region may become its own ancestor */
        const char *p = parent;
        for (int depth = 0; p != NULL && depth < 1000; depth++) {
            if (strcmp(p, x->id) == 0) {
                mc_reply_error(r, 400, NULL,
                               "Circular reference or a repeated entry found in region tree - %.64s.", x->id);
                return;
            }
            mc_record *pr = mc_store_find(W(r, MC_K_REGION), p);
            p = pr ? parent_of(pr) : NULL;
        }
    }
    merge_all(x->doc, in);
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x->doc, "description")))
        mc_json_set_str(x->doc, "description", "");
    identity_catalog_changed(r->srv);
    reply_one(r, 200, "region", region_view(r, x));
}

/* Is 'id' or one of its descendants the region of an endpoint? */
static bool region_in_use(mc_server *srv, const char *id, int depth) {
    if (depth > 100) return false;
    for (mc_record *e = mc_store_first(&srv->world[MC_K_ENDPOINT]); e; e = mc_store_next(e))
        if (mc_str_eq(mc_json_str(e->doc, "region_id"), id)) return true;
    for (mc_record *c = mc_store_first(&srv->world[MC_K_REGION]); c; c = mc_store_next(c))
        if (mc_str_eq(parent_of(c), id) && region_in_use(srv, c->id, depth + 1)) return true;
    return false;
}

static void region_delete_tree(mc_server *srv, mc_record *x, int depth) {
    mc_record *c = mc_store_first(&srv->world[MC_K_REGION]);
    while (c != NULL && depth < 100) {
        mc_record *next = mc_store_next(c);
        if (mc_str_eq(parent_of(c), x->id)) {
            region_delete_tree(srv, c, depth + 1);
            next = mc_store_first(&srv->world[MC_K_REGION]);   /* the walk may have freed 'next' */
        }
        c = next;
    }
    mc_store_delete(&srv->world[MC_K_REGION], x);
}

void identity_region_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_REGION, "region", r->params[0]);
    if (x == NULL) return;
    if (region_in_use(r->srv, x->id, 0)) {
        mc_reply_error(r, 403, NULL,
                       "Unable to delete region %.64s because it or its child regions have associated endpoints.",
                       x->id);
        return;
    }
    region_delete_tree(r->srv, x, 0);
    identity_catalog_changed(r->srv);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- services */

#define SERVICE_SPEC "type=s255|name=s255|enabled=B|description=S"

void identity_service_list(mc_req *r) {
    static const char *const filters[] = {"type", "name", NULL};
    list_filtered(r, MC_K_SERVICE, "services", filters, NULL);
}

void identity_service_show(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_SERVICE, "service", r->params[0]);
    if (x != NULL) reply_one(r, 200, "service", public_view(r, x, "services"));
}

void identity_service_create(mc_req *r) {
    cJSON *in = body_obj_or_reply(r, "service");
    if (in == NULL || mc_check_or_reply(r, in, SERVICE_SPEC) != 0) return;
    const char *type = mc_json_str(in, "type");
    if (type == NULL || type[0] == '\0') {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'type': 'type' is a required property");
        return;
    }
    const char *name = mc_json_str(in, "name");
    if (name != NULL && name[0] == '\0') {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'name': '' is too short");
        return;
    }
    char id[33];
    cJSON *doc = new_doc(r, id);
    cJSON_AddBoolToObject(doc, "enabled", true);
    cJSON_AddStringToObject(doc, "name", "");
    merge_all(doc, in);
    mc_record *x = mc_store_add(W(r, MC_K_SERVICE), id, "", doc);
    if (x == NULL) mc_panic("service add");
    identity_catalog_changed(r->srv);
    reply_one(r, 201, "service", public_view(r, x, "services"));
}

void identity_service_update(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_SERVICE, "service", r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "service");
    if (in == NULL || mc_check_or_reply(r, in, SERVICE_SPEC) != 0 || matching_id_or_reply(r, in, x->id) != 0) return;
    const char *type = mc_json_str(in, "type"), *name = mc_json_str(in, "name");
    if ((type != NULL && type[0] == '\0') || (name != NULL && name[0] == '\0')) {
        mc_reply_error(r, 400, NULL, "Invalid input for field '%s': '' is too short", type && !type[0] ? "type" : "name");
        return;
    }
    merge_all(x->doc, in);
    identity_catalog_changed(r->srv);
    reply_one(r, 200, "service", public_view(r, x, "services"));
}

void identity_service_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_SERVICE, "service", r->params[0]);
    if (x == NULL) return;
    /* its endpoints go with it, as Keystone's foreign key cascades */
    mc_record *e = mc_store_first(W(r, MC_K_ENDPOINT));
    while (e != NULL) {
        mc_record *next = mc_store_next(e);
        if (mc_str_eq(mc_json_str(e->doc, "service_id"), x->id)) mc_store_delete(W(r, MC_K_ENDPOINT), e);
        e = next;
    }
    mc_store_delete(W(r, MC_K_SERVICE), x);
    identity_catalog_changed(r->srv);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- endpoints */

#define ENDPOINT_SPEC "interface=s|service_id=s|url=s|region_id=S|region=S|enabled=B|name=s|description=S"

static cJSON *endpoint_view(mc_req *r, const mc_record *x) {
    cJSON *o = public_view(r, x, "endpoints");
    char url[1024];
    endpoint_url(r->srv, x, url, sizeof url);
    mc_json_set_str(o, "url", url);
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(x->doc, "region_id");
    mc_json_set_str(o, "region", cJSON_IsString(rid) ? rid->valuestring : NULL);
    if (!mc_json_has(o, "region_id")) cJSON_AddNullToObject(o, "region_id");
    return o;
}

/* The checks a created or changed endpoint passes (Keystone's schema and
 * catalog manager); a legacy 'region' that names no region creates it, as
 * Keystone does for backward compatibility. */
static int endpoint_fields_or_reply(mc_req *r, const cJSON *in) {
    if (mc_check_or_reply(r, in, ENDPOINT_SPEC) != 0) return -1;
    const char *iface = mc_json_str(in, "interface");
    if (iface != NULL && strcmp(iface, "public") != 0 && strcmp(iface, "internal") != 0 &&
        strcmp(iface, "admin") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'interface': '%.32s' is not one of ['admin', 'internal', 'public']", iface);
        return -1;
    }
    const char *url = mc_json_str(in, "url");
    if (url != NULL) {
        size_t scheme = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
        if (strlen(url) > 225 || scheme == 0 || url[scheme] != ':' || url[scheme + 1] == '\0') {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'url': '%.64s' does not match '^[a-zA-Z0-9+.-]+:.+'", url);
            return -1;
        }
    }
    const char *sid = mc_json_str(in, "service_id");
    if (sid != NULL && mc_store_find(W(r, MC_K_SERVICE), sid) == NULL) {
        mc_reply_error(r, 400, NULL, "Expecting to find endpoint service_id in service table - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
        return -1;
    }
    const char *rid = mc_json_str(in, "region_id");
    if (rid != NULL && mc_store_find(W(r, MC_K_REGION), rid) == NULL) {
        mc_reply_error(r, 400, NULL, "Expecting to find endpoint region_id in region table - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
        return -1;
    }
    const char *legacy = mc_json_str(in, "region");
    if (rid == NULL && legacy != NULL && strlen(legacy) >= sizeof(((mc_record *)0)->id)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'region': '%.64s...' is too long", legacy);
        return -1;
    }
    return 0;
}

/* Applies 'in' (checked) to an endpoint's doc: region_id from the legacy
 * 'region' (creating that region when new), a url replaces a seeded path. */
static void endpoint_apply(mc_req *r, cJSON *doc, const cJSON *in) {
    merge_all(doc, in);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "region");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(in, "region_id");
    const char *legacy = mc_json_str(in, "region");
    if ((rid == NULL || cJSON_IsNull(rid)) && legacy != NULL) {
        mc_json_set_str(doc, "region_id", legacy);
        if (mc_store_find(W(r, MC_K_REGION), legacy) == NULL) {
            cJSON *reg = cJSON_CreateObject();
            cJSON_AddStringToObject(reg, "id", legacy);
            cJSON_AddStringToObject(reg, "description", "");
            cJSON_AddNullToObject(reg, "parent_region_id");
            if (mc_store_add(W(r, MC_K_REGION), legacy, "", reg) == NULL) mc_panic("region add");
        }
    }
    if (mc_json_has(in, "url")) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "_path");
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "_version");
        if (url_templated(mc_json_str(doc, "url"))) mc_json_set(state(r->srv), "_catalog_templated", cJSON_CreateTrue());
    }
    identity_catalog_changed(r->srv);
}

void identity_endpoint_list(mc_req *r) {
    static const char *const filters[] = {"interface", "service_id", "region_id", NULL};
    list_filtered(r, MC_K_ENDPOINT, "endpoints", filters, endpoint_view);
}

void identity_endpoint_show(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_ENDPOINT, "endpoint", r->params[0]);
    if (x != NULL) reply_one(r, 200, "endpoint", endpoint_view(r, x));
}

void identity_endpoint_create(mc_req *r) {
    cJSON *in = body_obj_or_reply(r, "endpoint");
    if (in == NULL) return;
    static const char *const required[] = {"interface", "service_id", "url"};
    for (size_t i = 0; i < 3; i++)
        if (!mc_json_has(in, required[i])) {
            mc_reply_error(r, 400, NULL, "Invalid input for field '%s': '%s' is a required property", required[i], required[i]);
            return;
        }
    if (endpoint_fields_or_reply(r, in) != 0) return;
    char id[33];
    cJSON *doc = new_doc(r, id);
    cJSON_AddBoolToObject(doc, "enabled", true);
    cJSON_AddNullToObject(doc, "region_id");
    endpoint_apply(r, doc, in);
    mc_record *x = mc_store_add(W(r, MC_K_ENDPOINT), id, "", doc);
    if (x == NULL) mc_panic("endpoint add");
    reply_one(r, 201, "endpoint", endpoint_view(r, x));
}

void identity_endpoint_update(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_ENDPOINT, "endpoint", r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "endpoint");
    if (in == NULL || matching_id_or_reply(r, in, x->id) != 0 || endpoint_fields_or_reply(r, in) != 0) return;
    endpoint_apply(r, x->doc, in);
    reply_one(r, 200, "endpoint", endpoint_view(r, x));
}

void identity_endpoint_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_ENDPOINT, "endpoint", r->params[0]);
    if (x == NULL) return;
    mc_store_delete(W(r, MC_K_ENDPOINT), x);
    identity_catalog_changed(r->srv);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- policies */

/* Keystone's policy API stores blobs for other services; nothing reads them. */
void identity_policy_list(mc_req *r) {
    static const char *const filters[] = {"type", NULL};
    list_filtered(r, MC_K_POLICY, "policies", filters, NULL);
}

void identity_policy_show(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_POLICY, "policy", r->params[0]);
    if (x != NULL) reply_one(r, 200, "policy", public_view(r, x, "policies"));
}

void identity_policy_create(mc_req *r) {
    cJSON *in = body_obj_or_reply(r, "policy");
    if (in == NULL || mc_check_or_reply(r, in, "blob=s|type=s255") != 0) return;
    static const char *const required[] = {"blob", "type"};
    for (size_t i = 0; i < 2; i++)
        if (!mc_json_has(in, required[i])) {
            mc_reply_error(r, 400, NULL, "Invalid input for field '%s': '%s' is a required property", required[i], required[i]);
            return;
        }
    char id[33];
    cJSON *doc = new_doc(r, id);
    merge_all(doc, in);
    mc_record *x = mc_store_add(W(r, MC_K_POLICY), id, "", doc);
    if (x == NULL) mc_panic("policy add");
    reply_one(r, 201, "policy", public_view(r, x, "policies"));
}

void identity_policy_update(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_POLICY, "policy", r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "policy");
    if (in == NULL || mc_check_or_reply(r, in, "blob=s|type=s255") != 0 || matching_id_or_reply(r, in, x->id) != 0) return;
    merge_all(x->doc, in);
    reply_one(r, 200, "policy", public_view(r, x, "policies"));
}

void identity_policy_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_POLICY, "policy", r->params[0]);
    if (x == NULL) return;
    mc_store_delete(W(r, MC_K_POLICY), x);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- OS-EP-FILTER */

/* An endpoint group: {id, name, description, filters} where filters holds
 * only service_id, region_id and interface (Keystone's valid keys). */
static cJSON *epgroup_view(mc_req *r, const mc_record *x) {
    return public_view(r, x, "OS-EP-FILTER/endpoint_groups");
}

static int epgroup_fields_or_reply(mc_req *r, const cJSON *in, bool create) {
    if (mc_check_or_reply(r, in, "!name=s255|description=S|filters=o") != 0) return -1;
    const char *name = mc_json_str(in, "name");
    if ((create && name == NULL) || (name != NULL && name[0] == '\0')) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'name': a name is required");
        return -1;
    }
    const cJSON *f = mc_json_obj(in, "filters");
    if (create && cJSON_GetArraySize(f) == 0) {
        mc_reply_error(r, 400, NULL, "filters field is required and cannot be empty");
        return -1;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, f) {
        if (strcmp(kv->string, "service_id") != 0 && strcmp(kv->string, "region_id") != 0 &&
            strcmp(kv->string, "interface") != 0) {
            mc_reply_error(r, 400, NULL, "Expecting to find service_id or region_id or interface in endpoint_group - the server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.");
            return -1;
        }
        if (!cJSON_IsString(kv)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field 'filters/%s': not of type 'string'", kv->string);
            return -1;
        }
    }
    return 0;
}

void identity_epgroup_list(mc_req *r) {
    static const char *const filters[] = {"name", NULL};
    list_filtered(r, MC_K_EP_GROUP, "endpoint_groups", filters, epgroup_view);
}

void identity_epgroup_show(mc_req *r) {   /* GET and HEAD */
    mc_record *x = find_or_reply(r, MC_K_EP_GROUP, "endpoint group", r->params[0]);
    if (x == NULL) return;
    if (r->method == EVHTTP_REQ_HEAD)
        mc_reply_json(r, 200, NULL);
    else
        reply_one(r, 200, "endpoint_group", epgroup_view(r, x));
}

void identity_epgroup_create(mc_req *r) {
    cJSON *in = body_obj_or_reply(r, "endpoint_group");
    if (in == NULL || epgroup_fields_or_reply(r, in, true) != 0) return;
    char id[33];
    cJSON *doc = new_doc(r, id);
    cJSON_AddNullToObject(doc, "description");
    merge_all(doc, in);
    mc_record *x = mc_store_add(W(r, MC_K_EP_GROUP), id, "", doc);
    if (x == NULL) mc_panic("endpoint group add");
    reply_one(r, 201, "endpoint_group", epgroup_view(r, x));
}

void identity_epgroup_update(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_EP_GROUP, "endpoint group", r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "endpoint_group");
    if (in == NULL || epgroup_fields_or_reply(r, in, false) != 0) return;
    merge_all(x->doc, in);
    identity_catalog_changed(r->srv);
    reply_one(r, 200, "endpoint_group", epgroup_view(r, x));
}

void identity_epgroup_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_EP_GROUP, "endpoint group", r->params[0]);
    if (x == NULL) return;
    mc_store_delete(W(r, MC_K_EP_GROUP), x);
    identity_catalog_changed(r->srv);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- OS-TRUST */

/* A trust: doc {id, trustor_user_id, trustee_user_id, project_id,
 * impersonation, expires_at, remaining_uses, allow_redelegation,
 * redelegation_count, "_roles": [role ids]}. The tokens issued through it
 * carry its id (auth.h) and are revoked with it by one event. */
static bool trust_expired(const mc_record *t) {
    const char *exp = mc_json_str(t->doc, "expires_at");
    return exp != NULL && mc_time_parse(exp) <= mc_now();
}

/* The live trust 'id' or NULL (expired and used-up trusts are gone, as
 * Keystone soft-deletes them). */
static mc_record *trust_find(mc_server *srv, const char *id) {
    mc_record *t = id ? mc_store_find(&srv->world[MC_K_TRUST], id) : NULL;
    return t != NULL && !trust_expired(t) ? t : NULL;
}

static mc_record *trust_find_or_reply(mc_req *r) {
    mc_record *t = trust_find(r->srv, r->params[0]);
    if (t == NULL) mc_reply_error(r, 404, NULL, "Could not find trust: %.64s.", r->params[0]);
    return t;
}

static bool trust_party(const mc_req *r, const mc_record *t, bool trustee_too) {
    return may_admin(r) || mc_str_eq(r->tok->user_id, mc_json_str(t->doc, "trustor_user_id")) ||
           (trustee_too && mc_str_eq(r->tok->user_id, mc_json_str(t->doc, "trustee_user_id")));
}

static cJSON *trust_view(mc_req *r, const mc_record *t, bool with_roles) {
    cJSON *o = public_view(r, t, "OS-TRUST/trusts");
    if (!with_roles) return o;
    cJSON *roles = cJSON_AddArrayToObject(o, "roles");
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(t->doc, "_roles")) {
        mc_record *role = cJSON_IsString(x) ? mc_store_find(&r->srv->world[MC_K_ROLE], x->valuestring) : NULL;
        if (role != NULL) cJSON_AddItemToArray(roles, public_view(r, role, "roles"));
    }
    char path[200];
    snprintf(path, sizeof path, "/v3/OS-TRUST/trusts/%s/roles", t->id);
    cJSON_AddItemToObject(o, "roles_links", links_self(r, path));
    return o;
}

static void trust_drop(mc_server *srv, mc_record *t) {
    mc_auth_revoke_by(srv, MC_REVOKE_TRUST, t->id);
    mc_store_delete(&srv->world[MC_K_TRUST], t);
}

void identity_catalog_forget(mc_server *srv, const char *id) {
    mc_record *c = mc_store_find(&srv->world[MC_K_DOMAIN_CONFIG], id);
    if (c != NULL) mc_store_delete(&srv->world[MC_K_DOMAIN_CONFIG], c);
    mc_record *t = mc_store_first(&srv->world[MC_K_TRUST]);
    while (t != NULL) {
        mc_record *next = mc_store_next(t);
        if (mc_str_eq(mc_json_str(t->doc, "trustor_user_id"), id) || mc_str_eq(mc_json_str(t->doc, "trustee_user_id"), id) ||
            mc_str_eq(mc_json_str(t->doc, "project_id"), id))
            trust_drop(srv, t);
        t = next;
    }
}

void identity_trust_create(mc_req *r) {
    cJSON *in = body_obj_or_reply(r, "trust");
    if (in == NULL ||
        mc_check_or_reply(r, in, "trustor_user_id=s|trustee_user_id=s|project_id=S|impersonation=B|expires_at=S|"
                                 "remaining_uses=I|roles=a|allow_redelegation=B|redelegation_count=I") != 0)
        return;
    static const char *const required[] = {"trustor_user_id", "trustee_user_id", "impersonation"};
    for (size_t i = 0; i < 3; i++)
        if (!mc_json_has(in, required[i])) {
            mc_reply_error(r, 400, NULL, "Invalid input for field '%s': '%s' is a required property", required[i], required[i]);
            return;
        }
    const cJSON *uses = cJSON_GetObjectItemCaseSensitive(in, "remaining_uses");
    if (cJSON_IsNumber(uses) && uses->valuedouble < 1) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'remaining_uses': %g is less than the minimum of 1", uses->valuedouble);
        return;
    }
    const char *trustor = mc_json_str(in, "trustor_user_id"), *trustee = mc_json_str(in, "trustee_user_id");
    const char *project = mc_json_str(in, "project_id");
    cJSON *roles_in = mc_json_arr(in, "roles");
    if (project != NULL && project[0] != '\0' && cJSON_GetArraySize(roles_in) == 0) {
        reply_forbidden(r, "At least one role should be specified");
        return;
    }
    if (!mc_str_eq(r->tok->user_id, trustor)) {
        reply_forbidden(r, "The authenticated user should match the trustor");
        return;
    }
    if (find_or_reply(r, MC_K_USER, "user", trustee) == NULL) return;
    if (project != NULL && project[0] != '\0' && find_or_reply(r, MC_K_PROJECT, "project", project) == NULL) return;
    double expires = 0;
    const char *exp = mc_json_str(in, "expires_at");
    if (exp != NULL && (expires = mc_time_parse(exp)) < 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'expires_at': '%.64s' is not a valid date", exp);
        return;
    }
    /* the roles, by id or name, each one the trustor has on the project */
    cJSON *have = project != NULL && project[0] != '\0' ? idadm_effective_roles(r->srv, trustor, project) : cJSON_CreateArray();
    cJSON *ids = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, roles_in) {
        const char *rid = mc_json_str(x, "id"), *rname = mc_json_str(x, "name");
        mc_record *role = rid != NULL ? mc_store_find(W(r, MC_K_ROLE), rid)
                          : rname != NULL ? idadm_role_by_name(r->srv, rname) : NULL;
        bool held = false;
        const cJSON *h;
        cJSON_ArrayForEach(h, have) held |= role != NULL && mc_str_eq(mc_json_str(h, "id"), role->id);
        if (!held) {
            mc_reply_error(r, 404, NULL, "Could not find role: %.64s.", rid ? rid : rname ? rname : "");
            cJSON_Delete(have);
            cJSON_Delete(ids);
            return;
        }
        cJSON_AddItemToArray(ids, cJSON_CreateString(role->id));
    }
    cJSON_Delete(have);
    char id[33], ts[40];
    cJSON *doc = new_doc(r, id);
    cJSON_AddStringToObject(doc, "trustor_user_id", trustor);
    cJSON_AddStringToObject(doc, "trustee_user_id", trustee);
    mc_json_set_str(doc, "project_id", project != NULL && project[0] != '\0' ? project : NULL);
    cJSON_AddBoolToObject(doc, "impersonation", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "impersonation")));
    if (exp != NULL) mc_time_keystone(expires, ts);
    mc_json_set_str(doc, "expires_at", exp != NULL ? ts : NULL);
    if (cJSON_IsNumber(uses))
        cJSON_AddNumberToObject(doc, "remaining_uses", uses->valuedouble);
    else
        cJSON_AddNullToObject(doc, "remaining_uses");
    cJSON_AddBoolToObject(doc, "allow_redelegation", false);
    cJSON_AddNumberToObject(doc, "redelegation_count", 0);
    cJSON_AddItemToObject(doc, "_roles", ids);
    mc_record *t = mc_store_add(W(r, MC_K_TRUST), id, "", doc);
    if (t == NULL) mc_panic("trust add");
    reply_one(r, 201, "trust", trust_view(r, t, true));
}

void identity_trust_list(mc_req *r) {
    const char *trustor = mc_query(r, "trustor_user_id"), *trustee = mc_query(r, "trustee_user_id");
    bool admin = may_admin(r);
    if ((trustor != NULL && !admin && !mc_str_eq(trustor, r->tok->user_id)) ||
        (trustee != NULL && !admin && !mc_str_eq(trustee, r->tok->user_id)) ||
        (trustor == NULL && trustee == NULL && !admin)) {
        reply_forbidden(r, trustor ? "identity:list_trusts_for_trustor"
                           : trustee ? "identity:list_trusts_for_trustee" : "identity:list_trusts");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "trusts");
    for (mc_record *t = mc_store_first(W(r, MC_K_TRUST)); t; t = mc_store_next(t)) {
        if (trust_expired(t)) continue;
        if (trustor != NULL && !mc_str_eq(trustor, mc_json_str(t->doc, "trustor_user_id"))) continue;
        if (trustee != NULL && !mc_str_eq(trustee, mc_json_str(t->doc, "trustee_user_id"))) continue;
        cJSON_AddItemToArray(arr, trust_view(r, t, false));
    }
    cJSON_AddItemToObject(root, "links", links_self(r, "/v3/OS-TRUST/trusts"));
    mc_reply_json(r, 200, root);
}

void identity_trust_show(mc_req *r) {
    mc_record *t = trust_find_or_reply(r);
    if (t == NULL) return;
    if (!trust_party(r, t, true)) {
        reply_forbidden(r, "Requested user has no relation to this trust");
        return;
    }
    reply_one(r, 200, "trust", trust_view(r, t, true));
}

void identity_trust_delete(mc_req *r) {
    mc_record *t = trust_find_or_reply(r);
    if (t == NULL) return;
    if (!trust_party(r, t, false)) {
        reply_forbidden(r, "identity:delete_trust");
        return;
    }
    trust_drop(r->srv, t);
    mc_reply_json(r, 204, NULL);
}

/* GET /v3/OS-TRUST/trusts/{id}/roles and .../roles/{role} (GET, HEAD). */
void identity_trust_roles(mc_req *r) {
    mc_record *t = trust_find_or_reply(r);
    if (t == NULL) return;
    if (!trust_party(r, t, true)) {
        reply_forbidden(r, "Requested user has no relation to this trust");
        return;
    }
    cJSON *view = trust_view(r, t, true);
    cJSON *roles = cJSON_DetachItemFromObjectCaseSensitive(view, "roles");
    cJSON_Delete(view);
    if (r->nparams < 2) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "roles", roles);
        char path[200];
        snprintf(path, sizeof path, "/v3/OS-TRUST/trusts/%s/roles", t->id);
        cJSON_AddItemToObject(root, "links", links_self(r, path));
        mc_reply_json(r, 200, root);
        return;
    }
    cJSON *x, *found = NULL;
    cJSON_ArrayForEach(x, roles) if (mc_str_eq(mc_json_str(x, "id"), r->params[1])) found = x;
    if (found == NULL) {
        cJSON_Delete(roles);
        mc_reply_error(r, 404, NULL, "Could not find role: %.64s.", r->params[1]);
        return;
    }
    if (r->method == EVHTTP_REQ_HEAD) {
        cJSON_Delete(roles);
        mc_reply_json(r, 200, NULL);
        return;
    }
    cJSON_DetachItemViaPointer(roles, found);
    cJSON_Delete(roles);
    reply_one(r, 200, "role", found);
}

/* What a token scoped to trust 't' carries: *project, *roles (the trust's,
 * with what they imply; owned) and its "OS-TRUST:trust" object (returned,
 * owned), at issue and when the token is rebuilt from its id. */
static cJSON *trust_token_info(mc_server *srv, const mc_record *t, mc_record **project, cJSON **roles) {
    const char *pid = mc_json_str(t->doc, "project_id");
    *project = pid ? mc_store_find(&srv->world[MC_K_PROJECT], pid) : NULL;
    *roles = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(t->doc, "_roles")) {
        mc_record *role = cJSON_IsString(x) ? mc_store_find(&srv->world[MC_K_ROLE], x->valuestring) : NULL;
        if (role != NULL) idadm_add_role_implied(srv, *roles, role);
    }
    cJSON *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "id", t->id);
    cJSON_AddBoolToObject(info, "impersonation", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->doc, "impersonation")));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(info, "trustee_user"), "id", mc_json_str(t->doc, "trustee_user_id"));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(info, "trustor_user"), "id", mc_json_str(t->doc, "trustor_user_id"));
    return info;
}

/* A token scoped to a trust ({"OS-TRUST:trust": {"id": ...}}): the caller
 * must be the trustee; the token acts as the trustor when the trust
 * impersonates, on the trust's project, with the trust's roles (and what
 * they imply), and ends no later than the trust. A use counts against
 * remaining_uses; the last one removes the trust. */
int identity_trust_scope_or_reply(mc_req *r, const cJSON *ref, mc_record **user, mc_record **project,
                                  cJSON **roles, double *expires, cJSON **info) {
    const char *id = mc_json_str(ref, "id");
    mc_record *t = trust_find(r->srv, id);
    if (t == NULL) {
        mc_reply_error(r, 404, NULL, "Could not find trust: %.64s.", id ? id : "");
        return -1;
    }
    if (!mc_str_eq((*user)->id, mc_json_str(t->doc, "trustee_user_id"))) {
        mc_reply_error(r, 403, NULL, "You are not authorized to perform the requested action: User %.64s is unauthorized for trust %.64s.", (*user)->id, t->id);
        return -1;
    }
    mc_record *trustor = mc_store_find(W(r, MC_K_USER), mc_json_str(t->doc, "trustor_user_id"));
    if (trustor == NULL || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(trustor->doc, "enabled"))) {
        mc_reply_error(r, 403, NULL, "You are not authorized to perform the requested action: Trustor is disabled.");
        return -1;
    }
    const char *exp = mc_json_str(t->doc, "expires_at");
    *expires = exp != NULL ? mc_time_parse(exp) : 0;
    *info = trust_token_info(r->srv, t, project, roles);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->doc, "impersonation"))) *user = trustor;
    return 0;
}

cJSON *identity_trust_token_parts(mc_server *srv, const char *trust_id, const char *user_id, mc_record **project,
                                  cJSON **roles) {
    mc_record *t = trust_find(srv, trust_id);
    if (t == NULL) return NULL;
    bool imp = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->doc, "impersonation"));
    mc_record *trustor = mc_store_find(&srv->world[MC_K_USER], mc_json_str(t->doc, "trustor_user_id"));
    if (trustor == NULL || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(trustor->doc, "enabled")) ||
        !mc_str_eq(user_id, mc_json_str(t->doc, imp ? "trustor_user_id" : "trustee_user_id")))
        return NULL;
    cJSON *info = trust_token_info(srv, t, project, roles);
    if ((*project == NULL && mc_json_str(t->doc, "project_id") != NULL) ||
        (*project != NULL && cJSON_GetArraySize(*roles) == 0)) {
        cJSON_Delete(info);
        cJSON_Delete(*roles);
        *roles = NULL;
        return NULL;
    }
    return info;
}

/* A counted use (the last one removes the trust). */
void identity_trust_used(mc_server *srv, const char *trust_id) {
    mc_record *t = trust_find(srv, trust_id);
    if (t == NULL) return;
    cJSON *uses = cJSON_GetObjectItemCaseSensitive(t->doc, "remaining_uses");
    if (cJSON_IsNumber(uses)) {
        cJSON_SetNumberValue(uses, uses->valuedouble - 1);
        /* used up: the trust goes, the tokens it gave stay valid (Keystone
         * soft-deletes it; only a DELETE revokes) */
        if (uses->valuedouble <= 0) mc_store_delete(&srv->world[MC_K_TRUST], t);
    }
}

/* ---------------------------------------------------------------- OS-OAUTH1 consumers */

/* Consumers only (the OAuth1 request/access token flow is not served): a
 * consumer's secret is shown once, when it is made. */
static cJSON *consumer_view(mc_req *r, const mc_record *x) {
    return public_view(r, x, "OS-OAUTH1/consumers");
}

void identity_consumer_list(mc_req *r) {
    static const char *const filters[] = {NULL};
    list_filtered(r, MC_K_CONSUMER, "consumers", filters, consumer_view);
}

void identity_consumer_show(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_CONSUMER, "consumer", r->params[0]);
    if (x != NULL) reply_one(r, 200, "consumer", consumer_view(r, x));
}

void identity_consumer_create(mc_req *r) {
    cJSON *in = body_obj_or_reply(r, "consumer");
    if (in == NULL || mc_check_or_reply(r, in, "description=S") != 0) return;
    char id[33], secret[33];
    mc_uuid_hex(r->srv, id);
    mc_uuid_hex(r->srv, secret);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    cJSON_AddNullToObject(doc, "description");
    merge_all(doc, in);
    mc_record *x = mc_store_add(W(r, MC_K_CONSUMER), id, "", doc);
    if (x == NULL) mc_panic("consumer add");
    cJSON *view = consumer_view(r, x);
    cJSON_AddStringToObject(view, "secret", secret);
    reply_one(r, 201, "consumer", view);
}

void identity_consumer_update(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_CONSUMER, "consumer", r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "consumer");
    if (in == NULL || mc_check_or_reply(r, in, "description=S") != 0 || matching_id_or_reply(r, in, x->id) != 0) return;
    if (mc_json_has(in, "secret")) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'secret': the secret cannot be changed");
        return;
    }
    merge_all(x->doc, in);
    reply_one(r, 200, "consumer", consumer_view(r, x));
}

void identity_consumer_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, MC_K_CONSUMER, "consumer", r->params[0]);
    if (x == NULL) return;
    mc_store_delete(W(r, MC_K_CONSUMER), x);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- domain configuration */

/* Domain-specific configuration (/v3/domains/{id}/config...), stored and
 * shown as Keystone does with its SQL domain config: the 'identity' and
 * 'ldap' groups only, each with Keystone's whitelisted options; the
 * defaults are keystone.conf's. Nothing reads the stored options (every
 * domain keeps mockcloud's users). A record per domain, keyed by its id,
 * doc {group: {option: value}}. */
static const char default_config[] =
    "{\"identity\":{\"driver\":\"sql\",\"list_limit\":null},"
    "\"ldap\":{\"url\":\"ldap://localhost\",\"user\":null,\"suffix\":\"cn=example,cn=com\",\"query_scope\":\"one\","
    "\"page_size\":0,\"alias_dereferencing\":\"default\",\"debug_level\":null,\"chase_referrals\":null,"
    "\"user_tree_dn\":null,\"user_filter\":null,\"user_objectclass\":\"inetOrgPerson\",\"user_id_attribute\":\"cn\","
    "\"user_name_attribute\":\"sn\",\"user_description_attribute\":\"description\",\"user_mail_attribute\":\"mail\","
    "\"user_pass_attribute\":\"userPassword\",\"user_enabled_attribute\":\"enabled\",\"user_enabled_invert\":false,"
    "\"user_enabled_mask\":0,\"user_enabled_default\":\"True\",\"user_attribute_ignore\":[\"default_project_id\"],"
    "\"user_default_project_id_attribute\":null,\"user_enabled_emulation\":false,\"user_enabled_emulation_dn\":null,"
    "\"user_enabled_emulation_use_group_config\":false,\"user_additional_attribute_mapping\":[],"
    "\"group_tree_dn\":null,\"group_filter\":null,\"group_objectclass\":\"groupOfNames\",\"group_id_attribute\":\"cn\","
    "\"group_name_attribute\":\"ou\",\"group_member_attribute\":\"member\",\"group_members_are_ids\":false,"
    "\"group_desc_attribute\":\"description\",\"group_attribute_ignore\":[],\"group_additional_attribute_mapping\":[],"
    "\"group_ad_nesting\":false,\"tls_cacertfile\":null,\"tls_cacertdir\":null,\"use_tls\":false,\"tls_req_cert\":\"demand\","
    "\"connection_timeout\":-1,\"use_pool\":true,\"pool_size\":10,\"pool_retry_max\":3,\"pool_retry_delay\":0.1,"
    "\"pool_connection_timeout\":-1,\"pool_connection_lifetime\":600,\"use_auth_pool\":true,\"auth_pool_size\":100,"
    "\"auth_pool_connection_lifetime\":60}}";

/* The default config, or one group of it, or one option (NULL when unknown). */
static cJSON *config_defaults(void) {
    cJSON *d = cJSON_ParseWithLengthOpts(default_config, sizeof default_config, NULL, 1);
    if (d == NULL) mc_panic("default domain config");
    return d;
}

/* Whether 'group' (and 'option', when given) may be configured per domain
 * (the password of ldap too, which is never shown). */
static bool config_allowed(const char *group, const char *option) {
    cJSON *d = config_defaults();
    cJSON *g = mc_json_obj(d, group);
    bool ok = g != NULL && (option == NULL || mc_json_has(g, option) || (strcmp(group, "ldap") == 0 && strcmp(option, "password") == 0));
    cJSON_Delete(d);
    return ok;
}

static void reply_config(mc_req *r, int status, cJSON *config) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "config", config);
    mc_reply_json(r, status, root);
}

/* Checks a config body: an object of allowed groups, each an object of
 * allowed options; 403 as Keystone's InvalidDomainConfig otherwise. */
static int config_body_or_reply(mc_req *r, const cJSON *cfg, const char *only_group) {
    if (!cJSON_IsObject(cfg) || cJSON_GetArraySize(cfg) == 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field 'config': an object of groups is required");
        return -1;
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, cfg) {
        if (only_group != NULL && strcmp(g->string, only_group) != 0) {
            mc_reply_error(r, 400, NULL, "Invalid domain specific configuration: the group %.64s in the body does not match %.64s in the URL.", g->string, only_group);
            return -1;
        }
        if (!cJSON_IsObject(g) || !config_allowed(g->string, NULL)) {
            mc_reply_error(r, 403, NULL, "Invalid domain specific configuration: Group %.64s is not supported for domain specific configurations.", g->string);
            return -1;
        }
        const cJSON *o;
        cJSON_ArrayForEach(o, g) if (!config_allowed(g->string, o->string)) {
            mc_reply_error(r, 403, NULL, "Invalid domain specific configuration: Option %.64s in group %.64s is not supported for domain specific configurations.", o->string, g->string);
            return -1;
        }
    }
    return 0;
}

/* The stored config minus ldap's password (never shown). */
static cJSON *config_view(const mc_record *c, const char *group, const char *option) {
    cJSON *v = cJSON_Duplicate(c->doc, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(mc_json_obj(v, "ldap"), "password");
    if (group == NULL) return v;
    cJSON *out = cJSON_CreateObject();
    cJSON *g = cJSON_DetachItemFromObjectCaseSensitive(v, group);
    if (g != NULL && option == NULL) {
        cJSON_AddItemToObject(out, group, g);
    } else if (g != NULL) {
        cJSON *o = cJSON_DetachItemFromObjectCaseSensitive(g, option);
        if (o != NULL) cJSON_AddItemToObject(out, option, o);
        cJSON_Delete(g);
    }
    cJSON_Delete(v);
    return out;
}

/* /v3/domains/{d}/config[/{group}[/{option}]]: PUT (whole only), GET, PATCH, DELETE. */
void identity_domain_config(mc_req *r) {
    if (find_or_reply(r, MC_K_DOMAIN, "domain", r->params[0]) == NULL) return;
    const char *group = r->nparams > 1 ? r->params[1] : NULL, *option = r->nparams > 2 ? r->params[2] : NULL;
    mc_record *c = mc_store_find(W(r, MC_K_DOMAIN_CONFIG), r->params[0]);
    if (r->method == EVHTTP_REQ_PUT) {
        cJSON *cfg = mc_json_obj(r->body, "config");
        if (config_body_or_reply(r, cfg, NULL) != 0) return;
        int status = c != NULL ? 200 : 201;
        if (c == NULL) {
            c = mc_store_add(W(r, MC_K_DOMAIN_CONFIG), r->params[0], "", cJSON_Duplicate(cfg, 1));
            if (c == NULL) mc_panic("domain config add");
        } else {
            cJSON_Delete(c->doc);
            c->doc = cJSON_Duplicate(cfg, 1);
        }
        reply_config(r, status, config_view(c, NULL, NULL));
        return;
    }
    if (group != NULL && !config_allowed(group, option)) {
        mc_reply_error(r, 403, NULL, "Invalid domain specific configuration: %s %.64s is not supported for domain specific configurations.",
                       option ? "Option" : "Group", option ? option : group);
        return;
    }
    cJSON *g = c != NULL && group != NULL ? mc_json_obj(c->doc, group) : NULL;
    if (c == NULL || (group != NULL && g == NULL) || (option != NULL && !mc_json_has(g, option))) {
        if (option != NULL)
            mc_reply_error(r, 404, NULL, "Could not find Domain Config option %.64s in group %.64s of domain %.64s.", option, group, r->params[0]);
        else if (group != NULL)
            mc_reply_error(r, 404, NULL, "Could not find Domain Config group %.64s of domain %.64s.", group, r->params[0]);
        else
            mc_reply_error(r, 404, NULL, "Could not find Domain Config of domain %.64s.", r->params[0]);
        return;
    }
    if (r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD) {
        reply_config(r, 200, config_view(c, group, option));
    } else if (r->method == EVHTTP_REQ_DELETE) {
        if (option != NULL)
            cJSON_DeleteItemFromObjectCaseSensitive(g, option);
        else if (group != NULL)
            cJSON_DeleteItemFromObjectCaseSensitive(c->doc, group);
        else
            mc_store_delete(W(r, MC_K_DOMAIN_CONFIG), c);
        mc_reply_json(r, 204, NULL);
    } else {   /* PATCH: the body's groups and options over the stored ones */
        cJSON *cfg = mc_json_obj(r->body, "config");
        if (option != NULL) {
            if (cJSON_GetArraySize(cfg) != 1 || !mc_json_has(cfg, option)) {
                mc_reply_error(r, 400, NULL, "Invalid domain specific configuration: the body must name option %.64s alone.", option);
                return;
            }
            mc_json_set(g, option, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cfg, option), 1));
        } else {
            if (config_body_or_reply(r, cfg, group) != 0) return;
            const cJSON *bg;
            cJSON_ArrayForEach(bg, cfg) {
                cJSON *have = mc_json_obj(c->doc, bg->string);
                if (have == NULL) {
                    have = cJSON_CreateObject();
                    mc_json_set(c->doc, bg->string, have);
                }
                const cJSON *o;
                cJSON_ArrayForEach(o, bg) mc_json_set(have, o->string, cJSON_Duplicate(o, 1));
            }
        }
        reply_config(r, 200, config_view(c, group, NULL));
    }
}

/* /v3/domains/config/default, .../config/{group}/default, .../config/{group}/{option}/default */
void identity_domain_config_default(mc_req *r) {
    const char *group = r->nparams > 0 ? r->params[0] : NULL, *option = r->nparams > 1 ? r->params[1] : NULL;
    cJSON *d = config_defaults();
    if (group == NULL) {
        reply_config(r, 200, d);
        return;
    }
    cJSON *g = mc_json_obj(d, group);
    if (g == NULL || (option != NULL && !mc_json_has(g, option))) {
        cJSON_Delete(d);
        mc_reply_error(r, 403, NULL, "Invalid domain specific configuration: %s %.64s is not supported for domain specific configurations.",
                       option ? "Option" : "Group", option ? option : group);
        return;
    }
    cJSON *out = cJSON_CreateObject();
    if (option == NULL)
        cJSON_AddItemToObject(out, group, cJSON_DetachItemViaPointer(d, g));
    else
        cJSON_AddItemToObject(out, option, cJSON_DetachItemFromObjectCaseSensitive(g, option));
    cJSON_Delete(d);
    reply_config(r, 200, out);
}

/* ---------------------------------------------------------------- /v3/ec2tokens */

/* EC2 signature authentication (Keystone's ec2tokens, keystoneclient's
 * Ec2Signer): the request's "credentials" name an OS-EC2 access key; its
 * secret must reproduce the signature, version 2 (HMAC-SHA256 over verb,
 * host, path and the sorted query) or 4 (AWS4-HMAC-SHA256), the host also
 * tried without its port. A good one gets a token of the credential's user
 * on its project, method "ec2credential", 200. A Timestamp/X-Amz-Date older
 * than 15 minutes (Keystone's credential.auth_ttl) is expired. */

typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (p == NULL) mc_panic("out of memory");
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}
static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* urllib.parse.quote(s, safe): letters, digits, "_.-~" and 'safe' stay. */
static void sb_quote(sbuf *b, const char *s, const char *safe) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("_.-~", *p) != NULL || (*p != '\0' && strchr(safe, *p) != NULL)) {
            sb_add(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sb_add(b, e, 3);
        }
    }
}

static int cmp_keys(const void *a, const void *b) {
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* Ec2Signer._canonical_qs: key=value pairs sorted by key, quoted; values
 * that are not strings print as Python's str() would for numbers. */
static void canonical_qs(sbuf *b, const cJSON *params, const char *extra_key, const char *extra_val) {
    size_t n = (size_t)cJSON_GetArraySize(params), k = 0;
    const cJSON **v = calloc(n + 1, sizeof *v);
    if (v == NULL) mc_panic("out of memory");
    cJSON extra;
    memset(&extra, 0, sizeof extra);
    const cJSON *x;
    cJSON_ArrayForEach(x, params) if (extra_key == NULL || strcmp(x->string, extra_key) != 0) v[k++] = x;
    if (extra_key != NULL) {
        extra.string = (char *)extra_key;
        extra.valuestring = (char *)extra_val;
        extra.type = cJSON_String;
        v[k++] = &extra;
    }
    qsort(v, k, sizeof *v, cmp_keys);
    for (size_t i = 0; i < k; i++) {
        if (i > 0) sb_str(b, "&");
        sb_quote(b, v[i]->string, "");
        sb_str(b, "=");
        char num[64];
        const char *val = cJSON_IsString(v[i]) ? v[i]->valuestring : num;
        if (!cJSON_IsString(v[i])) snprintf(num, sizeof num, "%g", v[i]->valuedouble);
        sb_quote(b, val, "-_~");
    }
    free(v);
}

static void hmac256(const void *key, size_t klen, const char *msg, size_t mlen, unsigned char out[32]) {
    unsigned int n = 32;
    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &n) == NULL) mc_panic("hmac");
}

static void sha256_hex(const char *s, size_t n, char out[65]) {
    unsigned char md[32];
    unsigned int len = 32;
    EVP_Digest(s, n, md, &len, EVP_sha256(), NULL);
    mc_hex(md, 32, out);
}

/* Version 2: base64(HMAC-SHA256(secret, verb\nhost\npath\nqs)), with
 * SignatureMethod=HmacSHA256 among the params as Ec2Signer sets it. */
static void sig_v2(const char *secret, const cJSON *c, const char *host, char *out, size_t outsz) {
    sbuf b = {0};
    const char *verb = mc_json_str(c, "verb"), *path = mc_json_str(c, "path");
    sb_str(&b, verb ? verb : "");
    sb_str(&b, "\n");
    sb_str(&b, host);
    sb_str(&b, "\n");
    sb_str(&b, path ? path : "");
    sb_str(&b, "\n");
    canonical_qs(&b, mc_json_obj(c, "params"), "SignatureMethod", "HmacSHA256");
    unsigned char md[32];
    hmac256(secret, strlen(secret), b.s, b.n, md);
    free(b.s);
    EVP_EncodeBlock((unsigned char *)out, md, 32);   /* 44 characters and a NUL */
    (void)outsz;
}

/* A value of the Authorization header ("Credential=...,SignedHeaders=...")
 * or the X-Amz-<name> parameter, copied into 'out'. */
static bool auth_param(const cJSON *c, const char *name, char *out, size_t outsz) {
    const char *auth = mc_json_str(mc_json_obj(c, "headers"), "Authorization");
    if (auth != NULL) {
        char key[40];
        snprintf(key, sizeof key, "%s=", name);
        const char *p = strstr(auth, key);
        if (p == NULL) return false;
        p += strlen(key);
        size_t n = strcspn(p, ",");
        if (n >= outsz) return false;
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    char key[40];
    snprintf(key, sizeof key, "X-Amz-%s", name);
    const char *v = mc_json_str(mc_json_obj(c, "params"), key);
    if (v == NULL || strlen(v) >= outsz) return false;
    mc_strlcpy(out, v, outsz);
    return true;
}

static const char *amz_date(const cJSON *c) {
    const char *d = mc_json_str(mc_json_obj(c, "headers"), "X-Amz-Date");
    return d ? d : mc_json_str(mc_json_obj(c, "params"), "X-Amz-Date");
}

/* Version 4 (AWS4-HMAC-SHA256), hex; false when the request lacks a part. */
static bool sig_v4(const char *secret, const cJSON *c, const char *host, char *out, size_t outsz) {
    (void)host;   /* version 4 signs the Host header as sent */
    char signed_headers[512], credential[256];
    const char *date = amz_date(c), *verb = mc_json_str(c, "verb"), *path = mc_json_str(c, "path");
    const char *body_hash = mc_json_str(c, "body_hash");
    if (!auth_param(c, "SignedHeaders", signed_headers, sizeof signed_headers) ||
        !auth_param(c, "Credential", credential, sizeof credential) || date == NULL || verb == NULL || path == NULL)
        return false;
    /* Credential = access/date/region/service/aws4_request */
    char *parts[5] = {0};
    int np = 0;
    char *csave = NULL;
    for (char *p = strtok_r(credential, "/", &csave); p != NULL && np < 5; p = strtok_r(NULL, "/", &csave)) parts[np++] = p;
    if (np < 5 || strncmp(date, parts[1], strlen(parts[1])) != 0) return false;
    sbuf cr = {0};
    sb_str(&cr, verb);
    sb_str(&cr, "\n");
    sb_str(&cr, path);
    sb_str(&cr, "\n");
    if (strcasecmp(verb, "POST") != 0) canonical_qs(&cr, mc_json_obj(c, "params"), NULL, NULL);
    sb_str(&cr, "\n");
    /* the signed headers, names lowercased, values trimmed, host as given */
    const cJSON *headers = mc_json_obj(c, "headers");
    char sh[512];
    mc_strlcpy(sh, signed_headers, sizeof sh);
    char *save = NULL;
    for (char *h = strtok_r(sh, ";", &save); h != NULL; h = strtok_r(NULL, ";", &save)) {
        const cJSON *kv, *found = NULL;
        cJSON_ArrayForEach(kv, headers) if (strcasecmp(kv->string, h) == 0 && cJSON_IsString(kv)) found = kv;
        const char *val = found ? found->valuestring : NULL;
        if (val == NULL) continue;
        while (*val == ' ') val++;
        size_t vn = strlen(val);
        while (vn > 0 && val[vn - 1] == ' ') vn--;
        sb_str(&cr, h);
        sb_str(&cr, ":");
        sb_add(&cr, val, vn);
        sb_str(&cr, "\n");
    }
    sb_str(&cr, "\n");
    sb_str(&cr, signed_headers);
    sb_str(&cr, "\n");
    sb_str(&cr, body_hash ? body_hash : "");
    char crhash[65];
    sha256_hex(cr.s, cr.n, crhash);
    free(cr.s);
    sbuf sts = {0};
    sb_str(&sts, "AWS4-HMAC-SHA256\n");
    sb_str(&sts, date);
    sb_str(&sts, "\n");
    for (int i = 1; i < 5; i++) {
        sb_str(&sts, parts[i]);
        sb_str(&sts, i < 4 ? "/" : "\n");
    }
    sb_str(&sts, crhash);
    char k0[300];
    snprintf(k0, sizeof k0, "AWS4%s", secret);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac256(k0, strlen(k0), parts[1], strlen(parts[1]), k1);
    hmac256(k1, 32, parts[2], strlen(parts[2]), k2);
    hmac256(k2, 32, parts[3], strlen(parts[3]), k3);
    hmac256(k3, 32, "aws4_request", 12, k4);
    hmac256(k4, 32, sts.s, sts.n, sig);
    free(sts.s);
    if (outsz < 65) return false;
    mc_hex(sig, 32, out);
    return true;
}

static bool is_v4(const cJSON *c) {
    const char *auth = mc_json_str(mc_json_obj(c, "headers"), "Authorization");
    if (auth != NULL) return strncmp(auth, "AWS4-HMAC-SHA256", 16) == 0;
    return mc_str_eq(mc_json_str(mc_json_obj(c, "params"), "X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
}

/* The signature for 'host'; false for a version not served. */
static bool ec2_signature(const char *secret, const cJSON *c, const char *host, char *out, size_t outsz) {
    const char *ver = mc_json_str(mc_json_obj(c, "params"), "SignatureVersion");
    if (ver != NULL && strcmp(ver, "2") == 0) {
        sig_v2(secret, c, host, out, outsz);
        return true;
    }
    return ver == NULL && is_v4(c) && sig_v4(secret, c, host, out, outsz);
}

/* "2026-11-25T11:23:11Z" (any ISO 8601 mc_time_parse takes) or the basic
 * "20261125T112311Z" of X-Amz-Date; -1 when neither. */
static double ec2_time(const char *s) {
    double t = mc_time_parse(s);
    if (t >= 0 || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') return t;
    char iso[32];
    snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11, s + 13);
    return mc_time_parse(iso);
}

void identity_ec2tokens(mc_req *r) {
    cJSON *c = mc_json_obj(r->body, "credentials");
    if (c == NULL) c = mc_json_obj(r->body, "credential");
    if (c == NULL) c = mc_json_obj(r->body, "ec2Credentials");
    const char *access = mc_json_str(c, "access");
    if (access == NULL) {
        mc_reply_error(r, 401, NULL, "EC2 Signature not supplied");
        return;
    }
    if (mc_check_or_reply(r, c, "access=s|signature=s|host=s|verb=s|path=s|params=o|headers=o|body_hash=s") != 0) return;
    char id[65];
    sha256_hex(access, strlen(access), id);
    mc_record *cred = mc_store_find(W(r, MC_K_CREDENTIAL), id);
    const char *btext = cred != NULL && mc_str_eq(mc_json_str(cred->doc, "type"), "ec2") ? mc_json_str(cred->doc, "blob") : NULL;
    cJSON *blob = btext != NULL ? cJSON_ParseWithLengthOpts(btext, strlen(btext) + 1, NULL, 1) : NULL;
    const char *secret = mc_json_str(blob, "secret");
    if (secret == NULL) {
        cJSON_Delete(blob);
        mc_reply_error(r, 404, NULL, "EC2 access key not found.");
        return;
    }
    const char *given = mc_json_str(c, "signature"), *host = mc_json_str(c, "host");
    if (given == NULL) {
        cJSON_Delete(blob);
        mc_reply_error(r, 401, NULL, "EC2 signature not supplied.");
        return;
    }
    char sig[80] = "", bare[256];
    bool ok = ec2_signature(secret, c, host ? host : "", sig, sizeof sig) && strcmp(sig, given) == 0;
    if (!ok && host != NULL && strchr(host, ':') != NULL && host[0] != '[') {   /* the host without its port */
        snprintf(bare, sizeof bare, "%.*s", (int)strcspn(host, ":"), host);
        ok = ec2_signature(secret, c, bare, sig, sizeof sig) && strcmp(sig, given) == 0;
    }
    cJSON_Delete(blob);
    if (!ok) {
        mc_reply_error(r, 401, NULL, "Invalid EC2 signature.");
        return;
    }
    mc_record *user = mc_store_find(W(r, MC_K_USER), mc_json_str(cred->doc, "user_id"));
    mc_record *project = mc_store_find(W(r, MC_K_PROJECT), mc_json_str(cred->doc, "project_id"));
    if (user == NULL || project == NULL || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(user->doc, "enabled")) ||
        cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(project->doc, "enabled"))) {
        mc_reply_error(r, 401, NULL, "The request you have made requires authentication.");
        return;
    }
    const char *ts = mc_json_str(mc_json_obj(c, "params"), "Timestamp");
    if (ts == NULL) ts = amz_date(c);
    if (ts != NULL) {
        double t = ec2_time(ts);
        if (t < 0) {
            mc_reply_error(r, 401, NULL, "Credential timestamp is invalid: %.64s", ts);
            return;
        }
        if (mc_now() > t + 15 * 60) {
            mc_reply_error(r, 401, NULL, "Credential is expired");
            return;
        }
    }
    identity_token_for_project(r, user, project, "ec2credential", 200);
}
