/* Anonymous mappings aligned to 2 MiB and advised for transparent huge
 * pages, for tables read at random (the poptrie, the address caches): on
 * 4 KiB pages each probe of a multi-megabyte table is likely a TLB miss and
 * its first touch a page fault. Pages are still faulted in (zeroed) only
 * when first touched; without THP the advice is ignored. Header-only. */
#ifndef GEOTAP_HUGEMAP_H
#define GEOTAP_HUGEMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#define GT_HUGE_SZ ((size_t)2 << 20)

/* len rounded up to whole huge pages: what gt_huge_map maps for it. */
static inline size_t gt_huge_len(size_t len)
{
    return (len + GT_HUGE_SZ - 1) & ~(GT_HUGE_SZ - 1);
}

/* Zeroed memory of gt_huge_len(len) bytes at a 2 MiB boundary, huge pages
 * advised for its first `advise` bytes (rounded up); NULL when out of memory. */
static inline void *gt_huge_map(size_t len, size_t advise)
{
    size_t sz = gt_huge_len(len);
    uint8_t *p = mmap(NULL, sz + GT_HUGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* trim to an aligned region: a huge page needs one */
    uint8_t *a = (uint8_t *)(((uintptr_t)p + GT_HUGE_SZ - 1) & ~(uintptr_t)(GT_HUGE_SZ - 1));
    if (a > p)
        munmap(p, (size_t)(a - p));
    if (a + sz < p + sz + GT_HUGE_SZ)
        munmap(a + sz, (size_t)(p + sz + GT_HUGE_SZ - (a + sz)));
#ifdef MADV_HUGEPAGE
    size_t adv = gt_huge_len(advise);
    madvise(a, adv < sz ? adv : sz, MADV_HUGEPAGE);
#else
    (void)advise;
#endif
    return a;
}

/* Unmap what gt_huge_map(len, ...) returned (NULL: nothing). */
static inline void gt_huge_unmap(void *p, size_t len)
{
    if (p)
        munmap(p, gt_huge_len(len));
}

#endif
