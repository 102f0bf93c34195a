/* ASN ranges from a CSV (range_start,range_end,asn,organization), as
 * @ip-location-db/asn ships it: addresses or integers, IPv4 or IPv6,
 * organisation optionally quoted ("" escapes a quote). */
#include "geotap/geodata.h"
#include "geotap/snapshot.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The whole file, in a private copy (snapshot.h: it may be rewritten in
 * place meanwhile); *len may be 0 (then NULL is returned with *ok set). */
static char *map_file(const char *path, size_t *len, int *ok, char *err, size_t errlen)
{
    *ok = 0;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot read: not a regular file", path);
        return NULL;
    }
    char *p = gt_snapshot_read(path, len, err, errlen);
    if (!p)
        return NULL;
    *ok = 1;
    if (!*len) {
        free(p);
        return NULL;
    }
    return p;
}

/* Decimal integer up to 128 bits; 0 on overflow or junk. */
static int parse_dec(const char *s, size_t n, gt_u128 *out)
{
    gt_u128 v = 0;
    if (!n || n > 39)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        gt_u128 nv = v * 10 + (unsigned)(s[i] - '0');
        if (nv / 10 != v)
            return 0;
        v = nv;
    }
    *out = v;
    return 1;
}

/* An address field: 4 (v4 in *a), 6, 1 (a bare integer), or 0 when invalid. */
static int parse_addr(const char *s, size_t n, gt_u128 *a)
{
    char buf[64];
    if (!n || n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (strlen(buf) != n)
        return 0;                           /* embedded NUL: binary junk */
    if (memchr(s, ':', n)) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, buf, &a6) != 1)
            return 0;
        *a = gt_u128_from_bytes(a6.s6_addr);
        return 6;
    }
    if (memchr(s, '.', n)) {
        struct in_addr a4;
        if (inet_pton(AF_INET, buf, &a4) != 1)
            return 0;
        *a = ntohl(a4.s_addr);
        return 4;
    }
    return parse_dec(s, n, a) ? 1 : 0;
}

struct field { const char *p; size_t n; int quoted; };

/* Split one line into up to 4 fields; returns the count, or -1 on a bad quote.
 * Quoted fields keep their "" escapes (unescaped by the caller). */
static int split(const char *s, const char *end, struct field f[4])
{
    int k = 0;
    for (;;) {
        if (k == 4)
            return 5;                       /* too many fields */
        if (s < end && *s == '"') {
            const char *q = ++s;
            for (;;) {
                q = memchr(q, '"', (size_t)(end - q));
                if (!q)
                    return -1;
                if (q + 1 < end && q[1] == '"') {
                    q += 2;
                    continue;
                }
                break;
            }
            f[k++] = (struct field){ s, (size_t)(q - s), 1 };
            s = q + 1;
            if (s == end)
                return k;
            if (*s != ',')
                return -1;
            s++;
        } else {
            const char *c = memchr(s, ',', (size_t)(end - s));
            if (!c) {
                f[k++] = (struct field){ s, (size_t)(end - s), 0 };
                return k;
            }
            f[k++] = (struct field){ s, (size_t)(c - s), 0 };
            s = c + 1;
        }
    }
}

int gt_source_asn_csv(const char *path, struct gt_rangeset *rs, struct gt_asn_orgs *orgs,
                      char *err, size_t errlen)
{
    size_t len = 0;
    int ok;
    char *buf = map_file(path, &len, &ok, err, errlen);
    if (!ok)
        return -1;
    if (!buf)      /* empty file: no ranges (and no arithmetic on NULL) */
        return 0;
    /* room for the lines up front (about 40 bytes each): no regrowth copies */
    size_t est = len / 32 + 16;
    int named_v6 = strstr(path, "ipv6") != NULL || strstr(path, "IPv6") != NULL;
    if (!named_v6 && rs->cap4 < rs->n4 + est) {
        struct gt_range4 *p = realloc(rs->v4, (rs->n4 + est) * sizeof *p);
        if (p) {
            rs->v4 = p;
            rs->cap4 = rs->n4 + est;
        }
    }
    if (named_v6 && rs->cap6 < rs->n6 + est) {
        struct gt_range6 *p = realloc(rs->v6, (rs->n6 + est) * sizeof *p);
        if (p) {
            rs->v6 = p;
            rs->cap6 = rs->n6 + est;
        }
    }
    /* integers are IPv6 when the file says so by name, or when too big for IPv4 */
    int int_v6 = named_v6;
    char *org = NULL;
    size_t orgcap = 0;
    unsigned long lineno = 0;
    const char *why = NULL;
    for (const char *s = buf, *eob = buf + len; s < eob;) {
        const char *nl = memchr(s, '\n', (size_t)(eob - s));
        const char *end = nl ? nl : eob;
        const char *next = nl ? nl + 1 : eob;
        lineno++;
        if (end > s && end[-1] == '\r')
            end--;
        if (end == s) {
            s = next;
            continue;
        }
        struct field f[4];
        int nf = split(s, end, f);
        if (nf < 0) {
            why = "unbalanced quotes";
            break;
        }
        if (nf != 3 && nf != 4) {
            why = "expected range_start,range_end,asn,organization";
            break;
        }
        if (lineno == 1 && f[0].n == 11 && !memcmp(f[0].p, "range_start", 11)) {
            s = next;                       /* optional header */
            continue;
        }
        gt_u128 lo, hi, asn;
        int t0 = parse_addr(f[0].p, f[0].n, &lo), t1 = parse_addr(f[1].p, f[1].n, &hi);
        if (!t0 || !t1) {
            why = t0 ? "bad range_end address" : "bad range_start address";
            break;
        }
        if (t0 == 1 && t1 == 1) {
            t0 = t1 = (int_v6 || hi > UINT32_MAX) ? 6 : 4;
        }
        if (t0 != t1) {
            why = "range_start and range_end of different kinds";
            break;
        }
        if (lo > hi) {
            why = "range_start after range_end";
            break;
        }
        if (!parse_dec(f[2].p, f[2].n, &asn) || asn > UINT32_MAX) {
            why = "bad asn";
            break;
        }
        /* an ASN 0 line is kept: it marks its range unknown, and a later
         * line wins where lines overlap */
        {
            int r = t0 == 4 ? gt_rangeset_add4(rs, (uint32_t)lo, (uint32_t)hi, (uint32_t)asn)
                            : gt_rangeset_add6(rs, lo, hi, (uint32_t)asn);
            if (r) {
                why = "out of memory";
                break;
            }
            if (orgs && asn && nf == 4 && f[3].n) {
                const char *name = f[3].p;
                size_t n = f[3].n;
                if (f[3].quoted && memchr(name, '"', n)) {
                    if (n > orgcap) {
                        free(org);
                        orgcap = n * 2;
                        org = malloc(orgcap);
                        if (!org) {
                            why = "out of memory";
                            break;
                        }
                    }
                    size_t o = 0;
                    for (size_t i = 0; i < n; i++) {
                        org[o++] = name[i];
                        if (name[i] == '"')
                            i++;            /* "" -> " */
                    }
                    name = org;
                    n = o;
                }
                if (gt_asn_orgs_add(orgs, (uint32_t)asn, name, n)) {
                    why = "out of memory";
                    break;
                }
            }
        }
        s = next;
    }
    free(org);
    if (buf)
        free(buf);
    if (why) {
        snprintf(err, errlen, "%s:%lu: malformed ASN CSV line: %s", path, lineno, why);
        return -1;
    }
    return 0;
}

/* A MaxMind DB ends with its metadata, after this marker. */
static int looks_like_mmdb(const char *path)
{
    size_t n = strlen(path);
    if (n >= 5 && !strcasecmp(path + n - 5, ".mmdb"))
        return 1;
    static const char marker[] = "\xab\xcd\xefMaxMind.com";
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char buf[1 << 16];
    int found = 0;
    if (fseek(f, -(long)sizeof buf, SEEK_END) != 0)
        rewind(f);
    size_t k = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (k >= sizeof marker - 1)
        found = memmem(buf, k, marker, sizeof marker - 1) != NULL;
    return found;
}

int gt_source_asn(const char *path, struct gt_rangeset *rs, struct gt_asn_orgs *orgs,
                  char *err, size_t errlen)
{
    if (looks_like_mmdb(path))
        return gt_source_mmdb_asn(path, rs, orgs, err, errlen);
    return gt_source_asn_csv(path, rs, orgs, err, errlen);
}
