/**
 * Prometheus remote_write 1.0 message types (prometheus.WriteRequest and what it holds,
 * https://prometheus.io/docs/concepts/remote_write_spec/), for protobufjs reflection.
 */
import protobuf from "protobufjs";

const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: "repeated", type: "TimeSeries", id: 1 },
            metadata: { rule: "repeated", type: "MetricMetadata", id: 3 },
          },
        },
        TimeSeries: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            samples: { rule: "repeated", type: "Sample", id: 2 },
          },
        },
        Label: { fields: { name: { type: "string", id: 1 }, value: { type: "string", id: 2 } } },
        Sample: { fields: { value: { type: "double", id: 1 }, timestamp: { type: "int64", id: 2 } } },
        MetricMetadata: {
          fields: {
            type: { type: "MetricType", id: 1 },
            metricFamilyName: { type: "string", id: 2 },
            help: { type: "string", id: 4 },
            unit: { type: "string", id: 5 },
          },
        },
        MetricType: {
          values: { UNKNOWN: 0, COUNTER: 1, GAUGE: 2, SUMMARY: 3, HISTOGRAM: 4, GAUGEHISTOGRAM: 5, INFO: 6, STATESET: 7 },
        },
      },
    },
  },
});

export const WriteRequestType = root.lookupType("prometheus.WriteRequest");
export const TimeSeriesType = root.lookupType("prometheus.TimeSeries");
export const MetadataType = root.lookupType("prometheus.MetricMetadata");

export interface PromLabel {
  name: string;
  value: string;
}
export interface PromSample {
  value: number;
  timestamp: number | { toNumber(): number };
}
export interface PromTimeSeries {
  labels: PromLabel[];
  samples: PromSample[];
}
export interface PromMetadata {
  type: number;
  metricFamilyName: string;
  help?: string;
  unit?: string;
}
