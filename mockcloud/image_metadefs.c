/* image_metadefs.c -- Glance's metadata definitions catalogue (metadefs):
 * namespaces, their objects, properties, tags and resource type
 * associations, and the resource types.
 *
 * Records: each namespace is a record of MC_K_METADEF_NS keyed by its name
 * (project_id = the owner) whose 'doc' holds the namespace's own fields plus
 * its contents, always present: "resource_type_associations" (array),
 * "objects" (array, creation order), "properties" (object: name -> the
 * property without its name, as Glance lists them) and "tags" (array of
 * {name, created_at, updated_at}). Replies are views built from it (self and
 * schema links added, empty collections left out as Glance's WSME models
 * do). Resource types are records of MC_K_METADEF_RT keyed by name.
 *
 * Policy is Glance's default (2023.1 and later): everyone may read public
 * namespaces and their own private ones (others are 404), every write is
 * admin only (403 "You are not authorized to complete ACTION action.").
 * A protected namespace cannot be deleted, nor anything in it (403). Names of
 * namespaces, objects and properties are unique (409), tag names too,
 * ignoring case. Errors are Glance's (webob's) through mc_reply_error. */
#include "auth.h"
#include "http.h"
#include "image_int.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAMESPACES(srv) (&(srv)->world[MC_K_METADEF_NS])
#define RTYPES(srv) (&(srv)->world[MC_K_METADEF_RT])
#define NAME_MAX_LEN 80
#define MD_LIMIT_DEFAULT 25
#define MD_LIMIT_MAX 1000

static const char *const property_types[] = {"array", "boolean", "integer", "number", "object", "string", NULL};
/* Members a property definition may have (PropertyType's schema). */
#define PROPERTY_SPEC                                                                                         \
    "!name=s80|title=s|type=s|description=S|default=v|minimum=n|maximum=n|enum=a|pattern=S|minLength=i|"      \
    "maxLength=i|confidential=B|items=O|uniqueItems=B|minItems=i|maxItems=i|additionalItems=B|readonly=B|" \
    "operators=a|required=a"

static bool in_list(const char *const *list, const char *s) {
    if (s == NULL) return false;
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

static void now_iso(char ts[32]) { mc_time_iso(mc_now(), ts); }

static void stamp(cJSON *o, bool created) {
    char ts[32];
    now_iso(ts);
    if (created) mc_json_set_str(o, "created_at", ts);
    mc_json_set_str(o, "updated_at", ts);
}

/* ---------------------------------------------------------------- policy, lookups */

static bool md_admin(const mc_req *r) { return mc_auth_is_admin(r->tok); }

static int admin_or_reply(mc_req *r, const char *action) {
    if (md_admin(r)) return 0;
    mc_reply_error(r, 403, NULL, "You are not authorized to complete %s action.", action);
    return -1;
}

static bool ns_visible(const mc_req *r, const mc_record *ns) {
    return md_admin(r) || mc_str_eq(mc_json_str(ns->doc, "visibility"), "public") ||
           mc_str_eq(ns->project_id, mc_auth_project(r));
}

/* The namespace named by params[0] the caller may see, or 404. */
static mc_record *ns_or_reply(mc_req *r) {
    mc_record *ns = mc_store_find(NAMESPACES(r->srv), r->params[0]);
    if (ns == NULL || !ns_visible(r, ns)) {
        mc_reply_error(r, 404, NULL, "Metadata definition namespace=%s was not found.", r->params[0]);
        return NULL;
    }
    return ns;
}

/* The same, for a write: 404 when unseen, then 403 unless admin. */
static mc_record *ns_write_or_reply(mc_req *r, const char *action) {
    mc_record *ns = ns_or_reply(r);
    if (ns == NULL || admin_or_reply(r, action) != 0) return NULL;
    return ns;
}

static int unprotected_or_reply(mc_req *r, const mc_record *ns, const char *what, const char *name) {
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ns->doc, "protected"))) return 0;
    mc_reply_error(r, 403, NULL, "Metadata definition %s %s is protected and cannot be deleted.", what, name);
    return -1;
}

/* An element of 'arr' whose "name" is 'name' (case-insensitive for tags). */
static cJSON *named(const cJSON *arr, const char *name, bool nocase) {
    cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        const char *n = mc_json_str(x, "name");
        if (n != NULL && name != NULL && (nocase ? strcasecmp(n, name) : strcmp(n, name)) == 0) return x;
    }
    return NULL;
}

static void ns_touch(mc_record *ns) { stamp(ns->doc, false); }

/* ---------------------------------------------------------------- views */

static void copy_if(cJSON *to, const cJSON *from, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
    if (v != NULL && !cJSON_IsNull(v)) cJSON_AddItemToObject(to, key, cJSON_Duplicate(v, 1));
}

static cJSON *object_view(const char *ns, const cJSON *o) {
    char href[400];
    cJSON *v = cJSON_Duplicate(o, 1);
    if (!mc_json_has(v, "required")) cJSON_AddItemToObject(v, "required", cJSON_CreateArray());
    if (!mc_json_has(v, "properties")) cJSON_AddItemToObject(v, "properties", cJSON_CreateObject());
    snprintf(href, sizeof href, "/v2/metadefs/namespaces/%s/objects/%s", ns, mc_json_str(o, "name"));
    cJSON_AddStringToObject(v, "self", href);
    cJSON_AddStringToObject(v, "schema", "/v2/schemas/metadefs/object");
    return v;
}

static cJSON *property_view(const char *name, const cJSON *p) {
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", name);
    const cJSON *f;
    cJSON_ArrayForEach(f, p) cJSON_AddItemToObject(v, f->string, cJSON_Duplicate(f, 1));
    return v;
}

static cJSON *tag_view(const cJSON *t) {
    cJSON *v = cJSON_CreateObject();
    copy_if(v, t, "name");
    copy_if(v, t, "created_at");
    copy_if(v, t, "updated_at");
    return v;
}

/* A namespace as Glance shows it; 'detail' adds its objects, properties and
 * tags (GET of one namespace). */
static cJSON *ns_view(const mc_record *ns, bool detail) {
    static const char *const own[] = {"namespace", "display_name", "description", "visibility", "protected",
                                      "owner", "created_at", "updated_at", NULL};
    char href[300];
    cJSON *v = cJSON_CreateObject();
    for (size_t i = 0; own[i] != NULL; i++) copy_if(v, ns->doc, own[i]);
    const cJSON *rta = mc_json_arr(ns->doc, "resource_type_associations");
    if (cJSON_GetArraySize(rta) > 0) cJSON_AddItemToObject(v, "resource_type_associations", cJSON_Duplicate(rta, 1));
    if (detail) {
        const cJSON *objs = mc_json_arr(ns->doc, "objects"), *props = mc_json_obj(ns->doc, "properties"), *x;
        if (cJSON_GetArraySize(objs) > 0) {
            cJSON *a = cJSON_AddArrayToObject(v, "objects");
            cJSON_ArrayForEach(x, objs) cJSON_AddItemToArray(a, object_view(ns->id, x));
        }
        if (props != NULL && props->child != NULL) cJSON_AddItemToObject(v, "properties", cJSON_Duplicate(props, 1));
        const cJSON *tags = mc_json_arr(ns->doc, "tags");
        if (cJSON_GetArraySize(tags) > 0) {
            cJSON *a = cJSON_AddArrayToObject(v, "tags");
            cJSON_ArrayForEach(x, tags) {
                cJSON *t = cJSON_CreateObject();
                copy_if(t, x, "name");
                cJSON_AddItemToArray(a, t);
            }
        }
    }
    snprintf(href, sizeof href, "/v2/metadefs/namespaces/%s", ns->id);
    cJSON_AddStringToObject(v, "self", href);
    cJSON_AddStringToObject(v, "schema", "/v2/schemas/metadefs/namespace");
    return v;
}

/* ---------------------------------------------------------------- checks
 * Each returns 0, or -1 with Glance's 400 text in 'why'. */

static int bad(char *why, size_t whysz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t whysz, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
    return -1;
}

static int check_spec(const cJSON *o, const char *spec, char *why, size_t whysz) {
    char field[96], reason[200];
    if (!cJSON_IsObject(o)) return bad(why, whysz, "%s", "Invalid input: a JSON object is expected.");
    if (!mc_check(o, spec, field, sizeof field, reason, sizeof reason)) {
        snprintf(why, whysz, "Invalid input for field/attribute %s. Value: %s", field, reason);
        return -1;
    }
    return 0;
}

static int check_name(const cJSON *o, const char *what, char *why, size_t whysz) {
    const char *n = mc_json_str(o, "name");
    if (n == NULL || n[0] == '\0') {
        snprintf(why, whysz, "Invalid input for field/attribute name. Value: None. Mandatory field missing (%s).", what);
        return -1;
    }
    return 0;
}

/* A property definition (without or with its "name"). */
static int check_property(const cJSON *p, bool with_name, char *why, size_t whysz) {
    if (check_spec(p, PROPERTY_SPEC, why, whysz) != 0) return -1;
    if (with_name && check_name(p, "property", why, whysz) != 0) return -1;
    if (mc_json_str(p, "title") == NULL)
        return bad(why, whysz, "%s", "Invalid input for field/attribute title. Value: None. Mandatory field missing.");
    const char *type = mc_json_str(p, "type");
    if (!in_list(property_types, type))
        return bad(why, whysz, "Invalid input for field/attribute type. Value: %.64s. Value should be one of: "
                   "array, boolean, integer, number, object, string", type ? type : "None");
    return 0;
}

static int check_properties(const cJSON *props, char *why, size_t whysz) {
    if (props == NULL || cJSON_IsNull(props)) return 0;
    if (!cJSON_IsObject(props)) return bad(why, whysz, "%s", "Invalid input for field/attribute properties: an object is expected.");
    const cJSON *p;
    cJSON_ArrayForEach(p, props) {
        if (strlen(p->string) == 0 || strlen(p->string) > NAME_MAX_LEN)
            return bad(why, whysz, "%s", "Invalid input: a property name is 1 to 80 characters.");
        if (check_property(p, false, why, whysz) != 0) return -1;
    }
    return 0;
}

static int check_object(const cJSON *o, char *why, size_t whysz) {
    if (check_spec(o, "!name=s80|description=S|required=r|properties=O|schema=s|self=s|created_at=s|updated_at=s",
                   why, whysz) != 0 ||
        check_name(o, "object", why, whysz) != 0)
        return -1;
    return check_properties(cJSON_GetObjectItemCaseSensitive(o, "properties"), why, whysz);
}

static int check_tag(const cJSON *t, char *why, size_t whysz) {
    if (check_spec(t, "!name=s255|created_at=s|updated_at=s", why, whysz) != 0) return -1;
    return check_name(t, "tag", why, whysz);
}

/* A stored object from a checked request body. */
static cJSON *object_from(const cJSON *in, const cJSON *old) {
    cJSON *o = cJSON_CreateObject();
    copy_if(o, in, "name");
    copy_if(o, in, "description");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(in, "required");
    cJSON_AddItemToObject(o, "required", req ? cJSON_Duplicate(req, 1) : cJSON_CreateArray());
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(in, "properties");
    cJSON_AddItemToObject(o, "properties", cJSON_IsObject(props) ? cJSON_Duplicate(props, 1) : cJSON_CreateObject());
    if (old != NULL) copy_if(o, old, "created_at");
    stamp(o, old == NULL);
    return o;
}

/* A stored property (its members without "name"). */
static cJSON *property_from(const cJSON *in) {
    cJSON *p = cJSON_CreateObject();
    const cJSON *f;
    cJSON_ArrayForEach(f, in) {
        if (strcmp(f->string, "name") != 0) cJSON_AddItemToObject(p, f->string, cJSON_Duplicate(f, 1));
    }
    return p;
}

static cJSON *tag_new(const char *name) {
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", name);
    stamp(t, true);
    return t;
}

static cJSON *assoc_from(const cJSON *in) {
    cJSON *a = cJSON_CreateObject();
    copy_if(a, in, "name");
    copy_if(a, in, "prefix");
    copy_if(a, in, "properties_target");
    stamp(a, true);
    return a;
}

static int check_assoc(mc_server *srv, const cJSON *a, const char *ns, int *status, char *why, size_t whysz) {
    *status = 400;
    if (check_spec(a, "!name=s80|prefix=S80|properties_target=S80|created_at=s|updated_at=s", why, whysz) != 0 ||
        check_name(a, "resource type association", why, whysz) != 0)
        return -1;
    if (mc_store_find(RTYPES(srv), mc_json_str(a, "name")) == NULL) {
        *status = 404;
        snprintf(why, whysz, "The metadata definition resource-type with name=%.80s, was not found.", mc_json_str(a, "name"));
        (void)ns;
        return -1;
    }
    return 0;
}

/* The namespace's own members from a create or update body. */
static const char NS_SPEC[] = "!namespace=s80|display_name=S80|description=S500|visibility=s|protected=B|owner=S255|"
                              "resource_type_associations=A|objects=A|properties=O|tags=A|schema=s|self=s|"
                              "created_at=s|updated_at=s";

static int check_ns_fields(const cJSON *b, char *why, size_t whysz) {
    if (check_spec(b, NS_SPEC, why, whysz) != 0) return -1;
    const char *name = mc_json_str(b, "namespace");
    if (name == NULL || name[0] == '\0')
        return bad(why, whysz, "%s", "Invalid input for field/attribute namespace. Value: None. Mandatory field missing.");
    if (strchr(name, '/') != NULL)
        return bad(why, whysz, "Invalid input for field/attribute namespace. Value: %.80s. A namespace has no '/'.", name);
    const char *vis = mc_json_str(b, "visibility");
    if (vis != NULL && strcmp(vis, "public") != 0 && strcmp(vis, "private") != 0)
        return bad(why, whysz, "Invalid input for field/attribute visibility. Value: %.64s. Value should be one of: public, private",
                   vis);
    return 0;
}

/* ---------------------------------------------------------------- seed */

/* One namespace document (Glance's etc/metadefs format, or a create body
 * already checked) into a stored doc, or NULL with the reason. */
static cJSON *ns_doc_from(mc_server *srv, const cJSON *b, const char *owner, int *status, char *why, size_t whysz) {
    *status = 400;
    if (check_ns_fields(b, why, whysz) != 0) return NULL;
    const char *nsname = mc_json_str(b, "namespace");
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "namespace", nsname);
    copy_if(d, b, "display_name");
    copy_if(d, b, "description");
    cJSON_AddStringToObject(d, "visibility", mc_json_str(b, "visibility") ? mc_json_str(b, "visibility") : "private");
    cJSON_AddBoolToObject(d, "protected", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "protected")));
    cJSON_AddStringToObject(d, "owner", owner);
    stamp(d, true);
    cJSON *rta = cJSON_AddArrayToObject(d, "resource_type_associations");
    cJSON *objs = cJSON_AddArrayToObject(d, "objects");
    cJSON *props = cJSON_AddObjectToObject(d, "properties");
    cJSON *tags = cJSON_AddArrayToObject(d, "tags");
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(b, "resource_type_associations")) {
        if (check_assoc(srv, x, nsname, status, why, whysz) != 0) goto fail;
        if (named(rta, mc_json_str(x, "name"), false) != NULL) {
            *status = 409;
            snprintf(why, whysz, "The metadata definition resource-type association of resource-type=%.80s to namespace=%.80s already exists.",
                     mc_json_str(x, "name"), nsname);
            goto fail;
        }
        cJSON_AddItemToArray(rta, assoc_from(x));
    }
    *status = 400;
    cJSON_ArrayForEach(x, mc_json_arr(b, "objects")) {
        if (check_object(x, why, whysz) != 0) goto fail;
        if (named(objs, mc_json_str(x, "name"), false) != NULL) {
            *status = 409;
            snprintf(why, whysz, "A metadata definition object with name=%.80s already exists in namespace=%.80s.",
                     mc_json_str(x, "name"), nsname);
            goto fail;
        }
        cJSON_AddItemToArray(objs, object_from(x, NULL));
    }
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(b, "properties");
    if (check_properties(pin, why, whysz) != 0) goto fail;
    cJSON_ArrayForEach(x, pin) cJSON_AddItemToObject(props, x->string, property_from(x));
    cJSON_ArrayForEach(x, mc_json_arr(b, "tags")) {
        if (check_tag(x, why, whysz) != 0) goto fail;
        if (named(tags, mc_json_str(x, "name"), true) != NULL) {
            *status = 409;
            snprintf(why, whysz, "A metadata tag with name=%.80s already exists in namespace=%.80s. (Please note that metadata tag names are case insensitive).",
                     mc_json_str(x, "name"), nsname);
            goto fail;
        }
        cJSON_AddItemToArray(tags, tag_new(mc_json_str(x, "name")));
    }
    return d;
fail:
    cJSON_Delete(d);
    return NULL;
}

int image_metadefs_seed(mc_server *srv, const cJSON *md, char *err, size_t errsz) {
    if (md == NULL) return 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(md, "resource_types")) {
        if (!cJSON_IsString(x) || x->valuestring[0] == '\0' || strlen(x->valuestring) > NAME_MAX_LEN) {
            snprintf(err, errsz, "metadefs.resource_types: names are strings of 1 to 80 characters");
            return -1;
        }
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "name", x->valuestring);
        stamp(d, true);
        if (mc_store_add(RTYPES(srv), x->valuestring, "", d) == NULL) {
            cJSON_Delete(d);
            snprintf(err, errsz, "metadefs.resource_types: '%s' twice", x->valuestring);
            return -1;
        }
    }
    const char *owner = mc_json_str(md, "owner");
    cJSON_ArrayForEach(x, mc_json_arr(md, "namespaces")) {
        int status;
        char why[300];
        cJSON *d = ns_doc_from(srv, x, owner ? owner : "", &status, why, sizeof why);
        if (d == NULL) {
            snprintf(err, errsz, "metadefs namespace '%s': %s", mc_json_str(x, "namespace") ? mc_json_str(x, "namespace") : "?", why);
            return -1;
        }
        const char *name = mc_json_str(d, "namespace");
        if (mc_store_add(NAMESPACES(srv), name, owner ? owner : "", d) == NULL) {
            snprintf(err, errsz, "metadefs namespace '%s' twice", name);
            cJSON_Delete(d);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- namespaces */

typedef struct ns_q {
    const mc_req *r;
    const char *visibility;
    const char *resource_types;   /* comma list, any of them */
} ns_q;

static bool ns_has_rt(const mc_record *ns, const char *list) {
    const cJSON *a;
    cJSON_ArrayForEach(a, mc_json_arr(ns->doc, "resource_type_associations")) {
        const char *n = mc_json_str(a, "name");
        size_t nl = n ? strlen(n) : 0;
        for (const char *p = list; p != NULL && *p;) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            if (l == nl && strncmp(p, n, l) == 0) return true;
            p = e ? e + 1 : NULL;
        }
    }
    return false;
}

static bool ns_filter(const mc_record *ns, void *arg) {
    const ns_q *q = arg;
    if (!ns_visible(q->r, ns)) return false;
    if (q->visibility != NULL && !mc_str_eq(mc_json_str(ns->doc, "visibility"), q->visibility)) return false;
    if (q->resource_types != NULL && !ns_has_rt(ns, q->resource_types)) return false;
    return true;
}

/* GET /v2/metadefs/namespaces: newest first (sort_dir=asc oldest first),
 * limit/marker, visibility and resource_types filters. */
void image_md_namespace_list(mc_req *r) {
    ns_q q = {r, mc_query(r, "visibility"), mc_query(r, "resource_types")};
    if (q.visibility != NULL && strcmp(q.visibility, "public") != 0 && strcmp(q.visibility, "private") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid visibility value: %.64s", q.visibility);
        return;
    }
    static const char *const keys[] = {"created_at", "updated_at", "namespace", "display_name", NULL};
    const char *sk = mc_query(r, "sort_key"), *sd = mc_query(r, "sort_dir");
    if (sk != NULL && !in_list(keys, sk)) {
        mc_reply_error(r, 400, NULL, "Invalid sort key: %.64s. It must be one of the following: created_at, updated_at, namespace, display_name.", sk);
        return;
    }
    if (sd != NULL && strcmp(sd, "asc") != 0 && strcmp(sd, "desc") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid sort direction: %.64s", sd);
        return;
    }
    long limit;
    if (mc_query_long_or_reply(r, "limit", 0, 1L << 30, MD_LIMIT_DEFAULT, &limit) != 0) return;
    if (limit > MD_LIMIT_MAX) limit = MD_LIMIT_MAX;
    const char *marker = mc_query(r, "marker");
    mc_record *m = marker ? mc_store_find(NAMESPACES(r->srv), marker) : NULL;
    if (marker != NULL && (m == NULL || !ns_visible(r, m))) {
        mc_reply_error(r, 404, NULL, "Metadata definition namespace=%.80s was not found.", marker);
        return;
    }
    mc_record **page = malloc(sizeof *page * (size_t)(limit > 0 ? limit : 1));
    if (page == NULL) mc_panic("out of memory");
    bool more = false;
    long n = mc_store_page(NAMESPACES(r->srv), marker, limit, !mc_str_eq(sd, "asc"), ns_filter, &q, page,
                           (size_t)(limit > 0 ? limit : 1), &more);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "namespaces");
    for (long i = 0; i < n; i++) cJSON_AddItemToArray(arr, ns_view(page[i], false));
    cJSON_AddStringToObject(root, "first", "/v2/metadefs/namespaces");
    cJSON_AddStringToObject(root, "schema", "/v2/schemas/metadefs/namespaces");
    if (n > 0 && n == limit) {
        char next[300];
        int l = snprintf(next, sizeof next, "/v2/metadefs/namespaces?marker=%s", page[n - 1]->id);
        if (limit != MD_LIMIT_DEFAULT && l > 0 && (size_t)l < sizeof next)
            snprintf(next + l, sizeof next - (size_t)l, "&limit=%ld", limit);
        cJSON_AddStringToObject(root, "next", next);
    }
    free(page);
    mc_reply_json(r, 200, root);
}

void image_md_namespace_create(mc_req *r) {
    if (admin_or_reply(r, "add_metadef_namespace") != 0) return;
    int status;
    char why[400];
    const char *owner = mc_json_str(r->body, "owner");
    cJSON *d = ns_doc_from(r->srv, r->body, owner ? owner : mc_auth_project(r), &status, why, sizeof why);
    if (d == NULL) {
        mc_reply_error(r, status, NULL, "%s", why);
        return;
    }
    const char *name = mc_json_str(d, "namespace");
    mc_record *ns = mc_store_find(NAMESPACES(r->srv), name);
    if (ns != NULL) {
        mc_reply_error(r, 409, NULL, "The metadata definition namespace=%s already exists.", name);
        cJSON_Delete(d);
        return;
    }
    ns = mc_store_add(NAMESPACES(r->srv), name, mc_json_str(d, "owner"), d);
    mc_reply_json(r, 201, ns_view(ns, true));
}

void image_md_namespace_show(mc_req *r) {
    mc_record *ns = ns_or_reply(r);
    if (ns == NULL) return;
    cJSON *v = ns_view(ns, true);
    /* ?resource_type=X: property names get that association's prefix */
    const char *rt = mc_query(r, "resource_type");
    const cJSON *a = rt ? named(mc_json_arr(ns->doc, "resource_type_associations"), rt, false) : NULL;
    const char *prefix = a ? mc_json_str(a, "prefix") : NULL;
    cJSON *props = mc_json_obj(v, "properties");
    if (prefix != NULL && props != NULL) {
        cJSON *np = cJSON_CreateObject();
        for (cJSON *p = props->child; p != NULL; p = p->next) {
            char key[256];
            snprintf(key, sizeof key, "%s%s", prefix, p->string);
            cJSON_AddItemToObject(np, key, cJSON_Duplicate(p, 1));
        }
        mc_json_set(v, "properties", np);
    }
    mc_reply_json(r, 200, v);
}

/* PUT /v2/metadefs/namespaces/{ns}: the namespace's own fields as Glance
 * sets them (visibility private and protected false unless given; a new
 * name moves everything). */
void image_md_namespace_update(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "modify_metadef_namespace");
    if (ns == NULL) return;
    char why[400];
    if (check_ns_fields(r->body, why, sizeof why) != 0) {
        mc_reply_error(r, 400, NULL, "%s", why);
        return;
    }
    const char *name = mc_json_str(r->body, "namespace");
    if (strcmp(name, ns->id) != 0 && mc_store_find(NAMESPACES(r->srv), name) != NULL) {
        mc_reply_error(r, 409, NULL, "The metadata definition namespace=%s already exists.", name);
        return;
    }
    cJSON *d = cJSON_Duplicate(ns->doc, 1);
    mc_json_set_str(d, "namespace", name);
    static const char *const opt[] = {"display_name", "description", NULL};
    for (size_t i = 0; opt[i] != NULL; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->body, opt[i]);
        if (v != NULL)
            mc_json_set(d, opt[i], cJSON_Duplicate(v, 1));
        else
            cJSON_DeleteItemFromObjectCaseSensitive(d, opt[i]);
    }
    const char *vis = mc_json_str(r->body, "visibility");
    mc_json_set_str(d, "visibility", vis ? vis : "private");
    mc_json_set(d, "protected", cJSON_CreateBool(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->body, "protected"))));
    const char *owner = mc_json_str(r->body, "owner");
    if (owner != NULL) mc_json_set_str(d, "owner", owner);
    stamp(d, false);
    char owner_id[40];
    mc_strlcpy(owner_id, owner ? owner : ns->project_id, sizeof owner_id);
    if (strcmp(name, ns->id) == 0) {
        cJSON_Delete(ns->doc);
        ns->doc = d;
        mc_strlcpy(ns->project_id, owner_id, sizeof ns->project_id);
    } else {
        mc_store_delete(NAMESPACES(r->srv), ns);
        ns = mc_store_add(NAMESPACES(r->srv), name, owner_id, d);
    }
    mc_reply_json(r, 200, ns_view(ns, false));
}

void image_md_namespace_delete(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "delete_metadef_namespace");
    if (ns == NULL || unprotected_or_reply(r, ns, "namespace", ns->id) != 0) return;
    mc_store_delete(NAMESPACES(r->srv), ns);
    mc_reply_json(r, 204, NULL);
}

/* DELETE .../objects, .../properties, .../tags: everything of one kind;
 * not in a protected namespace. */
static void delete_all(mc_req *r, const char *action, const char *key) {
    mc_record *ns = ns_write_or_reply(r, action);
    if (ns == NULL || unprotected_or_reply(r, ns, "namespace", ns->id) != 0) return;
    mc_json_set(ns->doc, key, strcmp(key, "properties") == 0 ? cJSON_CreateObject() : cJSON_CreateArray());
    ns_touch(ns);
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- objects */

void image_md_object_list(mc_req *r) {
    mc_record *ns = ns_or_reply(r);
    if (ns == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "objects");
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(ns->doc, "objects")) cJSON_AddItemToArray(a, object_view(ns->id, x));
    cJSON_AddStringToObject(root, "schema", "v2/schemas/metadefs/objects");
    mc_reply_json(r, 200, root);
}

static cJSON *object_or_reply(mc_req *r, const mc_record *ns) {
    cJSON *o = named(mc_json_arr(ns->doc, "objects"), r->params[1], false);
    if (o == NULL)
        mc_reply_error(r, 404, NULL, "The metadata definition object with name=%s was not found in namespace=%s.",
                       r->params[1], ns->id);
    return o;
}

void image_md_object_create(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "add_metadef_object");
    if (ns == NULL) return;
    char why[400];
    if (check_object(r->body, why, sizeof why) != 0) {
        mc_reply_error(r, 400, NULL, "%s", why);
        return;
    }
    cJSON *objs = mc_json_arr(ns->doc, "objects");
    const char *name = mc_json_str(r->body, "name");
    if (named(objs, name, false) != NULL) {
        mc_reply_error(r, 409, NULL, "A metadata definition object with name=%s already exists in namespace=%s.", name,
                       ns->id);
        return;
    }
    cJSON *o = object_from(r->body, NULL);
    cJSON_AddItemToArray(objs, o);
    ns_touch(ns);
    mc_reply_json(r, 201, object_view(ns->id, o));
}

void image_md_object_show(mc_req *r) {
    mc_record *ns = ns_or_reply(r);
    cJSON *o = ns ? object_or_reply(r, ns) : NULL;
    if (o != NULL) mc_reply_json(r, 200, object_view(ns->id, o));
}

void image_md_object_update(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "modify_metadef_object");
    cJSON *o = ns ? object_or_reply(r, ns) : NULL;
    if (o == NULL) return;
    char why[400];
    if (check_object(r->body, why, sizeof why) != 0) {
        mc_reply_error(r, 400, NULL, "%s", why);
        return;
    }
    cJSON *objs = mc_json_arr(ns->doc, "objects");
    const char *name = mc_json_str(r->body, "name");
    cJSON *other = named(objs, name, false);
    if (other != NULL && other != o) {
        mc_reply_error(r, 409, NULL, "A metadata definition object with name=%s already exists in namespace=%s.", name,
                       ns->id);
        return;
    }
    cJSON *n = object_from(r->body, o);
    cJSON_ReplaceItemViaPointer(objs, o, n);
    ns_touch(ns);
    mc_reply_json(r, 200, object_view(ns->id, n));
}

void image_md_object_delete(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "delete_metadef_object");
    cJSON *o = ns ? object_or_reply(r, ns) : NULL;
    if (o == NULL || unprotected_or_reply(r, ns, "object", r->params[1]) != 0) return;
    cJSON_Delete(cJSON_DetachItemViaPointer(mc_json_arr(ns->doc, "objects"), o));
    ns_touch(ns);
    mc_reply_json(r, 204, NULL);
}

void image_md_object_delete_all(mc_req *r) { delete_all(r, "delete_metadef_namespace", "objects"); }

/* ---------------------------------------------------------------- properties */

void image_md_property_list(mc_req *r) {
    mc_record *ns = ns_or_reply(r);
    if (ns == NULL) return;
    cJSON *root = cJSON_CreateObject();
    const cJSON *props = mc_json_obj(ns->doc, "properties");
    cJSON_AddItemToObject(root, "properties", props ? cJSON_Duplicate(props, 1) : cJSON_CreateObject());
    mc_reply_json(r, 200, root);
}

/* The property params[1], or 404. GET also finds it under an association's
 * prefix (?resource_type=). */
static cJSON *property_or_reply(mc_req *r, const mc_record *ns) {
    cJSON *props = mc_json_obj(ns->doc, "properties");
    const char *name = r->params[1];
    const char *rt = r->method == EVHTTP_REQ_GET ? mc_query(r, "resource_type") : NULL;
    if (rt != NULL) {
        const cJSON *a = named(mc_json_arr(ns->doc, "resource_type_associations"), rt, false);
        const char *prefix = a ? mc_json_str(a, "prefix") : NULL;
        if (prefix != NULL && strncmp(name, prefix, strlen(prefix)) == 0) name += strlen(prefix);
    }
    cJSON *p = cJSON_GetObjectItemCaseSensitive(props, name);
    if (p == NULL)
        mc_reply_error(r, 404, NULL, "The metadata definition property with name=%s was not found in namespace=%s.",
                       r->params[1], ns->id);
    return p;
}

void image_md_property_create(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "add_metadef_property");
    if (ns == NULL) return;
    char why[400];
    if (check_property(r->body, true, why, sizeof why) != 0) {
        mc_reply_error(r, 400, NULL, "%s", why);
        return;
    }
    cJSON *props = mc_json_obj(ns->doc, "properties");
    const char *name = mc_json_str(r->body, "name");
    if (cJSON_GetObjectItemCaseSensitive(props, name) != NULL) {
        mc_reply_error(r, 409, NULL, "A metadata definition property with name=%s already exists in namespace=%s.", name,
                       ns->id);
        return;
    }
    cJSON *p = property_from(r->body);
    cJSON_AddItemToObject(props, name, p);
    ns_touch(ns);
    mc_reply_json(r, 201, property_view(name, p));
}

void image_md_property_show(mc_req *r) {
    mc_record *ns = ns_or_reply(r);
    cJSON *p = ns ? property_or_reply(r, ns) : NULL;
    if (p != NULL) mc_reply_json(r, 200, property_view(r->params[1], p));
}

void image_md_property_update(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "modify_metadef_property");
    cJSON *p = ns ? property_or_reply(r, ns) : NULL;
    if (p == NULL) return;
    char why[400];
    if (check_property(r->body, true, why, sizeof why) != 0) {
        mc_reply_error(r, 400, NULL, "%s", why);
        return;
    }
    cJSON *props = mc_json_obj(ns->doc, "properties");
    const char *name = mc_json_str(r->body, "name");
    if (strcmp(name, r->params[1]) != 0 && cJSON_GetObjectItemCaseSensitive(props, name) != NULL) {
        mc_reply_error(r, 409, NULL, "A metadata definition property with name=%s already exists in namespace=%s.", name,
                       ns->id);
        return;
    }
    cJSON_Delete(cJSON_DetachItemViaPointer(props, p));
    cJSON *n = property_from(r->body);
    cJSON_AddItemToObject(props, name, n);
    ns_touch(ns);
    mc_reply_json(r, 200, property_view(name, n));
}

void image_md_property_delete(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "remove_metadef_property");
    cJSON *p = ns ? property_or_reply(r, ns) : NULL;
    if (p == NULL || unprotected_or_reply(r, ns, "property", r->params[1]) != 0) return;
    cJSON_Delete(cJSON_DetachItemViaPointer(mc_json_obj(ns->doc, "properties"), p));
    ns_touch(ns);
    mc_reply_json(r, 204, NULL);
}

void image_md_property_delete_all(mc_req *r) { delete_all(r, "delete_metadef_namespace", "properties"); }

/* ---------------------------------------------------------------- tags */

void image_md_tag_list(mc_req *r) {
    mc_record *ns = ns_or_reply(r);
    if (ns == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "tags");
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(ns->doc, "tags")) cJSON_AddItemToArray(a, tag_view(x));
    mc_reply_json(r, 200, root);
}

static cJSON *tag_or_reply(mc_req *r, const mc_record *ns) {
    cJSON *t = named(mc_json_arr(ns->doc, "tags"), r->params[1], true);
    if (t == NULL)
        mc_reply_error(r, 404, NULL, "The metadata definition tag with name=%s was not found in namespace=%s.",
                       r->params[1], ns->id);
    return t;
}

static void reply_dup_tag(mc_req *r, const char *name, const char *ns) {
    mc_reply_error(r, 409, NULL,
                   "A metadata tag with name=%s already exists in namespace=%s. (Please note that metadata tag names are case insensitive).",
                   name, ns);
}

/* POST .../tags {"tags": [{"name"}...]}: replaces the namespace's tags, or
 * adds to them with X-Openstack-Append: True (2.10). */
void image_md_tags_create(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "add_metadef_tags");
    if (ns == NULL) return;
    char why[400];
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(r->body, "tags"), *x;
    if (check_spec(r->body, "!tags=a", why, sizeof why) != 0 || in == NULL) {
        mc_reply_error(r, 400, NULL, "%s", in == NULL ? "Invalid input for field/attribute tags. Value: None. Mandatory field missing." : why);
        return;
    }
    bool append = false;
    const char *h = mc_header(r, "X-Openstack-Append");
    if (h != NULL && !mc_str_bool(h, &append)) {
        mc_reply_error(r, 400, NULL, "Invalid value for X-Openstack-Append: %.32s", h);
        return;
    }
    cJSON *tags = append ? cJSON_Duplicate(mc_json_arr(ns->doc, "tags"), 1) : cJSON_CreateArray();
    cJSON *out = cJSON_CreateObject();
    cJSON *outa = cJSON_AddArrayToObject(out, "tags");
    cJSON_ArrayForEach(x, in) {
        if (check_tag(x, why, sizeof why) != 0) {
            mc_reply_error(r, 400, NULL, "%s", why);
            goto fail;
        }
        const char *name = mc_json_str(x, "name");
        if (named(tags, name, true) != NULL) {
            reply_dup_tag(r, name, ns->id);
            goto fail;
        }
        cJSON_AddItemToArray(tags, tag_new(name));
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", name);
        cJSON_AddItemToArray(outa, t);
    }
    mc_json_set(ns->doc, "tags", tags);
    ns_touch(ns);
    mc_reply_json(r, 201, out);
    return;
fail:
    cJSON_Delete(tags);
    cJSON_Delete(out);
}

void image_md_tag_show(mc_req *r) {
    mc_record *ns = ns_or_reply(r);
    cJSON *t = ns ? tag_or_reply(r, ns) : NULL;
    if (t != NULL) mc_reply_json(r, 200, tag_view(t));
}

/* POST .../tags/{name} (no body). */
void image_md_tag_create(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "add_metadef_tag");
    if (ns == NULL) return;
    const char *name = r->params[1];
    if (strlen(name) > 255) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute name. Value: %.64s... At most 255 characters.", name);
        return;
    }
    cJSON *tags = mc_json_arr(ns->doc, "tags");
    if (named(tags, name, true) != NULL) {
        reply_dup_tag(r, name, ns->id);
        return;
    }
    cJSON *t = tag_new(name);
    cJSON_AddItemToArray(tags, t);
    ns_touch(ns);
    mc_reply_json(r, 201, tag_view(t));
}

void image_md_tag_update(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "modify_metadef_tag");
    cJSON *t = ns ? tag_or_reply(r, ns) : NULL;
    if (t == NULL) return;
    char why[400];
    if (check_tag(r->body, why, sizeof why) != 0) {
        mc_reply_error(r, 400, NULL, "%s", why);
        return;
    }
    const char *name = mc_json_str(r->body, "name");
    cJSON *other = named(mc_json_arr(ns->doc, "tags"), name, true);
    if (other != NULL && other != t) {
        reply_dup_tag(r, name, ns->id);
        return;
    }
    mc_json_set_str(t, "name", name);
    stamp(t, false);
    ns_touch(ns);
    mc_reply_json(r, 200, tag_view(t));
}

void image_md_tag_delete(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "delete_metadef_tag");
    cJSON *t = ns ? tag_or_reply(r, ns) : NULL;
    if (t == NULL || unprotected_or_reply(r, ns, "tag", r->params[1]) != 0) return;
    cJSON_Delete(cJSON_DetachItemViaPointer(mc_json_arr(ns->doc, "tags"), t));
    ns_touch(ns);
    mc_reply_json(r, 204, NULL);
}

void image_md_tag_delete_all(mc_req *r) { delete_all(r, "delete_metadef_tags", "tags"); }

/* ---------------------------------------------------------------- resource types */

void image_md_resource_type_list(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "resource_types");
    for (mc_record *x = mc_store_first(RTYPES(r->srv)); x != NULL; x = mc_store_next(x))
        cJSON_AddItemToArray(a, cJSON_Duplicate(x->doc, 1));
    mc_reply_json(r, 200, root);
}

void image_md_rt_assoc_list(mc_req *r) {
    mc_record *ns = ns_or_reply(r);
    if (ns == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "resource_type_associations",
                          cJSON_Duplicate(mc_json_arr(ns->doc, "resource_type_associations"), 1));
    mc_reply_json(r, 200, root);
}

void image_md_rt_assoc_create(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "add_metadef_resource_type_association");
    if (ns == NULL) return;
    int status;
    char why[400];
    if (check_assoc(r->srv, r->body, ns->id, &status, why, sizeof why) != 0) {
        mc_reply_error(r, status, NULL, "%s", why);
        return;
    }
    cJSON *rta = mc_json_arr(ns->doc, "resource_type_associations");
    const char *name = mc_json_str(r->body, "name");
    if (named(rta, name, false) != NULL) {
        mc_reply_error(r, 409, NULL,
                       "The metadata definition resource-type association of resource-type=%s to namespace=%s already exists.",
                       name, ns->id);
        return;
    }
    cJSON *a = assoc_from(r->body);
    cJSON_AddItemToArray(rta, a);
    ns_touch(ns);
    mc_reply_json(r, 201, cJSON_Duplicate(a, 1));
}

void image_md_rt_assoc_delete(mc_req *r) {
    mc_record *ns = ns_write_or_reply(r, "remove_metadef_resource_type_association");
    if (ns == NULL) return;
    cJSON *rta = mc_json_arr(ns->doc, "resource_type_associations");
    cJSON *a = named(rta, r->params[1], false);
    if (a == NULL) {
        mc_reply_error(r, 404, NULL,
                       "The metadata definition resource-type association of resource-type=%s to namespace=%s, was not found.",
                       r->params[1], ns->id);
        return;
    }
    if (unprotected_or_reply(r, ns, "resource-type association", r->params[1]) != 0) return;
    cJSON_Delete(cJSON_DetachItemViaPointer(rta, a));
    ns_touch(ns);
    mc_reply_json(r, 204, NULL);
}
