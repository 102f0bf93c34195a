/* The metrics the Prometheus exporter serves (/metrics), one table so the
 * exporter, dist/alerts.yml and the tests agree on the names. Conventions
 * (prometheus.io/docs/practices/naming): geotap_ prefix, base units (seconds,
 * bytes), counters end in _total, _info gauges are 1 with the facts as labels.
 * The key's dimensions are the labels country, asn and upstream, each present
 * when counted by; label cardinality stays bounded: countries and upstreams by
 * default, ASNs only when asked for (--metrics-asn N: the first N ASNs to be
 * among the top N by packets keep their own series; everything else is summed
 * into asn="other", so the sum over series is always the total). Keys seen
 * once are exported with zeros from then on. Counters are those of the closed
 * bins (the same figures as the bin output): they step once per bin.
 * The per-key gauges (state, measurable, expected rate) are exported for keys
 * with their own series (not for asn="other") when the detector runs.
 * geotap watch serves the same per-key families (and bins and events) for
 * the fleet's sums as geotap_fleet_* (geotap_fleet_packets_total, ...: they
 * must not add into the sensors' sums it queries when one store scrapes
 * both), its own health as geotap_watch_*, and the state-save and alert
 * families under their names here.
 *
 * X(name, type, labels, help) */
#ifndef GEOTAP_METRIC_NAMES_H
#define GEOTAP_METRIC_NAMES_H

#define GT_METRICS(X) \
    X("geotap_packets_total", "counter", "direction,country,asn,upstream", \
      "Packets counted per key; direction from: the key is the source address's, to: the destination's.") \
    X("geotap_bytes_total", "counter", "direction,country,asn,upstream", \
      "Bytes (frame lengths) counted per key and direction.") \
    X("geotap_flow_starts_total", "counter", "country,asn,upstream", \
      "Flow starts per key: silences longer than 5 s that ended, the independent arrivals the detector judges silences on; sum across sensors to rerun it.") \
    X("geotap_flow_idle_seconds_total", "counter", "country,asn,upstream", \
      "Length of those silences past 5 s per key, seconds (each worker's over the workers, as the detector takes it); flow-start rate = increase(starts) / increase(idle).") \
    X("geotap_bins_total", "counter", "", \
      "Bins closed (with packets or not): grows by one per bin width while the sensor runs, also on a silent link.") \
    X("geotap_keys", "gauge", "", \
      "Keys in the sensor's key table, over which its detector shares the false-alarm budget (geotap watch shares it the same way).") \
    X("geotap_last_bin_end_timestamp_seconds", "gauge", "", \
      "End of the last closed bin the counters include, seconds since the epoch (absent before the first bin).") \
    X("geotap_frames_total", "counter", "interface,result", \
      "Frames read per interface by parse result: ip, non_ip, truncated, malformed.") \
    X("geotap_capture_drops_total", "counter", "interface", \
      "Frames the capture reported lost (kernel, interface or NIC), per interface.") \
    X("geotap_key_state", "gauge", "country,asn,upstream", \
      "Detector state of the key: 1 up, 0 down (drop_to_zero declared, not yet restored).") \
    X("geotap_key_measurable", "gauge", "country,asn,upstream", \
      "1 when the detector can judge the key, 0 when it is too quiet (not_measurable).") \
    X("geotap_last_packet_timestamp_seconds", "gauge", "country,asn,upstream", \
      "Time of the key's last packet, seconds since the epoch (as of the last closed bin).") \
    X("geotap_expected_rate", "gauge", "country,asn,upstream", \
      "Flow starts per second the detector expects for the key now (packets per second for Poisson keys).") \
    X("geotap_events_total", "counter", "type", \
      "Detector events by type: drop_to_zero, restored, capture_gap, not_measurable.") \
    X("geotap_reloads_total", "counter", "result", \
      "Reloads of the configuration and databases by result: success, failure.") \
    X("geotap_bin_first_packet_timestamp_seconds", "gauge", "country,asn,upstream", \
      "Time of the key's first packet in the last closed bin with packets, seconds since the epoch (geotap watch).") \
    X("geotap_alerts_sent_total", "counter", "", \
      "Alert and webhook POSTs a receiver accepted.") \
    X("geotap_alerts_failed_total", "counter", "", \
      "Alert and webhook POSTs that failed and are retried with back-off.") \
    X("geotap_alerts_dropped_total", "counter", "", \
      "Alerts given up undelivered: queue full, receiver rejected them, or still pending at exit.") \
    X("geotap_output_errors_total", "counter", "", \
      "Failures to open or close a rotating output file (bins, events).") \
    X("geotap_output_lost_total", "counter", "", \
      "Bins and events that had no output file to go to.") \
    X("geotap_state_saves_total", "counter", "result", \
      "Writes of the detector's learned state (--state) by result: success, failure.") \
    X("geotap_watch_sensor_up", "gauge", "sensor", \
      "geotap watch: 1 when the sensor was up (its up = 1) throughout the last bin read, else 0.") \
    X("geotap_watch_sensor_held_keys", "gauge", "sensor", \
      "geotap watch: keys held now (no outage declared on missing data) because the sensor is down or just back.") \
    X("geotap_watch_sensor_gaps_total", "counter", "sensor", \
      "geotap watch: sensor_gap events reported for the sensor.") \
    X("geotap_watch_query_failures_total", "counter", "", \
      "geotap watch: failed reads of the store (each try of a stretch of bins).") \
    X("geotap_watch_gaps_total", "counter", "", \
      "geotap watch: watch_gap events, stretches the store could not be read for.") \
    X("geotap_watch_last_success_timestamp_seconds", "gauge", "", \
      "geotap watch: wall-clock time of the last successful read of the store, seconds since the epoch.") \
    X("geotap_build_info", "gauge", "version,country_db,country_db_build_epoch,asn_db,asn_db_build_epoch", \
      "Always 1; the version and the databases in use as labels.") \
    X("process_start_time_seconds", "gauge", "", \
      "Start time of the process since the epoch, seconds.")

#endif
