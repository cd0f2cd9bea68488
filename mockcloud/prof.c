/* prof.c -- per-request CPU time (prof.h). Samples are kept whole (4 bytes
 * each, only while profiling) so the quantiles are exact; the 20 slowest
 * keep their label. */
#include "prof.h"
#include "journal.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int mc_prof_on = -1;

#define WORST 20

#define GROUPS 48
#define BUCKETS 96            /* 4 a doubling from 250 ns: up to ~4 s */

/* Spans of one kind: the method and the path with ids as {id}, no query. */
typedef struct group {
    int method;
    char key[96];
    uint64_t n, sum_ns;
    uint32_t max_ns;
    uint32_t hist[BUCKETS];
} group;

static struct {
    group g[GROUPS];
    int ng;
    uint32_t *ns;             /* every span's CPU time, ns (capped at 4 s) */
    size_t n, cap;
    uint64_t total_ns;
    mc_prof_span worst[WORST];
    uint32_t worst_ns[WORST];
    char out[512];
} P;

static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void at_exit(void) {
    mc_prof_report();
    free(P.ns);
    P.ns = NULL;
}

static bool enabled(void) {
    if (mc_prof_on < 0) {
        const char *v = getenv("MOCKCLOUD_PROF");
        mc_prof_on = v != NULL && *v != '\0' && strcmp(v, "0") != 0;
        if (mc_prof_on) {
            mc_strlcpy(P.out, strcmp(v, "1") == 0 ? "" : v, sizeof P.out);
            atexit(at_exit);
        }
    }
    return mc_prof_on == 1;
}

mc_prof_span mc_prof_begin(int method, const char *label) {
    mc_prof_span s = {0, 0, {0}};
    if (!enabled()) return s;
    s.method = method;
    mc_strlcpy(s.label, label ? label : "?", sizeof s.label);
    s.t0 = cpu_ns();
    return s;
}

static int bucket(uint32_t ns) {
    int b = 0;
    for (double edge = 250 * 1.189207115; b < BUCKETS - 1 && ns >= edge; edge *= 1.189207115) b++;
    return b;
}

static double bucket_top_us(int b) {
    double edge = 250 * 1.189207115;
    for (int i = 0; i < b; i++) edge *= 1.189207115;
    return edge / 1000.0;
}

/* A path segment that names one thing: long, or with digits and a dash. */
static bool is_id(const char *p, size_t n) {
    if (n >= 20) return true;
    bool digit = false;
    for (size_t i = 0; i < n; i++) digit |= p[i] >= '0' && p[i] <= '9';
    return digit && n >= 8;
}

/* The label with every id (path segment or query value) as {id}. */
static void group_key(const char *label, char *out, size_t outsz) {
    size_t o = 0;
    const char *p = label;
    while (*p != '\0' && o + 6 < outsz) {
        if (strchr("/?&=", *p) != NULL) {
            out[o++] = *p++;
            continue;
        }
        size_t n = strcspn(p, "/?&=");
        if (is_id(p, n)) {
            memcpy(out + o, "{id}", 4);
            o += 4;
        } else {
            size_t k = n < outsz - o - 6 ? n : outsz - o - 6;
            memcpy(out + o, p, k);
            o += k;
        }
        p += n;
    }
    out[o] = '\0';
}

static void group_add(const mc_prof_span *s, uint32_t ns) {
    char key[96];
    if (s->label[0] == '/') group_key(s->label, key, sizeof key);
    else mc_strlcpy(key, s->label, sizeof key);
    group *g = NULL;
    for (int i = 0; i < P.ng && g == NULL; i++)
        if (P.g[i].method == s->method && strcmp(P.g[i].key, key) == 0) g = &P.g[i];
    if (g == NULL) {
        g = &P.g[P.ng < GROUPS ? P.ng++ : GROUPS - 1];
        if (g->n == 0) {
            g->method = s->method;
            mc_strlcpy(g->key, P.ng < GROUPS ? key : "(other)", sizeof g->key);
        }
    }
    g->n++;
    g->sum_ns += ns;
    if (ns > g->max_ns) g->max_ns = ns;
    g->hist[bucket(ns)]++;
}

static double group_q(const group *g, double q) {
    uint64_t want = (uint64_t)(q * (double)g->n), seen = 0;
    for (int b = 0; b < BUCKETS; b++) {
        seen += g->hist[b];
        if (seen > want) return bucket_top_us(b);
    }
    return g->max_ns / 1000.0;
}

void mc_prof_end(mc_prof_span *s) {
    if (s->t0 == 0) return;
    uint64_t d = cpu_ns() - s->t0;
    uint32_t ns = d > 4000000000u ? 4000000000u : (uint32_t)d;
    if (P.n == P.cap) {
        P.cap = P.cap ? P.cap * 2 : 65536;
        uint32_t *p = realloc(P.ns, P.cap * sizeof *p);
        if (p == NULL) mc_panic("out of memory");
        P.ns = p;
    }
    P.ns[P.n++] = ns;
    group_add(s, ns);
    P.total_ns += d;
    int min = 0;
    for (int i = 1; i < WORST; i++)
        if (P.worst_ns[i] < P.worst_ns[min]) min = i;
    if (ns > P.worst_ns[min]) {
        P.worst_ns[min] = ns;
        P.worst[min] = *s;
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void mc_prof_report(void) {
    if (mc_prof_on != 1 || P.n == 0) return;
    FILE *f = P.out[0] ? fopen(P.out, "w") : stderr;
    if (f == NULL) return;
    uint32_t *s = malloc(P.n * sizeof *s);
    if (s == NULL) mc_panic("out of memory");
    memcpy(s, P.ns, P.n * sizeof *s);
    qsort(s, P.n, sizeof *s, cmp_u32);
    fprintf(f, "mockcloud CPU time per span (thread CPU clock): %zu spans, %.1f us mean\n", P.n,
            (double)P.total_ns / 1000.0 / (double)P.n);
    static const double qs[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        fprintf(f, "  p%-7g %9.1f us\n", qs[i] * 100, s[(size_t)(qs[i] * (double)(P.n - 1))] / 1000.0);
    fprintf(f, "  max      %9.1f us\nhistogram (us, log2 buckets):\n", s[P.n - 1] / 1000.0);
    size_t lo = 0;
    for (uint64_t top = 1000; lo < P.n; top *= 2) {
        size_t hi = lo;
        while (hi < P.n && s[hi] < top) hi++;
        if (hi > lo) fprintf(f, "  < %8.0f us %10zu\n", (double)top / 1000.0, hi - lo);
        lo = hi;
    }
    fprintf(f, "by kind (quantiles: upper edge of a 2^(1/4) bucket):\n  %-6s %-44s %8s %8s %8s %8s %9s %9s\n",
            "", "path", "count", "mean us", "p50 us", "p99 us", "p99.9 us", "max us");
    for (int i = 0; i < P.ng; i++) {
        const group *g = &P.g[i];
        fprintf(f, "  %-6s %-44s %8llu %8.1f %8.1f %8.1f %9.1f %9.1f\n", g->method ? mc_method_name(g->method) : "-",
                g->key, (unsigned long long)g->n, (double)g->sum_ns / 1000.0 / (double)g->n, group_q(g, 0.5),
                group_q(g, 0.99), group_q(g, 0.999), g->max_ns / 1000.0);
    }
    fprintf(f, "slowest %d:\n", WORST);
    int order[WORST];
    for (int i = 0; i < WORST; i++) order[i] = i;
    for (int i = 0; i < WORST; i++)
        for (int j = i + 1; j < WORST; j++)
            if (P.worst_ns[order[j]] > P.worst_ns[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    for (int i = 0; i < WORST && P.worst_ns[order[i]] > 0; i++) {
        const mc_prof_span *w = &P.worst[order[i]];
        fprintf(f, "  %9.1f us  %-6s %s\n", P.worst_ns[order[i]] / 1000.0,
                w->method ? mc_method_name(w->method) : "-", w->label);
    }
    free(s);
    if (f != stderr) fclose(f);
}
