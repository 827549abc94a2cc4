/** A validation problem located at a path in the request (JSON Pointer or dotted path). */
export interface ProblemField {
  path: string;
  message: string;
}

/** RFC 9457 problem details, as served with `application/problem+json`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: ProblemField[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Stable problem type URIs; clients switch on these, so published values never change. */
export const problemType = (slug: string): string => `urn:flotilla:problem:${slug}`;

/**
 * An error that maps to one problem type. Use cases throw these; the global filter renders
 * them, so no code classifies errors by message text.
 */
export class ProblemException extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly errors?: ProblemField[],
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ProblemException';
  }
}
