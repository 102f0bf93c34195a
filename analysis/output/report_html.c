/* The HTML report, page half: one file with the libraries, the page's own
 * script and style, the map and the data inlined. */
#include "analysis/output/report_priv.h"

#include <errno.h>
#include <string.h>

int gt_report_write_page(struct gt_report *r, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", f);
    fprintf(f, "<title>geotap %s</title>\n<style>\n", r->path ? "report" : "live");
    fputs(r->lib_css, f);
    fputs(gt_web_report_css, f);
    fputs("</style></head>\n<body>\n<div id=\"app\"><p id=\"noscript\">geotap report: this page needs JavaScript.</p></div>\n"
          "<div id=\"tooltip\" hidden></div>\n"
          "<script type=\"application/json\" id=\"gt-data\">", f);
    int rc = gt_report_write_data(r, f);
    fputs("</script>\n<script type=\"application/json\" id=\"gt-atlas\">", f);
    fputs(r->atlas, f);
    fputs("</script>\n<script type=\"application/json\" id=\"gt-codes\">", f);
    fputs(r->codes, f);
    fputs("</script>\n<script>\n", f);
    fputs(r->lib_js, f);
    fputs("</script>\n<script>\n", f);
    fputs(gt_web_report_map_js, f);
    fputs(gt_web_report_charts_js, f);
    fputs(gt_web_report_js, f);
    fputs("</script>\n</body></html>\n", f);
    return rc != 0 || ferror(f) ? -1 : 0;
}

int gt_report_finish(struct gt_report *r, char *err, size_t errlen)
{
    if (!r->path)
        return 0;
    if (r->oom) {
        snprintf(err, errlen, "%s: out of memory while collecting the report", r->path);
        return -1;
    }
    /* Write beside the target and rename: a reader never sees half a page. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", r->path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        return -1;
    }
    int rc = gt_report_write_page(r, f);
    if (fclose(f) != 0 || rc != 0) {
        snprintf(err, errlen, "%s: write failed", tmp);
        remove(tmp);
        return -1;
    }
    if (rename(tmp, r->path) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", r->path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}
