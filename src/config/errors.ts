/**
 * An error meant for the person running ml-connector: the CLI prints its message as one paragraph
 * (no stack trace) and exits non-zero. The message says what is wrong and what to do.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
