import { describe, expect, it } from '@jest/globals';
import { metricSum } from '../../src/autoscale/prometheus-text.js';

const TEXT = `# HELP jobs_in_flight Jobs being worked on.
# TYPE jobs_in_flight gauge
jobs_in_flight{queue="a b}",shard="1"} 3
jobs_in_flight{queue="c\\"d"} 4.5 1700000000000
jobs_in_flight_total 100
other 7
jobs_in_flight{queue="nan"} NaN
`;

describe('metricSum()', () => {
  it.each([
    ['sums every label set of the name, not names that only start with it', 'jobs_in_flight', 7.5],
    ['reads a metric without labels', 'other', 7],
    ['says null for a name the text does not have', 'missing', null],
    ['a name that is a prefix of another is that name only', 'jobs_in_flight_total', 100],
  ])('%s', (_what, name, sum) => {
    expect(metricSum(TEXT, name)).toBe(sum);
  });

  it('skips a line cut in its labels', () => {
    expect(metricSum('q{a="1" 5\nq 2\n', 'q')).toBe(2);
  });
});
