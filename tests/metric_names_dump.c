/* Prints one sample of every metric of metric_names.h in the text exposition
 * format (HELP, TYPE, a sample with every label), for `promtool check metrics`
 * and for the names dist/alerts.yml may use. */
#include "geotap/metric_names.h"

#include <stdio.h>
#include <string.h>

static void sample(const char *name, const char *type, const char *labels, const char *help)
{
    char l[256];
    printf("# HELP %s %s\n# TYPE %s %s\n%s", name, help, name, type, name);
    snprintf(l, sizeof l, "%s", labels);
    const char *sep = "{";
    for (char *save = NULL, *t = strtok_r(l, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        printf("%s%s=\"x\"", sep, t);
        sep = ",";
    }
    printf("%s 1\n", *labels ? "}" : "");
}

int main(void)
{
#define X(name, type, labels, help) sample(name, type, labels, help);
    GT_METRICS(X)
#undef X
    return 0;
}
