/* compute_volumes.c -- Nova's os-volume_attachments (list, attach, show,
 * update/swap, detach) and the server view's
 * os-extended-volumes:volumes_attached, over the attachments the block
 * storage service holds (volattach.h).
 *
 * Shapes by microversion, as Nova's API and Tempest's schemas have them:
 * {"device", "id" (the volume id), "serverId", "volumeId"}; 2.70 adds
 * "tag"; 2.79 "delete_on_termination"; 2.89 drops "id" from list and show
 * and adds "attachment_id" (Cinder's) and "bdm_uuid". Attach and detach
 * need the server ACTIVE, PAUSED, SHUTOFF, VERIFY_RESIZE or SHELVED with no
 * task (409 otherwise, Nova's InstanceInvalidState); a volume that is not
 * available is Cinder's InvalidVolume (400), an unknown one 404. */
#include "compute_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTACH 64

/* A checked 'b' member (a boolean or one of its string forms) as a bool. */
static bool bool_member(const cJSON *in, const char *key) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(in, key);
    bool b = false;
    if (cJSON_IsBool(x)) return cJSON_IsTrue(x);
    if (cJSON_IsString(x) && mc_str_bool(x->valuestring, &b)) return b;
    if (cJSON_IsNumber(x)) return x->valuedouble != 0;
    return false;
}

static cJSON *attachment_view(mc_req *r, const mc_vol_attachment *a, bool created) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device", a->device);
    if (created || !mv_ge(r, 89)) cJSON_AddStringToObject(o, "id", a->volume_id);
    cJSON_AddStringToObject(o, "serverId", a->server_id);
    cJSON_AddStringToObject(o, "volumeId", a->volume_id);
    if (mv_ge(r, 70)) mc_json_set_str(o, "tag", a->tag);
    if (mv_ge(r, 79)) cJSON_AddBoolToObject(o, "delete_on_termination", a->delete_on_termination);
    if (mv_ge(r, 89) && !created) {
        cJSON_AddStringToObject(o, "attachment_id", a->attachment_id);
        cJSON_AddStringToObject(o, "bdm_uuid", a->bdm_uuid);
    }
    return o;
}

cJSON *compute_volumes_attached(mc_req *r, mc_record *s) {
    mc_vol_attachment a[MAX_ATTACH];
    cJSON *arr = cJSON_CreateArray();
    if (strcmp(mc_compute_server_status(s), "DELETED") == 0) return arr;
    size_t n = mc_volume_server_attachments(r->srv, s->id, a, MAX_ATTACH);
    for (size_t i = 0; i < n && i < MAX_ATTACH; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", a[i].volume_id);
        if (mv_ge(r, 3)) cJSON_AddBoolToObject(o, "delete_on_termination", a[i].delete_on_termination);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* Nova's check_instance_state for attach_volume/detach_volume/swap_volume:
 * 0, or -1 after a 409. */
static int state_ok_or_reply(mc_req *r, mc_record *s, const char *method) {
    static const char *const ok[] = {"active", "paused", "stopped", "resized", "soft-delete", "shelved",
                                     "shelved_offloaded"};
    const char *vm, *task;
    server_states(s, &vm, &task);
    bool vm_ok = false;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) vm_ok |= strcmp(vm, ok[i]) == 0;
    if (!vm_ok) {
        mc_reply_error(r, 409, NULL, "Cannot '%s' instance %s while it is in vm_state %s", method, s->id, vm);
        return -1;
    }
    if (task[0] != '\0') {
        mc_reply_error(r, 409, NULL, "Cannot '%s' instance %s while it is in task_state %s", method, s->id, task);
        return -1;
    }
    return 0;
}

static mc_record *server_or_404(mc_req *r) {
    mc_record *s = server_visible(r, r->params[0]);
    if (s == NULL) mc_reply_error(r, 404, NULL, "Instance %.64s could not be found.", r->params[0]);
    return s;
}

static void reply_attachment(mc_req *r, int status, const mc_vol_attachment *a, bool created) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "volumeAttachment", attachment_view(r, a, created));
    mc_reply_json(r, status, root);
}

/* Nova's device pattern: (^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$ */
static bool device_ok(const char *d) {
    if (strncmp(d, "/dev/", 5) != 0) return false;
    const char *p = d + 5;
    if (*p == '\0') return false;
    while (*p >= 'a' && *p <= 'z') p++;
    if (p == d + 5) return false;
    while (*p >= '0' && *p <= '9') p++;
    return *p == '\0';
}

/* The body's volumeAttachment, checked as Nova's schema for the request's
 * microversion; NULL after a 400. */
static const cJSON *attach_body_or_reply(mc_req *r, bool update) {
    const cJSON *in = mc_json_obj(r->body, "volumeAttachment");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute volumeAttachment. Value: %s. "
                                     "'volumeAttachment' is a required property", r->body ? "{}" : "None");
        return NULL;
    }
    char spec[160];
    snprintf(spec, sizeof spec, "!volumeId=u|device=S%s%s%s", !update && mv_ge(r, 49) ? "|tag=s60" : "",
             !update && mv_ge(r, 79) ? "|delete_on_termination=b" : "",
             update && mv_ge(r, 85) ? "|tag=S|delete_on_termination=b|serverId=s|id=s" : "");
    if (mc_check_or_reply(r, in, spec) != 0) return NULL;
    if (mc_json_str(in, "volumeId") == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute volumeAttachment. Value: {}. "
                                     "'volumeId' is a required property");
        return NULL;
    }
    const char *dev = mc_json_str(in, "device");
    if (dev != NULL && !device_ok(dev)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute device. Value: %.64s. '%.64s' does not match "
                                     "'(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'", dev, dev);
        return NULL;
    }
    const char *tag = mc_json_str(in, "tag");
    if (tag != NULL && strpbrk(tag, ",/") != NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute tag. Value: %.64s. '%.64s' does not match "
                                     "'^[^,/]*$'", tag, tag);
        return NULL;
    }
    return in;
}

static void attachments_list(mc_req *r, mc_record *s) {
    long limit, offset;
    if (mc_query_long_or_reply(r, "limit", 0, 1000000, 1000, &limit) != 0 ||
        mc_query_long_or_reply(r, "offset", 0, 1000000, 0, &offset) != 0)
        return;
    mc_vol_attachment a[MAX_ATTACH];
    size_t n = mc_volume_server_attachments(r->srv, s->id, a, MAX_ATTACH);
    if (n > MAX_ATTACH) n = MAX_ATTACH;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "volumeAttachments");
    for (size_t i = (size_t)offset; i < n && (long)(i - (size_t)offset) < limit; i++)
        cJSON_AddItemToArray(arr, attachment_view(r, &a[i], false));
    mc_reply_json(r, 200, root);
}

static void attach(mc_req *r, mc_record *s) {
    const cJSON *in = attach_body_or_reply(r, false);
    if (in == NULL) return;
    const char *vid = mc_json_str(in, "volumeId");
    mc_record *vol = mc_volume_find(r->srv, vid, s->project_id);
    if (vol == NULL) {
        mc_reply_error(r, 404, NULL, "Volume %.64s could not be found.", vid);
        return;
    }
    if (state_ok_or_reply(r, s, "attach_volume") != 0) return;
    /* HOOK: volume-device-name-ignored is seen by the guest; name it here */
    mc_knob(r, MC_KNOB_VOLUME_GUEST_DEVICE_SHIFT);
    mc_vol_attachment a;
    char err[400];
    int st = mc_volume_attach(r->srv, vol, s->id, mc_json_str(in, "tag"),
                              bool_member(in, "delete_on_termination"), &a, err,
                              sizeof err);
    if (st != 0) {
        mc_reply_error(r, st, NULL, "%s", err);
        return;
    }
    mc_compute_server_volumes_changed(r->srv, s->id);
    reply_attachment(r, 200, &a, true);
}

void compute_server_volume_attachments(mc_req *r) {
    mc_record *s = server_or_404(r);
    if (s == NULL) return;
    if (r->method == EVHTTP_REQ_POST) {
        if (!cJSON_IsObject(r->body)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute volumeAttachment. Value: None. "
                                         "'volumeAttachment' is a required property");
            return;
        }
        attach(r, s);
    } else {
        attachments_list(r, s);
    }
}

/* PUT: 2.85 updates delete_on_termination of the same volume; another
 * volumeId swaps the volume (admin only, Nova's default policy). */
static void attachment_update(mc_req *r, mc_record *s, const mc_vol_attachment *old) {
    const cJSON *in = attach_body_or_reply(r, true);
    if (in == NULL) return;
    const char *vid = mc_json_str(in, "volumeId");
    if (strcmp(vid, old->volume_id) == 0) {
        if (!mv_ge(r, 85)) {
            mc_reply_error(r, 400, NULL, "The volumeId in the request body must differ from the one in the URL "
                                         "before microversion 2.85.");
            return;
        }
        const char *dev = mc_json_str(in, "device"), *tag = mc_json_str(in, "tag");
        const char *sid = mc_json_str(in, "serverId"), *id = mc_json_str(in, "id");
        if ((dev && strcmp(dev, old->device) != 0) || (tag && !mc_str_eq(tag, old->tag)) ||
            (sid && strcmp(sid, s->id) != 0) || (id && strcmp(id, old->volume_id) != 0)) {
            mc_reply_error(r, 400, NULL, "Only delete_on_termination of a volume attachment can be updated.");
            return;
        }
        const cJSON *dot = cJSON_GetObjectItemCaseSensitive(in, "delete_on_termination");
        if (dot != NULL) mc_volume_set_delete_on_termination(r->srv, s->id, old->volume_id, bool_member(in, "delete_on_termination"));
        mc_compute_server_volumes_changed(r->srv, s->id);
        mc_reply_json(r, 202, NULL);
        return;
    }
    if (!is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed.");
        return;
    }
    mc_record *nv = mc_volume_find(r->srv, vid, NULL);
    if (nv == NULL) {
        mc_reply_error(r, 404, NULL, "Volume %.64s could not be found.", vid);
        return;
    }
    if (state_ok_or_reply(r, s, "swap_volume") != 0) return;
    if (strcmp(old->volume_status, "in-use") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid volume: volume %s is not in-use.", old->volume_id);
        return;
    }
    char err[400];
    int st = mc_volume_swap(r->srv, s->id, old->volume_id, nv, err, sizeof err);
    if (st != 0) {
        mc_reply_error(r, st, NULL, "%s", err);
        return;
    }
    mc_compute_server_volumes_changed(r->srv, s->id);
    mc_reply_json(r, 202, NULL);
}

void compute_server_volume_attachment(mc_req *r) {
    mc_record *s = server_or_404(r);
    if (s == NULL) return;
    const char *vid = r->params[1];
    mc_vol_attachment a;
    if (!mc_volume_attachment(r->srv, s->id, vid, &a)) {
        if (r->method == EVHTTP_REQ_DELETE && mc_volume_find(r->srv, vid, is_admin(r) ? NULL : s->project_id) == NULL)
            mc_reply_error(r, 404, NULL, "Volume %.64s could not be found.", vid);
        else
            mc_reply_error(r, 404, NULL, "Volume %.64s is not attached to the instance %s", vid, s->id);
        return;
    }
    if (r->method == EVHTTP_REQ_PUT) {
        attachment_update(r, s, &a);
        return;
    }
    if (r->method != EVHTTP_REQ_DELETE) {
        reply_attachment(r, 200, &a, false);
        return;
    }
    if (state_ok_or_reply(r, s, "detach_volume") != 0) return;
    char err[400];
    int st = mc_volume_detach(r->srv, s->id, vid, err, sizeof err);
    if (st != 0) {
        mc_reply_error(r, st, NULL, "%s", err);
        return;
    }
    mc_reply_json(r, 202, NULL);
}

/* ---------------------------------------------------------------- os-volumes proxy (up to 2.35) */

/* Nova's _translate_volume_detail_view of a Cinder volume. */
static cJSON *proxy_view(mc_server *srv, mc_record *v) {
    const cJSON *d = v->doc;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", v->id);
    cJSON_AddStringToObject(o, "status", mc_json_str(d, "status") ? mc_json_str(d, "status") : "");
    cJSON_AddNumberToObject(o, "size", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "size")));
    cJSON_AddStringToObject(o, "availabilityZone", mc_json_str(d, "availability_zone") ? mc_json_str(d, "availability_zone") : "");
    cJSON_AddStringToObject(o, "createdAt", mc_json_str(d, "created_at") ? mc_json_str(d, "created_at") : "");
    cJSON *atts = cJSON_AddArrayToObject(o, "attachments");
    mc_vol_attachment a;
    const char *server = mc_volume_server_of(srv, v->id);
    if (server != NULL && mc_volume_attachment(srv, server, v->id, &a) &&
        (strcmp(a.volume_status, "in-use") == 0 || strcmp(a.volume_status, "detaching") == 0)) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "id", v->id);
        cJSON_AddStringToObject(x, "volumeId", v->id);
        cJSON_AddStringToObject(x, "serverId", a.server_id);
        cJSON_AddStringToObject(x, "device", a.device);
        cJSON_AddItemToArray(atts, x);
    } else {
        cJSON_AddItemToArray(atts, cJSON_CreateObject());   /* Nova's [{}] */
    }
    mc_json_set_str(o, "displayName", mc_json_str(d, "name"));
    mc_json_set_str(o, "displayDescription", mc_json_str(d, "description"));
    mc_json_set_str(o, "volumeType", mc_json_str(d, "volume_type"));
    mc_json_set_str(o, "snapshotId", mc_json_str(d, "snapshot_id"));
    const cJSON *m = mc_json_obj(d, "metadata");
    cJSON_AddItemToObject(o, "metadata", m ? cJSON_Duplicate(m, 1) : cJSON_CreateObject());
    return o;
}

/* The proxy went away in 2.36: 404 after it, as for any unknown path. */
static int proxy_or_reply(mc_req *r) {
    if (!mv_ge(r, 36)) return 0;
    mc_reply_error(r, 404, NULL, "The resource could not be found.");
    return -1;
}

static void reply_proxy(mc_req *r, int status, mc_record *v) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "volume", proxy_view(r->srv, v));
    mc_reply_json(r, status, root);
}

void compute_volumes(mc_req *r) {
    if (proxy_or_reply(r) != 0) return;
    /* "os-volumes/" is a volume with an empty id (the router drops the
     * slash): Nova's 404, which Tempest's negative tests expect */
    size_t rl = strlen(r->raw_path);
    if (rl > 0 && r->raw_path[rl - 1] == '/' && r->method != EVHTTP_REQ_POST) {
        mc_reply_error(r, 404, NULL, "Volume  could not be found.");
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        mc_reply_error(r, 405, NULL, "The method DELETE is not allowed for this resource.");
        return;
    }
    if (r->method != EVHTTP_REQ_POST) {
        long limit, offset;
        if (mc_query_long_or_reply(r, "limit", 0, 1000000, 1000, &limit) != 0 ||
            mc_query_long_or_reply(r, "offset", 0, 1000000, 0, &offset) != 0)
            return;
        cJSON *root = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(root, "volumes");
        long i = 0, n = 0;
        for (mc_record *v = mc_store_first(&r->srv->world[MC_K_VOLUME]); v != NULL && n < limit; v = mc_store_next(v)) {
            if (mc_volume_find(r->srv, v->id, req_project(r)) == NULL) continue;
            if (i++ < offset) continue;
            cJSON_AddItemToArray(arr, proxy_view(r->srv, v));
            n++;
        }
        mc_reply_json(r, 200, root);
        return;
    }
    const cJSON *in = mc_json_obj(r->body, "volume");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute volume. Value: None. 'volume' is a required property");
        return;
    }
    if (mc_check_or_reply(r, in, "!size=v|display_name=s|display_description=s|volume_type=s|metadata=m255|"
                                 "snapshot_id=s|availability_zone=s") != 0)
        return;
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(in, "size");
    long size = -1;
    if (cJSON_IsNumber(sz) && sz->valuedouble == (double)(long)sz->valuedouble) size = (long)sz->valuedouble;
    else if (cJSON_IsString(sz) && !mc_parse_long(sz->valuestring, 0, 2147483647L, &size)) size = -1;
    if (sz == NULL || size < 1 || size > 2147483647L) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute size. Value: %s. %s",
                       sz == NULL ? "None" : cJSON_IsString(sz) ? sz->valuestring : "not a positive integer",
                       sz == NULL ? "'size' is a required property" : "It must be an integer of at least 1");
        return;
    }
    const char *type = mc_json_str(in, "volume_type");
    if (type != NULL && strcmp(type, "__DEFAULT__") != 0) {
        mc_reply_error(r, 404, NULL, "Volume type with name %.64s could not be found.", type);
        return;
    }
    const char *snap = mc_json_str(in, "snapshot_id");
    if (snap != NULL) {
        mc_reply_error(r, 404, NULL, "Snapshot %.64s could not be found.", snap);
        return;
    }
    const char *az = mc_json_str(in, "availability_zone");
    if (az != NULL && strcmp(az, "nova") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid input received: Availability zone '%.64s' is invalid.", az);
        return;
    }
    int status;
    char err[400];
    mc_record *v = mc_volume_create(r->srv, req_project(r), req_user(r), mc_json_str(in, "display_name"),
                                    mc_json_str(in, "display_description"), size,
                                    mc_json_obj(in, "metadata"), &status, err, sizeof err);
    if (v == NULL) {
        mc_reply_error(r, status == 413 ? 403 : status, NULL, "%s", err);   /* Nova: OverQuota is 403 */
        return;
    }
    reply_proxy(r, 200, v);
}

void compute_volume(mc_req *r) {
    if (proxy_or_reply(r) != 0) return;
    mc_record *v = mc_volume_find(r->srv, r->params[0], req_project(r));
    if (v == NULL) {
        mc_reply_error(r, 404, NULL, "Volume %.64s could not be found.", r->params[0]);
        return;
    }
    if (r->method != EVHTTP_REQ_DELETE) {
        reply_proxy(r, 200, v);
        return;
    }
    char err[400];
    if (mc_volume_delete(r->srv, v, err, sizeof err) != 0) {
        mc_reply_error(r, 400, NULL, "%s", err);
        return;
    }
    mc_reply_json(r, 202, NULL);
}
