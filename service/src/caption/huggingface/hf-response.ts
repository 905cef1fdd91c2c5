import { CaptionResponseDto } from '../dto/caption-response.dto';

/** One generated text, as the Inference API's image-to-text task answers it. */
export interface HfGeneratedText {
  generated_text: string;
}

/**
 * The two shapes the official clients parse: `huggingface_hub` (Python) reads a list,
 * `[{"generated_text": ...}]` (the transformers pipeline's output, what Inference Endpoints
 * return); `@huggingface/inference` (JavaScript) 4.x requires one object,
 * `{"generated_text": ...}`, and refuses a list.
 */
export type HfShape = 'list' | 'object';

/** The request headers the shape depends on (sent back in `Vary`). */
export const HF_SHAPE_HEADERS = ['User-Agent', 'Sec-Fetch-Mode'] as const;

/**
 * Which shape a request gets. Both clients send `Accept: *\/*` and the same body, so content
 * negotiation cannot tell them apart; the JavaScript client names itself in User-Agent
 * (`@huggingface/inference/<version>`), and RFC 9110 section 10.1.5 lets a server use User-Agent
 * to "tailor responses to avoid particular user agent limitations". In a browser that name never
 * arrives (Chromium sends its own User-Agent whatever fetch sets), but every browser's fetch
 * carries `Sec-Fetch-Mode`, which Python clients never send, and the one official client that
 * runs in a browser is the JavaScript one. Either gets the object; everyone else the list, the
 * pipeline's own shape.
 */
export function hfShape(headers: { 'user-agent'?: string; 'sec-fetch-mode'?: string }): HfShape {
  if (/(^|[\s;(])@huggingface\/inference\//.test(headers['user-agent'] ?? '')) return 'object';
  return headers['sec-fetch-mode'] === undefined ? 'list' : 'object';
}

export function toHfAnswer(
  answer: CaptionResponseDto,
  shape: HfShape,
): HfGeneratedText | HfGeneratedText[] {
  // The list holds every returned caption, best first, as the pipeline returns them with
  // num_return_sequences; the object, the best one.
  if (shape === 'object') return { generated_text: answer.caption };
  return answer.captions.map(({ caption }) => ({ generated_text: caption }));
}
