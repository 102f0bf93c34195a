/* libFuzzer: the configuration-file reader of geotap live/analyze
 * (cli/options.c). Byte 0 picks the command, the rest is the file. A
 * rejected file gives one line "fuzz.conf:N: reason" (or a line too long);
 * an accepted one prints its effective configuration, which must read back
 * to the same value of every key. */
#include "fuzz_util.h"
#include "cli/options.h"
#include "gt_config.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 1)
        return 0;
    unsigned cmd = d[0] & 1 ? CMD_LIVE : CMD_ANALYZE;
    struct cli_parsed p, q;
    char err[1300];
    FUZZ_CHECK(cli_parsed_init(&p, cmd, "geotap") == 0);
    p.file = "fuzz.conf";
    err[0] = 0;
    if (cli_parse_text(&p, "fuzz.conf", (const char *)d + 1, n - 1, err, sizeof err) != 0) {
        FUZZ_CHECK(!strncmp(err, "fuzz.conf:", 10) && !strchr(err, '\n') && !strchr(err, '\x1b'));
        cli_parsed_free(&p);
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    FUZZ_CHECK(f);
    cli_print_config(f, &p);
    FUZZ_CHECK(fclose(f) == 0);
    FUZZ_CHECK(cli_parsed_init(&q, cmd, "geotap") == 0);
    q.file = "printed";
    if (cli_parse_text(&q, "printed", text, len, err, sizeof err) == 0) {
        for (size_t i = 0; i < cli_nopts; i++)
            if ((cli_opts[i].cmds & cmd) && !(cli_opts[i].flags & F_NOFILE) &&
                (GT_HAVE_DPDK || !(cli_opts[i].flags & F_DPDK)))
                FUZZ_CHECK(cli_opt_same(&p, &q, &cli_opts[i]));
    } else {
        /* A value near the line limit no longer fits with its comment. */
        FUZZ_CHECK(strstr(err, "line too long"));
    }
    free(text);
    cli_parsed_free(&q);
    cli_parsed_free(&p);
    return 0;
}
