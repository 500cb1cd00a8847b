import { encode } from 'cbor-x';
import {
  COMMAND_TYPES,
  InvalidCommandError,
  decodeCommand,
  encodeCommand,
  validateCommand,
  type Command,
} from '../../src/state/index.js';
import { T0, init, peerId, register, tokenFields } from './helpers.js';

const id = peerId(1);

const valid: Array<[string, Command]> = [
  ['cluster.init', init()],
  ['node.register', register(1)],
  [
    'node.register with a GPU',
    register(2, T0, {
      resources: {
        cpus: 64,
        memoryBytes: 2 ** 40,
        gpus: [{ index: 0, uuid: 'GPU-262bb9d6', name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 2 ** 20 }],
      },
    }),
  ],
  ['node.update of addresses', { v: 1, type: 'node.update', id, addresses: ['/ip4/10.0.0.9/tcp/7946'], at: T0 }],
  [
    'node.update of everything',
    {
      v: 1,
      type: 'node.update',
      id,
      hostname: 'h',
      addresses: [],
      labels: {},
      resources: { cpus: 1, memoryBytes: 1, gpus: [] },
      version: '0.2.0',
      at: T0,
    },
  ],
  ['node.setAvailability', { v: 1, type: 'node.setAvailability', id, availability: 'drain', at: T0 }],
  ['node.labels', { v: 1, type: 'node.labels', id, add: { 'gpu.kind': 'h100' }, remove: ['zone'], at: T0 }],
  ['node.remove', { v: 1, type: 'node.remove', id, at: T0 }],
  ['token.rotate', { v: 1, type: 'token.rotate', ...tokenFields(1), at: T0 }],
  ['settings.set', { v: 1, type: 'settings.set', targetVoters: 5, at: T0 }],
];

describe('validateCommand()', () => {
  it.each(valid)('accepts %s', (_what, command) => {
    expect(validateCommand(command)).toEqual(command);
  });

  it('returns a copy without references to the input', () => {
    const input = register(1);
    const checked = validateCommand(input) as typeof input;
    expect(checked.labels).not.toBe(input.labels);
    expect(checked.addresses).not.toBe(input.addresses);
  });

  const base = register(1) as unknown as Record<string, unknown>;
  it.each<[string, unknown, string]>([
    ['a number', 3, 'command: expected an object, got 3'],
    ['a list', [], 'command: expected an object, got a list'],
    [
      'an unknown type',
      { v: 1, type: 'node.heartbeat', at: T0 },
      // Every type of the table, in its order (other issues add theirs).
      `command: type: expected one of ${COMMAND_TYPES.map((t) => JSON.stringify(t)).join(', ')}, got "node.heartbeat"`,
    ],
    [
      'a label value that is not a string',
      { ...base, labels: { zone: 3 } },
      'node.register: labels.zone: expected a string, got 3',
    ],
    [
      'a "__proto__" label',
      { ...base, labels: JSON.parse('{"__proto__":"x"}') },
      'node.register: labels.__proto__: is not allowed as a key',
    ],
    ['a bad label key', { ...base, labels: { '-x': 'y' } }, 'node.register: labels.-x: expected a label key'],
    [
      'a future version',
      { ...base, v: 2 },
      'node.register: v: expected command format version 1, got 2: is this node running an older shoal',
    ],
    ['no version', { ...base, v: undefined }, 'node.register: v: is required'],
    [
      'an unknown field',
      { ...base, color: 'red' },
      'node.register: color: unknown field (expected v, type, at, rid, id, hostname',
    ],
    ['a missing field', { ...base, hostname: undefined }, 'node.register: hostname: is required'],
    [
      'a bad peer id',
      { ...base, id: 'not a peer id' },
      'node.register: id: expected a libp2p peer id (16-128 letters and digits), got "not a peer id"',
    ],
    [
      'a bad address',
      { ...base, addresses: ['10.0.0.1:7946'] },
      'node.register: addresses[0]: expected a multiaddr such as "/ip4/10.0.0.5/tcp/7946", got "10.0.0.1:7946"',
    ],
    [
      'a duplicate address',
      { ...base, addresses: ['/ip4/1.2.3.4/tcp/1', '/ip4/1.2.3.4/tcp/1'] },
      'node.register: addresses[1]: duplicate address "/ip4/1.2.3.4/tcp/1"',
    ],
    [
      'fractional memory',
      { ...base, resources: { cpus: 1, memoryBytes: 1.5, gpus: [] } },
      'node.register: resources.memoryBytes: expected an integer >= 0, got 1.5',
    ],
    [
      'a GPU without uuid',
      { ...base, resources: { cpus: 1, memoryBytes: 1, gpus: [{ index: 0, name: 'x', memoryBytes: 1 }] } },
      'node.register: resources.gpus[0].uuid: is required',
    ],
    [
      'two GPUs with one index',
      {
        ...base,
        resources: {
          cpus: 1,
          memoryBytes: 1,
          gpus: [
            { index: 0, uuid: 'GPU-a', name: 'x', memoryBytes: 1 },
            { index: 0, uuid: 'GPU-b', name: 'x', memoryBytes: 1 },
          ],
        },
      },
      'node.register: resources.gpus[1]: duplicate GPU index 0',
    ],
    [
      'a bad voter hint',
      { ...base, roles: { voter: 'always', workloads: true } },
      'node.register: roles.voter: expected one of "auto", "prefer", "never", got "always"',
    ],
    ['a negative time', { ...base, at: -1 }, 'node.register: at: expected an integer >= 0, got -1'],
    [
      'a time as a string',
      { ...base, at: '2026-01-01' },
      'node.register: at: expected an integer >= 0, got "2026-01-01"',
    ],
    ['an empty update', { v: 1, type: 'node.update', id, at: T0 }, 'node.update: nothing to update'],
    [
      'a bad availability',
      { v: 1, type: 'node.setAvailability', id, availability: 'down', at: T0 },
      'node.setAvailability: availability: expected one of "active", "drain", "pause", got "down"',
    ],
    ['an empty label change', { v: 1, type: 'node.labels', id, at: T0 }, 'node.labels: nothing to change'],
    [
      'a label both added and removed',
      { v: 1, type: 'node.labels', id, add: { a: '1' }, remove: ['a'], at: T0 },
      'node.labels: remove[0]: label "a" is both added and removed',
    ],
    [
      'a non-hex token key',
      { v: 1, type: 'token.rotate', tokenKey: 'x'.repeat(64), fingerprint: '0'.repeat(16), at: T0 },
      'token.rotate: tokenKey: expected 64 lowercase hex characters',
    ],
    [
      'a fingerprint of another key',
      {
        v: 1,
        type: 'token.rotate',
        tokenKey: tokenFields(1).tokenKey,
        fingerprint: tokenFields(2).fingerprint,
        at: T0,
      },
      'token.rotate: fingerprint: does not match tokenKey',
    ],
    [
      'a bad cluster id',
      { ...init(), clusterId: 'ABC' },
      'cluster.init: clusterId: expected 16 characters a-z, 2-7, got "ABC"',
    ],
    [
      '4 voters',
      { v: 1, type: 'settings.set', targetVoters: 4, at: T0 },
      'settings.set: targetVoters: expected one of 3, 5, got 4',
    ],
    [
      'a grace in seconds',
      { v: 1, type: 'settings.set', nodeDownGraceMs: 30, at: T0 },
      'settings.set: nodeDownGraceMs: expected an integer in 1000..604800000, got 30',
    ],
    ['an empty settings change', { v: 1, type: 'settings.set', at: T0 }, 'settings.set: nothing to set'],
  ])('refuses %s', (_what, input, message) => {
    let error: unknown;
    try {
      validateCommand(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidCommandError);
    expect((error as Error).message.startsWith(message)).toBe(true);
  });

  it('names the path and type on the error object', () => {
    try {
      validateCommand({ ...base, labels: { zone: 3 } });
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toMatchObject({
        commandType: 'node.register',
        path: 'labels.zone',
        detail: 'expected a string, got 3',
      });
    }
  });
});

describe('encodeCommand() and decodeCommand()', () => {
  it.each(valid)('round-trip %s', (_what, command) => {
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
  });

  it('encode the same command to the same bytes whatever the key order', () => {
    const a = register(1);
    const b = Object.fromEntries(Object.entries(a).reverse()) as unknown as Command;
    expect(Buffer.from(encodeCommand(b)).equals(Buffer.from(encodeCommand(a)))).toBe(true);
  });

  it('refuse to encode an invalid command', () => {
    expect(() => encodeCommand({ ...register(1), hostname: '' })).toThrow(/node.register: hostname: must not be empty/);
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['empty bytes', new Uint8Array(), /^command: not valid CBOR/],
    ['truncated CBOR', encodeCommand(register(1)).slice(0, 20), /^command: not valid CBOR/],
    ['a CBOR string', new Uint8Array(encode('hello')), /^command: expected an object, got "hello"/],
    [
      'a CBOR map with a bad field',
      new Uint8Array(encode({ ...register(1), labels: { zone: 3 } })),
      /^node.register: labels.zone: expected a string, got 3$/,
    ],
  ])('decodeCommand() refuses %s', (_what, bytes, message) => {
    expect(() => decodeCommand(bytes)).toThrow(InvalidCommandError);
    expect(() => decodeCommand(bytes)).toThrow(message);
  });
});
