import { serverTiming } from './server-timing';

const timings = { image_decode: 12.5, queue_wait: 0.8, encoder: 95.1, decoding: 140.2, total: 251 };

describe('serverTiming', () => {
  it('lists every stage with its duration, then the total', () => {
    expect(serverTiming(timings, false)).toBe(
      'queue_wait;desc="queue";dur=0.8, image_decode;desc="image decode";dur=12.5, ' +
        'encoder;desc="encoder";dur=95.1, decoding;desc="decoding";dur=140.2, total;dur=251',
    );
  });

  it('marks a cached answer as a cache hit with only its own total', () => {
    expect(serverTiming({ ...timings, total: 0.4 }, true)).toBe('cache;desc=hit, total;dur=0.4');
  });
});
