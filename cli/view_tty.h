/* The live terminal view (a sink): the last bin's keys, refreshed each
 * bin; without a terminal, a flush per bin and a line per bin with drops. */
#ifndef GEOTAP_CLI_VIEW_TTY_H
#define GEOTAP_CLI_VIEW_TTY_H

#include <stdio.h>
#include "geotap/sensor.h"
#include "geotap/sink.h"

/* tty: draw the view on out; quiet: no drop lines. -1 when out of memory. */
int cli_view_sink(struct gt_sink *sink, gt_sensor *s, FILE *out, int tty, int quiet, const char *source);
/* Drop root privileges for user (supplementary groups, gid, uid), as
 * tcpdump -Z does. 0, or -1 with one line in err. */
int cli_drop_privileges(const char *user, char *err, size_t errlen);

#endif
