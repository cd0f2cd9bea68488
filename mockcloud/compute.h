/* compute.h -- the parts of compute.c that unit tests reach: microversion
 * parsing and the server state machine's status mapping. */
#ifndef MC_COMPUTE_H
#define MC_COMPUTE_H

#include "mockcloud.h"

/* Negotiates the compute microversion as Nova does from the two request
 * headers (either may be NULL): "OpenStack-API-Version: compute X.Y" wins
 * over the legacy "X-OpenStack-Nova-API-Version: X.Y"; "latest" is the
 * maximum; no header means the minimum, 2.1... of the range [2.min, 2.max].
 * Returns 0 with *minor set, -1 when the version string is malformed (400),
 * -2 when it lies outside the range (406). */
int mc_compute_mv_negotiate(const char *std_hdr, const char *legacy_hdr, int min_minor, int max_minor,
                            int *minor, char *asked, size_t askedsz);

/* Nova's API status for a (vm_state, task_state) pair (task_state NULL or ""
 * for none), e.g. ("active", "rebooting") -> "REBOOT". */
const char *mc_compute_status(const char *vm_state, const char *task_state);

/* Nova's API status of a server record made by compute ("ACTIVE",
 * "DELETED", ...), or NULL for a record compute did not make. The metadata
 * service uses it to answer 404 for deleted servers. */
const char *mc_compute_server_status(const mc_record *server);
/* When the server's guest last booted (build, reboot, start, rebuild,
 * resize, rescue...; not pause or suspend): 0 when never. guest.c's uptime. */
double mc_compute_server_booted(const mc_record *server);

/* A server record's fields as a tree of Nova's names (name, tenant_id,
 * user_id, key_name, availability_zone, launch_index, reservation_id,
 * config_drive, hostname, user_data, metadata, image {"id"}, flavor,
 * security_groups [{"name"}], launched_at, status...): compute keeps
 * servers compact and builds this on demand. Borrowed: valid until the
 * server changes or the next request. Other records: their doc. */
const cJSON *mc_compute_server_doc(mc_record *server);

#endif
