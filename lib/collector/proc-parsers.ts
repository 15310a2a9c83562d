/**
 * Parsers for the Linux /proc files the built-in host collector reads. Pure functions over the
 * file text so they can be tested with captured fixtures; see proc(5) for the formats.
 */

export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  cpu: CpuTimes;
  contextSwitches: number;
  processesCreated: number;
  procsRunning: number;
  procsBlocked: number;
}

export function parseProcStat(text: string): ProcStat {
  const out: ProcStat = {
    cpu: { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 },
    contextSwitches: 0,
    processesCreated: 0,
    procsRunning: 0,
    procsBlocked: 0,
  };
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    const [key] = parts;
    const n = (i: number) => Number(parts[i] ?? 0);
    if (key === "cpu") {
      out.cpu = { user: n(1), nice: n(2), system: n(3), idle: n(4), iowait: n(5), irq: n(6), softirq: n(7), steal: n(8) };
    } else if (key === "ctxt") out.contextSwitches = n(1);
    else if (key === "processes") out.processesCreated = n(1);
    else if (key === "procs_running") out.procsRunning = n(1);
    else if (key === "procs_blocked") out.procsBlocked = n(1);
  }
  return out;
}

/** CPU usage between two readings as percentages of all jiffies elapsed. */
export function cpuPercent(prev: CpuTimes, cur: CpuTimes): { busy: number; user: number; system: number; iowait: number; steal: number } {
  const total = (c: CpuTimes) => c.user + c.nice + c.system + c.idle + c.iowait + c.irq + c.softirq + c.steal;
  const dt = total(cur) - total(prev);
  if (dt <= 0) return { busy: 0, user: 0, system: 0, iowait: 0, steal: 0 };
  const pct = (d: number) => Math.max(0, Math.min(100, (100 * d) / dt));
  const idle = cur.idle + cur.iowait - (prev.idle + prev.iowait);
  return {
    busy: pct(dt - idle),
    user: pct(cur.user + cur.nice - prev.user - prev.nice),
    system: pct(cur.system + cur.irq + cur.softirq - prev.system - prev.irq - prev.softirq),
    iowait: pct(cur.iowait - prev.iowait),
    steal: pct(cur.steal - prev.steal),
  };
}

/** /proc/meminfo values in bytes, keyed by field name (MemTotal, MemAvailable, ...). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (line.includes("kB") ? 1024 : 1);
  }
  return out;
}

export function parseLoadavg(text: string): { load1: number; load5: number; load15: number; running: number; total: number } {
  const [l1, l5, l15, rt] = text.trim().split(/\s+/);
  const [running, total] = (rt ?? "0/0").split("/").map(Number);
  return { load1: Number(l1), load5: Number(l5), load15: Number(l15), running: running ?? 0, total: total ?? 0 };
}

export interface NetDev {
  iface: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
}

export function parseNetDev(text: string): NetDev[] {
  const out: NetDev[] = [];
  for (const line of text.split("\n").slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    out.push({
      iface: m[1]!.trim(),
      rxBytes: f[0] ?? 0,
      rxPackets: f[1] ?? 0,
      rxErrors: f[2] ?? 0,
      txBytes: f[8] ?? 0,
      txPackets: f[9] ?? 0,
      txErrors: f[10] ?? 0,
    });
  }
  return out;
}

export interface DiskStat {
  device: string;
  readsCompleted: number;
  sectorsRead: number;
  writesCompleted: number;
  sectorsWritten: number;
  ioTimeMs: number;
}

/** Whole physical/virtual disks only: partitions, loop and ram devices are skipped. */
export function parseDiskstats(text: string): DiskStat[] {
  const out: DiskStat[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const device = f[2]!;
    if (/^(loop|ram|zram|dm-|sr)/.test(device)) continue;
    if (/^(sd|vd|xvd|hd)[a-z]+\d+$/.test(device) || /^nvme\d+n\d+p\d+$/.test(device) || /^mmcblk\d+p\d+$/.test(device)) continue;
    out.push({
      device,
      readsCompleted: Number(f[3]),
      sectorsRead: Number(f[5]),
      writesCompleted: Number(f[7]),
      sectorsWritten: Number(f[9]),
      ioTimeMs: Number(f[12]),
    });
  }
  return out;
}
