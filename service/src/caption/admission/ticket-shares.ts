import { AdmissionTicket } from './admitted-request';

/** One image's share of its request's admission (a batch's file). */
export interface TicketShare extends AdmissionTicket {
  /** Settles once this image has left intake: decoded, answered from the cache, or failed. */
  readonly leftIntake: Promise<void>;
}

/**
 * Splits one request's admission among its `count` images: each share carries the request's
 * deadline and abort signal, and the request leaves intake (its slot and upload bytes are freed)
 * when the last of its images has.
 */
export function shareTicket(ticket: AdmissionTicket, count: number): TicketShare[] {
  let inIntake = count;
  return Array.from({ length: count }, () => {
    let left = false;
    let settle!: () => void;
    const leftIntake = new Promise<void>((resolve) => (settle = resolve));
    return {
      signal: ticket.signal,
      deadlineAt: ticket.deadlineAt,
      leftIntake,
      leaveIntake: () => {
        if (left) return;
        left = true;
        settle();
        if (--inIntake === 0) ticket.leaveIntake();
      },
    };
  });
}
