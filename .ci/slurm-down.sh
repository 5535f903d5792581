#!/usr/bin/env bash
# Stop the daemons started by .ci/slurm-up.sh, by the pids in their pid files
# (slurmd, then slurmctld, then munged), and wait until they have exited.
set -uo pipefail

stop() {  # stop NAME PIDFILE
    local name=$1 pidfile=$2 pid
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "slurm-down: $name ($pid) ignored TERM, sending KILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

stop slurmd /var/run/slurmd.pid
stop slurmctld /var/run/slurmctld.pid
stop munged /var/run/munge/munged.pid
exit 0
