/* iso9660.c -- an ISO 9660 writer for config drives (ECMA-119 + Joliet).
 *
 * Layout: system area (sectors 0-15), primary volume descriptor (16), Joliet
 * supplementary descriptor (17, UCS-2 level 3), terminator (18), then the
 * L and M path tables of both trees, the directories of the primary tree,
 * the directories of the Joliet tree, and the file data, which both trees
 * share. Directory records never cross a sector boundary; directories are
 * numbered breadth-first in the path tables as the standard requires. */
#include "iso9660.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECTOR 2048
#define MAX_NODES 512
#define MAX_CHILD 64

typedef struct inode {
    char name[65];
    bool dir;
    int parent;
    const void *data;
    size_t len;
    int child[MAX_CHILD];
    int nchild;
    uint32_t ext[2], size[2];   /* directories: per tree (0 primary, 1 Joliet) */
    uint32_t fext;              /* files */
    int ptnum;                  /* path table number (1-based) */
} inode;

typedef struct iso {
    inode n[MAX_NODES];
    int count;
    int bfs[MAX_NODES];         /* directories, breadth-first */
    int ndirs;
    unsigned char stamp[7];
} iso;

static void le32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void be32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i)); }
static void both32(unsigned char *p, uint32_t v) { le32(p, v); be32(p + 4, v); }
static void both16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The identifier of a node in tree t ("." and ".." are \0 and \1). */
static size_t ident(const inode *x, int t, unsigned char *out) {
    if (t == 0) {
        size_t o = 0;
        bool dot = false;
        for (const char *p = x->name; *p && o < 30; p++) {
            char c = *p;
            if (c >= 'a' && c <= 'z') c = (char)(c - 32);
            if (c == '.') {
                if (x->dir || dot) c = '_';
                else dot = true;
            }
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) c = '_';
            out[o++] = (unsigned char)c;
        }
        if (!x->dir) {
            if (!dot) out[o++] = '.';
            out[o++] = ';';
            out[o++] = '1';
        }
        return o;
    }
    size_t o = 0;
    for (const char *p = x->name; *p && o < 128; p++) {
        out[o++] = 0;
        out[o++] = (unsigned char)*p;
    }
    return o;
}

static int find_child(const iso *s, int dir, const char *name, size_t nl) {
    for (int i = 0; i < s->n[dir].nchild; i++) {
        const inode *c = &s->n[s->n[dir].child[i]];
        if (strlen(c->name) == nl && strncmp(c->name, name, nl) == 0) return s->n[dir].child[i];
    }
    return -1;
}

static int add_node(iso *s, int parent, const char *name, size_t nl, bool dir) {
    if (s->count >= MAX_NODES || nl == 0 || nl > 64 || s->n[parent].nchild >= MAX_CHILD) return -1;
    inode *x = &s->n[s->count];
    memset(x, 0, sizeof *x);
    memcpy(x->name, name, nl);
    x->name[nl] = '\0';
    x->dir = dir;
    x->parent = parent;
    s->n[parent].child[s->n[parent].nchild++] = s->count;
    return s->count++;
}

/* Children of 'dir' sorted by their identifier in tree t (ECMA-119 9.3). */
static int sorted_children(const iso *s, int dir, int t, int *out) {
    int k = s->n[dir].nchild;
    memcpy(out, s->n[dir].child, (size_t)k * sizeof *out);
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0; j--) {
            unsigned char a[160], b[160];
            size_t la = ident(&s->n[out[j - 1]], t, a), lb = ident(&s->n[out[j]], t, b);
            int c = memcmp(a, b, la < lb ? la : lb);
            if (c < 0 || (c == 0 && la <= lb)) break;
            int tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
    return k;
}

static size_t rec_len(size_t idlen) { return 33 + idlen + (idlen % 2 == 0 ? 1 : 0); }

/* Bytes a directory's records take in tree t, sector-aligned. */
static uint32_t dir_size(const iso *s, int dir, int t) {
    int ch[MAX_CHILD];
    int k = sorted_children(s, dir, t, ch);
    size_t used = 2 * 34, total = 0;
    for (int i = 0; i < k; i++) {
        unsigned char id[160];
        size_t l = rec_len(ident(&s->n[ch[i]], t, id));
        if (used + l > SECTOR) {
            total += SECTOR;
            used = 0;
        }
        used += l;
    }
    return (uint32_t)(total + SECTOR);
}

static size_t write_rec(unsigned char *p, uint32_t ext, uint32_t size, bool dir, const unsigned char *id,
                        size_t idlen, const unsigned char stamp[7]) {
    size_t l = rec_len(idlen);
    memset(p, 0, l);
    p[0] = (unsigned char)l;
    both32(p + 2, ext);
    both32(p + 10, size);
    memcpy(p + 18, stamp, 7);
    p[25] = dir ? 2 : 0;
    both16(p + 28, 1);
    p[32] = (unsigned char)idlen;
    memcpy(p + 33, id, idlen);
    return l;
}

static void write_dir(const iso *s, int dir, int t, unsigned char *img) {
    const inode *d = &s->n[dir];
    unsigned char *base = img + (size_t)d->ext[t] * SECTOR;
    const inode *par = &s->n[d->parent];
    unsigned char zero = 0, one = 1;
    size_t off = write_rec(base, d->ext[t], d->size[t], true, &zero, 1, s->stamp);
    off += write_rec(base + off, par->ext[t], par->size[t], true, &one, 1, s->stamp);
    int ch[MAX_CHILD];
    int k = sorted_children(s, dir, t, ch);
    for (int i = 0; i < k; i++) {
        const inode *c = &s->n[ch[i]];
        unsigned char id[160];
        size_t il = ident(c, t, id);
        if (off % SECTOR + rec_len(il) > SECTOR) off = (off / SECTOR + 1) * SECTOR;
        off += write_rec(base + off, c->dir ? c->ext[t] : c->fext, c->dir ? c->size[t] : (uint32_t)c->len, c->dir,
                         id, il, s->stamp);
    }
}

/* Path table of tree t, little- or big-endian; returns its size. */
static size_t write_ptable(const iso *s, int t, bool big, unsigned char *p) {
    size_t off = 0;
    for (int i = 0; i < s->ndirs; i++) {
        const inode *d = &s->n[s->bfs[i]];
        unsigned char id[160];
        size_t il = s->bfs[i] == 0 ? 1 : ident(d, t, id);
        if (s->bfs[i] == 0) id[0] = 0;
        if (p != NULL) {
            p[off] = (unsigned char)il;
            p[off + 1] = 0;
            uint16_t parent = (uint16_t)s->n[d->parent].ptnum;
            if (big) {
                be32(p + off + 2, d->ext[t]);
                p[off + 6] = (unsigned char)(parent >> 8);
                p[off + 7] = (unsigned char)parent;
            } else {
                le32(p + off + 2, d->ext[t]);
                p[off + 6] = (unsigned char)parent;
                p[off + 7] = (unsigned char)(parent >> 8);
            }
            memcpy(p + off + 8, id, il);
        }
        off += 8 + il + (il % 2);
    }
    return off;
}

static void pad_str(unsigned char *p, size_t n, const char *s, bool ucs2) {
    if (!ucs2) {
        memset(p, ' ', n);
        memcpy(p, s, strlen(s) < n ? strlen(s) : n);
        return;
    }
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t k = i / 2;
        p[i] = 0;
        p[i + 1] = (unsigned char)(k < strlen(s) ? s[k] : ' ');
    }
}

static void write_vd(const iso *s, int t, unsigned char *p, const char *label, uint32_t total, size_t ptsize,
                     const uint32_t ptl[2], const uint32_t ptm[2], const char *date17) {
    p[0] = t == 0 ? 1 : 2;
    memcpy(p + 1, "CD001", 5);
    p[6] = 1;
    pad_str(p + 8, 32, "LINUX", t == 1);
    pad_str(p + 40, 32, label, t == 1);
    both32(p + 80, total);
    if (t == 1) {
        p[88] = 0x25;
        p[89] = 0x2f;
        p[90] = 0x45;
    }
    both16(p + 120, 1);
    both16(p + 124, 1);
    both16(p + 128, SECTOR);
    both32(p + 132, (uint32_t)ptsize);
    le32(p + 140, ptl[t]);
    be32(p + 148, ptm[t]);
    unsigned char zero = 0;
    write_rec(p + 156, s->n[0].ext[t], s->n[0].size[t], true, &zero, 1, s->stamp);
    for (int f = 0; f < 4; f++) pad_str(p + 190 + 128 * f, 128, f == 3 ? "MOCKCLOUD CONFIG DRIVE" : "", t == 1);
    for (int f = 0; f < 3; f++) pad_str(p + 702 + 37 * f, 37, "", t == 1);
    memcpy(p + 813, date17, 17);
    memcpy(p + 830, date17, 17);
    memcpy(p + 847, "0000000000000000", 16);
    memcpy(p + 864, date17, 17);
    p[881] = 1;
}

unsigned char *mc_iso_build(const char *volume_label, const mc_iso_file *files, size_t nfiles, size_t *len) {
    iso *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    unsigned char *img = NULL;
    s->count = 1;
    s->n[0].dir = true;
    s->n[0].parent = 0;
    for (size_t i = 0; i < nfiles; i++) {
        int cur = 0;
        const char *p = files[i].path;
        while (*p) {
            const char *slash = strchr(p, '/');
            size_t nl = slash ? (size_t)(slash - p) : strlen(p);
            int c = find_child(s, cur, p, nl);
            if (c < 0) c = add_node(s, cur, p, nl, slash != NULL);
            if (c < 0 || s->n[c].dir != (slash != NULL)) goto fail;
            if (slash == NULL) {
                s->n[c].data = files[i].data;
                s->n[c].len = files[i].len;
            }
            cur = c;
            p = slash ? slash + 1 : p + nl;
        }
    }
    /* breadth-first numbering of directories, children in primary order */
    s->bfs[0] = 0;
    s->ndirs = 1;
    s->n[0].ptnum = 1;
    for (int i = 0; i < s->ndirs; i++) {
        int ch[MAX_CHILD];
        int k = sorted_children(s, s->bfs[i], 0, ch);
        for (int j = 0; j < k; j++)
            if (s->n[ch[j]].dir) {
                s->bfs[s->ndirs++] = ch[j];
                s->n[ch[j]].ptnum = s->ndirs;
            }
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    unsigned char st[7] = {(unsigned char)tm.tm_year, (unsigned char)(tm.tm_mon + 1), (unsigned char)tm.tm_mday,
                           (unsigned char)tm.tm_hour, (unsigned char)tm.tm_min, (unsigned char)tm.tm_sec, 0};
    memcpy(s->stamp, st, 7);
    char date17[18];
    snprintf(date17, sizeof date17, "%04d%02d%02d%02d%02d%02d00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
    date17[16] = 0;   /* GMT offset */

    /* extents */
    size_t pts[2] = {write_ptable(s, 0, false, NULL), write_ptable(s, 1, false, NULL)};
    uint32_t cur = 19, ptl[2], ptm[2];
    for (int t = 0; t < 2; t++) {
        uint32_t secs = (uint32_t)((pts[t] + SECTOR - 1) / SECTOR);
        ptl[t] = cur;
        cur += secs;
        ptm[t] = cur;
        cur += secs;
    }
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < s->ndirs; i++) {
            inode *d = &s->n[s->bfs[i]];
            d->size[t] = dir_size(s, s->bfs[i], t);
            d->ext[t] = cur;
            cur += d->size[t] / SECTOR;
        }
    for (int i = 0; i < s->count; i++) {
        inode *x = &s->n[i];
        if (x->dir) continue;
        x->fext = cur;
        cur += (uint32_t)((x->len + SECTOR - 1) / SECTOR);
    }
    uint32_t total = cur;
    img = calloc(total, SECTOR);
    if (img == NULL) goto fail;
    write_vd(s, 0, img + 16 * SECTOR, volume_label, total, pts[0], ptl, ptm, date17);
    write_vd(s, 1, img + 17 * SECTOR, volume_label, total, pts[1], ptl, ptm, date17);
    unsigned char *term = img + 18 * SECTOR;
    term[0] = 255;
    memcpy(term + 1, "CD001", 5);
    term[6] = 1;
    for (int t = 0; t < 2; t++) {
        write_ptable(s, t, false, img + (size_t)ptl[t] * SECTOR);
        write_ptable(s, t, true, img + (size_t)ptm[t] * SECTOR);
        for (int i = 0; i < s->ndirs; i++) write_dir(s, s->bfs[i], t, img);
    }
    for (int i = 0; i < s->count; i++)
        if (!s->n[i].dir && s->n[i].len > 0) memcpy(img + (size_t)s->n[i].fext * SECTOR, s->n[i].data, s->n[i].len);
    *len = (size_t)total * SECTOR;
    free(s);
    return img;
fail:
    free(s);
    free(img);
    return NULL;
}
