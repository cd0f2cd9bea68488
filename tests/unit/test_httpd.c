/* Unit tests of httpd.c, mockcloud's HTTP/1.1 server: one end of a
 * socketpair is a connection of an unbound mc_httpd, the test writes raw
 * bytes into the other end (in pieces when it matters), runs the loop and
 * reads what came back. The callback echoes what the parser saw. Also the
 * query decoder of http.c. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "http.h"
#include "httpd.h"

static struct event_base *base;
static mc_httpd *hd;
static int cfd = -1;
static char got[1 << 20];
static size_t ngot;
static bool eof;
static mc_hreq *held;          /* hold mode: the request waits here */
static bool hold;
static int closecb_runs;
static int requests;

/* Echo: "M=<method> P=<path> Q=<query> V=<minor> K=<keep-alive> N=<nhdr>
 * B=<body>", then "h:<name>=<value>" lines. */
static void echo(mc_hreq *q, void *arg) {
    (void)arg;
    requests++;
    if (hold) {
        held = q;
        return;
    }
    static char out[1 << 19];
    int n = snprintf(out, sizeof out, "M=%d P=%.*s Q=%.*s V=%d K=%d N=%d B=%.*s\n", q->method, (int)q->path_len,
                     q->path, q->query ? (int)q->query_len : 4, q->query ? q->query : "none", q->minor,
                     (int)q->keep_alive, q->nhdr, (int)q->body_len, (const char *)q->body);
    for (int i = 0; i < q->nhdr && n < (int)sizeof out - 200; i++)
        n += snprintf(out + n, sizeof out - (size_t)n, "h:%s=%s\n", q->hdr[i].name, q->hdr[i].value);
    mc_hreq_out_add(q, "Content-Type", "text/plain");
    mc_httpd_send(q, 200, "OK", out, (size_t)n, NULL, (size_t)n, false);
}

static void pump(void) {
    for (int i = 0; i < 8; i++) event_base_loop(base, EVLOOP_NONBLOCK);
}

static void drain(void) {
    for (;;) {
        ssize_t n = read(cfd, got + ngot, sizeof got - 1 - ngot);
        if (n > 0) {
            ngot += (size_t)n;
            continue;
        }
        if (n == 0) eof = true;
        break;
    }
    got[ngot] = '\0';
}

static void say(const char *s, size_t n) {
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(cfd, s + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            pump();
            drain();
            continue;
        }
        if (w <= 0) break;   /* the server closed (431): the rest is not read */
        off += (size_t)w;
    }
    pump();
    drain();
}

static void says(const char *s) { say(s, strlen(s)); }

static void setup(void) {
    base = event_base_new();
    hd = mc_httpd_new_unbound(base, 1 << 16, echo, NULL);
    int sv[2];
    cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0));
    mc_httpd_adopt(hd, sv[0]);
    cfd = sv[1];
    fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
    ngot = 0;
    got[0] = '\0';
    eof = false;
    hold = false;
    held = NULL;
    closecb_runs = 0;
    requests = 0;
}

static void teardown(void) {
    if (cfd >= 0) close(cfd);
    cfd = -1;
    mc_httpd_free(hd);
    event_base_free(base);
}

TestSuite(httpd, .init = setup, .fini = teardown);

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

Test(httpd, get_keep_alive_and_headers) {
    says("GET /identity/v3?x=1 HTTP/1.1\r\nHost: a\r\nX-Auth-Token: tok\r\n\r\n");
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 OK\r\n", 17), 0), "%s", got);
    cr_expect(mc_not(strstr(got, "M=1 P=/identity/v3 Q=x=1 V=1 K=1 N=2 B=\n") == NULL), "%s", got);
    cr_expect(mc_not(strstr(got, "h:X-Auth-Token=tok\n") == NULL));
    cr_expect(mc_not(strstr(got, "\r\nDate: ") == NULL));
    cr_expect(mc_not(strstr(got, "\r\nContent-Length: ") == NULL));
    cr_expect(mc_not(eof), "an HTTP/1.1 connection stays open");
    ngot = 0;
    says("GET /b HTTP/1.1\r\n\r\n");   /* no Host: fine */
    cr_expect(mc_not(strstr(got, "P=/b Q=none") == NULL), "%s", got);
}

Test(httpd, head_split_across_reads) {
    const char *req = "POST /split HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
    for (size_t i = 0; i < strlen(req); i++) {
        say(req + i, 1);
        if (i + 1 < strlen(req)) cr_assert(eq(sz, ngot, 0), "answered after %zu bytes", i + 1);
    }
    cr_expect(mc_not(strstr(got, "M=2 P=/split") == NULL), "%s", got);
    cr_expect(mc_not(strstr(got, "B=hello\n") == NULL), "%s", got);
    cr_expect(eq(int, requests, 1));
}

Test(httpd, pipelined_requests_answer_in_order) {
    says("GET /one HTTP/1.1\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /three HTTP/1.1\r\n\r\n");
    cr_expect(eq(int, count(got, "HTTP/1.1 200 OK"), 3), "%s", got);
    const char *a = strstr(got, "P=/one"), *b = strstr(got, "P=/two"), *c = strstr(got, "P=/three");
    cr_assert(a != NULL && b != NULL && c != NULL);
    cr_expect(a < b && b < c);
    cr_expect(mc_not(strstr(got, "B=abc\n") == NULL));
}

Test(httpd, chunked_with_extensions_and_trailers) {
    says("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n"
         "0\r\nX-Trailer: yes\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
    cr_expect(mc_not(strstr(got, "B=hello world\n") == NULL), "%s", got);
    cr_expect(mc_not(strstr(got, "P=/after") == NULL), "the request after the trailers: %s", got);
}

Test(httpd, chunked_one_byte_at_a_time) {
    const char *req = "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n";
    for (size_t i = 0; i < strlen(req); i++) say(req + i, 1);
    cr_expect(mc_not(strstr(got, "B=abc0123456789\n") == NULL), "%s", got);
    cr_expect(eq(int, requests, 1));
}

Test(httpd, bad_chunk_sizes_are_400_and_close) {
    says("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 400 ", 13), 0), "%s", got);
    cr_expect(eof, "a malformed body closes the connection");
    cr_expect(eq(int, requests, 0));
}

Test(httpd, chunk_size_overflow_and_over_cap) {
    says("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n");
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 400 ", 13), 0), "%s", got);
    teardown();
    setup();
    says("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n20000\r\n");   /* 128 KB > the 64 KB cap */
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 413 ", 13), 0), "%s", got);
    cr_expect(eof);
}

Test(httpd, oversized_head_is_431) {
    static char big[70 * 1024];
    memset(big, 'a', sizeof big);
    says("GET / HTTP/1.1\r\nX-Big: ");
    say(big, sizeof big);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 431 ", 13), 0), "%.100s", got);
    cr_expect(eof);
    cr_expect(eq(int, requests, 0));
}

Test(httpd, http10_closes_unless_keep_alive) {
    says("GET /old HTTP/1.0\r\n\r\n");
    cr_expect(mc_not(strstr(got, "V=0 K=0") == NULL), "%s", got);
    cr_expect(mc_not(strstr(got, "\r\nConnection: close\r\n") == NULL), "%s", got);
    cr_expect(eof, "HTTP/1.0 without keep-alive closes");
    teardown();
    setup();
    says("GET /old HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    cr_expect(mc_not(strstr(got, "\r\nConnection: keep-alive\r\n") == NULL), "%s", got);
    cr_expect(mc_not(eof));
    says("GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    cr_expect(mc_not(strstr(got, "P=/again") == NULL));
}

Test(httpd, connection_close_closes_after_the_reply) {
    says("GET /x HTTP/1.1\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
    cr_expect(mc_not(strstr(got, "\r\nConnection: close\r\n") == NULL), "%s", got);
    cr_expect(eof);
    cr_expect(eq(int, requests, 1), "nothing after Connection: close is served");
}

Test(httpd, head_has_the_length_but_no_body) {
    says("GET /h HTTP/1.1\r\n\r\n");
    const char *cl = strstr(got, "Content-Length: ");
    cr_assert(cl != NULL);
    long get_len = strtol(cl + 16, NULL, 10);
    ngot = 0;
    says("HEAD /h HTTP/1.1\r\n\r\n");
    cl = strstr(got, "Content-Length: ");
    cr_assert(cl != NULL, "%s", got);
    /* the echo differs by the method digit only: M=1 vs M=4 */
    cr_expect(eq(long, strtol(cl + 16, NULL, 10), get_len));
    const char *end = strstr(got, "\r\n\r\n");
    cr_assert(end != NULL);
    cr_expect(eq(str, (char *)end, "\r\n\r\n"), "no body after the head");
    ngot = 0;
    says("GET /h HTTP/1.1\r\n\r\n");
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200", 12), 0), "the connection is in step after a HEAD");
}

Test(httpd, expect_100_continue) {
    says("PUT /e HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
    cr_expect(eq(str, got, "HTTP/1.1 100 Continue\r\n\r\n"));
    cr_expect(eq(int, requests, 0));
    ngot = 0;
    says("0123456789");
    cr_expect(mc_not(strstr(got, "B=0123456789\n") == NULL), "%s", got);
    cr_expect(eq(int, count(got, "100 Continue"), 0));
    ngot = 0;
    /* over the cap: the real 413 instead of 100 */
    says("PUT /e HTTP/1.1\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 413 ", 13), 0), "%s", got);
    cr_expect(eq(int, count(got, "100 Continue"), 0));
    cr_expect(eof);
}

Test(httpd, folding_and_whitespace) {
    says("GET /f HTTP/1.1\r\nX-A:   one  \r\n  two\r\n\tthree\r\nX-B:\r\nx-c:c\r\n\r\n");
    cr_expect(mc_not(strstr(got, "h:X-A=one two three\n") == NULL), "%s", got);
    cr_expect(mc_not(strstr(got, "h:X-B=\n") == NULL), "%s", got);
    cr_expect(mc_not(strstr(got, "h:x-c=c\n") == NULL), "%s", got);
}

Test(httpd, bare_lf_and_leading_crlf) {
    says("\r\nGET /lf HTTP/1.1\nX-A: 1\n\n");
    cr_expect(mc_not(strstr(got, "P=/lf") == NULL), "%s", got);
    cr_expect(mc_not(strstr(got, "h:X-A=1\n") == NULL), "%s", got);
}

Test(httpd, malformed_request_lines) {
    static const char *bad[] = {
        "GET\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/1.1 x\r\n\r\n", "get / HTTP/1.1\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n", "GET nopath HTTP/1.1\r\n\r\n", "GET / FTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n", "GET / HTTP/1.1\r\n folded-first: x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        teardown();
        setup();
        says(bad[i]);
        cr_expect(eq(int, strncmp(got, "HTTP/1.1 400 ", 13), 0), "%zu: %s -> %s", i, bad[i], got);
        cr_expect(eof, "%zu: closed", i);
        cr_expect(eq(int, requests, 0));
    }
    teardown();
    setup();
    says("GET / HTTP/2.0\r\n\r\n");
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 505 ", 13), 0), "%s", got);
    teardown();
    setup();
    says("TRACE / HTTP/1.1\r\n\r\n");
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 501 ", 13), 0), "%s", got);
}

Test(httpd, absolute_uri_and_fragment) {
    says("GET http://example.com:80/abs/path?q=1 HTTP/1.1\r\n\r\n");
    cr_expect(mc_not(strstr(got, "P=/abs/path Q=q=1") == NULL), "%s", got);
    ngot = 0;
    says("GET /frag#x?y HTTP/1.1\r\n\r\n");
    cr_expect(mc_not(strstr(got, "P=/frag Q=none") == NULL), "%s", got);
}

static void on_close(void *arg) {
    (void)arg;
    closecb_runs++;
}

Test(httpd, held_request_then_pipelined_one) {
    hold = true;
    says("GET /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n");
    cr_assert(held != NULL);
    cr_expect(eq(int, requests, 1), "the second waits for the first");
    cr_expect(eq(sz, ngot, 0));
    hold = false;
    mc_hreq *q = held;
    held = NULL;
    mc_httpd_send(q, 202, "Accepted", "later", 5, NULL, 5, false);
    pump();
    drain();
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 202 Accepted\r\n", 23), 0), "%s", got);
    cr_expect(mc_not(strstr(got, "P=/second") == NULL), "%s", got);
    cr_expect(eq(int, requests, 2));
}

Test(httpd, client_leaves_while_a_request_waits) {
    hold = true;
    says("GET /slow HTTP/1.1\r\n\r\n");
    cr_assert(held != NULL);
    mc_httpd_set_closecb(held, on_close, NULL);
    close(cfd);
    cfd = -1;
    pump();
    cr_expect(eq(int, closecb_runs, 1));
    cr_expect(mc_httpd_gone(held));
    char *body = malloc(4);
    memcpy(body, "late", 4);
    mc_httpd_send(held, 200, "OK", body, 4, free, 4, false);   /* a no-op that frees body and the connection */
    held = NULL;
}

Test(httpd, drop_closes_without_an_answer) {
    hold = true;
    says("GET /drop HTTP/1.1\r\n\r\n");
    cr_assert(held != NULL);
    mc_httpd_drop(held);
    held = NULL;
    pump();
    drain();
    cr_expect(eq(sz, ngot, 0));
    cr_expect(eof);
}

Test(httpd, reply_larger_than_the_socket_buffer_is_queued) {
    hold = true;
    says("GET /big HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n");
    cr_assert(held != NULL);
    size_t n = 4u << 20;
    char *body = malloc(n);
    for (size_t i = 0; i < n; i++) body[i] = (char)('a' + i % 26);
    hold = false;
    mc_httpd_send(held, 200, "OK", body, n, free, n, false);
    held = NULL;
    static char all[(4u << 20) + 4096];
    size_t total = 0;
    for (int i = 0; i < 4000 && (total < n || strstr(got, "P=/next") == NULL); i++) {
        pump();
        ngot = 0;
        drain();
        if (total + ngot < sizeof all) memcpy(all + total, got, ngot);
        total += ngot;
        got[ngot] = '\0';
        if (strstr(got, "P=/next") != NULL) break;
    }
    cr_expect(gt(sz, total, n), "the whole 4 MB arrived, then the next reply");
    const char *start = NULL;
    for (size_t i = 0; i + 4 <= total && i + 4 <= sizeof all && start == NULL; i++)
        if (memcmp(all + i, "\r\n\r\n", 4) == 0) start = all + i;
    cr_assert(start != NULL);
    cr_expect(eq(int, memcmp(start + 4, "abcdefghijklmnopqrstuvwxyzabc", 29), 0));
    cr_expect(eq(int, requests, 2));
}

/* ------------------------------------------------------------ query */

Test(query, decoded_keys_and_values_bare_keys_and_empty_pieces) {
    mc_req r;
    memset(&r, 0, sizeof r);
    const char *q = "a=1&b=x+y&c=%41%2&router%3Aexternal=True&&nokey&=skipped&a=2&e=";
    mc_query_parse(&r, q, strlen(q));
    cr_assert(eq(int, r.nquery, 7));
    cr_expect(eq(str, (char *)mc_query(&r, "a"), "1"));
    cr_expect(eq(str, (char *)mc_query(&r, "b"), "x y"));
    cr_expect(eq(str, (char *)mc_query(&r, "c"), "A%2"));
    cr_expect(eq(str, (char *)mc_query(&r, "router:external"), "True"));
    cr_expect(eq(str, (char *)mc_query(&r, "nokey"), ""));
    cr_expect(eq(str, (char *)mc_query(&r, "e"), ""));
    cr_expect(eq(str, r.query[5].key, "a"));
    cr_expect(eq(str, r.query[5].value, "2"));
    mc_query_set(&r, "a", "9");
    cr_expect(eq(int, r.nquery, 6));
    cr_expect(eq(str, (char *)mc_query(&r, "a"), "9"));
    mc_query_remove(&r, "b");
    cr_expect(mc_query(&r, "b") == NULL);
    cr_expect(eq(str, (char *)mc_query(&r, "c"), "A%2"));
    mc_query_free(&r);
    cr_expect(eq(int, r.nquery, 0));
    mc_query_parse(&r, "&&", 2);
    cr_expect(eq(int, r.nquery, 0));
    mc_query_set(&r, "limit", "5");
    cr_expect(eq(str, (char *)mc_query(&r, "limit"), "5"));
    mc_query_free(&r);
    mc_assert_no_leaks();
}
