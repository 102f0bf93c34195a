/* gt_notify_*: the sd_notify datagrams a service manager would receive, read
 * here from our own NOTIFY_SOCKET (the protocol of sd_notify(3)); and no-ops
 * without one. */
#include "check.h"
#include "geotap/notify.h"
#include "gt_config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void expect(int fd, const char *want)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = 0;
    CHECK_MSG(n > 0 && !strcmp(buf, want), "got '%s', want '%s'", buf, want);
}

int main(void)
{
    unsetenv("NOTIFY_SOCKET");
    CHECK(gt_notify_ready() == 0);   /* not under a service manager: nothing to do */
#if GT_HAVE_SYSTEMD
    char dir[] = "/tmp/geotap-notify-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    setenv("NOTIFY_SOCKET", sa.sun_path, 1);
    CHECK(gt_notify_ready() == 0);
    expect(fd, "READY=1");
    CHECK(gt_notify_reloading() == 0);
    expect(fd, "RELOADING=1");
    CHECK(gt_notify_status("reloaded: 2 databases") == 0);
    expect(fd, "STATUS=reloaded: 2 databases");
    CHECK(gt_notify_stopping() == 0);
    expect(fd, "STOPPING=1");
    close(fd);
    unlink(sa.sun_path);
    rmdir(dir);
    /* a socket that is gone: an error, not a crash */
    CHECK(gt_notify_ready() == -1);
    unsetenv("NOTIFY_SOCKET");
#else
    fprintf(stderr, "built without libsystemd: only the no-op checked\n");
#endif
    return check_result();
}
