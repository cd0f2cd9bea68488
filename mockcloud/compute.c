/* compute.c -- Nova v2.1 with microversions: versions, flavors (extra specs,
 * access), keypairs, availability zones, limits, quota sets, and the
 * os-security-groups and /images proxies; the route table and the service
 * hook (microversion negotiation) live here. Servers, their lifecycle and
 * their sub-resources are in compute_servers.c.
 *
 * Every reply is shaped for the negotiated microversion (r->mv_minor): the
 * stored records hold a neutral shape and the views add or drop fields as
 * Nova does at each boundary (2.2 keypair type, 2.36 proxies gone, 2.55
 * flavor description, 2.61 flavor extra_specs, 2.75 integer swap...). */
#include "compute_int.h"
#include "fixtures.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* ---------------------------------------------------------------- shared */

compute_state *cs(mc_server *srv) { return srv->svc_state[MC_COMPUTE]; }

bool mv_ge(const mc_req *r, int minor) { return r->mv_major > 2 || (r->mv_major == 2 && r->mv_minor >= minor); }

bool is_admin(const mc_req *r) { return r->tok != NULL && mc_auth_is_admin(r->tok); }

const char *req_project(const mc_req *r) {
    const char *p = mc_auth_project(r);
    return p ? p : "";
}

const char *req_user(const mc_req *r) { return r->tok ? r->tok->user_id : ""; }

void now_iso(char out[32]) { mc_time_iso(mc_now(), out); }

/* Nova prints the naive UTC datetimes of its database rows with Python's isoformat():
 * no zone and microseconds ("2013-09-23T13:53:12.000000", MySQL keeps whole seconds).
 * That is launched_at/terminated_at, instance actions and events, services, zones and
 * keypairs; clients parse exactly this layout (gophercloud rejects a trailing "Z"). */
void now_naive(char out[32]) {
    time_t s = (time_t)mc_now();
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000000", &tm);
}

/* buf = a b c d (truncated at cap); copies, not snprintf (~1.2k
 * instructions a link, two links a server create) */
static void cat4(char *buf, size_t cap, const char *a, const char *b, const char *c, const char *d) {
    const char *parts[4] = {a, b, c, d};
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        size_t l = strlen(parts[i]);
        if (n + l >= cap) l = cap - 1 - n;
        memcpy(buf + n, parts[i], l);
        n += l;
    }
    buf[n] = '\0';
}

cJSON *nova_links(mc_req *r, const char *coll, const char *id) {
    char buf[600];
    cJSON *a = cJSON_CreateArray();
    cat4(buf, sizeof buf, r->srv->public_url, "/compute/v2.1/", coll, "/");
    size_t n = strlen(buf);
    mc_strlcpy(buf + n, id, sizeof buf - n);
    mc_json_add_link(a, "self", buf);
    cat4(buf, sizeof buf, r->srv->public_url, "/compute/", coll, "/");
    n = strlen(buf);
    mc_strlcpy(buf + n, id, sizeof buf - n);
    mc_json_add_link(a, "bookmark", buf);
    return a;
}

cJSON *bookmark_links(mc_req *r, const char *coll, const char *id) {
    char buf[600];
    cJSON *a = cJSON_CreateArray();
    snprintf(buf, sizeof buf, "%s/compute/%s/%s", r->srv->public_url, coll, id);
    mc_json_add_link(a, "bookmark", buf);
    return a;
}

/* Appends 's' to buf[n] percent-encoded as evhttp_encode_uri does (bytes
 * other than ALPHA, DIGIT and "-._~" as %XX), or as is when 'raw'; stops
 * at 'cap' without splitting an escape. Returns the new length. */
static size_t uri_put(char *buf, size_t n, size_t cap, const char *s, bool raw) {
    static const char hexd[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        bool keep = raw || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~';
        if (n + (keep ? 1 : 3) >= cap) break;
        if (keep) {
            buf[n++] = (char)c;
        } else {
            buf[n++] = '%';
            buf[n++] = hexd[c >> 4];
            buf[n++] = hexd[c & 15];
        }
    }
    buf[n] = '\0';
    return n;
}

/* The "next" link of a page: the request's own query with marker replaced.
 * Built by copies (evhttp_encode_uri's two allocations a parameter and the
 * snprintfs were ~11k instructions a 100-server page). */
void add_collection_next(mc_req *r, cJSON *root, const char *key, const char *coll, const char *last_id) {
    char buf[2048];
    size_t n = uri_put(buf, 0, sizeof buf, r->srv->public_url, true);
    n = uri_put(buf, n, sizeof buf, "/compute/v2.1/", true);
    n = uri_put(buf, n, sizeof buf, coll, true);
    n = uri_put(buf, n, sizeof buf, "?", true);
    for (const mc_kv *kv = r->query; kv < r->query + r->nquery; kv++) {
        if (strcmp(kv->key, "marker") == 0) continue;
        n = uri_put(buf, n, sizeof buf, kv->key, false);
        n = uri_put(buf, n, sizeof buf, "=", true);
        n = uri_put(buf, n, sizeof buf, kv->value, false);
        n = uri_put(buf, n, sizeof buf, "&", true);
    }
    n = uri_put(buf, n, sizeof buf, "marker=", true);
    uri_put(buf, n, sizeof buf, last_id, false);
    cJSON *a = cJSON_AddArrayToObject(root, key);
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "rel", "next");
    cJSON_AddStringToObject(l, "href", buf);
    cJSON_AddItemToArray(a, l);
}

/* limit: non-negative integer, capped at Nova's osapi_max_limit (1000). */
int page_limit_or_reply(mc_req *r, long *limit) {
    const char *v = mc_query(r, "limit");
    if (v == NULL) {
        *limit = -1;
        return 0;
    }
    long l;
    if (!mc_parse_long(v, 0, 1L << 40, &l)) {
        mc_reply_error(r, 400, NULL, "Invalid input for query parameters limit. Value: %.64s. "
                                     "'%.64s' does not match '^[0-9]*$'", v, v);
        return -1;
    }
    *limit = l > 1000 ? 1000 : l;
    return 0;
}

/* Last path segment of a reference that may be an id or a URL. */
const char *ref_id(const char *ref) {
    if (ref == NULL) return NULL;
    const char *s = strrchr(ref, '/');
    return s ? s + 1 : ref;
}

/* Standard base64. */
static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode(const unsigned char *in, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        out[o++] = b64chars[(v >> 18) & 63];
        out[o++] = b64chars[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Decodes standard base64 (whitespace ignored); -1 when malformed. */
long b64_decode(const char *in, unsigned char *out, size_t outsz) {
    unsigned v = 0;
    int bits = 0, pad = 0;
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        if (isspace((unsigned char)*p)) continue;
        if (*p == '=') {
            pad++;
            continue;
        }
        if (pad) return -1;
        const char *c = strchr(b64chars, *p);
        if (c == NULL || *p == '\0') return -1;
        v = (v << 6) | (unsigned)(c - b64chars);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outsz) return -1;
            out[o++] = (unsigned char)((v >> bits) & 0xff);
        }
    }
    if (pad > 2) return -1;
    return (long)o;
}

/* ---------------------------------------------------------------- microversions */

static bool parse_version(const char *s, int *major, int *minor) {
    /* ^([1-9]\d*)\.([1-9]\d*|0)$ */
    const char *p = s;
    long ma = 0, mi = 0;
    if (!isdigit((unsigned char)*p) || *p == '0') return false;
    while (isdigit((unsigned char)*p)) {
        ma = ma * 10 + (*p++ - '0');
        if (ma > 100000) return false;
    }
    if (*p++ != '.') return false;
    if (!isdigit((unsigned char)*p)) return false;
    if (*p == '0' && isdigit((unsigned char)p[1])) return false;
    while (isdigit((unsigned char)*p)) {
        mi = mi * 10 + (*p++ - '0');
        if (mi > 100000) return false;
    }
    if (*p != '\0') return false;
    *major = (int)ma;
    *minor = (int)mi;
    return true;
}

/* Finds "compute X.Y" in an OpenStack-API-Version value (comma-separated
 * "service version" pairs). Copies the version into out. */
static bool find_compute_entry(const char *hdr, char *out, size_t outsz) {
    const char *p = hdr;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        const char *svc = p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',') p++;
        size_t sl = (size_t)(p - svc);
        while (*p == ' ' || *p == '\t') p++;
        const char *ver = p;
        while (*p && *p != ',') p++;
        size_t vl = (size_t)(p - ver);
        while (vl > 0 && (ver[vl - 1] == ' ' || ver[vl - 1] == '\t')) vl--;
        if (sl == 7 && strncasecmp(svc, "compute", 7) == 0) {
            if (vl >= outsz) vl = outsz - 1;
            memcpy(out, ver, vl);
            out[vl] = '\0';
            return true;
        }
    }
    return false;
}

int mc_compute_mv_negotiate(const char *std_hdr, const char *legacy_hdr, int min_minor, int max_minor,
                            int *minor, char *asked, size_t askedsz) {
    char v[64] = "";
    bool have = false;
    if (std_hdr != NULL && find_compute_entry(std_hdr, v, sizeof v)) have = true;
    if (!have && legacy_hdr != NULL) {
        mc_strlcpy(v, legacy_hdr, sizeof v);
        size_t n = strlen(v);
        while (n > 0 && isspace((unsigned char)v[n - 1])) v[--n] = '\0';
        have = true;
    }
    if (asked) mc_strlcpy(asked, v, askedsz);
    if (!have) {
        *minor = min_minor;
        return 0;
    }
    if (strcasecmp(v, "latest") == 0) {
        *minor = max_minor;
        return 0;
    }
    int ma, mi;
    if (!parse_version(v, &ma, &mi)) return -1;
    if (ma != 2 || mi < min_minor || mi > max_minor) return -2;
    *minor = mi;
    return 0;
}

int compute_before(mc_req *r) {
    /* The version documents are not microversioned. */
    if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/v2") == 0) return 0;
    int maxv = (int)mc_knob(r, MC_KNOB_COMPUTE_MAX_MICROVERSION);
    int minv = (int)mc_knob(r, MC_KNOB_COMPUTE_MIN_MICROVERSION);
    if (minv > maxv) minv = maxv;
    int minor = 1;
    char asked[64];
    int rc = mc_compute_mv_negotiate(mc_header(r, "OpenStack-API-Version"), mc_header(r, "X-OpenStack-Nova-API-Version"),
                                     minv, maxv, &minor, asked, sizeof asked);
    if (rc == -1) {
        mc_reply_error(r, 400, NULL, "API Version String %.40s is of invalid format. Must be of format "
                                     "MajorNum.MinorNum.", asked);
        return -1;
    }
    if (rc == -2) {
        mc_reply_error(r, 406, NULL, "Version %.40s is not supported by the API. Minimum is 2.%d and maximum is 2.%d.",
                       asked, minv, maxv);
        return -1;
    }
    r->mv_major = 2;
    r->mv_minor = minor;
    /* Every compute request passes here: no snprintf, and plain adds (no
     * reply header is set before the service hook). */
    char h[32] = "compute 2.";
    size_t n = 10;
    char digits[12];
    size_t dn = 0;
    unsigned v = (unsigned)minor;
    do digits[dn++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (dn > 0) h[n++] = digits[--dn];
    h[n] = '\0';
    mc_header_add(r, "OpenStack-API-Version", h);
    mc_header_add(r, "X-OpenStack-Nova-API-Version", h + 8);
    mc_header_add(r, "Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version");
    return 0;
}

/* ---------------------------------------------------------------- versions */

static cJSON *version_v21(mc_req *r, bool detail) {
    char href[400];
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "id", "v2.1");
    cJSON_AddStringToObject(v, "status", "CURRENT");
    char ver[16];
    snprintf(ver, sizeof ver, "2.%lld", mc_knob(r, MC_KNOB_COMPUTE_MAX_MICROVERSION));
    cJSON_AddStringToObject(v, "version", ver);
    snprintf(ver, sizeof ver, "2.%lld", mc_knob(r, MC_KNOB_COMPUTE_MIN_MICROVERSION));
    cJSON_AddStringToObject(v, "min_version", ver);
    cJSON_AddStringToObject(v, "updated", "2013-07-23T11:33:21Z");
    cJSON *links = cJSON_AddArrayToObject(v, "links");
    snprintf(href, sizeof href, "%s/compute/v2.1/", r->srv->public_url);
    mc_json_add_link(links, "self", href);
    if (detail) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "rel", "describedby");
        cJSON_AddStringToObject(l, "type", "text/html");
        cJSON_AddStringToObject(l, "href", "http://docs.openstack.org/");
        cJSON_AddItemToArray(links, l);
        mc_json_add_media_type(v, "application/vnd.openstack.compute+json;version=2.1");
    }
    return v;
}

static cJSON *version_v20(mc_req *r, bool detail) {
    char href[400];
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "id", "v2.0");
    cJSON_AddStringToObject(v, "status", "SUPPORTED");
    cJSON_AddStringToObject(v, "version", "");
    cJSON_AddStringToObject(v, "min_version", "");
    cJSON_AddStringToObject(v, "updated", "2011-01-21T11:33:21Z");
    snprintf(href, sizeof href, "%s/compute/v2/", r->srv->public_url);
    mc_json_add_link(cJSON_AddArrayToObject(v, "links"), "self", href);
    if (detail) mc_json_add_media_type(v, "application/vnd.openstack.compute+json;version=2");
    return v;
}

static void compute_versions(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "versions");
    cJSON_AddItemToArray(a, version_v20(r, false));
    cJSON_AddItemToArray(a, version_v21(r, false));
    mc_reply_json(r, 200, root);
}

static void compute_version_v21(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "version", version_v21(r, true));
    mc_reply_json(r, 200, root);
}

static void compute_version_v20(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "version", version_v20(r, true));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- flavors */

/* What the list filter reads of every flavor, kept beside the doc (is_public
 * never changes after create; a lookup in the doc was 300 instructions). */
typedef struct flavor_priv {
    bool is_public;
} flavor_priv;

static mc_record *flavor_add(mc_server *srv, const char *id, cJSON *doc) {
    mc_record *f = mc_store_add(&srv->world[MC_K_FLAVOR], id, "", doc);
    if (f == NULL) return NULL;
    flavor_priv *fp = calloc(1, sizeof *fp);
    if (fp == NULL) mc_panic("out of memory");
    fp->is_public = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "is_public"));
    f->priv = fp;
    f->priv_free = free;
    return f;
}

static bool flavor_public(const mc_record *f) {
    const flavor_priv *fp = f->priv;
    return fp != NULL ? fp->is_public : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->doc, "is_public"));
}

mc_record *flavor_find(mc_req *r, const char *id) {
    mc_record *f = mc_store_find(&r->srv->world[MC_K_FLAVOR], id);
    if (f == NULL) return NULL;
    if (is_admin(r) || flavor_public(f)) return f;
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(f->doc, "access"))
        if (cJSON_IsString(x) && strcmp(x->valuestring, req_project(r)) == 0) return f;
    return NULL;
}

static int jint(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

static cJSON *flavor_view(mc_req *r, mc_record *f, bool detail) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", f->id);
    cJSON_AddStringToObject(o, "name", mc_json_str(f->doc, "name"));
    if (mv_ge(r, 55)) {
        const char *d = mc_json_str(f->doc, "description");
        mc_json_set_str(o, "description", d);
    }
    if (detail) {
        cJSON_AddNumberToObject(o, "ram", jint(f->doc, "ram"));
        cJSON_AddNumberToObject(o, "disk", jint(f->doc, "disk"));
        int swap = jint(f->doc, "swap");
        if (swap == 0 && !mv_ge(r, 75))
            cJSON_AddStringToObject(o, "swap", "");
        else
            cJSON_AddNumberToObject(o, "swap", swap);
        cJSON_AddNumberToObject(o, "OS-FLV-EXT-DATA:ephemeral", jint(f->doc, "ephemeral"));
        cJSON_AddBoolToObject(o, "OS-FLV-DISABLED:disabled", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->doc, "disabled")));
        cJSON_AddNumberToObject(o, "vcpus", jint(f->doc, "vcpus"));
        cJSON_AddBoolToObject(o, "os-flavor-access:is_public", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->doc, "is_public")));
        const cJSON *rx = cJSON_GetObjectItemCaseSensitive(f->doc, "rxtx_factor");
        cJSON_AddNumberToObject(o, "rxtx_factor", cJSON_IsNumber(rx) ? rx->valuedouble : 1.0);
        if (mv_ge(r, 61)) cJSON_AddItemToObject(o, "extra_specs", cJSON_Duplicate(mc_json_obj(f->doc, "extra_specs"), 1));
    }
    cJSON_AddItemToObject(o, "links", nova_links(r, "flavors", f->id));
    return o;
}

/* A flavor's printed view (store.h mc_record_view): a list or show splices
 * the text printed the last time instead of building, printing and freeing
 * ~25 nodes a flavor (~28k instructions). The view reads the record, the
 * public URL (fixed for the server's life) and the microversion at the three
 * boundaries it tests, and no knob, so the key is the detail flag and those
 * three bits; every change to a flavor touches the record. Off while a body
 * rewrite or time rule could reach into the tree (the bytes are the same:
 * tests/http/test_compute.c flavor_view_cache_*). */
static uint64_t flavor_view_key(const mc_req *r, bool detail) {
    return 1u | (detail ? 2u : 0u) | (mv_ge(r, 55) ? 4u : 0u) | (mv_ge(r, 61) ? 8u : 0u) | (mv_ge(r, 75) ? 16u : 0u);
}

static const char *flavor_view_text(mc_req *r, mc_record *f, bool detail) {
    uint64_t key = flavor_view_key(r, detail);
    const char *text = mc_record_view(f, key);
    if (text == NULL) {
        cJSON *v = flavor_view(r, f, detail);
        char *printed = mc_json_print(v);
        cJSON_Delete(v);
        if (printed == NULL) mc_panic("out of memory");
        text = mc_record_view_set(f, key, printed);
    }
    return text;
}

static cJSON *flavor_view_cached(mc_req *r, mc_record *f, bool detail, bool cache) {
    if (!cache) return flavor_view(r, f, detail);
    return mc_json_raw_ref(flavor_view_text(r, f, detail));   /* nothing touches a flavor before the reply */
}

typedef struct flavor_filter {
    mc_req *r;
    int is_public;   /* 1 public only (+ access), 0 private only, -1 both */
    long min_ram, min_disk;
} flavor_filter;

static bool flavor_match(const mc_record *f, void *arg) {
    flavor_filter *ff = arg;
    bool pub = flavor_public(f);
    if (ff->is_public == 1 && !pub) {
        /* non-admins also see private flavors they were given access to */
        if (is_admin(ff->r)) return false;
        bool ok = false;
        cJSON *x;
        cJSON_ArrayForEach(x, mc_json_arr(f->doc, "access"))
            ok |= cJSON_IsString(x) && strcmp(x->valuestring, req_project(ff->r)) == 0;
        if (!ok) return false;
    }
    if (ff->is_public == 0 && pub) return false;
    /* ram and disk are >= 0 (create and the fixture loader check): no filter asked, no lookup */
    if (ff->min_ram > 0 && jint(f->doc, "ram") < ff->min_ram) return false;
    if (ff->min_disk > 0 && jint(f->doc, "disk") < ff->min_disk) return false;
    return true;
}

/* oslo's bool_from_string: t/true/on/y/yes/1 and f/false/off/n/no/0. */
static bool loose_bool(const char *s, bool *out) {
    static const char *const yes[] = {"t", "true", "on", "y", "yes", "1", NULL};
    static const char *const no[] = {"f", "false", "off", "n", "no", "0", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0) return (*out = true);
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0) return !(*out = false);
    return false;
}

static void flavor_list_common(mc_req *r, bool detail) {
    flavor_filter ff = {r, 1, 0, 0};
    const char *ip = mc_query(r, "is_public");
    if (ip != NULL) {
        bool b;
        if (strcasecmp(ip, "none") == 0)
            ff.is_public = is_admin(r) ? -1 : 1;
        else if (loose_bool(ip, &b))
            ff.is_public = b ? 1 : (is_admin(r) ? 0 : 1);
        else {
            mc_reply_error(r, 400, NULL, "Invalid is_public filter [%.64s]", ip);
            return;
        }
    }
    const char *v = mc_query(r, "minRam");
    if (v != NULL && !mc_parse_long(v, 0, 1L << 40, &ff.min_ram)) {
        mc_reply_error(r, 400, NULL, "Invalid input for query parameters minRam. Value: %.64s.", v);
        return;
    }
    v = mc_query(r, "minDisk");
    if (v != NULL && !mc_parse_long(v, 0, 1L << 40, &ff.min_disk)) {
        mc_reply_error(r, 400, NULL, "Invalid input for query parameters minDisk. Value: %.64s.", v);
        return;
    }
    long limit;
    if (page_limit_or_reply(r, &limit) != 0) return;
    size_t cap = limit >= 0 ? (size_t)limit + 1 : r->srv->world[MC_K_FLAVOR].count + 1;
    mc_record **out = calloc(cap, sizeof *out);
    bool more;
    const char *marker = mc_query(r, "marker");
    long n = mc_store_page(&r->srv->world[MC_K_FLAVOR], marker, limit, false, flavor_match, &ff, out, cap, &more);
    if (n < 0) {
        free(out);
        mc_reply_error(r, 400, NULL, "marker [%.64s] not found", marker);
        return;
    }
    bool cache = !mc_profile_rewrites_bodies(r->srv);
    if (cache && !(limit > 0 && n == limit)) {
        /* No next link: the reply is the views joined, as cJSON prints
         * {"flavors":[...]} (no tree, no second copy of each view). */
        size_t len = sizeof "{\"flavors\":[]}";
        for (long i = 0; i < n; i++) len += strlen(flavor_view_text(r, out[i], detail)) + 1;
        char *text = cJSON_malloc(len);
        if (text == NULL) mc_panic("out of memory");
        memcpy(text, "{\"flavors\":[", 12);
        size_t o = 12;
        for (long i = 0; i < n; i++) {   /* the second call finds the text the first cached */
            const char *view = flavor_view_text(r, out[i], detail);
            size_t vl = strlen(view);
            if (i > 0) text[o++] = ',';
            memcpy(text + o, view, vl);
            o += vl;
        }
        memcpy(text + o, "]}", 3);
        free(out);
        mc_reply_json(r, 200, mc_json_raw_take(text));
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "flavors");
    for (long i = 0; i < n; i++) cJSON_AddItemToArray(a, flavor_view_cached(r, out[i], detail, cache));
    if (limit > 0 && n == limit) add_collection_next(r, root, "flavors_links", detail ? "flavors/detail" : "flavors", out[n - 1]->id);
    free(out);
    mc_reply_json(r, 200, root);
}

static void compute_flavor_list(mc_req *r) { flavor_list_common(r, false); }
static void compute_flavor_detail(mc_req *r) { flavor_list_common(r, true); }

static mc_record *flavor_or_reply(mc_req *r, const char *id) {
    mc_record *f = flavor_find(r, id);
    if (f == NULL) mc_reply_error(r, 404, NULL, "Flavor %.100s could not be found.", id);
    return f;
}

static void compute_flavor_show(mc_req *r) {
    mc_record *f = flavor_or_reply(r, r->params[0]);
    if (f == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "flavor", flavor_view_cached(r, f, true, !mc_profile_rewrites_bodies(r->srv)));
    mc_reply_json(r, 200, root);
}

static bool json_int_in(const cJSON *v, long min, long max, long *out) {
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble != (double)(long)v->valuedouble) return false;
        *out = (long)v->valuedouble;
    } else if (cJSON_IsString(v)) {
        if (!mc_parse_long(v->valuestring, min, max, out)) return false;
    } else {
        return false;
    }
    return *out >= min && *out <= max;
}

static void compute_flavor_create(mc_req *r) {
    cJSON *in = mc_json_obj(r->body, "flavor");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute flavor. Value: None. 'flavor' is a required property");
        return;
    }
    if (mc_check_or_reply(r, in, "name=s|ram=k|vcpus=k|disk=k|swap=v|OS-FLV-EXT-DATA:ephemeral=k|rxtx_factor=v|"
                                 "os-flavor-access:is_public=b|description=S") != 0)
        return;
    const char *name = mc_json_str(in, "name");
    if (name == NULL || name[0] == '\0' || strlen(name) > 255 || isspace((unsigned char)name[0]) ||
        isspace((unsigned char)name[strlen(name) - 1])) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute name. Value: %.64s.", name ? name : "None");
        return;
    }
    long ram, vcpus, disk, eph = 0, swap = 0;
    if (!json_int_in(cJSON_GetObjectItemCaseSensitive(in, "ram"), 1, 2147483647, &ram)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute ram.");
        return;
    }
    if (!json_int_in(cJSON_GetObjectItemCaseSensitive(in, "vcpus"), 1, 2147483647, &vcpus)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute vcpus.");
        return;
    }
    if (!json_int_in(cJSON_GetObjectItemCaseSensitive(in, "disk"), 0, 2147483647, &disk)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute disk.");
        return;
    }
    cJSON *e = cJSON_GetObjectItemCaseSensitive(in, "OS-FLV-EXT-DATA:ephemeral");
    if (e != NULL && !json_int_in(e, 0, 2147483647, &eph)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute OS-FLV-EXT-DATA:ephemeral.");
        return;
    }
    e = cJSON_GetObjectItemCaseSensitive(in, "swap");
    if (e != NULL && !(cJSON_IsString(e) && e->valuestring[0] == '\0') && !json_int_in(e, 0, 2147483647, &swap)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute swap.");
        return;
    }
    double rxtx = 1.0;
    e = cJSON_GetObjectItemCaseSensitive(in, "rxtx_factor");
    if (e != NULL) {
        if (!cJSON_IsNumber(e) || e->valuedouble <= 0) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute rxtx_factor.");
            return;
        }
        rxtx = e->valuedouble;
    }
    bool pub = true;
    e = cJSON_GetObjectItemCaseSensitive(in, "os-flavor-access:is_public");
    if (e != NULL) {
        bool b;
        if (cJSON_IsBool(e))
            pub = cJSON_IsTrue(e);
        else if (cJSON_IsString(e) && mc_str_bool(e->valuestring, &b))   /* Nova's boolean: "True", "0"... */
            pub = b;
        else {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute os-flavor-access:is_public.");
            return;
        }
    }
    char idbuf[64];
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(in, "id");
    if (idv == NULL || cJSON_IsNull(idv) || (cJSON_IsString(idv) && strcasecmp(idv->valuestring, "auto") == 0)) {
        char u[37];
        mc_uuid(r->srv, u);
        mc_strlcpy(idbuf, u, sizeof idbuf);
    } else if (cJSON_IsString(idv) && idv->valuestring[0] != '\0' && strlen(idv->valuestring) <= 255) {
        mc_strlcpy(idbuf, idv->valuestring, sizeof idbuf);
    } else if (cJSON_IsNumber(idv) && idv->valuedouble == (double)(long long)idv->valuedouble) {
        snprintf(idbuf, sizeof idbuf, "%lld", (long long)idv->valuedouble);
    } else {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute id.");
        return;
    }
    for (mc_record *f = mc_store_first(&r->srv->world[MC_K_FLAVOR]); f; f = mc_store_next(f))
        if (mc_str_eq(mc_json_str(f->doc, "name"), name)) {
            mc_reply_error(r, 409, NULL, "Flavor with name %.255s already exists.", name);
            return;
        }
    if (mc_store_find(&r->srv->world[MC_K_FLAVOR], idbuf) != NULL) {
        mc_reply_error(r, 409, NULL, "Flavor with ID %.64s already exists.", idbuf);
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddNumberToObject(doc, "ram", (double)ram);
    cJSON_AddNumberToObject(doc, "vcpus", (double)vcpus);
    cJSON_AddNumberToObject(doc, "disk", (double)disk);
    cJSON_AddNumberToObject(doc, "ephemeral", (double)eph);
    cJSON_AddNumberToObject(doc, "swap", (double)swap);
    cJSON_AddNumberToObject(doc, "rxtx_factor", rxtx);
    cJSON_AddBoolToObject(doc, "is_public", pub);
    cJSON_AddBoolToObject(doc, "disabled", false);
    const char *desc = mv_ge(r, 55) ? mc_json_str(in, "description") : NULL;
    mc_json_set_str(doc, "description", desc);
    cJSON_AddObjectToObject(doc, "extra_specs");
    cJSON_AddArrayToObject(doc, "access");
    mc_record *f = flavor_add(r->srv, idbuf, doc);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "flavor", flavor_view(r, f, true));
    mc_reply_json(r, 200, root);
}

static void compute_flavor_update(mc_req *r) {
    if (!mv_ge(r, 55)) {
        mc_reply_error(r, 404, NULL, "The resource could not be found.");
        return;
    }
    mc_record *f = flavor_or_reply(r, r->params[0]);
    if (f == NULL) return;
    cJSON *in = mc_json_obj(r->body, "flavor");
    cJSON *d = in ? cJSON_GetObjectItemCaseSensitive(in, "description") : NULL;
    if (d == NULL || !(cJSON_IsString(d) || cJSON_IsNull(d)) || cJSON_GetArraySize(in) != 1) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute flavor: only 'description' may be updated.");
        return;
    }
    mc_json_set_str(f->doc, "description", cJSON_IsString(d) ? d->valuestring : NULL);
    mc_record_touch(f);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "flavor", flavor_view(r, f, true));
    mc_reply_json(r, 200, root);
}

static void compute_flavor_delete(mc_req *r) {
    mc_record *f = mc_store_find(&r->srv->world[MC_K_FLAVOR], r->params[0]);
    if (f == NULL) {
        mc_reply_error(r, 404, NULL, "Flavor %.100s could not be found.", r->params[0]);
        return;
    }
    mc_store_delete(&r->srv->world[MC_K_FLAVOR], f);
    mc_reply_json(r, 202, NULL);
}

static void compute_flavor_extra_specs(mc_req *r) {
    mc_record *f = flavor_or_reply(r, r->params[0]);
    if (f == NULL) return;
    cJSON *specs = mc_json_obj(f->doc, "extra_specs");
    if (r->method == EVHTTP_REQ_GET) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "extra_specs", cJSON_Duplicate(specs, 1));
        mc_reply_json(r, 200, root);
        return;
    }
    if (!is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-flavor-extra-specs:create to be performed.");
        return;
    }
    cJSON *in = mc_json_obj(r->body, "extra_specs");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute extra_specs. 'extra_specs' is a required property");
        return;
    }
    cJSON *x;
    cJSON_ArrayForEach(x, in) {
        if (!(cJSON_IsString(x) || cJSON_IsNumber(x) || cJSON_IsBool(x)) || strlen(x->string) == 0 || strlen(x->string) > 255) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute extra_specs.");
            return;
        }
    }
    cJSON_ArrayForEach(x, in) {
        char buf[64];
        const char *val = x->valuestring;
        if (cJSON_IsNumber(x)) {
            snprintf(buf, sizeof buf, "%g", x->valuedouble);
            val = buf;
        } else if (cJSON_IsBool(x)) {
            val = cJSON_IsTrue(x) ? "True" : "False";
        }
        mc_json_set_str(specs, x->string, val);
    }
    mc_record_touch(f);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "extra_specs", cJSON_Duplicate(in, 1));
    mc_reply_json(r, 200, root);
}

static void compute_flavor_extra_spec(mc_req *r) {
    mc_record *f = flavor_or_reply(r, r->params[0]);
    if (f == NULL) return;
    cJSON *specs = mc_json_obj(f->doc, "extra_specs");
    const char *key = r->params[1];
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(specs, key);
    if (r->method == EVHTTP_REQ_GET) {
        if (cur == NULL) {
            mc_reply_error(r, 404, NULL, "Flavor %.64s has no extra specs with key %.255s.", f->id, key);
            return;
        }
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, key, cJSON_Duplicate(cur, 1));
        mc_reply_json(r, 200, root);
        return;
    }
    if (!is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-flavor-extra-specs to be performed.");
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        if (cur == NULL) {
            mc_reply_error(r, 404, NULL, "Flavor %.64s has no extra specs with key %.255s.", f->id, key);
            return;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(specs, key);
        mc_record_touch(f);
        mc_reply_json(r, 200, NULL);
        return;
    }
    if (r->body == NULL || cJSON_GetArraySize(r->body) != 1) {
        mc_reply_error(r, 400, NULL, "Request body contains too many items");
        return;
    }
    cJSON *v = cJSON_GetObjectItemCaseSensitive(r->body, key);
    if (v == NULL) {
        mc_reply_error(r, 400, NULL, "Request body and URI mismatch");
        return;
    }
    if (!cJSON_IsString(v)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %.255s.", key);
        return;
    }
    mc_json_set_str(specs, key, v->valuestring);
    mc_record_touch(f);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, key, v->valuestring);
    mc_reply_json(r, 200, root);
}

static cJSON *flavor_access_list(mc_record *f) {
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "flavor_access");
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(f->doc, "access")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "flavor_id", f->id);
        cJSON_AddStringToObject(o, "tenant_id", x->valuestring);
        cJSON_AddItemToArray(a, o);
    }
    return root;
}

static void compute_flavor_access(mc_req *r) {
    mc_record *f = flavor_or_reply(r, r->params[0]);
    if (f == NULL) return;
    if (flavor_public(f)) {
        mc_reply_error(r, 404, NULL, "Access list not available for public flavors.");
        return;
    }
    mc_reply_json(r, 200, flavor_access_list(f));
}

static void compute_flavor_action(mc_req *r) {
    mc_record *f = flavor_or_reply(r, r->params[0]);
    if (f == NULL) return;
    cJSON *add = mc_json_obj(r->body, "addTenantAccess");
    cJSON *rem = mc_json_obj(r->body, "removeTenantAccess");
    if (mc_check_or_reply(r, add, "!tenant=s255") != 0 || mc_check_or_reply(r, rem, "!tenant=s255") != 0) return;
    const char *tenant = mc_json_str(add ? add : rem, "tenant");
    if ((add == NULL && rem == NULL) || tenant == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input: addTenantAccess or removeTenantAccess with 'tenant' is required.");
        return;
    }
    if (flavor_public(f)) {
        mc_reply_error(r, 409, NULL, "Can not add access to a public flavor.");
        return;
    }
    cJSON *acc = mc_json_arr(f->doc, "access");
    int idx = -1, i = 0;
    cJSON *x;
    cJSON_ArrayForEach(x, acc) {
        if (strcmp(x->valuestring, tenant) == 0) idx = i;
        i++;
    }
    if (add != NULL) {
        if (idx >= 0) {
            mc_reply_error(r, 409, NULL, "Flavor access already exists for flavor %.64s and project %.64s combination.",
                           f->id, tenant);
            return;
        }
        cJSON_AddItemToArray(acc, cJSON_CreateString(tenant));
    } else {
        if (idx < 0) {
            mc_reply_error(r, 404, NULL, "Flavor access not found for %.64s / %.64s combination.", f->id, tenant);
            return;
        }
        cJSON_DeleteItemFromArray(acc, idx);
    }
    mc_record_touch(f);
    mc_reply_json(r, 200, flavor_access_list(f));
}

/* ---------------------------------------------------------------- keypairs */

static void md5_fingerprint(const unsigned char *blob, size_t n, char *out, size_t outsz) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(blob, n, md, &mdlen, EVP_md5(), NULL);
    size_t o = 0;
    for (unsigned i = 0; i < mdlen && o + 3 < outsz; i++) o += (size_t)snprintf(out + o, outsz - o, "%s%02x", i ? ":" : "", md[i]);
}

static void sha1_fingerprint(const unsigned char *blob, size_t n, char *out, size_t outsz) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(blob, n, md, &mdlen, EVP_sha1(), NULL);
    size_t o = 0;
    for (unsigned i = 0; i < mdlen && o + 3 < outsz; i++) o += (size_t)snprintf(out + o, outsz - o, "%s%02x", i ? ":" : "", md[i]);
}

/* Validates an OpenSSH public key line "type base64 [comment]" and computes
 * Nova's MD5 fingerprint. */
static bool ssh_key_fingerprint(const char *key, char *fp, size_t fpsz) {
    const char *sp = strchr(key, ' ');
    if (sp == NULL) return false;
    size_t tl = (size_t)(sp - key);
    if (tl == 0 || tl > 64) return false;
    const char *b = sp + 1;
    while (*b == ' ') b++;
    const char *be = b;
    while (*be && *be != ' ' && *be != '\n' && *be != '\r') be++;
    size_t bl = (size_t)(be - b);
    if (bl < 16 || bl > 16384) return false;
    char *enc = strndup(b, bl);
    unsigned char *blob = malloc(bl);
    long n = b64_decode(enc, blob, bl);
    free(enc);
    bool ok = false;
    if (n > 4) {
        /* the blob starts with the key type as an SSH string */
        unsigned long l = ((unsigned long)blob[0] << 24) | ((unsigned long)blob[1] << 16) | ((unsigned long)blob[2] << 8) | blob[3];
        if (l == tl && (long)(4 + l) <= n && memcmp(blob + 4, key, tl) == 0) {
            md5_fingerprint(blob, (size_t)n, fp, fpsz);
            ok = true;
        }
    }
    free(blob);
    return ok;
}

static bool x509_fingerprint(const char *pem, char *fp, size_t fpsz) {
    const char *b = strstr(pem, "-----BEGIN CERTIFICATE-----");
    const char *e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
    if (b == NULL || e == NULL) return false;
    b += strlen("-----BEGIN CERTIFICATE-----");
    char *enc = strndup(b, (size_t)(e - b));
    size_t cap = strlen(enc) + 1;
    unsigned char *der = malloc(cap);
    long n = b64_decode(enc, der, cap);
    free(enc);
    if (n > 0) sha1_fingerprint(der, (size_t)n, fp, fpsz);
    free(der);
    return n > 0;
}

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static size_t put_str(unsigned char *p, const void *s, size_t n) {
    put_u32(p, (uint32_t)n);
    memcpy(p + 4, s, n);
    return 4 + n;
}

/* Generates an ed25519 key pair: the public key line and the private key in
 * OpenSSH's "openssh-key-v1" format. Returns false when the crypto library
 * fails. */
static bool ssh_keygen(mc_server *srv, const char *comment, char **pub_out, char **priv_out) {
    unsigned char pk[32], sk[32];
    size_t pkl = sizeof pk, skl = sizeof sk;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    bool ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1 &&
              EVP_PKEY_get_raw_public_key(key, pk, &pkl) == 1 && EVP_PKEY_get_raw_private_key(key, sk, &skl) == 1;
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
    if (!ok) return false;
    unsigned char pubblob[64];
    size_t pbl = put_str(pubblob, "ssh-ed25519", 11);
    pbl += put_str(pubblob + pbl, pk, 32);
    char pb64[128];
    b64_encode(pubblob, pbl, pb64);
    size_t publen = strlen(pb64) + strlen(comment) + 32;
    *pub_out = malloc(publen);
    snprintf(*pub_out, publen, "ssh-ed25519 %s %s", pb64, comment);

    unsigned char buf[1024];
    size_t n = 0;
    memcpy(buf, "openssh-key-v1", 15);
    n = 15;
    n += put_str(buf + n, "none", 4);
    n += put_str(buf + n, "none", 4);
    n += put_str(buf + n, "", 0);
    put_u32(buf + n, 1);
    n += 4;
    n += put_str(buf + n, pubblob, pbl);
    unsigned char sec[512];
    size_t sl = 0;
    unsigned char check[4];
    mc_rand_bytes(srv, check, 4);
    memcpy(sec, check, 4);
    memcpy(sec + 4, check, 4);
    sl = 8;
    sl += put_str(sec + sl, "ssh-ed25519", 11);
    sl += put_str(sec + sl, pk, 32);
    unsigned char skpk[64];
    memcpy(skpk, sk, 32);
    memcpy(skpk + 32, pk, 32);
    sl += put_str(sec + sl, skpk, 64);
    sl += put_str(sec + sl, comment, strlen(comment) > 200 ? 200 : strlen(comment));
    for (unsigned char pad = 1; sl % 8 != 0; pad++) sec[sl++] = pad;
    n += put_str(buf + n, sec, sl);
    char b64[1500];
    b64_encode(buf, n, b64);
    size_t b64l = strlen(b64);
    size_t cap = b64l + b64l / 70 + 128;
    char *priv = malloc(cap);
    size_t o = (size_t)snprintf(priv, cap, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for (size_t i = 0; i < b64l; i += 70) {
        size_t k = b64l - i < 70 ? b64l - i : 70;
        memcpy(priv + o, b64 + i, k);
        o += k;
        priv[o++] = '\n';
    }
    snprintf(priv + o, cap - o, "-----END OPENSSH PRIVATE KEY-----\n");
    *priv_out = priv;
    OPENSSL_cleanse(sk, sizeof sk);
    OPENSSL_cleanse(skpk, sizeof skpk);
    return true;
}

/* Generates a self-signed certificate and its key, as Nova does for x509
 * key pairs (an EC P-256 key here: fast, and clients only store it). */
static bool x509_keygen(mc_server *srv, const char *cn, char **cert_out, char **key_out) {
    bool ok = false;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIO *b1 = BIO_new(BIO_s_mem()), *b2 = BIO_new(BIO_s_mem());
    if (key == NULL || x == NULL || b1 == NULL || b2 == NULL) goto out;
    X509_set_version(x, 2);
    unsigned char serial[8];
    mc_rand_bytes(srv, serial, sizeof serial);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), ((uint64_t)serial[0] << 24 | (uint64_t)serial[1] << 16 |
                                                       (uint64_t)serial[2] << 8 | serial[3]) + 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 60L * 60 * 24 * 365 * 10);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, key, EVP_sha256()) <= 0) goto out;
    if (PEM_write_bio_X509(b1, x) != 1 || PEM_write_bio_PrivateKey(b2, key, NULL, NULL, 0, NULL, NULL) != 1) goto out;
    char *p;
    long n = BIO_get_mem_data(b1, &p);
    *cert_out = strndup(p, (size_t)n);
    n = BIO_get_mem_data(b2, &p);
    *key_out = strndup(p, (size_t)n);
    ok = true;
out:
    BIO_free(b1);
    BIO_free(b2);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

static void keypair_key(const char *user, const char *name, char *out, size_t outsz) {
    snprintf(out, outsz, "%s/%s", user, name);
}

mc_record *keypair_find(mc_server *srv, const char *user, const char *name) {
    char key[400];
    keypair_key(user, name, key, sizeof key);
    return mc_store_find(&srv->world[MC_K_KEYPAIR], key);
}

static const char *keypair_user(mc_req *r) {
    /* 2.10: admins may act for another user with ?user_id= */
    const char *u = mc_query(r, "user_id");
    if (u != NULL && mv_ge(r, 10) && is_admin(r)) return u;
    return req_user(r);
}

static cJSON *keypair_view(mc_req *r, mc_record *k, int mode) {
    /* mode 0: list item, 1: show, 2: create */
    cJSON *o = cJSON_CreateObject();
    const cJSON *d = k->doc;
    if (mode == 1) {
        cJSON_AddNumberToObject(o, "id", cJSON_GetObjectItemCaseSensitive(d, "num")->valuedouble);
        cJSON_AddStringToObject(o, "created_at", mc_json_str(d, "created_at"));
        cJSON_AddBoolToObject(o, "deleted", false);
        cJSON_AddNullToObject(o, "deleted_at");
        cJSON_AddNullToObject(o, "updated_at");
    }
    cJSON_AddStringToObject(o, "name", mc_json_str(d, "name"));
    cJSON_AddStringToObject(o, "public_key", mc_json_str(d, "public_key"));
    cJSON_AddStringToObject(o, "fingerprint", mc_json_str(d, "fingerprint"));
    if (mode != 0) cJSON_AddStringToObject(o, "user_id", mc_json_str(d, "user_id"));
    if (mv_ge(r, 2)) cJSON_AddStringToObject(o, "type", mc_json_str(d, "type"));
    return o;
}

/* Before 2.92 Nova allows letters, digits, '_', '-' and ' ' only. */
static bool keypair_name_ok(mc_req *r, const char *n) {
    size_t l = strlen(n);
    if (l == 0 || l > 255) return false;
    for (const char *p = n; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f) return false;
        if (!(isalnum(c) || c == '_' || c == '-' || c == ' ' || (mv_ge(r, 92) && (c == '@' || c == '.')))) return false;
    }
    return !isspace((unsigned char)n[0]) && !isspace((unsigned char)n[l - 1]);
}

static void compute_keypair_create(mc_req *r) {
    cJSON *in = mc_json_obj(r->body, "keypair");
    if (mc_check_or_reply(r, in, "name=s|public_key=s|type=s|user_id=s") != 0) return;
    const char *name = in ? mc_json_str(in, "name") : NULL;
    if (in == NULL || name == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute keypair. 'name' is a required property");
        return;
    }
    if (!keypair_name_ok(r, name)) {
        mc_reply_error(r, 400, NULL, "Keypair data is invalid: Keypair name contains unsafe characters");
        return;
    }
    const char *type = "ssh";
    if (mv_ge(r, 2) && mc_json_has(in, "type")) {
        type = mc_json_str(in, "type");
        if (type == NULL || (strcmp(type, "ssh") != 0 && strcmp(type, "x509") != 0)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute type. Value: %.32s. is not one of ['ssh', 'x509']",
                           type ? type : "None");
            return;
        }
    }
    const char *user = req_user(r);
    if (mv_ge(r, 10) && mc_json_str(in, "user_id") != NULL) {
        if (!is_admin(r)) {
            mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-keypairs:create to be performed.");
            return;
        }
        user = mc_json_str(in, "user_id");
    }
    if (keypair_find(r->srv, user, name) != NULL) {
        mc_reply_error(r, 409, NULL, "Key pair '%.255s' already exists.", name);
        return;
    }
    size_t count = 0;
    for (mc_record *k = mc_store_first(&r->srv->world[MC_K_KEYPAIR]); k; k = mc_store_next(k))
        if (mc_str_eq(mc_json_str(k->doc, "user_id"), user)) count++;
    if ((long)count >= quota_limit(r->srv, req_project(r), "key_pairs")) {
        mc_reply_error(r, 403, NULL, "Quota exceeded, too many key pairs.");
        return;
    }
    const char *pub = mc_json_str(in, "public_key");
    char fp[128] = "";
    char *gen_pub = NULL, *gen_priv = NULL;
    if (pub != NULL) {
        bool ok = strcmp(type, "x509") == 0 ? x509_fingerprint(pub, fp, sizeof fp) : ssh_key_fingerprint(pub, fp, sizeof fp);
        if (!ok) {
            mc_reply_error(r, 400, NULL, "Keypair data is invalid: failed to generate fingerprint");
            return;
        }
    } else {
        if (mv_ge(r, 92)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute keypair. 'public_key' is a required property");
            return;
        }
        bool x509 = strcmp(type, "x509") == 0;
        if (!(x509 ? x509_keygen(r->srv, req_user(r), &gen_pub, &gen_priv)
                   : ssh_keygen(r->srv, "Generated-by-Nova", &gen_pub, &gen_priv))) {
            mc_reply_error(r, 500, NULL, "Key generation failed.");
            return;
        }
        pub = gen_pub;
        if (x509)
            x509_fingerprint(pub, fp, sizeof fp);
        else
            ssh_key_fingerprint(pub, fp, sizeof fp);
    }
    char key[400], ts[32];
    keypair_key(user, name, key, sizeof key);
    now_naive(ts);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddStringToObject(doc, "public_key", pub);
    cJSON_AddStringToObject(doc, "fingerprint", fp);
    cJSON_AddStringToObject(doc, "user_id", user);
    cJSON_AddStringToObject(doc, "type", type);
    cJSON_AddStringToObject(doc, "created_at", ts);
    cJSON_AddNumberToObject(doc, "num", (double)++cs(r->srv)->keypair_seq);
    mc_record *k = mc_store_add(&r->srv->world[MC_K_KEYPAIR], key, req_project(r), doc);
    if (k == NULL) {
        cJSON_Delete(doc);
        free(gen_pub);
        free(gen_priv);
        mc_reply_error(r, 400, NULL, "Keypair data is invalid: name too long");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *o = keypair_view(r, k, 2);
    if (gen_priv != NULL) cJSON_AddStringToObject(o, "private_key", gen_priv);
    cJSON_AddItemToObject(root, "keypair", o);
    free(gen_pub);
    free(gen_priv);
    mc_reply_json(r, mv_ge(r, 2) ? 201 : 200, root);
}

static bool keypair_of_user(const mc_record *k, void *arg) { return mc_str_eq(mc_json_str(k->doc, "user_id"), arg); }

static void compute_keypair_list(mc_req *r) {
    const char *user = keypair_user(r);
    long limit = -1;
    const char *marker = NULL;
    if (mv_ge(r, 35)) {
        if (page_limit_or_reply(r, &limit) != 0) return;
        marker = mc_query(r, "marker");
    }
    char mkey[400];
    if (marker != NULL) {
        keypair_key(user, marker, mkey, sizeof mkey);
        marker = mkey;
    }
    mc_store *st = &r->srv->world[MC_K_KEYPAIR];
    size_t cap = limit >= 0 ? (size_t)limit + 1 : st->count + 1;
    mc_record **out = calloc(cap, sizeof *out);
    bool more;
    long n = mc_store_page(st, marker, limit, false, keypair_of_user, (void *)user, out, cap, &more);
    if (n < 0) {
        free(out);
        mc_reply_error(r, 400, NULL, "marker [%.64s] not found", mc_query(r, "marker"));
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "keypairs");
    for (long i = 0; i < n; i++) {
        cJSON *w = cJSON_CreateObject();
        cJSON_AddItemToObject(w, "keypair", keypair_view(r, out[i], 0));
        cJSON_AddItemToArray(a, w);
    }
    if (limit > 0 && n == limit) add_collection_next(r, root, "keypairs_links", "os-keypairs", mc_json_str(out[n - 1]->doc, "name"));
    free(out);
    mc_reply_json(r, 200, root);
}

static void compute_keypair_show(mc_req *r) {
    mc_record *k = keypair_find(r->srv, keypair_user(r), r->params[0]);
    if (k == NULL) {
        mc_reply_error(r, 404, NULL, "Keypair %.255s not found for user %.64s", r->params[0], keypair_user(r));
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        mc_store_delete(&r->srv->world[MC_K_KEYPAIR], k);
        mc_reply_json(r, mv_ge(r, 2) ? 204 : 202, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "keypair", keypair_view(r, k, 1));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- zones, limits, quotas */

typedef struct az_ctx {
    mc_req *r;
    cJSON *list;
    bool detail;
    const char *ts;
} az_ctx;

static void az_add(const char *zone, void *arg) {
    az_ctx *c = arg;
    cJSON *z = cJSON_CreateObject();
    cJSON_AddStringToObject(z, "zoneName", zone);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(z, "zoneState"), "available", true);
    if (c->detail) {
        cJSON *hosts = cJSON_AddObjectToObject(z, "hosts");
        for (int h = 1; compute_host_name(h) != NULL; h++) {
            if (strcmp(compute_host_zone(c->r->srv, h), zone) != 0) continue;
            cJSON *svc = cJSON_AddObjectToObject(cJSON_AddObjectToObject(hosts, compute_host_name(h)), "nova-compute");
            cJSON_AddBoolToObject(svc, "available", true);
            cJSON_AddBoolToObject(svc, "active", true);
            cJSON_AddStringToObject(svc, "updated_at", c->ts);
        }
    } else {
        cJSON_AddNullToObject(z, "hosts");
    }
    cJSON_AddItemToArray(c->list, z);
}

static void compute_az_list(mc_req *r) {
    bool detail = strstr(r->path, "/detail") != NULL;
    if (detail && !is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed.");
        return;
    }
    char ts[32];
    now_naive(ts);
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "availabilityZoneInfo");
    if (detail) {
        cJSON *z = cJSON_CreateObject();
        cJSON_AddStringToObject(z, "zoneName", "internal");
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(z, "zoneState"), "available", true);
        cJSON *hosts = cJSON_AddObjectToObject(z, "hosts");
        cJSON *svc = cJSON_AddObjectToObject(cJSON_AddObjectToObject(hosts, "mockcloud-controller"), "nova-scheduler");
        cJSON_AddBoolToObject(svc, "available", true);
        cJSON_AddBoolToObject(svc, "active", true);
        cJSON_AddStringToObject(svc, "updated_at", ts);
        cJSON_AddItemToArray(a, z);
    }
    az_ctx c = {r, a, detail, ts};
    compute_zones_each(r->srv, az_add, &c);
    mc_reply_json(r, 200, root);
}

static const char *const quota_keys[] = {
    "instances", "cores", "ram", "floating_ips", "fixed_ips", "metadata_items", "key_pairs",
    "security_groups", "security_group_rules", "server_groups", "server_group_members",
    "injected_files", "injected_file_content_bytes", "injected_file_path_bytes", NULL};

static bool quota_key_shown(mc_req *r, const char *k) {
    if (mv_ge(r, 36) && (strcmp(k, "floating_ips") == 0 || strcmp(k, "fixed_ips") == 0 ||
                         strcmp(k, "security_groups") == 0 || strcmp(k, "security_group_rules") == 0))
        return false;
    if (mv_ge(r, 57) && strncmp(k, "injected_file", 13) == 0) return false;
    return true;
}

long quota_limit(mc_server *srv, const char *project, const char *key) {
    compute_state *st = cs(srv);
    cJSON *p = mc_json_obj(st->quotas, project);
    cJSON *v = p ? cJSON_GetObjectItemCaseSensitive(p, key) : NULL;
    if (!cJSON_IsNumber(v)) v = cJSON_GetObjectItemCaseSensitive(st->quota_defaults, key);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static long quota_in_use(mc_server *srv, const char *project, const char *key) {
    usage u;
    project_usage(srv, project, &u);
    if (strcmp(key, "instances") == 0) return u.instances;
    if (strcmp(key, "cores") == 0) return u.cores;
    if (strcmp(key, "ram") == 0) return u.ram;
    if (strcmp(key, "server_groups") == 0) return u.server_groups;
    if (strcmp(key, "key_pairs") == 0) return 0;   /* per user; Nova shows 0 */
    return 0;
}

static void compute_quota_show(mc_req *r) {
    const char *project = r->params[0];
    bool defaults = strstr(r->path, "/defaults") != NULL;
    bool detail = strstr(r->path, "/detail") != NULL;
    if (!is_admin(r) && strcmp(project, req_project(r)) != 0) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *q = cJSON_AddObjectToObject(root, "quota_set");
    cJSON_AddStringToObject(q, "id", project);
    for (int i = 0; quota_keys[i]; i++) {
        if (!quota_key_shown(r, quota_keys[i])) continue;
        long lim = defaults ? (long)cJSON_GetObjectItemCaseSensitive(cs(r->srv)->quota_defaults, quota_keys[i])->valuedouble
                            : quota_limit(r->srv, project, quota_keys[i]);
        if (detail) {
            cJSON *o = cJSON_AddObjectToObject(q, quota_keys[i]);
            cJSON_AddNumberToObject(o, "limit", (double)lim);
            cJSON_AddNumberToObject(o, "in_use", (double)quota_in_use(r->srv, project, quota_keys[i]));
            cJSON_AddNumberToObject(o, "reserved", 0);
        } else {
            cJSON_AddNumberToObject(q, quota_keys[i], (double)lim);
        }
    }
    mc_reply_json(r, 200, root);
}

static void compute_quota_update(mc_req *r) {
    const char *project = r->params[0];
    compute_state *st = cs(r->srv);
    if (r->method == EVHTTP_REQ_DELETE) {
        cJSON_DeleteItemFromObjectCaseSensitive(st->quotas, project);
        mc_reply_json(r, 202, NULL);
        return;
    }
    cJSON *in = mc_json_obj(r->body, "quota_set");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute quota_set. 'quota_set' is a required property");
        return;
    }
    if (mc_check_or_reply(r, in, "force=b") != 0) return;
    cJSON *x;
    cJSON_ArrayForEach(x, in) {
        if (strcmp(x->string, "force") == 0) continue;
        bool known = false;
        for (int i = 0; quota_keys[i]; i++) known |= strcmp(quota_keys[i], x->string) == 0 && quota_key_shown(r, x->string);
        long v;
        if (!known) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute quota_set. Additional properties are not allowed "
                                         "('%.64s' was unexpected)", x->string);
            return;
        }
        if (!json_int_in(x, -1, 2147483647, &v)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %.64s.", x->string);
            return;
        }
    }
    cJSON *p = mc_json_obj(st->quotas, project);
    if (p == NULL) p = cJSON_AddObjectToObject(st->quotas, project);
    cJSON_ArrayForEach(x, in) {
        long v;
        if (strcmp(x->string, "force") == 0) continue;
        json_int_in(x, -1, 2147483647, &v);
        mc_json_set(p, x->string, cJSON_CreateNumber((double)v));
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *q = cJSON_AddObjectToObject(root, "quota_set");
    for (int i = 0; quota_keys[i]; i++)
        if (quota_key_shown(r, quota_keys[i]))
            cJSON_AddNumberToObject(q, quota_keys[i], (double)quota_limit(r->srv, project, quota_keys[i]));
    mc_reply_json(r, 200, root);
}

/* os-quota-class-sets: the "default" class is the defaults every project
 * without its own limit gets; other classes are kept but bind nobody (Nova
 * reads only "default"). Keys: before 2.50 the network ones, no server
 * groups; from 2.57 no injected files. */
static bool quota_class_key_shown(mc_req *r, const char *k) {
    bool net = strcmp(k, "floating_ips") == 0 || strcmp(k, "fixed_ips") == 0 || strcmp(k, "security_groups") == 0 ||
               strcmp(k, "security_group_rules") == 0;
    bool groups = strncmp(k, "server_group", 12) == 0;
    if (mv_ge(r, 50) ? net : groups) return false;
    if (mv_ge(r, 57) && strncmp(k, "injected_file", 13) == 0) return false;
    return true;
}

static void compute_quota_class(mc_req *r) {
    compute_state *st = cs(r->srv);
    const char *cls = r->params[0];
    bool dflt = strcmp(cls, "default") == 0;
    if (strlen(cls) > 255) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute id.");
        return;
    }
    if (r->method == EVHTTP_REQ_PUT) {
        cJSON *in = mc_json_obj(r->body, "quota_class_set");
        if (in == NULL) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute quota_class_set. 'quota_class_set' is a required property");
            return;
        }
        cJSON *x;
        long v;
        cJSON_ArrayForEach(x, in) {
            bool known = false;
            for (int i = 0; quota_keys[i]; i++) known |= strcmp(quota_keys[i], x->string) == 0 && quota_class_key_shown(r, x->string);
            if (!known) {
                mc_reply_error(r, 400, NULL, "Invalid input for field/attribute quota_class_set. Additional properties are not "
                                             "allowed ('%.64s' was unexpected)", x->string);
                return;
            }
            if (!json_int_in(x, -1, 2147483647, &v)) {
                mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %.64s.", x->string);
                return;
            }
        }
        if (dflt) {
            cJSON_ArrayForEach(x, in) {
                json_int_in(x, -1, 2147483647, &v);
                mc_json_set(st->quota_defaults, x->string, cJSON_CreateNumber((double)v));
            }
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *q = cJSON_AddObjectToObject(root, "quota_class_set");
    if (r->method == EVHTTP_REQ_GET) cJSON_AddStringToObject(q, "id", cls);
    for (int i = 0; quota_keys[i]; i++)
        if (quota_class_key_shown(r, quota_keys[i]))
            cJSON_AddNumberToObject(q, quota_keys[i], cJSON_GetObjectItemCaseSensitive(st->quota_defaults, quota_keys[i])->valuedouble);
    mc_reply_json(r, 200, root);
}

static void compute_limits(mc_req *r) {
    const char *project = req_project(r);
    const char *t = mc_query(r, "tenant_id");
    if (t != NULL && is_admin(r)) project = t;
    usage u;
    project_usage(r->srv, project, &u);
    cJSON *root = cJSON_CreateObject();
    cJSON *l = cJSON_AddObjectToObject(root, "limits");
    cJSON_AddArrayToObject(l, "rate");
    cJSON *a = cJSON_AddObjectToObject(l, "absolute");
    mc_server *srv = r->srv;
    cJSON_AddNumberToObject(a, "maxServerMeta", (double)quota_limit(srv, project, "metadata_items"));
    if (!mv_ge(r, 57)) {
        cJSON_AddNumberToObject(a, "maxPersonality", (double)quota_limit(srv, project, "injected_files"));
        cJSON_AddNumberToObject(a, "maxPersonalitySize", (double)quota_limit(srv, project, "injected_file_content_bytes"));
    }
    cJSON_AddNumberToObject(a, "maxImageMeta", (double)quota_limit(srv, project, "metadata_items"));
    cJSON_AddNumberToObject(a, "maxTotalKeypairs", (double)quota_limit(srv, project, "key_pairs"));
    cJSON_AddNumberToObject(a, "maxTotalInstances", (double)quota_limit(srv, project, "instances"));
    cJSON_AddNumberToObject(a, "maxTotalCores", (double)quota_limit(srv, project, "cores"));
    cJSON_AddNumberToObject(a, "maxTotalRAMSize", (double)quota_limit(srv, project, "ram"));
    cJSON_AddNumberToObject(a, "maxServerGroups", (double)quota_limit(srv, project, "server_groups"));
    cJSON_AddNumberToObject(a, "maxServerGroupMembers", (double)quota_limit(srv, project, "server_group_members"));
    if (!mv_ge(r, 36)) {
        cJSON_AddNumberToObject(a, "maxSecurityGroups", (double)quota_limit(srv, project, "security_groups"));
        cJSON_AddNumberToObject(a, "maxSecurityGroupRules", (double)quota_limit(srv, project, "security_group_rules"));
        cJSON_AddNumberToObject(a, "maxTotalFloatingIps", (double)quota_limit(srv, project, "floating_ips"));
        cJSON_AddNumberToObject(a, "totalFloatingIpsUsed", 0);
        cJSON_AddNumberToObject(a, "totalSecurityGroupsUsed", 0);
    }
    cJSON_AddNumberToObject(a, "totalInstancesUsed", u.instances);
    cJSON_AddNumberToObject(a, "totalCoresUsed", u.cores);
    cJSON_AddNumberToObject(a, "totalRAMUsed", u.ram);
    cJSON_AddNumberToObject(a, "totalServerGroupsUsed", u.server_groups);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- os-security-groups proxy (<= 2.35) */

static bool proxy_gone_or_reply(mc_req *r, int max_minor) {
    if (mv_ge(r, max_minor + 1)) {
        mc_reply_error(r, 404, NULL, "The resource could not be found.");
        return true;
    }
    return false;
}

static cJSON *secgroup_rule_nova(mc_server *srv, mc_record *rule, const char *sg_id) {
    const cJSON *d = rule->doc;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", rule->id);
    cJSON_AddStringToObject(o, "parent_group_id", sg_id);
    mc_json_set_str(o, "ip_protocol", mc_json_str(d, "protocol"));
    const cJSON *pmin = cJSON_GetObjectItemCaseSensitive(d, "port_range_min");
    const cJSON *pmax = cJSON_GetObjectItemCaseSensitive(d, "port_range_max");
    cJSON_AddNumberToObject(o, "from_port", cJSON_IsNumber(pmin) ? pmin->valuedouble : -1);
    cJSON_AddNumberToObject(o, "to_port", cJSON_IsNumber(pmax) ? pmax->valuedouble : -1);
    cJSON *range = cJSON_AddObjectToObject(o, "ip_range");
    cJSON *group = cJSON_AddObjectToObject(o, "group");
    const char *rg = mc_json_str(d, "remote_group_id");
    if (rg != NULL) {
        mc_record *g = mc_store_find(&srv->world[MC_K_SECGROUP], rg);
        cJSON_AddStringToObject(group, "name", g ? mc_json_str(g->doc, "name") : "");
        cJSON_AddStringToObject(group, "tenant_id", g ? g->project_id : "");
    } else {
        const char *pfx = mc_json_str(d, "remote_ip_prefix");
        const char *et = mc_json_str(d, "ethertype");
        cJSON_AddStringToObject(range, "cidr", pfx ? pfx : (mc_str_eq(et, "IPv6") ? "::/0" : "0.0.0.0/0"));
    }
    return o;
}

typedef struct nova_rules_ctx {
    mc_server *srv;
    const char *sg_id;
    cJSON *rules;
} nova_rules_ctx;

static void nova_rule_each(mc_record *x, void *arg) {
    nova_rules_ctx *c = arg;
    if (mc_str_eq(mc_json_str(x->doc, "direction"), "ingress"))
        cJSON_AddItemToArray(c->rules, secgroup_rule_nova(c->srv, x, c->sg_id));
}

cJSON *secgroup_nova_view(mc_server *srv, mc_record *sg) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", sg->id);
    cJSON_AddStringToObject(o, "name", mc_json_str(sg->doc, "name") ? mc_json_str(sg->doc, "name") : "");
    const char *d = mc_json_str(sg->doc, "description");
    cJSON_AddStringToObject(o, "description", d ? d : "");
    const char *t = mc_json_str(sg->doc, "tenant_id");
    if (t == NULL) t = mc_json_str(sg->doc, "project_id");
    cJSON_AddStringToObject(o, "tenant_id", t ? t : sg->project_id);
    nova_rules_ctx c = {srv, sg->id, cJSON_AddArrayToObject(o, "rules")};
    mc_net_secgroup_rules_each(srv, sg->id, nova_rule_each, &c);
    return o;
}

static void compute_secgroup_list(mc_req *r) {
    if (proxy_gone_or_reply(r, 35)) return;
    if (r->method == EVHTTP_REQ_DELETE) {   /* DELETE without an id */
        mc_reply_error(r, 404, NULL, "The resource could not be found.");
        return;
    }
    if (r->method == EVHTTP_REQ_POST) {
        cJSON *in = mc_json_obj(r->body, "security_group");
        const char *name = in ? mc_json_str(in, "name") : NULL;
        const char *desc = in ? mc_json_str(in, "description") : NULL;
        if (in == NULL || name == NULL || desc == NULL || strlen(name) > 255 || strlen(desc) > 255 || name[0] == '\0') {
            mc_reply_error(r, 400, NULL, "Security group %s is not a string or unicode or is invalid.",
                           name == NULL || name[0] == '\0' ? "name" : "description");
            return;
        }
        int status = 400;
        char err[256] = "";
        mc_record *sg = mc_net_secgroup_create(r->srv, req_project(r), name, desc, &status, err, sizeof err);
        if (sg == NULL) {
            mc_reply_error(r, status, NULL, "%s", err[0] ? err : "Security group could not be created.");
            return;
        }
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "security_group", secgroup_nova_view(r->srv, sg));
        mc_reply_json(r, 200, root);
        return;
    }
    bool all = false;
    int at;
    if (mc_query_bool_or_reply(r, "all_tenants", &at) != 0) return;
    all = at == 1 && is_admin(r);
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "security_groups");
    /* make sure the project's default group exists, as Neutron does on first use */
    mc_net_secgroup_default(r->srv, req_project(r));
    for (mc_record *sg = mc_store_first(&r->srv->world[MC_K_SECGROUP]); sg; sg = mc_store_next(sg))
        if (all || strcmp(sg->project_id, req_project(r)) == 0) cJSON_AddItemToArray(a, secgroup_nova_view(r->srv, sg));
    mc_reply_json(r, 200, root);
}

static mc_record *secgroup_or_reply(mc_req *r, const char *id) {
    mc_record *sg = mc_store_find(&r->srv->world[MC_K_SECGROUP], id);
    if (sg != NULL && !is_admin(r) && strcmp(sg->project_id, req_project(r)) != 0) sg = NULL;
    if (sg == NULL) mc_reply_error(r, 404, NULL, "Security group %.64s not found.", id);
    return sg;
}

static void compute_secgroup_show(mc_req *r) {
    if (proxy_gone_or_reply(r, 35)) return;
    mc_record *sg = secgroup_or_reply(r, r->params[0]);
    if (sg == NULL) return;
    if (r->method == EVHTTP_REQ_DELETE) {
        if (mc_str_eq(mc_json_str(sg->doc, "name"), "default")) {
            mc_reply_error(r, 400, NULL, "Removing default security group not allowed.");
            return;
        }
        int status = 409;
        char err[256] = "";
        if (mc_net_secgroup_delete(r->srv, sg, &status, err, sizeof err) != 0) {
            mc_reply_error(r, status == 409 ? 400 : status, NULL, "%s", err[0] ? err : "Security group is in use.");
            return;
        }
        mc_reply_json(r, 202, NULL);
        return;
    }
    if (r->method == EVHTTP_REQ_PUT) {
        cJSON *in = mc_json_obj(r->body, "security_group");
        const char *name = in ? mc_json_str(in, "name") : NULL;
        const char *desc = in ? mc_json_str(in, "description") : NULL;
        if (in == NULL || name == NULL || desc == NULL || name[0] == '\0' || strlen(name) > 255 || strlen(desc) > 255) {
            mc_reply_error(r, 400, NULL, "Security group name and description are required strings.");
            return;
        }
        if (mc_str_eq(mc_json_str(sg->doc, "name"), "default") && strcmp(name, "default") != 0) {
            mc_reply_error(r, 400, NULL, "Unable to update system group 'default'");
            return;
        }
        mc_json_set_str(sg->doc, "name", name);
        mc_json_set_str(sg->doc, "description", desc);
        char ts[32];
        now_iso(ts);
        if (mc_json_has(sg->doc, "updated_at")) mc_json_set_str(sg->doc, "updated_at", ts);
        mc_net_record_changed(sg);   /* its printed view, and the rules' that read its name */
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "security_group", secgroup_nova_view(r->srv, sg));
    mc_reply_json(r, 200, root);
}

static void compute_secgroup_rule_create(mc_req *r) {
    if (proxy_gone_or_reply(r, 35)) return;
    cJSON *in = mc_json_obj(r->body, "security_group_rule");
    if (mc_check_or_reply(r, in, "parent_group_id=s|ip_protocol=S|from_port=N|to_port=N|cidr=S|group_id=S") != 0) return;
    const char *parent = in ? mc_json_str(in, "parent_group_id") : NULL;
    if (in == NULL || parent == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input received: parent_group_id is required.");
        return;
    }
    if (!mc_is_uuid(parent)) {
        mc_reply_error(r, 400, NULL, "Invalid input received: security group id %.64s is not a valid id.", parent);
        return;
    }
    mc_record *sg = secgroup_or_reply(r, parent);
    if (sg == NULL) return;
    cJSON *rule = cJSON_CreateObject();
    cJSON_AddStringToObject(rule, "security_group_id", sg->id);
    cJSON_AddStringToObject(rule, "direction", "ingress");
    const char *proto = mc_json_str(in, "ip_protocol");
    const char *cidr = mc_json_str(in, "cidr");
    const char *group = mc_json_str(in, "group_id");
    cJSON_AddStringToObject(rule, "ethertype", cidr && strchr(cidr, ':') ? "IPv6" : "IPv4");
    if (proto != NULL) {
        char lp[16];
        size_t i = 0;
        for (; proto[i] && i < sizeof lp - 1; i++) lp[i] = (char)tolower((unsigned char)proto[i]);
        lp[i] = '\0';
        cJSON_AddStringToObject(rule, "protocol", lp);
    }
    long fp, tp;
    cJSON *f = cJSON_GetObjectItemCaseSensitive(in, "from_port"), *t = cJSON_GetObjectItemCaseSensitive(in, "to_port");
    if (f != NULL && t != NULL) {
        if (!json_int_in(f, -1, 65535, &fp) || !json_int_in(t, -1, 65535, &tp)) {
            mc_reply_error(r, 400, NULL, "Invalid port range.");
            cJSON_Delete(rule);
            return;
        }
        if (!(proto && strcasecmp(proto, "icmp") == 0 && fp == -1)) {
            cJSON_AddNumberToObject(rule, "port_range_min", (double)fp);
            cJSON_AddNumberToObject(rule, "port_range_max", (double)tp);
        }
    }
    if (group != NULL)
        cJSON_AddStringToObject(rule, "remote_group_id", group);
    else
        cJSON_AddStringToObject(rule, "remote_ip_prefix", cidr ? cidr : "0.0.0.0/0");
    int status = 400;
    char err[256] = "";
    mc_record *rec = mc_net_secgroup_rule_create(r->srv, req_project(r), rule, &status, err, sizeof err);
    cJSON_Delete(rule);
    if (rec == NULL) {
        if (status == 409)   /* Nova answers a duplicate rule with 400 */
            mc_reply_error(r, 400, NULL, "This rule already exists in group %s", sg->id);
        else
            mc_reply_error(r, status, NULL, "%s", err[0] ? err : "Security group rule could not be created.");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "security_group_rule", secgroup_rule_nova(r->srv, rec, sg->id));
    mc_reply_json(r, 200, root);
}

static void compute_secgroup_rule_delete(mc_req *r) {
    if (proxy_gone_or_reply(r, 35)) return;
    mc_record *rule = mc_store_find(&r->srv->world[MC_K_SECGROUP_RULE], r->params[0]);
    if (rule != NULL && !is_admin(r) && strcmp(rule->project_id, req_project(r)) != 0) rule = NULL;
    if (rule == NULL) {
        mc_reply_error(r, 404, NULL, "Security group rule %.64s not found.", r->params[0]);
        return;
    }
    int status = 400;
    char err[256] = "";
    if (mc_net_secgroup_rule_delete(r->srv, rule, &status, err, sizeof err) != 0) {
        mc_reply_error(r, status, NULL, "%s", err[0] ? err : "Security group rule could not be deleted.");
        return;
    }
    mc_reply_json(r, 202, NULL);
}

/* ---------------------------------------------------------------- /images proxy (<= 2.35) */

static const char *const glance_core[] = {
    "id", "name", "status", "visibility", "owner", "protected", "checksum", "os_hash_algo", "os_hash_value",
    "size", "virtual_size", "min_disk", "min_ram", "disk_format", "container_format", "created_at",
    "updated_at", "tags", "file", "self", "schema", "locations", "direct_url", "os_hidden", "stores", NULL};

static cJSON *image_nova_view(mc_req *r, mc_record *img, bool detail) {
    const cJSON *d = img->doc;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", img->id);
    mc_json_set_str(o, "name", mc_json_str(d, "name"));
    cJSON *links = nova_links(r, "images", img->id);
    char href[600];
    snprintf(href, sizeof href, "%s/image/images/%s", r->srv->public_url, img->id);
    cJSON *alt = cJSON_CreateObject();
    cJSON_AddStringToObject(alt, "rel", "alternate");
    cJSON_AddStringToObject(alt, "type", "application/vnd.openstack.image");
    cJSON_AddStringToObject(alt, "href", href);
    cJSON_AddItemToArray(links, alt);
    cJSON_AddItemToObject(o, "links", links);
    if (!detail) return o;
    const char *gs = mc_json_str(d, "status");
    const char *st = "UNKNOWN";
    int progress = 0;
    if (mc_str_eq(gs, "active")) st = "ACTIVE", progress = 100;
    else if (mc_str_eq(gs, "saving")) st = "SAVING", progress = 50;
    else if (mc_str_eq(gs, "queued") || mc_str_eq(gs, "importing") || mc_str_eq(gs, "uploading")) st = "SAVING", progress = 25;
    else if (mc_str_eq(gs, "killed")) st = "ERROR";
    else if (mc_str_eq(gs, "deleted") || mc_str_eq(gs, "pending_delete")) st = "DELETED";
    cJSON_AddStringToObject(o, "status", st);
    cJSON_AddNumberToObject(o, "progress", progress);
    const char *c = mc_json_str(d, "created_at"), *u = mc_json_str(d, "updated_at");
    cJSON_AddStringToObject(o, "created", c ? c : "1970-01-01T00:00:00Z");
    cJSON_AddStringToObject(o, "updated", u ? u : (c ? c : "1970-01-01T00:00:00Z"));
    cJSON_AddNumberToObject(o, "minDisk", jint(d, "min_disk"));
    cJSON_AddNumberToObject(o, "minRam", jint(d, "min_ram"));
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(d, "size");
    if (cJSON_IsNumber(sz))
        cJSON_AddNumberToObject(o, "OS-EXT-IMG-SIZE:size", sz->valuedouble);
    else
        cJSON_AddNullToObject(o, "OS-EXT-IMG-SIZE:size");
    cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
    const cJSON *x;
    cJSON_ArrayForEach(x, d) {
        bool core = x->string[0] == '_';
        for (int i = 0; !core && glance_core[i]; i++) core = strcmp(glance_core[i], x->string) == 0;
        if (core) continue;
        if (cJSON_IsString(x))
            cJSON_AddStringToObject(meta, x->string, x->valuestring);
        else if (!cJSON_IsNull(x)) {
            char *txt = cJSON_PrintUnformatted(x);
            cJSON_AddStringToObject(meta, x->string, txt ? txt : "");
            cJSON_free(txt);
        }
    }
    const char *inst = mc_json_str(d, "instance_uuid");
    if (inst != NULL) {
        cJSON *s = cJSON_AddObjectToObject(o, "server");
        cJSON_AddStringToObject(s, "id", inst);
        cJSON_AddItemToObject(s, "links", nova_links(r, "servers", inst));
    }
    return o;
}

static void image_list_common(mc_req *r, bool detail) {
    if (proxy_gone_or_reply(r, 35)) return;
    long limit;
    if (page_limit_or_reply(r, &limit) != 0) return;
    const char *marker = mc_query(r, "marker");
    mc_store *st = &r->srv->world[MC_K_IMAGE];
    mc_record *start = mc_store_first(st);
    if (marker != NULL) {
        mc_record *m = mc_image_find(r->srv, marker, req_project(r));
        if (m == NULL) {
            mc_reply_error(r, 400, NULL, "marker [%.64s] not found", marker);
            return;
        }
        start = mc_store_next(m);
    }
    const char *name = mc_query(r, "name"), *status = mc_query(r, "status");
    const char *server = ref_id(mc_query(r, "server")), *type = mc_query(r, "type");
    long min_disk = -1, min_ram = -1;
    const char *q = mc_query(r, "minDisk");
    if (q != NULL && !mc_parse_long(q, 0, 1L << 40, &min_disk)) min_disk = -1;
    q = mc_query(r, "minRam");
    if (q != NULL && !mc_parse_long(q, 0, 1L << 40, &min_ram)) min_ram = -1;
    double since = -1;
    q = mc_query(r, "changes-since");
    if (q != NULL) since = mc_time_parse(q);
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "images");
    long n = 0;
    const char *last = NULL;
    for (mc_record *img = start; img && (limit < 0 || n < limit); img = mc_store_next(img)) {
        if (mc_image_find(r->srv, img->id, req_project(r)) != img) continue;
        if (name && !mc_str_eq(mc_json_str(img->doc, "name"), name)) continue;
        if (server && !mc_str_eq(mc_json_str(img->doc, "instance_uuid"), server)) continue;
        if (type && !mc_str_eq(mc_json_str(img->doc, "image_type"), type)) continue;
        if (min_disk >= 0 && jint(img->doc, "min_disk") < min_disk) continue;
        if (min_ram >= 0 && jint(img->doc, "min_ram") < min_ram) continue;
        if (since >= 0 && mc_time_parse(mc_json_str(img->doc, "updated_at")) < since) continue;
        cJSON *v = image_nova_view(r, img, true);
        if (status && strcasecmp(mc_json_str(v, "status"), status) != 0) {
            cJSON_Delete(v);
            continue;
        }
        if (!detail) {
            cJSON_Delete(v);
            v = image_nova_view(r, img, false);
        }
        cJSON_AddItemToArray(a, v);
        last = img->id;
        n++;
    }
    if (limit > 0 && n == limit && last) add_collection_next(r, root, "images_links", detail ? "images/detail" : "images", last);
    mc_reply_json(r, 200, root);
}

static void compute_image_list(mc_req *r) {
    if (r->method == EVHTTP_REQ_DELETE) {   /* DELETE without an id */
        mc_reply_error(r, 404, NULL, "The resource could not be found.");
        return;
    }
    image_list_common(r, false);
}
static void compute_image_detail(mc_req *r) { image_list_common(r, true); }

static void compute_image_show(mc_req *r) {
    if (proxy_gone_or_reply(r, 35)) return;
    mc_record *img = mc_image_find(r->srv, r->params[0], req_project(r));
    if (img == NULL || mc_str_eq(mc_json_str(img->doc, "status"), "deleted")) {
        mc_reply_error(r, 404, NULL, "Image not found.");
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        if (!is_admin(r) && strcmp(img->project_id, req_project(r)) != 0 &&
            !mc_str_eq(mc_json_str(img->doc, "owner"), req_project(r))) {
            mc_reply_error(r, 403, NULL, "You are not authorized to delete image %.64s.", img->id);
            return;
        }
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(img->doc, "protected"))) {
            mc_reply_error(r, 403, NULL, "Image %.64s is protected and cannot be deleted.", img->id);
            return;
        }
        mc_image_delete(r->srv, img);
        mc_reply_json(r, 204, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "image", image_nova_view(r, img, true));
    mc_reply_json(r, 200, root);
}

/* /images/{id}/metadata: the image's extra properties (Nova proxies them to
 * Glance; here they are the Glance record's own). */
static bool glance_core_key(const char *k) {
    if (k[0] == '_') return true;
    for (int i = 0; glance_core[i]; i++)
        if (strcmp(glance_core[i], k) == 0) return true;
    return false;
}

static mc_record *image_meta_or_reply(mc_req *r, bool write) {
    if (proxy_gone_or_reply(r, 35)) return NULL;
    mc_record *img = mc_image_find(r->srv, r->params[0], req_project(r));
    if (img == NULL) {
        mc_reply_error(r, 404, NULL, "Image not found.");
        return NULL;
    }
    if (write && !is_admin(r) && !mc_str_eq(mc_json_str(img->doc, "owner"), req_project(r))) {
        mc_reply_error(r, 403, NULL, "You are not authorized to change image %.64s.", img->id);
        return NULL;
    }
    return img;
}

static cJSON *image_meta_dict(mc_record *img) {
    cJSON *o = cJSON_CreateObject();
    const cJSON *x;
    cJSON_ArrayForEach(x, img->doc)
        if (!glance_core_key(x->string) && cJSON_IsString(x)) cJSON_AddStringToObject(o, x->string, x->valuestring);
    return o;
}

static void image_touch(mc_record *img) {
    char ts[32];
    now_iso(ts);
    mc_json_set_str(img->doc, "updated_at", ts);
}

static void compute_image_metadata(mc_req *r) {
    mc_record *img = image_meta_or_reply(r, r->method != EVHTTP_REQ_GET);
    if (img == NULL) return;
    if (r->method != EVHTTP_REQ_GET) {
        cJSON *in = mc_json_obj(r->body, "metadata");
        if (in == NULL) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute metadata. 'metadata' is a required property");
            return;
        }
        const cJSON *x;
        cJSON_ArrayForEach(x, in) {
            if (!cJSON_IsString(x) || glance_core_key(x->string) || strlen(x->string) > 255 ||
                strlen(x->valuestring) > 255) {
                mc_reply_error(r, 400, NULL, "Invalid image metadata key or value: %.64s", x->string);
                return;
            }
        }
        if (r->method == EVHTTP_REQ_PUT) {
            cJSON *old = image_meta_dict(img);
            cJSON_ArrayForEach(x, old) cJSON_DeleteItemFromObjectCaseSensitive(img->doc, x->string);
            cJSON_Delete(old);
        }
        cJSON_ArrayForEach(x, in) mc_json_set_str(img->doc, x->string, x->valuestring);
        image_touch(img);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "metadata", image_meta_dict(img));
    mc_reply_json(r, 200, root);
}

static void compute_image_metadata_item(mc_req *r) {
    mc_record *img = image_meta_or_reply(r, r->method != EVHTTP_REQ_GET);
    if (img == NULL) return;
    const char *key = r->params[1];
    const cJSON *cur = glance_core_key(key) ? NULL : cJSON_GetObjectItemCaseSensitive(img->doc, key);
    if (!cJSON_IsString(cur)) cur = NULL;
    if (r->method == EVHTTP_REQ_GET || r->method == EVHTTP_REQ_DELETE) {
        if (cur == NULL) {
            mc_reply_error(r, 404, NULL, "Image %.64s has no metadata item %.64s.", img->id, key);
            return;
        }
        if (r->method == EVHTTP_REQ_DELETE) {
            cJSON_DeleteItemFromObjectCaseSensitive(img->doc, key);
            image_touch(img);
            mc_reply_json(r, 204, NULL);
            return;
        }
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "meta"), key, cur->valuestring);
        mc_reply_json(r, 200, root);
        return;
    }
    cJSON *meta = mc_json_obj(r->body, "meta");
    if (meta == NULL || cJSON_GetArraySize(meta) != 1) {
        mc_reply_error(r, 400, NULL, "Request body contains too many items");
        return;
    }
    const char *v = mc_json_str(meta, key);
    if (v == NULL) {
        mc_reply_error(r, 400, NULL, "Request body and URI mismatch");
        return;
    }
    if (glance_core_key(key)) {
        mc_reply_error(r, 400, NULL, "Invalid image metadata key: %.64s", key);
        return;
    }
    mc_json_set_str(img->doc, key, v);
    image_touch(img);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "meta"), key, v);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- extensions, tenant networks */

static const char *const extensions[][2] = {
    {"os-availability-zone", "AvailabilityZone"}, {"os-extended-server-attributes", "ExtendedServerAttributes"},
    {"os-extended-status", "ExtendedStatus"}, {"os-flavor-access", "FlavorAccess"},
    {"os-flavor-extra-specs", "FlavorExtraSpecs"}, {"os-keypairs", "Keypairs"}, {"os-quota-sets", "Quotas"},
    {"os-security-groups", "SecurityGroups"}, {"os-server-groups", "ServerGroups"},
    {"os-instance-actions", "InstanceActions"}, {"os-server-tags", "ServerTags"},
    {"os-hosts", "Hosts"}, {"os-consoles", "Consoles"}, {"os-console-output", "ConsoleOutput"},
    {"os-hypervisors", "Hypervisors"}, {"os-services", "Services"}, {"os-shelve", "Shelve"},
    {"os-lock-server", "LockServer"}, {"os-pause-server", "PauseServer"}, {"os-suspend-server", "SuspendServer"},
    {"os-rescue", "Rescue"}, {"os-create-backup", "CreateBackup"}, {"os-attach-interfaces", "AttachInterfaces"},
    {"os-server-password", "ServerPassword"}, {"os-tenant-networks", "OSTenantNetworks"},
    {"os-multiple-create", "MultipleCreate"}, {"os-user-data", "UserData"}, {"os-access-ips", "AccessIPs"},
    {"os-disk-config", "DiskConfig"}, {"os-config-drive", "ConfigDrive"}, {"os-limits", "Limits"},
};

static cJSON *extension_view(int i) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "alias", extensions[i][0]);
    cJSON_AddStringToObject(o, "name", extensions[i][1]);
    cJSON_AddStringToObject(o, "description", extensions[i][1]);
    cJSON_AddStringToObject(o, "namespace", "http://docs.openstack.org/compute/ext/fake_xml");
    cJSON_AddStringToObject(o, "updated", "2014-12-03T00:00:00Z");
    cJSON_AddArrayToObject(o, "links");
    return o;
}

static void compute_extensions(mc_req *r) {
    int n = (int)(sizeof extensions / sizeof extensions[0]);
    if (r->nparams == 1) {
        for (int i = 0; i < n; i++)
            if (strcmp(extensions[i][0], r->params[0]) == 0) {
                cJSON *root = cJSON_CreateObject();
                cJSON_AddItemToObject(root, "extension", extension_view(i));
                mc_reply_json(r, 200, root);
                return;
            }
        mc_reply_error(r, 404, NULL, "Extension %.64s could not be found.", r->params[0]);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "extensions");
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, extension_view(i));
    mc_reply_json(r, 200, root);
}

static cJSON *tenant_network_view(mc_record *n) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", n->id);
    const char *name = mc_json_str(n->doc, "name");
    cJSON_AddStringToObject(o, "label", name ? name : "");
    cJSON_AddNullToObject(o, "cidr");
    return o;
}

/* os-networks (up to 2.35): Nova's proxy of the Neutron networks the
 * caller sees, in nova-network's shape (what Neutron does not have is
 * null); creating or changing them is gone (410) since Nova 21. */
static void compute_networks(mc_req *r) {
    if (mv_ge(r, 36)) {
        mc_reply_error(r, 404, NULL, "The resource could not be found.");
        return;
    }
    if (r->method != EVHTTP_REQ_GET) {
        mc_reply_error(r, 410, NULL, "Gone");
        return;
    }
    static const char *const nulls[] = {"cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6",
                                        "gateway_v6", "netmask_v6", NULL};
    static const char *const admin_nulls[] = {
        "created_at", "updated_at", "deleted_at", "injected", "bridge", "vlan", "vpn_public_address", "vpn_public_port",
        "vpn_private_address", "dhcp_start", "project_id", "host", "bridge_interface", "multi_host", "priority",
        "rxtx_base", "mtu", "dhcp_server", "enable_dhcp", "share_address", NULL};
    cJSON *list = cJSON_CreateArray();
    for (mc_record *n = mc_store_first(&r->srv->world[MC_K_NETWORK]); n; n = mc_store_next(n)) {
        if (!is_admin(r) && mc_net_network_find(r->srv, n->id, req_project(r)) != n) continue;   /* admins: all */
        if (r->nparams > 0 && strcmp(r->params[0], n->id) != 0) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", n->id);
        const char *name = mc_json_str(n->doc, "name");
        cJSON_AddStringToObject(o, "label", name ? name : "");
        for (int i = 0; nulls[i]; i++) cJSON_AddNullToObject(o, nulls[i]);
        if (is_admin(r)) {
            for (int i = 0; admin_nulls[i]; i++) cJSON_AddNullToObject(o, admin_nulls[i]);
            cJSON_AddBoolToObject(o, "deleted", false);
        }
        cJSON_AddItemToArray(list, o);
    }
    cJSON *root = cJSON_CreateObject();
    if (r->nparams > 0) {
        cJSON *one = cJSON_DetachItemFromArray(list, 0);
        cJSON_Delete(list);
        if (one == NULL) {
            cJSON_Delete(root);
            mc_reply_error(r, 404, NULL, "Network %.64s could not be found.", r->params[0]);
            return;
        }
        cJSON_AddItemToObject(root, "network", one);
    } else {
        cJSON_AddItemToObject(root, "networks", list);
    }
    mc_reply_json(r, 200, root);
}

/* APIs Nova removed (its removed.py controller: 410 for every method and
 * caller, before any lookup): os-agents, os-cells, os-cloudpipe, os-fping,
 * os-certificates, os-fixed-ips, os-floating-ip-dns, os-floating-ips-bulk,
 * os-security-group-default-rules (the server actions resetNetwork and
 * injectNetworkInfo answer the same in compute_servers.c). */
static void compute_removed(mc_req *r) {
    mc_reply_error(r, 410, NULL, "This resource is no longer available.  No forwarding address is given.");
}

static void compute_tenant_networks(mc_req *r) {
    if (proxy_gone_or_reply(r, 35)) return;
    if (r->nparams == 1) {
        mc_record *n = mc_net_network_find(r->srv, r->params[0], req_project(r));
        if (n == NULL) {
            mc_reply_error(r, 404, NULL, "Network %.64s could not be found.", r->params[0]);
            return;
        }
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "network", tenant_network_view(n));
        mc_reply_json(r, 200, root);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "networks");
    for (mc_record *n = mc_store_first(&r->srv->world[MC_K_NETWORK]); n; n = mc_store_next(n))
        if (mc_net_network_find(r->srv, n->id, req_project(r)) == n) cJSON_AddItemToArray(a, tenant_network_view(n));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- server groups */

static const char *const sg_policies[] = {"affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity", NULL};

static cJSON *server_group_view(mc_req *r, mc_record *g) {
    const cJSON *d = g->doc;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", g->id);
    cJSON_AddStringToObject(o, "name", mc_json_str(d, "name"));
    if (mv_ge(r, 64)) {
        cJSON_AddStringToObject(o, "policy", mc_json_str(d, "policy"));
        cJSON_AddItemToObject(o, "rules", cJSON_Duplicate(mc_json_obj(d, "rules"), 1));
    } else {
        cJSON *p = cJSON_AddArrayToObject(o, "policies");
        cJSON_AddItemToArray(p, cJSON_CreateString(mc_json_str(d, "policy")));
    }
    cJSON_AddItemToObject(o, "members", cJSON_Duplicate(mc_json_arr(d, "members"), 1));
    if (!mv_ge(r, 64)) cJSON_AddObjectToObject(o, "metadata");
    if (mv_ge(r, 13)) {
        cJSON_AddStringToObject(o, "project_id", g->project_id);
        cJSON_AddStringToObject(o, "user_id", mc_json_str(d, "user_id"));
    }
    return o;
}

static void compute_server_group_list(mc_req *r) {
    if (r->method == EVHTTP_REQ_POST) {
        cJSON *in = mc_json_obj(r->body, "server_group");
        if (mc_check_or_reply(r, in, "name=s|policy=s|policies=r|rules=o") != 0) return;
        const char *name = in ? mc_json_str(in, "name") : NULL;
        const char *policy = NULL;
        if (in != NULL && mv_ge(r, 64)) {
            policy = mc_json_str(in, "policy");
        } else if (in != NULL) {
            cJSON *ps = mc_json_arr(in, "policies");
            if (ps && cJSON_GetArraySize(ps) == 1 && cJSON_IsString(cJSON_GetArrayItem(ps, 0)))
                policy = cJSON_GetArrayItem(ps, 0)->valuestring;
        }
        bool ok = policy != NULL;
        for (int i = 0; ok && sg_policies[i]; i++)
            if (strcmp(policy, sg_policies[i]) == 0) break;
            else if (sg_policies[i + 1] == NULL) ok = false;
        if (name == NULL || name[0] == '\0' || strlen(name) > 255 || !ok) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute server_group.");
            return;
        }
        usage u;
        project_usage(r->srv, req_project(r), &u);
        if (u.server_groups >= quota_limit(r->srv, req_project(r), "server_groups")) {
            mc_reply_error(r, 403, NULL, "Quota exceeded, too many server groups.");
            return;
        }
        char id[37];
        mc_uuid(r->srv, id);
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "name", name);
        cJSON_AddStringToObject(doc, "policy", policy);
        cJSON *rules = mc_json_obj(in, "rules");
        cJSON_AddItemToObject(doc, "rules", rules ? cJSON_Duplicate(rules, 1) : cJSON_CreateObject());
        cJSON_AddArrayToObject(doc, "members");
        cJSON_AddStringToObject(doc, "user_id", req_user(r));
        mc_record *g = mc_store_add(&r->srv->world[MC_K_SERVER_GROUP], id, req_project(r), doc);
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "server_group", server_group_view(r, g));
        mc_reply_json(r, 200, root);
        return;
    }
    int all;
    if (mc_query_bool_or_reply(r, "all_projects", &all) != 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "server_groups");
    for (mc_record *g = mc_store_first(&r->srv->world[MC_K_SERVER_GROUP]); g; g = mc_store_next(g))
        if ((all == 1 && is_admin(r)) || strcmp(g->project_id, req_project(r)) == 0)
            cJSON_AddItemToArray(a, server_group_view(r, g));
    mc_reply_json(r, 200, root);
}

static void compute_server_group_show(mc_req *r) {
    mc_record *g = mc_store_find(&r->srv->world[MC_K_SERVER_GROUP], r->params[0]);
    if (g != NULL && !is_admin(r) && strcmp(g->project_id, req_project(r)) != 0) g = NULL;
    if (g == NULL) {
        mc_reply_error(r, 404, NULL, "Instance group %.64s could not be found.", r->params[0]);
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        mc_store_delete(&r->srv->world[MC_K_SERVER_GROUP], g);
        mc_reply_json(r, 204, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "server_group", server_group_view(r, g));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- routes */

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
#define PUT EVHTTP_REQ_PUT
#define DEL EVHTTP_REQ_DELETE

const mc_route compute_routes[] = {
    {MC_COMPUTE, GET, "/", compute_versions, MC_NO_AUTH},
    {MC_COMPUTE, GET, "/v2", compute_version_v20, 0},
    {MC_COMPUTE, GET, "/v2.1", compute_version_v21, 0},
    {MC_COMPUTE, GET, "/v2.1/flavors", compute_flavor_list, 0},
    {MC_COMPUTE, POST, "/v2.1/flavors", compute_flavor_create, MC_ADMIN | MC_BODY_JSON},
    {MC_COMPUTE, GET, "/v2.1/flavors/detail", compute_flavor_detail, 0},
    {MC_COMPUTE, GET, "/v2.1/flavors/{}", compute_flavor_show, 0},
    {MC_COMPUTE, PUT, "/v2.1/flavors/{}", compute_flavor_update, MC_ADMIN | MC_BODY_JSON},
    {MC_COMPUTE, DEL, "/v2.1/flavors/{}", compute_flavor_delete, MC_ADMIN},
    {MC_COMPUTE, GET | POST, "/v2.1/flavors/{}/os-extra_specs", compute_flavor_extra_specs, MC_BODY_OPT},
    {MC_COMPUTE, GET | PUT | DEL, "/v2.1/flavors/{}/os-extra_specs/{}", compute_flavor_extra_spec, MC_BODY_OPT},
    {MC_COMPUTE, GET, "/v2.1/flavors/{}/os-flavor-access", compute_flavor_access, MC_ADMIN},
    {MC_COMPUTE, POST, "/v2.1/flavors/{}/action", compute_flavor_action, MC_ADMIN | MC_BODY_JSON},
    {MC_COMPUTE, GET, "/v2.1/os-keypairs", compute_keypair_list, 0},
    {MC_COMPUTE, POST, "/v2.1/os-keypairs", compute_keypair_create, MC_BODY_JSON},
    {MC_COMPUTE, GET | DEL, "/v2.1/os-keypairs/{}", compute_keypair_show, 0},
    {MC_COMPUTE, GET, "/v2.1/os-availability-zone", compute_az_list, 0},
    {MC_COMPUTE, GET, "/v2.1/os-availability-zone/detail", compute_az_list, 0},
    {MC_COMPUTE, GET, "/v2.1/limits", compute_limits, 0},
    {MC_COMPUTE, GET, "/v2.1/os-quota-sets/{}", compute_quota_show, 0},
    {MC_COMPUTE, PUT, "/v2.1/os-quota-sets/{}", compute_quota_update, MC_ADMIN | MC_BODY_JSON},
    {MC_COMPUTE, DEL, "/v2.1/os-quota-sets/{}", compute_quota_update, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-quota-sets/{}/defaults", compute_quota_show, 0},
    {MC_COMPUTE, GET, "/v2.1/os-quota-sets/{}/detail", compute_quota_show, 0},
    {MC_COMPUTE, GET | POST | DEL, "/v2.1/os-security-groups", compute_secgroup_list, MC_BODY_OPT},
    {MC_COMPUTE, GET | PUT | DEL, "/v2.1/os-security-groups/{}", compute_secgroup_show, MC_BODY_OPT},
    {MC_COMPUTE, POST, "/v2.1/os-security-group-rules", compute_secgroup_rule_create, MC_BODY_JSON},
    {MC_COMPUTE, DEL, "/v2.1/os-security-group-rules/{}", compute_secgroup_rule_delete, 0},
    {MC_COMPUTE, GET | DEL, "/v2.1/images", compute_image_list, 0},
    {MC_COMPUTE, GET | POST | PUT, "/v2.1/images/{}/metadata", compute_image_metadata, MC_BODY_OPT},
    {MC_COMPUTE, GET | PUT | DEL, "/v2.1/images/{}/metadata/{}", compute_image_metadata_item, MC_BODY_OPT},
    {MC_COMPUTE, GET, "/v2.1/extensions", compute_extensions, 0},
    {MC_COMPUTE, GET, "/v2.1/extensions/{}", compute_extensions, 0},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-agents", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-agents/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-cells", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-cells/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-cloudpipe", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-cloudpipe/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-fping", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-fping/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-certificates", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-certificates/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-fixed-ips", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-fixed-ips/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-floating-ip-dns", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-floating-ip-dns/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-floating-ips-bulk", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-floating-ips-bulk/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-security-group-default-rules", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | PUT | DEL, "/v2.1/os-security-group-default-rules/{}", compute_removed, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST, "/v2.1/os-floating-ips", compute_floating_ips, MC_BODY_OPT},
    {MC_COMPUTE, GET | DEL, "/v2.1/os-floating-ips/{}", compute_floating_ip, 0},
    {MC_COMPUTE, GET, "/v2.1/os-floating-ip-pools", compute_floating_ip_pools, 0},
    {MC_COMPUTE, GET, "/v2.1/os-tenant-networks", compute_tenant_networks, 0},
    {MC_COMPUTE, GET | POST, "/v2.1/os-networks", compute_networks, MC_BODY_OPT},
    {MC_COMPUTE, GET | DEL, "/v2.1/os-networks/{}", compute_networks, 0},
    {MC_COMPUTE, GET | PUT, "/v2.1/os-quota-class-sets/{}", compute_quota_class, MC_ADMIN | MC_BODY_OPT},
    {MC_COMPUTE, GET, "/v2.1/os-tenant-networks/{}", compute_tenant_networks, 0},
    {MC_COMPUTE, GET, "/v2.1/images/detail", compute_image_detail, 0},
    {MC_COMPUTE, GET | DEL, "/v2.1/images/{}", compute_image_show, 0},
    {MC_COMPUTE, GET | POST, "/v2.1/os-server-groups", compute_server_group_list, MC_BODY_OPT},
    {MC_COMPUTE, GET | DEL, "/v2.1/os-server-groups/{}", compute_server_group_show, 0},
    {MC_COMPUTE, GET | POST, "/v2.1/os-aggregates", compute_aggregates, MC_ADMIN | MC_BODY_OPT},
    {MC_COMPUTE, GET | PUT | DEL, "/v2.1/os-aggregates/{}", compute_aggregate, MC_ADMIN | MC_BODY_OPT},
    {MC_COMPUTE, POST, "/v2.1/os-aggregates/{}/action", compute_aggregate_action, MC_ADMIN | MC_BODY_JSON},
    {MC_COMPUTE, GET, "/v2.1/os-hypervisors", compute_hypervisor_list, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-hypervisors/detail", compute_hypervisor_list, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-hypervisors/statistics", compute_hypervisor_statistics, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-hypervisors/{}", compute_hypervisor_show, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-hypervisors/{}/uptime", compute_hypervisor_uptime, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-hypervisors/{}/search", compute_hypervisor_search, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-hypervisors/{}/servers", compute_hypervisor_search, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-services", compute_service_list, MC_ADMIN},
    {MC_COMPUTE, PUT | DEL, "/v2.1/os-services/{}", compute_service, MC_ADMIN | MC_BODY_OPT},
    {MC_COMPUTE, GET, "/v2.1/os-hosts", compute_host_list, MC_ADMIN},
    {MC_COMPUTE, GET | PUT, "/v2.1/os-hosts/{}", compute_host, MC_ADMIN | MC_BODY_OPT},
    {MC_COMPUTE, GET, "/v2.1/os-hosts/{}/{}", compute_host_power, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-migrations", compute_migration_list, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/servers/{}/migrations", compute_server_migrations, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/servers/{}/migrations/{}", compute_server_migrations, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-simple-tenant-usage", compute_tenant_usage_list, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-simple-tenant-usage/{}", compute_tenant_usage_show, 0},
    {MC_COMPUTE, GET, "/v2.1/os-instance_usage_audit_log", compute_audit_log, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/os-instance_usage_audit_log/{}", compute_audit_log, MC_ADMIN},
    {MC_COMPUTE, GET, "/v2.1/servers/{}/diagnostics", compute_server_diagnostics, MC_ADMIN},
    {MC_COMPUTE, POST, "/v2.1/servers/{}/remote-consoles", compute_server_remote_console, MC_BODY_JSON},
    {MC_COMPUTE, POST, "/v2.1/os-server-external-events", compute_external_events, MC_ADMIN | MC_BODY_JSON},
    {MC_COMPUTE, GET, "/v2.1/servers", compute_server_list, 0},
    {MC_COMPUTE, POST, "/v2.1/servers", compute_server_create, MC_BODY_JSON},
    {MC_COMPUTE, GET, "/v2.1/servers/detail", compute_server_detail, 0},
    {MC_COMPUTE, GET, "/v2.1/servers/{}", compute_server_show, 0},
    {MC_COMPUTE, PUT, "/v2.1/servers/{}", compute_server_update, MC_BODY_JSON},
    {MC_COMPUTE, DEL, "/v2.1/servers/{}", compute_server_delete, 0},
    {MC_COMPUTE, POST, "/v2.1/servers/{}/action", compute_server_action, MC_BODY_JSON},
    {MC_COMPUTE, GET, "/v2.1/servers/{}/ips", compute_server_ips, 0},
    {MC_COMPUTE, GET, "/v2.1/servers/{}/ips/{}", compute_server_ips_network, 0},
    {MC_COMPUTE, GET | POST | PUT, "/v2.1/servers/{}/metadata", compute_server_metadata, MC_BODY_OPT},
    {MC_COMPUTE, GET | PUT | DEL, "/v2.1/servers/{}/metadata/{}", compute_server_metadata_item, MC_BODY_OPT},
    {MC_COMPUTE, GET | PUT | DEL, "/v2.1/servers/{}/tags", compute_server_tags, MC_BODY_OPT},
    {MC_COMPUTE, GET | PUT | DEL, "/v2.1/servers/{}/tags/{}", compute_server_tag, 0},
    {MC_COMPUTE, GET, "/v2.1/servers/{}/os-instance-actions", compute_server_actions_list, 0},
    {MC_COMPUTE, GET, "/v2.1/servers/{}/os-instance-actions/{}", compute_server_action_show, 0},
    {MC_COMPUTE, GET, "/v2.1/servers/{}/os-security-groups", compute_server_secgroups, 0},
    {MC_COMPUTE, GET | POST, "/v2.1/servers/{}/os-interface", compute_server_interfaces, MC_BODY_OPT},
    {MC_COMPUTE, GET | DEL, "/v2.1/servers/{}/os-interface/{}", compute_server_interface, 0},
    {MC_COMPUTE, GET | POST, "/v2.1/servers/{}/os-volume_attachments", compute_server_volume_attachments, MC_BODY_OPT},
    {MC_COMPUTE, GET | POST | DEL, "/v2.1/os-volumes", compute_volumes, MC_BODY_OPT},
    {MC_COMPUTE, GET, "/v2.1/os-volumes/detail", compute_volumes, 0},
    {MC_COMPUTE, GET | DEL, "/v2.1/os-volumes/{}", compute_volume, 0},
    {MC_COMPUTE, GET | PUT | DEL, "/v2.1/servers/{}/os-volume_attachments/{}", compute_server_volume_attachment, MC_BODY_OPT},
    {MC_COMPUTE, GET | DEL, "/v2.1/servers/{}/os-server-password", compute_server_password, 0},
};
const size_t compute_nroutes = sizeof compute_routes / sizeof compute_routes[0];

/* ---------------------------------------------------------------- fixtures */

static const struct { const char *key; long dflt; } quota_defaults[] = {
    {"instances", 10}, {"cores", 20}, {"ram", 51200}, {"floating_ips", 10}, {"fixed_ips", -1},
    {"metadata_items", 128}, {"key_pairs", 100}, {"security_groups", 10}, {"security_group_rules", 20},
    {"server_groups", 10}, {"server_group_members", 10}, {"injected_files", 5},
    {"injected_file_content_bytes", 10240}, {"injected_file_path_bytes", 255},
};

/* One fixtures tree's flavors (fixtures/compute.json, or the "compute" part
 * of a POST /mockcloud/v1/fixtures). Zones and quota defaults are state
 * settings of the file, read by compute_seed. */
int compute_seed_tree(mc_server *srv, const cJSON *fx, char *err, size_t errsz) {
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(fx, "flavors")) {
        const char *id = mc_json_str(x, "id"), *name = mc_json_str(x, "name");
        if (id == NULL || name == NULL || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "ram")) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "vcpus")) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(x, "disk")) ||
            cJSON_GetObjectItemCaseSensitive(x, "ram")->valuedouble < 0 ||
            cJSON_GetObjectItemCaseSensitive(x, "disk")->valuedouble < 0) {
            snprintf(err, errsz, "every flavor needs 'id', 'name', 'ram', 'vcpus' and 'disk' (ram and disk >= 0)");
            return -1;
        }
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "name", name);
        cJSON_AddNumberToObject(doc, "ram", jint(x, "ram"));
        cJSON_AddNumberToObject(doc, "vcpus", jint(x, "vcpus"));
        cJSON_AddNumberToObject(doc, "disk", jint(x, "disk"));
        cJSON_AddNumberToObject(doc, "ephemeral", jint(x, "ephemeral"));
        cJSON_AddNumberToObject(doc, "swap", jint(x, "swap"));
        cJSON_AddNumberToObject(doc, "rxtx_factor", 1.0);
        const cJSON *pub = cJSON_GetObjectItemCaseSensitive(x, "is_public");
        cJSON_AddBoolToObject(doc, "is_public", pub == NULL || cJSON_IsTrue(pub));
        cJSON_AddBoolToObject(doc, "disabled", false);
        mc_json_set_str(doc, "description", mc_json_str(x, "description"));
        cJSON *es = mc_json_obj(x, "extra_specs");
        cJSON_AddItemToObject(doc, "extra_specs", es ? cJSON_Duplicate(es, 1) : cJSON_CreateObject());
        cJSON_AddArrayToObject(doc, "access");
        if (flavor_add(srv, id, doc) == NULL) {
            cJSON_Delete(doc);
            snprintf(err, errsz, "duplicate flavor id '%.64s'", id);
            return -1;
        }
    }
    return 0;
}

int compute_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    compute_state *st = calloc(1, sizeof *st);
    if (st == NULL) mc_panic("out of memory");
    srv->svc_state[MC_COMPUTE] = st;
    st->quotas = cJSON_CreateObject();
    st->quota_defaults = cJSON_CreateObject();
    st->zones = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof quota_defaults / sizeof quota_defaults[0]; i++)
        cJSON_AddNumberToObject(st->quota_defaults, quota_defaults[i].key, (double)quota_defaults[i].dflt);

    char path[1024], why[400];
    snprintf(path, sizeof path, "%s/compute.json", dir);
    cJSON *fx = mc_json_load_file(path, err, errsz);
    if (fx == NULL) return -1;
    int rc = -1;
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(fx, "availability_zones"))
        if (cJSON_IsString(x)) cJSON_AddItemToArray(st->zones, cJSON_CreateString(x->valuestring));
    if (cJSON_GetArraySize(st->zones) == 0) cJSON_AddItemToArray(st->zones, cJSON_CreateString("nova"));
    cJSON_ArrayForEach(x, mc_json_obj(fx, "quotas")) {
        if (!cJSON_IsNumber(x) || !mc_json_has(st->quota_defaults, x->string)) {
            snprintf(err, errsz, "%s: unknown or non-numeric quota '%s'", path, x->string);
            goto out;
        }
        mc_json_set(st->quota_defaults, x->string, cJSON_CreateNumber(x->valuedouble));
    }
    if (compute_seed_tree(srv, fx, why, sizeof why) != 0) {
        snprintf(err, errsz, "%s: %s", path, why);
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(fx);
    return rc;
}

int compute_fixtures_check(mc_fx *fx, const cJSON *t) {
    if (mc_json_has(t, "availability_zones") || mc_json_has(t, "quotas"))
        return mc_fx_fail(fx, "compute: 'availability_zones' and 'quotas' are settings of fixtures/compute.json, read at start and on reset; they cannot be posted");
    if (mc_fx_keys(fx, "compute", t, (const char *const[]){"flavors", NULL}) || mc_fx_list(fx, "compute", t, "flavors"))
        return -1;
    const cJSON *x, *list = mc_json_arr(t, "flavors");
    int i = 0;
    char w[64];
    cJSON_ArrayForEach(x, list) {
        snprintf(w, sizeof w, "compute.flavors[%d]", i++);
        if (mc_fx_id(fx, w, x, "id", true, 64) || mc_fx_str(fx, w, x, "name", true, 255) ||
            mc_fx_num(fx, w, x, "ram", true, 1, 1 << 30) || mc_fx_num(fx, w, x, "vcpus", true, 1, 1 << 20) ||
            mc_fx_num(fx, w, x, "disk", true, 0, 1 << 30) || mc_fx_num(fx, w, x, "ephemeral", false, 0, 1 << 30) ||
            mc_fx_num(fx, w, x, "swap", false, 0, 1 << 30) || mc_fx_bool(fx, w, x, "is_public") ||
            mc_fx_str(fx, w, x, "description", false, 65535) || mc_fx_obj(fx, w, x, "extra_specs"))
            return -1;
        const cJSON *es;
        cJSON_ArrayForEach(es, mc_json_obj(x, "extra_specs"))
            if (!cJSON_IsString(es)) return mc_fx_fail(fx, "%s: extra_specs '%.64s' must be a string", w, es->string);
        const char *id = mc_json_str(x, "id"), *name = mc_json_str(x, "name");
        if (mc_store_find(&fx->srv->world[MC_K_FLAVOR], id) || mc_fx_dup_before(list, x, "id", NULL))
            return mc_fx_fail(fx, "%s: flavor id '%s' is taken", w, id);
        bool named = mc_fx_dup_before(list, x, "name", NULL);
        for (mc_record *f = mc_store_first(&fx->srv->world[MC_K_FLAVOR]); f && !named; f = mc_store_next(f))
            named = mc_str_eq(mc_json_str(f->doc, "name"), name);
        if (named) return mc_fx_fail(fx, "%s: a flavor is already named '%s'", w, name);
    }
    return 0;
}

void compute_reset(mc_server *srv) {
    servers_cancel_timers(srv);
    servers_reset(srv);
    compute_state *st = cs(srv);
    if (st == NULL) return;
    cJSON_Delete(st->quotas);
    cJSON_Delete(st->quota_defaults);
    cJSON_Delete(st->zones);
    compute_admin_free(st);
    free(st);
    srv->svc_state[MC_COMPUTE] = NULL;
}
