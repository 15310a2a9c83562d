import fs from "node:fs/promises";
import os from "node:os";
import {
  cpuPercent,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  type DiskStat,
  type NetDev,
  type ProcStat,
} from "@/lib/collector/proc-parsers";
import { ingestSeries, type IncomingSeries } from "../../services/ingest/ingest-service";

/**
 * The default telemetry source: reads /proc every interval and turns it into gauge series
 * (rates are computed here from successive readings, so a restart never shows a reset spike).
 */
export class HostCollector {
  private prev: { t: number; stat: ProcStat; net: NetDev[]; disks: DiskStat[] } | undefined;
  readonly host = os.hostname();

  async collect(nowMs: number): Promise<IncomingSeries[]> {
    const [statText, memText, loadText, netText, diskText] = await Promise.all([
      fs.readFile("/proc/stat", "utf8"),
      fs.readFile("/proc/meminfo", "utf8"),
      fs.readFile("/proc/loadavg", "utf8"),
      fs.readFile("/proc/net/dev", "utf8").catch(() => ""),
      fs.readFile("/proc/diskstats", "utf8").catch(() => ""),
    ]);
    const stat = parseProcStat(statText);
    const mem = parseMeminfo(memText);
    const load = parseLoadavg(loadText);
    const net = parseNetDev(netText).filter((n) => n.iface !== "lo");
    const disks = parseDiskstats(diskText);
    const out: IncomingSeries[] = [];
    const base = { host: this.host };
    const gauge = (metric: string, group: string, value: number, unit: string, labels: Record<string, string> = {}) => {
      if (Number.isFinite(value)) {
        out.push({ metric, labels: { ...base, ...labels }, kind: "gauge", group, unit, tsMs: [nowMs], values: [value] });
      }
    };

    const total = mem.MemTotal ?? 0;
    const available = mem.MemAvailable ?? mem.MemFree ?? 0;
    gauge("host_memory_used_bytes", "memory", total - available, "bytes");
    gauge("host_memory_used_percent", "memory", total ? (100 * (total - available)) / total : 0, "percent");
    gauge("host_swap_used_bytes", "memory", (mem.SwapTotal ?? 0) - (mem.SwapFree ?? 0), "bytes");
    gauge("host_load1", "load", load.load1, "");
    gauge("host_load5", "load", load.load5, "");
    gauge("host_load15", "load", load.load15, "");
    gauge("host_processes_total", "processes", load.total, "count");
    gauge("host_processes_running", "processes", stat.procsRunning, "count");
    gauge("host_processes_blocked", "processes", stat.procsBlocked, "count");
    try {
      const fsStat = await fs.statfs("/");
      const used = (fsStat.blocks - fsStat.bfree) * fsStat.bsize;
      gauge("host_filesystem_used_percent", "disk", (100 * used) / Math.max(1, fsStat.blocks * fsStat.bsize), "percent", {
        mountpoint: "/",
      });
    } catch {
      /* statfs unsupported: skip */
    }

    const prev = this.prev;
    if (prev) {
      const dt = (nowMs - prev.t) / 1000;
      const rate = (a: number, b: number) => (dt > 0 && b >= a ? (b - a) / dt : NaN);
      const cpu = cpuPercent(prev.stat.cpu, stat.cpu);
      gauge("host_cpu_usage_percent", "cpu", cpu.busy, "percent");
      gauge("host_cpu_user_percent", "cpu", cpu.user, "percent");
      gauge("host_cpu_system_percent", "cpu", cpu.system, "percent");
      gauge("host_cpu_iowait_percent", "cpu", cpu.iowait, "percent");
      gauge("host_context_switches_per_second", "cpu", rate(prev.stat.contextSwitches, stat.contextSwitches), "1/s");
      gauge("host_forks_per_second", "processes", rate(prev.stat.processesCreated, stat.processesCreated), "1/s");
      for (const n of net) {
        const p = prev.net.find((x) => x.iface === n.iface);
        if (!p) continue;
        gauge("host_network_receive_bytes_per_second", "network", rate(p.rxBytes, n.rxBytes), "bytes/s", { device: n.iface });
        gauge("host_network_transmit_bytes_per_second", "network", rate(p.txBytes, n.txBytes), "bytes/s", { device: n.iface });
        gauge("host_network_errors_per_second", "network", rate(p.rxErrors + p.txErrors, n.rxErrors + n.txErrors), "1/s", {
          device: n.iface,
        });
      }
      for (const d of disks) {
        const p = prev.disks.find((x) => x.device === d.device);
        if (!p) continue;
        gauge("host_disk_read_bytes_per_second", "disk", rate(p.sectorsRead * 512, d.sectorsRead * 512), "bytes/s", { device: d.device });
        gauge("host_disk_write_bytes_per_second", "disk", rate(p.sectorsWritten * 512, d.sectorsWritten * 512), "bytes/s", {
          device: d.device,
        });
        gauge("host_disk_busy_percent", "disk", Math.min(100, rate(p.ioTimeMs, d.ioTimeMs) / 10), "percent", { device: d.device });
      }
    }
    this.prev = { t: nowMs, stat, net, disks };
    return out;
  }
}

/** One round of the host-collector job: reads /proc and ingests the series as source `host:<hostname>`. */
export async function collectHost(collector: HostCollector, nowMs: number): Promise<void> {
  const series = await collector.collect(nowMs);
  if (series.length) await ingestSeries(`host:${collector.host}`, "host", series, nowMs);
}
