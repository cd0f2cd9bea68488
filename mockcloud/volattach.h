/* volattach.h -- the calls compute makes to the block storage service
 * (volume.c) for Nova's os-volume_attachments, server delete and the
 * server view's os-extended-volumes:volumes_attached: Nova's block device
 * mappings and Cinder's attachments are one record here, held by the
 * volume. A volume is attached to at most one server (no multiattach).
 *
 * The states, as Nova and Cinder walk them: attach reserves the volume
 * ("attaching") and the mapping exists from then on; volume.attach_ms later
 * the volume is "in-use" with its attachment listed. Detach makes it
 * "detaching"; volume.detach_ms later it is "available" and the mapping is
 * gone (compute is told through mc_compute_server_volumes_changed). */
#ifndef MC_VOLATTACH_H
#define MC_VOLATTACH_H

#include "mockcloud.h"

typedef struct mc_vol_attachment {
    const char *volume_id;
    const char *server_id;
    const char *device;             /* what Nova reports: "/dev/vdb" */
    const char *tag;                /* NULL: none */
    const char *attachment_id;      /* Cinder's attachment */
    const char *bdm_uuid;           /* Nova's block device mapping */
    const char *volume_status;      /* "attaching", "in-use", "detaching" */
    bool delete_on_termination;
} mc_vol_attachment;

/* The volume 'id' if the project may use it (its own; any for admin when
 * project_id is NULL), or NULL. */
mc_record *mc_volume_find(mc_server *srv, const char *id, const char *project_id);
/* Attaches 'vol' to the server (the next free /dev/vdX): 0 with *out
 * filled, or an HTTP status (400: the volume is not available, no device
 * name left) with Nova's message in err. */
int mc_volume_attach(mc_server *srv, mc_record *vol, const char *server_id, const char *tag, bool delete_on_termination,
                     mc_vol_attachment *out, char *err, size_t errsz);
/* The attachment of volume_id to server_id: true with *out filled. */
bool mc_volume_attachment(mc_server *srv, const char *server_id, const char *volume_id, mc_vol_attachment *out);
/* The server's attachments in attachment order: fills up to max, returns
 * how many there are. */
size_t mc_volume_server_attachments(mc_server *srv, const char *server_id, mc_vol_attachment *out, size_t max);
/* Starts detaching volume_id from server_id: 0, 404 (not attached to it) or
 * 400 (not in-use: still attaching or already detaching), message in err. */
int mc_volume_detach(mc_server *srv, const char *server_id, const char *volume_id, char *err, size_t errsz);
/* Nova 2.85: changes delete_on_termination of an attachment (false: none). */
bool mc_volume_set_delete_on_termination(mc_server *srv, const char *server_id, const char *volume_id, bool dot);
/* Swaps the in-use volume old_id of the server for 'nv' (available), which
 * takes over its device, tag and delete_on_termination at once; the old
 * volume is available again. 0, or 400 with Nova's message. */
int mc_volume_swap(mc_server *srv, const char *server_id, const char *old_id, mc_record *nv, char *err, size_t errsz);
/* The server is gone: its volumes are detached at once, those marked
 * delete_on_termination deleted. */
void mc_volume_server_gone(mc_server *srv, const char *server_id);

/* The server volume_id is attached to (the mapping exists), or NULL. */
const char *mc_volume_server_of(mc_server *srv, const char *volume_id);
/* Nova's os-volumes proxy (up to 2.35). A new volume of the project, as
 * POST /v3/volumes makes it from checked fields (metadata: an object of
 * strings or NULL): NULL with Cinder's message in err and *status (413 over
 * quota). */
mc_record *mc_volume_create(mc_server *srv, const char *project_id, const char *user_id, const char *name,
                            const char *description, long size, const cJSON *metadata, int *status, char *err,
                            size_t errsz);
/* Deletes a volume as DELETE /v3/volumes/{id}: 0, or 400 (attached, busy)
 * with Cinder's message. */
int mc_volume_delete(mc_server *srv, mc_record *v, char *err, size_t errsz);

/* Implemented by compute: the server's attachments changed (its cached
 * views, which list them, are dropped). Unknown ids are ignored. */
void mc_compute_server_volumes_changed(mc_server *srv, const char *server_id);

#endif
