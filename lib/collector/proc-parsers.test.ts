import { describe, expect, it } from "vitest";
import { cpuPercent, parseDiskstats, parseLoadavg, parseMeminfo, parseNetDev, parseProcStat } from "./proc-parsers";

const stat1 = `cpu  100 0 50 800 50 0 0 0 0 0
cpu0 50 0 25 400 25 0 0 0 0 0
ctxt 1000
processes 500
procs_running 3
procs_blocked 1`;
const stat2 = `cpu  160 0 70 900 70 0 0 0 0 0
ctxt 1600
processes 510
procs_running 2
procs_blocked 0`;

describe("proc parsers", () => {
  it("computes CPU percentages from two /proc/stat readings", () => {
    const a = parseProcStat(stat1);
    const b = parseProcStat(stat2);
    expect(a.contextSwitches).toBe(1000);
    expect(b.procsRunning).toBe(2);
    // 200 jiffies elapsed: 60 user, 20 system, 100 idle, 20 iowait -> busy 40 %.
    const p = cpuPercent(a.cpu, b.cpu);
    expect(p.busy).toBeCloseTo(40);
    expect(p.user).toBeCloseTo(30);
    expect(p.system).toBeCloseTo(10);
    expect(p.iowait).toBeCloseTo(10);
  });

  it("reads meminfo in bytes", () => {
    const m = parseMeminfo("MemTotal:       2048 kB\nMemAvailable:   1024 kB\nHugePages_Total:       0\n");
    expect(m.MemTotal).toBe(2048 * 1024);
    expect(m.MemAvailable).toBe(1024 * 1024);
    expect(m.HugePages_Total).toBe(0);
  });

  it("reads loadavg", () => {
    expect(parseLoadavg("0.50 0.25 0.10 2/345 9999\n")).toEqual({ load1: 0.5, load5: 0.25, load15: 0.1, running: 2, total: 345 });
  });

  it("reads net/dev and diskstats, skipping partitions and loop devices", () => {
    const net = parseNetDev(`Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0: 5000      50    1    0    0     0          0         0     7000      70    2    0    0     0       0          0`);
    expect(net.find((n) => n.iface === "eth0")).toMatchObject({ rxBytes: 5000, txBytes: 7000, rxErrors: 1, txErrors: 2 });
    const disks = parseDiskstats(`   7       0 loop0 1 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 100 0 800 10 200 0 1600 20 0 30 40 0 0 0 0 0 0
 254       1 vda1 90 0 700 10 190 0 1500 20 0 30 40 0 0 0 0 0 0`);
    expect(disks.map((d) => d.device)).toEqual(["vda"]);
    expect(disks[0]).toMatchObject({ sectorsRead: 800, sectorsWritten: 1600, ioTimeMs: 30 });
  });
});
