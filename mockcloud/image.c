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
#include "http.h"
#include "imageapi.h"
#include "profile.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "util.h"

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
} image_priv;

static void image_priv_free(void *p) {
    image_priv *ip = p;
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
    img->priv = ip;
    img->priv_free = image_priv_free;
    return img;
}

static mc_record *member_find(mc_server *srv, const char *image_id, const char *member) {
    char key[128];
    snprintf(key, sizeof key, "%s:%s", image_id, member);
    return mc_store_find(MEMBERS(srv), key);
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

static void reply_image(mc_req *r, int status, const mc_record *img) {
    mc_reply_json(r, status, cJSON_Duplicate(img->doc, 1));
}

/* ---------------------------------------------------------------- versions */

static cJSON *versions_doc(mc_server *srv) {
    static const char *const ids[] = {"v2.16", "v2.15", "v2.14", "v2.13", "v2.12", "v2.11", "v2.10",
                                      "v2.9", "v2.8", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3",
                                      "v2.2", "v2.1", "v2.0"};
    char url[300], href[320];
    mc_service_url(srv, "/image", url, sizeof url);
    snprintf(href, sizeof href, "%s/v2/", url);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "versions");
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "id", ids[i]);
        cJSON_AddStringToObject(v, "status", i == 0 ? "CURRENT" : "SUPPORTED");
        cJSON *links = cJSON_AddArrayToObject(v, "links");
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "rel", "self");
        cJSON_AddStringToObject(l, "href", href);
        cJSON_AddItemToArray(links, l);
        cJSON_AddItemToArray(arr, v);
    }
    return root;
}

static void image_versions_list(mc_req *r) { mc_reply_json(r, 300, versions_doc(r->srv)); }

/* ---------------------------------------------------------------- seed */

static int seed_fail(char *err, size_t errsz, const char *file, const char *what) {
    snprintf(err, errsz, "%s: %s", file, what);
    return -1;
}

int image_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    char path[1024];
    snprintf(path, sizeof path, "%s/image.json", dir);
    cJSON *fx = mc_json_load_file(path, err, errsz);
    if (fx == NULL) return -1;
    int rc = -1;
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(fx, "images")) {
        const char *id = mc_json_str(x, "id"), *owner = mc_json_str(x, "owner");
        if (!mc_is_uuid(id) || owner == NULL || mc_json_str(x, "name") == NULL) {
            seed_fail(err, errsz, path, "every image needs a uuid 'id', 'name' and 'owner'");
            goto out;
        }
        if (!in_list(visibilities, mc_json_str(x, "visibility")) ||
            (mc_json_has(x, "disk_format") && !in_list(disk_formats, mc_json_str(x, "disk_format"))) ||
            (mc_json_has(x, "container_format") &&
             !in_list(container_formats, mc_json_str(x, "container_format")))) {
            seed_fail(err, errsz, path, "an image has an invalid visibility, disk_format or container_format");
            goto out;
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
            seed_fail(err, errsz, path, "duplicate image id");
            goto out;
        }
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(mc_json_obj(x, "data"), "seed");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(doc, "size");
        if (cJSON_IsNumber(seed) && cJSON_IsNumber(size) && seed->valuedouble >= 1 && size->valuedouble >= 0) {
            image_priv *ip = img->priv;
            ip->gen_seed = (uint64_t)seed->valuedouble;
            ip->gen_len = (size_t)size->valuedouble;
        }
    }
    rc = 0;
out:
    cJSON_Delete(fx);
    return rc;
}

void image_reset(mc_server *srv) { (void)srv; }

/* Exposed for tests (tests/unit/test_digest.c checks the fixture hashes). */
void mc_image_gen_bytes(uint64_t seed, unsigned char *out, size_t len);
void mc_image_gen_bytes(uint64_t seed, unsigned char *out, size_t len) { gen_bytes(seed, out, len); }

/* ---------------------------------------------------------------- images */

static void image_image_show(mc_req *r) {
    mc_record *img = image_or_reply(r);
    if (img == NULL) return;
    reply_image(r, 200, img);
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

/* ---------------------------------------------------------------- routes */

const mc_route image_routes[] = {
 /* service   methods           pattern                 handler               flags */
    {MC_IMAGE, EVHTTP_REQ_GET,  "/",                    image_versions_list,  MC_NO_AUTH},
    {MC_IMAGE, EVHTTP_REQ_GET,  "/v2",                  image_versions_list,  MC_NO_AUTH},
    {MC_IMAGE, EVHTTP_REQ_GET,  "/v2/images/{}",        image_image_show,     0},
    {MC_IMAGE, EVHTTP_REQ_DELETE, "/v2/images/{}",      image_image_delete,   0},
};
const size_t image_nroutes = sizeof image_routes / sizeof image_routes[0];
