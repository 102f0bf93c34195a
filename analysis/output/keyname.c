/* The one key renderer of every output (include/geotap/keyname.h). */
#include "geotap/keyname.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "geotap/country_names.h"

static const char *upstream_name(const struct gt_key_names *nm, uint32_t u)
{
    if (!nm || !u)
        return NULL;
    if (nm->upstream)
        return nm->upstream(nm->ctx, u);
    return nm->cls ? gt_classifier_upstream_name(nm->cls, u) : NULL;
}

void gt_key_value(const struct gt_keys *keys, const struct gt_key_names *nm, uint32_t id, unsigned dim,
                  char *buf, size_t len)
{
    const struct gt_key *k = &keys->keys[id];
    if (k->home) {
        snprintf(buf, len, "home");
    } else if (dim == GT_DIM_COUNTRY) {
        snprintf(buf, len, "%.2s", k->cc);
    } else if (dim == GT_DIM_ASN) {
        snprintf(buf, len, "%" PRIu32, k->asn);
    } else {
        const char *n = upstream_name(nm, k->upstream);
        if (n && *n)
            snprintf(buf, len, "%s", n);
        else if (k->upstream)
            snprintf(buf, len, "%" PRIu32, k->upstream);
        else
            snprintf(buf, len, "%s", "");
    }
}

void gt_key_render(const struct gt_keys *keys, const struct gt_key_names *nm, uint32_t id, int named,
                   char *buf, size_t len)
{
    static const unsigned dl[] = { GT_DIM_COUNTRY, GT_DIM_ASN, GT_DIM_UPSTREAM };
    const struct gt_key *k = &keys->keys[id];
    unsigned dims = keys->dims ? keys->dims : GT_DIM_COUNTRY;
    size_t l = 0;
    if (!len)
        return;
    buf[0] = 0;
    if (k->home) {
        snprintf(buf, len, "home");
        return;
    }
    for (int j = 0; j < 3 && l < len; j++) {
        if (!(dims & dl[j]))
            continue;
        char v[200];
        const char *name = NULL;
        gt_key_value(keys, nm, id, dl[j], v, sizeof v);
        const char *sep = l ? " / " : "";
        if (dl[j] == GT_DIM_COUNTRY) {
            if (named)
                name = !strcmp(v, "ZZ") ? "(unknown)" : gt_country_name(v);
            l += (size_t)snprintf(buf + l, len - l, "%s%s%s%s", sep, v, name && *name ? " " : "", name ? name : "");
        } else if (dl[j] == GT_DIM_ASN) {
            if (named)
                name = !k->asn ? "(unknown)" : nm && nm->cls ? gt_classifier_asn_org(nm->cls, k->asn) : NULL;
            l += (size_t)snprintf(buf + l, len - l, "%sAS%s%s%s", sep, v, name && *name ? " " : "", name ? name : "");
        } else {
            l += (size_t)snprintf(buf + l, len - l, "%svia %s", sep, *v ? v : "(unknown)");
        }
    }
}

void gt_key_label(const struct gt_keys *keys, const gt_classifier *cls, uint32_t key,
                  unsigned dim, char *buf, size_t len)
{
    struct gt_key_names nm = { .cls = cls };
    gt_key_value(keys, &nm, key, dim, buf, len);
}
