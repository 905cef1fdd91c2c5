import { CaptionResponseDto } from '../dto/caption-response.dto';
import { hfShape, toHfAnswer } from './hf-response';

describe('Hugging Face answers', () => {
  it.each([
    ['@huggingface/inference/4.13.30', 'object'],
    ['@huggingface/inference/4.13.30 (Node.js v20.20.2)', 'object'],
    ['my-app/1.0 @huggingface/inference/3.0.0', 'object'],
    ['unknown/None; hf_hub/1.33.0; python/3.11.7', 'list'],
    ['curl/8.5.0', 'list'],
    ['Mozilla/5.0 (X11; Linux x86_64)', 'list'],
    [undefined, 'list'],
    ['not-@huggingface/inference/1', 'list'],
  ])('answers User-Agent %s with the %s shape', (userAgent, shape) => {
    expect(hfShape({ 'user-agent': userAgent })).toBe(shape);
  });

  it.each([
    ['cors', 'object'],
    ['same-origin', 'object'],
    ['no-cors', 'object'],
    [undefined, 'list'],
  ])('answers a browser fetch (Sec-Fetch-Mode %s) with the %s shape', (mode, shape) => {
    const chromium = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0.0.0';
    expect(hfShape({ 'user-agent': chromium, 'sec-fetch-mode': mode })).toBe(shape);
  });

  it('maps a caption to either shape', () => {
    const answer = {
      caption: 'a cat on a mat',
      captions: [
        { caption: 'a cat on a mat', confidence: 0.5 },
        { caption: 'a cat', confidence: 0.4 },
      ],
    } as CaptionResponseDto;
    expect(toHfAnswer(answer, 'list')).toEqual([
      { generated_text: 'a cat on a mat' },
      { generated_text: 'a cat' },
    ]);
    expect(toHfAnswer(answer, 'object')).toEqual({ generated_text: 'a cat on a mat' });
  });
});
