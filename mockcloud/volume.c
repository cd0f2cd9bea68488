/* volume.c -- the block storage service: Cinder v3, minimal but real.
 *
 * Served under /volume (devstack's path): the version documents at
 * /volume/ (300, as Cinder) and /volume/v3/, and the API under
 * /volume/v3/{project_id}/... (the router takes the project segment out,
 * volume_before checks it against the token; since 3.67 it may be left
 * out). Microversions 3.0..3.70 from "OpenStack-API-Version: volume 3.x",
 * echoed on every reply. Errors are Cinder's wsgi.Fault, which is Nova's
 * ({"itemNotFound": {"code": 404, "message": ...}}).
 *
 * Volumes (MC_K_VOLUME) keep Cinder's fields in 'doc' and, in 'priv'
 * (vol_priv), the one pending timer and the attachment: Nova's block
 * device mapping and Cinder's attachment are one record held by the
 * volume (volattach.h, compute_volumes.c). The state machine, each step a
 * libevent timer whose delay is a knob: creating -> available, attaching
 * -> in-use, detaching -> available, deleting -> gone. Freeing the priv
 * frees the timer, so deleting a record or clearing the store never leaves
 * a timer pointing at freed memory.
 *
 * Also: the one volume type __DEFAULT__ (list/show, "default"), limits,
 * quota sets (show, defaults, usage), availability zones, metadata, the
 * volume summary and the actions os-extend, os-set_bootable,
 * os-update_readonly_flag, os-reset_status and os-force_delete (admin). */
#include "volapi.h"
#include "volattach.h"
#include "auth.h"
#include "http.h"
#include "imageapi.h"
#include "profile.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VOLUMES(srv) (&(srv)->world[MC_K_VOLUME])
#define MV_MIN 0
#define MV_MAX 70
#define DB_MAX_INT 2147483647L
#define PAGE_MAX 1000           /* Cinder's osapi_max_limit */
#define ZONE "nova"
#define HOST "mockcloud@lvmdriver-1#lvmdriver-1"
#define TYPE_ID "5c0c1a3e-8f6b-4a8e-9d0e-3f6a2b1c9d70"
#define TYPE_NAME "__DEFAULT__"
#define MAX_DEVICES 25          /* /dev/vdb .. /dev/vdz */

/* Cinder's default quotas (cinder.conf [DEFAULT] quota_*). */
static const struct {
    const char *key;
    long limit;
} quota_defaults[] = {
    {"volumes", 10}, {"snapshots", 10}, {"gigabytes", 1000}, {"backups", 10},
    {"backup_gigabytes", 1000}, {"per_volume_gigabytes", -1}, {"groups", 10},
    {"volumes_" TYPE_NAME, -1}, {"snapshots_" TYPE_NAME, -1}, {"gigabytes_" TYPE_NAME, -1},
};

typedef enum { VOP_NONE = 0, VOP_CREATE, VOP_ATTACH, VOP_DETACH, VOP_DELETE } vol_op;

typedef struct vol_priv {
    mc_server *srv;
    char id[40];
    struct event *timer;
    vol_op op;
    /* the attachment (Nova's BDM + Cinder's attachment); server_id "" = none */
    char server_id[40];
    char att_id[40];
    char bdm_uuid[40];
    char device[16];
    char guest_dev[16];      /* the name the guest sees (mc_volume_server_disks) */
    char *tag;
    bool dot;                /* delete_on_termination */
    uint64_t att_seq;        /* attachment order */
    double attached_at;      /* < 0: not attached yet (attaching) */
} vol_priv;

typedef struct vol_state {
    uint64_t att_seq;
} vol_state;

#define VP(rec) ((vol_priv *)(rec)->priv)

static vol_state *vstate(mc_server *srv) {
    vol_state *st = srv->svc_state[MC_VOLUME];
    if (st == NULL) {
        st = calloc(1, sizeof *st);
        if (st == NULL) mc_panic("out of memory");
        srv->svc_state[MC_VOLUME] = st;
    }
    return st;
}

static void vol_priv_free(void *p) {
    vol_priv *vp = p;
    if (vp->timer != NULL) event_free(vp->timer);
    free(vp->tag);
    free(vp);
}

static void now_iso6(char out[32]) {
    double t = mc_now();
    time_t sec = (time_t)t;
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    size_t n = strlen(out);
    snprintf(out + n, 32 - n, ".%06ld", (long)((t - (double)sec) * 1e6));
}

static const char *vstatus(const mc_record *v) { return mc_json_str(v->doc, "status"); }

static void set_status(mc_record *v, const char *status) {
    char ts[32];
    now_iso6(ts);
    mc_json_set_str(v->doc, "status", status);
    mc_json_set_str(v->doc, "updated_at", ts);
    mc_record_touch(v);
}

static bool attach_listed(const mc_record *v) {
    const vol_priv *vp = v->priv;
    return vp->server_id[0] != '\0' && vp->attached_at >= 0;
}

/* ---------------------------------------------------------------- timers */

static void vol_fire(evutil_socket_t fd, short what, void *arg);

/* Schedules the volume's next step after 'ms' (replacing a pending one). */
static void schedule(mc_record *v, vol_op op, long long ms) {
    vol_priv *vp = VP(v);
    if (vp->timer == NULL) {
        vp->timer = evtimer_new(vp->srv->base, vol_fire, vp);
        if (vp->timer == NULL) mc_panic("out of memory");
    }
    vp->op = op;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(vp->timer, &tv);
}

static void attachment_clear(vol_priv *vp) {
    vp->server_id[0] = vp->att_id[0] = vp->bdm_uuid[0] = vp->device[0] = '\0';
    free(vp->tag);
    vp->tag = NULL;
    vp->dot = false;
    vp->attached_at = -1;
}

static void vol_fire(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    vol_priv *vp = arg;
    mc_server *srv = vp->srv;
    mc_record *v = mc_store_find(VOLUMES(srv), vp->id);
    if (v == NULL || v->priv != vp) return;
    vol_op op = vp->op;
    vp->op = VOP_NONE;
    switch (op) {
    case VOP_CREATE:
        set_status(v, "available");
        break;
    case VOP_ATTACH:
        vp->attached_at = mc_now();
        set_status(v, "in-use");
        mc_json_set_str(v->doc, "attach_status", "attached");
        break;
    case VOP_DETACH: {
        char server[40];
        mc_strlcpy(server, vp->server_id, sizeof server);
        attachment_clear(vp);
        set_status(v, "available");
        mc_json_set_str(v->doc, "attach_status", "detached");
        mc_compute_server_volumes_changed(srv, server);
        break;
    }
    case VOP_DELETE:
        mc_store_delete(VOLUMES(srv), v);
        break;
    case VOP_NONE:
        break;
    }
}

/* ---------------------------------------------------------------- helpers */

static bool is_admin(const mc_req *r) { return mc_auth_is_admin(r->tok); }
static const char *req_project(const mc_req *r) { return mc_auth_project(r); }
static bool mv_ge(const mc_req *r, int minor) { return r->mv_minor >= minor; }

mc_record *mc_volume_find(mc_server *srv, const char *id, const char *project_id) {
    mc_record *v = mc_store_find(VOLUMES(srv), id);
    if (v == NULL || v->priv == NULL) return NULL;
    if (project_id != NULL && strcmp(v->project_id, project_id) != 0) return NULL;
    return v;
}

/* The volume of the path, visible to the request (admins see every
 * project's), or a 404 in Cinder's words. */
static mc_record *volume_or_reply(mc_req *r, const char *id) {
    mc_record *v = mc_volume_find(r->srv, id, is_admin(r) ? NULL : req_project(r));
    if (v == NULL) mc_reply_error(r, 404, NULL, "Volume %.64s could not be found.", id);
    return v;
}

static void self_links(mc_req *r, cJSON *o, const char *coll, const char *id) {
    char base[400], href[600];
    mc_service_url(r->srv, "/volume", base, sizeof base);
    cJSON *links = cJSON_AddArrayToObject(o, "links");
    snprintf(href, sizeof href, "%s/v3/%s/%s/%s", base, req_project(r), coll, id);
    mc_json_add_link(links, "self", href);
    snprintf(href, sizeof href, "%s/%s/%s/%s", base, req_project(r), coll, id);
    mc_json_add_link(links, "bookmark", href);
}

static void copy_field(cJSON *o, const cJSON *doc, const char *key) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(doc, key);
    cJSON_AddItemToObject(o, key, x != NULL ? cJSON_Duplicate(x, 1) : cJSON_CreateNull());
}

/* Cinder's "attachments" of a volume: the attached one, if any. */
static cJSON *attachments_view(const mc_record *v) {
    const vol_priv *vp = v->priv;
    cJSON *arr = cJSON_CreateArray();
    if (!attach_listed(v)) return arr;
    char ts[32];
    time_t sec = (time_t)vp->attached_at;
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S.000000", &tm);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", v->id);
    cJSON_AddStringToObject(a, "attachment_id", vp->att_id);
    cJSON_AddStringToObject(a, "volume_id", v->id);
    cJSON_AddStringToObject(a, "server_id", vp->server_id);
    cJSON_AddStringToObject(a, "host_name", "mockcloud-compute-1");
    cJSON_AddStringToObject(a, "device", vp->device);
    cJSON_AddStringToObject(a, "attached_at", ts);
    cJSON_AddItemToArray(arr, a);
    return arr;
}

/* The API view of a volume at the request's microversion. The extension
 * attributes (os-vol-tenant-attr, os-vol-host-attr, os-vol-mig-status-attr,
 * volume_image_metadata) are added by Cinder's show and detail only, not to
 * create and update replies ('ext'). */
static cJSON *volume_view_ex(mc_req *r, const mc_record *v, bool detail, bool ext) {
    const cJSON *d = v->doc;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", v->id);
    copy_field(o, d, "name");
    self_links(r, o, "volumes", v->id);
    if (!detail) return o;
    cJSON_AddItemToObject(o, "attachments", attachments_view(v));
    static const char *const common[] = {"availability_zone", "bootable", "consistencygroup_id", "created_at",
                                         "description", "encrypted", "metadata", "multiattach",
                                         "replication_status", "size", "snapshot_id", "source_volid", "status",
                                         "updated_at", "user_id", "volume_type"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) copy_field(o, d, common[i]);
    const cJSON *img = cJSON_GetObjectItemCaseSensitive(d, "volume_image_metadata");
    if (ext) cJSON_AddStringToObject(o, "os-vol-tenant-attr:tenant_id", v->project_id);
    if (ext && cJSON_IsObject(img)) cJSON_AddItemToObject(o, "volume_image_metadata", cJSON_Duplicate(img, 1));
    if (ext && is_admin(r)) {
        cJSON_AddNullToObject(o, "migration_status");
        cJSON_AddStringToObject(o, "os-vol-host-attr:host", HOST);
        cJSON_AddNullToObject(o, "os-vol-mig-status-attr:migstat");
        cJSON_AddStringToObject(o, "os-vol-mig-status-attr:name_id", v->id);
    }
    if (mv_ge(r, 13)) cJSON_AddNullToObject(o, "group_id");
    if (mv_ge(r, 21)) cJSON_AddNullToObject(o, "provider_id");
    if (mv_ge(r, 48)) {
        copy_field(o, d, "service_uuid");
        cJSON_AddBoolToObject(o, "shared_targets", false);
    }
    if (mv_ge(r, 61) && is_admin(r)) cJSON_AddNullToObject(o, "cluster_name");
    if (mv_ge(r, 63)) copy_field(o, d, "volume_type_id");
    if (mv_ge(r, 64)) cJSON_AddNullToObject(o, "encryption_key_id");
    if (mv_ge(r, 65)) cJSON_AddBoolToObject(o, "consumes_quota", true);
    return o;
}

static cJSON *volume_view(mc_req *r, const mc_record *v, bool detail) { return volume_view_ex(r, v, detail, true); }

/* show (ext), create and update */
static void reply_volume(mc_req *r, int status, const mc_record *v, bool ext) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "volume", volume_view_ex(r, v, true, ext));
    mc_reply_json(r, status, root);
}

/* The volumes a project holds, and their total size in GiB. */
static void project_usage(mc_server *srv, const char *project, long *count, long *gigabytes) {
    *count = *gigabytes = 0;
    for (mc_record *v = mc_store_first(VOLUMES(srv)); v; v = mc_store_next(v)) {
        if (strcmp(v->project_id, project) != 0) continue;
        (*count)++;
        *gigabytes += (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v->doc, "size"));
    }
}

static long quota_default(const char *key) {
    for (size_t i = 0; i < sizeof quota_defaults / sizeof quota_defaults[0]; i++)
        if (strcmp(quota_defaults[i].key, key) == 0) return quota_defaults[i].limit;
    return -1;
}

/* ---------------------------------------------------------------- microversions */

/* Parses "OpenStack-API-Version" as Cinder does: the entry for "volume"
 * (comma-separated "service X.Y" entries), "latest" = the maximum. 0 with
 * *minor, -1 malformed (400), -2 out of range (406), 1 no entry. */
static int mv_parse(const char *hdr, int *minor, char *asked, size_t askedsz) {
    asked[0] = '\0';
    for (const char *p = hdr; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 7 && strncasecmp(p, "volume", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
            const char *q = p + 7;
            while (*q == ' ') q++;
            size_t qn = n - (size_t)(q - p);
            while (qn > 0 && q[qn - 1] == ' ') qn--;
            snprintf(asked, askedsz, "%.*s", (int)qn, q);
            if (strcmp(asked, "latest") == 0) {
                *minor = MV_MAX;
                return 0;
            }
            char *end;
            const char *dot = strchr(asked, '.');
            if (!isdigit((unsigned char)asked[0]) || dot == NULL || !isdigit((unsigned char)dot[1])) return -1;
            long major = strtol(asked, &end, 10);
            if (end != dot) return -1;
            long m = strtol(dot + 1, &end, 10);
            if (*end != '\0') return -1;
            if (major != 3) return -2;
            if (m < MV_MIN || m > MV_MAX) return -2;
            *minor = (int)m;
            return 0;
        }
        p = e ? e + 1 : p + n;
    }
    return 1;
}

int volume_before(mc_req *r) {
    r->mv_major = 3;
    r->mv_minor = 0;
    /* the version documents are not microversioned */
    if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/v3") == 0) return 0;
    /* the project of the URL (the router took it out) must be the token's,
     * as Cinder's wsgi layer checks */
    const char *raw = r->raw_path;
    if (strncmp(raw, "/volume/v3/", 11) == 0 && r->tok != NULL) {
        const char *seg = raw + 11, *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        char id[40] = "";
        if (len < sizeof id) snprintf(id, sizeof id, "%.*s", (int)len, seg);
        bool project_like = (len == 32 && strspn(id, "0123456789abcdef") == 32) || mc_is_uuid(id);
        const char *proj = req_project(r);
        if (project_like && !mc_str_eq(id, proj)) {
            mc_reply_error(r, 400, NULL, "Malformed request url");
            return -1;
        }
    }
    int minor = MV_MIN;
    char asked[64];
    int rc = mv_parse(mc_header(r, "OpenStack-API-Version"), &minor, asked, sizeof asked);
    if (rc == -1) {
        mc_reply_error(r, 400, NULL, "API Version String %.40s is of invalid format. Must be of format "
                                     "MajorNum.MinorNum.", asked);
        return -1;
    }
    if (rc == -2) {
        mc_reply_error(r, 406, NULL, "Version %.40s is not supported by the API. Minimum is 3.%d and maximum is 3.%d.",
                       asked, MV_MIN, MV_MAX);
        return -1;
    }
    if (rc == 1) minor = MV_MIN;
    r->mv_minor = minor;
    char h[32];
    snprintf(h, sizeof h, "volume 3.%d", minor);
    mc_header_add(r, "OpenStack-API-Version", h);
    mc_header_add(r, "Vary", "OpenStack-API-Version");
    return 0;
}

/* ---------------------------------------------------------------- versions */

static cJSON *version_v3(mc_req *r) {
    char href[400];
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "id", "v3.0");
    cJSON_AddStringToObject(v, "status", "CURRENT");
    char ver[16];
    snprintf(ver, sizeof ver, "3.%d", MV_MAX);
    cJSON_AddStringToObject(v, "version", ver);
    snprintf(ver, sizeof ver, "3.%d", MV_MIN);
    cJSON_AddStringToObject(v, "min_version", ver);
    cJSON_AddStringToObject(v, "updated", "2023-08-31T00:00:00Z");
    cJSON *links = cJSON_AddArrayToObject(v, "links");
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "rel", "describedby");
    cJSON_AddStringToObject(l, "type", "text/html");
    cJSON_AddStringToObject(l, "href", "https://docs.openstack.org/");
    cJSON_AddItemToArray(links, l);
    snprintf(href, sizeof href, "%s/volume/v3/", r->srv->public_url);
    mc_json_add_link(links, "self", href);
    mc_json_add_media_type(v, "application/vnd.openstack.volume+json;version=3");
    return v;
}

static void volume_versions(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "versions"), version_v3(r));
    mc_reply_json(r, 300, root);
}

static void volume_version_v3(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "versions"), version_v3(r));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- volumes */

typedef struct list_filter {
    mc_req *r;
    const char *project;     /* NULL: every project (admin, all_tenants) */
    const char *name, *status, *bootable;
    const cJSON *metadata;   /* an object, or NULL */
} list_filter;

static bool list_keep(const mc_record *v, void *arg) {
    const list_filter *f = arg;
    if (v->priv == NULL) return false;
    if (f->project != NULL && strcmp(v->project_id, f->project) != 0) return false;
    if (f->name != NULL && !mc_str_eq(mc_json_str(v->doc, "name"), f->name)) return false;
    if (f->status != NULL && !mc_str_eq(vstatus(v), f->status)) return false;
    if (f->bootable != NULL) {
        bool want;
        if (mc_str_bool(f->bootable, &want) && !mc_str_eq(mc_json_str(v->doc, "bootable"), want ? "true" : "false"))
            return false;
    }
    if (f->metadata != NULL) {
        const cJSON *m = mc_json_obj(v->doc, "metadata"), *kv;
        cJSON_ArrayForEach(kv, f->metadata) {
            if (!cJSON_IsString(kv) || !mc_str_eq(mc_json_str(m, kv->string), kv->valuestring)) return false;
        }
    }
    return true;
}

/* Sort keys Cinder takes for volumes, and how they compare. */
static const char *const sort_keys[] = {"created_at", "id", "name", "size", "status", "updated_at",
                                        "availability_zone", "bootable", NULL};

typedef struct sort_spec {
    const char *key;         /* NULL: creation order */
    bool asc;
} sort_spec;

static sort_spec cur_sort;   /* qsort has no argument: set just before it */

static int sort_cmp(const void *pa, const void *pb) {
    const mc_record *a = *(const mc_record *const *)pa, *b = *(const mc_record *const *)pb;
    int c = 0;
    if (strcmp(cur_sort.key, "id") == 0) {
        c = strcmp(a->id, b->id);
    } else if (strcmp(cur_sort.key, "size") == 0) {
        double x = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a->doc, "size"));
        double y = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b->doc, "size"));
        c = x < y ? -1 : x > y;
    } else {
        const char *x = mc_json_str(a->doc, cur_sort.key), *y = mc_json_str(b->doc, cur_sort.key);
        c = strcmp(x ? x : "", y ? y : "");
    }
    if (c == 0) c = a->seq < b->seq ? -1 : a->seq > b->seq;
    return cur_sort.asc ? c : -c;
}

/* The sort of the request: ?sort=key[:dir][,...] (the first key decides)
 * or ?sort_key=&sort_dir=; 0, or -1 after a 400. */
static int sort_or_reply(mc_req *r, sort_spec *out) {
    out->key = NULL;
    out->asc = false;
    const char *sort = mc_query(r, "sort"), *key = mc_query(r, "sort_key"), *dir = mc_query(r, "sort_dir");
    char kbuf[32] = "", dbuf[8] = "";
    if (sort != NULL) {
        size_t kl = strcspn(sort, ":,");
        snprintf(kbuf, sizeof kbuf, "%.*s", (int)(kl < 31 ? kl : 31), sort);
        if (sort[kl] == ':') snprintf(dbuf, sizeof dbuf, "%.*s", (int)strcspn(sort + kl + 1, ","), sort + kl + 1);
        key = kbuf;
        dir = dbuf[0] ? dbuf : dir;
    }
    if (dir != NULL && strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid input received: Unknown sort direction, must be 'desc' or 'asc'");
        return -1;
    }
    out->asc = dir != NULL && strcmp(dir, "asc") == 0;
    if (key == NULL || key[0] == '\0') return 0;
    for (int i = 0; sort_keys[i] != NULL; i++)
        if (strcmp(sort_keys[i], key) == 0) {
            out->key = i == 0 ? NULL : sort_keys[i];   /* created_at: creation order */
            return 0;
        }
    mc_reply_error(r, 400, NULL, "Invalid input received: Invalid sort key %.32s", key);
    return -1;
}

/* Cinder's filter ?metadata= is a dict's text, JSON or Python's repr. */
static cJSON *metadata_filter(const char *q) {
    cJSON *m = cJSON_ParseWithOpts(q, NULL, 1);
    if (m != NULL) return m;
    char *copy = strdup(q);
    if (copy == NULL) mc_panic("out of memory");
    for (char *p = copy; *p; p++)
        if (*p == '\'') *p = '"';
    m = cJSON_ParseWithOpts(copy, NULL, 1);
    free(copy);
    return m;
}

/* Appends s percent-encoded (RFC 3986 unreserved kept) to out. */
static void url_encode(char *out, size_t outsz, const char *s) {
    size_t n = strlen(out);
    static const char hex[] = "0123456789ABCDEF";
    for (; *s && n + 4 < outsz; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

/* Cinder's next link: this request's URL with marker= the last id. */
static void next_link(mc_req *r, cJSON *root, bool detail, const char *last) {
    char base[400], href[1600], q[1100] = "";
    mc_service_url(r->srv, "/volume", base, sizeof base);
    for (int i = 0; i < r->nquery; i++) {
        if (strcmp(r->query[i].key, "marker") == 0) continue;
        if (q[0] != '\0') mc_strlcpy(q + strlen(q), "&", sizeof q - strlen(q));
        url_encode(q, sizeof q, r->query[i].key);
        mc_strlcpy(q + strlen(q), "=", sizeof q - strlen(q));
        url_encode(q, sizeof q, r->query[i].value);
    }
    snprintf(href, sizeof href, "%s/v3/%s/volumes%s?%s%smarker=%s", base, req_project(r), detail ? "/detail" : "", q,
             q[0] ? "&" : "", last);
    mc_json_add_link(cJSON_AddArrayToObject(root, "volumes_links"), "next", href);
}

static void volume_list_common(mc_req *r, bool detail) {
    long limit;
    if (mc_query_long_or_reply(r, "limit", 0, DB_MAX_INT, PAGE_MAX, &limit) != 0) return;
    bool limited = mc_query(r, "limit") != NULL;
    if (limit >= PAGE_MAX) limit = PAGE_MAX, limited = true;
    list_filter f = {r, req_project(r), mc_query(r, "name"), mc_query(r, "status"), mc_query(r, "bootable"), NULL};
    if (f.name == NULL) f.name = mc_query(r, "display_name");
    int all = -1;
    if (mc_query_bool_or_reply(r, "all_tenants", &all) != 0) return;
    if (all == 1 && is_admin(r)) f.project = mc_query(r, "project_id");
    sort_spec sort;
    if (sort_or_reply(r, &sort) != 0) return;
    cJSON *meta = NULL;
    const char *mq = mc_query(r, "metadata");
    if (mq != NULL) {
        meta = metadata_filter(mq);
        if (!cJSON_IsObject(meta)) {
            cJSON_Delete(meta);
            mc_reply_error(r, 400, NULL, "Invalid input received: metadata must be a dict, not %.64s.", mq);
            return;
        }
        f.metadata = meta;
    }
    const char *marker = mc_query(r, "marker");
    mc_record *mrec = marker != NULL ? mc_store_find(VOLUMES(r->srv), marker) : NULL;
    if (marker != NULL && (mrec == NULL || !list_keep(mrec, &f))) {
        cJSON_Delete(meta);
        mc_reply_error(r, 404, NULL, "Marker %.64s could not be found.", marker);
        return;
    }
    mc_record **page = NULL;
    long n = 0;
    if (sort.key == NULL) {
        /* creation order: a page is a walk of 'limit' records (O(page)) */
        page = malloc(((size_t)limit + 1) * sizeof *page);
        if (page == NULL) mc_panic("out of memory");
        bool more = false;
        n = mc_store_page(VOLUMES(r->srv), marker, limit, !sort.asc, list_keep, &f, page, (size_t)limit, &more);
    } else {
        /* another key: the matching records sorted for this request */
        size_t cap = VOLUMES(r->srv)->count + 1, m = 0;
        mc_record **all_recs = malloc(cap * sizeof *all_recs);
        if (all_recs == NULL) mc_panic("out of memory");
        for (mc_record *v = mc_store_first(VOLUMES(r->srv)); v; v = mc_store_next(v))
            if (list_keep(v, &f)) all_recs[m++] = v;
        cur_sort = sort;
        qsort(all_recs, m, sizeof *all_recs, sort_cmp);
        size_t start = 0;
        if (mrec != NULL)
            for (size_t i = 0; i < m; i++)
                if (all_recs[i] == mrec) start = i + 1;
        for (size_t i = start; i < m && n < limit; i++) all_recs[n++] = all_recs[i];
        page = all_recs;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "volumes");
    for (long i = 0; i < n; i++) cJSON_AddItemToArray(arr, volume_view(r, page[i], detail));
    /* as Cinder: a full page links to the next one */
    if (limited && n > 0 && n == limit) next_link(r, root, detail, page[n - 1]->id);
    free(page);
    cJSON_Delete(meta);
    mc_reply_json(r, 200, root);
}

static void volume_list(mc_req *r) { volume_list_common(r, false); }
static void volume_detail(mc_req *r) { volume_list_common(r, true); }

static void volume_show(mc_req *r) {
    mc_record *v = volume_or_reply(r, r->params[0]);
    if (v != NULL) reply_volume(r, 200, v, true);
}

/* A string or null member no longer than 'max' (Cinder's name and
 * description: 255); 0 when fine or absent, -1 when it replied. */
static int text_or_reply(mc_req *r, const cJSON *in, const char *key, size_t max) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(in, key);
    if (x == NULL || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsString(x)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: %.64s. %s is not of type 'string', 'null'",
                       key, cJSON_IsNumber(x) ? "a number" : "a non-string", key);
        return -1;
    }
    if (strlen(x->valuestring) > max) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: %.32s... is too long", key,
                       x->valuestring);
        return -1;
    }
    return 0;
}

/* Cinder's metadata: an object of strings, keys 1..255, values <= 255. */
static int metadata_or_reply(mc_req *r, const cJSON *m) {
    if (!cJSON_IsObject(m)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute metadata. Value: not an object. "
                                     "metadata is not of type 'object'");
        return -1;
    }
    const cJSON *kv;
    cJSON_ArrayForEach(kv, m) {
        if (kv->string[0] == '\0' || strlen(kv->string) > 255) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute metadata. Value: %.64s. "
                                         "metadata keys must be 1 to 255 characters", kv->string);
            return -1;
        }
        if (!cJSON_IsString(kv) || strlen(kv->valuestring) > 255) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %.64s. Value: not a string of at most 255 "
                                         "characters.", kv->string);
            return -1;
        }
    }
    return 0;
}

/* The size member: an integer (or a string of digits) in 1..2^31-1. */
static int size_or_reply(mc_req *r, const cJSON *x, long *size) {
    long v = -1;
    if (cJSON_IsNumber(x) && x->valuedouble == (double)(long)x->valuedouble) {
        v = (long)x->valuedouble;
        if (x->valuedouble > (double)DB_MAX_INT) v = DB_MAX_INT + 1L;
    } else if (cJSON_IsString(x) && x->valuestring[0] != '\0' && strspn(x->valuestring, "0123456789") == strlen(x->valuestring)) {
        if (!mc_parse_long(x->valuestring, 0, DB_MAX_INT, &v)) v = DB_MAX_INT + 1L;
    } else {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute size. Value: %s. "
                                     "size is not of type 'integer', 'string', 'null'",
                       cJSON_IsString(x) ? x->valuestring : cJSON_IsBool(x) ? "a boolean" : "not an integer");
        return -1;
    }
    if (v < 1) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute size. Value: %ld. %ld is less than the minimum of 1",
                       v, v);
        return -1;
    }
    if (v > DB_MAX_INT) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute size. Value: %.0f. "
                                     "It is greater than the maximum of %ld",
                       cJSON_IsNumber(x) ? x->valuedouble : 0.0, DB_MAX_INT);
        return -1;
    }
    *size = v;
    return 0;
}

static bool type_matches(const char *ref) {
    return ref == NULL || strcmp(ref, TYPE_NAME) == 0 || strcmp(ref, TYPE_ID) == 0;
}

/* Quota: 413 (with the message in err) when 'add_count' more volumes of
 * 'add_gb' GiB in all do not fit the project's quota; 0 when they do. */
static int quota_check(mc_server *srv, const char *project, long add_count, long add_gb, char *err, size_t errsz) {
    long count, gb;
    project_usage(srv, project, &count, &gb);
    long max_gb = quota_default("gigabytes"), max_count = quota_default("volumes");
    long per = quota_default("per_volume_gigabytes");
    if (per >= 0 && add_gb > per) {
        snprintf(err, errsz, "Volume size '%ld'GB cannot be larger than the per volume gigabytes quota '%ld'GB.",
                 add_gb, per);
        return 413;
    }
    if (max_gb >= 0 && gb + add_gb > max_gb) {
        snprintf(err, errsz, "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
                             "gigabytes quota. Requested %ldG, quota is %ldG and %ldG has been consumed.",
                 add_gb, max_gb, gb);
        return 413;
    }
    if (max_count >= 0 && count + add_count > max_count) {
        snprintf(err, errsz, "VolumeLimitExceeded: Maximum number of volumes allowed (%ld) exceeded for quota "
                             "'volumes'.", max_count);
        return 413;
    }
    return 0;
}

static int quota_or_reply(mc_req *r, long add_count, long add_gb) {
    char err[300];
    int st = quota_check(r->srv, req_project(r), add_count, add_gb, err, sizeof err);
    if (st != 0) mc_reply_error(r, st, NULL, "%s", err);
    return st != 0 ? -1 : 0;
}

/* A new volume record ("creating", available after volume.create_ms). */
static mc_record *volume_insert(mc_server *srv, const char *project, const char *user, const char *name,
                                const char *desc, long size, const cJSON *meta, const mc_record *source,
                                const mc_record *img) {
    char id[37], ts[32];
    mc_uuid(srv, id);
    now_iso6(ts);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "id", id);
    mc_json_set_str(doc, "name", name);
    mc_json_set_str(doc, "description", desc);
    cJSON_AddNumberToObject(doc, "size", (double)size);
    cJSON_AddStringToObject(doc, "status", "creating");
    cJSON_AddStringToObject(doc, "attach_status", "detached");
    cJSON_AddStringToObject(doc, "availability_zone", ZONE);
    cJSON_AddStringToObject(doc, "bootable", img != NULL ? "true" : "false");
    cJSON_AddNullToObject(doc, "consistencygroup_id");
    cJSON_AddStringToObject(doc, "created_at", ts);
    cJSON_AddNullToObject(doc, "updated_at");
    cJSON_AddBoolToObject(doc, "encrypted", false);
    cJSON_AddItemToObject(doc, "metadata", meta != NULL ? cJSON_Duplicate(meta, 1) : cJSON_CreateObject());
    cJSON_AddBoolToObject(doc, "multiattach", false);
    cJSON_AddNullToObject(doc, "replication_status");
    mc_json_set_str(doc, "snapshot_id", NULL);
    mc_json_set_str(doc, "source_volid", source ? source->id : NULL);
    cJSON_AddStringToObject(doc, "user_id", user);
    cJSON_AddStringToObject(doc, "volume_type", TYPE_NAME);
    cJSON_AddStringToObject(doc, "volume_type_id", TYPE_ID);
    cJSON_AddStringToObject(doc, "service_uuid", "0c0a3f3e-6c4b-4f0e-9d5a-1e2b3c4d5e6f");
    if (img != NULL) {
        cJSON *im = cJSON_AddObjectToObject(doc, "volume_image_metadata");
        cJSON_AddStringToObject(im, "image_id", img->id);
        static const char *const keys[] = {"image_name", "checksum", "container_format", "disk_format", "min_disk",
                                           "min_ram", "size"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(img->doc, i == 0 ? "name" : keys[i]);
            if (x == NULL || cJSON_IsNull(x)) continue;
            if (cJSON_IsString(x)) cJSON_AddStringToObject(im, keys[i], x->valuestring);
            else if (cJSON_IsNumber(x)) {
                char num[32];
                snprintf(num, sizeof num, "%.0f", x->valuedouble);
                cJSON_AddStringToObject(im, keys[i], num);
            }
        }
    }
    mc_record *v = mc_store_add(VOLUMES(srv), id, project, doc);
    if (v == NULL) mc_panic("volume id taken");
    vol_priv *vp = calloc(1, sizeof *vp);
    if (vp == NULL) mc_panic("out of memory");
    vp->srv = srv;
    mc_strlcpy(vp->id, id, sizeof vp->id);
    vp->attached_at = -1;
    v->priv = vp;
    v->priv_free = vol_priv_free;
    schedule(v, VOP_CREATE, mc_knob_cur(srv, MC_KNOB_VOLUME_CREATE_MS));
    return v;
}

#define CREATE_SPEC "size=v|name=S|display_name=S|description=S|display_description=S|volume_type=S|" \
                    "metadata=O|availability_zone=S|imageRef=S|image_id=S|snapshot_id=S|source_volid=S|" \
                    "multiattach=b|consistencygroup_id=S|group_id=S|backup_id=S|scheduler_hints=O"

static void volume_create(mc_req *r) {
    cJSON *in = mc_json_obj(r->body, "volume");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute volume. Value: None. 'volume' is a required property");
        return;
    }
    if (mc_check_or_reply(r, in, CREATE_SPEC) != 0) return;
    if (text_or_reply(r, in, "name", 255) || text_or_reply(r, in, "display_name", 255) ||
        text_or_reply(r, in, "description", 255) || text_or_reply(r, in, "display_description", 255))
        return;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(in, "metadata");
    if (meta != NULL && !cJSON_IsNull(meta) && metadata_or_reply(r, meta) != 0) return;
    const char *src = mc_json_str(in, "source_volid");
    const char *snap = mc_json_str(in, "snapshot_id");
    mc_record *source = NULL;
    if (src != NULL && (source = volume_or_reply(r, src)) == NULL) return;
    if (snap != NULL) {
        mc_reply_error(r, 404, NULL, "Snapshot %.64s could not be found.", snap);
        return;
    }
    long size = 0;
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(in, "size");
    if ((sz == NULL || cJSON_IsNull(sz)) && source == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input received: \"size\" must be specified when creating a volume "
                                     "without a source volume, snapshot or backup.");
        return;
    }
    if (sz != NULL && !cJSON_IsNull(sz) && size_or_reply(r, sz, &size) != 0) return;
    if (source != NULL) {
        long ssize = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(source->doc, "size"));
        if (size == 0) size = ssize;
        if (size < ssize) {
            mc_reply_error(r, 400, NULL, "Invalid input received: Volume size '%ld'GB cannot be smaller than original "
                                         "volume size  %ldGB. They must be >= original volume size.", size, ssize);
            return;
        }
    }
    const char *type = mc_json_str(in, "volume_type");
    if (!type_matches(type)) {
        mc_reply_error(r, 404, NULL, "Volume type with name %.64s could not be found.", type);
        return;
    }
    const char *az = mc_json_str(in, "availability_zone");
    if (az != NULL && strcmp(az, ZONE) != 0) {
        mc_reply_error(r, 400, NULL, "Invalid input received: Availability zone '%.64s' is invalid.", az);
        return;
    }
    const char *image_ref = mc_json_str(in, "imageRef");
    if (image_ref == NULL) image_ref = mc_json_str(in, "image_id");
    mc_record *img = NULL;
    if (image_ref != NULL && (img = mc_image_find(r->srv, image_ref, req_project(r))) == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid image identifier or unable to access requested image.");
        return;
    }
    if (quota_or_reply(r, 1, size) != 0) return;
    const char *name = mc_json_str(in, "name");
    if (name == NULL) name = mc_json_str(in, "display_name");
    const char *desc = mc_json_str(in, "description");
    if (desc == NULL) desc = mc_json_str(in, "display_description");
    mc_record *v = volume_insert(r->srv, req_project(r), r->tok ? r->tok->user_id : "", name, desc, size,
                                 cJSON_IsObject(meta) ? meta : NULL, source, img);
    reply_volume(r, 202, v, false);
}

static void volume_update(mc_req *r) {
    mc_record *v = volume_or_reply(r, r->params[0]);
    if (v == NULL) return;
    cJSON *in = mc_json_obj(r->body, "volume");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute volume. Value: None. 'volume' is a required property");
        return;
    }
    if (mc_check_or_reply(r, in, "!name=S|display_name=S|description=S|display_description=S|metadata=O") != 0) return;
    if (text_or_reply(r, in, "name", 255) || text_or_reply(r, in, "display_name", 255) ||
        text_or_reply(r, in, "description", 255) || text_or_reply(r, in, "display_description", 255))
        return;
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(in, "metadata");
    if (meta != NULL && !cJSON_IsNull(meta) && metadata_or_reply(r, meta) != 0) return;
    static const char *const pairs[][2] = {{"name", "name"}, {"display_name", "name"}, {"description", "description"},
                                           {"display_description", "description"}};
    for (size_t i = 0; i < 4; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(in, pairs[i][0]);
        if (x != NULL) mc_json_set_str(v->doc, pairs[i][1], cJSON_IsString(x) ? x->valuestring : NULL);
    }
    if (cJSON_IsObject(meta)) mc_json_set(v->doc, "metadata", cJSON_Duplicate(meta, 1));
    char ts[32];
    now_iso6(ts);
    mc_json_set_str(v->doc, "updated_at", ts);
    mc_record_touch(v);
    reply_volume(r, 200, v, false);
}

static bool deletable(const mc_record *v) {
    static const char *const ok[] = {"available", "error", "error_restoring", "error_extending", "error_managing"};
    if (VP(v)->server_id[0] != '\0') return false;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (mc_str_eq(vstatus(v), ok[i])) return true;
    return false;
}

static void start_delete(mc_req *r, mc_record *v) {
    set_status(v, "deleting");
    schedule(v, VOP_DELETE, mc_knob(r, MC_KNOB_VOLUME_DELETE_MS));
}

int mc_volume_delete(mc_server *srv, mc_record *v, char *err, size_t errsz) {
    if (mc_str_eq(vstatus(v), "deleting")) return 0;
    if (!deletable(v)) {
        snprintf(err, errsz, "Invalid volume: Volume status must be available or error or error_restoring or "
                             "error_extending or error_managing and must not be migrating, attached, belong to a "
                             "group, have snapshots, awaiting a transfer, or be disassociated from snapshots after "
                             "volume transfer.");
        return 400;
    }
    set_status(v, "deleting");
    schedule(v, VOP_DELETE, mc_knob_cur(srv, MC_KNOB_VOLUME_DELETE_MS));
    return 0;
}

mc_record *mc_volume_create(mc_server *srv, const char *project_id, const char *user_id, const char *name,
                            const char *description, long size, const cJSON *metadata, int *status, char *err,
                            size_t errsz) {
    *status = quota_check(srv, project_id, 1, size, err, errsz);
    if (*status != 0) return NULL;
    return volume_insert(srv, project_id, user_id, name, description, size, metadata, NULL, NULL);
}

static void volume_delete(mc_req *r) {
    mc_record *v = volume_or_reply(r, r->params[0]);
    if (v == NULL) return;
    char err[400];
    if (mc_volume_delete(r->srv, v, err, sizeof err) != 0) {
        mc_reply_error(r, 400, NULL, "%s", err);
        return;
    }
    mc_reply_json(r, 202, NULL);
}

static void volume_summary(mc_req *r) {
    long count = 0, gb = 0;
    for (mc_record *v = mc_store_first(VOLUMES(r->srv)); v; v = mc_store_next(v)) {
        if (strcmp(v->project_id, req_project(r)) != 0) continue;
        count++;
        gb += (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v->doc, "size"));
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *s = cJSON_AddObjectToObject(root, "volume-summary");
    cJSON_AddNumberToObject(s, "total_size", (double)gb);
    cJSON_AddNumberToObject(s, "total_count", (double)count);
    if (mv_ge(r, 36)) cJSON_AddObjectToObject(s, "metadata");
    mc_reply_json(r, 200, root);
}

/* POST /volumes/{id}/action: one key names the action. */
static void volume_action(mc_req *r) {
    mc_record *v = volume_or_reply(r, r->params[0]);
    if (v == NULL) return;
    const cJSON *act = r->body ? r->body->child : NULL;
    if (act == NULL || act->next != NULL) {
        mc_reply_error(r, 400, NULL, "There is either no action or more than one action in the request body.");
        return;
    }
    const char *name = act->string;
    if (strcmp(name, "os-extend") == 0) {
        long size;
        if (!cJSON_IsObject(act)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute os-extend. Value: not an object.");
            return;
        }
        const cJSON *ns = cJSON_GetObjectItemCaseSensitive(act, "new_size");
        if (ns == NULL) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute os-extend. 'new_size' is a required property");
            return;
        }
        if (size_or_reply(r, ns, &size) != 0) return;
        long old = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v->doc, "size"));
        if (!mc_str_eq(vstatus(v), "available") && !(mc_str_eq(vstatus(v), "in-use") && mv_ge(r, 42))) {
            mc_reply_error(r, 400, NULL, "Invalid volume: Volume %s status must be 'available' or 'in-use' with 3.42 "
                                         "to extend, but current status is: %s.", v->id, vstatus(v));
            return;
        }
        if (size <= old) {
            mc_reply_error(r, 400, NULL, "Invalid input received: New size for extend must be greater than current "
                                         "size. (current: %ld, extended: %ld).", old, size);
            return;
        }
        if (quota_or_reply(r, 0, size - old) != 0) return;
        cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(v->doc, "size"), (double)size);
        set_status(v, vstatus(v));
        mc_reply_json(r, 202, NULL);
    } else if (strcmp(name, "os-set_bootable") == 0) {
        bool b;
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(act, "bootable");
        if (!(cJSON_IsBool(x) || (cJSON_IsString(x) && mc_str_bool(x->valuestring, &b)))) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute bootable. Value: not a boolean.");
            return;
        }
        b = cJSON_IsBool(x) ? cJSON_IsTrue(x) : b;
        mc_json_set_str(v->doc, "bootable", b ? "true" : "false");
        set_status(v, vstatus(v));
        mc_reply_json(r, 200, NULL);
    } else if (strcmp(name, "os-update_readonly_flag") == 0) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(act, "readonly");
        bool b;
        if (!(cJSON_IsBool(x) || (cJSON_IsString(x) && mc_str_bool(x->valuestring, &b)))) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute readonly. Value: not a boolean.");
            return;
        }
        b = cJSON_IsBool(x) ? cJSON_IsTrue(x) : b;
        cJSON *m = mc_json_obj(v->doc, "metadata");
        cJSON_DeleteItemFromObjectCaseSensitive(m, "readonly");
        cJSON_AddStringToObject(m, "readonly", b ? "True" : "False");
        set_status(v, vstatus(v));
        mc_reply_json(r, 202, NULL);
    } else if (strcmp(name, "os-reset_status") == 0 || strcmp(name, "os-force_delete") == 0) {
        if (!is_admin(r)) {
            mc_reply_error(r, 403, NULL, "Policy doesn't allow volume_extension:volume_admin_actions:%s to be performed.",
                           name + 3);
            return;
        }
        if (name[3] == 'f') {
            if (VP(v)->server_id[0] != '\0') {
                mc_reply_error(r, 400, NULL, "Invalid volume: Volume must not be attached to be deleted.");
                return;
            }
            start_delete(r, v);
            mc_reply_json(r, 202, NULL);
            return;
        }
        const char *st = mc_json_str(act, "status");
        static const char *const ok[] = {"available", "error", "creating", "deleting", "in-use", "attaching",
                                         "detaching", "error_deleting", "maintenance", "reserved", "error_extending"};
        bool valid = false;
        for (size_t i = 0; st != NULL && i < sizeof ok / sizeof ok[0]; i++) valid |= strcmp(st, ok[i]) == 0;
        if (!valid) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute status. Value: %.32s.", st ? st : "None");
            return;
        }
        set_status(v, st);
        mc_reply_json(r, 202, NULL);
    } else {
        mc_reply_error(r, 400, NULL, "There is no such action: %.64s", name);
    }
}

/* ---------------------------------------------------------------- metadata */

static void reply_metadata(mc_req *r, const mc_record *v) {
    cJSON *root = cJSON_CreateObject();
    const cJSON *m = mc_json_obj(v->doc, "metadata");
    cJSON_AddItemToObject(root, "metadata", m ? cJSON_Duplicate(m, 1) : cJSON_CreateObject());
    mc_reply_json(r, 200, root);
}

/* GET, POST (merge) and PUT (replace) /volumes/{id}/metadata. */
static void volume_metadata(mc_req *r) {
    mc_record *v = volume_or_reply(r, r->params[0]);
    if (v == NULL) return;
    if (r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_HEAD) {
        reply_metadata(r, v);
        return;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r->body, "metadata");
    if (m == NULL) {
        mc_reply_error(r, 400, NULL, "Malformed request body: 'metadata' is a required property");
        return;
    }
    if (metadata_or_reply(r, m) != 0) return;
    cJSON *cur = mc_json_obj(v->doc, "metadata");
    if (r->method == EVHTTP_REQ_PUT || cur == NULL) {
        mc_json_set(v->doc, "metadata", cJSON_Duplicate(m, 1));
    } else {
        const cJSON *kv;
        cJSON_ArrayForEach(kv, m) mc_json_set_str(cur, kv->string, kv->valuestring);
    }
    set_status(v, vstatus(v));
    reply_metadata(r, v);
}

static void volume_metadata_item(mc_req *r) {
    mc_record *v = volume_or_reply(r, r->params[0]);
    if (v == NULL) return;
    const char *key = r->params[1];
    cJSON *cur = mc_json_obj(v->doc, "metadata");
    const char *val = mc_json_str(cur, key);
    if (r->method == EVHTTP_REQ_PUT) {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(r->body, "meta");
        if (!cJSON_IsObject(meta) || meta->child == NULL || meta->child->next != NULL) {
            mc_reply_error(r, 400, NULL, "Malformed request body: 'meta' must hold exactly one item");
            return;
        }
        if (strcmp(meta->child->string, key) != 0) {
            mc_reply_error(r, 400, NULL, "Request body and URI mismatch");
            return;
        }
        if (metadata_or_reply(r, meta) != 0) return;
        mc_json_set_str(cur, key, meta->child->valuestring);
        set_status(v, vstatus(v));
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "meta", cJSON_Duplicate(meta, 1));
        mc_reply_json(r, 200, root);
        return;
    }
    if (val == NULL) {
        mc_reply_error(r, 404, NULL, "Volume %s has no metadata with key %.64s.", v->id, key);
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        cJSON_DeleteItemFromObjectCaseSensitive(cur, key);
        set_status(v, vstatus(v));
        mc_reply_json(r, 200, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "meta"), key, val);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- types, limits, quotas, zones */

static cJSON *type_view(void) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "id", TYPE_ID);
    cJSON_AddStringToObject(t, "name", TYPE_NAME);
    cJSON_AddStringToObject(t, "description", "Default Volume Type");
    cJSON_AddBoolToObject(t, "is_public", true);
    cJSON_AddBoolToObject(t, "os-volume-type-access:is_public", true);
    cJSON_AddNullToObject(t, "qos_specs_id");
    cJSON_AddObjectToObject(t, "extra_specs");
    return t;
}

static void volume_type_list(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "volume_types"), type_view());
    mc_reply_json(r, 200, root);
}

static void volume_type_show(mc_req *r) {
    const char *id = r->params[0];
    if (!type_matches(id) && strcmp(id, "default") != 0) {
        mc_reply_error(r, 404, NULL, "Volume type %.64s could not be found.", id);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "volume_type", type_view());
    mc_reply_json(r, 200, root);
}

static void volume_type_extra_specs(mc_req *r) {
    if (!type_matches(r->params[0])) {
        mc_reply_error(r, 404, NULL, "Volume type %.64s could not be found.", r->params[0]);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddObjectToObject(root, "extra_specs");
    mc_reply_json(r, 200, root);
}

static void volume_limits(mc_req *r) {
    long count, gb;
    project_usage(r->srv, req_project(r), &count, &gb);
    cJSON *root = cJSON_CreateObject();
    cJSON *l = cJSON_AddObjectToObject(root, "limits");
    cJSON_AddArrayToObject(l, "rate");
    cJSON *a = cJSON_AddObjectToObject(l, "absolute");
    cJSON_AddNumberToObject(a, "totalSnapshotsUsed", 0);
    cJSON_AddNumberToObject(a, "maxTotalBackups", (double)quota_default("backups"));
    cJSON_AddNumberToObject(a, "maxTotalVolumeGigabytes", (double)quota_default("gigabytes"));
    cJSON_AddNumberToObject(a, "maxTotalSnapshots", (double)quota_default("snapshots"));
    cJSON_AddNumberToObject(a, "maxTotalBackupGigabytes", (double)quota_default("backup_gigabytes"));
    cJSON_AddNumberToObject(a, "totalBackupGigabytesUsed", 0);
    cJSON_AddNumberToObject(a, "maxTotalVolumes", (double)quota_default("volumes"));
    cJSON_AddNumberToObject(a, "totalVolumesUsed", (double)count);
    cJSON_AddNumberToObject(a, "totalBackupsUsed", 0);
    cJSON_AddNumberToObject(a, "totalGigabytesUsed", (double)gb);
    mc_reply_json(r, 200, root);
}

/* GET /os-quota-sets/{project}[?usage=true] and .../defaults. */
static void quota_reply(mc_req *r, const char *project, bool defaults) {
    int usage = -1;
    if (!defaults && mc_query_bool_or_reply(r, "usage", &usage) != 0) return;
    if (!is_admin(r) && strcmp(project, req_project(r)) != 0) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow volume_extension:quotas:show to be performed.");
        return;
    }
    long count, gb;
    project_usage(r->srv, project, &count, &gb);
    cJSON *root = cJSON_CreateObject();
    cJSON *q = cJSON_AddObjectToObject(root, "quota_set");
    cJSON_AddStringToObject(q, "id", project);
    for (size_t i = 0; i < sizeof quota_defaults / sizeof quota_defaults[0]; i++) {
        const char *k = quota_defaults[i].key;
        long lim = quota_defaults[i].limit;
        if (usage == 1) {
            long used = strncmp(k, "volumes", 7) == 0 ? count : strncmp(k, "gigabytes", 9) == 0 ? gb : 0;
            cJSON *u = cJSON_AddObjectToObject(q, k);
            cJSON_AddNumberToObject(u, "limit", (double)lim);
            cJSON_AddNumberToObject(u, "in_use", (double)used);
            cJSON_AddNumberToObject(u, "reserved", 0);
            cJSON_AddNumberToObject(u, "allocated", 0);
        } else {
            cJSON_AddNumberToObject(q, k, (double)lim);
        }
    }
    mc_reply_json(r, 200, root);
}

static void volume_quota_show(mc_req *r) { quota_reply(r, r->params[0], false); }
static void volume_quota_defaults(mc_req *r) { quota_reply(r, r->params[0], true); }

static void volume_zones(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *z = cJSON_CreateObject();
    cJSON_AddStringToObject(z, "zoneName", ZONE);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(z, "zoneState"), "available", true);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "availabilityZoneInfo"), z);
    mc_reply_json(r, 200, root);
}

static void volume_extensions(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddArrayToObject(root, "extensions");
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- attachments (volattach.h) */

static void attachment_fill(const mc_record *v, mc_vol_attachment *out) {
    const vol_priv *vp = v->priv;
    out->volume_id = v->id;
    out->server_id = vp->server_id;
    out->device = vp->device;
    out->tag = vp->tag;
    out->attachment_id = vp->att_id;
    out->bdm_uuid = vp->bdm_uuid;
    out->volume_status = vstatus(v);
    out->delete_on_termination = vp->dot;
}

/* The server's attached volumes in attachment order (n set); caller frees. */
static mc_record **server_volumes(mc_server *srv, const char *server_id, size_t *n) {
    size_t cap = 4;
    mc_record **arr = malloc(cap * sizeof *arr);
    if (arr == NULL) mc_panic("out of memory");
    *n = 0;
    for (mc_record *v = mc_store_first(VOLUMES(srv)); v; v = mc_store_next(v)) {
        if (v->priv == NULL || strcmp(VP(v)->server_id, server_id) != 0) continue;
        if (*n == cap) {
            cap *= 2;
            arr = realloc(arr, cap * sizeof *arr);
            if (arr == NULL) mc_panic("out of memory");
        }
        size_t i = (*n)++;
        while (i > 0 && VP(arr[i - 1])->att_seq > VP(v)->att_seq) {
            arr[i] = arr[i - 1];
            i--;
        }
        arr[i] = v;
    }
    return arr;
}

int mc_volume_attach(mc_server *srv, mc_record *vol, const char *server_id, const char *tag, bool dot,
                     mc_vol_attachment *out, char *err, size_t errsz) {
    vol_priv *vp = VP(vol);
    if (vp->server_id[0] != '\0' || !mc_str_eq(vstatus(vol), "available")) {
        snprintf(err, errsz, "Invalid volume: volume %s status must be available or downloading to reserve, but "
                             "the current status is %s.", vol->id, vstatus(vol));
        return 400;
    }
    /* the lowest free /dev/vdX after the root disk /dev/vda */
    size_t n;
    mc_record **mine = server_volumes(srv, server_id, &n);
    char letter = 0;
    for (char c = 'b'; c <= 'z' && letter == 0; c++) {
        bool used = false;
        for (size_t i = 0; i < n && !used; i++) used = VP(mine[i])->device[7] == c;   /* "/dev/vd" + the letter */
        if (!used) letter = c;
    }
    free(mine);
    if (letter == 0) {
        snprintf(err, errsz, "No free disk device names for prefix 'vd'");
        return 400;
    }
    snprintf(vp->device, sizeof vp->device, "/dev/vd%c", letter);
    mc_strlcpy(vp->server_id, server_id, sizeof vp->server_id);
    mc_uuid(srv, vp->att_id);
    mc_uuid(srv, vp->bdm_uuid);
    free(vp->tag);
    vp->tag = NULL;
    if (tag != NULL && (vp->tag = strdup(tag)) == NULL) mc_panic("out of memory");
    vp->dot = dot;
    vp->att_seq = ++vstate(srv)->att_seq;
    vp->attached_at = -1;
    set_status(vol, "attaching");
    schedule(vol, VOP_ATTACH, mc_knob_cur(srv, MC_KNOB_VOLUME_ATTACH_MS));
    attachment_fill(vol, out);
    return 0;
}

const char *mc_volume_server_of(mc_server *srv, const char *volume_id) {
    mc_record *v = mc_volume_find(srv, volume_id, NULL);
    return v != NULL && VP(v)->server_id[0] != '\0' ? VP(v)->server_id : NULL;
}

bool mc_volume_attachment(mc_server *srv, const char *server_id, const char *volume_id, mc_vol_attachment *out) {
    mc_record *v = mc_volume_find(srv, volume_id, NULL);
    if (v == NULL || strcmp(VP(v)->server_id, server_id) != 0) return false;
    attachment_fill(v, out);
    return true;
}

size_t mc_volume_server_attachments(mc_server *srv, const char *server_id, mc_vol_attachment *out, size_t max) {
    size_t n;
    mc_record **mine = server_volumes(srv, server_id, &n);
    for (size_t i = 0; i < n && i < max; i++) attachment_fill(mine[i], &out[i]);
    free(mine);
    return n;
}

int mc_volume_detach(mc_server *srv, const char *server_id, const char *volume_id, char *err, size_t errsz) {
    mc_record *v = mc_volume_find(srv, volume_id, NULL);
    if (v == NULL || strcmp(VP(v)->server_id, server_id) != 0) {
        snprintf(err, errsz, "Volume %s is not attached to the server %s", volume_id, server_id);
        return 404;
    }
    if (!mc_str_eq(vstatus(v), "in-use")) {
        snprintf(err, errsz, "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and "
                             "attach_status must be 'attached' to detach. Currently: status: '%s', attach_status: "
                             "'%s.'", vstatus(v), attach_listed(v) ? "attached" : "attaching");
        return 400;
    }
    set_status(v, "detaching");
    schedule(v, VOP_DETACH, mc_knob_cur(srv, MC_KNOB_VOLUME_DETACH_MS));
    return 0;
}

bool mc_volume_set_delete_on_termination(mc_server *srv, const char *server_id, const char *volume_id, bool dot) {
    mc_record *v = mc_volume_find(srv, volume_id, NULL);
    if (v == NULL || strcmp(VP(v)->server_id, server_id) != 0) return false;
    VP(v)->dot = dot;
    return true;
}

int mc_volume_swap(mc_server *srv, const char *server_id, const char *old_id, mc_record *nv, char *err, size_t errsz) {
    mc_record *ov = mc_volume_find(srv, old_id, NULL);
    if (ov == NULL || strcmp(VP(ov)->server_id, server_id) != 0 || !mc_str_eq(vstatus(ov), "in-use")) {
        snprintf(err, errsz, "Invalid volume: volume %s is not in-use on the server %s.", old_id, server_id);
        return 400;
    }
    vol_priv *o = VP(ov), *n = VP(nv);
    if (n->server_id[0] != '\0' || !mc_str_eq(vstatus(nv), "available")) {
        snprintf(err, errsz, "Invalid volume: volume %s status must be available or downloading to reserve, but "
                             "the current status is %s.", nv->id, vstatus(nv));
        return 400;
    }
    mc_strlcpy(n->server_id, o->server_id, sizeof n->server_id);
    mc_strlcpy(n->device, o->device, sizeof n->device);
    mc_uuid(srv, n->att_id);
    mc_strlcpy(n->bdm_uuid, o->bdm_uuid, sizeof n->bdm_uuid);
    n->tag = o->tag;
    o->tag = NULL;
    n->dot = o->dot;
    n->att_seq = o->att_seq;
    n->attached_at = mc_now();
    attachment_clear(o);
    set_status(ov, "available");
    mc_json_set_str(ov->doc, "attach_status", "detached");
    set_status(nv, "in-use");
    mc_json_set_str(nv->doc, "attach_status", "attached");
    return 0;
}

void mc_volume_server_gone(mc_server *srv, const char *server_id) {
    size_t n;
    mc_record **mine = server_volumes(srv, server_id, &n);
    for (size_t i = 0; i < n; i++) {
        mc_record *v = mine[i];
        vol_priv *vp = VP(v);
        bool dot = vp->dot;
        if (vp->timer != NULL) event_del(vp->timer);
        vp->op = VOP_NONE;
        attachment_clear(vp);
        mc_json_set_str(v->doc, "attach_status", "detached");
        if (dot) {
            set_status(v, "deleting");
            schedule(v, VOP_DELETE, mc_knob_srv(srv, MC_KNOB_VOLUME_DELETE_MS));
        } else {
            set_status(v, "available");
        }
    }
    free(mine);
}

size_t mc_volume_server_disks(mc_server *srv, const char *server_id, mc_vol_disk *out, size_t max) {
    if (server_id == NULL) return 0;
    size_t n;
    mc_record **mine = server_volumes(srv, server_id, &n);
    /* HOOK: the guest names the disks N letters later than Nova says */
    long long shift = mc_knob_srv(srv, MC_KNOB_VOLUME_GUEST_DEVICE_SHIFT);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        mc_record *v = mine[i];
        vol_priv *vp = VP(v);
        if (!attach_listed(v)) continue;   /* the guest sees it once attached */
        if (k < max) {
            char letter = (char)(vp->device[7] + shift);
            if (letter > 'z') letter = 'z';
            snprintf(vp->guest_dev, sizeof vp->guest_dev, "/dev/vd%c", letter);
            out[k].volume_id = v->id;
            out[k].device = vp->guest_dev;
            out[k].size_bytes = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v->doc, "size")) << 30;
        }
        k++;
    }
    free(mine);
    return k;
}

/* ---------------------------------------------------------------- lifecycle */

int volume_seed(mc_server *srv, const char *fixtures_dir, char *err, size_t errsz) {
    (void)fixtures_dir;
    (void)err;
    (void)errsz;
    vstate(srv);
    return 0;
}

void volume_reset(mc_server *srv) {
    /* the records (and their timers) go with the store */
    mc_store_clear(VOLUMES(srv));
    free(srv->svc_state[MC_VOLUME]);
    srv->svc_state[MC_VOLUME] = NULL;
}

/* ---------------------------------------------------------------- routes */

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
#define PUT EVHTTP_REQ_PUT
#define DEL EVHTTP_REQ_DELETE

const mc_route volume_routes[] = {
    {MC_VOLUME, GET, "/", volume_versions, MC_NO_AUTH},
    {MC_VOLUME, GET, "/v3", volume_version_v3, MC_NO_AUTH},
    {MC_VOLUME, GET, "/v3/volumes", volume_list, 0},
    {MC_VOLUME, POST, "/v3/volumes", volume_create, MC_BODY_JSON},
    {MC_VOLUME, GET, "/v3/volumes/detail", volume_detail, 0},
    {MC_VOLUME, GET, "/v3/volumes/summary", volume_summary, 0},
    {MC_VOLUME, GET, "/v3/volumes/{}", volume_show, 0},
    {MC_VOLUME, PUT, "/v3/volumes/{}", volume_update, MC_BODY_JSON},
    {MC_VOLUME, DEL, "/v3/volumes/{}", volume_delete, 0},
    {MC_VOLUME, POST, "/v3/volumes/{}/action", volume_action, MC_BODY_JSON},
    {MC_VOLUME, GET | POST | PUT, "/v3/volumes/{}/metadata", volume_metadata, MC_BODY_OPT},
    {MC_VOLUME, GET | PUT | DEL, "/v3/volumes/{}/metadata/{}", volume_metadata_item, MC_BODY_OPT},
    {MC_VOLUME, GET, "/v3/types", volume_type_list, 0},
    {MC_VOLUME, GET, "/v3/types/{}", volume_type_show, 0},
    {MC_VOLUME, GET, "/v3/types/{}/extra_specs", volume_type_extra_specs, 0},
    {MC_VOLUME, GET, "/v3/limits", volume_limits, 0},
    {MC_VOLUME, GET, "/v3/os-quota-sets/{}", volume_quota_show, 0},
    {MC_VOLUME, GET, "/v3/os-quota-sets/{}/defaults", volume_quota_defaults, 0},
    {MC_VOLUME, GET, "/v3/os-availability-zone", volume_zones, 0},
    {MC_VOLUME, GET, "/v3/extensions", volume_extensions, 0},
};
const size_t volume_nroutes = sizeof volume_routes / sizeof volume_routes[0];
