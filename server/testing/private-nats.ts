/**
 * A nats-server with JetStream of a test's own (the machine's shared one cannot be killed),
 * storing in a temp directory kept across restarts, on a free loopback port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./omen-server";
import { waitFor } from "./scale-out-workers";

export const NATS_BIN = "/usr/sbin/nats-server";

export class PrivateNats {
  private child: ChildProcess | null = null;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "omen-nats-"));
  port = 0;
  get url() {
    return `nats://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.port ||= await freePort();
    this.child = spawn(NATS_BIN, ["-js", "-a", "127.0.0.1", "-p", String(this.port), "-sd", this.dir], { stdio: "ignore" });
    await waitFor(
      "nats-server to listen",
      () =>
        new Promise<boolean>((r) => {
          const s = net.connect(this.port, "127.0.0.1");
          s.once("connect", () => (s.end(), r(true)));
          s.once("error", () => r(false));
        }),
      10_000,
      250,
    );
  }
  /** SIGKILL: the server dies without a goodbye to its clients. */
  async kill(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return;
    await new Promise((r) => {
      c.once("exit", r);
      c.kill("SIGKILL");
    });
  }
  async remove(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
