/* fixtures.h -- more seed data for a running world (POST /mockcloud/v1/fixtures).
 *
 * A post is shaped like the fixture files, keyed by service:
 * {"identity": {...}, "compute": {...}, "network": {...}, "image": {...}}.
 * Each service checks its part against the world and the whole post (types,
 * required fields, references, ids not taken) before anything is inserted;
 * then each inserts its part with the same code that seeds from fixtures/.
 * Should an insert still fail (a check the services make only when they
 * create), everything the post added is taken out again: a refused post
 * leaves the world as it was. POST /reset goes back to the files only. */
#ifndef MC_FIXTURES_H
#define MC_FIXTURES_H

#include "mockcloud.h"

/* The checking context a service's X_fixtures_check() gets. */
typedef struct mc_fx {
    mc_server *srv;
    const cJSON *post;        /* the whole posted tree, keyed by service */
    char *err;
    size_t errsz;
} mc_fx;

/* Sets the reason ("<where>: ...") and returns -1. */
int mc_fx_fail(mc_fx *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Field checks on object 'o' (named 'where' in messages). Each returns 0 when
 * the field is fine or absent and optional, -1 (reason set) otherwise. */
int mc_fx_str(mc_fx *fx, const char *where, const cJSON *o, const char *key, bool required, size_t maxlen);
/* An id: 1..maxlen characters of [A-Za-z0-9._-] (they end up in URLs). */
int mc_fx_id(mc_fx *fx, const char *where, const cJSON *o, const char *key, bool required, size_t maxlen);
int mc_fx_bool(mc_fx *fx, const char *where, const cJSON *o, const char *key);
int mc_fx_num(mc_fx *fx, const char *where, const cJSON *o, const char *key, bool required, double min, double max);
int mc_fx_obj(mc_fx *fx, const char *where, const cJSON *o, const char *key);
/* 'key' absent, or an array of objects. */
int mc_fx_list(mc_fx *fx, const char *where, const cJSON *o, const char *key);
/* Every key of 'o' is in 'allowed' (NULL-terminated); "comment" always is. */
int mc_fx_keys(mc_fx *fx, const char *where, const cJSON *o, const char *const *allowed);

/* The posted list 'list' of service 'svc' (e.g. "identity", "projects"), or NULL. */
cJSON *mc_fx_posted(const mc_fx *fx, const char *svc, const char *list);
/* Whether an earlier item than 'item' in 'list' has the same string 'key'
 * (and, when 'key2' is not NULL, the same 'key2'). */
bool mc_fx_dup_before(const cJSON *list, const cJSON *item, const char *key, const char *key2);
/* Whether a project with this id (or, when 'by_name', this id or name)
 * exists in the world or in the post. */
bool mc_fx_project_known(const mc_fx *fx, const char *ref, bool by_name);

/* Checks and inserts 'tree'. On success returns 0 and adds to 'added' one
 * count per resource kind that grew ("users": 1, ...). On a refusal returns
 * -1 with the reason in err and the world unchanged. */
int mc_fixtures_load(mc_server *srv, const cJSON *tree, cJSON *added, char *err, size_t errsz);

#endif
