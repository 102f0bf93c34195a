/* BGP route table: prefixes in an open-addressing hash, per-peer route
 * nodes on a free list, peer epochs that make a session's routes stale at
 * once. Parsing is in routes_parse.c, summaries and queries in
 * routes_query.c; the rules are documented in include/geotap/routes.h. */
#include "routes_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---- table ---------------------------------------------------------------- */

gt_routes *gt_routes_new(void)
{
    gt_routes *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->nslot = 1024;
    r->slot = calloc(r->nslot, sizeof *r->slot);
    r->caprt = 1024;
    r->rt = malloc(r->caprt * sizeof *r->rt);
    if (!r->slot || !r->rt) {
        gt_routes_free(r);
        return NULL;
    }
    r->nrt = 1;
    return r;
}

void gt_routes_free(gt_routes *r)
{
    if (!r)
        return;
    free(r->p);
    free(r->slot);
    free(r->rt);
    free(r->peer);
    free(r->el);
    free(r->elset);
    free(r);
}


static int grow_slots(gt_routes *r)
{
    uint32_t ns = r->nslot * 2;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 0; i < r->np; i++) {
        uint32_t k = routes_hash_pfx(r->p[i].family, r->p[i].addr, r->p[i].len) & (ns - 1);
        while (s[k])
            k = (k + 1) & (ns - 1);
        s[k] = i + 1;
    }
    free(r->slot);
    r->slot = s;
    r->nslot = ns;
    return 0;
}

uint32_t routes_add_pfx(gt_routes *r, int family, gt_u128 addr, unsigned len)
{
    uint32_t i = routes_find_pfx(r, family, addr, len);
    if (i != UINT32_MAX)
        return i;
    if ((r->np + 1) * 2 > r->nslot && grow_slots(r))
        return UINT32_MAX;
    if (r->np == r->capp) {
        uint32_t nc = r->capp ? r->capp * 2 : 1024;
        struct pfx *p = realloc(r->p, nc * sizeof *p);
        if (!p)
            return UINT32_MAX;
        r->p = p;
        r->capp = nc;
    }
    i = r->np++;
    r->p[i] = (struct pfx){ addr, 0, (uint8_t)len, (uint8_t)family };
    uint32_t k = routes_hash_pfx(family, addr, len) & (r->nslot - 1);
    while (r->slot[k])
        k = (k + 1) & (r->nslot - 1);
    r->slot[k] = i + 1;
    if (family == 4)
        r->lenmask4 |= 1ull << len;
    else
        r->lenmask6[len / 64] |= 1ull << (len % 64);
    return i;
}

uint32_t routes_find_peer(gt_routes *r, const char *ip, size_t iplen, uint32_t as, int create)
{
    /* peers are few (tens); a linear scan with a one-entry cache is enough */
    static const uint32_t none = UINT32_MAX;
    for (uint32_t i = 0; i < r->npeer; i++) {
        uint32_t j = r->npeer - 1 - i;
        if (r->peer[j].as == as && strlen(r->peer[j].ip) == iplen && memcmp(r->peer[j].ip, ip, iplen) == 0)
            return j;
    }
    if (!create || iplen >= sizeof r->peer[0].ip)
        return none;
    if (r->npeer == r->cappeer) {
        uint32_t nc = r->cappeer ? r->cappeer * 2 : 16;
        struct peer *p = realloc(r->peer, nc * sizeof *p);
        if (!p)
            return none;
        r->peer = p;
        r->cappeer = nc;
    }
    struct peer *p = &r->peer[r->npeer];
    memcpy(p->ip, ip, iplen);
    p->ip[iplen] = 0;
    p->as = as;
    p->epoch = 0;
    return r->npeer++;
}


static void free_node(gt_routes *r, uint32_t n)
{
    r->rt[n].next = r->freert;
    r->freert = n;
}

/* Remove stale nodes and the node of peer (if any) from p's list; returns
 * the removed live node of peer (already freed) as 1/0. */
int routes_unlink_peer(gt_routes *r, struct pfx *p, uint32_t peer)
{
    int found = 0;
    uint32_t *link = &p->head;
    while (*link) {
        uint32_t n = *link;
        if (r->rt[n].peer == peer || !routes_live(r, &r->rt[n])) {
            found |= r->rt[n].peer == peer && routes_live(r, &r->rt[n]);
            *link = r->rt[n].next;
            free_node(r, n);
        } else {
            link = &r->rt[n].next;
        }
    }
    return found;
}

int routes_set_route(gt_routes *r, uint32_t pi, uint32_t peer, uint32_t origin, uint32_t upstream)
{
    struct pfx *p = &r->p[pi];
    for (uint32_t n = p->head; n; n = r->rt[n].next) {
        struct rt *x = &r->rt[n];
        if (x->peer == peer) {   /* replace, reviving it if it was stale */
            x->epoch = r->peer[peer].epoch;
            x->origin = origin;
            x->upstream = upstream;
            return 0;
        }
    }
    uint32_t n = r->freert;
    if (n) {
        r->freert = r->rt[n].next;
    } else {
        if (r->nrt == r->caprt) {
            uint32_t nc = r->caprt * 2;
            struct rt *q = realloc(r->rt, (size_t)nc * sizeof *q);
            if (!q)
                return -1;
            r->rt = q;
            r->caprt = nc;
        }
        n = r->nrt++;
    }
    r->rt[n] = (struct rt){ p->head, peer, r->peer[peer].epoch, origin, upstream };
    p->head = n;
    return 0;
}
