/**
 * Errors of cron schedules.
 * @module
 */

/** A cron expression that cannot be read. `reason` is the bare reason, as `cronError()` words it. */
export class CronSyntaxError extends Error {
  override readonly name = 'CronSyntaxError';
  readonly expression: string;
  readonly reason: string;

  constructor(expression: string, reason: string) {
    super(`invalid cron schedule ${JSON.stringify(expression)}: ${reason}`);
    this.expression = expression;
    this.reason = reason;
  }
}

/** A valid cron expression whose days never occur (`0 0 30 2 *`: there is no 30 February). */
export class CronNeverFiresError extends Error {
  override readonly name = 'CronNeverFiresError';
  readonly expression: string;

  constructor(expression: string) {
    super(
      `cron schedule ${JSON.stringify(expression)} never fires: no month it names has the days it names; ` +
        'check the day-of-month and month fields',
    );
    this.expression = expression;
  }
}
