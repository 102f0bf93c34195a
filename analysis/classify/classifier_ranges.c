/* Range preparation for the classifier build: copy a caller's range set and
 * make each set disjoint and sorted before the class sweep, in one linear
 * pass when the ranges arrive in address order (a later range wins, as in
 * gt_rangeset_normalize), else by the general normalisation. */
#include "geotap/geodata.h"
#include "classifier_impl.h"

#include <stdlib.h>

/* Copy of a caller's range set (opts is const; normalising sorts in place). */
int cls_copy_rangeset(struct gt_rangeset *dst, const struct gt_rangeset *src)
{
    for (size_t i = 0; i < src->n4; i++)
        if (gt_rangeset_add4(dst, src->v4[i].lo, src->v4[i].hi, src->v4[i].val))
            return -1;
    for (size_t i = 0; i < src->n6; i++)
        if (gt_rangeset_add6(dst, src->v6[i].lo, src->v6[i].hi, src->v6[i].val))
            return -1;
    return 0;
}

/* Disjoint and in address order already (tree walks, clean CSVs)? */
static int canonical4(const struct gt_rangeset *rs)
{
    for (size_t i = 1; i < rs->n4; i++)
        if (rs->v4[i].lo <= rs->v4[i - 1].hi)
            return 0;
    return 1;
}

static int canonical6(const struct gt_rangeset *rs)
{
    for (size_t i = 1; i < rs->n6; i++)
        if (rs->v6[i].lo <= rs->v6[i - 1].hi)
            return 0;
    return 1;
}

static int sorted4(const struct gt_rangeset *rs)
{
    for (size_t i = 1; i < rs->n4; i++)
        if (rs->v4[i].lo < rs->v4[i - 1].lo)
            return 0;
    return 1;
}

static int sorted6(const struct gt_rangeset *rs)
{
    for (size_t i = 1; i < rs->n6; i++)
        if (rs->v6[i].lo < rs->v6[i - 1].lo)
            return 0;
    return 1;
}

/* Ranges added in address order with a few overlaps (a CSV whose lines
 * overlap): a later range wins, as in gt_rangeset_normalize, and here the
 * later one also starts later, so one pass with a stack of open ranges
 * resolves it in O(n) instead of a sort. Returns 0, 1 when the family needs
 * the general normalisation (not in address order), -1 when out of memory. */
static int resolve_family(struct gt_rangeset *rs, int v6)
{
    size_t n = v6 ? rs->n6 : rs->n4;
    if (v6 ? canonical6(rs) : canonical4(rs))
        return 0;
    if (!(v6 ? sorted6(rs) : sorted4(rs)))
        return 1;
    const struct dim d = { v6 ? NULL : rs->v4, v6 ? rs->v6 : NULL, n };
    const gt_u128 top = v6 ? ~(gt_u128)0 : UINT32_MAX;
    /* each range is pushed once and emits at most two pieces */
    struct gt_range4 *o4 = v6 ? NULL : malloc((2 * n + 1) * sizeof *o4);
    struct gt_range6 *o6 = v6 ? malloc((2 * n + 1) * sizeof *o6) : NULL;
    size_t *st = malloc((n + 1) * sizeof *st);
    if ((!o4 && !o6) || !st) {
        free(o4); free(o6); free(st);
        return -1;
    }
    size_t no = 0, ns = 0;
    gt_u128 cur = 0;
#define EMIT(LO, HI, V) do { if (v6) o6[no++] = (struct gt_range6){ (LO), (HI), (V) }; \
    else o4[no++] = (struct gt_range4){ (uint32_t)(LO), (uint32_t)(HI), (V) }; } while (0)
    for (size_t j = 0; j <= n; j++) {
        int last = j == n;
        gt_u128 lo = last ? 0 : dim_lo(&d, j);
        while (ns) {
            size_t t = st[ns - 1];
            gt_u128 thi = dim_hi(&d, t);
            if (thi < cur) {                    /* hidden by later ranges */
                ns--;
                continue;
            }
            if (last || thi < lo) {             /* resumes after later ones, and ends */
                EMIT(cur, thi, dim_val(&d, t));
                ns--;
                if (thi == top) {               /* everything still open is covered */
                    ns = 0;
                    break;
                }
                cur = thi + 1;
                continue;
            }
            if (cur < lo)
                EMIT(cur, lo - 1, dim_val(&d, t));
            break;
        }
        if (!last) {
            st[ns++] = j;
            cur = lo;
        }
    }
#undef EMIT
    free(st);
    /* the arrays are the set's own (realloc-compatible): replace them */
    if (v6) {
        free(rs->v6);
        rs->v6 = o6;
        rs->n6 = no;
        rs->cap6 = 2 * n + 1;
    } else {
        free(rs->v4);
        rs->v4 = o4;
        rs->n4 = no;
        rs->cap4 = 2 * n + 1;
    }
    return 0;
}

/* Disjoint, sorted ranges for the class sweep. */
int cls_canonicalize(struct gt_rangeset *rs)
{
    int a = resolve_family(rs, 0), b = resolve_family(rs, 1);
    if (a < 0 || b < 0)
        return -1;
    if (a || b)
        return gt_rangeset_normalize(rs);
    return 0;
}
