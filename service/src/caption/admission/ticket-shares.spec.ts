import { shareTicket } from './ticket-shares';

describe('shareTicket', () => {
  const ticket = () => {
    const controller = new AbortController();
    const left = jest.fn();
    return { signal: controller.signal, deadlineAt: 1234, leaveIntake: left, controller, left };
  };

  it('leaves intake once, when the last share has, whatever the order', () => {
    const request = ticket();
    const [a, b, c] = shareTicket(request, 3);
    b.leaveIntake();
    a.leaveIntake();
    a.leaveIntake(); // twice counts once
    expect(request.left).not.toHaveBeenCalled();
    c.leaveIntake();
    expect(request.left).toHaveBeenCalledTimes(1);
  });

  it("gives every share the request's signal and deadline, and says when each left", async () => {
    const request = ticket();
    const shares = shareTicket(request, 2);
    expect(shares.map((s) => [s.signal, s.deadlineAt])).toEqual([
      [request.signal, 1234],
      [request.signal, 1234],
    ]);
    let firstLeft = false;
    void shares[0].leftIntake.then(() => (firstLeft = true));
    await Promise.resolve();
    expect(firstLeft).toBe(false);
    shares[0].leaveIntake();
    await shares[0].leftIntake;
    expect(firstLeft).toBe(true);
  });
});
