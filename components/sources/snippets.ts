/** Copy-paste configuration for senders; pure so it can be tested and reused in docs. */
export function remoteWriteSnippet(origin: string, token: string): string {
  return `remote_write:
  - url: ${origin}/api/v1/write
    authorization:
      type: Bearer
      credentials: ${token}
    queue_config:
      max_samples_per_send: 2000
      batch_send_deadline: 5s`;
}

export function otlpSnippet(origin: string, token: string): string {
  return `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=${origin}/v1/metrics
OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/protobuf
OTEL_EXPORTER_OTLP_METRICS_HEADERS="Authorization=Bearer%20${token}"`;
}

export function csvSnippet(origin: string, token: string): string {
  return `npm run -s import:csv -- data.csv --url ${origin} --token ${token}
# or: curl -H "Authorization: Bearer ${token}" -H "Content-Type: text/csv" --data-binary @data.csv ${origin}/api/v1/import/csv`;
}

/** "name = query" or just "query", one per line → pull queries. */
export function parseQueryLines(text: string): { query: string; name?: string }[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*=\s*(.+)$/.exec(l);
      return m && !/[=!]=|=~/.test(l.slice(0, m[1]!.length + 3)) ? { name: m[1]!, query: m[2]!.trim() } : { query: l };
    });
}
