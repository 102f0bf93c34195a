/* Internal to the parser: the IPv4 option walk Wireshark 4.0 does before it
 * shows a destination (ip4_options.c). */
#ifndef GEOTAP_IP4_OPTIONS_H
#define GEOTAP_IP4_OPTIONS_H

#include <stdint.h>

/* Walk the options of header p (hl bytes, all captured): GT_PKT_IP, with
 * *dst replaced by a source route's final hop, or GT_PKT_MALFORMED. */
int gt_ip4_options(const uint8_t *p, uint32_t hl, uint32_t *dst);

#endif
