/* Outputs of merged bins: csv and jsonl rows per bin and key, and a
 * human-readable table of the whole run's totals. */
#ifndef GEOTAP_OUTPUT_H
#define GEOTAP_OUTPUT_H

#include <stdio.h>
#include "geotap/bins.h"
#include "geotap/classifier.h"
#include "geotap/keyname.h"
#include "geotap/keys.h"
#include "geotap/sink.h"
#include "geotap/timefmt.h"

enum gt_format { GT_FMT_TABLE, GT_FMT_CSV, GT_FMT_JSONL };

/* csv/jsonl columns after packets_from..bytes_to: the key's flow starts and
 * idle ms past the flow gap in the bin (bins.h), its first and last packet
 * (ns since the epoch, 0 = none), then the bin's width, frames, capture
 * drops, workers and key-table size (the detector's budget), the same on
 * every row of a bin. They let `geotap merge` rebuild the detector's input. */
#define GT_OUTPUT_MERGE_COLUMNS \
    "flow_starts,idle_ms,first_ns,last_ns,bin_seconds,bin_frames,bin_drops,bin_workers,bin_keys"

struct gt_output_opts {
    enum gt_format format;
    FILE *out;
    const struct gt_keys *keys;
    const gt_classifier *cls;     /* for AS organisations and upstream names */
};

struct gt_output;

/* Parse "table", "csv" or "jsonl"; -1 when unknown. */
int gt_format_parse(const char *s);
/* Create an output. NULL when out of memory. */
struct gt_output *gt_output_new(const struct gt_output_opts *o);
/* Write one merged bin (a gt_bin_fn: pass the output as ctx). Keys seen in
 * an earlier bin are written with zeros when silent in this one. */
void gt_output_bin(void *output, const struct gt_bin *bin);
/* End of run: the table format prints its totals here. Returns 0, or -1
 * when writing failed (disk full, closed pipe). */
int gt_output_finish(struct gt_output *o);
/* Per-key totals over all bins written so far, [nkeys]. */
const struct gt_counts *gt_output_totals(const struct gt_output *o);
/* Write the next bins to f instead (a rotated file, rotate.h); header
 * non-zero: f is empty, so the csv header is written again first. */
void gt_output_set_file(struct gt_output *o, FILE *f, int header);
/* Free the output (does not close the FILE). */
void gt_output_free(struct gt_output *o);
/* The output as a sink (it stays the caller's: the sink's free leaves it);
 * `what` names the target in a write error. 0, or -1 when out of memory. */
int gt_output_sink(struct gt_sink *out, struct gt_output *o, const char *what);

/* v in human units ("1.23 M", with unit appended, e.g. "B") into buf. */
void gt_human(uint64_t v, const char *unit, char *buf, size_t len);
/* Write s as a JSON string (quotes, backslash and control characters escaped). */
void gt_json_string(FILE *f, const char *s);

#endif
