import fs from "node:fs";

/**
 * CPU time (user + system, ms) of the processes whose command line matches each pattern,
 * read from /proc (Linux). Benchmarks report CPU per sample per component with it: unlike wall
 * time, it does not depend on what else the machine is running.
 */
export function cpuMsByCommand(patterns: Record<string, RegExp>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((k) => [k, 0]));
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
      continue; // exited meanwhile
    }
    const name = Object.keys(patterns).find((k) => patterns[k]!.test(cmd));
    if (name === undefined) continue;
    out[name]! += cpuMsOfPid(Number(pid)) ?? 0;
  }
  return out;
}

/**
 * CPU time (ms) of each named process and all its live descendants (e.g. the web process the
 * bench started, whatever its command line, and anything it spawned). A descendant that has
 * exited meanwhile counts only once its parent has reaped it (then in the parent's own times).
 */
export function cpuMsOfTrees(roots: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(Object.keys(roots).map((k) => [k, 0]));
  for (const [pid, name] of membersOfTrees(roots)) out[name]! += cpuMsOfPid(pid) ?? 0;
  return out;
}

/** Every live process (pid → root name) that is one of `roots` or descends from one. */
function membersOfTrees(roots: Record<string, number | undefined>): Map<number, string> {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const nameOf = new Map(Object.entries(roots).flatMap(([k, pid]) => (pid === undefined ? [] : [[pid, k] as const])));
  const rootName = (pid: number): string | undefined => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOf.get(p), hops++) {
      const name = nameOf.get(p);
      if (name !== undefined) return name;
    }
    return undefined;
  };
  const members = new Map<number, string>();
  for (const pid of parentOf.keys()) {
    const name = rootName(pid);
    if (name !== undefined) members.set(pid, name);
  }
  return members;
}

/**
 * Peak resident memory (VmHWM, MB) of each named process tree: the sum of every live member's
 * own peak (members peak at different moments, so this can only overstate the tree's peak).
 */
export function peakRssMbOfTrees(roots: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(Object.keys(roots).map((k) => [k, 0]));
  for (const [pid, name] of membersOfTrees(roots)) out[name]! += peakRssMbOfPid(pid) ?? 0;
  return out;
}

/** Peak resident memory (VmHWM, MB) of one process, or null when it is gone. */
export function peakRssMbOfPid(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (ms) of one process, or null when it is gone. */
export function cpuMsOfPid(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in USER_HZ (100) ticks
  } catch {
    return null;
  }
}

/** CPU time (ms) the whole machine spent busy (all cores, /proc/stat minus idle and iowait). */
export function machineBusyMs(): number {
  const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu as [number, number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq + steal) * 10;
}
