/* Subcommands of the geotap executable; each returns the process exit status. */
#ifndef GEOTAP_CLI_COMMANDS_H
#define GEOTAP_CLI_COMMANDS_H

/* geotap lookup [options] ADDR...: country, ASN, organisation per address. */
int cmd_lookup(int argc, char **argv);

#endif
