/* Readiness and state for the service manager (systemd Type=notify, through
 * libsystemd's sd_notify). Each is a no-op returning 0 when not started by a
 * service manager (no NOTIFY_SOCKET) or when built without libsystemd. */
#ifndef GEOTAP_NOTIFY_H
#define GEOTAP_NOTIFY_H

/* Start-up is over (capture open, port bound): "READY=1". 0, or -1 when the
 * message could not be sent. */
int gt_notify_ready(void);
/* A reload starts ("RELOADING=1"); call gt_notify_ready() when it is over. */
int gt_notify_reloading(void);
/* Shutting down: "STOPPING=1". */
int gt_notify_stopping(void);
/* One line of free-form status ("STATUS=..."), shown by systemctl status. */
int gt_notify_status(const char *status);

#endif
