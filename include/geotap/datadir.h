/* The default data files, from the setup's cache ($GEOTAP_DATA, else
 * $XDG_CACHE_HOME/geotap, else $HOME/.cache/geotap). Static strings. */
#ifndef GEOTAP_DATADIR_H
#define GEOTAP_DATADIR_H

const char *gt_default_country_db(void);
const char *gt_default_asn_v4(void);
const char *gt_default_asn_v6(void);
/* The cache directory itself (also holds the report's npm packages and
 * the compiled classifiers). */
const char *gt_default_data_dir(void);

#endif
