import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "./env";

describe("parseEnv", () => {
  it("gives every setting its default from an empty environment", () => {
    const e = parseEnv({});
    expect(e).toMatchObject({ PORT: 3000, HOST: "127.0.0.1", OMEN_CONFIG_FILE: "omen.yaml", OMEN_WORKER_NAME: "worker", OMEN_SKIP_MIGRATE: false, OMEN_SKIP_BUILD: false });
    expect(e.DATABASE_URL).toBeUndefined();
    expect(e.OMEN_WORKER_CPU_PROFILE).toBeUndefined();
  });

  it("reads the process switches that npm start and the tests set", () => {
    const e = parseEnv({ OMEN_SKIP_MIGRATE: "1", OMEN_SKIP_BUILD: "true", OMEN_WORKER_NAME: "test-worker-1", OMEN_WORKER_CPU_PROFILE: "/tmp/w.cpuprofile" });
    expect(e).toMatchObject({ OMEN_SKIP_MIGRATE: true, OMEN_SKIP_BUILD: true, OMEN_WORKER_NAME: "test-worker-1", OMEN_WORKER_CPU_PROFILE: "/tmp/w.cpuprofile" });
  });

  it("reads the partition snapshot interval in seconds, 5 min by default, at most 1 h", () => {
    expect(parseEnv({}).OMEN_PARTITION_SNAPSHOT_SECONDS).toBe(300);
    expect(parseEnv({ OMEN_PARTITION_SNAPSHOT_SECONDS: "5" }).OMEN_PARTITION_SNAPSHOT_SECONDS).toBe(5);
    expect(parseEnv({ OMEN_PARTITION_SNAPSHOT_SECONDS: "3600" }).OMEN_PARTITION_SNAPSHOT_SECONDS).toBe(3600);
    // the log keeps 24 h: a snapshot must stay far newer than its oldest message
    for (const bad of ["0", "3601", "2.5", "5m", "-1"]) {
      expect(() => parseEnv({ OMEN_PARTITION_SNAPSHOT_SECONDS: bad }), bad).toThrow(/OMEN_PARTITION_SNAPSHOT_SECONDS:/);
    }
  });

  it("reads the worker's round size: unset or empty is the database's default, else 1,000 to 1,000,000 samples", () => {
    expect(parseEnv({}).OMEN_WORKER_BATCH).toBeUndefined();
    expect(parseEnv({ OMEN_WORKER_BATCH: "" }).OMEN_WORKER_BATCH).toBeUndefined();
    expect(parseEnv({ OMEN_WORKER_BATCH: "10000" }).OMEN_WORKER_BATCH).toBe(10_000);
    for (const bad of ["abc", "500", "1000001", "2.5", "-1"]) {
      expect(() => parseEnv({ OMEN_WORKER_BATCH: bad }), bad).toThrow(/OMEN_WORKER_BATCH:/);
    }
  });

  it("lists every invalid setting in one error", () => {
    expect(() => parseEnv({ PORT: "http", OMEN_SKIP_MIGRATE: "yes", DATABASE_URL: "mysql://x" })).toThrow(ConfigError);
    try {
      parseEnv({ PORT: "http", OMEN_SKIP_MIGRATE: "yes", DATABASE_URL: "mysql://x" });
    } catch (e) {
      expect((e as Error).message).toMatch(/PORT:[\s\S]*DATABASE_URL: must be a postgres:\/\/[\s\S]*OMEN_SKIP_MIGRATE:/);
    }
  });
});
