import { buildDeployRequest } from '../../src/cli/compose-files.js';
import { findObjectFiles } from '../../src/cli/compose-object-files.js';
import { readValue, renderFileObjects } from '../../src/cli/commands/secret.js';
import { COMMAND_SPECS } from '../../src/cli/main.js';

describe('findObjectFiles()', () => {
  it.each([
    ['secrets:\n  db:\n    file: ./db.txt\n', ['./db.txt']],
    ['configs:\n  c:\n    file: "conf/${ENV}.conf"  # per env\n', ['conf/prod.conf']],
    ['services:\n  a:\n    image: i\n    file: not-a-secret\nsecrets:\n  s:\n    environment: X\n', []],
    ['secrets:\n  a: {file: ./a}\n  b:\n    file: ./b\n', ['./a', './b']],
  ])('finds the files of %j', (compose, files) => {
    expect(findObjectFiles(compose, (text) => text.replace('${ENV}', 'prod'))).toEqual(files);
  });
});

describe('buildDeployRequest() with secrets', () => {
  it('sends the files that top-level secrets and configs read, without picking variables from them', () => {
    const texts: Record<string, string> = {
      '/srv/shop/compose.yml': 'services:\n  a:\n    image: i\nsecrets:\n  pw:\n    file: ./pw.txt\n',
      '/srv/shop/pw.txt': 'HOME_TOKEN',
    };
    const request = buildDeployRequest('/srv/shop/compose.yml', {
      env: { HOME_TOKEN: 'should-not-be-sent' },
      read: (path) => texts[path],
    });
    expect(request.files).toEqual({ './pw.txt': 'HOME_TOKEN', 'pw.txt': 'HOME_TOKEN' });
    expect(request.env).toEqual({});
  });
});

describe('readValue()', () => {
  const read = (value: string) => () => Buffer.from(value);
  it('reads a file, or stdin for -', () => {
    const seen: (string | 0)[] = [];
    readValue('-', 'secret', (path) => (seen.push(path), Buffer.from('x')));
    readValue('./pw', 'secret', (path) => (seen.push(path), Buffer.from('x')));
    expect(seen).toEqual([0, './pw']);
  });
  it.each([
    ['', /the secret is empty/],
    ['x'.repeat(500 * 1024 + 1), /at most 500 KB/],
  ])('refuses a value of %#', (value, message) => {
    expect(() => readValue('-', 'secret', read(value))).toThrow(message);
  });
  it('says which file it could not read', () => {
    const missing = () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    };
    expect(() => readValue('./pw', 'config', missing)).toThrow('cannot read the config from ./pw: ENOENT');
  });
});

describe('secret and config commands', () => {
  it('are listed, with examples, for both kinds', () => {
    const names = COMMAND_SPECS.map((spec) => spec.words.join(' '));
    for (const kind of ['secret', 'config'])
      for (const verb of ['create', 'ls', 'inspect', 'rm']) expect(names).toContain(`${kind} ${verb}`);
    for (const spec of COMMAND_SPECS.filter((s) => s.words[0] === 'secret'))
      expect(spec.examples.length).toBeGreaterThan(0);
  });

  it('renderFileObjects() shows name, size, stack, users and age, never a value', () => {
    const table = renderFileObjects(
      [{ name: 'db_pw', kind: 'secret', sizeBytes: 12, stack: null, createdAt: 0, usedBy: ['shop_db'] }],
      120_000,
    );
    expect(table.split('\n')[0]).toMatch(/^NAME\s+SIZE\s+STACK\s+USED BY\s+CREATED$/);
    expect(table).toMatch(/db_pw\s+12 ?B\s+-\s+shop_db\s+2 minutes ago/);
  });
});
