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

describe('validateBody() for enums, maps and lists', () => {
  const schema = {
    mode: { type: 'string', optional: true, values: ['a', 'b'] },
    env: { type: 'stringMap', optional: true, maxEntries: 2, maxLength: 5 },
    keys: { type: 'stringList', optional: true, maxEntries: 2 },
  } as const;

  it('returns valid values as given', () => {
    const body = { mode: 'b', env: { A: '', B: 'x' }, keys: ['k'] };
    expect(validateBody(body, schema)).toEqual(body);
  });

  it.each([
    [{ mode: 'c' }, 'body.mode: expected one of a, b, got "c"'],
    [{ env: ['A'] }, 'body.env: expected an object of strings, got an array'],
    [{ env: { A: 1 } }, 'body.env.A: expected a string, got 1'],
    [{ env: { A: 'toolong' } }, 'body.env.A: expected at most 5 characters, got "toolong"'],
    [{ env: { A: '', B: '', C: '' } }, 'body.env: expected at most 2 entries, got 3'],
    [{ keys: 'k' }, 'body.keys: expected an array of strings, got "k"'],
    [{ keys: ['k', 2] }, 'body.keys[1]: expected a non-empty string, got 2'],
  ])('refuses %j: %s', (body, message) => {
    expect(() => validateBody(body, schema)).toThrow(message);
  });
});

describe('validateQuery()', () => {
  it.each([
    ['tail=25', { tail: 25 }],
    ['', {}],
  ])('parses integers in %j', (query, expected) => {
    expect(validateQuery(new URLSearchParams(query), { tail: { type: 'integer', optional: true, min: 0 } })).toEqual(
      expected,
    );
  });

  it.each(['tail=1e3', 'tail=%205', 'tail=-1', 'tail='])('refuses %j as an integer', (query) => {
    expect(() =>
      validateQuery(new URLSearchParams(query), { tail: { type: 'integer', optional: true, min: 0 } }),
    ).toThrow(/^query\.tail: /);
  });

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
