/* harness.h -- an in-process mockcloud on an ephemeral port, and a client
 * on the same event_base (libevent's regress pattern): no threads. */
#ifndef MC_HARNESS_H
#define MC_HARNESS_H

#include "mockcloud.h"

typedef struct mc_resp {
    int status;
    char *body;               /* NUL-terminated */
    size_t len;
    cJSON *json;              /* parsed body or NULL */
    struct evkeyvalq *headers; /* copy of the reply headers (owned) */
} mc_resp;

typedef struct mc_test {
    struct event_base *base;
    mc_server *srv;
    struct evhttp_connection *conn;
} mc_test;

extern mc_test T;

/* Starts a server with the project's fixtures and 'profile' (NULL =
 * conformant). Call from .init. */
void mc_test_start(const char *profile);
void mc_test_stop(void);
/* One request; 'token' adds X-Auth-Token; 'headers' is "Name: value\n..." or NULL. */
mc_resp mc_call(enum evhttp_cmd_type m, const char *path, const char *body, const char *token,
                const char *headers);
/* Like mc_call with a body of 'len' raw bytes (may hold NULs) sent with
 * 'content_type' (NULL = none). */
mc_resp mc_call_raw(enum evhttp_cmd_type m, const char *path, const void *body, size_t len,
                    const char *content_type, const char *token, const char *headers);
void mc_resp_free(mc_resp *r);
const char *mc_resp_header(mc_resp *r, const char *name);
/* Password token scoped to the user's project of the same fixture name
 * ("demo", "alt_demo", "admin"). Caller frees. */
char *mc_test_token(const char *user, const char *project);
/* Path into a JSON tree: mc_jpath(j, "token.project.id") (array index: "a.0.b"). */
cJSON *mc_jpath(cJSON *j, const char *path);
const char *mc_jstr(cJSON *j, const char *path);
double mc_jnum(cJSON *j, const char *path);
/* Runs the loop for 'ms' milliseconds (lets timers fire). */
void mc_test_sleep_ms(int ms);
/* Absolute path of a project file ("fixtures", "profiles"). */
const char *mc_test_path(const char *rel, char *buf, size_t bufsz);

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define mc_assert_no_leaks() cr_assert(eq(int, __lsan_do_recoverable_leak_check(), 0))
#else
#define mc_assert_no_leaks() ((void)0)
#endif

/* Criterion's new assert API needs an identifier first: cr_expect(mc_not(x)). */
static inline bool mc_not(bool x) { return !x; }

#endif
