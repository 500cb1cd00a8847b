import { ConstraintSyntaxError, matchConstraint, parseAttribute, parseConstraint } from '../../src/scheduler/index.js';
import { node } from './fixtures.js';

describe('parseConstraint()', () => {
  it.each([
    ['node.labels.zone==eu', 'node.labels.zone', '==', 'eu', { kind: 'label', name: 'zone' }],
    ['  node.role != manager ', 'node.role', '!=', 'manager', { kind: 'role' }],
    ['NODE.HOSTNAME==web-1', 'NODE.HOSTNAME', '==', 'web-1', { kind: 'hostname' }],
    ['node.id==12D3KooWabc', 'node.id', '==', '12D3KooWabc', { kind: 'id' }],
    ['engine.labels.storage==ssd', 'engine.labels.storage', '==', 'ssd', { kind: 'engineLabel', name: 'storage' }],
    ['node.platform.arch==x86_64', 'node.platform.arch', '==', 'x86_64', { kind: 'arch' }],
    [
      'node.labels.com.example.rack==r 1',
      'node.labels.com.example.rack',
      '==',
      'r 1',
      { kind: 'label', name: 'com.example.rack' },
    ],
  ])('parses %j', (text, key, operator, value, attribute) => {
    expect(parseConstraint(text)).toEqual({ text: text.trim(), key, operator, value, attribute });
  });

  it.each([
    ['node.labels.zone', /expected one operator from ==, !=, as in node.labels.zone==eu/],
    ['node.role=manager', /expected one operator from ==, != \(did you mean "=="\?\)/],
    ['node.labels.cpus>4', /\(only == and != are supported\)/],
    ['==eu', /the key is empty/],
    ['node.labels.zone==', /the value after "==" is empty/],
    ['node.lables.zone==eu', /unknown key "node.lables.zone"; expected node.id, node.hostname/],
    ['zone==eu', /unknown key "zone"/],
    ['node.labels.==eu', /the label name after "node.labels." is empty/],
    ['node.labels.zone==eu==us', /value "eu==us" contains "=", which is not allowed/],
    ['node.labels.zone==eu!=us', /value "eu!=us" contains "!"/],
    ['node labels zone==eu', /key "node labels zone" contains characters other than/],
  ])('rejects %j saying what is wrong', (text, message) => {
    const attempt = () => parseConstraint(text);
    expect(attempt).toThrow(ConstraintSyntaxError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(`Cannot parse constraint ${JSON.stringify(text)}: `);
  });

  it('keeps the offending expression on the error', () => {
    try {
      parseConstraint('bogus');
      throw new Error('unreachable');
    } catch (error) {
      expect(error).toBeInstanceOf(ConstraintSyntaxError);
      expect((error as ConstraintSyntaxError).expression).toBe('bogus');
      expect((error as Error).name).toBe('ConstraintSyntaxError');
    }
  });
});

describe('parseAttribute()', () => {
  it('parses preference targets', () => {
    expect(parseAttribute('node.labels.zone')).toEqual({ kind: 'label', name: 'zone' });
  });
  it('rejects unknown targets', () => {
    expect(() => parseAttribute('node.zone')).toThrow(/unknown key "node.zone"/);
  });
});

describe('matchConstraint()', () => {
  const n = node('n1', { hostname: 'Alpha', labels: { zone: 'EU' } });
  it.each([
    ['node.hostname==alpha', true],
    ['node.labels.zone==eu', true],
    ['node.labels.zone!=eu', false],
    ['node.labels.rack==', undefined],
    ['node.labels.rack!=x', true],
    ['node.role==manager', false],
  ])('%s on a worker in zone EU is %j', (text, expected) => {
    if (expected === undefined) {
      expect(() => parseConstraint(text)).toThrow(ConstraintSyntaxError);
      return;
    }
    expect(matchConstraint(parseConstraint(text), n)).toBe(expected);
  });
});

describe('matchConstraint() on node.platform.arch', () => {
  it.each([
    ['x86_64', 'node.platform.arch==amd64', true],
    ['amd64', 'node.platform.arch==x86_64', true],
    ['aarch64', 'node.platform.arch==arm64', true],
    ['x64', 'node.platform.arch==amd64', true],
    ['aarch64', 'node.platform.arch!=arm64', false],
    ['x86_64', 'node.platform.arch==arm64', false],
    ['', 'node.platform.arch==amd64', false],
  ])('a node reporting %p: %s is %j (names normalized as Docker does)', (arch, text, expected) => {
    const n = node('n1', { platform: { os: 'linux', arch } });
    expect(matchConstraint(parseConstraint(text), n)).toBe(expected);
  });
});
