/* catalogue.c -- the profiles and the deviation catalogue for a person:
 * `mockcloud profiles`, `mockcloud explain NAME|ID`, `mockcloud knobs`, and
 * the Markdown of profiles/README.md (`mockcloud profiles --markdown`), which
 * is generated from the profile files so the text is never written twice. */
#include "catalogue.h"
#include "http.h"
#include "profile.h"
#include "util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Profile names in 'dir' (without .json), sorted; caller frees each and the array. */
static char **profile_names(const char *dir, size_t *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) return NULL;
    size_t cap = 16;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names != NULL && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        if (*n == cap) {
            char **grown = realloc(names, (cap *= 2) * sizeof *names);
            if (grown == NULL) break;
            names = grown;
        }
        names[(*n)++] = strndup(e->d_name, len - 5);
    }
    closedir(d);
    if (names == NULL) mc_panic("out of memory");
    qsort(names, *n, sizeof names[0], name_cmp);
    return names;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* "knob = value" lines of a deviation's "set". */
static void print_set(FILE *out, const cJSON *dev, const char *prefix, bool md) {
    const cJSON *kv;
    cJSON_ArrayForEach(kv, mc_json_obj(dev, "set")) {
        char *v = cJSON_PrintUnformatted(kv);
        fprintf(out, md ? "%s`%s` = `%s`\n" : "%s%s = %s\n", prefix, kv->string, v ? v : "?");
        cJSON_free(v);
    }
}

static void print_catches(FILE *out, const cJSON *dev, const char *prefix, bool md) {
    const cJSON *c;
    cJSON_ArrayForEach(c, mc_json_arr(dev, "catches"))
        if (cJSON_IsString(c)) fprintf(out, md ? "%s`%s`\n" : "%s%s\n", prefix, c->valuestring);
}

static void explain_deviation(FILE *out, const cJSON *dev) {
    fprintf(out, "%s: %s\n", mc_json_str(dev, "id"), mc_json_str(dev, "title") ? mc_json_str(dev, "title") : "");
    if (mc_json_str(dev, "layer")) fprintf(out, "  layer: %s\n", mc_json_str(dev, "layer"));
    if (mc_json_str(dev, "explanation")) fprintf(out, "\n  %s\n\n", mc_json_str(dev, "explanation"));
    fprintf(out, "  sets:\n");
    print_set(out, dev, "    ", false);
    if (mc_json_str(dev, "param"))
        fprintf(out, "  parameter: --deviate %s=VALUE sets %s\n", mc_json_str(dev, "id"), mc_json_str(dev, "param"));
    if (mc_json_arr(dev, "catches")) {
        fprintf(out, "  ought to be caught by:\n");
        print_catches(out, dev, "    ", false);
    }
}

int mc_cli_profiles(const char *dir, FILE *out) {
    size_t n;
    char **names = profile_names(dir, &n);
    char err[512];
    fprintf(out, "Profiles (%s):\n", dir);
    for (size_t i = 0; i < n; i++) {
        mc_profile *p = mc_profile_load(dir, names[i], err, sizeof err);
        if (p == NULL) {
            fprintf(out, "  %-24s BROKEN: %s\n", names[i], err);
            continue;
        }
        fprintf(out, "  %-24s", p->name);
        const cJSON *d;
        int k = 0;
        cJSON_ArrayForEach(d, mc_json_arr(p->doc, "deviations")) fprintf(out, "%s%s", k++ ? ", " : " ", mc_json_str(d, "id"));
        fprintf(out, "%s\n", k ? "" : " (reference: no deviations)");
        mc_profile_free(p);
    }
    free_names(names, n);
    cJSON *cat = mc_catalogue_load(dir, err, sizeof err);
    if (cat == NULL) {
        fprintf(out, "catalogue: %s\n", err);
        return 1;
    }
    fprintf(out, "\nDeviations (%d; `mockcloud explain ID`, `--deviate ID[=VALUE]`):\n", cJSON_GetArraySize(cat));
    const cJSON *d;
    cJSON_ArrayForEach(d, cat)
        fprintf(out, "  %-32s %-14s %s\n", mc_json_str(d, "id"), mc_json_str(d, "layer"), mc_json_str(d, "title"));
    cJSON_Delete(cat);
    return 0;
}

int mc_cli_explain(const char *dir, const char *what, FILE *out) {
    char err[512], perr[512];
    cJSON *cat = mc_catalogue_load(dir, err, sizeof err);
    const cJSON *d;
    cJSON_ArrayForEach(d, cat) {
        if (mc_str_eq(mc_json_str(d, "id"), what)) {
            explain_deviation(out, d);
            cJSON_Delete(cat);
            return 0;
        }
    }
    cJSON_Delete(cat);
    if (strchr(what, '/') != NULL || strstr(what, "..") != NULL) {
        fprintf(stderr, "mockcloud: explain wants a profile name or a deviation id\n");
        return 2;
    }
    mc_profile *p = mc_profile_load(dir, what, perr, sizeof perr);
    if (p == NULL) {
        fprintf(stderr, "mockcloud: '%s' is neither a deviation nor a profile (%s)\n", what, perr);
        return 1;
    }
    fprintf(out, "profile %s", p->name);
    if (mc_json_str(p->doc, "extends")) fprintf(out, " (extends %s)", mc_json_str(p->doc, "extends"));
    fprintf(out, "\n\n  %s\n\n", p->description);
    if (mc_json_str(p->doc, "story")) fprintf(out, "  %s\n\n", mc_json_str(p->doc, "story"));
    cJSON_ArrayForEach(d, mc_json_arr(p->doc, "deviations")) {
        fputs("- ", out);
        explain_deviation(out, d);
        fputc('\n', out);
    }
    mc_profile_free(p);
    return 0;
}

void mc_cli_knobs(FILE *out) {
    const mc_knob_def *k = mc_knob_defs();
    static const char *types[] = {"int", "bool", "string", "list"};
    for (int i = 0; i < MC_KNOB_COUNT; i++) {
        if (k[i].name == NULL) continue;
        if (k[i].type == MC_KNOB_STR)
            fprintf(out, "%s\t%s\t\"%s\"\t%s\n", k[i].name, types[k[i].type], k[i].dflt_str ? k[i].dflt_str : "",
                    k[i].doc);
        else if (k[i].type == MC_KNOB_LIST)
            fprintf(out, "%s\t%s\t[]\t%s\n", k[i].name, types[k[i].type], k[i].doc);
        else if (k[i].type == MC_KNOB_BOOL)
            fprintf(out, "%s\t%s\t%s\t%s\n", k[i].name, types[k[i].type], k[i].dflt ? "true" : "false", k[i].doc);
        else
            fprintf(out, "%s\t%s\t%lld\t%s\n", k[i].name, types[k[i].type], k[i].dflt, k[i].doc);
    }
}

/* The knobs a deviation sets, "`key` = `value`" joined by ", ", the first
 * one after 'lead'. */
static void md_knobs(FILE *out, const cJSON *d, const char *lead) {
    const cJSON *kv;
    int k = 0;
    cJSON_ArrayForEach(kv, mc_json_obj(d, "set")) {
        char *v = cJSON_PrintUnformatted(kv);
        fprintf(out, "%s`%s` = `%s`", k++ ? ", " : lead, kv->string, v ? v : "?");
        cJSON_free(v);
    }
}

static void md_deviation(FILE *out, const cJSON *d) {
    fprintf(out, "#### `%s`: %s\n\n", mc_json_str(d, "id"), mc_json_str(d, "title"));
    fprintf(out, "%s\n\n", mc_json_str(d, "explanation") ? mc_json_str(d, "explanation") : "");
    fprintf(out, "- sets:");
    md_knobs(out, d, " ");
    fputc('\n', out);
    if (mc_json_str(d, "param"))
        fprintf(out, "- parameter: `--deviate %s=VALUE` sets `%s`\n", mc_json_str(d, "id"), mc_json_str(d, "param"));
    fprintf(out, "- ought to be caught by:");
    const cJSON *kv;
    int k = 0;
    cJSON_ArrayForEach(kv, mc_json_arr(d, "catches"))
        if (cJSON_IsString(kv)) fprintf(out, "%s%s", k++ ? "; " : " ", kv->valuestring);
    fputs("\n\n", out);
}

int mc_cli_markdown(const char *dir, FILE *out) {
    char err[512];
    cJSON *cat = mc_catalogue_load(dir, err, sizeof err);
    if (cat == NULL) {
        fprintf(stderr, "mockcloud: %s\n", err);
        return 1;
    }
    fputs("# Behaviour profiles and the deviation catalogue\n\n"
          "<!-- Generated by `mockcloud profiles --markdown` from profiles/*.json and\n"
          "     profiles/catalogue/deviations.json: edit those, then run `make profiles-readme`. -->\n\n"
          "A **profile** is a named cloud: a story told by a few deviations. A **deviation** is one precise\n"
          "departure from upstream OpenStack behaviour, with the knobs it sets (see docs/profiles.md) and the\n"
          "tests that ought to notice it. Pick a profile with `--profile NAME`, add single deviations with\n"
          "`--deviate ID[=VALUE]`, or switch at run time:\n\n"
          "    curl -X PUT localhost:8080/mockcloud/v1/profile -d '{\"profile\": \"legacy-cloud\"}'\n"
          "    curl -X PUT localhost:8080/mockcloud/v1/profile -d '{\"profile\": \"conformant\", \"deviate\": [\"slow-api=500\"]}'\n\n"
          "Every reply names the active profile (`X-Mockcloud-Profile`) and the deviations that shaped it\n"
          "(`X-Mockcloud-Deviations`); so does the journal (`GET /mockcloud/v1/journal`).\n\n"
          "## Profiles\n\n| profile | what it is | deviations |\n|---|---|---|\n", out);
    size_t n;
    char **names = profile_names(dir, &n);
    for (size_t i = 0; i < n; i++) {
        mc_profile *p = mc_profile_load(dir, names[i], err, sizeof err);
        if (p == NULL) {
            fprintf(stderr, "mockcloud: %s\n", err);
            free_names(names, n);
            cJSON_Delete(cat);
            return 1;
        }
        fprintf(out, "| `%s` | %s | ", p->name, p->description);
        const cJSON *d;
        int k = 0;
        cJSON_ArrayForEach(d, mc_json_arr(p->doc, "deviations"))
            fprintf(out, "%s`%s`", k++ ? ", " : "", mc_json_str(d, "id"));
        fputs(k ? " |\n" : "none |\n", out);
        mc_profile_free(p);
    }
    fputs("\n", out);
    for (size_t i = 0; i < n; i++) {
        mc_profile *p = mc_profile_load(dir, names[i], err, sizeof err);
        const char *story = mc_json_str(p->doc, "story");
        fprintf(out, "### `%s`\n\n%s\n\n", p->name, story ? story : p->description);
        if (mc_json_str(p->doc, "extends")) fprintf(out, "Extends `%s`.\n\n", mc_json_str(p->doc, "extends"));
        const cJSON *d;
        cJSON_ArrayForEach(d, mc_json_arr(p->doc, "deviations")) {
            fprintf(out, "- `%s`: %s", mc_json_str(d, "id"), mc_json_str(d, "title") ? mc_json_str(d, "title") : "");
            fputs(" (", out);
            md_knobs(out, d, "");
            fputs(")\n", out);
        }
        fputs("\n", out);
        mc_profile_free(p);
    }
    free_names(names, n);
    fprintf(out, "## Deviation catalogue (%d)\n\n", cJSON_GetArraySize(cat));
    /* Grouped by layer, in the order layers first appear. */
    char seen[32][32];
    int nseen = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, cat) {
        const char *layer = mc_json_str(d, "layer");
        if (layer == NULL) continue;
        bool done = false;
        for (int i = 0; i < nseen; i++) done |= strcmp(seen[i], layer) == 0;
        if (done || nseen == 32) continue;
        mc_strlcpy(seen[nseen++], layer, sizeof seen[0]);
        fprintf(out, "### %s\n\n", layer);
        const cJSON *e;
        cJSON_ArrayForEach(e, cat) if (mc_str_eq(mc_json_str(e, "layer"), layer)) md_deviation(out, e);
    }
    cJSON_Delete(cat);
    return 0;
}
