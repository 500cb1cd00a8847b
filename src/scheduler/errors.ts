/** Errors of the scheduler's input parsers. Placement failures are results (`Unplaced`), not errors. */

/** A constraint or preference expression that does not parse; `expression` is the offending text. */
export class ConstraintSyntaxError extends SyntaxError {
  override readonly name = 'ConstraintSyntaxError';
  readonly expression: string;
  constructor(expression: string, problem: string, options?: ErrorOptions) {
    super(`Cannot parse constraint ${JSON.stringify(expression)}: ${problem}`, options);
    this.expression = expression;
  }
}

/** A task request whose numbers cannot be scheduled (negative reservations, a bad port...). */
export class InvalidTaskError extends RangeError {
  override readonly name = 'InvalidTaskError';
  readonly taskId: string;
  constructor(taskId: string, problem: string, options?: ErrorOptions) {
    super(`Cannot schedule task ${JSON.stringify(taskId)}: ${problem}`, options);
    this.taskId = taskId;
  }
}
