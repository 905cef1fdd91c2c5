import { Socket, connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Interim responses seen before the final one (e.g. 100 Continue). */
  interim: number[];
}

/**
 * A hand-driven HTTP/1.1 connection, for what HTTP clients do not do on purpose: stop sending
 * halfway, send headers slowly, wait for 100 Continue, send malformed requests.
 */
export class RawConnection {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Everything received so far, as text. */
  get text(): string {
    return this.received.toString('latin1');
  }

  /** Waits for a complete final response (Content-Length framed) and parses it. */
  async response(timeoutMs = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.received);
      if (parsed) return parsed;
      if (Date.now() > deadline) throw new Error(`no complete response; got: ${this.text}`);
      if (this.socket.destroyed && !parseResponse(this.received)) {
        throw new Error(`connection closed; got: ${JSON.stringify(this.text)}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Request head for a POST to /caption with the given headers. */
export function postHead(headers: Record<string, string | number>, path = '/caption'): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${lines.join('\r\n')}\r\n\r\n`;
}

function parseResponse(data: Buffer): RawResponse | undefined {
  const interim: number[] = [];
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', offset);
    if (end < 0) return undefined;
    const head = data.subarray(offset, end).toString('latin1').split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (status >= 100 && status < 200) {
      interim.push(status);
      offset = end + 4;
      continue;
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = data.subarray(end + 4, end + 4 + length);
    if (body.length < length) return undefined;
    return { status, headers, body: body.toString('utf8'), interim };
  }
}
