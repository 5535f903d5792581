#!/usr/bin/env bash
# Install and start a single-node SLURM cluster (munge + slurmctld + slurmd) on this
# machine, for the pipeline tests that submit through the Snakemake SLURM executor.
# Runs as root, needs no systemd. Stop it again with .ci/slurm-down.sh, which kills the
# daemons by the pids in their pid files.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
real_mem=$((mem_mb - 1024))   # declaring more than the machine has drains the node

# --- munge --------------------------------------------------------------------------
mkdir -p /etc/munge /var/run/munge /var/log/munge /var/lib/munge
if [ ! -s /etc/munge/munge.key ]; then
    head -c 1024 /dev/urandom > /etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key /var/run/munge /var/log/munge /var/lib/munge
chmod 0400 /etc/munge/munge.key

alive() {  # alive PIDFILE: the daemon recorded in PIDFILE is running
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

if ! alive /var/run/munge/munged.pid; then
    munged --force
fi
for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
done
munge -n | unmunge | grep -q 'STATUS: *Success' || { echo "slurm-up: munge does not work" >&2; exit 1; }

# --- slurm --------------------------------------------------------------------------
mkdir -p /etc/slurm /var/spool/slurmd /var/spool/slurmctld /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=weightdyn-ci
SlurmctldHost=${host}
# Clients give up on an unreachable controller after about MessageTimeout - 1 s (default
# 10). The SLURM executor plugin probes \`scontrol show config\` whenever snakemake starts,
# so with these packages installed and the daemons stopped every snakemake call would
# wait 9 s; on one machine 3 s is ample for a reply.
MessageTimeout=3
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile=/var/run/slurmctld.pid
SlurmdPidFile=/var/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${host} CPUs=${cpus} RealMemory=${real_mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

if ! alive /var/run/slurmctld.pid; then
    slurmctld
fi
if ! alive /var/run/slurmd.pid; then
    slurmd
fi

for _ in $(seq 60); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qx 'idle'; then
        echo "slurm-up: node ${host} idle (${cpus} CPUs, ${real_mem} MB)"
        exit 0
    fi
    sleep 1
done
echo "slurm-up: node did not become idle within 60 s" >&2
sinfo -N -l >&2 || true
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
