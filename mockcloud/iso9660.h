/* iso9660.h -- writes a small ISO 9660 image with Joliet names, in memory:
 * what a config drive is (genisoimage -J -V config-2 ...), without running a
 * tool. Primary names are upper-cased ISO names ("META_DATA.JSON;1"); the
 * Joliet tree carries the exact names, which Linux and isoinfo -J use. */
#ifndef MC_ISO9660_H
#define MC_ISO9660_H

#include <stddef.h>

typedef struct mc_iso_file {
    char path[256];           /* "openstack/latest/meta_data.json" (directories implied) */
    const void *data;         /* borrowed */
    size_t len;
} mc_iso_file;

/* Returns a malloc'd image of *len bytes (a multiple of 2048), or NULL when
 * the input does not fit the writer's limits (512 nodes, 64 children per
 * directory, names up to 64 characters). */
unsigned char *mc_iso_build(const char *volume_label, const mc_iso_file *files, size_t n, size_t *len);

#endif
