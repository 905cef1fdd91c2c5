/**
 * The URL fetcher against a local HTTP server. Only loopback addresses are ever connected to:
 * refused classes other than loopback are covered address by address in address-policy.spec,
 * and here through names that resolve to loopback (or to loopback plus a public address), so a
 * broken check could never send a packet anywhere else.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { problemOfRejection } from '../../../test/support/problems';
import { ProblemError } from '../../common/problem/problem.error';
import { AppConfig } from '../../config/app-config';
import { ImageUrlFetcher, ResolvedAddress } from './image-url-fetcher.service';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

describe('ImageUrlFetcher', () => {
  let server: Server;
  let port: number;
  let handler: Handler;
  const seen: IncomingMessage[] = [];
  const lookups: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      seen.push(request);
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    lookups.length = 0;
    handler = (_request, response) => response.end(PNG);
  });

  /** DNS as the tests want it: every name below resolves to these addresses. */
  const DNS: Record<string, ResolvedAddress[]> = {
    'images.test': [{ address: '127.0.0.1', family: 4 }],
    'other.test': [{ address: '127.0.0.1', family: 4 }],
    'mixed.test': [
      { address: '93.184.215.14', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ],
  };

  function fetcher(
    settings: { allowed?: string[]; maxBytes?: number; timeoutMs?: number } = {},
  ): ImageUrlFetcher {
    const config = {
      http: { maxUploadBytes: settings.maxBytes ?? 1024 },
      urlFetch: {
        allowedPrivateHosts: settings.allowed ?? ['images.test'],
        timeoutMs: settings.timeoutMs ?? 2000,
      },
    } as AppConfig;
    return new ImageUrlFetcher(config, (hostname) => {
      lookups.push(hostname);
      const found = DNS[hostname];
      if (!found) {
        return Promise.reject(Object.assign(new Error(`no ${hostname}`), { code: 'ENOTFOUND' }));
      }
      return Promise.resolve(found);
    });
  }

  const at = (host: string, path = '/cat.png') => `http://${host}:${port}${path}`;

  it('fetches from an admitted host, connecting to the address it checked', async () => {
    const bytes = await fetcher().fetch(at('images.test'));
    expect(bytes).toEqual(PNG);
    // the name was resolved once, by the check, and the connection went there: the system DNS,
    // which knows no images.test, was never asked
    expect(lookups).toEqual(['images.test']);
    expect(seen[0].headers.host).toBe(`images.test:${port}`);
  });

  it('forwards nothing of the client and asks for an image', async () => {
    await fetcher().fetch(at('images.test'));
    expect(seen[0].headers.cookie).toBeUndefined();
    expect(seen[0].headers.authorization).toBeUndefined();
    expect(seen[0].headers['accept-encoding']).toBeUndefined();
    expect(seen[0].headers.accept).toBe('image/*');
  });

  it('refuses a host that resolves to loopback unless it is admitted', async () => {
    const refused = await problemOfRejection(fetcher().fetch(at('other.test')));
    expect(refused.code).toBe('url_not_allowed');
    expect(refused.detail).toBe(
      "The image URL's host other.test resolves to 127.0.0.1: 127.0.0.1 is a loopback address.",
    );
    expect(seen).toEqual([]);
  });

  it('refuses a host when any of its addresses is refused', async () => {
    const refused = await problemOfRejection(fetcher({ allowed: [] }).fetch(at('mixed.test')));
    expect(refused.code).toBe('url_not_allowed');
    expect(seen).toEqual([]);
  });

  it.each([
    ['a loopback IP literal', '127.0.0.1', 'loopback'],
    ['an IPv4-mapped IPv6 loopback literal', '[::ffff:127.0.0.1]', 'IPv4-mapped loopback'],
    ['the IPv6 loopback', '[::1]', 'loopback'],
    ['an unspecified address (0.0.0.0 reaches this host)', '0.0.0.0', 'unspecified'],
    ['a decimal IPv4 literal', '2130706433', 'loopback'],
  ])('refuses %s before connecting', async (_what, host, range) => {
    const refused = await problemOfRejection(fetcher({ allowed: [] }).fetch(at(host)));
    expect(refused.code).toBe('url_not_allowed');
    expect(refused.detail).toContain(range);
    expect(seen).toEqual([]);
  });

  it.each([
    ['a file URL', 'file:///etc/passwd', /only http and https/i],
    ['an FTP URL', 'ftp://images.test/cat.png', /only http and https/i],
    ['credentials in the URL', 'http://user:secret@images.test/cat.png', /credentials/],
    ['no URL at all', 'cat.png', /not a valid absolute URL/],
    ['a URL of 3000 characters', `http://images.test/${'a'.repeat(3000)}`, /longer than 2048/],
  ])('refuses %s', async (_what, url, message) => {
    const refused = await problemOfRejection(fetcher().fetch(url));
    expect(refused.code).toBe('url_not_allowed');
    expect(refused.detail).toMatch(message);
  });

  it('follows redirects, checking each target, and keeps no cookie', async () => {
    handler = (request, response) => {
      if (request.url === '/a') {
        response.writeHead(302, { location: '/b', 'set-cookie': 'session=1' }).end();
      } else if (request.url === '/b') {
        response.writeHead(301, { location: at('images.test', '/c') }).end();
      } else {
        response.end(PNG);
      }
    };
    expect(await fetcher().fetch(at('images.test', '/a'))).toEqual(PNG);
    expect(seen.map((r) => r.url)).toEqual(['/a', '/b', '/c']);
    expect(seen.map((r) => r.headers.cookie)).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    ['a loopback literal', () => at('127.0.0.1'), 'loopback'],
    ['an IPv4-mapped literal', () => at('[::ffff:127.0.0.1]'), 'IPv4-mapped loopback'],
    ['a host that is not admitted', () => at('other.test'), 'resolves to 127.0.0.1'],
    ['a non-http scheme', () => 'file:///etc/passwd', 'Only http and https'],
  ])('refuses a redirect to %s', async (_what, target, message) => {
    handler = (_request, response) => response.writeHead(307, { location: target() }).end();
    const refused = await problemOfRejection(fetcher().fetch(at('images.test')));
    expect(refused.code).toBe('url_not_allowed');
    expect(refused.detail).toContain(message);
    expect(seen).toHaveLength(1);
  });

  it('stops after 3 redirects', async () => {
    handler = (request, response) =>
      response.writeHead(302, { location: `${request.url ?? ''}x` }).end();
    const failed = await problemOfRejection(fetcher().fetch(at('images.test', '/r')));
    expect(failed.code).toBe('url_fetch_failed');
    expect(failed.detail).toMatch(/redirected more than 3 times/);
    expect(seen).toHaveLength(4);
  });

  it('refuses a body over MAX_UPLOAD_BYTES from its Content-Length, before reading it', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-length': '4096' });
      response.write(Buffer.alloc(100));
    };
    const tooLarge = await problemOfRejection(fetcher({ maxBytes: 1024 }).fetch(at('images.test')));
    expect(tooLarge.code).toBe('payload_too_large');
    expect(tooLarge.detail).toMatch(/larger than the limit of 1 KiB/);
    expect(tooLarge.extras.fields).toEqual({ max_bytes: 1024 });
  });

  it('cuts a body without a length at MAX_UPLOAD_BYTES, closing the connection', async () => {
    let finished = false;
    const closed = new Promise<void>((resolve) => {
      handler = (_request, response) => {
        response.once('close', () => resolve());
        let sent = 0;
        const more = () => {
          if (response.destroyed) return;
          if (sent >= 50_000_000) {
            finished = true;
            return response.end();
          }
          sent += 65536;
          response.write(Buffer.alloc(65536), more);
        };
        more();
      };
    });
    const tooLarge = await problemOfRejection(fetcher({ maxBytes: 1024 }).fetch(at('images.test')));
    expect(tooLarge.code).toBe('payload_too_large');
    await closed;
    expect(finished).toBe(false);
  });

  it('gives up after URL_FETCH_TIMEOUT_MS', async () => {
    handler = (_request, response) => {
      response.writeHead(200);
      response.write(Buffer.alloc(10)); // then nothing more
    };
    const started = Date.now();
    const slow = await problemOfRejection(fetcher({ timeoutMs: 300 }).fetch(at('images.test')));
    expect(slow.code).toBe('url_fetch_failed');
    expect(slow.detail).toMatch(/within URL_FETCH_TIMEOUT_MS \(300 ms\)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reserves the image bytes before reading them: the Content-Length, else the limit', async () => {
    const reserved: number[] = [];
    const reserve = (bytes: number) => void reserved.push(bytes);
    handler = (_request, response) => response.end(PNG); // with a Content-Length
    expect(await fetcher().fetch(at('images.test'), { reserve })).toEqual(PNG);
    handler = (_request, response) => {
      response.write(PNG.subarray(0, 4)); // chunked: no length
      response.end(PNG.subarray(4));
    };
    expect(await fetcher().fetch(at('images.test'), { reserve })).toEqual(PNG);
    expect(reserved).toEqual([PNG.length, 1024]);
  });

  it('answers a refused reservation as it is, without reading the body', async () => {
    const closed = new Promise<void>((resolve) => {
      handler = (_request, response) => {
        response.once('close', () => resolve());
        response.writeHead(200, { 'content-length': '1000' });
        response.write(Buffer.alloc(10)); // the rest never comes
      };
    });
    const full = new ProblemError('intake_full', 'Uploads in progress hold all of it.');
    const refused = await problemOfRejection(
      fetcher().fetch(at('images.test'), {
        reserve: () => {
          throw full;
        },
      }),
    );
    expect(refused).toBe(full);
    await closed;
  });

  it("ends with the request's own reason when its signal aborts (deadline, client, drain)", async () => {
    handler = (_request, response) => {
      response.writeHead(200);
      response.write(Buffer.alloc(10)); // then nothing more
    };
    const request = new AbortController();
    const deadline = new ProblemError('request_timeout', 'No caption within REQUEST_TIMEOUT_MS.');
    setTimeout(() => request.abort(deadline), 100);
    const started = Date.now();
    const ended = await problemOfRejection(
      fetcher().fetch(at('images.test'), { signal: request.signal }),
    );
    expect(ended).toBe(deadline);
    expect(Date.now() - started).toBeLessThan(1500); // URL_FETCH_TIMEOUT_MS is 2 s here
    const gone = new AbortController();
    setTimeout(() => gone.abort(), 50);
    expect(
      (await problemOfRejection(fetcher().fetch(at('images.test'), { signal: gone.signal }))).code,
    ).toBe('client_closed');
  });

  it.each([
    ['an error status', 404, /answered 404/],
    ['a server error', 500, /answered 500/],
  ])('reports %s as url_fetch_failed', async (_what, status, message) => {
    handler = (_request, response) => response.writeHead(status).end('nope');
    const failed = await problemOfRejection(fetcher().fetch(at('images.test')));
    expect(failed.code).toBe('url_fetch_failed');
    expect(failed.detail).toMatch(message);
  });

  it('reports an unknown host and a refused connection as url_fetch_failed', async () => {
    const unknown = await problemOfRejection(
      fetcher({ allowed: ['nowhere.test'] }).fetch('http://nowhere.test/x'),
    );
    expect(unknown).toMatchObject({ code: 'url_fetch_failed' });
    expect(unknown.detail).toMatch(/nowhere.test was not found/);
    const closed = new Server();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await problemOfRejection(fetcher().fetch(`http://images.test:${closedPort}/x`));
    expect(refused).toMatchObject({ code: 'url_fetch_failed' });
    expect(refused.detail).toMatch(/connection was refused/);
  });
});
