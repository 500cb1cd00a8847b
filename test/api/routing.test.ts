import { ApiError, Router, isLoopbackHost, validateBody, validateQuery, type Route } from '../../src/api/index.js';

const route = (method: Route['method'], path: string): Route => ({ method, path, handle: async () => path });

describe('Router', () => {
  const router = new Router([
    route('GET', '/v1/nodes'),
    route('DELETE', '/v1/nodes/:id'),
    route('GET', '/v1/nodes/:id'),
  ]);

  it('match() finds a route and its parameters', () => {
    const match = router.match('DELETE', '/v1/nodes/abc');
    expect(match).toMatchObject({ kind: 'found', params: { id: 'abc' } });
  });

  it('match() reports the allowed methods of a known path', () => {
    expect(router.match('PUT', '/v1/nodes/abc')).toEqual({ kind: 'method', allowed: ['DELETE', 'GET'] });
  });

  it('match() finds nothing for an unknown path or a malformed escape', () => {
    expect(router.match('GET', '/v1/nodes/a/b')).toEqual({ kind: 'none' });
    expect(router.match('GET', '/v1/nodes/%E0%A4%A')).toEqual({ kind: 'none' });
  });

  it('add() refuses a route that an existing one already matches', () => {
    expect(() => router.add(route('GET', '/v1/nodes/:name'))).toThrow(/already matches it/);
  });
});

describe('validateBody()', () => {
  const schema = {
    name: { type: 'string', optional: true, maxLength: 3 },
    count: { type: 'integer', min: 1 },
    on: { type: 'boolean', optional: true },
  } as const;

  it('returns the checked fields', () => {
    expect(validateBody({ count: 2, on: true }, schema)).toEqual({ count: 2, on: true });
  });

  it.each([
    [{ count: 0 }, 'body.count: expected an integer in [1, 9007199254740991], got 0'],
    [{ count: 1.5 }, 'body.count: expected an integer in [1, 9007199254740991], got 1.5'],
    [{ count: 1, name: 'long' }, 'body.name: expected at most 3 characters, got "long"'],
    [{ count: 1, on: 'yes' }, 'body.on: expected true or false, got "yes"'],
    [{ count: 1, name: 'x'.repeat(50) }, 'body.name: expected at most 3 characters, got a string of 50 characters'],
    [null, 'body: expected a JSON object, got null'],
  ])('refuses %j: %s', (body, message) => {
    let error: unknown;
    try {
      validateBody(body, schema);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toBe(message);
  });

  it('treats a missing body as an empty object', () => {
    expect(validateBody(undefined, { to: { type: 'string', optional: true } })).toEqual({});
  });
});

describe('validateQuery()', () => {
  it.each([
    ['', false],
    ['stale', true],
    ['stale=1', true],
    ['stale=TRUE', true],
    ['stale=no', false],
  ])('reads the flag in %j as %s', (query, expected) => {
    expect(validateQuery(new URLSearchParams(query), { stale: { type: 'flag' } })).toEqual({ stale: expected });
  });
});

describe('isLoopbackHost()', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['example.com', false],
    ['127.0.0.1.example.com', false],
  ])('isLoopbackHost(%j) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
