/* Bounded reading of text input (maps, address lists) and safe quoting of
 * bad input in error messages. */
#ifndef GEOTAP_TEXTLINE_H
#define GEOTAP_TEXTLINE_H

#include <stddef.h>
#include <stdio.h>

#define GT_LINE_MAX 4096   /* longest accepted line of a map or an address list */

/* Read one line into buf[cap] (newline dropped, NUL-terminated; may hold NUL
 * bytes). Returns its length, -1 at the end of input, -2 when it is longer
 * than cap - 1 bytes (nothing more is read), -3 on a read error. */
long gt_text_line(FILE *f, char *buf, size_t cap);

/* Copy s[0..n) into out[outlen] with control and non-ASCII bytes as \xNN and
 * a "..." when cut short: input quoted in a message cannot garble a terminal. */
void gt_text_escape(const char *s, size_t n, char *out, size_t outlen);

#endif
