// CPU time and memory of process groups from /proc (Linux): the services are started in their own process group
// (scripts/lib/procs.mjs), and `tsx` runs the real node process as a child, so a whole group is measured.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* Linux default */
}

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // f[0] = state (field 3); pgrp = field 5, utime = 14, stime = 15
    return { pid, pgrp: Number(f[2]), cpuS: (Number(f[11]) + Number(f[12])) / clkTck };
  } catch {
    return null;
  }
}

function statusKb(pid, key) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Every live pid whose process group is `pgid`. */
export function groupPids(pgid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(d);
    if (s && s.pgrp === pgid) out.push(Number(d));
  }
  return out;
}

/**
 * The process groups of `rootPid` and every process descending from it: Map pgid → command line of the group's leader
 * (or of a member when the leader is gone). A script that starts each service in its own group (scripts/lib/procs.mjs)
 * shows them all here.
 */
export function descendantGroups(rootPid) {
  const kids = new Map();
  const pgrpOf = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const text = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
      pgrpOf.set(Number(d), Number(f[2]));
    } catch {
      /* exited meanwhile */
    }
  }
  const cmdline = (pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    } catch {
      return null;
    }
  };
  const groups = new Map();
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift();
    const g = pgrpOf.get(pid);
    if (g !== undefined && !groups.has(g)) groups.set(g, cmdline(g) ?? cmdline(pid) ?? '');
    queue.push(...(kids.get(pid) ?? []));
  }
  return groups;
}

/**
 * A snapshot of a process group: total CPU seconds, and the memory of its largest process (the real node process
 * under the tsx wrapper): current RSS and peak (VmHWM) in MiB, plus the group's total RSS.
 */
export function groupSnapshot(pgid) {
  let cpuS = 0;
  let main = { pid: null, rssKb: 0, hwmKb: 0 };
  let totalRssKb = 0;
  for (const pid of groupPids(pgid)) {
    const s = stat(pid);
    if (!s) continue;
    cpuS += s.cpuS;
    const rssKb = statusKb(pid, 'VmRSS');
    totalRssKb += rssKb;
    if (rssKb > main.rssKb) main = { pid, rssKb, hwmKb: statusKb(pid, 'VmHWM'), anonKb: statusKb(pid, 'RssAnon'), fileKb: statusKb(pid, 'RssFile') };
  }
  return {
    cpuS,
    pid: main.pid,
    rssMb: main.rssKb / 1024,
    hwmMb: main.hwmKb / 1024,
    anonMb: (main.anonKb ?? 0) / 1024,
    fileMb: (main.fileKb ?? 0) / 1024,
    groupRssMb: totalRssKb / 1024,
  };
}

/** Resets the peak-RSS counter (VmHWM) of every process in the group (Linux ≥ 4.0: `echo 5 > clear_refs`). */
export function resetPeak(pgid) {
  let ok = true;
  for (const pid of groupPids(pgid)) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}

/** Machine-wide CPU seconds from /proc/stat: busy (all but idle/iowait) and steal (taken by the hypervisor). */
export function machineCpu() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = f;
    return { busyS: (user + nice + system + irq + softirq) / clkTck, stealS: steal / clkTck, idleS: (idle + iowait) / clkTck };
  } catch {
    return null;
  }
}

/**
 * Measures process groups over an interval: call stop() for CPU seconds used and the peak RSS (MiB) of each group's
 * main process since start (VmHWM after a reset, or the highest sampled RSS when the reset is not permitted).
 */
export function meter(groups) {
  const names = Object.keys(groups).filter((k) => groups[k]);
  const start = {};
  const peak = {};
  let hwmOk = true;
  for (const n of names) {
    hwmOk = resetPeak(groups[n]) && hwmOk;
    start[n] = groupSnapshot(groups[n]);
    peak[n] = start[n].rssMb;
  }
  const selfStart = process.cpuUsage();
  const machineStart = machineCpu();
  const timer = setInterval(() => {
    for (const n of names) peak[n] = Math.max(peak[n], groupSnapshot(groups[n]).rssMb);
  }, 250);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const out = {};
      for (const n of names) {
        const end = groupSnapshot(groups[n]);
        out[n] = { cpu_s: end.cpuS - start[n].cpuS, rss_mb: hwmOk ? Math.max(end.hwmMb, peak[n]) : Math.max(peak[n], end.rssMb), rss_now_mb: end.rssMb };
      }
      const self = process.cpuUsage(selfStart);
      out.bench = { cpu_s: (self.user + self.system) / 1e6, rss_mb: process.memoryUsage().rss / 2 ** 20 };
      const machineEnd = machineCpu();
      if (machineStart && machineEnd) {
        // CPU the machine spent on anything but the processes measured here (other users' runs, the kernel), and the
        // time the hypervisor took: both are CPU this bench did not get.
        const ours = Object.values(out).reduce((a, v) => a + v.cpu_s, 0);
        out.machine = {
          busy_s: machineEnd.busyS - machineStart.busyS,
          idle_s: machineEnd.idleS - machineStart.idleS,
          steal_s: machineEnd.stealS - machineStart.stealS,
          other_s: Math.max(0, machineEnd.busyS - machineStart.busyS - ours),
        };
      }
      return out;
    },
  };
}
