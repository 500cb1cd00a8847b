import { describe, expect, it } from '@jest/globals';
import { canonicalJson, hashService, hashStack } from '../../src/stack/index.js';
import { parseOk } from './helpers.js';

const BASE = `services:
  api:
    image: api:1
    command: serve --port 80
    environment:
      A: "1"
      B: "2"
    ports: ["8080:80", "9090:90"]
    volumes: ["./data:/data:ro", "cache:/cache"]
    deploy:
      replicas: 3
      resources:
        limits: {cpus: '0.5', memory: 512M}
volumes:
  cache:
`;

// The same service written differently: key order, list vs map forms, long syntax, units.
const EQUIVALENT = `volumes:
  cache: {}
services:
  api:
    deploy:
      resources:
        limits: {memory: 524288k, cpus: 0.5}
      replicas: 3
    volumes:
      - type: volume
        source: cache
        target: /cache
      - type: bind
        source: ./data
        target: /data
        read_only: true
    ports:
      - target: 90
        published: 9090
      - "8080:80"
    environment:
      - B=2
      - A=1
    command: ["serve", "--port", "80"]
    image: api:1
`;

const hashOf = (text: string) => hashService(parseOk(text, { file: '/srv/app/compose.yml' }).services.api!);

describe('canonicalJson()', () => {
  it.each([
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ a: [3, 1, { z: null, y: undefined }] }, '{"a":[3,1,{"z":null}]}'],
    ['x"y', '"x\\"y"'],
    [-0, '0'],
  ])('canonicalJson(%p) is %p', (value, json) => {
    expect(canonicalJson(value)).toBe(json);
  });

  it.each([[NaN], [Infinity], [() => 1], [10n]])('canonicalJson(%p) throws a TypeError', (value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });
});

describe('hashService()', () => {
  it('is a stable hex SHA-256', () => {
    expect(hashOf(BASE)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf(BASE)).toBe(hashOf(BASE));
  });

  it('is the same for key order and equivalent syntax', () => {
    expect(hashOf(EQUIVALENT)).toBe(hashOf(BASE));
  });

  it.each([
    ['a changed replica count', BASE.replace('replicas: 3', 'replicas: 4')],
    ['a changed image', BASE.replace('image: api:1', 'image: api:2')],
    ['a changed env value', BASE.replace('B: "2"', 'B: "3"')],
    ['a changed command order', BASE.replace('serve --port 80', 'serve 80 --port')],
    ['a changed memory limit', BASE.replace('512M', '1g')],
    ['a read-write mount', BASE.replace('./data:/data:ro', './data:/data')],
  ])('changes with %s', (_what, text) => {
    expect(hashOf(text)).not.toBe(hashOf(BASE));
  });

  it('does not depend on how the object was built', () => {
    const spec = parseOk(BASE).services.api!;
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as typeof spec;
    expect(hashService(reordered)).toBe(hashService(spec));
  });
});

describe('hashStack()', () => {
  it('ignores key order across the stack and sees a changed service', () => {
    const a = parseOk(BASE, { file: '/srv/app/compose.yml' });
    const b = parseOk(EQUIVALENT, { file: '/srv/app/compose.yml' });
    expect(hashStack(b)).toBe(hashStack(a));
    expect(hashStack(parseOk(BASE.replace('replicas: 3', 'replicas: 1'), { file: '/srv/app/compose.yml' }))).not.toBe(
      hashStack(a),
    );
  });
});
