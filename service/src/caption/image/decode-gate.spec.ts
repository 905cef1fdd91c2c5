import { DecodeGate, Release } from './decode-gate';

const never = () => new AbortController().signal;
const flush = () => new Promise((r) => setImmediate(r));

describe('DecodeGate', () => {
  it('runs at most `slots` decodes at once, then the next in arrival order', async () => {
    const gate = new DecodeGate(2, 1000);
    const granted: number[] = [];
    const releases: Release[] = [];
    for (let i = 0; i < 4; i++) {
      void gate.acquire(10, never()).then((release) => {
        granted.push(i);
        releases.push(release);
      });
    }
    await flush();
    expect(granted).toEqual([0, 1]);
    expect(gate.stats).toEqual({ running: 2, waiting: 2, reservedBytes: 20 });
    releases[0]();
    releases[0](); // a second call frees nothing more
    await flush();
    expect(granted).toEqual([0, 1, 2]);
    expect(gate.stats.running).toBe(2);
  });

  it('holds reservations within memoryBytes, a large one not overtaken by small ones', async () => {
    const gate = new DecodeGate(8, 100);
    const order: string[] = [];
    const first = await gate.acquire(60, never());
    void gate.acquire(50, never()).then(() => order.push('large'));
    void gate.acquire(10, never()).then(() => order.push('small'));
    await flush();
    expect(order).toEqual([]); // 60 + 50 > 100, and the small one waits its turn
    first();
    await flush();
    expect(order).toEqual(['large', 'small']);
    expect(gate.stats.reservedBytes).toBe(60);
  });

  it('drops a waiter whose signal aborts, with the signal reason, and serves the next', async () => {
    const gate = new DecodeGate(1, 100);
    const running = await gate.acquire(90, never());
    const client = new AbortController();
    const gone = gate.acquire(50, client.signal);
    const next = gate.acquire(5, never());
    client.abort(new Error('client left'));
    await expect(gone).rejects.toThrow('client left');
    expect(gate.stats.waiting).toBe(1);
    running();
    await expect(next).resolves.toEqual(expect.any(Function));
  });

  it('refuses what could never fit, and an already aborted signal', async () => {
    const gate = new DecodeGate(1, 100);
    await expect(gate.acquire(101, never())).rejects.toBeInstanceOf(RangeError);
    const aborted = new AbortController();
    aborted.abort(new Error('deadline'));
    await expect(gate.acquire(1, aborted.signal)).rejects.toThrow('deadline');
    expect(gate.stats).toEqual({ running: 0, waiting: 0, reservedBytes: 0 });
  });

  it('estimates the wait from the decodes ahead and the recent time per decode', async () => {
    const gate = new DecodeGate(2, 1000);
    expect(gate.expectedWaitSeconds()).toBe(0);
    const now = jest.spyOn(performance, 'now').mockReturnValue(0);
    const first = await gate.acquire(1, never());
    now.mockReturnValue(1050); // that decode took 1.05 s: pace 0.8 x 0.05 + 0.2 x 1.05 = 0.25 s
    first();
    now.mockRestore();
    await gate.acquire(1, never());
    await gate.acquire(1, never());
    void gate.acquire(1, never());
    expect(gate.expectedWaitSeconds()).toBeCloseTo((3 * 0.25) / 2);
  });
});
