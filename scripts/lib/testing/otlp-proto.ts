// A minimal OTLP protobuf encoder and gRPC client, for the hostile-telemetry specs: requests of any shape (huge
// values, thousands of attributes, deep nesting) sent as bytes to the collector's OTLP ports, over HTTP
// (application/x-protobuf) or gRPC (HTTP/2, length-prefixed messages, grpc-status in the trailers).
// Field numbers: opentelemetry-proto, collector/trace/v1/trace_service.proto and trace/v1/trace.proto.
import { once } from 'node:events';
import { connect } from 'node:http2';

/** An attribute value: a string, a number, a list, a nested map, or one already encoded (see deepValue). */
export type AnyValue = string | number | AnyValue[] | Encoded | { [key: string]: AnyValue };

/** An AnyValue message already encoded. */
export class Encoded {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

function varint(n: number | bigint): Buffer {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const bytesField = (field: number, data: Buffer | string) => {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([tag(field, 2), varint(b.length), b]);
};
const varintField = (field: number, n: number | bigint) => Buffer.concat([tag(field, 0), varint(n)]);
const fixed64Field = (field: number, n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return Buffer.concat([tag(field, 1), b]);
};

function anyValue(v: AnyValue): Buffer {
  if (v instanceof Encoded) return v.bytes;
  if (typeof v === 'string') return bytesField(1, v);
  if (typeof v === 'number') return varintField(3, v);
  // array_value (5): ArrayValue { values (1) }; kvlist_value (6): KeyValueList { values (1): KeyValue }
  if (Array.isArray(v)) return bytesField(5, Buffer.concat(v.map((x) => bytesField(1, anyValue(x)))));
  return bytesField(6, Buffer.concat(Object.entries(v).map(([k, x]) => bytesField(1, keyValue(k, x)))));
}
/** KeyValue { key (1), value (2) } */
const keyValue = (key: string, v: AnyValue) =>
  Buffer.concat([bytesField(1, key), bytesField(2, anyValue(v))]);

/**
 * A value `depth` maps deep ({k: {k: ... 'bottom'}}), encoded without recursion (any depth: deeper than any
 * parser should follow). Built inside out: each level's length prefixes, then the innermost value.
 */
export function deepValue(depth: number): Encoded {
  const inner = anyValue('bottom');
  const key = bytesField(1, 'k');
  const prefixes: Buffer[] = [];
  let len = inner.length;
  for (let i = 0; i < depth; i++) {
    // KeyValue { key (1), value (2): <len> } in KeyValueList { values (1) } in AnyValue { kvlist_value (6) }
    const kv = Buffer.concat([key, tag(2, 2), varint(len)]);
    const kvLen = kv.length + len;
    const list = Buffer.concat([tag(1, 2), varint(kvLen)]);
    const listLen = list.length + kvLen;
    const outer = Buffer.concat([tag(6, 2), varint(listLen)]);
    prefixes.push(Buffer.concat([outer, list, kv]));
    len = outer.length + listLen;
  }
  return new Encoded(Buffer.concat([...prefixes.reverse(), inner]));
}

export interface ProtoSpan {
  traceId: string;
  spanId: string;
  name: string;
  attributes: Record<string, AnyValue>;
}

/** ExportTraceServiceRequest { resource_spans (1): ResourceSpans { resource (1), scope_spans (2) } }. */
export function encodeTraces(service: string, spans: ProtoSpan[]): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (s: ProtoSpan) =>
    Buffer.concat([
      bytesField(1, Buffer.from(s.traceId, 'hex')),
      bytesField(2, Buffer.from(s.spanId, 'hex')),
      bytesField(5, s.name),
      varintField(6, 1),
      fixed64Field(7, now),
      fixed64Field(8, now + 1_000_000n),
      ...Object.entries(s.attributes).map(([k, v]) => bytesField(9, keyValue(k, v))),
    ]);
  const resource = bytesField(1, keyValue('service.name', service)); // Resource { attributes (1) }
  const scopeSpans = Buffer.concat([
    bytesField(1, bytesField(1, 'otlp-proto')),
    ...spans.map((s) => bytesField(2, span(s))),
  ]);
  return bytesField(1, Buffer.concat([bytesField(1, resource), bytesField(2, scopeSpans)]));
}

export interface GrpcAnswer {
  /** grpc-status (0 = OK); -1 when the call failed before an answer (the error is in message). */
  status: number;
  message: string;
}

/** One unary gRPC call to the collector's trace service with `message` as the (already encoded) request. */
export async function grpcExportTraces(
  base: string,
  message: Buffer,
  timeoutMs = 30_000,
): Promise<GrpcAnswer> {
  const client = connect(base);
  try {
    return await new Promise<GrpcAnswer>((resolve) => {
      let answered = false;
      // The first answer wins (resolve ignores later calls).
      const fail = (e: Error) => {
        answered = true;
        clearTimeout(timer);
        resolve({ status: -1, message: e.message });
      };
      const timer = setTimeout(() => fail(new Error(`no answer after ${timeoutMs} ms`)), timeoutMs);
      const answer = (a: GrpcAnswer) => {
        answered = true;
        clearTimeout(timer);
        resolve(a);
      };
      const statusOf = (h: Record<string, unknown>) =>
        h['grpc-status'] === undefined
          ? undefined
          : {
              status: Number(h['grpc-status']),
              message: decodeURIComponent(String(h['grpc-message'] ?? '')),
            };
      client.on('error', fail);
      const req = client.request({
        ':method': 'POST',
        ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      // A refusal may come before the whole request is sent, as headers only (a "trailers-only" answer).
      req.on('response', (h) => {
        const a = statusOf(h);
        if (a) answer(a);
      });
      req.on('trailers', (t) => {
        const a = statusOf(t);
        if (a) answer(a);
      });
      req.on('data', () => {});
      req.on('error', fail);
      req.on('close', () => fail(new Error(`stream closed without a grpc-status (rst code ${req.rstCode})`)));
      // Written in chunks, minding backpressure, and stopped once an answer came: with one large write, Node's
      // HTTP/2 stream does not report a refusal the server sends before it has read everything.
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(message.length, 1);
      const body = Buffer.concat([prefix, message]);
      void (async () => {
        for (let at = 0; at < body.length && !answered; at += 64 * 1024) {
          if (!req.write(body.subarray(at, at + 64 * 1024))) await once(req, 'drain').catch(() => undefined);
        }
        if (!answered) req.end();
      })().catch(fail);
    });
  } finally {
    client.destroy();
  }
}
