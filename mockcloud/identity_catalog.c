/* identity_catalog.c -- Keystone v3's catalog administration: regions,
 * services and endpoints (the service catalog of every token is built from
 * them here), policies and OS-EP-FILTER endpoint groups.
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
};

static const char *const interfaces[] = {"public", "internal", "admin"};

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

static void read_knobs(mc_req *r, const mc_record *svc, const char *project_id, svc_knobs *k) {
    const char *type = mc_json_str(svc->doc, "type");
    k->omit = type != NULL && mc_knob_lists(r, MC_KNOB_CATALOG_OMIT, type);
    k->ver = k->proj = false;
    const char *version = NULL;
    if (k->omit || type == NULL || !has_seeded_endpoint(r->srv, svc->id, &version)) return;
    k->ver = version != NULL && version[0] != '\0' && mc_knob_lists(r, MC_KNOB_CATALOG_VERSION_IN_URL, type);
    k->proj = project_id != NULL && project_id[0] != '\0' && mc_knob_lists(r, MC_KNOB_CATALOG_PROJECT_IN_URL, type);
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
    for (mc_record *x = mc_store_first(&r->srv->world[kind]); x; x = mc_store_next(x)) {
        bool ok = true;
        for (int i = 0; filters[i] != NULL && ok; i++) {
            const char *want = mc_query(r, filters[i]);
            if (want == NULL) continue;
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(x->doc, filters[i]);
            if (cJSON_IsString(v))
                ok = strcmp(v->valuestring, want) == 0;
            else if (cJSON_IsBool(v))
                ok = strcmp(cJSON_IsTrue(v) ? "true" : "false", want) == 0 ||
                     strcmp(cJSON_IsTrue(v) ? "True" : "False", want) == 0;
            else
                ok = false;
        }
        if (ok) cJSON_AddItemToArray(arr, view ? view(r, x) : public_view(r, x, collection));
    }
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
static cJSON *body_obj_or_reply(mc_req *r, const char *single) {
    cJSON *in = mc_json_obj(r->body, single);
    if (in == NULL) mc_reply_error(r, 400, NULL, "Invalid input for field '%s': '%s' is a required property", single, single);
    return in;
}

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
    mc_uuid_hex(r->srv, id);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
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
    mc_uuid_hex(r->srv, id);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
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
    mc_uuid_hex(r->srv, id);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
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
    mc_uuid_hex(r->srv, id);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
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
