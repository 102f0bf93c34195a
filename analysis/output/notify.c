/* sd_notify messages for the service manager (notify.h). */
#include "geotap/notify.h"
#include "gt_config.h"

#include <stdio.h>

#if GT_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

/* sd_notify: > 0 sent, 0 no service manager, < 0 error. */
static int send_state(const char *state)
{
    return sd_notify(0, state) < 0 ? -1 : 0;
}
#else
static int send_state(const char *state)
{
    (void)state;
    return 0;
}
#endif

int gt_notify_ready(void) { return send_state("READY=1"); }
int gt_notify_reloading(void) { return send_state("RELOADING=1"); }
int gt_notify_stopping(void) { return send_state("STOPPING=1"); }

int gt_notify_status(const char *status)
{
    char buf[512];
    snprintf(buf, sizeof buf, "STATUS=%s", status ? status : "");
    return send_state(buf);
}
