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

/**
 * Which shape a request gets. Both clients send `Accept: *\/*` and the same body, so content
 * negotiation cannot tell them apart; the JavaScript client names itself in User-Agent
 * (`@huggingface/inference/<version>`), and RFC 9110 section 10.1.5 lets a server use User-Agent
 * to "tailor responses to avoid particular user agent limitations". That client gets the
 * object; everyone else gets the list, the pipeline's own shape.
 */
export function hfShape(userAgent: string | undefined): HfShape {
  return /(^|[\s;(])@huggingface\/inference\//.test(userAgent ?? '') ? 'object' : 'list';
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
