#!/usr/bin/env bash
# Brings up a throw-away Ceph RADOS Gateway (a real S3 server) for Glider's tests and benchmarks:
# one monitor, one memstore OSD, no mgr, one radosgw (beast), all on 127.0.0.1 free ports, in a temp folder.
#
#   test/helpers/rgw/start-rgw.sh            prints one JSON line {"endpoint","accessKeyId","secretAccessKey",...}
#                                            when S3 answers, then runs until stdin closes or it gets SIGTERM/SIGINT,
#                                            and then stops every daemon it started (by pid) and removes its folder.
#
# Environment: RGW_MEMSTORE_BYTES (memstore capacity, default 8 GiB; memory is only used as objects are written),
#              RGW_KEEP_DIR=1 (keep the folder, with the daemons' logs, after stopping).
# Needs the Debian packages ceph-mon ceph-osd radosgw ceph-common (.ci/run installs them). Exits non-zero, with the
# relevant log on stderr, when the gateway does not come up.
set -euo pipefail

for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "start-rgw: $tool not found; install ceph-mon ceph-osd radosgw ceph-common" >&2
    exit 2
  }
done

exec 3<&0 # stdin, kept for the wait at the end (a background command's own stdin would be /dev/null)
dir="$(mktemp -d "${TMPDIR:-/tmp}/glider-rgw-XXXXXX")"
pids=()
stopped=0
ACCESS_KEY="GLIDERRGWTESTKEY0001"
SECRET_KEY="glider-rgw-test-secret-not-a-real-credential"

stop() {
  [ "$stopped" = 1 ] && return
  stopped=1
  # Reverse start order: radosgw, then the OSD (osd_fast_shutdown=false lets it stop cleanly), then the monitor.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || continue
    (sleep 10 && kill -KILL "${pids[$i]}" 2>/dev/null) &
    watchdog=$!
    wait "${pids[$i]}" 2>/dev/null || true
    kill "$watchdog" 2>/dev/null || true
  done
  if [ "${RGW_KEEP_DIR:-0}" = 1 ]; then echo "start-rgw: kept $dir" >&2; else rm -rf "$dir"; fi
}
fail() {
  echo "start-rgw: $1" >&2
  for log in "$dir"/log/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 30 "$log" >&2; }; done
  stop
  exit 1
}
trap stop EXIT
trap 'stop; exit 143' TERM
trap 'stop; exit 130' INT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
mon_port="$(free_port)"
rgw_port="$(free_port)"
while [ "$rgw_port" = "$mon_port" ]; do rgw_port="$(free_port)"; done

mkdir -p "$dir/mon" "$dir/osd" "$dir/rgw" "$dir/run" "$dir/log"
fsid="$(cat /proc/sys/kernel/random/uuid)"
conf="$dir/ceph.conf"
cat >"$conf" <<CONF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_msgr2 = true
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
pid_file = $dir/run/\$name.pid
log_file = $dir/log/\$name.log
keyring = $dir/keyring
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
paxos_propose_interval = 0.05
mon_osd_reporter_subtree_level = osd
[client]
ms_mon_client_mode = crc secure
[mon.a]
mon_data = $dir/mon
[osd.0]
osd_data = $dir/osd
osd_objectstore = memstore
memstore_device_bytes = ${RGW_MEMSTORE_BYTES:-8589934592}
osd_fast_shutdown = false
# The request paths log nothing below 0 here: at the default 1/5, every op formats its level-1..5 lines into the
# in-memory log (handed to the log thread under a lock), which cost the OSD and radosgw about half their CPU per
# small PUT. Errors (level 0) are still written.
debug_osd = 0/0
debug_filestore = 0/0
[client.rgw]
rgw_data = $dir/rgw
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port
rgw_dns_name = 127.0.0.1
debug_rgw = 0/0
debug_rados = 0/0
debug_objecter = 0/0
debug_auth = 0/0
# Beast serves requests as coroutines, so its threads only need to cover the cores: the default 512 threads on
# a 2-core machine spent a third of radosgw's CPU handing work between threads (futex waits and wake-ups).
rgw_thread_pool_size = 16
CONF

touch "$dir/keyring"
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >"$dir/log/monmaptool.out" 2>&1 ||
  fail "monmaptool failed: $(cat "$dir/log/monmaptool.out")"
ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" >"$dir/log/mkfs-mon.out" 2>&1 ||
  fail "ceph-mon --mkfs failed: $(cat "$dir/log/mkfs-mon.out")"
ceph-mon -c "$conf" -i a -f >"$dir/log/mon.out" 2>&1 &
pids+=($!)

osd_uuid="$(cat /proc/sys/kernel/random/uuid)"
osd_id="$(timeout 20 ceph -c "$conf" osd new "$osd_uuid" 2>"$dir/log/osd-new.out")" || fail "ceph osd new failed: $(cat "$dir/log/osd-new.out")"
ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >"$dir/log/mkfs-osd.out" 2>&1 ||
  fail "ceph-osd --mkfs failed: $(cat "$dir/log/mkfs-osd.out")"
ceph-osd -c "$conf" -i "$osd_id" -f >"$dir/log/osd.out" 2>&1 &
pids+=($!)

radosgw -c "$conf" -n client.rgw -f >"$dir/log/rgw.out" 2>&1 &
pids+=($!)

timeout 60 radosgw-admin -c "$conf" user create --uid glider --display-name "Glider tests" \
  --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >"$dir/log/user-create.out" 2>&1 ||
  fail "radosgw-admin user create failed: $(tail -n 20 "$dir/log/user-create.out")"

# S3 is up when the gateway answers HTTP at all (an anonymous GET / is a 200 with an empty bucket list).
for _ in $(seq 1 600); do
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || fail "a daemon exited during start (pid $p)"; done
  if node -e 'require("http").get(process.argv[1],r=>process.exit(r.statusCode<500?0:1)).on("error",()=>process.exit(1))' \
    "http://127.0.0.1:$rgw_port/" 2>/dev/null; then
    printf '{"endpoint":"http://127.0.0.1:%s","accessKeyId":"%s","secretAccessKey":"%s","region":"us-east-1","dir":"%s","pids":[%s]}\n' \
      "$rgw_port" "$ACCESS_KEY" "$SECRET_KEY" "$dir" "$(IFS=,; echo "${pids[*]}")"
    # Run until the parent closes our stdin (it exited, or asked us to stop) or a signal arrives.
    # (cat runs in the background so that a signal's trap runs at once instead of after cat ends.)
    cat <&3 >/dev/null &
    wait $! || true
    exit 0
  fi
  sleep 0.05
done
fail "radosgw did not answer on 127.0.0.1:$rgw_port within 30 s"
