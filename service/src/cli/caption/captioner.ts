/** What one attempt at one image gave: the service's answer, or its problem. */
export type Attempt =
  | { ok: true; body: CaptionAnswer }
  | { ok: false; problem: FileProblem; retryAfterSeconds?: number };

/** The parts of a caption response the CLI writes (fields added later are passed through). */
export interface CaptionAnswer {
  caption: string;
  confidence?: number;
  captions?: { caption: string; confidence?: number }[];
  timings_ms?: Record<string, number>;
  cached?: boolean;
  [field: string]: unknown;
}

/** An RFC 9457 problem as the service sends it, or one the CLI made (status 0: no answer). */
export interface FileProblem {
  status: number;
  code: string;
  title?: string;
  detail: string;
}

/** Where captions come from: a service over HTTP, or the service's pipeline in this process. */
export interface Captioner {
  /** Fails (rejects) only when captioning cannot start at all; per-image problems are Attempts. */
  open(): Promise<void>;
  caption(file: string, signal: AbortSignal): Promise<Attempt>;
  close(): Promise<void>;
}

/** Could not start (service unreachable, model missing): one line, exit 1. */
export class CaptionerUnavailableError extends Error {}
