import type { Response } from 'express';
import { TimingsDto } from '../dto/caption-response.dto';

/** Server-Timing metric names (tokens) and descriptions for each stage of a caption. */
const STAGES: [keyof TimingsDto, string][] = [
  ['queue_wait', 'queue'],
  ['image_decode', 'image decode'],
  ['encoder', 'encoder'],
  ['decoding', 'decoding'],
];

/**
 * The stage timings of a caption as a Server-Timing header (W3C Server Timing), which browser
 * devtools and the Performance API show. A cached answer ran no stage: it says `cache;desc=hit`
 * and its own total instead.
 */
export function serverTiming(timings: TimingsDto, cached: boolean): string {
  const metrics = cached
    ? ['cache;desc=hit']
    : STAGES.map(([name, desc]) => `${name};desc="${desc}";dur=${timings[name]}`);
  return [...metrics, `total;dur=${timings.total}`].join(', ');
}

/** Sets Server-Timing on a response from an answer's timings. */
export function setServerTiming(
  response: Response,
  answer: { timings_ms: TimingsDto; cached: boolean },
): void {
  response.setHeader('Server-Timing', serverTiming(answer.timings_ms, answer.cached));
}
