/* MD5 and SHA-512 against RFC 1321 / FIPS 180-4 vectors, streaming
 * boundaries, and the fixture images' published hashes against the bytes
 * a client downloads. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "harness.h"
#include "util.h"

void mc_image_gen_bytes(uint64_t seed, unsigned char *out, size_t len);

static void md5_hex(const void *d, size_t n, char out[33]) {
    mc_md5 c;
    unsigned char b[16];
    mc_md5_init(&c);
    mc_md5_update(&c, d, n);
    mc_md5_final(&c, b);
    mc_hex(b, 16, out);
}

static void sha512_hex(const void *d, size_t n, char out[129]) {
    mc_sha512 c;
    unsigned char b[64];
    mc_sha512_init(&c);
    mc_sha512_update(&c, d, n);
    mc_sha512_final(&c, b);
    mc_hex(b, 64, out);
}

Test(digest, md5_rfc1321_vectors) {
    char h[33];
    md5_hex("", 0, h);
    cr_expect(eq(str, h, "d41d8cd98f00b204e9800998ecf8427e"));
    md5_hex("abc", 3, h);
    cr_expect(eq(str, h, "900150983cd24fb0d6963f7d28e17f72"));
    const char *s = "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
    md5_hex(s, strlen(s), h);
    cr_expect(eq(str, h, "57edf4a22be3c955ac49da2e2107b67a"));
}

Test(digest, sha512_fips_vectors) {
    char h[129];
    sha512_hex("", 0, h);
    cr_expect(eq(str, h, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                         "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"));
    sha512_hex("abc", 3, h);
    cr_expect(eq(str, h, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                         "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"));
    const char *s = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                    "klmnopqrlmnopqrsmnopqrstnopqrstu";
    sha512_hex(s, strlen(s), h);
    cr_expect(eq(str, h, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
                         "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"));
}

/* Byte-at-a-time updates across the 55/56/64 and 111/112/128 boundaries
 * give the same digest as one update. */
Test(digest, streaming_equals_one_shot) {
    unsigned char buf[300];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 7 + 3);
    size_t lens[] = {55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 300};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        char a[129], b[129], c1[33], c2[33];
        mc_sha512 s;
        mc_md5 m;
        unsigned char d[64];
        mc_sha512_init(&s);
        mc_md5_init(&m);
        for (size_t i = 0; i < lens[k]; i++) {
            mc_sha512_update(&s, buf + i, 1);
            mc_md5_update(&m, buf + i, 1);
        }
        mc_sha512_final(&s, d);
        mc_hex(d, 64, a);
        mc_md5_final(&m, d);
        mc_hex(d, 16, c1);
        sha512_hex(buf, lens[k], b);
        md5_hex(buf, lens[k], c2);
        cr_expect(eq(str, a, b), "sha512 len %zu", lens[k]);
        cr_expect(eq(str, c1, c2), "md5 len %zu", lens[k]);
    }
}

/* fixtures/image.json publishes size/checksum/os_hash_value of generated
 * bytes: they must be what a download returns. */
Test(digest, fixture_image_hashes_match_generated_bytes) {
    char path[1024], err[256];
    cJSON *fx = mc_json_load_file(mc_test_path("fixtures/image.json", path, sizeof path), err, sizeof err);
    cr_assert(fx != NULL, "%s", err);
    cJSON *img;
    int n = 0;
    cJSON_ArrayForEach(img, cJSON_GetObjectItemCaseSensitive(fx, "images")) {
        cJSON *seed = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(img, "data"), "seed");
        if (!cJSON_IsNumber(seed)) continue;
        size_t len = (size_t)cJSON_GetObjectItemCaseSensitive(img, "size")->valuedouble;
        unsigned char *b = malloc(len);
        mc_image_gen_bytes((uint64_t)seed->valuedouble, b, len);
        char m[33], s[129];
        md5_hex(b, len, m);
        sha512_hex(b, len, s);
        cr_expect(eq(str, m, cJSON_GetObjectItemCaseSensitive(img, "checksum")->valuestring));
        cr_expect(eq(str, s, cJSON_GetObjectItemCaseSensitive(img, "os_hash_value")->valuestring));
        cr_expect(eq(int, memcmp(b, "QFI\xfb", 4), 0));
        free(b);
        n++;
    }
    cr_expect(ge(int, n, 2));
    cJSON_Delete(fx);
    mc_assert_no_leaks();
}
