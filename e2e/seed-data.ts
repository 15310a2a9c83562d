/** Names and sizes shared by the e2e seed (e2e/seed.ts) and the specs. */
export const E2E = {
  source: "e2e-shop",
  checkoutMetric: "checkout_latency_ms",
  checkoutKey: 'checkout_latency_ms{service="checkout"}',
  checkoutGroup: "shop",
  queueMetric: "e2e_queue_depth",
  queueGroup: "queues",
  queues: ["orders", "emails", "payments", "refunds", "webhooks"],
  /** 2 hours of 10-second samples; the burst is ~25 minutes before start-up. */
  points: 720,
  burstPointsAgo: 150,
  tableRows: 36,
  /** More anomalies than a queue page (50) on one stream, for bulk "all matching" and "label all similar". */
  bulkMetric: "e2e_disk_io",
  bulkRows: 64,
  /** A pattern recurring on two streams at once (each time one incident), for "label all similar" from an incident. */
  similarMetric: "e2e_fan_rpm",
  similarFans: ["front", "rear"],
  similarIncidents: 6,
} as const;
