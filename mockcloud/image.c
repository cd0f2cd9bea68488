/* image.c -- Glance v2: versions, images (create, list with filters, sort
 * and limit/marker, show, JSON-patch update, delete), image data upload and
 * download, tags, members (sharing), deactivate/reactivate and the JSON
 * schemas clients fetch.
 *
 * Records: each image is a record of MC_K_IMAGE whose 'doc' is exactly the
 * image as Glance v2 shows it (core attributes, null when unset, plus the
 * extra properties at the top level) and whose project_id is the owner. The
 * image bytes live in 'priv' (image_priv): uploaded data in memory, or for the
 * fixture images a generator seed (the bytes are made on download, so seeding
 * costs nothing). Members are records of MC_K_IMAGE_MEMBER keyed
 * "<image_id>:<member_id>" with project_id = the member.
 *
 * Visibility is Glance's: public and community images are seen by everyone,
 * private ones by the owner, shared ones by the owner and the members; a
 * plain list shows the caller's own images, public ones and the shared images
 * it has accepted. Admins see everything. Errors use Glance's (webob's) JSON
 * body {"message", "code": "404 Not Found", "title"} through mc_reply_error. */
#include "auth.h"
#include "digest.h"
#include "fixtures.h"
#include "http.h"
#include "imageapi.h"
#include "image_int.h"
#include "profile.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMAGES(srv) (&(srv)->world[MC_K_IMAGE])
#define MEMBERS(srv) (&(srv)->world[MC_K_IMAGE_MEMBER])
#define LIMIT_DEFAULT 25     /* Glance limit_param_default */
#define LIMIT_MAX 1000       /* Glance api_limit_max */

typedef struct image_priv {
    unsigned char *data;     /* uploaded bytes (malloc), or NULL */
    size_t len;
    uint64_t gen_seed;       /* != 0: fixture bytes generated on download */
    size_t gen_len;
    struct event *saving;    /* image.saving_ms, imports: -> "active" */
    mc_server *srv;
    char id[40];
    char md5hex[33], shahex[129];   /* of data */
    cJSON *tasks;            /* import tasks (GET .../tasks) */
    int cache;               /* image cache (API 2.14): 0 none, 1 queued, 2 cached */
    double cache_t;          /* when queued, then when cached */
    cJSON *locations;        /* [{url, metadata}], one per store holding the data */
    cJSON *pending;          /* the import under way: {method, stores, uri, must_succeed, ...} */
} image_priv;

/* srv->svc_state[MC_IMAGE]: the deployment's configuration from
 * fixtures/image.json ("stores": Glance's enabled_backends, each {id,
 * description, type, default, read-only}; "show_multiple_locations"). */
typedef struct image_state {
    cJSON *stores;           /* array; empty = a single-store Glance */
    bool show_locations;
} image_state;

static void image_priv_free(void *p) {
    image_priv *ip = p;
    if (ip->saving != NULL) event_free(ip->saving);
    cJSON_Delete(ip->tasks);
    cJSON_Delete(ip->locations);
    cJSON_Delete(ip->pending);
    free(ip->data);
    free(ip);
}

static const char *const disk_formats[] = {"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw",
                                           "qcow2", "vdi", "iso", "ploop", NULL};
static const char *const container_formats[] = {"ami", "ari", "aki", "bare", "ovf", "ova",
                                                "docker", "compressed", NULL};
static const char *const visibilities[] = {"public", "private", "shared", "community", NULL};
/* Attributes a client may never set (403 "is read-only"), and the reserved ones. */
static const char *const readonly_attrs[] = {"id", "status", "checksum", "size", "virtual_size",
                                             "created_at", "updated_at", "self", "file", "schema",
                                             "os_hash_algo", "os_hash_value", "direct_url",
                                             "locations", "stores", NULL};
static const char *const reserved_attrs[] = {"deleted", "deleted_at", NULL};
static bool in_list(const char *const *list, const char *s) {
    if (s == NULL) return false;
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

/* ---------------------------------------------------------------- stores */

static image_state *istate(mc_server *srv) { return srv->svc_state[MC_IMAGE]; }

static const cJSON *stores_cfg(mc_server *srv) {
    image_state *st = istate(srv);
    return st ? st->stores : NULL;
}

/* Multi-store (enabled_backends) is configured. */
static bool multi_store(mc_server *srv) { return cJSON_GetArraySize(stores_cfg(srv)) > 0; }

static const cJSON *store_find(mc_server *srv, const char *id) {
    const cJSON *s;
    cJSON_ArrayForEach(s, stores_cfg(srv)) if (id != NULL && mc_str_eq(mc_json_str(s, "id"), id)) return s;
    return NULL;
}

static bool store_read_only(const cJSON *s) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "read-only")); }

static const char *default_store(mc_server *srv) {
    const cJSON *s;
    cJSON_ArrayForEach(s, stores_cfg(srv)) if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "default"))) return mc_json_str(s, "id");
    return mc_json_str(cJSON_GetArrayItem(stores_cfg(srv), 0), "id");
}

static bool show_locations(mc_server *srv) { return istate(srv) != NULL && istate(srv)->show_locations; }

/* "glance-direct,web-download[,copy-image]" */
static void import_methods_text(mc_server *srv, char *out, size_t outsz) {
    snprintf(out, outsz, "glance-direct,web-download%s", multi_store(srv) ? ",copy-image" : "");
}


/* ---------------------------------------------------------------- records */

static void touch(mc_record *img) {
    char ts[32];
    mc_time_iso(mc_now(), ts);
    mc_json_set_str(img->doc, "updated_at", ts);
}

/* A queued image with Glance's defaults (visibility "shared" since Pike). */
static cJSON *image_doc_new(const char *id, const char *owner) {
    char ts[32], href[128];
    mc_time_iso(mc_now(), ts);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddNullToObject(d, "name");
    cJSON_AddStringToObject(d, "status", "queued");
    cJSON_AddStringToObject(d, "visibility", "shared");
    cJSON_AddBoolToObject(d, "protected", false);
    cJSON_AddBoolToObject(d, "os_hidden", false);
    cJSON_AddNullToObject(d, "checksum");
    cJSON_AddNullToObject(d, "os_hash_algo");
    cJSON_AddNullToObject(d, "os_hash_value");
    cJSON_AddStringToObject(d, "owner", owner);
    cJSON_AddNullToObject(d, "size");
    cJSON_AddNullToObject(d, "virtual_size");
    cJSON_AddNumberToObject(d, "min_ram", 0);
    cJSON_AddNumberToObject(d, "min_disk", 0);
    cJSON_AddNullToObject(d, "disk_format");
    cJSON_AddNullToObject(d, "container_format");
    cJSON_AddStringToObject(d, "created_at", ts);
    cJSON_AddStringToObject(d, "updated_at", ts);
    cJSON_AddItemToObject(d, "tags", cJSON_CreateArray());
    snprintf(href, sizeof href, "/v2/images/%s", id);
    cJSON_AddStringToObject(d, "self", href);
    snprintf(href, sizeof href, "/v2/images/%s/file", id);
    cJSON_AddStringToObject(d, "file", href);
    cJSON_AddStringToObject(d, "schema", "/v2/schemas/image");
    return d;
}

static mc_record *image_add(mc_server *srv, const char *id, const char *owner, cJSON *doc) {
    mc_record *img = mc_store_add(IMAGES(srv), id, owner, doc);
    if (img == NULL) return NULL;
    image_priv *ip = calloc(1, sizeof *ip);
    if (ip == NULL) mc_panic("out of memory");
    ip->srv = srv;
    mc_strlcpy(ip->id, id, sizeof ip->id);
    img->priv = ip;
    img->priv_free = image_priv_free;
    return img;
}

static mc_record *member_find(mc_server *srv, const char *image_id, const char *member) {
    char key[128];
    snprintf(key, sizeof key, "%s:%s", image_id, member);
    return mc_store_find(MEMBERS(srv), key);
}

/* A pending membership of 'member' in image 'image_id' (v2 and v1 add it the
 * same way), or NULL when it exists already. */
static mc_record *member_new(mc_server *srv, const char *image_id, const char *member) {
    char key[128], ts[32];
    snprintf(key, sizeof key, "%s:%s", image_id, member);
    mc_time_iso(mc_now(), ts);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "created_at", ts);
    cJSON_AddStringToObject(doc, "image_id", image_id);
    cJSON_AddStringToObject(doc, "member_id", member);
    cJSON_AddStringToObject(doc, "schema", "/v2/schemas/member");
    cJSON_AddStringToObject(doc, "status", "pending");
    cJSON_AddStringToObject(doc, "updated_at", ts);
    mc_record *m = mc_store_add(MEMBERS(srv), key, member, doc);
    if (m == NULL) cJSON_Delete(doc);
    return m;
}

static const char *visibility_of(const mc_record *img) {
    const char *v = mc_json_str(img->doc, "visibility");
    return v ? v : "shared";
}

static bool is_owner(const mc_record *img, const char *project) {
    return project != NULL && project[0] != '\0' && strcmp(img->project_id, project) == 0;
}

/* May 'project' see the image at all (show, download)? NULL project = any. */
static bool image_visible(mc_server *srv, const mc_record *img, const char *project, bool admin) {
    if (admin || project == NULL) return true;
    const char *vis = visibility_of(img);
    if (strcmp(vis, "public") == 0 || strcmp(vis, "community") == 0) return true;
    if (is_owner(img, project)) return true;
    if (strcmp(vis, "shared") == 0) return member_find(srv, img->id, project) != NULL;
    return false;
}

static void members_delete_all(mc_server *srv, const char *image_id) {
    size_t n = strlen(image_id);
    mc_record *m = mc_store_first(MEMBERS(srv));
    while (m != NULL) {
        mc_record *next = mc_store_next(m);
        if (strncmp(m->id, image_id, n) == 0 && m->id[n] == ':') mc_store_delete(MEMBERS(srv), m);
        m = next;
    }
}

static void image_remove(mc_server *srv, mc_record *img) {
    members_delete_all(srv, img->id);
    mc_store_delete(IMAGES(srv), img);
}

/* Fixture bytes: a splitmix64 stream (little-endian words) with a qcow2
 * magic header, the same generator fixtures/image.json's hashes were made
 * with. */
static void gen_bytes(uint64_t seed, unsigned char *out, size_t len) {
    static const unsigned char hdr[8] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
    uint64_t x = seed;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        for (size_t j = 0; j < 8 && i + j < len; j++) out[i + j] = (unsigned char)(z >> (8 * j));
    }
    memcpy(out, hdr, len < 8 ? len : 8);
}

/* Sets size, checksum, os_hash_* for 'len' bytes already hashed. */
static void set_hashes(mc_record *img, size_t len, mc_md5 *md5, mc_sha512 *sha) {
    unsigned char m[16], s[64];
    char mh[33], sh[129];
    mc_md5_final(md5, m);
    mc_sha512_final(sha, s);
    mc_hex(m, 16, mh);
    mc_hex(s, 64, sh);
    mc_json_set(img->doc, "size", cJSON_CreateNumber((double)len));
    mc_json_set_str(img->doc, "checksum", mh);
    mc_json_set_str(img->doc, "os_hash_algo", "sha512");
    mc_json_set_str(img->doc, "os_hash_value", sh);
}

/* The store a location is in ("" when none: a single-store Glance, or a
 * location added by URL). */
static const char *location_store(const cJSON *loc) {
    const char *s = mc_json_str(mc_json_obj(loc, "metadata"), "store");
    return s ? s : "";
}

static const cJSON *location_in(const image_priv *ip, const char *store) {
    const cJSON *l;
    cJSON_ArrayForEach(l, ip->locations) if (strcmp(location_store(l), store) == 0) return l;
    return NULL;
}

/* The image's "stores" (multi-store only): the stores of its locations, in
 * the configuration's order, comma-separated ("" without any). Computed for
 * each view, so a new configuration shows at once. */
static void stores_text(mc_server *srv, const image_priv *ip, char *buf, size_t bufsz) {
    buf[0] = '\0';
    const cJSON *s;
    cJSON_ArrayForEach(s, stores_cfg(srv)) {
        const char *id = mc_json_str(s, "id");
        if (location_in(ip, id) == NULL) continue;
        size_t n = strlen(buf);
        snprintf(buf + n, bufsz - n, "%s%s", n ? "," : "", id);
    }
}

/* The image's data now lives in 'store' too (NULL: the default store, or
 * the only one): one location for it, as glance_store's file driver names it. */
static void location_add_store(mc_server *srv, mc_record *img, const char *store) {
    image_priv *ip = img->priv;
    if (ip->locations == NULL) ip->locations = cJSON_CreateArray();
    bool multi = multi_store(srv);
    if (multi && store == NULL) store = default_store(srv);
    if (location_in(ip, multi ? store : "") != NULL) return;
    char url[300];
    snprintf(url, sizeof url, "file:///var/lib/glance/%s/%s", multi ? store : "images", img->id);
    cJSON *loc = cJSON_CreateObject();
    cJSON_AddStringToObject(loc, "url", url);
    cJSON *md = cJSON_AddObjectToObject(loc, "metadata");
    if (multi) cJSON_AddStringToObject(md, "store", store);
    cJSON_AddItemToArray(ip->locations, loc);
}

/* ---------------------------------------------------------------- imageapi.h */

mc_record *mc_image_find(mc_server *srv, const char *id, const char *project_id) {
    mc_record *img = mc_store_find(IMAGES(srv), id);
    if (img == NULL || !image_visible(srv, img, project_id, false)) return NULL;
    return img;
}

/* Core attributes a caller (snapshot properties, create body) may set. */
static bool set_core_attr(cJSON *doc, const char *key, const cJSON *v) {
    static const char *const settable[] = {"name", "disk_format", "container_format", "min_disk",
                                           "min_ram", "visibility", "protected", "os_hidden",
                                           "tags", NULL};
    if (!in_list(settable, key)) return false;
    mc_json_set(doc, key, cJSON_Duplicate(v, 1));
    return true;
}

mc_record *mc_image_snapshot_create(mc_server *srv, const char *project_id, const char *name,
                                    const cJSON *properties) {
    char id[37];
    mc_uuid(srv, id);
    cJSON *doc = image_doc_new(id, project_id ? project_id : "");
    mc_json_set_str(doc, "visibility", "private");
    const cJSON *p;
    cJSON_ArrayForEach(p, properties) {
        if (p->string == NULL || in_list(readonly_attrs, p->string) || in_list(reserved_attrs, p->string) ||
            strcmp(p->string, "owner") == 0)
            continue;
        if (!set_core_attr(doc, p->string, p)) mc_json_set(doc, p->string, cJSON_Duplicate(p, 1));
    }
    mc_json_set_str(doc, "name", name);
    mc_record *img = image_add(srv, id, project_id, doc);
    if (img == NULL) cJSON_Delete(doc);
    return img;
}

void mc_image_set_status(mc_server *srv, mc_record *image, const char *status) {
    (void)srv;
    mc_json_set_str(image->doc, "status", status);
    /* A snapshot that becomes active without an upload holds zero bytes. */
    if (strcmp(status, "active") == 0 && !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(image->doc, "size"))) {
        mc_md5 md5;
        mc_sha512 sha;
        mc_md5_init(&md5);
        mc_sha512_init(&sha);
        set_hashes(image, 0, &md5, &sha);
    }
    if (strcmp(status, "active") == 0 && cJSON_GetArraySize(((image_priv *)image->priv)->locations) == 0)
        location_add_store(srv, image, NULL);
    touch(image);
}

void mc_image_delete(mc_server *srv, mc_record *image) { image_remove(srv, image); }

/* ---------------------------------------------------------------- request helpers */

static bool req_admin(const mc_req *r) { return mc_auth_is_admin(r->tok); }
static const char *req_project(const mc_req *r) { return mc_auth_project(r); }

/* The image named by params[0] that the caller may see, or 404. */
static mc_record *image_or_reply(mc_req *r) {
    mc_record *img = mc_store_find(IMAGES(r->srv), r->params[0]);
    if (img == NULL || !image_visible(r->srv, img, req_project(r), req_admin(r))) {
        mc_reply_error(r, 404, NULL, "No image found with ID %s", r->params[0]);
        return NULL;
    }
    return img;
}

/* Owner or admin may change an image; others get 403. */
static int owner_or_reply(mc_req *r, const mc_record *img, const char *what) {
    if (req_admin(r) || is_owner(img, req_project(r))) return 0;
    mc_reply_error(r, 403, NULL, "You are not permitted to %s this image.", what);
    return -1;
}

/* An image as the API shows it: the doc, plus its locations where the
 * deployment shows them (show_multiple_locations). */
static cJSON *image_view(mc_server *srv, const mc_record *img) {
    cJSON *v = cJSON_Duplicate(img->doc, 1);
    const image_priv *ip = img->priv;
    char stores[512];
    stores_text(srv, ip, stores, sizeof stores);
    if (stores[0] != '\0') cJSON_AddStringToObject(v, "stores", stores);
    if (show_locations(srv)) {
        cJSON_AddItemToObject(v, "locations", ip->locations ? cJSON_Duplicate(ip->locations, 1) : cJSON_CreateArray());
    }
    return v;
}

static void reply_image(mc_req *r, int status, const mc_record *img) {
    mc_reply_json(r, status, image_view(r->srv, img));
}

/* ---------------------------------------------------------------- versions */

/* Glance's versions document. Deviation hook (image.versions_v1): a cloud
 * with only the v1 API lists v1.1 and v1.0 at /image/v1/ (with api.hide on
 * /v2*, the v2 API is not there either). */
static cJSON *versions_doc(mc_req *r) {
    /* Glance's own list (api/versions.py): 2.14 to 2.16 with the cache API
     * (served), 2.8 to 2.13 only with enabled_backends (several stores),
     * else 2.9 alone; then 2.7 down to 2.0. */
    static const char *const v2[] = {"v2.16", "v2.15", "v2.14", "v2.13", "v2.12", "v2.11", "v2.10",
                                     "v2.9", "v2.8", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3",
                                     "v2.2", "v2.1", "v2.0"};
    static const char *const v2_single[] = {"v2.16", "v2.15", "v2.14", "v2.9", "v2.7", "v2.6", "v2.5", "v2.4",
                                            "v2.3", "v2.2", "v2.1", "v2.0"};
    static const char *const v1[] = {"v1.1", "v1.0"};
    bool only_v1 = mc_knob(r, MC_KNOB_IMAGE_VERSIONS_V1) != 0;
    bool multi = multi_store(r->srv);
    const char *const *ids = only_v1 ? v1 : multi ? v2 : v2_single;
    size_t n = only_v1 ? sizeof v1 / sizeof v1[0] : multi ? sizeof v2 / sizeof v2[0] : sizeof v2_single / sizeof v2_single[0];
    char url[300], href[320];
    mc_service_url(r->srv, "/image", url, sizeof url);
    snprintf(href, sizeof href, "%s/%s/", url, only_v1 ? "v1" : "v2");
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "versions");
    for (size_t i = 0; i < n; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "id", ids[i]);
        cJSON_AddStringToObject(v, "status", i == 0 ? "CURRENT" : "SUPPORTED");
        mc_json_add_link(cJSON_AddArrayToObject(v, "links"), "self", href);
        cJSON_AddItemToArray(arr, v);
    }
    return root;
}

static void image_versions_list(mc_req *r) { mc_reply_json(r, 300, versions_doc(r)); }
/* GET /versions: the same document with 200 (glanceclient discovers here). */
static void image_versions_show(mc_req *r) { mc_reply_json(r, 200, versions_doc(r)); }

/* ---------------------------------------------------------------- seed */

/* One fixtures tree's images (fixtures/image.json, or the "image" part of a
 * POST /mockcloud/v1/fixtures). An active image given without a size holds
 * zero bytes, as a snapshot does. */
int image_seed_tree(mc_server *srv, const cJSON *fx, char *err, size_t errsz) {
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(fx, "images")) {
        const char *id = mc_json_str(x, "id"), *owner = mc_json_str(x, "owner");
        if (!mc_is_uuid(id) || owner == NULL || mc_json_str(x, "name") == NULL) {
            snprintf(err, errsz, "every image needs a uuid 'id', 'name' and 'owner'");
            return -1;
        }
        if (!in_list(visibilities, mc_json_str(x, "visibility")) ||
            (mc_json_has(x, "disk_format") && !in_list(disk_formats, mc_json_str(x, "disk_format"))) ||
            (mc_json_has(x, "container_format") &&
             !in_list(container_formats, mc_json_str(x, "container_format")))) {
            snprintf(err, errsz, "an image has an invalid visibility, disk_format or container_format");
            return -1;
        }
        cJSON *doc = image_doc_new(id, owner);
        const cJSON *f;
        cJSON_ArrayForEach(f, x) {
            if (strcmp(f->string, "properties") == 0 || strcmp(f->string, "data") == 0) continue;
            mc_json_set(doc, f->string, cJSON_Duplicate(f, 1));
        }
        cJSON_ArrayForEach(f, mc_json_obj(x, "properties")) mc_json_set(doc, f->string, cJSON_Duplicate(f, 1));
        mc_record *img = image_add(srv, id, owner, doc);
        if (img == NULL) {
            cJSON_Delete(doc);
            snprintf(err, errsz, "duplicate image id '%s'", id);
            return -1;
        }
        if (mc_str_eq(mc_json_str(doc, "status"), "active") && !mc_json_has(x, "size"))
            mc_image_set_status(srv, img, "active");
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(mc_json_obj(x, "data"), "seed");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(doc, "size");
        if (cJSON_IsNumber(seed) && cJSON_IsNumber(size) && seed->valuedouble >= 1 && size->valuedouble >= 0) {
            image_priv *ip = img->priv;
            ip->gen_seed = (uint64_t)seed->valuedouble;
            ip->gen_len = (size_t)size->valuedouble;
        }
        if (mc_str_eq(mc_json_str(doc, "status"), "active") || mc_str_eq(mc_json_str(doc, "status"), "deactivated"))
            location_add_store(srv, img, NULL);
    }
    return 0;
}

/* The deployment's stores (fixtures "stores": Glance's enabled_backends) and
 * show_multiple_locations. 0, or -1 with the reason. */
static int image_config(mc_server *srv, const cJSON *fx, char *err, size_t errsz) {
    image_state *st = calloc(1, sizeof *st);
    if (st == NULL) mc_panic("out of memory");
    srv->svc_state[MC_IMAGE] = st;
    st->stores = cJSON_CreateArray();
    st->show_locations = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fx, "show_multiple_locations"));
    const cJSON *s;
    int defaults = 0;
    cJSON_ArrayForEach(s, mc_json_arr(fx, "stores")) {
        const char *id = mc_json_str(s, "id");
        if (id == NULL || id[0] == '\0' || strlen(id) > 64 || strchr(id, ',') != NULL || strchr(id, '/') != NULL ||
            store_find(srv, id) != NULL) {
            snprintf(err, errsz, "every store needs a unique 'id' of 1 to 64 characters without ',' or '/'");
            return -1;
        }
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "default"))) defaults++;
        cJSON_AddItemToArray(st->stores, cJSON_Duplicate(s, 1));
    }
    if (cJSON_GetArraySize(st->stores) > 0 && defaults != 1) {
        snprintf(err, errsz, "exactly one store must be the 'default'");
        return -1;
    }
    if (cJSON_GetArraySize(st->stores) > 0 && store_read_only(store_find(srv, default_store(srv)))) {
        snprintf(err, errsz, "the default store cannot be read-only");
        return -1;
    }
    return 0;
}

int image_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    char path[1024], why[400];
    snprintf(path, sizeof path, "%s/image.json", dir);
    cJSON *fx = mc_json_load_file(path, err, errsz);
    if (fx == NULL) return -1;
    int rc = image_config(srv, fx, why, sizeof why);
    if (rc == 0) rc = image_seed_tree(srv, fx, why, sizeof why);
    if (rc == 0) rc = image_metadefs_seed(srv, mc_json_obj(fx, "metadefs"), why, sizeof why);
    if (rc != 0) snprintf(err, errsz, "%s: %s", path, why);
    cJSON_Delete(fx);
    return rc;
}

int image_fixtures_check(mc_fx *fx, const cJSON *t) {
    static const char *const statuses[] = {"queued", "saving", "active", "killed", "deleted", "pending_delete",
                                           "deactivated", "uploading", "importing", NULL};
    if (mc_fx_keys(fx, "image", t, (const char *const[]){"images", NULL}) || mc_fx_list(fx, "image", t, "images"))
        return -1;
    const cJSON *x, *list = mc_json_arr(t, "images");
    int i = 0;
    char w[64];
    cJSON_ArrayForEach(x, list) {
        snprintf(w, sizeof w, "image.images[%d]", i++);
        if (mc_fx_str(fx, w, x, "id", true, 36) || mc_fx_str(fx, w, x, "name", true, 255) ||
            mc_fx_str(fx, w, x, "owner", true, 36) || mc_fx_str(fx, w, x, "visibility", true, 16) ||
            mc_fx_str(fx, w, x, "status", false, 16) || mc_fx_str(fx, w, x, "disk_format", false, 16) ||
            mc_fx_str(fx, w, x, "container_format", false, 16) || mc_fx_bool(fx, w, x, "protected") ||
            mc_fx_bool(fx, w, x, "os_hidden") || mc_fx_num(fx, w, x, "min_disk", false, 0, 1 << 30) ||
            mc_fx_num(fx, w, x, "min_ram", false, 0, 1 << 30) || mc_fx_num(fx, w, x, "size", false, 0, 1LL << 40) ||
            mc_fx_obj(fx, w, x, "properties") || mc_fx_obj(fx, w, x, "data"))
            return -1;
        const char *id = mc_json_str(x, "id");
        if (!mc_is_uuid(id)) return mc_fx_fail(fx, "%s: 'id' must be a UUID, not '%s'", w, id);
        if (mc_store_find(IMAGES(fx->srv), id) || mc_fx_dup_before(list, x, "id", NULL))
            return mc_fx_fail(fx, "%s: image id '%s' is taken", w, id);
        if (!mc_fx_project_known(fx, mc_json_str(x, "owner"), false))
            return mc_fx_fail(fx, "%s: 'owner' names no project: '%s'", w, mc_json_str(x, "owner"));
        static const struct { const char *key; const char *const *set; } enums[] = {
            {"visibility", visibilities}, {"status", statuses}, {"disk_format", disk_formats},
            {"container_format", container_formats}};
        for (size_t k = 0; k < sizeof enums / sizeof enums[0]; k++) {
            const char *v = mc_json_str(x, enums[k].key);
            if (v != NULL && !in_list(enums[k].set, v)) return mc_fx_fail(fx, "%s: '%s' '%s' is not one Glance knows", w, enums[k].key, v);
        }
        const cJSON *tags = cJSON_GetObjectItemCaseSensitive(x, "tags"), *tag;
        if (tags != NULL && !cJSON_IsArray(tags)) return mc_fx_fail(fx, "%s: 'tags' must be an array of strings", w);
        cJSON_ArrayForEach(tag, tags) if (!cJSON_IsString(tag)) return mc_fx_fail(fx, "%s: 'tags' must be an array of strings", w);
        const cJSON *f;
        cJSON_ArrayForEach(f, x) {
            if (in_list(reserved_attrs, f->string)) return mc_fx_fail(fx, "%s: '%s' is reserved", w, f->string);
        }
        const cJSON *data = mc_json_obj(x, "data");
        if (data != NULL) {
            if (mc_fx_num(fx, w, data, "seed", true, 1, 9007199254740991.0)) return -1;
            if (!mc_json_has(x, "size")) return mc_fx_fail(fx, "%s: generated 'data' needs the image's 'size'", w);
        }
    }
    return 0;
}

int mc_image_configure(mc_server *srv, const cJSON *cfg, char *err, size_t errsz) {
    image_reset(srv);
    if (image_config(srv, cfg, err, errsz) == 0) return 0;
    image_reset(srv);
    cJSON *none = cJSON_CreateObject();
    char why[8];
    image_config(srv, none, why, sizeof why);
    cJSON_Delete(none);
    return -1;
}

void image_reset(mc_server *srv) {
    image_state *st = istate(srv);
    if (st == NULL) return;
    cJSON_Delete(st->stores);
    free(st);
    srv->svc_state[MC_IMAGE] = NULL;
}

/* Exposed for tests (tests/unit/test_digest.c checks the fixture hashes). */
void mc_image_gen_bytes(uint64_t seed, unsigned char *out, size_t len);
void mc_image_gen_bytes(uint64_t seed, unsigned char *out, size_t len) { gen_bytes(seed, out, len); }

/* ---------------------------------------------------------------- validation */

/* Checks one core attribute value as Glance's image schema does. Returns 0,
 * or the status (400/403) with a message in err. */
static int check_core_value(const mc_req *r, const char *key, const cJSON *v, char *err, size_t errsz) {
    if (strcmp(key, "name") == 0) {
        if (!cJSON_IsNull(v) && !(cJSON_IsString(v) && strlen(v->valuestring) <= 255)) {
            snprintf(err, errsz, "Invalid value for name: must be a string of at most 255 characters.");
            return 400;
        }
    } else if (strcmp(key, "disk_format") == 0 || strcmp(key, "container_format") == 0) {
        const char *const *ok = key[0] == 'd' ? disk_formats : container_formats;
        if (!cJSON_IsNull(v) && !(cJSON_IsString(v) && in_list(ok, v->valuestring))) {
            char list[256] = "";
            for (size_t i = 0; ok[i] != NULL; i++) {
                size_t n = strlen(list);
                snprintf(list + n, sizeof list - n, "%s'%s'", i ? ", " : "", ok[i]);
            }
            snprintf(err, errsz, "Invalid value '%.64s' for %s: it must be one of %s.",
                     cJSON_IsString(v) ? v->valuestring : "(not a string)", key, list);
            return 400;
        }
    } else if (strcmp(key, "visibility") == 0) {
        if (!cJSON_IsString(v) || !in_list(visibilities, v->valuestring)) {
            snprintf(err, errsz, "Invalid visibility value: %.64s",
                     cJSON_IsString(v) ? v->valuestring : "(not a string)");
            return 400;
        }
        if (strcmp(v->valuestring, "public") == 0 && !mc_auth_is_admin(r->tok)) {
            snprintf(err, errsz, "You are not authorized to complete publicize_image action.");
            return 403;
        }
    } else if (strcmp(key, "min_disk") == 0 || strcmp(key, "min_ram") == 0) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 2147483647.0 ||
            v->valuedouble != (double)(long long)v->valuedouble) {
            snprintf(err, errsz, "Invalid value for %s: must be an integer in [0, 2147483647].", key);
            return 400;
        }
    } else if (strcmp(key, "protected") == 0 || strcmp(key, "os_hidden") == 0) {
        if (!cJSON_IsBool(v)) {
            snprintf(err, errsz, "Invalid value for %s: must be a boolean.", key);
            return 400;
        }
    } else if (strcmp(key, "tags") == 0) {
        const cJSON *t;
        if (!cJSON_IsArray(v)) {
            snprintf(err, errsz, "Invalid value for tags: must be an array of strings.");
            return 400;
        }
        cJSON_ArrayForEach(t, v) {
            if (!cJSON_IsString(t) || strlen(t->valuestring) > 255 || t->valuestring[0] == '\0') {
                snprintf(err, errsz, "Invalid tag: tags are strings of 1 to 255 characters.");
                return 400;
            }
        }
    } else if (strcmp(key, "owner") == 0) {
        if (!mc_auth_is_admin(r->tok)) {
            snprintf(err, errsz, "Owner can't be updated by non admin.");
            return 403;
        }
        if (!cJSON_IsString(v) || strlen(v->valuestring) > 39) {
            snprintf(err, errsz, "Invalid value for owner.");
            return 400;
        }
    } else {
        /* an extra property: Glance's schema makes them strings */
        if (strlen(key) > 255 || !cJSON_IsString(v) || strlen(v->valuestring) > 65535) {
            snprintf(err, errsz, "Invalid value for property '%.64s': extra properties are strings.", key);
            return 400;
        }
    }
    return 0;
}

static bool is_settable_core(const char *key) {
    static const char *const settable[] = {"name", "disk_format", "container_format", "min_disk", "min_ram",
                                           "visibility", "protected", "os_hidden", "tags", "owner", NULL};
    return in_list(settable, key);
}

/* 403 for read-only and reserved attributes. */
static int check_writable(const char *key, char *err, size_t errsz) {
    if (in_list(readonly_attrs, key)) {
        snprintf(err, errsz, "Attribute '%.64s' is read-only.", key);
        return 403;
    }
    if (in_list(reserved_attrs, key) || strncmp(key, "os_glance", 9) == 0) {   /* os_glance_*: Glance's own */
        snprintf(err, errsz, "Attribute '%.64s' is reserved.", key);
        return 403;
    }
    return 0;
}

/* Tags without duplicates, in first-seen order. Returns a new array. */
static cJSON *tags_unique(const cJSON *tags) {
    cJSON *out = cJSON_CreateArray();
    const cJSON *t, *u;
    cJSON_ArrayForEach(t, tags) {
        bool dup = false;
        cJSON_ArrayForEach(u, out) dup = dup || strcmp(u->valuestring, t->valuestring) == 0;
        if (!dup) cJSON_AddItemToArray(out, cJSON_CreateString(t->valuestring));
    }
    return out;
}

/* ---------------------------------------------------------------- images */

static void image_image_show(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL) return;
    reply_image(r, 200, img);
}

static void image_image_create(mc_req *r) {
    char err[512];
    int st;
    const cJSON *f;
    cJSON_ArrayForEach(f, r->body) {
        if (strcmp(f->string, "id") == 0) continue;
        if ((st = check_writable(f->string, err, sizeof err)) != 0 ||
            (st = check_core_value(r, f->string, f, err, sizeof err)) != 0) {
            mc_reply_error(r, st, NULL, "%s", err);
            return;
        }
    }
    char id[37];
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(r->body, "id");
    if (jid != NULL) {
        if (!cJSON_IsString(jid) || strlen(jid->valuestring) != 36 || !mc_is_uuid(jid->valuestring)) {
            mc_reply_error(r, 400, NULL, "Invalid value for id: it must be a UUID.");
            return;
        }
        mc_strlcpy(id, jid->valuestring, sizeof id);
        if (mc_store_find(IMAGES(r->srv), id) != NULL) {
            mc_reply_error(r, 409, NULL, "Image with identifier %s already exists!", id);
            return;
        }
    } else {
        mc_uuid(r->srv, id);
    }
    const char *owner = mc_json_str(r->body, "owner");
    if (owner == NULL) owner = req_project(r);
    cJSON *doc = image_doc_new(id, owner);
    if (!mc_json_has(r->body, "visibility")) {
        const char *dv = mc_knob_str(r, MC_KNOB_IMAGE_DEFAULT_VISIBILITY);
        if (in_list(visibilities, dv)) mc_json_set_str(doc, "visibility", dv);
    }
    cJSON_ArrayForEach(f, r->body) {
        if (strcmp(f->string, "id") == 0) continue;
        mc_json_set(doc, f->string, strcmp(f->string, "tags") == 0 ? tags_unique(f) : cJSON_Duplicate(f, 1));
    }
    mc_record *img = image_add(r->srv, id, owner, doc);
    if (img == NULL) {
        cJSON_Delete(doc);
        mc_reply_error(r, 409, NULL, "Image with identifier %s already exists!", id);
        return;
    }
    char url[300], loc[400];
    mc_service_url(r->srv, "/image", url, sizeof url);
    snprintf(loc, sizeof loc, "%s/v2/images/%s", url, id);
    mc_header_set(r, "Location", loc);
    char methods[128];
    import_methods_text(r->srv, methods, sizeof methods);
    mc_header_set(r, "OpenStack-image-import-methods", methods);
    if (multi_store(r->srv)) {
        char stores[512] = "";
        const cJSON *x;
        cJSON_ArrayForEach(x, stores_cfg(r->srv)) {
            size_t n = strlen(stores);
            if (!store_read_only(x)) snprintf(stores + n, sizeof stores - n, "%s%s", n ? "," : "", mc_json_str(x, "id"));
        }
        mc_header_set(r, "OpenStack-image-store-ids", stores);
    }
    reply_image(r, 201, img);
}

static void image_image_delete(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "delete") != 0) return;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(img->doc, "protected"))) {
        mc_reply_error(r, 403, NULL, "Image %s is protected and cannot be deleted.", img->id);
        return;
    }
    image_remove(r->srv, img);
    mc_reply_json(r, 204, NULL);
}

/* GET/DELETE /v2/images/ (an empty id, as Tempest's null-id tests send):
 * Glance has no such route: 404. Without the slash, DELETE is a 405. */
static bool raw_path_has_slash(const mc_req *r) {
    const char *p = r->raw_path;
    return p[0] != '\0' && p[strlen(p) - 1] == '/';
}

static void image_image_null_delete(mc_req *r) {
    if (raw_path_has_slash(r))
        mc_reply_error(r, 404, NULL, "No image found with ID ");
    else
        mc_reply_error(r, 405, NULL, "The method DELETE is not allowed for this resource.");
}

/* ---- PATCH (application/openstack-images-v2.1-json-patch, RFC 6902 subset) */

/* "/name" -> "name" (JSON pointer, one level; ~1 and ~0 unescaped). */
static bool patch_key(const char *path, char *out, size_t outsz) {
    if (path == NULL || path[0] != '/' || path[1] == '\0') return false;
    size_t o = 0;
    for (const char *p = path + 1; *p; p++) {
        char c = *p;
        if (c == '/') return false;
        if (c == '~') {
            if (p[1] == '1') c = '/';
            else if (p[1] == '0') c = '~';
            else return false;
            p++;
        }
        if (o + 1 >= outsz) return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

static bool is_core_attr(const char *key) {
    return is_settable_core(key) || in_list(readonly_attrs, key) || strcmp(key, "id") == 0;
}

/* Applies one operation to 'doc'. Returns 0 or a status with err set. */
static int patch_apply(mc_req *r, const mc_record *img, cJSON *doc, const char *op, const char *key,
                       const cJSON *value, char *err, size_t errsz) {
    int st;
    if ((st = check_writable(key, err, errsz)) != 0) return st;
    bool core = is_core_attr(key);
    if (strcmp(op, "remove") == 0) {
        if (core) {
            snprintf(err, errsz, "Properties %s are core properties and cannot be removed.", key);
            return 403;
        }
        if (!mc_json_has(doc, key)) {
            snprintf(err, errsz, "Property %s does not exist.", key);
            return 409;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, key);
        return 0;
    }
    if (value == NULL) {
        snprintf(err, errsz, "Operation '%s' needs a 'value'.", op);
        return 400;
    }
    if (strcmp(op, "replace") == 0 && !core && !mc_json_has(doc, key)) {
        snprintf(err, errsz, "Property %s does not exist.", key);
        return 409;
    }
    if ((st = check_core_value(r, key, value, err, errsz)) != 0) return st;
    if ((strcmp(key, "disk_format") == 0 || strcmp(key, "container_format") == 0) &&
        !mc_str_eq(mc_json_str(img->doc, "status"), "queued") &&
        !cJSON_Compare(value, cJSON_GetObjectItemCaseSensitive(img->doc, key), 1)) {
        snprintf(err, errsz, "Attribute %s can be only replaced for a queued image.", key);
        return 403;
    }
    mc_json_set(doc, key, strcmp(key, "tags") == 0 ? tags_unique(value) : cJSON_Duplicate(value, 1));
    return 0;
}

/* ---- locations (show_multiple_locations): "/locations/-" or "/locations/N"
 * to add, "/locations" to replace (same URLs, new metadata only, or any
 * list on an image without locations), "/locations/N" to remove (never the
 * last). Adding to a queued image makes it active without reading any data;
 * validation_data sets the checksum and hash once and must match after. */

static bool location_url_ok(const char *url) {
    static const char *const schemes[] = {"file://", "http://", "https://", "swift://", "swift+http://",
                                          "swift+https://", "rbd://", "cinder://", "s3://", "s3+https://", NULL};
    if (url == NULL) return false;
    for (size_t i = 0; schemes[i] != NULL; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(url, schemes[i], n) == 0 && url[n] != '\0') return true;
    }
    return false;
}

/* A location value: {"url", "metadata", "validation_data"?}. 0 or a status. */
static int location_check(const cJSON *v, char *err, size_t errsz) {
    char field[64], why[160];
    if (!cJSON_IsObject(v) || !mc_check(v, "!url=s|metadata=o|validation_data=o", field, sizeof field, why, sizeof why) ||
        !mc_json_has(v, "metadata") || !location_url_ok(mc_json_str(v, "url"))) {
        snprintf(err, errsz, "Invalid location");
        return 400;
    }
    return 0;
}

/* validation_data against the image (doc): sets what the image lacks, 409
 * on a mismatch. */
static int location_validate(cJSON *doc, const cJSON *vd, char *err, size_t errsz) {
    if (vd == NULL) return 0;
    char field[64], why[160];
    if (!mc_check(vd, "!checksum=s|os_hash_algo=s|os_hash_value=s", field, sizeof field, why, sizeof why)) {
        snprintf(err, errsz, "Invalid validation_data: %s", why);
        return 400;
    }
    static const char *const keys[] = {"checksum", "os_hash_algo", "os_hash_value"};
    for (size_t i = 0; i < 3; i++) {
        const char *want = mc_json_str(vd, keys[i]), *have = mc_json_str(doc, keys[i]);
        if (want != NULL && have != NULL && strcmp(want, have) != 0) {
            snprintf(err, errsz, "%s of the location's validation data does not match the image's %s", keys[i], keys[i]);
            return 409;
        }
    }
    for (size_t i = 0; i < 3; i++)
        if (mc_json_str(vd, keys[i]) != NULL && mc_json_str(doc, keys[i]) == NULL)
            mc_json_set_str(doc, keys[i], mc_json_str(vd, keys[i]));
    return 0;
}

static cJSON *location_copy(const cJSON *v) {
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "url", mc_json_str(v, "url"));
    cJSON_AddItemToObject(l, "metadata", cJSON_Duplicate(mc_json_obj(v, "metadata"), 1));
    return l;
}

static int locations_apply(mc_req *r, cJSON *doc, cJSON *locs, const char *op, const char *path, const cJSON *value,
                           char *err, size_t errsz) {
    if (!show_locations(r->srv)) {
        snprintf(err, errsz, "It's not allowed to %s locations if locations are invisible.",
                 strcmp(op, "add") == 0 ? "add" : strcmp(op, "replace") == 0 ? "update" : "remove");
        return 403;
    }
    const char *status = mc_json_str(doc, "status");
    if (!mc_str_eq(status, "queued") && !mc_str_eq(status, "active")) {
        snprintf(err, errsz, "It's not allowed to %s locations if image status is %s.", op, status ? status : "?");
        return 409;
    }
    int n = cJSON_GetArraySize(locs), st;
    long idx = -1;
    const char *sub = path + 10;   /* after "/locations" */
    if (sub[0] == '/') {
        if (strcmp(sub + 1, "-") == 0 && strcmp(op, "add") == 0) {
            idx = n;
        } else if (!mc_parse_long(sub + 1, 0, 100000, &idx) || idx > n || (idx == n && strcmp(op, "add") != 0)) {
            snprintf(err, errsz, "Invalid JSON pointer for this resource: '%.64s'", path);
            return 400;
        }
    } else if (sub[0] != '\0' || strcmp(op, "replace") != 0) {
        snprintf(err, errsz, "Invalid JSON pointer for this resource: '%.64s'", path);
        return 400;
    }
    if (strcmp(op, "remove") == 0) {
        if (n <= 1) {
            snprintf(err, errsz, "Cannot remove last location in the image.");
            return 403;
        }
        cJSON_DeleteItemFromArray(locs, (int)idx);
        return 0;
    }
    if (strcmp(op, "add") == 0) {
        if ((st = location_check(value, err, errsz)) != 0) return st;
        const cJSON *l;
        cJSON_ArrayForEach(l, locs) if (mc_str_eq(mc_json_str(l, "url"), mc_json_str(value, "url"))) {
            snprintf(err, errsz, "Invalid location: the image has it already");
            return 400;
        }
        if ((st = location_validate(doc, mc_json_obj(value, "validation_data"), err, errsz)) != 0) return st;
        cJSON_InsertItemInArray(locs, (int)idx, location_copy(value));
        if (mc_str_eq(status, "queued")) mc_json_set_str(doc, "status", "active");
        return 0;
    }
    /* replace "/locations" */
    if (!cJSON_IsArray(value)) {
        snprintf(err, errsz, "Invalid locations: a list is expected");
        return 400;
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, value) if ((st = location_check(v, err, errsz)) != 0) return st;
    if (n > 0) {
        /* only the metadata of the same locations may change */
        if (cJSON_GetArraySize(value) != n) {
            snprintf(err, errsz, "Cannot replace locations from a non-empty list to a non-empty list.");
            return 400;
        }
        int i = 0;
        cJSON_ArrayForEach(v, value) {
            if (!mc_str_eq(mc_json_str(cJSON_GetArrayItem(locs, i++), "url"), mc_json_str(v, "url"))) {
                snprintf(err, errsz, "Cannot replace locations from a non-empty list to a non-empty list.");
                return 400;
            }
        }
    }
    while (cJSON_GetArraySize(locs) > 0) cJSON_DeleteItemFromArray(locs, 0);
    cJSON_ArrayForEach(v, value) {
        if ((st = location_validate(doc, mc_json_obj(v, "validation_data"), err, errsz)) != 0) return st;
        cJSON_AddItemToArray(locs, location_copy(v));
    }
    if (mc_str_eq(status, "queued") && cJSON_GetArraySize(locs) > 0) mc_json_set_str(doc, "status", "active");
    return 0;
}

static void image_image_update(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL) return;
    const char *ct = mc_header(r, "Content-Type");
    bool v20 = false;
    if (ct != NULL && strncasecmp(ct, "application/openstack-images-v2.1-json-patch", 44) == 0) {
        v20 = false;
    } else if (ct != NULL && strncasecmp(ct, "application/openstack-images-v2.0-json-patch", 44) == 0) {
        v20 = true;
    } else {
        mc_header_set(r, "Accept-Patch", "application/openstack-images-v2.0-json-patch, "
                                         "application/openstack-images-v2.1-json-patch");
        mc_reply_error(r, 415, NULL, "Content type '%.64s' is not supported: use "
                       "application/openstack-images-v2.1-json-patch.", ct ? ct : "(none)");
        return;
    }
    size_t len;
    const unsigned char *raw = mc_body_raw(r, &len);
    if (len > r->srv->cfg.max_body) {
        mc_reply_error(r, 413, NULL, "Request is too large: %zu bytes, the limit is %zu.", len, r->srv->cfg.max_body);
        return;
    }
    cJSON *ops = len ? mc_body_parse(r) : NULL;
    (void)raw;
    if (!cJSON_IsArray(ops)) {
        cJSON_Delete(ops);
        mc_reply_error(r, 400, NULL, "Malformed request body: a JSON patch is a list of operations.");
        return;
    }
    if (owner_or_reply(r, img, "modify") != 0) {
        cJSON_Delete(ops);
        return;
    }
    cJSON *doc = cJSON_Duplicate(img->doc, 1);
    image_priv *ip = img->priv;
    cJSON *locs = ip->locations ? cJSON_Duplicate(ip->locations, 1) : cJSON_CreateArray();
    bool locs_touched = false;
    char err[512];
    int st = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, ops) {
        const char *op = NULL, *path = NULL;
        if (v20) {   /* {"replace": "/name", "value": ...} */
            static const char *const names[] = {"add", "replace", "remove"};
            for (size_t i = 0; i < 3 && op == NULL; i++)
                if ((path = mc_json_str(o, names[i])) != NULL) op = names[i];
        } else {
            op = mc_json_str(o, "op");
            path = mc_json_str(o, "path");
        }
        char key[256];
        if (!cJSON_IsObject(o) || op == NULL || path == NULL) {
            snprintf(err, sizeof err, "Malformed JSON patch operation: it needs 'op' and 'path'.");
            st = 400;
        } else if (strcmp(op, "add") != 0 && strcmp(op, "replace") != 0 && strcmp(op, "remove") != 0) {
            snprintf(err, sizeof err, "Invalid operation: `%.32s`: operations are add, replace and remove.", op);
            st = 400;
        } else if (strncmp(path, "/locations", 10) == 0 && (path[10] == '\0' || path[10] == '/')) {
            locs_touched = true;
            st = locations_apply(r, doc, locs, op, path, cJSON_GetObjectItemCaseSensitive(o, "value"), err, sizeof err);
        } else if (!patch_key(path, key, sizeof key)) {
            snprintf(err, sizeof err, "Invalid JSON pointer for this resource: '%.64s'", path);
            st = 400;
        } else {
            st = patch_apply(r, img, doc, op, key, cJSON_GetObjectItemCaseSensitive(o, "value"), err, sizeof err);
        }
        if (st != 0) break;
    }
    cJSON_Delete(ops);
    if (st != 0) {
        cJSON_Delete(doc);
        cJSON_Delete(locs);
        mc_reply_error(r, st, NULL, "%s", err);
        return;
    }
    const char *owner = mc_json_str(doc, "owner");
    cJSON_Delete(img->doc);
    img->doc = doc;
    if (locs_touched) {
        cJSON_Delete(ip->locations);
        ip->locations = locs;
    } else {
        cJSON_Delete(locs);
    }
    if (owner != NULL) mc_strlcpy(img->project_id, owner, sizeof img->project_id);
    touch(img);
    reply_image(r, 200, img);
}

/* ---- list */

typedef struct time_filter {
    const char *key;         /* created_at / updated_at */
    char op[4];              /* gt gte lt lte eq neq */
    double t;
} time_filter;

typedef struct list_q {
    mc_server *srv;
    const char *project;
    bool admin;
    const char *visibility;  /* NULL: own + public + accepted shared */
    const char *member_status;
    long long size_min, size_max;   /* -1 = none */
    const mc_req *r;
    time_filter tf[4];
    int ntf;
    /* sort */
    char keys[4][24];
    bool desc[4];
    int nkeys;
} list_q;

/* Query keys that are not property filters. */
static bool is_control_key(const char *k) {
    static const char *const ctl[] = {"limit", "marker", "sort", "sort_key", "sort_dir", "member_status",
                                      "visibility", "size_min", "size_max", "tag", "created_at",
                                      "updated_at", "os_hidden", NULL};
    return in_list(ctl, k);
}

/* The doc value as text for equality filters: strings as is, integers in
 * decimal, booleans true/false; null never matches. */
static bool value_text(const cJSON *v, char *out, size_t outsz) {
    if (cJSON_IsString(v)) {
        mc_strlcpy(out, v->valuestring, outsz);
        return true;
    }
    if (cJSON_IsNumber(v)) {
        snprintf(out, outsz, "%.0f", v->valuedouble);
        return true;
    }
    if (cJSON_IsBool(v)) {
        mc_strlcpy(out, cJSON_IsTrue(v) ? "true" : "false", outsz);
        return true;
    }
    return false;
}

/* "in:a,b,c" matches any; otherwise exact (booleans case-insensitively). */
static bool filter_match(const cJSON *v, const char *want) {
    char have[512];
    if (!value_text(v, have, sizeof have)) return false;
    if (strncmp(want, "in:", 3) == 0) {
        const char *p = want + 3;
        size_t hl = strlen(have);
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n == hl && strncmp(p, have, n) == 0) return true;
            if (e == NULL) break;
            p = e + 1;
        }
        return false;
    }
    if (cJSON_IsBool(v)) return strcasecmp(have, want) == 0;
    return strcmp(have, want) == 0;
}

static bool member_ok(const list_q *q, const mc_record *img) {
    mc_record *m = member_find(q->srv, img->id, q->project);
    if (m == NULL) return false;
    return strcmp(q->member_status, "all") == 0 || mc_str_eq(mc_json_str(m->doc, "status"), q->member_status);
}

static bool list_visible(const list_q *q, const mc_record *img) {
    const char *vis = visibility_of(img);
    bool own = is_owner(img, q->project);
    if (q->visibility == NULL) {
        if (q->admin) return true;
        if (own || strcmp(vis, "public") == 0) return true;
        return strcmp(vis, "shared") == 0 && member_ok(q, img);
    }
    bool all = strcmp(q->visibility, "all") == 0;
    if (!all && strcmp(vis, q->visibility) != 0) return false;
    if (q->admin) return true;
    if (strcmp(vis, "public") == 0 || strcmp(vis, "community") == 0) return true;
    if (strcmp(vis, "private") == 0) return own;
    /* shared */
    return own || member_ok(q, img);
}

static bool list_filter(const mc_record *img, void *arg) {
    const list_q *q = arg;
    if (!list_visible(q, img)) return false;
    const cJSON *doc = img->doc;
    /* os_hidden: hidden images only when asked for */
    const char *hid = mc_query(q->r, "os_hidden");
    bool want_hidden = hid != NULL && strcasecmp(hid, "true") == 0;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "os_hidden")) != want_hidden) return false;
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(doc, "size");
    if (q->size_min >= 0 && (!cJSON_IsNumber(size) || size->valuedouble < (double)q->size_min)) return false;
    if (q->size_max >= 0 && (!cJSON_IsNumber(size) || size->valuedouble > (double)q->size_max)) return false;
    for (int i = 0; i < q->ntf; i++) {
        double t = mc_time_parse(mc_json_str(doc, q->tf[i].key));
        const char *op = q->tf[i].op;
        double w = q->tf[i].t;
        bool ok = strcmp(op, "gt") == 0 ? t > w : strcmp(op, "gte") == 0 ? t >= w : strcmp(op, "lt") == 0 ? t < w
                : strcmp(op, "lte") == 0 ? t <= w : strcmp(op, "neq") == 0 ? t != w : t == w;
        if (!ok) return false;
    }
    for (const mc_kv *kv = q->r->query; kv < q->r->query + q->r->nquery; kv++) {
        if (strcmp(kv->key, "tag") == 0) {
            bool found = false;
            const cJSON *t;
            cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "tags"))
                found = found || (cJSON_IsString(t) && strcmp(t->valuestring, kv->value) == 0);
            if (!found) return false;
            continue;
        }
        if (is_control_key(kv->key)) continue;
        if (!filter_match(cJSON_GetObjectItemCaseSensitive(doc, kv->key), kv->value)) return false;
    }
    return true;
}

static const char *const sort_keys_ok[] = {"name", "status", "container_format", "disk_format", "size",
                                           "id", "created_at", "updated_at", "visibility", "owner",
                                           "min_disk", "min_ram", "virtual_size", "protected", "os_hidden",
                                           NULL};

static int sort_key_add(mc_req *r, list_q *q, const char *key, size_t keylen, const char *dir) {
    char k[64];
    if (keylen >= sizeof k) keylen = sizeof k - 1;
    memcpy(k, key, keylen);
    k[keylen] = '\0';
    if (!in_list(sort_keys_ok, k)) {
        mc_reply_error(r, 400, NULL, "Invalid sort key: %s. It must be one of the following: name, status, "
                       "container_format, disk_format, size, id, created_at, updated_at.", k);
        return -1;
    }
    if (dir != NULL && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid sort direction: %.32s", dir);
        return -1;
    }
    if (q->nkeys >= 4) {
        mc_reply_error(r, 400, NULL, "Too many sort keys: at most 4.");
        return -1;
    }
    mc_strlcpy(q->keys[q->nkeys], k, sizeof q->keys[0]);
    q->desc[q->nkeys] = dir == NULL || strcmp(dir, "desc") == 0;
    q->nkeys++;
    return 0;
}

typedef struct sort_acc { mc_req *r; list_q *q; int rc; const char *dirs[4]; int ndirs; } sort_acc;

static void collect_sort_key(const char *v, void *arg) {
    sort_acc *a = arg;
    if (a->rc == 0) a->rc = sort_key_add(a->r, a->q, v, strlen(v), NULL);
}

static void collect_sort_dir(const char *v, void *arg) {
    sort_acc *a = arg;
    if (a->ndirs < 4) a->dirs[a->ndirs++] = v;
}

/* sort=name:asc,created_at or sort_key=..&sort_dir=.. (not both). */
static int parse_sort_or_reply(mc_req *r, list_q *q) {
    const char *sort = mc_query(r, "sort");
    if (sort != NULL) {
        if (mc_query(r, "sort_key") != NULL || mc_query(r, "sort_dir") != NULL) {
            mc_reply_error(r, 400, NULL, "The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'.");
            return -1;
        }
        const char *p = sort;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            const char *colon = memchr(p, ':', n);
            char dir[16] = "desc";
            size_t kl = n;
            if (colon != NULL) {
                kl = (size_t)(colon - p);
                size_t dl = n - kl - 1;
                if (dl >= sizeof dir) dl = sizeof dir - 1;
                memcpy(dir, colon + 1, dl);
                dir[dl] = '\0';
            }
            if (sort_key_add(r, q, p, kl, dir) != 0) return -1;
            if (e == NULL) break;
            p = e + 1;
        }
        return 0;
    }
    sort_acc a = {r, q, 0, {NULL}, 0};
    mc_query_each(r, "sort_key", collect_sort_key, &a);
    if (a.rc != 0) return -1;
    mc_query_each(r, "sort_dir", collect_sort_dir, &a);
    if (q->nkeys == 0) {
        if (a.ndirs > 1) {
            mc_reply_error(r, 400, NULL, "Number of sort dirs does not match the number of sort keys");
            return -1;
        }
        mc_strlcpy(q->keys[0], "created_at", sizeof q->keys[0]);
        q->nkeys = 1;
        q->desc[0] = true;
    }
    if (a.ndirs > 1 && a.ndirs != q->nkeys) {
        mc_reply_error(r, 400, NULL, "Number of sort dirs does not match the number of sort keys");
        return -1;
    }
    for (int i = 0; i < a.ndirs; i++)
        if (strcmp(a.dirs[i], "asc") != 0 && strcmp(a.dirs[i], "desc") != 0) {
            mc_reply_error(r, 400, NULL, "Invalid sort direction: %.32s", a.dirs[i]);
            return -1;
        }
    for (int i = 0; i < q->nkeys; i++)
        if (a.ndirs > 0) q->desc[i] = strcmp(a.dirs[a.ndirs == 1 ? 0 : i], "desc") == 0;
    return 0;
}

/* Orders two records by the query's keys; null sorts first; ties by
 * creation (seq) in the direction of the last key. */
static int rec_cmp(const list_q *q, const mc_record *a, const mc_record *b) {
    for (int i = 0; i < q->nkeys; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a->doc, q->keys[i]);
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b->doc, q->keys[i]);
        int c = 0;
        bool xn = x == NULL || cJSON_IsNull(x), yn = y == NULL || cJSON_IsNull(y);
        if (xn || yn) c = xn && yn ? 0 : xn ? -1 : 1;
        else if (cJSON_IsNumber(x) && cJSON_IsNumber(y))
            c = x->valuedouble < y->valuedouble ? -1 : x->valuedouble > y->valuedouble;
        else if (cJSON_IsString(x) && cJSON_IsString(y)) c = strcmp(x->valuestring, y->valuestring);
        else c = (int)cJSON_IsTrue(x) - (int)cJSON_IsTrue(y);
        if (c != 0) return q->desc[i] ? -c : c;
    }
    int c = a->seq < b->seq ? -1 : a->seq > b->seq;
    return q->desc[q->nkeys - 1] ? -c : c;
}

/* Stable merge sort with a context (qsort has none in C11). */
static void merge_sort(const list_q *q, mc_record **a, mc_record **tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    merge_sort(q, a, tmp, h);
    merge_sort(q, a + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = rec_cmp(q, a[j], a[i]) < 0 ? a[j++] : a[i++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

/* "/v2/images?k=v&..." from the request's query without 'marker', plus
 * 'marker' when given. Caller frees. */
static char *list_link(const mc_req *r, const char *marker) {
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "/v2/images");
    char sep = '?';
    for (const mc_kv *kv = r->query; kv < r->query + r->nquery; kv++) {
        if (strcmp(kv->key, "marker") == 0) continue;
        char *k = evhttp_uriencode(kv->key, -1, 1), *v = evhttp_uriencode(kv->value, -1, 1);
        evbuffer_add_printf(b, "%c%s=%s", sep, k ? k : "", v ? v : "");
        free(k);
        free(v);
        sep = '&';
    }
    if (marker != NULL) {
        char *m = evhttp_uriencode(marker, -1, 1);
        evbuffer_add_printf(b, "%cmarker=%s", sep, m ? m : "");
        free(m);
    }
    size_t n = evbuffer_get_length(b);
    char *out = malloc(n + 1);
    if (out == NULL) mc_panic("out of memory");
    evbuffer_remove(b, out, n);
    out[n] = '\0';
    evbuffer_free(b);
    return out;
}

static int parse_list_query_or_reply(mc_req *r, list_q *q) {
    q->visibility = mc_query(r, "visibility");
    if (q->visibility != NULL && strcmp(q->visibility, "all") != 0 && !in_list(visibilities, q->visibility)) {
        mc_reply_error(r, 400, NULL, "Invalid visibility value: %.64s", q->visibility);
        return -1;
    }
    q->member_status = mc_query(r, "member_status");
    if (q->member_status == NULL) q->member_status = "accepted";
    static const char *const ms[] = {"accepted", "pending", "rejected", "all", NULL};
    if (!in_list(ms, q->member_status)) {
        mc_reply_error(r, 400, NULL, "Invalid status value: %.64s", q->member_status);
        return -1;
    }
    long v;
    if (mc_query_long_or_reply(r, "size_min", 0, 0x7fffffffffffffffL, -1, &v) != 0) return -1;
    q->size_min = v;
    if (mc_query_long_or_reply(r, "size_max", 0, 0x7fffffffffffffffL, -1, &v) != 0) return -1;
    q->size_max = v;
    const char *hid = mc_query(r, "os_hidden"), *prot = mc_query(r, "protected");
    bool b;
    if ((hid != NULL && !mc_str_bool(hid, &b)) || (prot != NULL && strcasecmp(prot, "true") != 0 &&
                                                   strcasecmp(prot, "false") != 0)) {
        mc_reply_error(r, 400, NULL, "Invalid value for a boolean filter: os_hidden and protected are true or false.");
        return -1;
    }
    static const char *const tkeys[] = {"created_at", "updated_at"};
    for (int i = 0; i < 2; i++) {
        const char *t = mc_query(r, tkeys[i]);
        if (t == NULL) continue;
        const char *colon = strchr(t, ':');
        time_filter *f = &q->tf[q->ntf];
        f->key = tkeys[i];
        size_t ol = colon ? (size_t)(colon - t) : 0;
        static const char *const ops[] = {"gt", "gte", "lt", "lte", "eq", "neq", NULL};
        if (colon != NULL && ol < sizeof f->op) {
            memcpy(f->op, t, ol);
            f->op[ol] = '\0';
        }
        if (colon == NULL || ol >= sizeof f->op || !in_list(ops, f->op) || (f->t = mc_time_parse(colon + 1)) < 0) {
            mc_reply_error(r, 400, NULL, "Invalid %s filter '%.64s': use an operator (gt, gte, lt, lte, eq, neq) "
                           "and an ISO 8601 time, e.g. gte:2026-01-01T00:00:00Z.", tkeys[i], t);
            return -1;
        }
        q->ntf++;
    }
    return parse_sort_or_reply(r, q);
}

static void image_image_list(mc_req *r) {
    if (raw_path_has_slash(r)) {   /* GET /v2/images/ : an empty image id */
        mc_reply_error(r, 404, NULL, "No image found with ID ");
        return;
    }
    list_q q;
    memset(&q, 0, sizeof q);
    q.srv = r->srv;
    q.r = r;
    q.project = req_project(r);
    q.admin = req_admin(r);
    long limit;
    const char *lim = mc_query(r, "limit");
    if (lim != NULL && (!mc_parse_long(lim, -0x7fffffffL, 0x7fffffffL, &limit) || limit < 0)) {
        mc_reply_error(r, 400, NULL, "limit param must be positive");
        return;
    }
    limit = lim ? limit : LIMIT_DEFAULT;
    if (limit > LIMIT_MAX) limit = LIMIT_MAX;
    if (parse_list_query_or_reply(r, &q) != 0) return;
    const char *marker = mc_query(r, "marker");
    mc_record *mrec = marker ? mc_store_find(IMAGES(r->srv), marker) : NULL;
    if (marker != NULL && (mrec == NULL || !image_visible(r->srv, mrec, q.project, q.admin))) {
        mc_reply_error(r, 400, NULL, "Invalid marker. Image %.64s could not be found.", marker);
        return;
    }
    mc_record **page = malloc(((size_t)limit + 1) * sizeof *page);
    if (page == NULL) mc_panic("out of memory");
    long n = 0;
    bool deflt = q.nkeys == 1 && strcmp(q.keys[0], "created_at") == 0 && q.desc[0];
    if (deflt) {
        /* newest first is creation order reversed: a walk of one page */
        bool more;
        n = mc_store_page(IMAGES(r->srv), marker, limit, true, list_filter, &q, page, (size_t)limit + 1, &more);
    } else {
        size_t cap = IMAGES(r->srv)->count, m = 0;
        mc_record **all = malloc((cap + 1) * sizeof *all), **tmp = malloc((cap + 1) * sizeof *tmp);
        if (all == NULL || tmp == NULL) mc_panic("out of memory");
        for (mc_record *x = mc_store_first(IMAGES(r->srv)); x != NULL; x = mc_store_next(x))
            if (list_filter(x, &q)) all[m++] = x;
        merge_sort(&q, all, tmp, m);
        for (size_t i = 0; i < m && n < limit; i++)
            if (mrec == NULL || rec_cmp(&q, all[i], mrec) > 0) page[n++] = all[i];
        free(all);
        free(tmp);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "images");
    for (long i = 0; i < n; i++) cJSON_AddItemToArray(arr, image_view(r->srv, page[i]));
    char *first = list_link(r, NULL);
    cJSON_AddStringToObject(root, "first", first);
    free(first);
    /* Glance offers 'next' whenever a page is full. */
    if (n > 0 && n == limit) {
        char *next = list_link(r, page[n - 1]->id);
        cJSON_AddStringToObject(root, "next", next);
        free(next);
    }
    cJSON_AddStringToObject(root, "schema", "/v2/schemas/images");
    free(page);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- data */

static void import_finish(mc_server *srv, mc_record *img);

/* image.saving_ms, and imports: the data has been "processed". */
static void saving_done(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    image_priv *ip = arg;
    mc_record *img = mc_store_find(IMAGES(ip->srv), ip->id);
    if (img == NULL || img->priv != ip) return;
    if (ip->pending != NULL) {
        import_finish(ip->srv, img);
        return;
    }
    if (mc_str_eq(mc_json_str(img->doc, "status"), "saving")) {
        mc_json_set_str(img->doc, "status", "active");
        touch(img);
    }
}

static void schedule_done(mc_server *srv, image_priv *ip, long long ms) {
    if (ip->saving == NULL) ip->saving = evtimer_new(srv->base, saving_done, ip);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ip->saving, &tv);
}

/* The request body as image data (PUT /file, PUT /stage): octet-stream
 * only (415), the image must be queued (409), at most the cap (413). The
 * body goes through md5 and sha512 into one buffer kept in the image's
 * priv. Returns 0, or -1 when it replied. */
static int take_data_or_reply(mc_req *r, mc_record *img, const char *to_status) {
    const char *ct = mc_header(r, "Content-Type");
    if (ct == NULL || strncasecmp(ct, "application/octet-stream", 24) != 0 || (ct[24] != '\0' && ct[24] != ';')) {
        mc_reply_error(r, 415, NULL, "Content type '%.64s' is not supported: image data is application/octet-stream.",
                       ct ? ct : "(none)");
        return -1;
    }
    const char *status = mc_json_str(img->doc, "status");
    if (!mc_str_eq(status, "queued")) {
        mc_reply_error(r, 409, NULL, "Image status transition from %s to %s is not allowed", status ? status : "?",
                       to_status);
        return -1;
    }
    size_t len;
    const unsigned char *in = mc_body_raw(r, &len);
    size_t cap = r->srv->cfg.max_upload;
    if (mc_knob_srv(r->srv, MC_KNOB_IMAGE_SIZE_CAP) > 0) {
        long long kc = mc_knob(r, MC_KNOB_IMAGE_SIZE_CAP);
        if ((unsigned long long)kc < cap) cap = (size_t)kc;
    }
    if (len > cap) {
        mc_reply_error(r, 413, NULL, "Image exceeds the storage quota: %zu bytes, the limit is %zu.", len, cap);
        return -1;
    }
    unsigned char *data = malloc(len ? len : 1);
    if (data == NULL) mc_panic("out of memory");
    mc_md5 md5;
    mc_sha512 sha;
    mc_md5_init(&md5);
    mc_sha512_init(&sha);
    size_t off = len;
    mc_md5_update(&md5, in, len);
    mc_sha512_update(&sha, in, len);
    if (len > 0) memcpy(data, in, len);
    image_priv *ip = img->priv;
    free(ip->data);
    ip->data = data;
    ip->len = off;
    ip->gen_seed = 0;
    unsigned char m[16], sh[64];
    mc_md5_final(&md5, m);
    mc_sha512_final(&sha, sh);
    mc_hex(m, 16, ip->md5hex);
    mc_hex(sh, 64, ip->shahex);
    return 0;
}

/* X-Image-Meta-Store on an upload (multi-store only): a known, writable
 * store, or 400. Returns the store (NULL: the default), or "" after a reply. */
static const char *upload_store_or_reply(mc_req *r) {
    const char *h = mc_header(r, "X-Image-Meta-Store");
    if (h == NULL || !multi_store(r->srv)) return NULL;
    const cJSON *st = store_find(r->srv, h);
    if (st == NULL) {
        mc_reply_error(r, 400, NULL, "Store for identifier %.64s not found", h);
        return "";
    }
    if (store_read_only(st)) {
        mc_reply_error(r, 400, NULL, "Store %.64s is read-only", h);
        return "";
    }
    return mc_json_str(st, "id");
}

static void image_file_upload(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "upload data to") != 0) return;
    if (mc_knob_srv(r->srv, MC_KNOB_IMAGE_IMPORT_ONLY) && mc_knob(r, MC_KNOB_IMAGE_IMPORT_ONLY)) {
        mc_reply_error(r, 403, NULL, "You are not authorized to complete upload_image action.");
        return;
    }
    const char *store = upload_store_or_reply(r);
    if (store != NULL && store[0] == '\0') return;
    if (take_data_or_reply(r, img, "saving") != 0) return;
    image_priv *ip = img->priv;
    mc_json_set(img->doc, "size", cJSON_CreateNumber((double)ip->len));
    mc_json_set_str(img->doc, "checksum", ip->md5hex);
    mc_json_set_str(img->doc, "os_hash_algo", "sha512");
    mc_json_set_str(img->doc, "os_hash_value", ip->shahex);
    location_add_store(r->srv, img, store);
    long long saving = mc_knob_srv(r->srv, MC_KNOB_IMAGE_SAVING_MS) > 0 ? mc_knob(r, MC_KNOB_IMAGE_SAVING_MS) : 0;
    if (saving > 0) {
        mc_json_set_str(img->doc, "status", "saving");
        schedule_done(r->srv, ip, saving);
    } else {
        mc_json_set_str(img->doc, "status", "active");
    }
    touch(img);
    mc_reply_json(r, 204, NULL);
}

/* ---- interoperable image import (2.6+): glance-direct, web-download and,
 * with several stores, copy-image (Glance's default enabled_import_methods).
 *
 * The import runs a little later (saving_done -> import_finish), as Glance's
 * task does: the image is "importing" (copy-image leaves it "active"), with
 * os_glance_import_task, os_glance_importing_to_stores (what is left) and
 * os_glance_failed_import (what failed) set, and a task in GET .../tasks.
 * web-download cannot reach the network: the only URLs it can fetch are
 * those of mockcloud's own public images (PUBLIC_URL/image/v2/images/ID/file);
 * any other fails as an unreachable URL fails on Glance (the image goes back
 * to "queued", the stores into os_glance_failed_import, the task "failure"). */

static bool method_served(mc_server *srv, const char *m) {
    return mc_str_eq(m, "glance-direct") || mc_str_eq(m, "web-download") ||
           (mc_str_eq(m, "copy-image") && multi_store(srv));
}

static void image_info_import(mc_req *r) {
    char list[128];
    import_methods_text(r->srv, list, sizeof list);
    cJSON *root = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(root, "import-methods");
    cJSON_AddStringToObject(m, "description", "Import methods available.");
    cJSON_AddStringToObject(m, "type", "array");
    cJSON *v = cJSON_AddArrayToObject(m, "value");
    for (char *p = list; p != NULL && *p;) {
        char *e = strchr(p, ',');
        if (e != NULL) *e = '\0';
        cJSON_AddItemToArray(v, cJSON_CreateString(p));
        p = e ? e + 1 : NULL;
    }
    mc_reply_json(r, 200, root);
}

/* PUT /v2/images/{id}/stage: the data, kept aside; status "uploading". */
static void image_file_stage(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "upload data to") != 0) return;
    if (take_data_or_reply(r, img, "uploading") != 0) return;
    mc_json_set_str(img->doc, "status", "uploading");
    touch(img);
    mc_reply_json(r, 204, NULL);
}

/* One of mockcloud's own public active images named by a web-download URL
 * (PUBLIC_URL/image/v2/images/ID/file), or NULL. */
static mc_record *own_image_at(mc_server *srv, const char *uri) {
    char base[400];
    mc_service_url(srv, "/image", base, sizeof base);
    size_t bl = strlen(base);
    static const char mid[] = "/v2/images/";
    if (uri == NULL || strncmp(uri, base, bl) != 0 || strncmp(uri + bl, mid, sizeof mid - 1) != 0) return NULL;
    const char *id = uri + bl + sizeof mid - 1;
    if (strlen(id) != 36 + 5 || strcmp(id + 36, "/file") != 0) return NULL;
    char idbuf[37];
    memcpy(idbuf, id, 36);
    idbuf[36] = '\0';
    mc_record *img = mc_store_find(IMAGES(srv), idbuf);
    if (img == NULL || !mc_str_eq(mc_json_str(img->doc, "status"), "active")) return NULL;
    const char *vis = visibility_of(img);
    return strcmp(vis, "public") == 0 || strcmp(vis, "community") == 0 ? img : NULL;
}

/* The bytes of 'src' become 'img''s (generated fixture bytes stay a seed). */
static void data_copy(mc_record *img, const mc_record *src) {
    image_priv *ip = img->priv;
    const image_priv *sp = src->priv;
    free(ip->data);
    ip->data = NULL;
    ip->len = 0;
    ip->gen_seed = sp->gen_seed;
    ip->gen_len = sp->gen_len;
    if (sp->data != NULL) {
        ip->data = malloc(sp->len ? sp->len : 1);
        if (ip->data == NULL) mc_panic("out of memory");
        memcpy(ip->data, sp->data, sp->len);
        ip->len = sp->len;
    }
    static const char *const keys[] = {"size", "checksum", "os_hash_algo", "os_hash_value", NULL};
    for (size_t i = 0; keys[i] != NULL; i++)
        mc_json_set(img->doc, keys[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(src->doc, keys[i]), 1));
}

static void join_stores(const cJSON *arr, char *out, size_t outsz) {
    out[0] = '\0';
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        size_t n = strlen(out);
        snprintf(out + n, outsz - n, "%s%s", n ? "," : "", x->valuestring);
    }
}

static void import_finish(mc_server *srv, mc_record *img) {
    image_priv *ip = img->priv;
    cJSON *p = ip->pending;
    ip->pending = NULL;
    const char *method = mc_json_str(p, "method");
    const cJSON *stores = mc_json_arr(p, "stores"), *x;
    bool ok = true;
    char msg[512] = "Import complete";
    if (mc_str_eq(method, "web-download")) {
        const mc_record *src = own_image_at(srv, mc_json_str(p, "uri"));
        if (src != NULL) {
            data_copy(img, src);
        } else {
            ok = false;
            snprintf(msg, sizeof msg, "<urlopen error [Errno -2] Name or service not known> (%.300s: mockcloud has no "
                     "network; web-download fetches only its own public images' /file URLs)", mc_json_str(p, "uri"));
        }
    } else if (mc_str_eq(method, "glance-direct")) {
        mc_json_set(img->doc, "size", cJSON_CreateNumber((double)ip->len));
        mc_json_set_str(img->doc, "checksum", ip->md5hex);
        mc_json_set_str(img->doc, "os_hash_algo", "sha512");
        mc_json_set_str(img->doc, "os_hash_value", ip->shahex);
    }
    char list[512];
    join_stores(stores, list, sizeof list);
    if (ok) {
        if (cJSON_GetArraySize(stores) == 0) location_add_store(srv, img, NULL);
        cJSON_ArrayForEach(x, stores) location_add_store(srv, img, x->valuestring);
        mc_json_set_str(img->doc, "status", "active");
        mc_json_set_str(img->doc, "os_glance_failed_import", "");
    } else {
        /* Glance reverts a failed import: the image is queued again */
        mc_json_set_str(img->doc, "status", mc_str_eq(method, "copy-image") ? "active" : "queued");
        mc_json_set_str(img->doc, "os_glance_failed_import", list);
    }
    mc_json_set_str(img->doc, "os_glance_importing_to_stores", "");
    cJSON *t = cJSON_GetArrayItem(ip->tasks, cJSON_GetArraySize(ip->tasks) - 1);
    if (t != NULL) {
        char ts[32];
        mc_time_iso(mc_now(), ts);
        mc_json_set_str(t, "status", ok ? "success" : "failure");
        mc_json_set_str(t, "message", msg);
        mc_json_set_str(t, "updated_at", ts);
    }
    cJSON_Delete(p);
    touch(img);
}

/* The stores an import goes to (multi-store only; an empty array otherwise):
 * "stores", "all_stores" (the writable ones) or X-Image-Meta-Store, else the
 * default. copy-image leaves out those holding the image already (with
 * all_stores; named ones are a 409). NULL after a reply. */
static cJSON *import_stores_or_reply(mc_req *r, const mc_record *img, bool copy) {
    cJSON *out = cJSON_CreateArray();
    if (!multi_store(r->srv)) return out;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(r->body, "stores"), *x;
    if (cJSON_IsNull(list)) list = NULL;
    bool all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->body, "all_stores"));
    const char *hdr = mc_header(r, "X-Image-Meta-Store");
    if (all && (list != NULL || hdr != NULL)) {
        mc_reply_error(r, 400, NULL, "All_stores parameter can't be used with x-image-meta-store header or stores parameter");
        goto fail;
    }
    if (list != NULL && hdr != NULL) {
        mc_reply_error(r, 400, NULL, "Stores parameter and x-image-meta-store header can't be both specified");
        goto fail;
    }
    if (all) {
        cJSON_ArrayForEach(x, stores_cfg(r->srv)) if (!store_read_only(x)) cJSON_AddItemToArray(out, cJSON_CreateString(mc_json_str(x, "id")));
    } else if (list != NULL) {
        cJSON_ArrayForEach(x, list) {
            const cJSON *st = cJSON_IsString(x) ? store_find(r->srv, x->valuestring) : NULL;
            if (st == NULL) {
                mc_reply_error(r, 400, NULL, "Unknown scheme '%.64s' found in URI", cJSON_IsString(x) ? x->valuestring : "?");
                goto fail;
            }
            if (store_read_only(st)) {
                mc_reply_error(r, 400, NULL, "Store %.64s is read-only", x->valuestring);
                goto fail;
            }
            bool dup = false;
            const cJSON *y;
            cJSON_ArrayForEach(y, out) dup = dup || strcmp(y->valuestring, x->valuestring) == 0;
            if (!dup) cJSON_AddItemToArray(out, cJSON_CreateString(x->valuestring));
        }
        if (cJSON_GetArraySize(out) == 0) {
            mc_reply_error(r, 400, NULL, "Provided stores list is empty");
            goto fail;
        }
    } else {
        const char *s = hdr ? hdr : default_store(r->srv);
        const cJSON *st = store_find(r->srv, s);
        if (st == NULL || store_read_only(st)) {
            mc_reply_error(r, 400, NULL, "Store for identifier %.64s not found", s);
            goto fail;
        }
        cJSON_AddItemToArray(out, cJSON_CreateString(s));
    }
    if (copy) {
        const image_priv *ip = img->priv;
        cJSON *keep = cJSON_CreateArray();
        cJSON_ArrayForEach(x, out) {
            if (location_in(ip, x->valuestring) == NULL) {
                cJSON_AddItemToArray(keep, cJSON_CreateString(x->valuestring));
            } else if (!all) {
                mc_reply_error(r, 409, NULL, "Image is already present at store '%s'", x->valuestring);
                cJSON_Delete(keep);
                goto fail;
            }
        }
        cJSON_Delete(out);
        out = keep;
    }
    return out;
fail:
    cJSON_Delete(out);
    return NULL;
}

/* POST /v2/images/{id}/import {"method": {"name", "uri"}, "stores",
 * "all_stores", "all_stores_must_succeed"}: 202, then the import. */
static void image_image_import(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL) return;
    if (mc_check_or_reply(r, r->body, "method=o|stores=A|all_stores=B|all_stores_must_succeed=B") != 0 ||
        mc_check_or_reply(r, mc_json_obj(r->body, "method"), "name=s|uri=s") != 0)
        return;
    const char *name = mc_json_str(mc_json_obj(r->body, "method"), "name");
    if (!method_served(r->srv, name)) {
        mc_reply_error(r, 400, NULL, "Import method %.64s is not valid: use one of /v2/info/import.",
                       name ? name : "(missing)");
        return;
    }
    bool copy = strcmp(name, "copy-image") == 0;
    if (copy) {
        /* policy copy_image: admin only */
        if (!req_admin(r)) {
            mc_reply_error(r, 403, NULL, "You are not authorized to complete copy_image action.");
            return;
        }
    } else if (owner_or_reply(r, img, "import") != 0) {
        return;
    }
    image_priv *ip = img->priv;
    const char *status = mc_json_str(img->doc, "status");
    if (ip->pending != NULL) {
        mc_reply_error(r, 409, NULL, "Image has active task");
        return;
    }
    if (strcmp(name, "glance-direct") == 0 && !mc_str_eq(status, "uploading")) {
        mc_reply_error(r, 409, NULL, "Image needs to be staged before 'glance-direct' method can be used");
        return;
    }
    if (strcmp(name, "web-download") == 0 && !mc_str_eq(status, "queued")) {
        mc_reply_error(r, 409, NULL, "Image needs to be in 'queued' state to use 'web-download' method");
        return;
    }
    if (copy && !mc_str_eq(status, "active")) {
        mc_reply_error(r, 409, NULL, "Image needs to be in 'active' state to use 'copy-image' method");
        return;
    }
    const char *uri = mc_json_str(mc_json_obj(r->body, "method"), "uri");
    if (strcmp(name, "web-download") == 0 &&
        (uri == NULL || (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0))) {
        mc_reply_error(r, 400, NULL, "URI for web-download does not pass filtering: %.200s", uri ? uri : "(missing)");
        return;
    }
    cJSON *stores = import_stores_or_reply(r, img, copy);
    if (stores == NULL) return;
    if (copy && cJSON_GetArraySize(stores) == 0) {
        /* Glance: the image is in every store already, nothing to copy */
        cJSON_Delete(stores);
        mc_reply_json(r, 202, NULL);
        return;
    }
    char tid[37], ts[32], list[512];
    mc_uuid(r->srv, tid);
    mc_time_iso(mc_now(), ts);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "id", tid);
    cJSON_AddStringToObject(t, "type", "api_image_import");
    cJSON_AddStringToObject(t, "status", "processing");
    cJSON_AddStringToObject(t, "owner", img->project_id);
    cJSON *input = cJSON_AddObjectToObject(t, "input");
    cJSON_AddStringToObject(input, "image_id", img->id);
    cJSON_AddItemToObject(input, "import_req", cJSON_Duplicate(r->body, 1));
    cJSON_AddItemToObject(input, "backend", cJSON_GetArraySize(stores) ? cJSON_Duplicate(stores, 1) : cJSON_CreateNull());
    cJSON_AddNullToObject(t, "result");
    cJSON_AddStringToObject(t, "message", "");
    cJSON_AddStringToObject(t, "image_id", img->id);
    cJSON_AddStringToObject(t, "request_id", r->req_id);
    cJSON_AddStringToObject(t, "user_id", r->tok ? r->tok->user_id : "");
    cJSON_AddStringToObject(t, "created_at", ts);
    cJSON_AddStringToObject(t, "updated_at", ts);
    cJSON_AddStringToObject(t, "expires_at", ts);
    if (ip->tasks == NULL) ip->tasks = cJSON_CreateArray();
    cJSON_AddItemToArray(ip->tasks, t);
    ip->pending = cJSON_CreateObject();
    cJSON_AddStringToObject(ip->pending, "method", name);
    if (uri != NULL) cJSON_AddStringToObject(ip->pending, "uri", uri);
    join_stores(stores, list, sizeof list);
    cJSON_AddItemToObject(ip->pending, "stores", stores);
    if (!copy) mc_json_set_str(img->doc, "status", "importing");
    mc_json_set_str(img->doc, "os_glance_import_task", tid);
    mc_json_set_str(img->doc, "os_glance_importing_to_stores", list);
    mc_json_set_str(img->doc, "os_glance_failed_import", "");
    touch(img);
    long long ms = mc_knob_srv(r->srv, MC_KNOB_IMAGE_SAVING_MS) > 0 ? mc_knob(r, MC_KNOB_IMAGE_SAVING_MS) : 100;
    schedule_done(r->srv, ip, ms);
    mc_reply_json(r, 202, NULL);
}

/* ---- stores (multi-store: 2.8+) and usage (2.13) */

static int multi_or_reply(mc_req *r) {
    if (multi_store(r->srv)) return 0;
    mc_reply_error(r, 404, NULL, "Multi backend is not supported at this site.");
    return -1;
}

/* GET /v2/info/stores */
static void image_info_stores(mc_req *r) {
    if (multi_or_reply(r) != 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "stores");
    const cJSON *s;
    const char *dflt = default_store(r->srv);
    cJSON_ArrayForEach(s, stores_cfg(r->srv)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", mc_json_str(s, "id"));
        const char *d = mc_json_str(s, "description");
        cJSON_AddStringToObject(o, "description", d ? d : "");
        if (mc_str_eq(dflt, mc_json_str(s, "id"))) cJSON_AddStringToObject(o, "default", "true");
        if (store_read_only(s)) cJSON_AddStringToObject(o, "read-only", "true");
        cJSON_AddItemToArray(a, o);
    }
    mc_reply_json(r, 200, root);
}

/* GET /v2/info/stores/detail (2.15, admin: policy stores_info_detail) */
static void image_info_stores_detail(mc_req *r) {
    if (!req_admin(r)) {
        mc_reply_error(r, 403, NULL, "You are not authorized to complete stores_info_detail action.");
        return;
    }
    if (multi_or_reply(r) != 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "stores");
    const cJSON *s;
    const char *dflt = default_store(r->srv);
    cJSON_ArrayForEach(s, stores_cfg(r->srv)) {
        const char *id = mc_json_str(s, "id"), *type = mc_json_str(s, "type"), *d = mc_json_str(s, "description");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddStringToObject(o, "type", type ? type : "file");
        cJSON_AddStringToObject(o, "description", d ? d : "");
        if (mc_str_eq(dflt, id)) cJSON_AddBoolToObject(o, "default", true);
        if (store_read_only(s)) cJSON_AddBoolToObject(o, "read-only", true);
        cJSON_AddNumberToObject(o, "weight", 0);
        cJSON *props = cJSON_AddObjectToObject(o, "properties");
        if (type == NULL || strcmp(type, "file") == 0) {
            char dir[128];
            snprintf(dir, sizeof dir, "/var/lib/glance/%s", id);
            cJSON_AddStringToObject(props, "datadir", dir);
            cJSON_AddNumberToObject(props, "chunk_size", 65536);
            cJSON_AddBoolToObject(props, "thin_provisioning", false);
        }
        cJSON_AddItemToArray(a, o);
    }
    mc_reply_json(r, 200, root);
}

/* DELETE /v2/stores/{store}/{image} (2.10): the image's data leaves one
 * store; admin only (policy delete_image_location). */
static void image_store_delete(mc_req *r) {
    if (!req_admin(r)) {
        mc_reply_error(r, 403, NULL, "You are not authorized to complete delete_image_location action.");
        return;
    }
    if (multi_or_reply(r) != 0) return;
    if (store_find(r->srv, r->params[0]) == NULL) {
        mc_reply_error(r, 404, NULL, "Unknown store %.64s", r->params[0]);
        return;
    }
    mc_record *img = mc_store_find(IMAGES(r->srv), r->params[1]);
    if (img == NULL) {
        mc_reply_error(r, 404, NULL, "No image found with ID %s", r->params[1]);
        return;
    }
    image_priv *ip = img->priv;
    if (!mc_str_eq(mc_json_str(img->doc, "status"), "active")) {
        mc_reply_error(r, 409, NULL, "It's not allowed to remove image data from store if image status is not 'active'");
        return;
    }
    const cJSON *loc = location_in(ip, r->params[0]);
    if (loc == NULL) {
        mc_reply_error(r, 404, NULL, "Image %s is not present in store %s", img->id, r->params[0]);
        return;
    }
    if (cJSON_GetArraySize(ip->locations) <= 1) {
        mc_reply_error(r, 409, NULL, "It's not allowed to remove image data from store if image has only one location");
        return;
    }
    cJSON_Delete(cJSON_DetachItemViaPointer(ip->locations, (cJSON *)loc));
    touch(img);
    mc_reply_json(r, 204, NULL);
}

/* GET /v2/info/usage (2.13): the caller's project; no keystone limits, so
 * every limit is -1. Sizes in MiB, as Glance counts them. */
static void image_info_usage(mc_req *r) {
    const char *project = req_project(r);
    double bytes = 0, staged = 0;
    long count = 0, uploading = 0;
    for (mc_record *x = mc_store_first(IMAGES(r->srv)); x != NULL; x = mc_store_next(x)) {
        if (!is_owner(x, project)) continue;
        count++;
        const char *st = mc_json_str(x->doc, "status");
        const cJSON *sz = cJSON_GetObjectItemCaseSensitive(x->doc, "size");
        const image_priv *ip = x->priv;
        if (mc_str_eq(st, "uploading") || mc_str_eq(st, "importing")) {
            uploading++;
            staged += (double)ip->len;
        } else if (cJSON_IsNumber(sz)) {
            bytes += sz->valuedouble * (cJSON_GetArraySize(ip->locations) > 1 ? cJSON_GetArraySize(ip->locations) : 1);
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *u = cJSON_AddObjectToObject(root, "usage");
    static const char *const keys[] = {"image_size_total", "image_stage_total", "image_count_total", "image_count_uploading"};
    double vals[] = {(double)((long long)bytes / (1024 * 1024)), (double)((long long)staged / (1024 * 1024)), (double)count,
                     (double)uploading};
    for (size_t i = 0; i < 4; i++) {
        cJSON *o = cJSON_AddObjectToObject(u, keys[i]);
        cJSON_AddNumberToObject(o, "limit", -1);
        cJSON_AddNumberToObject(o, "usage", vals[i]);
    }
    mc_reply_json(r, 200, root);
}

/* GET /v2/images/{id}/tasks (2.12). */
static void image_task_list(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL) return;
    image_priv *ip = img->priv;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "tasks", ip->tasks ? cJSON_Duplicate(ip->tasks, 1) : cJSON_CreateArray());
    mc_reply_json(r, 200, root);
}

static void image_file_download(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL) return;
    if (mc_str_eq(mc_json_str(img->doc, "status"), "deactivated") && !req_admin(r)) {
        mc_reply_error(r, 403, NULL, "The requested image has been deactivated. Image data download is forbidden.");
        return;
    }
    image_priv *ip = img->priv;
    const char *sum = mc_json_str(img->doc, "checksum");
    const char *st = mc_json_str(img->doc, "status");
    if (!mc_str_eq(st, "active") && !mc_str_eq(st, "deactivated")) {
        mc_reply_json(r, 204, NULL);   /* queued, saving, uploading, importing: no stored data yet */
    } else if (ip->data != NULL) {
        if (sum) mc_header_set(r, "Content-MD5", sum);
        mc_reply_bytes(r, 200, "application/octet-stream", ip->data, ip->len);
    } else if (ip->gen_seed != 0) {
        unsigned char *b = malloc(ip->gen_len ? ip->gen_len : 1);
        if (b == NULL) mc_panic("out of memory");
        gen_bytes(ip->gen_seed, b, ip->gen_len);
        if (sum) mc_header_set(r, "Content-MD5", sum);
        mc_reply_bytes(r, 200, "application/octet-stream", b, ip->gen_len);
        free(b);
    } else if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(img->doc, "size"))) {
        /* active without bytes (a snapshot): zero bytes */
        if (sum) mc_header_set(r, "Content-MD5", sum);
        mc_reply_bytes(r, 200, "application/octet-stream", "", 0);
    } else {
        mc_reply_json(r, 204, NULL);
    }
}

/* ---------------------------------------------------------------- tags */

static void image_tag_update(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "modify") != 0) return;
    const char *tag = r->params[1];
    if (strlen(tag) > 255) {
        mc_reply_error(r, 400, NULL, "Invalid tag: tags are strings of 1 to 255 characters.");
        return;
    }
    cJSON *tags = mc_json_arr(img->doc, "tags");
    if (tags == NULL) {
        tags = cJSON_CreateArray();
        mc_json_set(img->doc, "tags", tags);
    }
    const cJSON *t;
    bool have = false;
    cJSON_ArrayForEach(t, tags) have = have || (cJSON_IsString(t) && strcmp(t->valuestring, tag) == 0);
    if (!have) cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
    touch(img);
    mc_reply_json(r, 204, NULL);
}

static void image_tag_delete(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "modify") != 0) return;
    cJSON *tags = mc_json_arr(img->doc, "tags");
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        if (cJSON_IsString(t) && strcmp(t->valuestring, r->params[1]) == 0) {
            cJSON_DeleteItemFromArray(tags, i);
            touch(img);
            mc_reply_json(r, 204, NULL);
            return;
        }
        i++;
    }
    mc_reply_error(r, 404, NULL, "Tag %.255s not found.", r->params[1]);
}

/* ---------------------------------------------------------------- members */

static int shared_or_reply(mc_req *r, const mc_record *img) {
    if (strcmp(visibility_of(img), "shared") == 0) return 0;
    mc_reply_error(r, 403, NULL, "Only shared images have members.");
    return -1;
}

static void image_member_list(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL || shared_or_reply(r, img) != 0) return;
    bool all = req_admin(r) || is_owner(img, req_project(r));
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "members");
    size_t n = strlen(img->id);
    for (mc_record *m = mc_store_first(MEMBERS(r->srv)); m != NULL; m = mc_store_next(m)) {
        if (strncmp(m->id, img->id, n) != 0 || m->id[n] != ':') continue;
        if (all || strcmp(m->project_id, req_project(r)) == 0) cJSON_AddItemToArray(arr, cJSON_Duplicate(m->doc, 1));
    }
    cJSON_AddStringToObject(root, "schema", "/v2/schemas/members");
    mc_reply_json(r, 200, root);
}

static void image_member_create(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "share") != 0 || shared_or_reply(r, img) != 0) return;
    const char *member = mc_json_str(r->body, "member");
    if (member == NULL || member[0] == '\0' || strlen(member) > 39) {
        mc_reply_error(r, 400, NULL, "Member to be added not specified: the body is {\"member\": \"<project id>\"}.");
        return;
    }
    if (member_find(r->srv, img->id, member) != NULL) {
        mc_reply_error(r, 409, NULL, "Member %s already associated with image %s", member, img->id);
        return;
    }
    mc_record *m = member_new(r->srv, img->id, member);
    if (m == NULL) {
        mc_reply_error(r, 409, NULL, "Member %s already associated with image %s", member, img->id);
        return;
    }
    mc_reply_json(r, 200, cJSON_Duplicate(m->doc, 1));
}

/* The member params[1] of the image, visible to the owner or the member itself. */
static mc_record *member_or_reply(mc_req *r, mc_record *img) {
    mc_record *m = member_find(r->srv, img->id, r->params[1]);
    bool may = req_admin(r) || is_owner(img, req_project(r)) || strcmp(r->params[1], req_project(r)) == 0;
    if (m == NULL || !may) {
        mc_reply_error(r, 404, NULL, "%s is not a member of image %s", r->params[1], img->id);
        return NULL;
    }
    return m;
}

static void image_member_show(mc_req *r) {
    mc_record *img = image_or_reply(r), *m;
    if (img == NULL || shared_or_reply(r, img) != 0 || (m = member_or_reply(r, img)) == NULL) return;
    mc_reply_json(r, 200, cJSON_Duplicate(m->doc, 1));
}

static void image_member_update(mc_req *r) {
    mc_record *img = image_or_reply(r), *m;
    if (img == NULL || shared_or_reply(r, img) != 0 || (m = member_or_reply(r, img)) == NULL) return;
    if (strcmp(m->project_id, req_project(r)) != 0) {
        mc_reply_error(r, 403, NULL, "You are not permitted to modify 'status' on this image member.");
        return;
    }
    const char *st = mc_json_str(r->body, "status");
    static const char *const ok[] = {"pending", "accepted", "rejected", NULL};
    if (!in_list(ok, st)) {
        mc_reply_error(r, 400, NULL, "Invalid status: %.32s. The status is pending, accepted or rejected.",
                       st ? st : "(missing)");
        return;
    }
    char ts[32];
    mc_time_iso(mc_now(), ts);
    mc_json_set_str(m->doc, "status", st);
    mc_json_set_str(m->doc, "updated_at", ts);
    mc_reply_json(r, 200, cJSON_Duplicate(m->doc, 1));
}

static void image_member_delete(mc_req *r) {
    mc_record *img = image_or_reply(r), *m;
    if (img == NULL || shared_or_reply(r, img) != 0 || (m = member_or_reply(r, img)) == NULL) return;
    if (owner_or_reply(r, img, "unshare") != 0) return;
    mc_store_delete(MEMBERS(r->srv), m);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- actions */

static void image_action(mc_req *r, bool deactivate) {
    mc_record *img = image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, deactivate ? "deactivate" : "reactivate") != 0) return;
    const char *st = mc_json_str(img->doc, "status");
    if (mc_str_eq(st, deactivate ? "deactivated" : "active")) {
        mc_reply_json(r, 204, NULL);
        return;
    }
    if (!mc_str_eq(st, deactivate ? "active" : "deactivated")) {
        mc_reply_error(r, 400, NULL, "Not allowed to %s image in status '%s'", deactivate ? "deactivate" : "reactivate",
                       st ? st : "?");
        return;
    }
    mc_json_set_str(img->doc, "status", deactivate ? "deactivated" : "active");
    touch(img);
    mc_reply_json(r, 204, NULL);
}

static void image_image_deactivate(mc_req *r) { image_action(r, true); }
static void image_image_reactivate(mc_req *r) { image_action(r, false); }

/* ---------------------------------------------------------------- schemas */

/* Glance's image schema (glance/api/v2/images.py get_schema), as glanceclient
 * and warlock validate against it. */
static const char image_schema[] =
    "{\"name\":\"image\",\"additionalProperties\":{\"type\":\"string\"},"
    "\"links\":[{\"href\":\"{self}\",\"rel\":\"self\"},{\"href\":\"{file}\",\"rel\":\"enclosure\"},"
    "{\"href\":\"{schema}\",\"rel\":\"describedby\"}],"
    "\"properties\":{"
    "\"architecture\":{\"description\":\"Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html\",\"is_base\":false,\"type\":\"string\"},"
    "\"checksum\":{\"description\":\"md5 hash of image contents.\",\"maxLength\":32,\"readOnly\":true,\"type\":[\"null\",\"string\"]},"
    "\"container_format\":{\"description\":\"Format of the container\",\"enum\":[null,\"ami\",\"ari\",\"aki\",\"bare\",\"ovf\",\"ova\",\"docker\",\"compressed\"],\"type\":[\"null\",\"string\"]},"
    "\"created_at\":{\"description\":\"Date and time of image registration\",\"readOnly\":true,\"type\":\"string\"},"
    "\"direct_url\":{\"description\":\"URL to access the image file kept in external store\",\"readOnly\":true,\"type\":\"string\"},"
    "\"disk_format\":{\"description\":\"Format of the disk\",\"enum\":[null,\"ami\",\"ari\",\"aki\",\"vhd\",\"vhdx\",\"vmdk\",\"raw\",\"qcow2\",\"vdi\",\"iso\",\"ploop\"],\"type\":[\"null\",\"string\"]},"
    "\"file\":{\"description\":\"An image file url\",\"readOnly\":true,\"type\":\"string\"},"
    "\"id\":{\"description\":\"An identifier for the image\",\"pattern\":\"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$\",\"type\":\"string\"},"
    "\"instance_uuid\":{\"description\":\"Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)\",\"is_base\":false,\"type\":\"string\"},"
    "\"kernel_id\":{\"description\":\"ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.\",\"is_base\":false,\"pattern\":\"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$\",\"type\":[\"null\",\"string\"]},"
    "\"locations\":{\"description\":\"A set of URLs to access the image file kept in external store\",\"items\":{\"properties\":{\"metadata\":{\"type\":\"object\"},\"url\":{\"maxLength\":255,\"type\":\"string\"}},\"required\":[\"url\",\"metadata\"],\"type\":\"object\"},\"type\":\"array\"},"
    "\"min_disk\":{\"description\":\"Amount of disk space (in GB) required to boot image.\",\"type\":\"integer\"},"
    "\"min_ram\":{\"description\":\"Amount of ram (in MB) required to boot image.\",\"type\":\"integer\"},"
    "\"name\":{\"description\":\"Descriptive name for the image\",\"maxLength\":255,\"type\":[\"null\",\"string\"]},"
    "\"os_distro\":{\"description\":\"Common name of operating system distribution as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html\",\"is_base\":false,\"type\":\"string\"},"
    "\"os_hash_algo\":{\"description\":\"Algorithm to calculate the os_hash_value\",\"maxLength\":64,\"readOnly\":true,\"type\":[\"null\",\"string\"]},"
    "\"os_hash_value\":{\"description\":\"Hexdigest of the image contents using the algorithm specified by the os_hash_algo\",\"maxLength\":128,\"readOnly\":true,\"type\":[\"null\",\"string\"]},"
    "\"os_hidden\":{\"description\":\"If true, image will not appear in default image list response.\",\"type\":\"boolean\"},"
    "\"os_version\":{\"description\":\"Operating system version as specified by the distributor\",\"is_base\":false,\"type\":\"string\"},"
    "\"owner\":{\"description\":\"Owner of the image\",\"maxLength\":255,\"type\":[\"null\",\"string\"]},"
    "\"protected\":{\"description\":\"If true, image will not be deletable.\",\"type\":\"boolean\"},"
    "\"ramdisk_id\":{\"description\":\"ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.\",\"is_base\":false,\"pattern\":\"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$\",\"type\":[\"null\",\"string\"]},"
    "\"schema\":{\"description\":\"An image schema url\",\"readOnly\":true,\"type\":\"string\"},"
    "\"self\":{\"description\":\"An image self url\",\"readOnly\":true,\"type\":\"string\"},"
    "\"size\":{\"description\":\"Size of image file in bytes\",\"readOnly\":true,\"type\":[\"null\",\"integer\"]},"
    "\"status\":{\"description\":\"Status of the image\",\"enum\":[\"queued\",\"saving\",\"active\",\"killed\",\"deleted\",\"uploading\",\"importing\",\"pending_delete\",\"deactivated\"],\"readOnly\":true,\"type\":\"string\"},"
    "\"tags\":{\"description\":\"List of strings related to the image\",\"items\":{\"maxLength\":255,\"type\":\"string\"},\"type\":\"array\"},"
    "\"updated_at\":{\"description\":\"Date and time of the last image modification\",\"readOnly\":true,\"type\":\"string\"},"
    "\"virtual_size\":{\"description\":\"Virtual size of image in bytes\",\"readOnly\":true,\"type\":[\"null\",\"integer\"]},"
    "\"visibility\":{\"description\":\"Scope of image accessibility\",\"enum\":[\"community\",\"public\",\"private\",\"shared\"],\"type\":\"string\"}"
    "}}";

static const char member_schema[] =
    "{\"name\":\"member\",\"properties\":{"
    "\"created_at\":{\"description\":\"Date and time of image member creation\",\"type\":\"string\"},"
    "\"image_id\":{\"description\":\"An identifier for the image\",\"pattern\":\"^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$\",\"type\":\"string\"},"
    "\"member_id\":{\"description\":\"An identifier for the image member (tenantId)\",\"type\":\"string\"},"
    "\"schema\":{\"readOnly\":true,\"type\":\"string\"},"
    "\"status\":{\"description\":\"The status of this image member\",\"enum\":[\"pending\",\"accepted\",\"rejected\"],\"type\":\"string\"},"
    "\"updated_at\":{\"description\":\"Date and time of last modification of image member\",\"type\":\"string\"}"
    "}}";

static cJSON *parse_static(const char *text, size_t size) {
    cJSON *j = cJSON_ParseWithLengthOpts(text, size, NULL, 1);
    if (j == NULL) mc_panic("image.c: a built-in schema is not valid JSON");
    return j;
}

static cJSON *collection_schema(const char *name, const char *item_key, cJSON *item) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "name", name);
    cJSON *links = cJSON_AddArrayToObject(s, "links");
    static const char *const rels[][2] = {{"{first}", "first"}, {"{next}", "next"}, {"{schema}", "describedby"}};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, "members") == 0 && i < 2) continue;
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "href", rels[i][0]);
        cJSON_AddStringToObject(l, "rel", rels[i][1]);
        cJSON_AddItemToArray(links, l);
    }
    cJSON *props = cJSON_AddObjectToObject(s, "properties");
    if (strcmp(name, "images") == 0) {
        cJSON_AddItemToObject(cJSON_AddObjectToObject(props, "first"), "type", cJSON_CreateString("string"));
        cJSON_AddItemToObject(cJSON_AddObjectToObject(props, "next"), "type", cJSON_CreateString("string"));
    }
    cJSON *items = cJSON_AddObjectToObject(props, item_key);
    cJSON_AddStringToObject(items, "type", "array");
    cJSON_AddItemToObject(items, "items", item);
    cJSON_AddItemToObject(cJSON_AddObjectToObject(props, "schema"), "type", cJSON_CreateString("string"));
    return s;
}

static void image_schema_image(mc_req *r) { mc_reply_json(r, 200, parse_static(image_schema, sizeof image_schema)); }
static void image_schema_images(mc_req *r) {
    mc_reply_json(r, 200, collection_schema("images", "images", parse_static(image_schema, sizeof image_schema)));
}
static void image_schema_member(mc_req *r) { mc_reply_json(r, 200, parse_static(member_schema, sizeof member_schema)); }
static void image_schema_members(mc_req *r) {
    mc_reply_json(r, 200, collection_schema("members", "members", parse_static(member_schema, sizeof member_schema)));
}

/* Metadata definition (metadefs) schemas, as glance/api/v2/metadef_*.py
 * get_schema builds them: glanceclient fetches the namespace and
 * resource_type ones on start (and validates what it sends against them),
 * Tempest checks their names. The catalogue is image_metadefs.c's. */
#define MD_TS "\"created_at\":{\"description\":\"Date and time of creation\",\"format\":\"date-time\",\"readOnly\":true,\"type\":\"string\"}," \
              "\"updated_at\":{\"description\":\"Date and time of the last modification\",\"format\":\"date-time\",\"readOnly\":true,\"type\":\"string\"}"
#define MD_PROPERTY_BODY \
    "\"additionalItems\":{\"type\":\"boolean\"},\"default\":{\"$ref\":\"#/definitions/any\"}," \
    "\"description\":{\"type\":\"string\"},\"enum\":{\"type\":\"array\"}," \
    "\"items\":{\"properties\":{\"enum\":{\"type\":\"array\"},\"type\":{\"enum\":[\"array\",\"boolean\",\"integer\",\"number\",\"object\",\"string\",null],\"type\":\"string\"}},\"type\":\"object\"}," \
    "\"maxItems\":{\"$ref\":\"#/definitions/positiveInteger\"},\"maxLength\":{\"$ref\":\"#/definitions/positiveInteger\"}," \
    "\"maximum\":{\"type\":\"number\"},\"minItems\":{\"$ref\":\"#/definitions/positiveIntegerDefault0\"}," \
    "\"minLength\":{\"$ref\":\"#/definitions/positiveIntegerDefault0\"},\"minimum\":{\"type\":\"number\"}," \
    "\"name\":{\"maxLength\":80,\"type\":\"string\"},\"operators\":{\"items\":{\"type\":\"string\"},\"type\":\"array\"}," \
    "\"pattern\":{\"format\":\"regex\",\"type\":\"string\"},\"readonly\":{\"type\":\"boolean\"}," \
    "\"required\":{\"$ref\":\"#/definitions/stringArray\"},\"title\":{\"type\":\"string\"}," \
    "\"type\":{\"enum\":[\"array\",\"boolean\",\"integer\",\"number\",\"object\",\"string\",null],\"type\":\"string\"}," \
    "\"uniqueItems\":{\"default\":false,\"type\":\"boolean\"}"
#define MD_DEFS \
    "\"definitions\":{\"any\":{\"type\":[\"array\",\"boolean\",\"integer\",\"number\",\"null\",\"object\",\"string\"]}," \
    "\"positiveInteger\":{\"minimum\":0,\"type\":\"integer\"}," \
    "\"positiveIntegerDefault0\":{\"allOf\":[{\"$ref\":\"#/definitions/positiveInteger\"},{\"default\":0}]}," \
    "\"stringArray\":{\"items\":{\"type\":\"string\"},\"type\":\"array\",\"uniqueItems\":true}," \
    "\"property\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"object\",\"required\":[\"title\",\"type\"]," \
    "\"properties\":{" MD_PROPERTY_BODY "}}}}"

static const char md_namespace_schema[] =
    "{\"name\":\"namespace\",\"additionalProperties\":false,\"required\":[\"namespace\"],"
    "\"properties\":{\"namespace\":{\"description\":\"The unique namespace text.\",\"maxLength\":80,\"type\":\"string\"},"
    "\"display_name\":{\"description\":\"The user friendly name for the namespace. Used by UI if available.\",\"maxLength\":80,\"type\":\"string\"},"
    "\"description\":{\"description\":\"Provides a user friendly description of the namespace.\",\"maxLength\":500,\"type\":\"string\"},"
    "\"visibility\":{\"description\":\"Scope of namespace accessibility.\",\"enum\":[\"public\",\"private\"],\"type\":\"string\"},"
    "\"protected\":{\"description\":\"If true, namespace will not be deletable.\",\"type\":\"boolean\"},"
    "\"owner\":{\"description\":\"Owner of the namespace.\",\"maxLength\":255,\"type\":\"string\"},"
    MD_TS ","
    "\"schema\":{\"readOnly\":true,\"type\":\"string\"},\"self\":{\"readOnly\":true,\"type\":\"string\"},"
    "\"resource_type_associations\":{\"items\":{\"properties\":{\"name\":{\"type\":\"string\"},\"prefix\":{\"type\":\"string\"},\"properties_target\":{\"type\":\"string\"}},\"type\":\"object\"},\"type\":\"array\"},"
    "\"properties\":{\"$ref\":\"#/definitions/property\"},"
    "\"objects\":{\"items\":{\"properties\":{\"description\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},\"properties\":{\"$ref\":\"#/definitions/property\"},\"required\":{\"$ref\":\"#/definitions/stringArray\"}},\"type\":\"object\"},\"type\":\"array\"},"
    "\"tags\":{\"items\":{\"properties\":{\"name\":{\"type\":\"string\"}},\"type\":\"object\"},\"type\":\"array\"}},"
    MD_DEFS "}";

static const char md_resource_type_schema[] =
    "{\"name\":\"resource_type_association\",\"additionalProperties\":false,\"required\":[\"name\"],"
    "\"properties\":{\"name\":{\"description\":\"Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html\",\"maxLength\":80,\"type\":\"string\"},"
    "\"prefix\":{\"description\":\"Specifies the prefix to use for the given resource type. Any properties in the namespace should be prefixed with this prefix when being applied to the specified resource type.\",\"maxLength\":80,\"type\":\"string\"},"
    "\"properties_target\":{\"description\":\"Some resource types allow more than one key / value pair per instance. For example, Cinder allows user and image metadata on volumes. Only the image properties metadata is evaluated by Nova (scheduling or drivers). This property allows a namespace target to remove the ambiguity.\",\"maxLength\":80,\"type\":\"string\"},"
    MD_TS "}}";

static const char md_object_schema[] =
    "{\"name\":\"object\",\"additionalProperties\":false,\"required\":[\"name\"],"
    "\"properties\":{\"name\":{\"maxLength\":80,\"type\":\"string\"},\"description\":{\"type\":\"string\"},"
    "\"required\":{\"$ref\":\"#/definitions/stringArray\"},\"properties\":{\"$ref\":\"#/definitions/property\"},"
    "\"schema\":{\"readOnly\":true,\"type\":\"string\"},\"self\":{\"readOnly\":true,\"type\":\"string\"}," MD_TS "},"
    MD_DEFS "}";

static const char md_property_schema[] =
    "{\"name\":\"property\",\"additionalProperties\":false,\"required\":[\"name\",\"title\",\"type\"],"
    "\"properties\":{" MD_PROPERTY_BODY "}," MD_DEFS "}";

static const char md_tag_schema[] =
    "{\"name\":\"tag\",\"additionalProperties\":false,\"required\":[\"name\"],"
    "\"properties\":{\"name\":{\"maxLength\":255,\"type\":\"string\"}," MD_TS "}}";

static const struct {
    const char *item, *collection, *collection_key;
    const char *text;
    size_t size;
} md_schemas[] = {
    {"namespace", "namespaces", "namespaces", md_namespace_schema, sizeof md_namespace_schema},
    {"resource_type", "resource_types", "resource_type_associations", md_resource_type_schema, sizeof md_resource_type_schema},
    {"object", "objects", "objects", md_object_schema, sizeof md_object_schema},
    {"property", "properties", "properties", md_property_schema, sizeof md_property_schema},
    {"tag", "tags", "tags", md_tag_schema, sizeof md_tag_schema},
};

/* GET /v2/schemas/metadefs/{name}: one of the ten. */
static void image_schema_metadef(mc_req *r) {
    for (size_t i = 0; i < sizeof md_schemas / sizeof md_schemas[0]; i++) {
        if (strcmp(r->params[0], md_schemas[i].item) == 0) {
            mc_reply_json(r, 200, parse_static(md_schemas[i].text, md_schemas[i].size));
            return;
        }
        if (strcmp(r->params[0], md_schemas[i].collection) == 0) {
            cJSON *item = parse_static(md_schemas[i].text, md_schemas[i].size);
            cJSON *s;
            if (strcmp(md_schemas[i].item, "property") == 0) {
                /* a map of property name -> property, not a list */
                s = cJSON_CreateObject();
                cJSON_AddStringToObject(s, "name", "properties");
                cJSON *props = cJSON_AddObjectToObject(s, "properties");
                cJSON *pp = cJSON_AddObjectToObject(props, "properties");
                cJSON_AddItemToObject(pp, "additionalProperties", cJSON_DetachItemFromObjectCaseSensitive(item, "properties"));
                cJSON_AddStringToObject(pp, "type", "object");
                cJSON_AddItemToObject(s, "definitions", cJSON_DetachItemFromObjectCaseSensitive(item, "definitions"));
                cJSON_Delete(item);
            } else {
                s = collection_schema(md_schemas[i].collection, md_schemas[i].collection_key, item);
                cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(s, "name"),
                                     strcmp(md_schemas[i].item, "resource_type") == 0 ? "resource_type_associations"
                                                                                     : md_schemas[i].collection);
            }
            mc_reply_json(r, 200, s);
            return;
        }
    }
    mc_reply_error(r, 404, NULL, "The resource could not be found.");
}

/* ---------------------------------------------------------------- image cache (2.14)
 *
 * The cache management API (admin only, policy manage_image_cache): an image
 * queued for caching is cached by Glance's prefetcher a little later; here a
 * queued image counts as cached from CACHE_PREFETCH_S after it was queued,
 * evaluated when the cache is looked at. Deleting the image forgets it. */
#define CACHE_PREFETCH_S 1.0

static void cache_settle(image_priv *ip) {
    if (ip->cache == 1 && mc_now() - ip->cache_t >= CACHE_PREFETCH_S) {
        ip->cache = 2;
        ip->cache_t = mc_now();
    }
}

static void image_cache_list(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *cached = cJSON_AddArrayToObject(root, "cached_images");
    cJSON *queued = cJSON_AddArrayToObject(root, "queued_images");
    for (mc_record *x = mc_store_first(IMAGES(r->srv)); x != NULL; x = mc_store_next(x)) {
        image_priv *ip = x->priv;
        cache_settle(ip);
        if (ip->cache == 1) cJSON_AddItemToArray(queued, cJSON_CreateString(x->id));
        if (ip->cache != 2) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "image_id", x->id);
        cJSON_AddNumberToObject(o, "hits", 0);
        cJSON_AddNumberToObject(o, "last_accessed", ip->cache_t);
        cJSON_AddNumberToObject(o, "last_modified", ip->cache_t);
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(x->doc, "size");
        cJSON_AddNumberToObject(o, "size", cJSON_IsNumber(size) ? size->valuedouble : 0);
        cJSON_AddItemToArray(cached, o);
    }
    mc_reply_json(r, 200, root);
}

static mc_record *cache_image_or_reply(mc_req *r) {
    mc_record *img = mc_store_find(IMAGES(r->srv), r->params[0]);
    if (img == NULL) mc_reply_error(r, 404, NULL, "Image %s not found.", r->params[0]);
    return img;
}

static void image_cache_queue(mc_req *r) {
    mc_record *img = cache_image_or_reply(r);
    if (img == NULL) return;
    if (!mc_str_eq(mc_json_str(img->doc, "status"), "active")) {
        mc_reply_error(r, 400, NULL, "Only images with status active can be targeted for queueing");
        return;
    }
    image_priv *ip = img->priv;
    cache_settle(ip);
    if (ip->cache == 0) {
        ip->cache = 1;
        ip->cache_t = mc_now();
    }
    mc_reply_json(r, 202, NULL);
}

static void image_cache_delete(mc_req *r) {
    mc_record *img = cache_image_or_reply(r);
    if (img == NULL) return;
    image_priv *ip = img->priv;
    ip->cache = 0;
    mc_reply_json(r, 204, NULL);
}

/* DELETE /v2/cache: x-image-cache-clear-target "cache", "queue" or both. */
static void image_cache_clear(mc_req *r) {
    const char *t = mc_header(r, "x-image-cache-clear-target");
    if (t != NULL && t[0] != '\0' && strcmp(t, "cache") != 0 && strcmp(t, "queue") != 0) {
        mc_reply_error(r, 400, NULL, "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.");
        return;
    }
    bool cache = t == NULL || t[0] == '\0' || strcmp(t, "cache") == 0;
    bool queue = t == NULL || t[0] == '\0' || strcmp(t, "queue") == 0;
    for (mc_record *x = mc_store_first(IMAGES(r->srv)); x != NULL; x = mc_store_next(x)) {
        image_priv *ip = x->priv;
        cache_settle(ip);
        if ((ip->cache == 2 && cache) || (ip->cache == 1 && queue)) ip->cache = 0;
    }
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- Glance v1 (legacy)
 *
 * Served only under image.versions_v1 (a cloud that stayed on Glance v1,
 * removed upstream in Rocky); elsewhere /v1 is a 404, as on a modern Glance.
 * The same records as v2, seen the v1 way: is_public for visibility, the
 * extra properties under "properties", metadata in x-image-meta-* headers
 * (HEAD, GET data, POST and PUT), member-status-free sharing. */

static int v1_or_reply(mc_req *r) {
    if (mc_knob(r, MC_KNOB_IMAGE_VERSIONS_V1)) return 0;
    mc_reply_error(r, 404, NULL, "The resource could not be found.");
    return -1;
}

/* v2 attributes that v1 does not show as properties. */
static const char *const v2_core[] = {"id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
                                      "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size", "min_ram",
                                      "min_disk", "disk_format", "container_format", "created_at", "updated_at",
                                      "tags", "self", "file", "schema", "direct_url", "locations", "stores", NULL};

static bool v1_is_property(const char *k) { return !in_list(v2_core, k) && strncmp(k, "os_glance", 9) != 0; }

/* v1's times: "2026-11-25T16:55:00.000000" (naive UTC, microseconds). */
static cJSON *v1_time(const cJSON *doc, const char *key) {
    const char *t = mc_json_str(doc, key);
    if (t == NULL || strlen(t) < 19) return cJSON_CreateNull();
    char out[40];
    snprintf(out, sizeof out, "%.19s.000000", t);
    return cJSON_CreateString(out);
}

static cJSON *v1_dup(const cJSON *doc, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
    return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/* An image as v1's index (brief) or detail shows it. */
static cJSON *v1_view(const mc_record *img, bool detail) {
    static const char *const brief[] = {"id", "name", "disk_format", "container_format", "size", "checksum", NULL};
    const cJSON *d = img->doc;
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; brief[i] != NULL; i++) cJSON_AddItemToObject(o, brief[i], v1_dup(d, brief[i]));
    if (!detail) return o;
    cJSON_AddItemToObject(o, "status", v1_dup(d, "status"));
    cJSON_AddBoolToObject(o, "is_public", strcmp(visibility_of(img), "public") == 0);
    cJSON_AddItemToObject(o, "min_ram", v1_dup(d, "min_ram"));
    cJSON_AddItemToObject(o, "min_disk", v1_dup(d, "min_disk"));
    cJSON_AddItemToObject(o, "owner", v1_dup(d, "owner"));
    cJSON_AddItemToObject(o, "protected", v1_dup(d, "protected"));
    cJSON_AddItemToObject(o, "created_at", v1_time(d, "created_at"));
    cJSON_AddItemToObject(o, "updated_at", v1_time(d, "updated_at"));
    cJSON_AddNullToObject(o, "deleted_at");
    cJSON_AddBoolToObject(o, "deleted", false);
    cJSON *props = cJSON_AddObjectToObject(o, "properties");
    const cJSON *f;
    cJSON_ArrayForEach(f, d) if (v1_is_property(f->string)) cJSON_AddItemToObject(props, f->string, cJSON_Duplicate(f, 1));
    return o;
}

/* A header name made only of token characters (a property key may not be). */
static bool header_name_ok(const char *s) {
    if (*s == '\0') return false;
    for (; *s; s++)
        if (!(( *s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("-_.", *s)))
            return false;
    return true;
}

/* Python's str() of a JSON value, as v1 puts it in a header ("True", "0"). */
static bool v1_header_text(const cJSON *v, char *out, size_t n) {
    if (cJSON_IsBool(v)) {
        mc_strlcpy(out, cJSON_IsTrue(v) ? "True" : "False", n);
        return true;
    }
    if (!value_text(v, out, n)) return false;
    return strpbrk(out, "\r\n") == NULL;
}

/* The x-image-meta-* headers of an image (HEAD and GET /v1/images/{id}). */
static void v1_meta_headers(mc_req *r, const mc_record *img) {
    cJSON *view = v1_view(img, true);
    const cJSON *f;
    char name[300], text[512];
    cJSON_ArrayForEach(f, view) {
        if (strcmp(f->string, "properties") == 0) continue;
        snprintf(name, sizeof name, "x-image-meta-%s", f->string);
        if (v1_header_text(f, text, sizeof text)) mc_header_set(r, name, text);
    }
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(view, "properties")) {
        snprintf(name, sizeof name, "x-image-meta-property-%s", f->string);
        if (strlen(f->string) < 200 && header_name_ok(f->string) && v1_header_text(f, text, sizeof text))
            mc_header_set(r, name, text);
    }
    const char *sum = mc_json_str(img->doc, "checksum");
    if (sum != NULL) mc_header_set(r, "ETag", sum);
    cJSON_Delete(view);
}

/* ---- list: GET /v1/images, /v1/images/detail */

typedef struct v1_q {
    list_q lq;
    const char *is_public;   /* NULL, "true", "false", "none" */
    bool admin_all;          /* an admin with is_public=none */
    double since;            /* changes-since, < 0 = none */
    long size_min, size_max; /* -1 = none */
} v1_q;

static bool v1_visible(const v1_q *q, const mc_record *img) {
    if (q->admin_all) return true;
    const char *vis = visibility_of(img);
    if (strcmp(vis, "public") == 0 || is_owner(img, q->lq.project)) return true;
    if (strcmp(vis, "community") == 0) return false;
    return member_find(q->lq.srv, img->id, q->lq.project) != NULL;   /* v1 shows every membership */
}

static bool v1_filter(const mc_record *img, void *arg) {
    const v1_q *q = arg;
    const mc_req *r = q->lq.r;
    if (!v1_visible(q, img)) return false;
    const cJSON *d = img->doc;
    bool pub = strcmp(visibility_of(img), "public") == 0;
    if (q->is_public != NULL && strcasecmp(q->is_public, "none") != 0 && pub != (strcasecmp(q->is_public, "true") == 0))
        return false;
    static const char *const eq[] = {"name", "status", "container_format", "disk_format", "min_ram", "min_disk", NULL};
    for (size_t i = 0; eq[i] != NULL; i++) {
        const char *want = mc_query(r, eq[i]);
        if (want != NULL && !filter_match(cJSON_GetObjectItemCaseSensitive(d, eq[i]), want)) return false;
    }
    const char *prot = mc_query(r, "protected");
    if (prot != NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "protected")) != (strcasecmp(prot, "true") == 0))
        return false;
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(d, "size");
    if (q->size_min >= 0 && (!cJSON_IsNumber(size) || size->valuedouble < (double)q->size_min)) return false;
    if (q->size_max >= 0 && (!cJSON_IsNumber(size) || size->valuedouble > (double)q->size_max)) return false;
    if (q->since >= 0 && mc_time_parse(mc_json_str(d, "updated_at")) < q->since) return false;
    for (const mc_kv *kv = r->query; kv < r->query + r->nquery; kv++)
        if (strncmp(kv->key, "property-", 9) == 0 && !mc_str_eq(mc_json_str(d, kv->key + 9), kv->value)) return false;
    return true;
}

static int v1_parse_or_reply(mc_req *r, v1_q *q, long *limit) {
    q->lq.srv = r->srv;
    q->lq.r = r;
    q->lq.project = req_project(r);
    q->lq.admin = req_admin(r);
    q->since = -1;
    const char *lim = mc_query(r, "limit");
    *limit = LIMIT_DEFAULT;
    if (lim != NULL && !mc_parse_long(lim, -0x7fffffffL, 0x7fffffffL, limit)) {
        mc_reply_error(r, 400, NULL, "limit param must be an integer");
        return -1;
    }
    if (*limit < 0) {
        mc_reply_error(r, 400, NULL, "limit param must be positive");
        return -1;
    }
    if (*limit > LIMIT_MAX) *limit = LIMIT_MAX;
    static const char *const keys[] = {"name", "status", "container_format", "disk_format", "size", "id",
                                       "created_at", "updated_at", NULL};
    const char *sk = mc_query(r, "sort_key"), *sd = mc_query(r, "sort_dir");
    if (sk != NULL && !in_list(keys, sk)) {
        mc_reply_error(r, 400, NULL, "Unsupported sort_key. Acceptable values: name, status, container_format, "
                       "disk_format, size, id, created_at, updated_at");
        return -1;
    }
    if (sd != NULL && strcmp(sd, "asc") != 0 && strcmp(sd, "desc") != 0) {
        mc_reply_error(r, 400, NULL, "Unsupported sort_dir. Acceptable values: asc, desc");
        return -1;
    }
    mc_strlcpy(q->lq.keys[0], sk ? sk : "created_at", sizeof q->lq.keys[0]);
    q->lq.desc[0] = sd == NULL || strcmp(sd, "desc") == 0;
    q->lq.nkeys = 1;
    q->is_public = mc_query(r, "is_public");
    bool b;
    if (q->is_public != NULL && strcasecmp(q->is_public, "none") != 0 && !mc_str_bool(q->is_public, &b)) {
        mc_reply_error(r, 400, NULL, "Bad value passed to filter is_public got %.64s", q->is_public);
        return -1;
    }
    if (q->is_public != NULL && mc_str_bool(q->is_public, &b)) q->is_public = b ? "true" : "false";
    /* an admin sees the images of every project only with is_public=none */
    q->admin_all = q->lq.admin && q->is_public != NULL && strcasecmp(q->is_public, "none") == 0;
    const char *prot = mc_query(r, "protected");
    if (prot != NULL && strcasecmp(prot, "true") != 0 && strcasecmp(prot, "false") != 0) {
        mc_reply_error(r, 400, NULL, "protected must be True, or False");
        return -1;
    }
    static const char *const sizes[] = {"size_min", "size_max", "min_ram", "min_disk"};
    for (int i = 0; i < 4; i++) {
        const char *v = mc_query(r, sizes[i]);
        long n = -1;
        if (v != NULL && (!mc_parse_long(v, 0, 0x7fffffffffffffffL, &n))) {
            mc_reply_error(r, 400, NULL, "Bad value passed to filter %s got %.64s", sizes[i], v);
            return -1;
        }
        if (i == 0) q->size_min = n;
        if (i == 1) q->size_max = n;
    }
    const char *since = mc_query(r, "changes-since");
    if (since != NULL && (q->since = mc_time_parse(since)) < 0) {
        mc_reply_error(r, 400, NULL, "Unrecognized changes-since value");
        return -1;
    }
    return 0;
}

static void v1_list(mc_req *r, bool detail) {
    if (v1_or_reply(r) != 0) return;
    v1_q q;
    memset(&q, 0, sizeof q);
    long limit;
    if (v1_parse_or_reply(r, &q, &limit) != 0) return;
    const char *marker = mc_query(r, "marker");
    mc_record *mrec = marker ? mc_store_find(IMAGES(r->srv), marker) : NULL;
    if (marker != NULL && (mrec == NULL || !v1_visible(&q, mrec))) {
        mc_reply_error(r, 400, NULL, "Invalid marker. Image %.64s could not be found.", marker);
        return;
    }
    size_t cap = IMAGES(r->srv)->count, m = 0;
    mc_record **all = malloc((cap + 1) * sizeof *all), **tmp = malloc((cap + 1) * sizeof *tmp);
    if (all == NULL || tmp == NULL) mc_panic("out of memory");
    for (mc_record *x = mc_store_first(IMAGES(r->srv)); x != NULL; x = mc_store_next(x))
        if (v1_filter(x, &q)) all[m++] = x;
    merge_sort(&q.lq, all, tmp, m);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "images");
    long n = 0;
    for (size_t i = 0; i < m && n < limit; i++) {
        if (mrec != NULL && rec_cmp(&q.lq, all[i], mrec) <= 0) continue;
        cJSON_AddItemToArray(arr, v1_view(all[i], detail));
        n++;
    }
    free(all);
    free(tmp);
    mc_reply_json(r, 200, root);
}

static void image_v1_index(mc_req *r) { v1_list(r, false); }
static void image_v1_detail(mc_req *r) { v1_list(r, true); }

/* ---- one image */

static mc_record *v1_image_or_reply(mc_req *r) {
    if (v1_or_reply(r) != 0) return NULL;
    mc_record *img = mc_store_find(IMAGES(r->srv), r->params[0]);
    if (img != NULL && (req_admin(r) || is_owner(img, req_project(r)) ||
                        strcmp(visibility_of(img), "public") == 0 ||
                        member_find(r->srv, img->id, req_project(r)) != NULL))
        return img;
    mc_reply_error(r, 404, NULL, "Image with identifier %s not found", r->params[0]);
    return NULL;
}

/* HEAD: the metadata; GET: the metadata and the data (active images only). */
static void image_v1_show(mc_req *r) {
    mc_record *img = v1_image_or_reply(r);
    if (img == NULL) return;
    v1_meta_headers(r, img);
    if (r->method == EVHTTP_REQ_HEAD) {
        mc_reply_bytes(r, 200, "text/html; charset=UTF-8", "", 0);
        return;
    }
    const char *st = mc_json_str(img->doc, "status");
    if (mc_str_eq(st, "deactivated") && !req_admin(r)) {
        mc_reply_error(r, 403, NULL, "The requested image has been deactivated. Image data download is forbidden.");
        return;
    }
    if (!mc_str_eq(st, "active") && !mc_str_eq(st, "deactivated")) {
        mc_reply_error(r, 403, NULL, "Image %s is not active", img->id);
        return;
    }
    image_priv *ip = img->priv;
    if (ip->data != NULL) {
        mc_reply_bytes(r, 200, "application/octet-stream", ip->data, ip->len);
    } else if (ip->gen_seed != 0) {
        unsigned char *b = malloc(ip->gen_len ? ip->gen_len : 1);
        if (b == NULL) mc_panic("out of memory");
        gen_bytes(ip->gen_seed, b, ip->gen_len);
        mc_reply_bytes(r, 200, "application/octet-stream", b, ip->gen_len);
        free(b);
    } else {
        mc_reply_bytes(r, 200, "application/octet-stream", "", 0);
    }
}

/* ---- create and update from x-image-meta-* headers */

typedef struct v1_meta {
    cJSON *core;             /* v1 field -> value (strings, as sent) */
    cJSON *props;            /* property -> string */
    char bad[300];           /* a header v1 does not know */
} v1_meta;

static void v1_collect(const char *name, const char *value, void *arg) {
    v1_meta *m = arg;
    static const char *const known[] = {"location", "size", "is_public", "disk_format", "container_format", "name",
                                        "status", "copy_from", "uri", "checksum", "created_at", "updated_at",
                                        "deleted_at", "min_ram", "min_disk", "owner", "store", "id", "protected",
                                        "deleted", "virtual_size", NULL};
    if (strncasecmp(name, "x-image-meta-", 13) != 0) return;
    char field[256];
    bool prop = strncasecmp(name + 13, "property-", 9) == 0;
    mc_strlcpy(field, name + (prop ? 22 : 13), sizeof field);
    for (char *c = field; *c; c++) *c = *c == '-' ? '_' : (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
    if (prop) {
        if (field[0] != '\0') mc_json_set_str(m->props, field, value);
    } else if (in_list(known, field)) {
        mc_json_set_str(m->core, field, value);
    } else if (m->bad[0] == '\0') {
        snprintf(m->bad, sizeof m->bad, "%.200s", name);
    }
}

/* Applies the headers to 'doc' (a copy of the image, or a new one). Returns
 * 0, or the status with err set. */
static int v1_apply(mc_req *r, const v1_meta *m, cJSON *doc, bool creating, char *err, size_t errsz) {
    const cJSON *f;
    cJSON_ArrayForEach(f, m->core) {
        const char *k = f->string, *v = f->valuestring;
        if (strcmp(k, "name") == 0) {
            if (strlen(v) > 255) {
                snprintf(err, errsz, "Image name too long: %zu", strlen(v));
                return 400;
            }
            mc_json_set_str(doc, "name", v);
        } else if (strcmp(k, "disk_format") == 0 || strcmp(k, "container_format") == 0) {
            bool disk = k[0] == 'd';
            if (!in_list(disk ? disk_formats : container_formats, v)) {
                snprintf(err, errsz, "Invalid %s format '%.64s' for image.", disk ? "disk" : "container", v);
                return 400;
            }
            if (!creating && !mc_str_eq(mc_json_str(doc, "status"), "queued") && !mc_str_eq(mc_json_str(doc, k), v)) {
                snprintf(err, errsz, "Forbidden to modify '%s' of active image.", k);
                return 403;
            }
            mc_json_set_str(doc, k, v);
        } else if (strcmp(k, "min_ram") == 0 || strcmp(k, "min_disk") == 0 || strcmp(k, "size") == 0) {
            long n;
            if (!mc_parse_long(v, -0x7fffffffL, 0x7fffffffffffffffL, &n)) {
                snprintf(err, errsz, "Cannot convert image %s '%.64s' to an integer.", k, v);
                return 400;
            }
            if (n < 0) {
                snprintf(err, errsz, "Cannot be a negative value. Image %s '%.64s'.", k, v);
                return 400;
            }
            if (strcmp(k, "size") != 0) mc_json_set(doc, k, cJSON_CreateNumber((double)n));
        } else if (strcmp(k, "is_public") == 0 || strcmp(k, "protected") == 0) {
            bool b = false;
            (void)mc_str_bool(v, &b);   /* oslo bool_from_string: anything else is False */
            if (k[0] == 'i') {
                if (b && !req_admin(r)) {
                    snprintf(err, errsz, "You are not authorized to complete publicize_image action.");
                    return 403;
                }
                if (b || mc_str_eq(mc_json_str(doc, "visibility"), "public"))
                    mc_json_set_str(doc, "visibility", b ? "public" : "private");
            } else {
                mc_json_set(doc, "protected", cJSON_CreateBool(b));
            }
        } else if (strcmp(k, "owner") == 0) {
            if (!req_admin(r)) continue;   /* v1 ignores a user's owner */
            mc_json_set_str(doc, "owner", v);
        } else if (strcmp(k, "id") == 0) {
            if (!creating) continue;
            if (strlen(v) != 36 || !mc_is_uuid(v)) {
                snprintf(err, errsz, "Invalid image id format");
                return 400;
            }
        } else if (strcmp(k, "status") == 0 || strcmp(k, "created_at") == 0 || strcmp(k, "updated_at") == 0 ||
                   strcmp(k, "deleted_at") == 0 || strcmp(k, "deleted") == 0) {
            snprintf(err, errsz, "Attribute '%s' is read-only.", k);
            return 403;
        }
        /* checksum, location, copy_from, uri, store, virtual_size: handled by the caller or ignored */
    }
    cJSON_ArrayForEach(f, m->props) {
        if (in_list(reserved_attrs, f->string) || strncmp(f->string, "os_glance", 9) == 0 || !v1_is_property(f->string)) {
            snprintf(err, errsz, "Attribute '%.64s' is reserved.", f->string);
            return 403;
        }
        mc_json_set_str(doc, f->string, f->valuestring);
    }
    return 0;
}

static int v1_meta_or_reply(mc_req *r, v1_meta *m) {
    m->core = cJSON_CreateObject();
    m->props = cJSON_CreateObject();
    m->bad[0] = '\0';
    mc_header_each(r, v1_collect, m);
    if (m->bad[0] != '\0') {
        mc_reply_error(r, 400, NULL, "Bad header: %s", m->bad);
        return -1;
    }
    return 0;
}

static void v1_meta_free(v1_meta *m) {
    cJSON_Delete(m->core);
    cJSON_Delete(m->props);
}

static bool v1_has_data(mc_req *r) {
    size_t len;
    (void)mc_body_raw(r, &len);
    return len > 0;
}

/* Data for a queued image: hashes, size, "active"; a given checksum must match. */
static int v1_data_or_reply(mc_req *r, mc_record *img, const v1_meta *m) {
    if (take_data_or_reply(r, img, "active") != 0) return -1;
    image_priv *ip = img->priv;
    const char *want = mc_json_str(m->core, "checksum");
    if (want != NULL && strcasecmp(want, ip->md5hex) != 0) {
        free(ip->data);
        ip->data = NULL;
        ip->len = 0;
        mc_reply_error(r, 400, NULL, "Supplied checksum (%.64s) and checksum generated from uploaded image (%s) did not match.",
                       want, ip->md5hex);
        return -1;
    }
    mc_json_set(img->doc, "size", cJSON_CreateNumber((double)ip->len));
    mc_json_set_str(img->doc, "checksum", ip->md5hex);
    mc_json_set_str(img->doc, "os_hash_algo", "sha512");
    mc_json_set_str(img->doc, "os_hash_value", ip->shahex);
    mc_json_set_str(img->doc, "status", "active");
    return 0;
}

/* An external location (x-image-meta-location) or a copy (x-glance-api-copy-from):
 * mockcloud fetches nothing; the image holds zero bytes, active at once or
 * after a short "saving" for a copy. */
static void v1_external(mc_req *r, mc_record *img, const v1_meta *m) {
    const char *copy = mc_header(r, "x-glance-api-copy-from");
    if (copy == NULL) copy = mc_json_str(m->core, "copy_from");
    mc_md5 md5;
    mc_sha512 sha;
    mc_md5_init(&md5);
    mc_sha512_init(&sha);
    set_hashes(img, 0, &md5, &sha);
    if (copy != NULL) {
        mc_json_set_str(img->doc, "status", "saving");
        schedule_done(r->srv, img->priv, 100);
    } else {
        mc_json_set_str(img->doc, "status", "active");
    }
}

static bool v1_wants_external(mc_req *r, const v1_meta *m) {
    return mc_json_has(m->core, "location") || mc_json_has(m->core, "copy_from") ||
           mc_header(r, "x-glance-api-copy-from") != NULL;
}

static int v1_formats_or_reply(mc_req *r, const cJSON *doc) {
    if (mc_json_str(doc, "disk_format") == NULL) {
        mc_reply_error(r, 400, NULL, "Disk format is not specified.");
        return -1;
    }
    if (mc_json_str(doc, "container_format") == NULL) {
        mc_reply_error(r, 400, NULL, "Container format is not specified.");
        return -1;
    }
    return 0;
}

static void v1_reply_image(mc_req *r, int status, const mc_record *img) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "image", v1_view(img, true));
    mc_reply_json(r, status, root);
}

static void image_v1_create(mc_req *r) {
    if (v1_or_reply(r) != 0) return;
    v1_meta m;
    if (v1_meta_or_reply(r, &m) != 0) {
        v1_meta_free(&m);
        return;
    }
    char id[37], err[512];
    const char *want = mc_json_str(m.core, "id");
    if (want != NULL && strlen(want) == 36 && mc_is_uuid(want)) mc_strlcpy(id, want, sizeof id);
    else mc_uuid(r->srv, id);
    const char *owner = req_project(r);
    cJSON *doc = image_doc_new(id, owner);
    mc_json_set_str(doc, "visibility", "private");   /* v1: is_public defaults to False */
    int st = v1_apply(r, &m, doc, true, err, sizeof err);
    if (st == 0 && (v1_has_data(r) || v1_wants_external(r, &m)) && v1_formats_or_reply(r, doc) != 0) st = -1;
    if (st == 0 && mc_store_find(IMAGES(r->srv), id) != NULL) {
        snprintf(err, sizeof err, "An image with identifier %s already exists", id);
        st = 409;
    }
    if (st != 0) {
        cJSON_Delete(doc);
        v1_meta_free(&m);
        if (st > 0) mc_reply_error(r, st, NULL, "%s", err);
        return;
    }
    owner = mc_json_str(doc, "owner");
    mc_record *img = image_add(r->srv, id, owner ? owner : "", doc);
    if (v1_has_data(r)) {
        if (v1_data_or_reply(r, img, &m) != 0) {
            image_remove(r->srv, img);
            v1_meta_free(&m);
            return;
        }
    } else if (v1_wants_external(r, &m)) {
        v1_external(r, img, &m);
    }
    v1_meta_free(&m);
    touch(img);
    char url[300], loc[400];
    mc_service_url(r->srv, "/image", url, sizeof url);
    snprintf(loc, sizeof loc, "%s/v1/images/%s", url, id);
    mc_header_set(r, "Location", loc);
    v1_reply_image(r, 201, img);
}

static void image_v1_update(mc_req *r) {
    mc_record *img = v1_image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "modify") != 0) return;
    v1_meta m;
    if (v1_meta_or_reply(r, &m) != 0) {
        v1_meta_free(&m);
        return;
    }
    bool data = v1_has_data(r), external = v1_wants_external(r, &m);
    if ((data || external) && !mc_str_eq(mc_json_str(img->doc, "status"), "queued")) {
        v1_meta_free(&m);
        mc_reply_error(r, 409, NULL, "Cannot upload to an unqueued image");
        return;
    }
    char err[512];
    cJSON *doc = cJSON_Duplicate(img->doc, 1);
    const char *purge = mc_header(r, "x-glance-registry-purge-props");
    if (purge != NULL && strcasecmp(purge, "true") == 0) {
        /* the properties not given go */
        cJSON *f = doc->child;
        while (f != NULL) {
            cJSON *next = f->next;
            if (v1_is_property(f->string) && !mc_json_has(m.props, f->string))
                cJSON_Delete(cJSON_DetachItemViaPointer(doc, f));
            f = next;
        }
    }
    int st = v1_apply(r, &m, doc, false, err, sizeof err);
    if (st == 0 && (data || external) && v1_formats_or_reply(r, doc) != 0) st = -1;
    if (st != 0) {
        cJSON_Delete(doc);
        v1_meta_free(&m);
        if (st > 0) mc_reply_error(r, st, NULL, "%s", err);
        return;
    }
    cJSON_Delete(img->doc);
    img->doc = doc;
    const char *owner = mc_json_str(doc, "owner");
    if (owner != NULL) mc_strlcpy(img->project_id, owner, sizeof img->project_id);
    if (data && v1_data_or_reply(r, img, &m) != 0) {
        v1_meta_free(&m);
        return;
    }
    if (!data && external) v1_external(r, img, &m);
    v1_meta_free(&m);
    touch(img);
    v1_reply_image(r, 200, img);
}

static void image_v1_delete(mc_req *r) {
    mc_record *img = v1_image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "delete") != 0) return;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(img->doc, "protected"))) {
        mc_reply_error(r, 403, NULL, "Image is protected");
        return;
    }
    image_remove(r->srv, img);
    mc_reply_bytes(r, 200, "text/html; charset=UTF-8", "", 0);
}

/* ---- members: v1 has no member status, a member sees the image at once */

static void image_v1_member_list(mc_req *r) {
    mc_record *img = v1_image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "list the members of") != 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "members");
    size_t n = strlen(img->id);
    for (mc_record *x = mc_store_first(MEMBERS(r->srv)); x != NULL; x = mc_store_next(x)) {
        if (strncmp(x->id, img->id, n) != 0 || x->id[n] != ':') continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "member_id", x->project_id);
        cJSON_AddBoolToObject(o, "can_share", false);
        cJSON_AddItemToArray(arr, o);
    }
    mc_reply_json(r, 200, root);
}

static void image_v1_member_add(mc_req *r) {
    mc_record *img = v1_image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "share") != 0) return;
    const char *member = r->params[1];
    if (strlen(member) > 64 || member[0] == '\0') {
        mc_reply_error(r, 400, NULL, "Invalid member id");
        return;
    }
    if (member_find(r->srv, img->id, member) == NULL) {
        member_new(r->srv, img->id, member);
    }
    /* a private image with members is a shared one (Glance's v1 compatibility) */
    if (strcmp(visibility_of(img), "private") == 0) mc_json_set_str(img->doc, "visibility", "shared");
    mc_reply_json(r, 204, NULL);
}

static void image_v1_member_delete(mc_req *r) {
    mc_record *img = v1_image_or_reply(r);
    if (img == NULL || owner_or_reply(r, img, "unshare") != 0) return;
    mc_record *m = member_find(r->srv, img->id, r->params[1]);
    if (m == NULL) {
        mc_reply_error(r, 404, NULL, "%.64s is not a member of image %s", r->params[1], img->id);
        return;
    }
    mc_store_delete(MEMBERS(r->srv), m);
    mc_reply_json(r, 204, NULL);
}

static void image_v1_shared_images(mc_req *r) {
    if (v1_or_reply(r) != 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "shared_images");
    for (mc_record *x = mc_store_first(MEMBERS(r->srv)); x != NULL; x = mc_store_next(x)) {
        if (strcmp(x->project_id, r->params[0]) != 0) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "image_id", mc_json_str(x->doc, "image_id"));
        cJSON_AddBoolToObject(o, "can_share", false);
        cJSON_AddItemToArray(arr, o);
    }
    mc_reply_json(r, 200, root);
}

/* DELETE /v1/images/ (an empty id, Tempest's blank-id test): 404 as in v2. */
static void image_v1_null_delete(mc_req *r) {
    if (v1_or_reply(r) == 0) image_image_null_delete(r);
}

static void image_v1_versions(mc_req *r) {
    if (v1_or_reply(r) == 0) image_versions_list(r);
}

/* ---------------------------------------------------------------- routes */

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
#define PUT EVHTTP_REQ_PUT
#define PATCH EVHTTP_REQ_PATCH
#define DEL EVHTTP_REQ_DELETE
const mc_route image_routes[] = {
 /* service   methods pattern                                 handler                 flags */
    {MC_IMAGE, GET,   "/",                                    image_versions_list,    MC_NO_AUTH},
    {MC_IMAGE, GET,   "/v2",                                  image_versions_list,    MC_NO_AUTH},
    {MC_IMAGE, GET,   "/versions",                            image_versions_show,    MC_NO_AUTH},
    {MC_IMAGE, GET,   "/v2/images",                           image_image_list,       0},
    {MC_IMAGE, POST,  "/v2/images",                           image_image_create,     MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/images",                           image_image_null_delete, 0},
    {MC_IMAGE, GET,   "/v2/images/{}",                        image_image_show,       0},
    {MC_IMAGE, PATCH, "/v2/images/{}",                        image_image_update,     MC_BODY_RAW},
    {MC_IMAGE, DEL,   "/v2/images/{}",                        image_image_delete,     0},
    {MC_IMAGE, PUT,   "/v2/images/{}/file",                   image_file_upload,      MC_BODY_RAW},
    {MC_IMAGE, GET,   "/v2/images/{}/file",                   image_file_download,    0},
    {MC_IMAGE, PUT,   "/v2/images/{}/stage",                  image_file_stage,       MC_BODY_RAW},
    {MC_IMAGE, POST,  "/v2/images/{}/import",                 image_image_import,     MC_BODY_JSON},
    {MC_IMAGE, GET,   "/v2/images/{}/tasks",                  image_task_list,        0},
    {MC_IMAGE, GET,   "/v2/info/import",                      image_info_import,      0},
    {MC_IMAGE, GET,   "/v2/info/stores",                      image_info_stores,      0},
    {MC_IMAGE, GET,   "/v2/info/stores/detail",               image_info_stores_detail, 0},
    {MC_IMAGE, GET,   "/v2/info/usage",                       image_info_usage,       0},
    {MC_IMAGE, DEL,   "/v2/stores/{}/{}",                     image_store_delete,     0},
    {MC_IMAGE, PUT,   "/v2/images/{}/tags/{}",                image_tag_update,       0},
    {MC_IMAGE, DEL,   "/v2/images/{}/tags/{}",                image_tag_delete,       0},
    {MC_IMAGE, GET,   "/v2/images/{}/members",                image_member_list,      0},
    {MC_IMAGE, POST,  "/v2/images/{}/members",                image_member_create,    MC_BODY_JSON},
    {MC_IMAGE, GET,   "/v2/images/{}/members/{}",             image_member_show,      0},
    {MC_IMAGE, PUT,   "/v2/images/{}/members/{}",             image_member_update,    MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/images/{}/members/{}",             image_member_delete,    0},
    {MC_IMAGE, POST,  "/v2/images/{}/actions/deactivate",     image_image_deactivate, 0},
    {MC_IMAGE, POST,  "/v2/images/{}/actions/reactivate",     image_image_reactivate, 0},
    {MC_IMAGE, GET,   "/v2/schemas/image",                    image_schema_image,     0},
    {MC_IMAGE, GET,   "/v2/schemas/images",                   image_schema_images,    0},
    {MC_IMAGE, GET,   "/v2/schemas/member",                   image_schema_member,    0},
    {MC_IMAGE, GET,   "/v2/schemas/members",                  image_schema_members,   0},
    {MC_IMAGE, GET,   "/v2/schemas/metadefs/{}",              image_schema_metadef,   0},
    /* image_metadefs.c: the metadata definitions catalogue */
    {MC_IMAGE, GET,   "/v2/metadefs/resource_types",          image_md_resource_type_list, 0},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces",              image_md_namespace_list, 0},
    {MC_IMAGE, POST,  "/v2/metadefs/namespaces",              image_md_namespace_create, MC_BODY_JSON},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces/{}",           image_md_namespace_show, 0},
    {MC_IMAGE, PUT,   "/v2/metadefs/namespaces/{}",           image_md_namespace_update, MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/metadefs/namespaces/{}",           image_md_namespace_delete, 0},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces/{}/objects",   image_md_object_list,   0},
    {MC_IMAGE, POST,  "/v2/metadefs/namespaces/{}/objects",   image_md_object_create, MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/metadefs/namespaces/{}/objects",   image_md_object_delete_all, 0},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces/{}/objects/{}", image_md_object_show,  0},
    {MC_IMAGE, PUT,   "/v2/metadefs/namespaces/{}/objects/{}", image_md_object_update, MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/metadefs/namespaces/{}/objects/{}", image_md_object_delete, 0},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces/{}/properties", image_md_property_list, 0},
    {MC_IMAGE, POST,  "/v2/metadefs/namespaces/{}/properties", image_md_property_create, MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/metadefs/namespaces/{}/properties", image_md_property_delete_all, 0},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces/{}/properties/{}", image_md_property_show, 0},
    {MC_IMAGE, PUT,   "/v2/metadefs/namespaces/{}/properties/{}", image_md_property_update, MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/metadefs/namespaces/{}/properties/{}", image_md_property_delete, 0},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces/{}/tags",      image_md_tag_list,      0},
    {MC_IMAGE, POST,  "/v2/metadefs/namespaces/{}/tags",      image_md_tags_create,   MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/metadefs/namespaces/{}/tags",      image_md_tag_delete_all, 0},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces/{}/tags/{}",   image_md_tag_show,      0},
    {MC_IMAGE, POST,  "/v2/metadefs/namespaces/{}/tags/{}",   image_md_tag_create,    0},
    {MC_IMAGE, PUT,   "/v2/metadefs/namespaces/{}/tags/{}",   image_md_tag_update,    MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/metadefs/namespaces/{}/tags/{}",   image_md_tag_delete,    0},
    {MC_IMAGE, GET,   "/v2/metadefs/namespaces/{}/resource_types", image_md_rt_assoc_list, 0},
    {MC_IMAGE, POST,  "/v2/metadefs/namespaces/{}/resource_types", image_md_rt_assoc_create, MC_BODY_JSON},
    {MC_IMAGE, DEL,   "/v2/metadefs/namespaces/{}/resource_types/{}", image_md_rt_assoc_delete, 0},
    {MC_IMAGE, GET,   "/v2/cache",                            image_cache_list,       MC_ADMIN},
    {MC_IMAGE, DEL,   "/v2/cache",                            image_cache_clear,      MC_ADMIN},
    {MC_IMAGE, PUT,   "/v2/cache/{}",                         image_cache_queue,      MC_ADMIN},
    {MC_IMAGE, DEL,   "/v2/cache/{}",                         image_cache_delete,     MC_ADMIN},
    /* Glance v1, under image.versions_v1 only (404 otherwise) */
    {MC_IMAGE, GET,   "/v1",                                  image_v1_versions,      MC_NO_AUTH},
    {MC_IMAGE, GET,   "/v1/images",                           image_v1_index,         0},
    {MC_IMAGE, POST,  "/v1/images",                           image_v1_create,        MC_BODY_RAW},
    {MC_IMAGE, DEL,   "/v1/images",                           image_v1_null_delete,   0},
    {MC_IMAGE, GET,   "/v1/images/detail",                    image_v1_detail,        0},
    {MC_IMAGE, GET,   "/v1/images/{}",                        image_v1_show,          0},
    {MC_IMAGE, PUT,   "/v1/images/{}",                        image_v1_update,        MC_BODY_RAW},
    {MC_IMAGE, DEL,   "/v1/images/{}",                        image_v1_delete,        0},
    {MC_IMAGE, GET,   "/v1/images/{}/members",                image_v1_member_list,   0},
    {MC_IMAGE, PUT,   "/v1/images/{}/members/{}",             image_v1_member_add,    MC_BODY_RAW},
    {MC_IMAGE, DEL,   "/v1/images/{}/members/{}",             image_v1_member_delete, 0},
    {MC_IMAGE, GET,   "/v1/shared-images/{}",                 image_v1_shared_images, 0},
};
#undef GET
#undef POST
#undef PUT
#undef PATCH
#undef DEL
const size_t image_nroutes = sizeof image_routes / sizeof image_routes[0];
