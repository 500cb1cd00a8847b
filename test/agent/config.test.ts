/** parseAgentArgs(): flags whose values become timer delays stay under Node's 2^31-1 ms limit. */
import { parseAgentArgs } from '../../src/agent/config.js';

const base = ['--init', '--data-dir', '/tmp/shoal-config-test'];

describe('parseAgentArgs()', () => {
  it.each([
    ['--node-grace-ms', '3000000000', 604_800_000],
    ['--voter-grace-ms', '3000000000', 604_800_000],
    ['--tick-ms', '3000000000', 60_000],
  ])('parseAgentArgs() refuses %s %s (a timer delay past 24.8 days fires at once)', (flag, value, max) => {
    expect(() => parseAgentArgs([...base, flag, value], {})).toThrow(
      `${flag}: expected a positive integer of at most ${max}, got "${value}"`,
    );
  });

  it('parseAgentArgs() takes a grace period of a week', () => {
    expect(parseAgentArgs([...base, '--node-grace-ms', '604800000'], {})).toMatchObject({
      nodeDownGraceMs: 604_800_000,
    });
  });

  it('parseAgentArgs() reads --image-update-ms, the cluster default of x-shoal.image_update (at least 5 s)', () => {
    expect(parseAgentArgs([...base, '--image-update-ms', '30000'], {})).toMatchObject({ imageUpdateMs: 30_000 });
    expect(parseAgentArgs(base, {})).not.toHaveProperty('imageUpdateMs');
    expect(() => parseAgentArgs([...base, '--image-update-ms', '1000'], {})).toThrow(
      '--image-update-ms: expected at least 5000, got 1000',
    );
  });
});
