/* volapi.h -- what the block storage service (volume.c) offers the other services. */
#ifndef MC_VOLAPI_H
#define MC_VOLAPI_H
#include "mockcloud.h"
#include <stdint.h>
typedef struct mc_vol_disk {
    const char *volume_id;
    const char *device;        /* "/dev/vdb", as Nova's attachment says */
    uint64_t size_bytes;       /* the volume's size in GiB * 2^30 */
} mc_vol_disk;
/* Fills up to max disks attached to server_id (in attachment order) and returns how many
 * there are; the pointers stay valid until the next write to the volume store. */
size_t mc_volume_server_disks(mc_server *srv, const char *server_id, mc_vol_disk *out, size_t max);
#endif
