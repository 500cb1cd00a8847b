/** Fixed-point score arithmetic. */

/**
 * Weighted score terms in millionths of a point, rounded to integers: sums of them are exact, so
 * equal placements tie exactly (and are broken by the documented tie-breakers, not by float noise)
 * whatever order the candidate tree adds them in.
 */
export function quantize(weighted: number): number {
  return Math.round(weighted * 1e6);
}
