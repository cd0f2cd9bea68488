/* HTTP tests on the wire: raw sockets against the in-process server
 * (httpd.c under the router): keep-alive, pipelining, Connection: close,
 * HTTP/1.0, a chunked upload and a client that leaves mid-request; the
 * errors httpd answers before routing, in the dialect of the path's
 * service; an oversized body; slow heads and bodies (408) and idle
 * connections; the connection bound and a full fd table; clients that
 * leave while a delayed or streamed reply is pending; what an idle
 * connection holds. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "httpd.h"
#include "util.h"

static void setup(void) { mc_test_start(NULL); }
static void teardown(void) { mc_test_stop(); }

TestSuite(wire, .init = setup, .fini = teardown);

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(ge(int, fd, 0));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)T.srv->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(eq(int, connect(fd, (struct sockaddr *)&sa, sizeof sa), 0));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Sends 's', runs the loop, returns what came back (static); *eof when the
 * server closed. */
static const char *exchange(int fd, const char *s, bool *eof) {
    static char buf[1 << 16];
    size_t n = 0;
    if (s != NULL) cr_assert(eq(sz, (size_t)send(fd, s, strlen(s), MSG_NOSIGNAL), strlen(s)));
    *eof = false;
    for (int i = 0; i < 10; i++) {
        mc_test_sleep_ms(10);
        for (;;) {
            ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
            if (r > 0) {
                n += (size_t)r;
                continue;
            }
            if (r == 0) *eof = true;
            break;
        }
        if (*eof) break;
    }
    buf[n] = '\0';
    return buf;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

Test(wire, keep_alive_and_pipelining) {
    int fd = dial();
    bool eof;
    const char *got = exchange(fd, "GET /identity/v3 HTTP/1.1\r\nHost: x\r\n\r\n", &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 OK\r\n", 17), 0), "%s", got);
    cr_expect(mc_not(eof), "keep-alive by default");
    got = exchange(fd, "GET /identity/v3 HTTP/1.1\r\n\r\nGET /compute/v2.1/nope HTTP/1.1\r\n\r\n"
                       "GET /network HTTP/1.1\r\n\r\n", &eof);
    cr_expect(eq(int, count(got, "HTTP/1.1 "), 3), "%s", got);
    const char *a = strstr(got, "HTTP/1.1 200"), *b = strstr(got, "HTTP/1.1 404"), *c = strstr(got, "\"versions\"");
    cr_expect(a != NULL && b != NULL && c != NULL && a < b, "%s", got);
    cr_expect(mc_not(eof));
    close(fd);
    mc_assert_no_leaks();
}

Test(wire, connection_close_and_http10) {
    int fd = dial();
    bool eof;
    const char *got = exchange(fd, "GET /identity HTTP/1.1\r\nConnection: close\r\n\r\n", &eof);
    cr_expect(mc_not(strstr(got, "\r\nConnection: close\r\n") == NULL), "%s", got);
    cr_expect(eq(int, count(got, "\r\nConnection:"), 1), "one Connection header: %s", got);
    cr_expect(eof);
    close(fd);
    fd = dial();
    got = exchange(fd, "GET /identity/v3 HTTP/1.0\r\n\r\n", &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 OK\r\n", 17), 0), "%s", got);
    cr_expect(eof, "HTTP/1.0 closes");
    close(fd);
    mc_assert_no_leaks();
}

Test(wire, chunked_json_body_and_head) {
    int fd = dial();
    bool eof;
    const char *body = "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"demo\","
                       "\"domain\":{\"name\":\"Default\"},\"password\":\"secret\"}}}}}";
    char req[2048];
    size_t half = strlen(body) / 2;
    snprintf(req, sizeof req,
             "POST /identity/v3/auth/tokens HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
             "\r\n%zx;x=y\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
             half, (int)half, body, strlen(body) - half, body + half);
    const char *got = exchange(fd, req, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 201 Created\r\n", 22), 0), "%s", got);
    cr_expect(mc_not(strstr(got, "\r\nX-Subject-Token: ") == NULL), "%s", got);
    got = exchange(fd, "HEAD /identity/v3 HTTP/1.1\r\n\r\n", &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 OK\r\n", 17), 0), "%s", got);
    const char *end = strstr(got, "\r\n\r\n");
    cr_expect(end != NULL && end[4] == '\0', "HEAD: no body: %s", got);
    cr_expect(mc_not(strstr(got, "Content-Length: 0\r\n") != NULL), "HEAD: the GET's length");
    close(fd);
    mc_assert_no_leaks();
}

Test(wire, client_leaves_mid_request_and_mid_body) {
    int fd = dial();
    bool eof;
    exchange(fd, "POST /identity/v3/auth/tokens HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"auth\"", &eof);
    close(fd);
    fd = dial();
    exchange(fd, "GET /identity/v3 HTT", &eof);
    close(fd);
    mc_test_sleep_ms(20);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ helpers */

/* Sends all of s[0..n), running the loop while the socket is full (the
 * server reads on the same loop); stops early when the server closed. */
static void send_all(int fd, const char *s, size_t n) {
    size_t off = 0;
    for (int spins = 0; off < n && spins < 20000; spins++) {
        ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            mc_test_sleep_ms(1);
            continue;
        }
        break;   /* EPIPE/ECONNRESET: the server answered and closed */
    }
}

typedef struct wire_reply {
    int status;
    char ctype[128];
    const char *body;    /* in exchange()'s buffer */
    cJSON *json;
    bool eof;
} wire_reply;

/* One raw request on a new connection: the reply parsed. */
static wire_reply wire_once(const char *req, size_t len) {
    wire_reply w = {0};
    int fd = dial();
    send_all(fd, req, len);
    const char *got = exchange(fd, NULL, &w.eof);
    sscanf(got, "HTTP/1.1 %d", &w.status);
    const char *ct = strstr(got, "\r\nContent-Type: ");
    if (ct != NULL) sscanf(ct + 16, "%127[^\r]", w.ctype);
    const char *b = strstr(got, "\r\n\r\n");
    w.body = b ? b + 4 : "";
    w.json = cJSON_Parse(w.body);
    close(fd);
    return w;
}

static size_t conns_now(void) {
    mc_httpd_stats st;
    mc_httpd_get_stats(T.srv->httpd, &st);
    return st.conns;
}

static void set_limits(int idle_ms, int head_ms, int max_conns) {
    mc_httpd_limits lim;
    mc_httpd_get_limits(T.srv->httpd, &lim);
    if (idle_ms > 0) lim.idle_ms = idle_ms;
    if (head_ms > 0) lim.head_ms = head_ms;
    if (max_conns > 0) lim.max_conns = max_conns;
    mc_httpd_set_limits(T.srv->httpd, &lim);
}

/* ------------------------------------------------------------ errors before routing */

typedef struct wire_case {
    const char *req;
    int status;
    const char *ctype;    /* prefix */
    const char *key;      /* mc_jstr/mc_jnum path that must hold... */
    const char *value;    /* ...this string (a number is compared as text) */
} wire_case;

Test(wire, errors_before_routing_speak_the_paths_dialect) {
    static const wire_case cases[] = {
        {"GET /compute/v2.1/servers HTTP/2.0\r\n\r\n", 505, "application/json", "computeFault.code", "505"},
        {"BREW /compute/v2.1 HTTP/1.1\r\n\r\n", 501, "application/json", "notImplemented.code", "501"},
        {"POST /compute/v2.1/servers HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", 413, "application/json",
         "overLimit.message", "The request body is too large."},
        {"GET /compute/v2.1/flavors HTTP/1.1\r\nNo colon\r\n\r\n", 400, "application/json", "badRequest.code", "400"},
        {"GET /network/v2.0/networks HTTP/1.1\r\nNo colon\r\n\r\n", 400, "application/json", "NeutronError.type",
         "HTTPBadRequest"},
        {"POST /network/v2.0/networks HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "application/json",
         "NeutronError.type", "HTTPNotImplemented"},
        {"GET /identity/v3 HTTP/1.1\r\nNo colon\r\n\r\n", 400, "application/json", "error.title", "Bad Request"},
        {"GET /identity/v3 HTTP/3.0\r\n\r\n", 505, "application/json", "error.code", "505"},
        {"GET /image/v2/images HTTP/1.1\r\nAccept: application/json\r\nNo colon\r\n\r\n", 400, "application/json",
         "code", "400 Bad Request"},
        {"GET /image/v2/images HTTP/1.1\r\nNo colon\r\n\r\n", 400, "text/plain", NULL, "400 Bad Request\n\n"},
        {"GET /image/v2/images HTTP/1.1\r\nAccept: text/html\r\nNo colon\r\n\r\n", 400, "text/html", NULL,
         "<h1>400 Bad Request</h1>"},
        {"GET http://cloud:80/network/v2.0 HTTP/1.1\r\nNo colon\r\n\r\n", 400, "application/json",
         "NeutronError.type", "HTTPBadRequest"},
        {"GET /mockcloud/v1/journal HTTP/1.1\r\nNo colon\r\n\r\n", 400, "application/json", "error.code", "400"},
        /* no service's path, or none at all: plain text */
        {"GET /nowhere HTTP/1.1\r\nNo colon\r\n\r\n", 400, "text/plain", NULL, "400 Bad Request\n\nMalformed header."},
        {"GARBAGE\r\n\r\n", 400, "text/plain", NULL, "400 Bad Request\n\n"},
        {"GET nopath HTTP/1.1\r\n\r\n", 400, "text/plain", NULL, "Malformed request target."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const wire_case *c = &cases[i];
        wire_reply w = wire_once(c->req, strlen(c->req));
        cr_expect(eq(int, w.status, c->status), "%zu: %s -> %s", i, c->req, w.body);
        cr_expect(eq(int, strncmp(w.ctype, c->ctype, strlen(c->ctype)), 0), "%zu: %s", i, w.ctype);
        cr_expect(w.eof, "%zu: closes", i);
        if (c->key != NULL) {
            cJSON *v = mc_jpath(w.json, c->key);
            char num[32] = "";
            if (cJSON_IsNumber(v)) snprintf(num, sizeof num, "%d", (int)v->valuedouble);
            const char *got = cJSON_IsString(v) ? v->valuestring : num;
            cr_expect(eq(str, (char *)got, (char *)c->value), "%zu: %s", i, w.body);
        } else {
            cr_expect(mc_not(strstr(w.body, c->value) == NULL), "%zu: %s", i, w.body);
        }
        cJSON_Delete(w.json);
    }
    mc_assert_no_leaks();
}

Test(wire, long_uri_is_414_and_huge_head_431) {
    static char req[80 * 1024];
    /* a request line over 8 KB, whole or still arriving */
    int n = snprintf(req, sizeof req, "GET /compute/v2.1/servers/%09000d HTTP/1.1\r\n\r\n", 1);
    wire_reply w = wire_once(req, (size_t)n);
    cr_expect(eq(int, w.status, 414), "%.200s", w.body);
    cr_expect(eq(int, (int)mc_jnum(w.json, "computeFault.code"), 414), "%.200s", w.body);
    cr_expect(w.eof);
    cJSON_Delete(w.json);
    n = snprintf(req, sizeof req, "GET /network/v2.0/networks?name=%09000d", 1);
    w = wire_once(req, (size_t)n);
    cr_expect(eq(int, w.status, 414), "%.200s", w.body);
    cr_expect(eq(str, (char *)mc_jstr(w.json, "NeutronError.type"), "HTTPRequestURITooLong"), "%.200s", w.body);
    cJSON_Delete(w.json);
    /* headers over 64 KB */
    n = snprintf(req, sizeof req, "GET /identity/v3 HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', 70 * 1024);
    w = wire_once(req, (size_t)n + 70 * 1024);
    cr_expect(eq(int, w.status, 431), "%.200s", w.body);
    cr_expect(eq(str, (char *)mc_jstr(w.json, "error.title"), "Request Header Fields Too Large"), "%.200s", w.body);
    cr_expect(w.eof);
    cJSON_Delete(w.json);
    /* an 8 KB request line under the limit is served */
    n = snprintf(req, sizeof req, "GET /identity/v3?pad=%08000d HTTP/1.1\r\n\r\n", 1);
    w = wire_once(req, (size_t)n);
    cr_expect(eq(int, w.status, 200));
    cr_expect(mc_not(w.eof));
    cJSON_Delete(w.json);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ oversized bodies */

Test(wire, body_over_the_wire_cap_is_413_read_by_the_client_then_closed) {
    size_t before = conns_now();
    int fd = dial();
    const char *head = "PUT /image/v2/images/x/file HTTP/1.1\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Length: 999999999\r\n\r\n";
    send_all(fd, head, strlen(head));
    /* the client goes on sending the body it announced: the server drops
     * it after its answer instead of resetting the connection under it */
    static char chunk[256 * 1024];
    memset(chunk, 'z', sizeof chunk);
    for (int i = 0; i < 8; i++) send_all(fd, chunk, sizeof chunk);
    bool eof;
    const char *got = exchange(fd, NULL, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 413 ", 13), 0), "%.300s", got);
    cr_expect(mc_not(strstr(got, "413 Request Entity Too Large") == NULL), "Glance's plain text: %.300s", got);
    cr_expect(eof, "the server shut its side");
    close(fd);
    mc_test_sleep_ms(20);
    cr_expect(eq(sz, conns_now(), before), "the lingering connection is gone once the client closed");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);
    mc_assert_no_leaks();
}

Test(wire, body_over_max_body_is_413_in_dialect_and_keeps_the_connection) {
    char *tok = mc_test_token("demo", "demo");
    int fd = dial();
    size_t n = (1u << 20) + 100;   /* --max-body is 1 MB */
    char *req = malloc(n + 512);
    int h = snprintf(req, 512, "POST /compute/v2.1/servers HTTP/1.1\r\nX-Auth-Token: %s\r\n"
                               "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", tok, n);
    memset(req + h, ' ', n);
    send_all(fd, req, (size_t)h + n);
    bool eof;
    const char *got = exchange(fd, NULL, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 413 ", 13), 0), "%.300s", got);
    cr_expect(mc_not(strstr(got, "{\"overLimit\":{\"code\":413") == NULL), "%.300s", got);
    cr_expect(mc_not(eof), "the body was read: the connection stays");
    got = exchange(fd, "GET /identity/v3 HTTP/1.1\r\n\r\n", &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 ", 13), 0), "usable after the 413: %.300s", got);
    close(fd);
    free(req);
    free(tok);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ slow clients */

Test(wire, slow_loris_head_gets_408_while_others_are_served) {
    set_limits(0, 300, 0);
    size_t before = conns_now();
    int fd = dial();
    const char *req = "GET /network/v2.0/networks HTTP/1.1\r\nX-Slow: ";
    send_all(fd, req, strlen(req));
    double t0 = mc_now();
    bool eof = false;
    static char got[4096];
    size_t ngot = 0;
    /* a byte every 40 ms: each one would reset an idle timer */
    for (int i = 0; i < 30 && !eof; i++) {
        send(fd, "a", 1, MSG_NOSIGNAL);
        mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);   /* not blocked */
        mc_test_sleep_ms(40);
        ssize_t r;
        while ((r = read(fd, got + ngot, sizeof got - 1 - ngot)) > 0) ngot += (size_t)r;
        if (r == 0) eof = true;
    }
    got[ngot] = '\0';
    double dt = mc_now() - t0;
    cr_expect(eof, "%s", got);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 408 Request Timeout\r\n", 30), 0), "%s", got);
    cr_expect(mc_not(strstr(got, "\"HTTPRequestTimeout\"") == NULL), "Neutron's dialect: %s", got);
    cr_expect(ge(dbl, dt, 0.25));
    cr_expect(lt(dbl, dt, 1.0), "within the head timeout: %f", dt);
    close(fd);
    mc_httpd_stats st;
    mc_httpd_get_stats(T.srv->httpd, &st);
    cr_expect(ge(ulong, st.timeouts, 1));
    mc_test_sleep_ms(20);
    cr_expect(le(sz, conns_now(), before + 1));
    mc_assert_no_leaks();
}

Test(wire, silent_half_head_and_stalled_body_get_408_idle_closes_quietly) {
    set_limits(200, 150, 0);
    int fd = dial();
    bool eof;
    const char *got = exchange(fd, "GET /compute/v2.1/servers HTTP/1.1\r\nHo", &eof);
    cr_expect(eq(str, (char *)got, ""));
    mc_test_sleep_ms(200);
    got = exchange(fd, NULL, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 408 ", 13), 0), "%s", got);
    cr_expect(mc_not(strstr(got, "{\"computeFault\":{\"code\":408") == NULL), "%s", got);
    cr_expect(eof);
    close(fd);
    fd = dial();
    got = exchange(fd, "POST /identity/v3/auth/tokens HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"auth\"", &eof);
    cr_expect(eq(str, (char *)got, ""));
    mc_test_sleep_ms(200);
    got = exchange(fd, NULL, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 408 ", 13), 0), "%s", got);
    cr_expect(mc_not(strstr(got, "\"The request body did not arrive in time.\"") == NULL), "%s", got);
    close(fd);
    /* a kept-alive connection with no request pending closes without a word */
    fd = dial();
    got = exchange(fd, "GET /identity/v3 HTTP/1.1\r\n\r\n", &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 ", 13), 0), "%s", got);
    mc_test_sleep_ms(250);
    got = exchange(fd, NULL, &eof);
    cr_expect(eq(str, (char *)got, ""));
    cr_expect(eof);
    close(fd);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ the connection bound */

Test(wire, connection_bound_pauses_accepting_until_one_closes) {
    size_t base = conns_now();
    set_limits(0, 0, (int)base + 2);
    int a = dial(), b = dial();
    mc_test_sleep_ms(20);
    cr_expect(eq(sz, conns_now(), base + 2));
    int c = dial();   /* waits in the backlog */
    bool eof;
    const char *got = exchange(c, "GET /identity/v3 HTTP/1.1\r\n\r\n", &eof);
    cr_expect(eq(str, (char *)got, ""), "not served at the bound: %s", got);
    mc_httpd_stats st;
    mc_httpd_get_stats(T.srv->httpd, &st);
    cr_expect(ge(ulong, st.accept_pauses, 1));
    close(a);
    got = exchange(c, NULL, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 ", 13), 0), "served once one closed: %s", got);
    close(b);
    close(c);
    mc_assert_no_leaks();
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

Test(wire, full_fd_table_does_not_spin_the_loop) {
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);   /* the harness's connection is open */
    int probe = dup(0);
    cr_assert(ge(int, probe, 0));
    close(probe);
    /* room for one client and its accepted socket, then one more client */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = (rlim_t)probe + 3;
    cr_assert(eq(int, setrlimit(RLIMIT_NOFILE, &rl), 0));
    int a = dial();
    mc_test_sleep_ms(20);
    int b = dial();   /* accept fails: EMFILE */
    double c0 = cpu_seconds();
    mc_test_sleep_ms(400);
    double cpu = cpu_seconds() - c0;
    cr_expect(lt(dbl, cpu, 0.15), "the loop spun: %.3f s of CPU in 0.4 s", cpu);
    mc_httpd_stats st;
    mc_httpd_get_stats(T.srv->httpd, &st);
    cr_expect(ge(ulong, st.accept_pauses, 1));
    close(a);   /* its server side closes too: room again */
    bool eof;
    const char *got = exchange(b, "GET /identity/v3 HTTP/1.1\r\n\r\n", &eof);
    for (int i = 0; i < 20 && got[0] == '\0'; i++) got = exchange(b, NULL, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 ", 13), 0), "served after the pause: %s", got);
    close(b);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ clients that leave during async replies */

static void leave(int fd, bool reset) {
    if (reset) {
        struct linger l = {1, 0};   /* close with RST */
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(fd);
}

Test(wire, clients_leave_while_delayed_replies_are_pending) {
    char *tok = mc_test_token("demo", "demo");
    mc_test_profile(NULL, "[\"slow-api=150\"]");
    mc_resp f = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/faults",
                        "{\"path\":\"/network/v2.0\",\"status\":503,\"delay_ms\":150,\"count\":0}", NULL, NULL);
    cr_expect(eq(int, f.status, 201), "%s", f.body);
    mc_resp_free(&f);
    f = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/faults", "{\"path\":\"/compute/v2.1\",\"drop\":true,\"delay_ms\":150,\"count\":0}",
                NULL, NULL);
    cr_expect(eq(int, f.status, 201), "%s", f.body);
    mc_resp_free(&f);
    f = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/faults", "{\"path\":\"/image/v2\",\"slow_body_ms\":300,\"count\":0}", NULL, NULL);
    cr_expect(eq(int, f.status, 201), "%s", f.body);
    mc_resp_free(&f);
    size_t before = conns_now();
    static const struct { const char *path; bool auth, twice; } reqs[] = {
        {"/identity/v3", false, false},   /* slow-api: a deferred handler */
        {"/identity/v3", false, true},    /* and one pipelined behind it */
        {"/network/v2.0", true, false},   /* a delayed 503 */
        {"/compute/v2.1", true, false},   /* a delayed drop */
        {"/image/v2", false, false},      /* a reply trickling out */
    };
    for (int reset = 0; reset < 2; reset++) {
        for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
            char one[2048], req[4096];
            snprintf(one, sizeof one, "GET %s HTTP/1.1\r\n%s%s%s\r\n", reqs[i].path,
                     reqs[i].auth ? "X-Auth-Token: " : "", reqs[i].auth ? tok : "", reqs[i].auth ? "\r\n" : "");
            snprintf(req, sizeof req, "%s%s", one, reqs[i].twice ? one : "");
            int fd = dial();
            send_all(fd, req, strlen(req));
            mc_test_sleep_ms(i == 4 ? 220 : 20);   /* the trickle starts after slow-api's 150 ms */
            char got[64];
            ssize_t n = recv(fd, got, sizeof got, MSG_DONTWAIT);
            if (i < 4) cr_expect(lt(int, (int)n, 0), "%zu: nothing yet", i);
            if (i == 4) cr_expect(gt(int, (int)n, 0), "the trickle has begun");
            leave(fd, reset != 0);
        }
    }
    mc_test_sleep_ms(500);   /* every timer fires after its client left */
    cr_expect(eq(sz, conns_now(), before), "every connection is freed");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?limit=50", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200));
    mc_resp_free(&r);
    /* and the server still answers, delayed as the profile says */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/network/v2.0", NULL, tok, NULL), 503);
    free(tok);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ memory */

Test(wire, an_idle_connection_holds_under_a_kilobyte) {
    mc_httpd_stats st0, st;
    mc_httpd_get_stats(T.srv->httpd, &st0);
    int fds[20];
    for (int i = 0; i < 20; i++) {
        fds[i] = dial();
        bool eof;
        const char *got = exchange(fds[i], "GET /identity/v3 HTTP/1.1\r\n\r\n", &eof);
        cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 ", 13), 0), "%s", got);
    }
    /* one of them sends a large body first (a 400: not JSON) */
    static char big[600 * 1024];
    int h = snprintf(big, 200, "POST /identity/v3/auth/tokens HTTP/1.1\r\nContent-Length: %zu\r\n\r\n",
                     sizeof big - 200);
    memset(big + h, 'x', sizeof big - 200);
    send_all(fds[0], big, (size_t)h + sizeof big - 200);
    bool eof;
    const char *got = exchange(fds[0], NULL, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 400 ", 13), 0), "%.200s", got);
    mc_httpd_get_stats(T.srv->httpd, &st);
    cr_expect(eq(sz, st.conns, st0.conns + 20));
    size_t per = (st.bytes - st0.bytes) / 20;
    cr_expect(lt(sz, per, 1024), "%zu bytes an idle connection", per);
    cr_expect(le(sz, st.pooled, (size_t)64 * (16384 + sizeof(mc_hreq))), "the pools are bounded");
    for (int i = 0; i < 20; i++) close(fds[i]);
    mc_assert_no_leaks();
}
