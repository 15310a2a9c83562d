/** A one-stream view of a StreamBank, giving it the plain UnivariateDetector contract. */
import type { StateEnvelope } from "./codec";
import type { StreamBank, UnivariateDetector } from "./types";

export class BankDetector implements UnivariateDetector {
  constructor(readonly bank: StreamBank) {
    if (bank.size === 0) bank.add();
  }

  get kind(): string {
    return this.bank.kind;
  }

  learn(x: number, tMs: number): void {
    this.bank.update(0, x, tMs);
  }

  score(x: number, tMs: number): number {
    return this.bank.score(0, x, tMs);
  }

  /** Scores then learns (what the engine does per point). */
  update(x: number, tMs: number): number {
    return this.bank.update(0, x, tMs);
  }

  serialize(): StateEnvelope {
    return this.bank.serialize();
  }
}
