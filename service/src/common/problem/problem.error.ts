import { PROBLEMS, ProblemCode } from './problem-catalog';

/** One bad input, named: a field of the request and what is wrong with it. */
export interface FieldError {
  field: string;
  message: string;
}

/** An error the API reports as it is: status, code and a human-readable detail. */
export class ProblemError extends Error {
  readonly status: number;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extras: { headers?: Record<string, string>; fields?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.status = PROBLEMS[code].status;
  }
}
