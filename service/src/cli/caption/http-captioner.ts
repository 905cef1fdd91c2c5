import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import {
  Attempt,
  CaptionAnswer,
  Captioner,
  CaptionerUnavailableError,
  FileProblem,
} from './captioner';

/** POST /caption as any client would: multipart field `file`, options as query parameters. */
export class HttpCaptioner implements Captioner {
  constructor(
    private readonly url: string,
    private readonly options: Record<string, string>,
    private readonly timeoutMs: number,
  ) {}

  async open(): Promise<void> {
    // One clear line when nothing answers, instead of the same failure for every image.
    try {
      await fetch(`${this.url}/health/live`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new CaptionerUnavailableError(`cannot reach ${this.url}: ${reason(error as Error)}`);
    }
  }

  async caption(file: string, signal: AbortSignal): Promise<Attempt> {
    const form = new FormData();
    // openAsBlob streams the file from disk rather than holding a copy per request.
    form.append('file', await openAsBlob(file), basename(file));
    const query = new URLSearchParams(this.options).toString();
    let response: Response;
    try {
      response = await fetch(`${this.url}/caption${query ? `?${query}` : ''}`, {
        method: 'POST',
        body: form,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]),
      });
    } catch (error) {
      if (signal.aborted) throw error;
      const timedOut = (error as Error).name === 'TimeoutError';
      return {
        ok: false,
        problem: {
          status: 0,
          code: timedOut ? 'client_timeout' : 'connection_failed',
          detail: timedOut
            ? `no answer within ${this.timeoutMs / 1000} s`
            : `the request failed: ${reason(error as Error)}`,
        },
      };
    }
    const text = await response.text();
    if (response.ok) return { ok: true, body: JSON.parse(text) as CaptionAnswer };
    return {
      ok: false,
      problem: problemFrom(response, text),
      retryAfterSeconds: retryAfter(response.headers.get('retry-after')),
    };
  }

  async close(): Promise<void> {}
}

function problemFrom(response: Response, text: string): FileProblem {
  try {
    const body = JSON.parse(text) as Partial<FileProblem>;
    if (typeof body.code === 'string') {
      return {
        status: response.status,
        code: body.code,
        title: body.title,
        detail: body.detail ?? '',
      };
    }
  } catch {
    // not a problem body: a proxy's error page, say
  }
  return {
    status: response.status,
    code: `http_${response.status}`,
    detail: `${response.status} ${response.statusText}: ${text.slice(0, 200)}`,
  };
}

/** Retry-After in seconds (RFC 9110: delay-seconds or an HTTP date). */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** fetch() says "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, ...) is in its cause. */
function reason(error: Error): string {
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return [error.message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
}
