/* The geotap subcommands; each parses its own options and returns the exit status. */
#ifndef GEOTAP_CLI_COMMANDS_H
#define GEOTAP_CLI_COMMANDS_H

/* geotap analyze: offline analysis of capture files. */
int cmd_analyze(int argc, char **argv);
/* geotap lookup: classify addresses given on the command line or standard input. */
int cmd_lookup(int argc, char **argv);
/* geotap live: live capture from an interface (libpcap) or a DPDK port. */
int cmd_live(int argc, char **argv);

/* geotap compile: build the compiled-classifier cache entries. */
int cmd_compile(int argc, char **argv);
/* geotap merge: per-bin outputs of many runs summed, with the detector over them. */
int cmd_merge(int argc, char **argv);
/* geotap watch: the detector over a fleet's sums in a Prometheus-compatible store. */
int cmd_watch(int argc, char **argv);

#endif
