import {
  ADMIN_TOKEN_PREFIX,
  bearerToken,
  createAdminToken,
  hashAdminToken,
  isAdminTokenShape,
  verifyAdminToken,
} from '../../src/security/index.js';

const token = createAdminToken();
const hash = hashAdminToken(token);

describe('createAdminToken()', () => {
  it('makes distinct, recognisable tokens', () => {
    expect(token.startsWith(ADMIN_TOKEN_PREFIX)).toBe(true);
    expect(isAdminTokenShape(token)).toBe(true);
    expect(createAdminToken()).not.toBe(token);
  });
});

describe('verifyAdminToken()', () => {
  it('accepts the token whose hash is stored', () => {
    expect(verifyAdminToken(token, hash)).toBe(true);
  });

  it.each([
    ['another token', createAdminToken()],
    ['a prefix of the token', token.slice(0, -1)],
    ['the token with a suffix', `${token}x`],
    ['the hash itself', hash],
    ['an empty string', ''],
    ['undefined', undefined],
    ['null', null],
  ])('refuses %s', (_what, presented) => {
    expect(verifyAdminToken(presented, hash)).toBe(false);
  });

  it('refuses everything when the stored hash is malformed', () => {
    expect(verifyAdminToken(token, 'nothex')).toBe(false);
  });
});

describe('bearerToken()', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [undefined, undefined],
  ])('bearerToken(%j) is %j', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});
