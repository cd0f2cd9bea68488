/* imageapi.h -- what the image service (image.c) offers compute: image
 * lookup for imageRef, and snapshots for createImage. Records hold Glance v2's
 * shape in 'doc' (id, name, status, visibility, owner, min_disk, min_ram,
 * disk_format, container_format, size, ...). */
#ifndef MC_IMAGEAPI_H
#define MC_IMAGEAPI_H

#include "mockcloud.h"

/* An image the project may see (public, shared, community or its own), or NULL. */
mc_record *mc_image_find(mc_server *srv, const char *id, const char *project_id);
/* A new image owned by project_id with status "queued"; 'properties'
 * (borrowed, may be NULL) become extra properties (e.g. instance_uuid,
 * image_type "snapshot", base_image_ref). */
mc_record *mc_image_snapshot_create(mc_server *srv, const char *project_id, const char *name,
                                    const cJSON *properties);
/* Moves an image to a status ("saving", "active", ...), updating updated_at. */
void mc_image_set_status(mc_server *srv, mc_record *image, const char *status);
/* Deletes an image as DELETE /v2/images/{id} would. */
void mc_image_delete(mc_server *srv, mc_record *image);

/* Replaces the deployment's image configuration: the "stores" (Glance's
 * enabled_backends; empty = one store) and "show_multiple_locations" members
 * of fixtures/image.json, read at start. Images keep their data. 0, or -1
 * with the reason in err (the configuration is then a single store). */
int mc_image_configure(mc_server *srv, const cJSON *cfg, char *err, size_t errsz);

#endif
