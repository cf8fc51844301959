/**
 * @file The library's one error type. Every check that rejects user input throws a
 * `ChainruleError` whose message names the operation, the offending argument and what was
 * expected, so a caller can tell our errors from bugs (a TypeError from deep inside).
 */

export class ChainruleError extends Error {
  /** The operation that refused its input, e.g. `"matmul"`. */
  readonly op: string;

  /** `options.cause`: the error underneath, when there is one (a Node file error, …). */
  constructor(op: string, message: string, options?: { cause?: unknown }) {
    super(`${op}: ${message}`, options);
    this.name = "ChainruleError";
    this.op = op;
  }
}
