/* English names of countries by ISO 3166-1 alpha-2 code. */
#ifndef GEOTAP_COUNTRY_NAMES_H
#define GEOTAP_COUNTRY_NAMES_H

/* Name of the country with code cc (two letters), or NULL when unknown. */
const char *gt_country_name(const char *cc);

#endif
