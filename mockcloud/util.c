/* util.c -- logging, randomness, ids, time formats and string helpers.
 *
 * Randomness has two sources. Ids, MACs, addresses and passwords come from
 * one splitmix64 stream: with --seed it starts from the seed so runs are
 * reproducible; without, it starts from 8 bytes of getrandom() drawn once, so
 * the hot path (a request id per request) makes no system call. Tokens are
 * secrets: mc_secret_bytes() reads the kernel every time unless a seed was
 * asked for. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/time.h>

static int log_level = MC_LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void mc_log_set_level(int level) { log_level = level; }

int mc_log_level_parse(const char *name) {
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0) return i;
    if (strcmp(name, "warning") == 0) return MC_LOG_WARN;
    return -1;
}

void mc_log(int level, const char *fmt, ...) {
    if (level < log_level) return;
    char ts[32];
    mc_time_iso(mc_now(), ts);
    fprintf(stderr, "%s %-5s ", ts, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void mc_panic(const char *fmt, ...) {
    va_list ap;
    fputs("mockcloud: FATAL: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void kernel_bytes(unsigned char *buf, size_t n) {
    while (n > 0) {
        ssize_t got = getrandom(buf, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            mc_panic("getrandom: %s", strerror(errno));
        }
        buf += got;
        n -= (size_t)got;
    }
}

void mc_rand_init(mc_server *srv, uint64_t seed) {
    srv->cfg.seed = seed;
    srv->rng = seed;
    if (seed == 0) kernel_bytes((unsigned char *)&srv->rng, sizeof srv->rng);
}

uint64_t mc_rand_u64(mc_server *srv) { return splitmix64(&srv->rng); }

void mc_rand_bytes(mc_server *srv, unsigned char *buf, size_t n) {
    while (n > 0) {
        uint64_t v = splitmix64(&srv->rng);
        size_t k = n < 8 ? n : 8;
        memcpy(buf, &v, k);
        buf += k;
        n -= k;
    }
}

void mc_secret_bytes(mc_server *srv, unsigned char *buf, size_t n) {
    if (srv->cfg.seed == 0)
        kernel_bytes(buf, n);
    else
        mc_rand_bytes(srv, buf, n);
}

void mc_hex(const unsigned char *in, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void mc_uuid_hex(mc_server *srv, char out[33]) {
    unsigned char b[16];
    mc_rand_bytes(srv, b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    mc_hex(b, 16, out);
}

void mc_uuid(mc_server *srv, char out[37]) {
    char h[33];
    mc_uuid_hex(srv, h);
    /* 8-4-4-4-12 without printf: this runs for every request id. */
    memcpy(out, h, 8);
    out[8] = '-';
    memcpy(out + 9, h + 8, 4);
    out[13] = '-';
    memcpy(out + 14, h + 12, 4);
    out[18] = '-';
    memcpy(out + 19, h + 16, 4);
    out[23] = '-';
    memcpy(out + 24, h + 20, 12);
    out[36] = '\0';
}

bool mc_is_uuid(const char *s) {
    if (s == NULL) return false;
    size_t len = strlen(s);
    if (len == 32) {
        for (size_t i = 0; i < 32; i++)
            if (!isxdigit((unsigned char)s[i])) return false;
        return true;
    }
    if (len != 36) return false;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

void mc_b64url(const unsigned char *in, size_t n, char *out, size_t outsz) {
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && o + 1 < outsz; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6 && o + 1 < outsz) {
            bits -= 6;
            out[o++] = t[(acc >> bits) & 63];
        }
    }
    if (bits > 0 && o + 1 < outsz) out[o++] = t[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

double mc_now(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void mc_time_keystone(double t, char out[40]) {
    /* Round to the microsecond: a double holding a parsed ".125381" is
     * 0.12538099..., and truncating would print a different time. */
    long long us = (long long)(t * 1e6 + 0.5);
    time_t s = (time_t)(us / 1000000);
    int usec = (int)(us % 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    int year = tm.tm_year + 1900;
    if (year < 0 || year > 9999 || usec < 0) {
        snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, usec);
        return;
    }
    /* The same digits without snprintf (3,300 instructions; two a token). */
    const int fields[] = {year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec};
    static const int widths[] = {4, 2, 2, 2, 2, 2, 6};
    static const char seps[] = "--T::.Z";
    char *o = out;
    for (int i = 0; i < 7; i++) {
        int v = fields[i];
        for (int w = widths[i] - 1; w >= 0; w--, v /= 10) o[w] = (char)('0' + v % 10);
        o += widths[i];
        *o++ = seps[i];
    }
    *o = '\0';
}

void mc_time_iso(double t, char out[32]) {
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Accepts YYYY-MM-DD[Thh:mm[:ss[.frac]]][Z|+hh:mm|-hh:mm]. */
double mc_time_parse(const char *s) {
    if (s == NULL) return -1;
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) return -1;
    const char *p = s + n;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2) return -1;
        p += 1 + m;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &sec, &m) != 1) return -1;
            p += 1 + m;
        }
    }
    double frac = 0;
    if (*p == '.') {
        char *end;
        frac = strtod(p, &end);
        p = end;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = 0, om = 0, m = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2) {
            if (sscanf(p + 1, "%2d%2d%n", &oh, &om, &m) != 2) return -1;
        }
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 1 + m;
    }
    if (*p != '\0') return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    return (double)t - (double)off + frac;
}

size_t mc_strlcpy(char *dst, const char *src, size_t size) {
    size_t len = strlen(src);
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

bool mc_str_eq(const char *a, const char *b) {
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

bool mc_parse_long(const char *s, long min, long max, long *out) {
    if (s == NULL || *s == '\0') return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) return false;
    *out = v;
    return true;
}

bool mc_str_bool(const char *s, bool *out) {
    if (s == NULL) return false;
    if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) {
        *out = true;
        return true;
    }
    if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) {
        *out = false;
        return true;
    }
    return false;
}

cJSON *mc_json_add_link(cJSON *links, const char *rel, const char *href) {
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "rel", rel);
    cJSON_AddStringToObject(l, "href", href);
    cJSON_AddItemToArray(links, l);
    return l;
}

void mc_json_add_media_type(cJSON *v, const char *type) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "base", "application/json");
    cJSON_AddStringToObject(m, "type", type);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(v, "media-types"), m);
}

cJSON *mc_json_load_file(const char *path, char *err, size_t errsz) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (nb == NULL) mc_panic("out of memory");
            buf = nb;
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n < 4096) break;
    }
    fclose(f);
    buf[len] = '\0';
    cJSON *doc = cJSON_ParseWithLengthOpts(buf, len + 1, NULL, 1);
    free(buf);
    if (doc == NULL) snprintf(err, errsz, "%s: not valid JSON", path);
    return doc;
}


