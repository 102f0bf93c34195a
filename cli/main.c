/* geotap command-line entry point: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>
#include "gt_config.h"
#include "commands.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("geotap %s\n", GT_VERSION);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "lookup") == 0)
        return cmd_lookup(argc - 1, argv + 1);
    fprintf(stderr, "usage: geotap analyze|lookup|live ...\n");
    return 2;
}
