/**
 * The worker's config-reload job: every few seconds sync omen.yaml into the database, and when
 * configuration or the set of streams changed, resolve every stream's effective settings and
 * install them in the running engine.
 */
import path from "node:path";
import { configFingerprint, streamsFingerprint } from "../../repos/config-repo";
import { effectiveSettingsByStream } from "./config-service";
import { syncConfigFile } from "./config-file";
import type { ConfiguredEngine } from "../detection/engine-adapter";

export class ConfigReloader {
  private fingerprint = "";
  private fileErrors = "";
  /** Global settings from omen.yaml (retention, model update interval), when the file sets them. */
  fileGlobal: { modelUpdateIntervalMs?: number; retentionMs?: number } = {};

  /**
   * Whether this process writes omen.yaml into the database (scale-out: only the leader does,
   * the other workers only apply what is saved).
   */
  syncFile = true;

  constructor(
    /** the engine, or (scale-out) whatever spreads the settings over a worker's partitions */
    private readonly engine: Pick<ConfiguredEngine, "setSettings" | "streamIds" | "forgetStreams">,
    private readonly configFile: string | null,
    private readonly log: (msg: string) => void,
    /** Streams the engine scored that were deleted since (the worker drops its state of them). */
    private readonly onStreamsDeleted: (ids: number[]) => void = () => undefined,
  ) {}

  async run(): Promise<boolean> {
    if (this.configFile && this.syncFile) {
      const r = await syncConfigFile(path.resolve(this.configFile));
      const errs = r.errors.join("\n");
      if (errs && errs !== this.fileErrors) this.log(`omen.yaml is invalid, keeping the previous settings:\n${errs}`);
      if (r.changed) this.log(`omen.yaml: ${r.changed} scope(s) updated`);
      this.fileErrors = errs;
      if (!errs) this.fileGlobal = r.global;
    }
    const fp = `${await configFingerprint()}|${await streamsFingerprint()}`;
    if (fp === this.fingerprint) return false;
    const { global, streams, kinds } = await effectiveSettingsByStream();
    const deleted = this.engine.streamIds().filter((id) => !streams.has(id));
    if (deleted.length) {
      this.engine.forgetStreams(deleted);
      this.onStreamsDeleted(deleted);
      this.log(`forgot ${deleted.length} deleted stream(s)`);
    }
    this.engine.setSettings(global, streams, kinds);
    this.fingerprint = fp;
    return true;
  }
}
