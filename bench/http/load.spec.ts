import { percentile, poissonArrivals } from './load';

describe('poissonArrivals', () => {
  it('offers the asked rate on average, in order, within the duration, the same every run', () => {
    const times = poissonArrivals(10, 200);
    expect(times.length).toBeGreaterThan(1800);
    expect(times.length).toBeLessThan(2200);
    expect(times.every((t, i) => t > 0 && t < 200 && (i === 0 || t > times[i - 1]))).toBe(true);
    expect(poissonArrivals(10, 200)).toEqual(times);
    expect(poissonArrivals(10, 200, 2)).not.toEqual(times);
  });

  it('has exponential gaps: about 37% of them longer than the mean', () => {
    const times = poissonArrivals(5, 400);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const longer = gaps.filter((g) => g > 1 / 5).length / gaps.length;
    expect(longer).toBeGreaterThan(0.33);
    expect(longer).toBeLessThan(0.41);
  });
});

describe('percentile', () => {
  it('is the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([3], 99)).toBe(3);
    expect(percentile([], 50)).toBeNaN();
  });
});
