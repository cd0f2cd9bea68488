/* harness.h -- an in-process mockcloud on an ephemeral port, and a client
 * on the same event_base (libevent's regress pattern): no threads. */
#ifndef MC_HARNESS_H
#define MC_HARNESS_H

#include "mockcloud.h"

#include <sys/queue.h>
#include <event2/keyvalq_struct.h>   /* the client side is libevent's evhttp */

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
/* mc_test_start, then a token of 'user' on its project of the same name
 * (suites whose tests all act as one user). mc_test_stop_as frees *tok. */
char *mc_test_start_as(const char *profile, const char *user);
void mc_test_stop_as(char **tok);
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
/* The issue reply of mc_test_token (status, headers, body), for tests that
 * read the token document itself. Caller frees. */
mc_resp mc_test_token_issue(const char *user, const char *project);
/* 'fmt' formatted into one of 8 rotating static buffers: a path for the next
 * calls, without a char[] and a snprintf in each test. */
const char *mc_pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when the reply's X-Mockcloud-Deviations names 'id'. */
bool mc_resp_lists(mc_resp *r, const char *id);

/* ---- request sequences many tests share; each asserts what it needs ---- */

/* POST /compute/v2.1/servers (microversion 2.37, image cirros) as 'tok':
 * 'flavor' NULL = "42", 'networks' a JSON value (NULL = "none"), 'extra' more
 * members of "server" or NULL. Asserts 202; returns the id (caller frees). */
char *mc_test_server(const char *tok, const char *name, const char *flavor, const char *networks,
                     const char *extra);
/* The server's status as GET shows it ("404" once it is gone) into 'buf'. */
const char *mc_test_server_status(const char *tok, const char *id, char *buf, size_t n);
/* Polls the server (up to ~5 s) and asserts it reaches 'status'. */
void mc_test_server_wait(const char *tok, const char *id, const char *status);
/* Imports key pair 'name' for the token's user (already there is fine). */
void mc_test_keypair(const char *tok, const char *name, const char *public_key);
/* POST /image/v2/images with 'body' (asserts 201); with 'data' (len bytes,
 * NULL = none) also uploads it (asserts 204). Returns the id (caller frees). */
char *mc_test_image(const char *tok, const char *body, const void *data, size_t len);
/* Control API: PUT /mockcloud/v1/profile with 'profile' (NULL = conformant)
 * and the deviations 'deviate_json' (a JSON array or NULL); asserts 200. */
void mc_test_profile(const char *profile, const char *deviate_json);

/* ---- assertions on one reply: each frees the reply it is given, and names
 * the caller's file and line when it fails ---- */
/* status; the number of members of the array or object at 'path' (-1: none
 * there); the exact body */
#define mc_expect_status(r, status) mc_expect_status_at(__FILE__, __LINE__, (r), (status))
#define mc_expect_count(r, path, n) mc_expect_count_at(__FILE__, __LINE__, (r), (path), (n))
#define mc_expect_body(r, body) mc_expect_body_at(__FILE__, __LINE__, (r), (body))
/* The error body of 'svc''s dialect (Nova's key by status with code and
 * message, NeutronError, Keystone's error, Glance's "NNN Reason") with
 * 'status'; 'message' is the exact message, NULL = any string. */
#define mc_expect_error(r, svc, status, message) \
    mc_expect_error_at(__FILE__, __LINE__, (r), (svc), (status), (message))
/* 'status', and X-Mockcloud-Deviations names 'id' (NULL: names nothing). */
#define mc_expect_deviation(r, status, id) mc_expect_deviation_at(__FILE__, __LINE__, (r), (status), (id))
void mc_expect_status_at(const char *file, int line, mc_resp r, int status);
void mc_expect_count_at(const char *file, int line, mc_resp r, const char *path, int n);
void mc_expect_body_at(const char *file, int line, mc_resp r, const char *body);
void mc_expect_error_at(const char *file, int line, mc_resp r, mc_service svc, int status, const char *message);
void mc_expect_deviation_at(const char *file, int line, mc_resp r, int status, const char *id);

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
