/**
 * Names of the JetStream objects of one installation's sample log (docs/scale-out.md), from
 * OMEN_NATS_PREFIX: the stream, its per-partition subjects and durable consumers, the lease
 * bucket and the command subject. Apart from the NATS client, so that the web app's services
 * can name the log without loading it.
 */
export const logNames = (prefix: string) => ({
  stream: `${prefix}-samples`,
  subject: (p: number) => `${prefix}.samples.${p}`,
  consumer: (p: number) => `${prefix}-p${p}`,
  leases: `${prefix}-leases`,
  commands: `${prefix}.commands`,
});
