import {
  ago,
  buildDeployRequest,
  defaultStackName,
  findEnvFiles,
  humanDuration,
  parseDotEnv,
  topLevelName,
} from '../../src/cli/index.js';

describe('findEnvFiles()', () => {
  it.each([
    ['services:\n  a:\n    env_file: app.env\n', ['app.env']],
    ['services:\n  a:\n    env_file: "./app.env"  # comment\n', ['./app.env']],
    ['services:\n  a:\n    env_file: [a.env, "b.env"]\n', ['a.env', 'b.env']],
    ['services:\n  a:\n    env_file:\n      - a.env\n      # note\n      - b.env\n    image: x\n', ['a.env', 'b.env']],
    [
      'services:\n  a:\n    env_file:\n      - path: a.env\n        required: false\n        format: raw\n      - b.env\n',
      ['a.env', 'b.env'],
    ],
    ['services:\n  a:\n    env_file: ${STAGE:-dev}.env\n  b:\n    env_file: app.env\n', ['dev.env', 'app.env']],
    ['services:\n  a:\n    env_file: app.env\n  b:\n    env_file: app.env\n', ['app.env']],
    ['# env_file: no.env\nservices:\n  a:\n    image: x\n', []],
  ])('findEnvFiles(%j) is %j', (compose, expected) => {
    expect(findEnvFiles(compose, {})).toEqual(expected);
  });

  it('findEnvFiles() fills ${VAR} and $VAR from the environment', () => {
    expect(findEnvFiles('    env_file: ${STAGE:-dev}/$APP.env\n', { STAGE: 'prod', APP: 'api' })).toEqual([
      'prod/api.env',
    ]);
  });
});

describe('parseDotEnv()', () => {
  it('reads KEY=VALUE lines, quotes, export and comments', () => {
    const text = '# c\nA=1\nexport B = two words # note\nC="x \\"y\\"\\nz"\nD=\'$literal\'\nBARE\nE=\n';
    expect(parseDotEnv(text)).toEqual({ A: '1', B: 'two words', C: 'x "y"\nz', D: '$literal', E: '' });
  });
});

describe('stack names', () => {
  it.each([
    ['/srv/Shop.App', 'shopapp'],
    ['/srv/my_stack-2', 'my_stack-2'],
    ['/srv/__x', 'x'],
    ['/srv/...', ''],
  ])('defaultStackName(%j) is %j', (dir, name) => {
    expect(defaultStackName(dir)).toBe(name);
  });

  it('topLevelName() reads a plain top-level name: and ignores nested or interpolated ones', () => {
    expect(topLevelName('name: "shop"\nservices: {}\n')).toBe('shop');
    expect(topLevelName('services:\n  a:\n    name: x\n')).toBeUndefined();
    expect(topLevelName('name: ${NAME}\n')).toBeUndefined();
  });

  it('buildDeployRequest() refuses a directory that gives no name', () => {
    const read = (path: string) => (path === '/srv/.../compose.yml' ? 'services: {}\n' : undefined);
    expect(() => buildDeployRequest('/srv/.../compose.yml', { env: {}, read })).toThrow(/give --name NAME/);
  });
});

describe('humanDuration()', () => {
  it.each([
    [500, 'Less than a second'],
    [1000, '1 second'],
    [59_000, '59 seconds'],
    [60_000, 'About a minute'],
    [150_000, '2 minutes'],
    [3_600_000, 'About an hour'],
    [5 * 3_600_000, '5 hours'],
    [3 * 86_400_000, '3 days'],
    [20 * 86_400_000, '2 weeks'],
    [90 * 86_400_000, '3 months'],
    [800 * 86_400_000, '2 years'],
  ])('humanDuration(%d) is %j', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('ago() reads a time in the future as just now', () => {
    expect(ago(2000, 1000)).toBe('Less than a second ago');
  });
});
