import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors/app-error";
import { checkDeclaredLength, checkOtlpContentType, checkRemoteWriteHeaders, decodeOtlpEncoding, isOtlpJson, payloadTooLarge, sourceName } from "./ingest-request";

/** The AppError a check throws (code and message), or null when it passes. */
function thrown(fn: () => unknown): { code: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return { code: (e as AppError).code, message: (e as AppError).message };
  }
}

describe("checkRemoteWriteHeaders", () => {
  it("accepts snappy protobuf, with or without Content-Type and Content-Encoding", () => {
    expect(thrown(() => checkRemoteWriteHeaders("application/x-protobuf", "snappy"))).toBeNull();
    expect(thrown(() => checkRemoteWriteHeaders("Application/X-Protobuf; charset=binary", "SNAPPY"))).toBeNull();
    expect(thrown(() => checkRemoteWriteHeaders(undefined, undefined))).toBeNull();
  });

  it("refuses Remote-Write 2.0 with the setting that selects 1.0", () => {
    expect(thrown(() => checkRemoteWriteHeaders("application/x-protobuf;proto=io.prometheus.write.v2.Request", "snappy"))).toEqual({
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: expect.stringMatching(/Remote-Write 2\.0 is not supported; configure `protobuf_message: prometheus\.WriteRequest`/),
    });
  });

  it("refuses other content types and encodings, quoting what was sent", () => {
    expect(thrown(() => checkRemoteWriteHeaders("text/plain", "snappy"))).toEqual({
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: 'Content-Type must be application/x-protobuf (snappy-compressed WriteRequest), got "text/plain".',
    });
    expect(thrown(() => checkRemoteWriteHeaders("application/x-protobuf", "gzip"))).toEqual({
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: 'Content-Encoding must be snappy, got "gzip".',
    });
  });
});

describe("OTLP content type and encoding", () => {
  it("tells JSON from protobuf and refuses anything else", () => {
    expect(isOtlpJson("application/json; charset=utf-8")).toBe(true);
    expect(isOtlpJson("application/x-protobuf")).toBe(false);
    expect(isOtlpJson(undefined)).toBe(false);
    expect(thrown(() => checkOtlpContentType("application/x-protobuf"))).toBeNull();
    expect(thrown(() => checkOtlpContentType("APPLICATION/JSON"))).toBeNull();
    expect(thrown(() => checkOtlpContentType(undefined))?.message).toBe(
      'Content-Type must be application/x-protobuf or application/json (OTLP/HTTP), got "none".',
    );
    expect(thrown(() => checkOtlpContentType("Text/Plain"))?.message).toMatch(/got "text\/plain"/);
  });

  it("gunzips within the limit and passes identity bodies through", () => {
    const body = new TextEncoder().encode('{"resourceMetrics":[]}');
    expect(Buffer.from(decodeOtlpEncoding(zlib.gzipSync(body), "gzip", 1024)).toString()).toBe('{"resourceMetrics":[]}');
    expect(decodeOtlpEncoding(body, undefined, 1024)).toBe(body);
    expect(decodeOtlpEncoding(body, "identity", 1024)).toBe(body);
  });

  it("refuses bad gzip (400), gzip inflating over the limit (413) and other encodings (415)", () => {
    expect(thrown(() => decodeOtlpEncoding(new Uint8Array([1, 2, 3]), "gzip", 1024))).toEqual({
      code: "BAD_REQUEST",
      message: expect.stringMatching(/^The body is not valid gzip \(.+\)\. Nothing from this request was stored\.$/),
    });
    expect(thrown(() => decodeOtlpEncoding(zlib.gzipSync(new Uint8Array(4096)), "gzip", 1024))).toEqual({
      code: "PAYLOAD_TOO_LARGE",
      message: "The request decompresses to more than 1024 bytes (OMEN_MAX_BODY_BYTES); export in smaller batches.",
    });
    expect(thrown(() => decodeOtlpEncoding(new Uint8Array(1), "br", 1024))).toEqual({
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: 'Content-Encoding must be gzip or none, got "br".',
    });
  });
});

describe("body size", () => {
  it("refuses a declared Content-Length over the limit before reading", () => {
    expect(thrown(() => checkDeclaredLength("1025", 1024))).toEqual({
      code: "PAYLOAD_TOO_LARGE",
      message: expect.stringMatching(/^The request body is 1025 bytes, over the limit of 1024 bytes \(OMEN_MAX_BODY_BYTES\)/),
    });
    expect(thrown(() => checkDeclaredLength("1024", 1024))).toBeNull();
    expect(thrown(() => checkDeclaredLength(undefined, 1024))).toBeNull();
    expect(thrown(() => checkDeclaredLength("not a number", 1024))).toBeNull();
  });

  it("names the limit in the error's details", () => {
    expect(payloadTooLarge("more than 10", 10).details).toEqual({ limit: 10 });
  });
});

describe("sourceName", () => {
  it("falls back when absent or empty and accepts safe names", () => {
    expect(sourceName(null, "prometheus")).toBe("prometheus");
    expect(sourceName("", "otlp")).toBe("otlp");
    expect(sourceName("prod-eu_1.k8s:a", "x")).toBe("prod-eu_1.k8s:a");
  });

  it("refuses other characters and names over 100 characters", () => {
    expect(thrown(() => sourceName("a b", "x"))).toEqual({
      code: "BAD_REQUEST",
      message: 'Invalid ?source= name "a b": use letters, digits, _ . : - (max 100 characters).',
    });
    expect(thrown(() => sourceName("a".repeat(101), "x"))?.code).toBe("BAD_REQUEST");
  });
});
