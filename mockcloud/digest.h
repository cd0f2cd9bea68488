/* digest.h -- MD5 and SHA-512, streaming, for Glance's checksum and
 * os_hash_value (and anything else that needs a content hash). Plain C, no
 * library: the two algorithms as RFC 1321 and FIPS 180-4 define them. */
#ifndef MC_DIGEST_H
#define MC_DIGEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct mc_md5 {
    uint32_t h[4];
    uint64_t len;             /* bytes seen */
    unsigned char buf[64];
    size_t fill;
} mc_md5;

typedef struct mc_sha512 {
    uint64_t h[8];
    uint64_t len;             /* bytes seen (images stay far below 2^61) */
    unsigned char buf[128];
    size_t fill;
} mc_sha512;

void mc_md5_init(mc_md5 *c);
void mc_md5_update(mc_md5 *c, const void *data, size_t n);
void mc_md5_final(mc_md5 *c, unsigned char out[16]);

void mc_sha512_init(mc_sha512 *c);
void mc_sha512_update(mc_sha512 *c, const void *data, size_t n);
void mc_sha512_final(mc_sha512 *c, unsigned char out[64]);

#endif
