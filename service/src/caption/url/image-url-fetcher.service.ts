import { Inject, Injectable, Optional } from '@nestjs/common';
import { type LookupFunction, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import { Agent, request } from 'undici';
import { ProblemError } from '../../common/problem/problem.error';
import { formatBytes } from '../../common/problem/problem.filter';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ByteCollector } from '../admission/request-body';
import { refusedAddress } from './address-policy';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** What the request a fetch serves gives it. */
export interface FetchContext {
  /** The request's own signal (deadline, client gone, drain): its reason is the answer. */
  signal?: AbortSignal;
  /**
   * Called with the bytes the image will hold (its Content-Length, or the limit when it has
   * none) before they are read; throws to refuse them (admission's upload buffer).
   */
  reserve?(bytes: number): void;
}

/** Host name to addresses; tests swap in a fixed table. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;
export const URL_RESOLVER = Symbol('URL_RESOLVER');

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Redirects followed per fetch, each checked like the first URL. */
export const MAX_REDIRECTS = 3;
const MAX_URL_LENGTH = 2048;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches an image from a URL a client gave, safely enough to expose on the internet:
 * - http and https only, no credentials in the URL, at most MAX_REDIRECTS redirects;
 * - every address a host resolves to is checked (refusedAddress: public unicast only, unless
 *   the host is named in URL_ALLOWED_PRIVATE_HOSTS), and the connection is made to the checked
 *   address: the check runs inside the socket's own DNS lookup, so there is no second lookup a
 *   rebinding DNS server could answer differently; IP literals are checked before connecting;
 * - each redirect target goes through the same checks;
 * - the body is capped at MAX_UPLOAD_BYTES (refused early from Content-Length) and reserved
 *   with the request's admission before it is read, as an upload's is; the whole fetch is
 *   bounded by URL_FETCH_TIMEOUT_MS and by the request's own deadline and client;
 * - nothing of the client's request is forwarded (no cookies, no credentials, no headers), and
 *   cookies the target sets are not kept; no Accept-Encoding, so no decompression bomb.
 */
@Injectable()
export class ImageUrlFetcher {
  private readonly resolve: Resolver;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(URL_RESOLVER) resolve?: Resolver,
  ) {
    this.resolve = resolve ?? systemResolver;
  }

  async fetch(raw: string, context: FetchContext = {}): Promise<Buffer> {
    const { timeoutMs } = this.config.urlFetch;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = context.signal ? AbortSignal.any([deadline, context.signal]) : deadline;
    let url = parseUrl(raw);
    for (let redirects = 0; ; redirects++) {
      const answer = await this.get(url, signal, context).catch((error: unknown) => {
        // The request's own end (its deadline, its client, a drain) is its answer.
        if (context.signal?.aborted) throw requestEnded(context.signal);
        throw fetchProblem(error, url, deadline.aborted, timeoutMs);
      });
      if (!('location' in answer)) return answer.bytes;
      if (redirects === MAX_REDIRECTS) {
        throw new ProblemError(
          'url_fetch_failed',
          `${url.origin} redirected more than ${MAX_REDIRECTS} times.`,
        );
      }
      url = parseUrl(new URL(answer.location, url).href);
    }
  }

  /** One hop: the bytes, or where it redirects to. */
  private async get(
    url: URL,
    signal: AbortSignal,
    context: FetchContext,
  ): Promise<{ bytes: Buffer } | { location: string }> {
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const admitPrivate = this.config.urlFetch.allowedPrivateHosts
      .map((h) => h.replace(/^\[|\]$/g, ''))
      .includes(host);
    // An IP literal is connected to without a lookup: check it here.
    const literal = isIP(host) ? refusedAddress(host, admitPrivate) : undefined;
    if (literal) throw notAllowed(url, literal);
    const agent = new Agent({ connect: { lookup: this.checkedLookup(host, admitPrivate) } });
    try {
      const response = await request(url, {
        dispatcher: agent,
        method: 'GET',
        headers: { accept: 'image/*', 'user-agent': 'caption-service (image URL fetch)' },
        signal,
      });
      const location = response.headers.location;
      if (REDIRECTS.has(response.statusCode) && typeof location === 'string') {
        await response.body.dump();
        return { location };
      }
      if (response.statusCode < 200 || response.statusCode > 299) {
        await response.body.dump();
        throw new ProblemError(
          'url_fetch_failed',
          `${url.origin} answered ${response.statusCode} for the image URL.`,
        );
      }
      return { bytes: await this.readCapped(response, url, context) };
    } finally {
      void agent.close();
    }
  }

  private async readCapped(
    response: Awaited<ReturnType<typeof request>>,
    url: URL,
    context: FetchContext,
  ): Promise<Buffer> {
    const max = this.config.http.maxUploadBytes;
    const tooLarge = () =>
      new ProblemError(
        'payload_too_large',
        `The image at ${url.origin} is larger than the limit of ${formatBytes(max)}.`,
        { fields: { max_bytes: max } },
      );
    const header = response.headers['content-length'];
    const declared =
      typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
    try {
      if (declared !== undefined && declared > max) throw tooLarge();
      context.reserve?.(declared ?? max);
    } catch (error) {
      response.body.destroy();
      throw error;
    }
    // Allocated once at the declared length; chunks past it (a lying server) are refused below.
    const collector = new ByteCollector(declared, max);
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        response.body.destroy();
        throw tooLarge();
      }
      collector.push(chunk as Buffer);
    }
    return collector.bytes();
  }

  /** The socket's DNS lookup: resolves, refuses unless every address passes, connects to them. */
  private checkedLookup(host: string, admitPrivate: boolean): LookupFunction {
    return (hostname, options, callback) => {
      this.resolve(hostname)
        .then((found) => {
          const addresses = options.family
            ? found.filter((a) => a.family === options.family)
            : found;
          if (addresses.length === 0) {
            throw new ProblemError('url_fetch_failed', `The host ${host} has no address.`);
          }
          for (const { address } of addresses) {
            const why = refusedAddress(address, admitPrivate);
            if (why) {
              throw new ProblemError(
                'url_not_allowed',
                `The image URL's host ${host} resolves to ${address}: ${why}.`,
              );
            }
          }
          if (options.all) callback(null, addresses);
          else callback(null, addresses[0].address, addresses[0].family);
        })
        .catch((error: NodeJS.ErrnoException) => callback(error, '', 0));
    };
  }
}

function parseUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH) {
    throw new ProblemError(
      'url_not_allowed',
      `The image URL is longer than ${MAX_URL_LENGTH} characters.`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ProblemError('url_not_allowed', `The image URL is not a valid absolute URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProblemError(
      'url_not_allowed',
      `Only http and https image URLs are fetched, not ${url.protocol}`,
    );
  }
  if (url.username || url.password) {
    throw new ProblemError(
      'url_not_allowed',
      'Image URLs with credentials (user:password@) are refused.',
    );
  }
  return url;
}

function notAllowed(url: URL, why: string): ProblemError {
  return new ProblemError(
    'url_not_allowed',
    `The image URL's host ${url.hostname} is refused: ${why}.`,
  );
}

/** Why the request a fetch served ended: a ProblemError reason as it is, else the client left. */
function requestEnded(signal: AbortSignal): Error {
  return signal.reason instanceof ProblemError
    ? signal.reason
    : new ProblemError('client_closed', 'The client closed the connection during the fetch.');
}

/** A failed hop as a problem: our own refusals as they are, network errors as url_fetch_failed. */
function fetchProblem(error: unknown, url: URL, timedOut: boolean, timeoutMs: number): Error {
  for (let e = error; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof ProblemError) return e;
  }
  if (timedOut) {
    return new ProblemError(
      'url_fetch_failed',
      `${url.origin} did not deliver the image within URL_FETCH_TIMEOUT_MS (${timeoutMs} ms).`,
    );
  }
  if ((error as Error).name === 'AbortError') {
    return new ProblemError('client_closed', 'The client closed the connection during the fetch.');
  }
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOTFOUND'
      ? `the host ${url.hostname} was not found`
      : code === 'ECONNREFUSED'
        ? 'the connection was refused'
        : `${(error as Error).message}${code ? ` (${code})` : ''}`;
  return new ProblemError('url_fetch_failed', `The image URL could not be fetched: ${reason}.`);
}
