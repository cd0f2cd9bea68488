/* guest_shell.c -- the guest's command interpreter (guest.h mc_guest_shell).
 *
 * What SSH clients run in a freshly booted cloud image, answered from the
 * facts the guest has about itself (flavor, disks, ports, hostname): enough
 * /bin/sh for the command lines Tempest's remote_client sends ("set -eu -o
 * pipefail; PATH=$PATH:/sbin:/usr/sbin; hostname", "grep -c ^processor
 * /proc/cpuinfo", "lsblk -lb --nodeps", "ip -o addr | awk ...") and for a
 * person poking around. A line is split into words (quotes, backslashes),
 * then into lists (';', '&&', '||') of pipelines ('|'); each command reads
 * its stdin as a string and writes its stdout and stderr into buffers. */
#include "guest.h"
#include "util.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- buffers */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL) mc_panic("out of memory");
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static char *sb_take(sbuf *b) {
    if (b->p == NULL) sb_add(b, "", 0);
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

/* ---------------------------------------------------------------- words */

/* Token kinds: a word, or an operator. */
enum { T_WORD, T_SEMI, T_AND, T_OR, T_PIPE, T_END };

typedef struct tok {
    int kind;
    char *word;
} tok;

typedef struct toks {
    tok *v;
    size_t n, cap;
} toks;

static void toks_push(toks *t, int kind, char *word) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        tok *v = realloc(t->v, t->cap * sizeof *v);
        if (v == NULL) mc_panic("out of memory");
        t->v = v;
    }
    t->v[t->n].kind = kind;
    t->v[t->n].word = word;
    t->n++;
}

static void toks_free(toks *t) {
    for (size_t i = 0; i < t->n; i++) free(t->v[i].word);
    free(t->v);
}

/* Splits a command line as sh does (no expansion but $PATH-like words kept
 * literally). Returns 0, or -1 with a syntax error in 'err'. */
static int lex(const char *s, toks *t, sbuf *err) {
    while (*s) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            if (*s == '\n') toks_push(t, T_SEMI, NULL);
            s++;
            continue;
        }
        if (*s == '#') {
            while (*s && *s != '\n') s++;
            continue;
        }
        if (s[0] == '&' && s[1] == '&') { toks_push(t, T_AND, NULL); s += 2; continue; }
        if (s[0] == '|' && s[1] == '|') { toks_push(t, T_OR, NULL); s += 2; continue; }
        if (*s == '|') { toks_push(t, T_PIPE, NULL); s++; continue; }
        if (*s == ';') { toks_push(t, T_SEMI, NULL); s++; continue; }
        if (*s == '&') {   /* background: run in the foreground, as a fast guest would */
            toks_push(t, T_SEMI, NULL);
            s++;
            continue;
        }
        sbuf w = {0};
        bool any = false;
        while (*s && !strchr(" \t\r\n;|&", *s)) {
            any = true;
            if (*s == '\'') {
                const char *e = strchr(s + 1, '\'');
                if (e == NULL) {
                    sb_puts(err, "sh: syntax error: unterminated quoted string\n");
                    free(w.p);
                    return -1;
                }
                sb_add(&w, s + 1, (size_t)(e - s - 1));
                s = e + 1;
            } else if (*s == '"') {
                s++;
                while (*s && *s != '"') {
                    if (*s == '\\' && s[1] && strchr("\"\\$`\n", s[1])) s++;
                    sb_add(&w, s, 1);
                    s++;
                }
                if (*s != '"') {
                    sb_puts(err, "sh: syntax error: unterminated quoted string\n");
                    free(w.p);
                    return -1;
                }
                s++;
            } else if (*s == '\\' && s[1]) {
                sb_add(&w, s + 1, 1);
                s += 2;
            } else if (*s == '>' || *s == '<') {
                /* a redirection is its own word: ">", ">>", "2>&1", "2>/dev/null" */
                if (w.n > 0 && !(w.n == 1 && isdigit((unsigned char)w.p[0]))) break;
                sb_add(&w, s, 1);
                s++;
                if (*s == '>' || *s == '&') sb_add(&w, s++, 1);
                if (w.p[w.n - 1] == '&') {
                    while (isdigit((unsigned char)*s)) sb_add(&w, s++, 1);
                }
                break;
            } else {
                sb_add(&w, s, 1);
                s++;
            }
        }
        if (any) toks_push(t, T_WORD, sb_take(&w));
        else free(w.p);
    }
    toks_push(t, T_END, NULL);
    return 0;
}

/* ---------------------------------------------------------------- commands */

typedef struct sh {
    const mc_guest_facts *f;
    bool errexit, pipefail, root;
    bool exited;
    int exit_code;
    int depth;
} sh;

typedef struct io {
    const char *in;       /* stdin (never NULL) */
    sbuf *out, *err;
} io;

typedef int (*cmd_fn)(sh *s, int argc, char **argv, io *x);

static int run_line(sh *s, const char *line, io *x);

static int not_found(const char *name, io *x) {
    sb_printf(x->err, "sh: %s: not found\n", name);
    return 127;
}

static long kernel_mem_kb(const mc_guest_facts *f) {
    long kb = f->ram_mb * 1024;
    return kb - kb / 32 - 60 * 1024 > 0 ? kb - kb / 32 - 60 * 1024 : kb / 2;   /* what the kernel keeps */
}

/* The guest's files, as text; NULL when the file does not exist. */
static char *file_text(sh *s, const char *path) {
    const mc_guest_facts *f = s->f;
    sbuf b = {0};
    if (strcmp(path, "/proc/cpuinfo") == 0) {
        for (int i = 0; i < f->vcpus; i++)
            sb_printf(&b,
                      "processor\t: %d\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
                      "model name\t: Intel Xeon Processor (Cascadelake)\nstepping\t: 6\ncpu MHz\t\t: 2294.608\n"
                      "cache size\t: 16384 KB\nphysical id\t: %d\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n"
                      "apicid\t\t: %d\nfpu\t\t: yes\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr "
                      "pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc "
                      "rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq vmx ssse3 fma cx16 pcid sse4_1 "
                      "sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch "
                      "avx2 avx512f\nbogomips\t: 4589.21\naddress sizes\t: 46 bits physical, 48 bits virtual\n\n",
                      i, i, i);
    } else if (strcmp(path, "/proc/meminfo") == 0) {
        long total = kernel_mem_kb(f);
        sb_printf(&b, "MemTotal:       %8ld kB\nMemFree:        %8ld kB\nMemAvailable:   %8ld kB\n"
                      "Buffers:        %8ld kB\nCached:         %8ld kB\nSwapCached:            0 kB\n"
                      "SwapTotal:             0 kB\nSwapFree:              0 kB\n",
                  total, total * 8 / 10, total * 9 / 10, total / 100, total / 20);
    } else if (strcmp(path, "/etc/hostname") == 0 || strcmp(path, "/proc/sys/kernel/hostname") == 0) {
        sb_printf(&b, "%s\n", f->hostname);
    } else if (strcmp(path, "/proc/uptime") == 0) {
        sb_printf(&b, "%ld.%02ld %ld.%02ld\n", f->uptime_s, f->uptime_s % 100, f->uptime_s * f->vcpus,
                  (f->uptime_s * 7) % 100);
    } else if (strcmp(path, "/proc/version") == 0) {
        sb_puts(&b, "Linux version 5.15.0-71-generic (buildd@lcy02-amd64-044) (gcc (Ubuntu 11.3.0-1ubuntu1~22.04) "
                    "11.3.0, GNU ld (GNU Binutils for Ubuntu) 2.38) #78-Ubuntu SMP Tue Apr 18 09:00:29 UTC 2023\n");
    } else if (strcmp(path, "/etc/os-release") == 0) {
        sb_puts(&b, "NAME=CirrOS\nVERSION=\"0.6.2\"\nID=cirros\nVERSION_ID=0.6.2\nPRETTY_NAME=\"CirrOS 0.6.2\"\n");
    } else if (strcmp(path, "/etc/resolv.conf") == 0) {
        sb_puts(&b, "search novalocal\nnameserver 8.8.8.8\n");
    } else if (strcmp(path, "/proc/partitions") == 0) {
        sb_puts(&b, "major minor  #blocks  name\n\n");
        for (int i = 0; i < f->ndisks; i++)
            sb_printf(&b, "%4d %7d %10llu %s\n", f->disks[i].major, f->disks[i].minor, f->disks[i].bytes / 1024,
                      f->disks[i].name);
    } else if (strcmp(path, "/proc/sys/kernel/random/boot_id") == 0) {
        sb_puts(&b, "6b0e1f56-9f6c-4d1e-9a52-5b0c1e3f7d21\n");
    } else if (strcmp(path, "/dev/null") == 0) {
        sb_add(&b, "", 0);
    } else {
        (void)s;
        return NULL;
    }
    return sb_take(&b);
}

/* The input of a filter: its file operands concatenated, or stdin. */
static int filter_input(sh *s, const char *cmd, char **files, int nfiles, io *x, sbuf *in) {
    if (nfiles == 0) {
        sb_puts(in, x->in);
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < nfiles; i++) {
        if (strcmp(files[i], "-") == 0) {
            sb_puts(in, x->in);
            continue;
        }
        char *t = file_text(s, files[i]);
        if (t == NULL) {
            sb_printf(x->err, "%s: %s: No such file or directory\n", cmd, files[i]);
            rc = cmd[0] == 'g' ? 2 : 1;
            continue;
        }
        sb_puts(in, t);
        free(t);
    }
    return rc;
}

static int c_true(sh *s, int argc, char **argv, io *x) { (void)s; (void)argc; (void)argv; (void)x; return 0; }
static int c_false(sh *s, int argc, char **argv, io *x) { (void)s; (void)argc; (void)argv; (void)x; return 1; }

static int c_echo(sh *s, int argc, char **argv, io *x) {
    (void)s;
    int i = 1;
    bool nl = true;
    if (i < argc && strcmp(argv[i], "-n") == 0) nl = false, i++;
    for (int first = i; i < argc; i++) {
        if (i > first) sb_puts(x->out, " ");
        sb_puts(x->out, argv[i]);
    }
    if (nl) sb_puts(x->out, "\n");
    return 0;
}

static int c_hostname(sh *s, int argc, char **argv, io *x) {
    const char *h = s->f->hostname;
    if (argc > 1 && (strcmp(argv[1], "-s") == 0 || strcmp(argv[1], "--short") == 0)) {
        size_t n = strcspn(h, ".");
        sb_add(x->out, h, n);
        sb_puts(x->out, "\n");
        return 0;
    }
    if (argc > 1 && argv[1][0] != '-') {
        sb_puts(x->err, "hostname: you must be root to change the host name\n");
        return 1;
    }
    sb_printf(x->out, "%s\n", h);
    return 0;
}

static int c_cat(sh *s, int argc, char **argv, io *x) {
    sbuf in = {0};
    int rc = filter_input(s, "cat", argv + 1, argc - 1, x, &in);
    if (in.p) sb_add(x->out, in.p, in.n);
    free(in.p);
    return rc;
}

static int c_nproc(sh *s, int argc, char **argv, io *x) {
    (void)argc; (void)argv;
    sb_printf(x->out, "%d\n", s->f->vcpus);
    return 0;
}

static int c_uname(sh *s, int argc, char **argv, io *x) {
    static const char *const parts[] = {"Linux", NULL, "5.15.0-71-generic", "#78-Ubuntu SMP Tue Apr 18 09:00:29 UTC 2023",
                                        "x86_64", "GNU/Linux"};
    const char *letters = "snrvmo";
    bool want[6] = {false};
    bool any = false;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            sb_printf(x->err, "uname: extra operand '%s'\n", argv[i]);
            return 1;
        }
        for (const char *p = argv[i] + 1; *p; p++) {
            const char *at = strchr(letters, *p);
            if (*p == 'a') {
                for (int k = 0; k < 6; k++) want[k] = true;
            } else if (at != NULL) {
                want[at - letters] = true;
            } else {
                sb_printf(x->err, "uname: invalid option -- '%c'\n", *p);
                return 1;
            }
            any = true;
        }
    }
    if (!any) want[0] = true;
    bool first = true;
    for (int k = 0; k < 6; k++) {
        if (!want[k]) continue;
        sb_printf(x->out, "%s%s", first ? "" : " ", k == 1 ? s->f->hostname : parts[k]);
        first = false;
    }
    sb_puts(x->out, "\n");
    return 0;
}

static int c_whoami(sh *s, int argc, char **argv, io *x) {
    (void)argc; (void)argv;
    sb_printf(x->out, "%s\n", s->root ? "root" : s->f->user);
    return 0;
}

static int c_id(sh *s, int argc, char **argv, io *x) {
    bool root = s->root || strcmp(s->f->user, "root") == 0;
    const char *name = root ? "root" : s->f->user;
    int uid = root ? 0 : 1000;
    bool u = false, n = false;
    for (int i = 1; i < argc; i++)
        for (const char *p = argv[i][0] == '-' ? argv[i] + 1 : ""; *p; p++) {
            if (*p == 'u' || *p == 'g') u = true;
            else if (*p == 'n') n = true;
            else {
                sb_printf(x->err, "id: invalid option -- '%c'\n", *p);
                return 1;
            }
        }
    if (u && n) sb_printf(x->out, "%s\n", name);
    else if (u) sb_printf(x->out, "%d\n", uid);
    else sb_printf(x->out, "uid=%d(%s) gid=%d(%s) groups=%d(%s)\n", uid, name, uid, name, uid, name);
    return 0;
}

/* grep [-c] [-v] [-i] [-q] [-E] [-w] PATTERN [FILE...] */
static int c_grep(sh *s, int argc, char **argv, io *x) {
    bool count = false, inv = false, icase = false, quiet = false, ext = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--") == 0) { i++; break; }
        if (strcmp(argv[i], "-e") == 0) { i++; break; }
        for (const char *p = argv[i] + 1; *p; p++) {
            if (*p == 'c') count = true;
            else if (*p == 'v') inv = true;
            else if (*p == 'i') icase = true;
            else if (*p == 'q') quiet = true;
            else if (*p == 'E') ext = true;
            else if (*p == 'F' || *p == 's' || *p == 'w') continue;
            else {
                sb_printf(x->err, "grep: invalid option -- '%c'\n", *p);
                return 2;
            }
        }
    }
    if (i >= argc) {
        sb_puts(x->err, "Usage: grep [OPTION]... PATTERNS [FILE]...\n");
        return 2;
    }
    regex_t re;
    if (regcomp(&re, argv[i], REG_NOSUB | (ext ? REG_EXTENDED : 0) | (icase ? REG_ICASE : 0)) != 0) {
        sb_printf(x->err, "grep: Invalid regular expression\n");
        return 2;
    }
    sbuf in = {0};
    int frc = filter_input(s, "grep", argv + i + 1, argc - i - 1, x, &in);
    long n = 0;
    const char *p = in.p ? in.p : "";
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *line = strndup(p, len);
        if (line == NULL) mc_panic("out of memory");
        bool m = (regexec(&re, line, 0, NULL, 0) == 0) != inv;
        if (m) {
            n++;
            if (!count && !quiet) {
                sb_add(x->out, p, len);
                sb_puts(x->out, "\n");
            }
        }
        free(line);
        p += len + (e ? 1 : 0);
    }
    regfree(&re);
    free(in.p);
    if (count && !quiet) sb_printf(x->out, "%ld\n", n);
    if (frc) return 2;
    return n > 0 ? 0 : 1;
}

static int c_wc(sh *s, int argc, char **argv, io *x) {
    bool l = false, w = false, c = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
        for (const char *p = argv[i] + 1; *p; p++) {
            if (*p == 'l') l = true;
            else if (*p == 'w') w = true;
            else if (*p == 'c' || *p == 'm') c = true;
            else {
                sb_printf(x->err, "wc: invalid option -- '%c'\n", *p);
                return 1;
            }
        }
    if (!l && !w && !c) l = w = c = true;
    sbuf in = {0};
    int rc = filter_input(s, "wc", argv + i, argc - i, x, &in);
    long nl = 0, nw = 0, nc = (long)in.n;
    bool inword = false;
    for (size_t k = 0; k < in.n; k++) {
        if (in.p[k] == '\n') nl++;
        bool sp = isspace((unsigned char)in.p[k]);
        if (!sp && !inword) nw++;
        inword = !sp;
    }
    free(in.p);
    bool first = true;
    bool one = (l + w + c) == 1 && argc - i == 0;
    if (l) { sb_printf(x->out, one ? "%ld" : "%7ld", nl); first = false; }
    if (w) { sb_printf(x->out, one ? "%s%ld" : "%s%7ld", first ? "" : " ", nw); first = false; }
    if (c) sb_printf(x->out, one ? "%s%ld" : "%s%7ld", first ? "" : " ", nc);
    sb_puts(x->out, "\n");
    return rc;
}

/* head/tail -n N (also -N) */
static int c_headtail(sh *s, int argc, char **argv, io *x) {
    bool head = strcmp(argv[0], "head") == 0;
    long n = 10;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) v = argv[++i];
        else if (strncmp(argv[i], "-n", 2) == 0) v = argv[i] + 2;
        else if (isdigit((unsigned char)argv[i][1])) v = argv[i] + 1;
        char *end;
        n = v ? strtol(v, &end, 10) : -1;
        if (v == NULL || *end || n < 0) {
            sb_printf(x->err, "%s: invalid number of lines\n", argv[0]);
            return 1;
        }
    }
    sbuf in = {0};
    int rc = filter_input(s, argv[0], argv + i, argc - i, x, &in);
    const char *p = in.p ? in.p : "";
    long total = 0;
    for (const char *q = p; *q; q++) total += *q == '\n';
    if (in.n > 0 && p[in.n - 1] != '\n') total++;
    long from = head ? 0 : (total > n ? total - n : 0), to = head ? n : total, k = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
        if (k >= from && k < to) sb_add(x->out, p, len);
        k++;
        p += len;
    }
    free(in.p);
    return rc;
}

/* cut -f LIST -d C, cut -c N-M (single fields and ranges N, N-M, N-) */
static int c_cut(sh *s, int argc, char **argv, io *x) {
    char delim = '\t';
    const char *list = NULL;
    bool chars = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        char o = argv[i][1];
        const char *v = argv[i][2] ? argv[i] + 2 : (i + 1 < argc ? argv[++i] : NULL);
        if (v == NULL) break;
        if (o == 'd') delim = v[0];
        else if (o == 'f') list = v;
        else if (o == 'c') list = v, chars = true;
    }
    if (list == NULL) {
        sb_puts(x->err, "cut: you must specify a list of bytes, characters, or fields\n");
        return 1;
    }
    long lo = 0, hi = 0;
    char *end;
    lo = strtol(list, &end, 10);
    hi = lo;
    if (*end == '-') hi = end[1] ? strtol(end + 1, &end, 10) : 1L << 30;
    else if (*end != '\0' || lo < 1) {
        sb_printf(x->err, "cut: invalid field value '%s'\n", list);
        return 1;
    }
    sbuf in = {0};
    int rc = filter_input(s, "cut", argv + i, argc - i, x, &in);
    const char *p = in.p ? in.p : "";
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (chars) {
            for (long c = lo; c <= hi && (size_t)c <= len; c++) sb_add(x->out, p + c - 1, 1);
        } else if (memchr(p, delim, len) == NULL) {
            sb_add(x->out, p, len);
        } else {
            long fld = 1;
            bool first = true;
            const char *q = p, *stop = p + len;
            while (q <= stop) {
                const char *d = memchr(q, delim, (size_t)(stop - q));
                const char *fe = d ? d : stop;
                if (fld >= lo && fld <= hi) {
                    if (!first) sb_add(x->out, &delim, 1);
                    sb_add(x->out, q, (size_t)(fe - q));
                    first = false;
                }
                if (d == NULL) break;
                q = d + 1;
                fld++;
            }
        }
        sb_puts(x->out, "\n");
        p += len + (e ? 1 : 0);
    }
    free(in.p);
    return rc;
}

/* awk: only "{print $N[, $M]}" with an optional /regex/ in front. */
static int c_awk(sh *s, int argc, char **argv, io *x) {
    int i = 1;
    if (i >= argc) {
        sb_puts(x->err, "usage: awk [-F value] [-v var=value] [prog | -f progfile] [file ...]\n");
        return 2;
    }
    const char *prog = argv[i++];
    while (isspace((unsigned char)*prog)) prog++;
    char pat[256] = "";
    if (*prog == '/') {
        const char *e = strchr(prog + 1, '/');
        if (e == NULL || (size_t)(e - prog) >= sizeof pat) goto unsupported;
        memcpy(pat, prog + 1, (size_t)(e - prog - 1));
        pat[e - prog - 1] = '\0';
        prog = e + 1;
        while (isspace((unsigned char)*prog)) prog++;
    }
    int fields[8], nf = 0;
    if (strncmp(prog, "{", 1) != 0) goto unsupported;
    prog++;
    while (isspace((unsigned char)*prog)) prog++;
    if (strncmp(prog, "print", 5) != 0) goto unsupported;
    prog += 5;
    for (;;) {
        while (isspace((unsigned char)*prog) || *prog == ',') prog++;
        if (*prog == '}') break;
        if (*prog != '$' || nf == 8) goto unsupported;
        char *end;
        long v = strtol(prog + 1, &end, 10);
        if (end == prog + 1 || v < 0) goto unsupported;
        fields[nf++] = (int)v;
        prog = end;
    }
    if (nf == 0) fields[nf++] = 0;
    regex_t re;
    bool has_re = pat[0] != '\0';
    if (has_re && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0) goto unsupported;
    sbuf in = {0};
    int rc = filter_input(s, "awk", argv + i, argc - i, x, &in);
    const char *p = in.p ? in.p : "";
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *line = strndup(p, len);
        if (line == NULL) mc_panic("out of memory");
        if (!has_re || regexec(&re, line, 0, NULL, 0) == 0) {
            char *words[64];
            int nw = 0;
            for (char *w = line; *w && nw < 64;) {
                while (*w && isspace((unsigned char)*w)) w++;
                if (!*w) break;
                words[nw++] = w;
                while (*w && !isspace((unsigned char)*w)) w++;
                if (*w) *w++ = '\0';
            }
            for (int k = 0; k < nf; k++) {
                if (k) sb_puts(x->out, " ");
                if (fields[k] == 0) sb_add(x->out, p, len);
                else if (fields[k] <= nw) sb_puts(x->out, words[fields[k] - 1]);
            }
            sb_puts(x->out, "\n");
        }
        free(line);
        p += len + (e ? 1 : 0);
    }
    if (has_re) regfree(&re);
    free(in.p);
    return rc;
unsupported:
    sb_printf(x->err, "awk: this guest's busybox awk was built without that: %s\n", argv[1]);
    return 2;
}

static void human_size(unsigned long long b, char *out, size_t n) {
    static const char units[] = "BKMGTP";
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 5) v /= 1024, u++;
    if (u == 0) snprintf(out, n, "%lluB", b);
    else if (v == (double)(long long)v) snprintf(out, n, "%lld%c", (long long)v, units[u]);
    else snprintf(out, n, "%.1f%c", v, units[u]);
}

/* lsblk [-l] [-b] [--nodeps|-d] [-n] [-o ...ignored]: util-linux 2.38 columns */
static int c_lsblk(sh *s, int argc, char **argv, io *x) {
    bool bytes = false, noheadings = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0) bytes = true;
        else if (strcmp(argv[i], "--noheadings") == 0) noheadings = true;
        else if (argv[i][0] == '-' && argv[i][1] != '-') {
            for (const char *p = argv[i] + 1; *p; p++) {
                if (*p == 'b') bytes = true;
                else if (*p == 'n') noheadings = true;
                else if (!strchr("ldaf", *p)) {
                    sb_printf(x->err, "lsblk: invalid option -- '%c'\n", *p);
                    return 1;
                }
            }
        } else if (strcmp(argv[i], "--nodeps") != 0 && strcmp(argv[i], "--list") != 0 &&
                   strcmp(argv[i], "--ascii") != 0 && strcmp(argv[i], "--fs") != 0 && strcmp(argv[i], "--all") != 0) {
            if (argv[i][0] == '-') {
                sb_printf(x->err, "lsblk: unrecognized option '%s'\n", argv[i]);
                return 1;
            }
            sb_printf(x->err, "lsblk: %s: not a block device\n", argv[i]);
            return 32;
        }
    }
    const mc_guest_facts *f = s->f;
    char sizes[MC_GUEST_MAX_DISKS][32], mm[MC_GUEST_MAX_DISKS][16];
    int wn = 4, wm = 7, ws = 4;
    for (int i = 0; i < f->ndisks; i++) {
        if (bytes) snprintf(sizes[i], sizeof sizes[i], "%llu", f->disks[i].bytes);
        else human_size(f->disks[i].bytes, sizes[i], sizeof sizes[i]);
        snprintf(mm[i], sizeof mm[i], "%d:%d", f->disks[i].major, f->disks[i].minor);
        int l = (int)strlen(f->disks[i].name);
        if (l > wn) wn = l;
        l = (int)strlen(sizes[i]);
        if (l > ws) ws = l;
    }
    if (!noheadings) sb_printf(x->out, "%-*s %*s RM %*s RO TYPE MOUNTPOINTS\n", wn, "NAME", wm, "MAJ:MIN", ws, "SIZE");
    for (int i = 0; i < f->ndisks; i++)
        sb_printf(x->out, "%-*s %*s  0 %*s  0 disk %s\n", wn, f->disks[i].name, wm, mm[i], ws, sizes[i],
                  i == 0 ? "" : "");
    return 0;
}

static void nic_prefix_v4(const char *a, char *out, size_t n) {
    /* "10.0.0.5/24" -> broadcast "10.0.0.255" */
    unsigned b0, b1, b2, b3, plen;
    if (sscanf(a, "%u.%u.%u.%u/%u", &b0, &b1, &b2, &b3, &plen) != 5 || plen > 32) {
        snprintf(out, n, "0.0.0.0");
        return;
    }
    unsigned long v = (unsigned long)b0 << 24 | b1 << 16 | b2 << 8 | b3;
    unsigned long mask = plen == 0 ? 0 : (0xffffffffUL << (32 - plen)) & 0xffffffffUL;
    unsigned long bc = (v & mask) | (~mask & 0xffffffffUL);
    snprintf(out, n, "%lu.%lu.%lu.%lu", bc >> 24, bc >> 16 & 255, bc >> 8 & 255, bc & 255);
}

/* ip [-o] [-4|-6] addr|a|address [show [dev] IF] / ip [-o] link [show [dev] IF] */
static int c_ip(sh *s, int argc, char **argv, io *x) {
    bool oneline = false;
    int fam = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "-oneline") == 0) oneline = true;
        else if (strcmp(argv[i], "-4") == 0) fam = 4;
        else if (strcmp(argv[i], "-6") == 0) fam = 6;
        else {
            sb_printf(x->err, "Option \"%s\" is unknown, try \"ip -help\".\n", argv[i]);
            return 255;
        }
    }
    if (i >= argc) {
        sb_puts(x->err, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n");
        return 255;
    }
    const char *obj = argv[i++];
    bool addr = strcmp(obj, "a") == 0 || strcmp(obj, "addr") == 0 || strcmp(obj, "address") == 0;
    bool link = strcmp(obj, "l") == 0 || strcmp(obj, "link") == 0;
    if (!addr && !link) {
        if (strcmp(obj, "r") == 0 || strcmp(obj, "route") == 0) {
            if (s->f->nnics > 0) sb_printf(x->out, "default via 0.0.0.0 dev %s\n", s->f->nics[0].name);
            return 0;
        }
        sb_printf(x->err, "Object \"%s\" is unknown, try \"ip help\".\n", obj);
        return 255;
    }
    const char *dev = NULL;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "show") == 0 || strcmp(argv[i], "list") == 0 || strcmp(argv[i], "dev") == 0) continue;
        dev = argv[i];
    }
    const mc_guest_facts *f = s->f;
    bool found = dev == NULL || strcmp(dev, "lo") == 0;
    for (int k = 0; k < f->nnics; k++) found = found || strcmp(dev, f->nics[k].name) == 0;
    if (!found) {
        sb_printf(x->err, "Device \"%s\" does not exist.\n", dev);
        return 1;
    }
    const char *nl = oneline ? "\\" : "\n";
    for (int k = -1; k < f->nnics; k++) {
        const char *name = k < 0 ? "lo" : f->nics[k].name;
        if (dev != NULL && strcmp(dev, name) != 0) continue;
        int idx = k + 2;
        int mtu = k < 0 ? 65536 : (f->nics[k].mtu > 0 ? f->nics[k].mtu : 1450);
        const char *flags = k < 0 ? "LOOPBACK,UP,LOWER_UP" : "BROADCAST,MULTICAST,UP,LOWER_UP";
        const char *mac = k < 0 ? "00:00:00:00:00:00" : f->nics[k].mac;
        const char *bcast = k < 0 ? "00:00:00:00:00:00" : "ff:ff:ff:ff:ff:ff";
        if (link || !oneline) {
            sb_printf(x->out, "%d: %s: <%s> mtu %d qdisc %s state %s %sqlen 1000%s", idx, name, flags, mtu,
                      k < 0 ? "noqueue" : "pfifo_fast", k < 0 ? "UNKNOWN" : "UP", k < 0 ? "" : "", oneline ? "" : "\n");
            if (oneline) sb_printf(x->out, "%s    link/%s %s brd %s\n", nl, k < 0 ? "loopback" : "ether", mac, bcast);
            else sb_printf(x->out, "    link/%s %s brd %s\n", k < 0 ? "loopback" : "ether", mac, bcast);
        }
        if (link) continue;
        int na = k < 0 ? 2 : f->nics[k].naddrs;
        for (int a = 0; a < na; a++) {
            const char *ad = k < 0 ? (a == 0 ? "127.0.0.1/8" : "::1/128") : f->nics[k].addrs[a];
            bool v6 = strchr(ad, ':') != NULL;
            if ((fam == 4 && v6) || (fam == 6 && !v6)) continue;
            char bc[32];
            const char *scope = k < 0 ? "host" : (v6 && strncmp(ad, "fe80", 4) == 0 ? "link" : "global");
            if (oneline) sb_printf(x->out, "%d: %s    ", idx, name);
            else sb_puts(x->out, "    ");
            if (v6) {
                sb_printf(x->out, "inet6 %s scope %s %s", ad, scope, oneline ? nl : "\n");
            } else {
                nic_prefix_v4(ad, bc, sizeof bc);
                if (k < 0) sb_printf(x->out, "inet %s scope host lo%s", ad, oneline ? nl : "\n");
                else sb_printf(x->out, "inet %s brd %s scope global %s%s", ad, bc, name, oneline ? nl : "\n");
            }
            sb_printf(x->out, "%s   valid_lft forever preferred_lft forever\n", oneline ? "" : "    ");
        }
    }
    return 0;
}

static int c_sleep(sh *s, int argc, char **argv, io *x) {
    (void)s;
    (void)argv;
    if (argc < 2) {
        sb_puts(x->err, "sleep: missing operand\n");
        return 1;
    }
    return 0;   /* the guest is fast: no time passes (and the loop never blocks) */
}

static int c_exit(sh *s, int argc, char **argv, io *x) {
    (void)x;
    s->exited = true;
    s->exit_code = argc > 1 ? (int)(strtol(argv[1], NULL, 10) & 255) : 0;
    return s->exit_code;
}

static int c_set(sh *s, int argc, char **argv, io *x) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "+o") == 0) {
            if (i + 1 < argc && strcmp(argv[i + 1], "pipefail") == 0) s->pipefail = argv[i][0] == '-';
            else if (i + 1 < argc && strcmp(argv[i + 1], "errexit") == 0) s->errexit = argv[i][0] == '-';
            else if (i + 1 < argc && strcmp(argv[i + 1], "nounset") != 0) {
                sb_printf(x->err, "sh: set: illegal option -o %s\n", argv[i + 1]);
                return 2;
            }
            i++;
            continue;
        }
        if (argv[i][0] == '-' || argv[i][0] == '+')
            for (const char *p = argv[i] + 1; *p; p++)
                if (*p == 'e') s->errexit = argv[i][0] == '-';
    }
    return 0;
}

static int c_shc(sh *s, int argc, char **argv, io *x) {
    if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
        if (s->depth > 8) {
            sb_puts(x->err, "sh: nested too deep\n");
            return 2;
        }
        sh sub = *s;
        sub.depth++;
        sub.exited = false;
        return run_line(&sub, argv[2], x);
    }
    if (argc == 1) return run_line(s, x->in, x);
    sb_printf(x->err, "%s: can't open '%s': No such file or directory\n", argv[0], argv[1]);
    return 2;
}

static int c_sudo(sh *s, int argc, char **argv, io *x);

static int c_unknown_root(sh *s, int argc, char **argv, io *x) {
    (void)argc;
    if (!s->root) {
        sb_printf(x->err, "%s: Permission denied\n", argv[0]);
        return 1;
    }
    return 0;
}

static const struct {
    const char *name;
    cmd_fn fn;
} commands[] = {
    {"true", c_true},      {":", c_true},        {"false", c_false},   {"echo", c_echo},     {"hostname", c_hostname},
    {"cat", c_cat},        {"nproc", c_nproc},   {"uname", c_uname},   {"whoami", c_whoami}, {"id", c_id},
    {"grep", c_grep},      {"wc", c_wc},         {"head", c_headtail}, {"tail", c_headtail}, {"cut", c_cut},
    {"awk", c_awk},        {"lsblk", c_lsblk},   {"ip", c_ip},         {"sleep", c_sleep},   {"exit", c_exit},
    {"set", c_set},        {"sh", c_shc},        {"bash", c_shc},      {"sudo", c_sudo},     {"sync", c_true},
    {"mount", c_unknown_root}, {"umount", c_unknown_root},
};

static cmd_fn lookup(const char *name) {
    const char *base = strrchr(name, '/');
    if (base != NULL) {
        /* /bin/x, /sbin/x, /usr/bin/x ... only where a real guest has them */
        if (strncmp(name, "/bin/", 5) != 0 && strncmp(name, "/sbin/", 6) != 0 && strncmp(name, "/usr/bin/", 9) != 0 &&
            strncmp(name, "/usr/sbin/", 10) != 0)
            return NULL;
        name = base + 1;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) return commands[i].fn;
    return NULL;
}

static int c_sudo(sh *s, int argc, char **argv, io *x) {
    int i = 1;
    while (i < argc && argv[i][0] == '-') i++;   /* -n, -i, -E ... */
    if (i >= argc) {
        sb_puts(x->err, "usage: sudo -h | -K | -k | -V\n");
        return 1;
    }
    cmd_fn fn = lookup(argv[i]);
    if (fn == NULL) {
        sb_printf(x->err, "sudo: %s: command not found\n", argv[i]);
        return 1;
    }
    bool was = s->root;
    s->root = true;
    int rc = fn(s, argc - i, argv + i, x);
    s->root = was;
    return rc;
}

/* ---------------------------------------------------------------- the shell */

/* One simple command: words [from, to). Assignments and redirections are
 * taken out; the rest is argv. */
static int run_simple(sh *s, tok *w, size_t n, io *x) {
    char **argv = calloc(n + 1, sizeof *argv);
    if (argv == NULL) mc_panic("out of memory");
    int argc = 0;
    bool drop_out = false, err_to_out = false, drop_err = false;
    for (size_t i = 0; i < n; i++) {
        const char *a = w[i].word;
        if (argc == 0 && strchr(a, '=') != NULL && a[0] != '=' && (isalpha((unsigned char)a[0]) || a[0] == '_')) {
            continue;   /* VAR=value: the guest's environment does not matter here */
        }
        if (a[0] == '>' || a[0] == '<' || (isdigit((unsigned char)a[0]) && (a[1] == '>' || a[1] == '<'))) {
            int fd = isdigit((unsigned char)a[0]) ? a[0] - '0' : (a[0] == '<' ? 0 : 1);
            const char *op = isdigit((unsigned char)a[0]) ? a + 1 : a;
            if (strcmp(op, ">&1") == 0 && fd == 2) { err_to_out = true; continue; }
            if (strcmp(op, ">&2") == 0) continue;
            const char *target = NULL;
            if (i + 1 < n) target = w[++i].word;
            if (target == NULL) {
                sb_puts(x->err, "sh: syntax error: unexpected newline\n");
                free(argv);
                return 2;
            }
            if (fd == 0) continue;
            if (strcmp(target, "/dev/null") != 0 && strcmp(target, "/dev/console") != 0) {
                sb_printf(x->err, "sh: can't create %s: Read-only file system\n", target);
                free(argv);
                return 1;
            }
            if (fd == 2) drop_err = true;
            else drop_out = true;
            continue;
        }
        argv[argc++] = w[i].word;
    }
    int rc = 0;
    if (argc > 0) {
        sbuf out = {0}, err = {0};
        io sub = {x->in, &out, &err};
        cmd_fn fn = lookup(argv[0]);
        rc = fn ? fn(s, argc, argv, &sub) : not_found(argv[0], &sub);
        if (err_to_out && err.p) sb_add(drop_out ? &err : &out, err.p, err.n), err.n = 0;
        if (!drop_out && out.p) sb_add(x->out, out.p, out.n);
        if (!drop_err && err.n > 0) sb_add(x->err, err.p, err.n);
        free(out.p);
        free(err.p);
    }
    free(argv);
    return rc;
}

/* A pipeline [from, to): commands separated by '|'. */
static int run_pipeline(sh *s, tok *t, size_t n, io *x) {
    char *in = strdup(x->in);
    if (in == NULL) mc_panic("out of memory");
    int rc = 0, failed = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && t[i].kind != T_PIPE) continue;
        if (i == start) {
            sb_puts(x->err, "sh: syntax error: unexpected \"|\"\n");
            free(in);
            return 2;
        }
        bool last = i == n;
        sbuf out = {0};
        io sub = {in, last ? x->out : &out, x->err};
        rc = run_simple(s, t + start, i - start, &sub);
        if (rc != 0) failed = rc;
        free(in);
        in = last ? NULL : sb_take(&out);
        start = i + 1;
        if (s->exited) break;
    }
    free(in);
    return s->pipefail && failed ? failed : rc;
}

static int run_toks(sh *s, toks *t, io *x) {
    int rc = 0;
    size_t i = 0;
    int pending = T_SEMI;   /* the operator before the next pipeline */
    while (i < t->n && t->v[i].kind != T_END && !s->exited) {
        size_t j = i;
        while (t->v[j].kind == T_WORD || t->v[j].kind == T_PIPE) j++;
        bool skip = (pending == T_AND && rc != 0) || (pending == T_OR && rc == 0);
        if (j > i && !skip) {
            rc = run_pipeline(s, t->v + i, j - i, x);
            /* set -e: a failing command that is not the left side of && or || ends the script */
            int next = t->v[j].kind;
            if (s->errexit && rc != 0 && next != T_AND && next != T_OR && pending != T_AND && pending != T_OR) {
                s->exited = true;
                s->exit_code = rc;
                break;
            }
        } else if (j == i && t->v[j].kind != T_SEMI && t->v[j].kind != T_END) {
            sb_puts(x->err, "sh: syntax error: unexpected operator\n");
            return 2;
        }
        pending = t->v[j].kind;
        i = j + (t->v[j].kind == T_END ? 0 : 1);
    }
    return s->exited ? s->exit_code : rc;
}

static int run_line(sh *s, const char *line, io *x) {
    toks t = {0};
    int rc;
    if (lex(line, &t, x->err) != 0) rc = 2;
    else rc = run_toks(s, &t, x);
    toks_free(&t);
    return rc;
}

int mc_guest_shell(const mc_guest_facts *f, const char *cmdline, char **out, char **err) {
    sbuf o = {0}, e = {0};
    sh s = {.f = f, .root = strcmp(f->user, "root") == 0};
    io x = {"", &o, &e};
    int rc = run_line(&s, cmdline ? cmdline : "", &x);
    *out = sb_take(&o);
    *err = sb_take(&e);
    return rc & 255;
}
