/* geotap command-line entry point: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "gt_config.h"

static const char usage[] =
"usage: geotap COMMAND [options] ...\n"
"\n"
"Per-country (per-AS, per-upstream) traffic from packets, in time bins.\n"
"\n"
"Commands:\n"
"  analyze FILE...     count the traffic of pcap/pcapng files\n"
"  live -i IFACE       count the traffic of an interface (or --dpdk a DPDK port)\n"
"  lookup ADDR...      print the country, AS and upstream of addresses\n"
"  compile             build the compiled-classifier cache (see README)\n"
"  merge FILE...       sum per-bin outputs of many runs, detect over the sums\n"
"  watch --prometheus URL  detect over many sensors' sums in Prometheus/VictoriaMetrics\n"
"\n"
"'geotap COMMAND --help' describes a command's options.\n"
"  -h, --help          this text\n"
"  --version           print the version\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version")) {
        printf("geotap %s\n", GT_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "analyze"))
        return cmd_analyze(argc - 1, argv + 1);
    if (!strcmp(cmd, "live"))
        return cmd_live(argc - 1, argv + 1);
    if (!strcmp(cmd, "lookup"))
        return cmd_lookup(argc - 1, argv + 1);
    if (!strcmp(cmd, "watch"))
        return cmd_watch(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge"))
        return cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "compile"))
        return cmd_compile(argc - 1, argv + 1);
    fprintf(stderr, "geotap: unknown command '%s'\n", cmd);
    fputs(usage, stderr);
    return 2;
}
