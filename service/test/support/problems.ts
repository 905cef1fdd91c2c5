import { ProblemError } from '../../src/common/problem/problem.error';

/** The ProblemError an action throws; fails the test if it throws anything else or nothing. */
export function problemOf(action: () => unknown): ProblemError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    return error as ProblemError;
  }
  throw new Error('expected a problem');
}

/** The ProblemError a promise rejects with; fails the test if it rejects with anything else. */
export async function problemOfRejection(promise: Promise<unknown>): Promise<ProblemError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProblemError);
  return error as ProblemError;
}
