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
