/**
 * Raw HTTP uploads with full control of how the body arrives: whole, one byte a second, or all
 * but the last byte. Each on its own connection; each followed until it is answered, the
 * connection fails, or a cap passes (the cap only bounds the bench's run time: a request still
 * unanswered then is reported as such).
 */
import { request } from 'node:http';

export type Pace = 'whole' | 'one-byte-per-second' | 'one-byte-short';

export interface Upload {
  group: string;
  body: Buffer;
  contentType: string;
  pace: Pace;
  path?: string;
}

export interface Outcome {
  group: string;
  pace: Pace;
  /** Seconds from the start of the stress run when the request was sent. */
  sentAt: number;
  /** Seconds from send to the end of the answer (or to the failure). */
  seconds: number;
  status?: number;
  contentType?: string;
  /** The problem's `code`, for an RFC 9457 answer. */
  code?: string;
  /** An error answer with Content-Type application/problem+json and a JSON body with status. */
  problemJson: boolean;
  /** Set when no answer came: ECONNRESET, EPIPE, "no answer within N s", ... */
  failure?: string;
  bytesSent: number;
}

export function send(
  port: number,
  upload: Upload,
  t0: number,
  capSeconds: number,
): Promise<Outcome> {
  const started = performance.now();
  const outcome: Outcome = {
    group: upload.group,
    pace: upload.pace,
    sentAt: (started - t0) / 1000,
    seconds: NaN,
    problemJson: false,
    bytesSent: 0,
  };
  return new Promise((resolve) => {
    let settled = false;
    let drip: NodeJS.Timeout | undefined;
    const finish = (failure?: string) => {
      if (settled) return;
      settled = true;
      clearInterval(drip);
      clearTimeout(cap);
      outcome.seconds = (performance.now() - started) / 1000;
      if (failure && outcome.status === undefined) outcome.failure = failure;
      req.destroy();
      resolve(outcome);
    };
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: upload.path ?? '/caption',
      agent: false,
      headers: { 'content-type': upload.contentType, 'content-length': upload.body.length },
    });
    const cap = setTimeout(() => finish(`no answer within ${capSeconds} s`), capSeconds * 1000);
    req.on('response', (res) => {
      outcome.status = res.statusCode;
      outcome.contentType = res.headers['content-type'];
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (outcome.status !== 200) {
          try {
            const body = JSON.parse(text) as { code?: string; status?: number };
            outcome.code = body.code;
            outcome.problemJson =
              (outcome.contentType ?? '').startsWith('application/problem+json') &&
              body.status === outcome.status;
          } catch {
            outcome.problemJson = false;
          }
        }
        finish();
      });
      res.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    });
    // A write error after the answer arrived (the server answered early and closed) is fine.
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (outcome.status === undefined) finish(e.code ?? e.message);
    });
    const write = (chunk: Buffer) => {
      outcome.bytesSent += chunk.length;
      req.write(chunk);
    };
    if (upload.pace === 'whole') {
      outcome.bytesSent = upload.body.length;
      req.end(upload.body);
    } else if (upload.pace === 'one-byte-short') {
      write(upload.body.subarray(0, upload.body.length - 1));
    } else {
      let offset = 0;
      const next = () => {
        if (settled || req.destroyed || offset >= upload.body.length - 1) return;
        write(upload.body.subarray(offset, offset + 1));
        offset++;
      };
      next();
      drip = setInterval(next, 1000);
    }
  });
}

/** Multipart form with the file in field `file` (the seed's API). */
export function multipartBody(png: Buffer, name: string): { body: Buffer; contentType: string } {
  const boundary = `stress-${name.replace(/[^a-z0-9]/gi, '')}-b0undary`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}.png"\r\n` +
      'Content-Type: image/png\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Buffer.concat([head, png, tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
