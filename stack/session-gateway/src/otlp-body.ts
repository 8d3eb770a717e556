// Reading a session's OTLP request body within bounds, for both ingest paths (otlp-http.ts, otlp-grpc.ts): the
// bytes as sent (forwarded unchanged), and for metrics the decompressed message, read only to count its series
// (otlp-series.ts). Decompression is bounded too: a small gzip bomb cannot grow past the size limit.
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { jsonSeries, MalformedOtlp, protoSeries } from './otlp-series.ts';

const gunzipAsync = promisify(gunzip);

export class TooLarge extends Error {}

/**
 * The whole body, or TooLarge as soon as it passes `max` bytes: the rest is not read (the stream is paused, not
 * destroyed, so the refusal can still be answered; the caller closes the connection after it).
 */
export function readBounded(stream: Readable, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      over = true;
      stream.off('data', onData);
      stream.pause();
      reject(new TooLarge(`request body over ${max} bytes`));
    };
    stream.on('data', onData);
    stream.once('end', () => over || resolve(Buffer.concat(chunks)));
    stream.once('error', (err) => over || reject(err));
  });
}

/** `body` decompressed per its encoding (identity or gzip, as OTLP senders use), at most `max` bytes. */
export async function inflate(body: Buffer, encoding: string | undefined, max: number): Promise<Buffer> {
  const e = (encoding ?? 'identity').trim().toLowerCase();
  if (e === 'identity' || e === '') return body;
  if (e !== 'gzip') throw new MalformedOtlp(`content encoding ${e} is not supported (identity or gzip)`);
  try {
    return await gunzipAsync(body, { maxOutputLength: max });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
      throw new TooLarge(`request body over ${max} bytes once decompressed`);
    throw new MalformedOtlp(`the gzip body does not decompress: ${(err as Error).message}`);
  }
}

/** The series keys of a metrics request (decompressed), protobuf or JSON. */
export const seriesOf = (message: Buffer, json: boolean): string[] =>
  json ? jsonSeries(message) : protoSeries(message);
