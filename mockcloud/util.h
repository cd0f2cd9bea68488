/* util.h -- small helpers: logging, randomness, ids, time formats, strings. */
#ifndef MC_UTIL_H
#define MC_UTIL_H

#include "mockcloud.h"

enum { MC_LOG_DEBUG = 0, MC_LOG_INFO, MC_LOG_WARN, MC_LOG_ERROR };

void mc_log_set_level(int level);
int mc_log_level_parse(const char *name);   /* -1 if unknown */
void mc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mc_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Randomness: one splitmix64 stream in srv->rng, started from the seed, or
 * (seed 0) from the kernel once. Not for secrets. */
void mc_rand_init(mc_server *srv, uint64_t seed);
uint64_t mc_rand_u64(mc_server *srv);
void mc_rand_bytes(mc_server *srv, unsigned char *buf, size_t n);
/* Unguessable bytes for secrets (tokens): always the kernel unless seeded. */
void mc_secret_bytes(mc_server *srv, unsigned char *buf, size_t n);

void mc_uuid(mc_server *srv, char out[37]);        /* 8-4-4-4-12 */
void mc_uuid_hex(mc_server *srv, char out[33]);    /* 32 hex digits, Keystone ids */
void mc_hex(const unsigned char *in, size_t n, char *out);  /* out: 2n+1 */
void mc_b64url(const unsigned char *in, size_t n, char *out, size_t outsz);
bool mc_is_uuid(const char *s);

/* Time. mc_now() is wall-clock seconds with microseconds. */
double mc_now(void);
/* Formats: "2026-11-25T11:23:11.000000Z" (Keystone), "2026-11-25T11:23:11Z" (Nova,
 * Neutron, Glance). */
void mc_time_keystone(double t, char out[40]);
void mc_time_iso(double t, char out[32]);
double mc_time_parse(const char *s);   /* ISO 8601; -1 when malformed */

/* Strings. */
size_t mc_strlcpy(char *dst, const char *src, size_t size);
bool mc_str_eq(const char *a, const char *b);   /* NULL-safe */
bool mc_parse_long(const char *s, long min, long max, long *out);
bool mc_str_bool(const char *s, bool *out);      /* true/false/1/0/yes/no */

/* Appends {"rel": rel, "href": href} to the array 'links'; returns the link. */
cJSON *mc_json_add_link(cJSON *links, const char *rel, const char *href);
/* Sets "media-types": [{"base": "application/json", "type": type}] on 'v'. */
void mc_json_add_media_type(cJSON *v, const char *type);

/* Reads and parses a JSON file; NULL with the reason in err. Caller owns it. */
cJSON *mc_json_load_file(const char *path, char *err, size_t errsz);

#endif
