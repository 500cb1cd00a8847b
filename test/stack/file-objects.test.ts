import { describe, expect, it } from '@jest/globals';
import { parseErrors, parseOk } from './helpers.js';

const files: Record<string, string> = {
  '/srv/shop/db_password.txt': 'hunter2\n',
  '/srv/shop/nginx.conf': 'server {}\n',
};
const options = {
  file: '/srv/shop/compose.yml',
  name: 'shop',
  readFile: (path: string) => {
    const text = files[path];
    if (text === undefined) throw new Error('no such file');
    return text;
  },
  env: { API_TOKEN: 't0ken' },
};

describe('parseStack() secrets and configs', () => {
  it('reads top-level definitions: file (relative to the Compose file), environment, external, name', () => {
    const spec = parseOk(
      `services:
  web:
    image: nginx
secrets:
  db_password:
    file: ./db_password.txt
  token:
    environment: API_TOKEN
  tls_key:
    external: true
  legacy:
    external: true
    name: site_tls_2024
configs:
  nginx:
    file: nginx.conf
    name: nginx_v2
`,
      options,
    );
    expect(spec.secrets).toEqual({
      db_password: { name: 'shop_db_password', external: false, content: 'hunter2\n' },
      legacy: { name: 'site_tls_2024', external: true, content: null },
      tls_key: { name: 'tls_key', external: true, content: null },
      token: { name: 'shop_token', external: false, content: 't0ken' },
    });
    expect(spec.configs).toEqual({ nginx: { name: 'nginx_v2', external: false, content: 'server {}\n' } });
  });

  it('gives short references Swarm defaults and names the cluster object', () => {
    const spec = parseOk(
      `services:
  web:
    image: nginx
    secrets: [db_password]
    configs: [nginx]
secrets:
  db_password: {file: ./db_password.txt}
configs:
  nginx: {file: ./nginx.conf}
`,
      options,
    );
    expect(spec.services.web!.secrets).toEqual([
      { source: 'shop_db_password', target: '/run/secrets/db_password', uid: 0, gid: 0, mode: 0o444 },
    ]);
    expect(spec.services.web!.configs).toEqual([
      { source: 'shop_nginx', target: '/nginx', uid: 0, gid: 0, mode: 0o444 },
    ]);
  });

  it('reads the long form: target (relative secret targets go under /run/secrets), uid, gid, mode', () => {
    const spec = parseOk(
      `services:
  db:
    image: postgres
    secrets:
      - source: db_password
        target: pg_pass
        uid: "999"
        gid: "999"
        mode: 0400
    configs:
      - source: nginx
        target: /etc/nginx/nginx.conf
        mode: "0440"
secrets:
  db_password: {file: ./db_password.txt}
configs:
  nginx: {file: ./nginx.conf}
`,
      options,
    );
    expect(spec.services.db!.secrets).toEqual([
      { source: 'shop_db_password', target: '/run/secrets/pg_pass', uid: 999, gid: 999, mode: 0o400 },
    ]);
    expect(spec.services.db!.configs).toEqual([
      { source: 'shop_nginx', target: '/etc/nginx/nginx.conf', uid: 0, gid: 0, mode: 0o440 },
    ]);
  });

  it('leaves specs without secrets unchanged (no empty fields: old hashes stay)', () => {
    const spec = parseOk('services:\n  web:\n    image: nginx\n', options);
    expect('secrets' in spec.services.web!).toBe(false);
    expect('secrets' in spec).toBe(false);
  });

  it.each([
    [
      'an undeclared reference',
      'services:\n  s:\n    image: i\n    secrets: [nope]\n',
      'compose.yml:4 services.s.secrets[0]: unknown secret "nope": declare it under top-level secrets:',
    ],
    [
      'a reference to another key',
      'services:\n  s:\n    image: i\n    secrets: [db]\nsecrets:\n  pw: {environment: API_TOKEN}\n',
      'compose.yml:4 services.s.secrets[0]: unknown secret "db": declared: pw',
    ],
    [
      'external with a file',
      'services:\n  s:\n    image: i\nsecrets:\n  pw:\n    external: true\n    file: ./pw\n',
      'compose.yml:7 secrets.pw.file: an external secret exists in the cluster already: remove file',
    ],
    [
      'both file and environment',
      'services:\n  s:\n    image: i\nsecrets:\n  pw:\n    file: ./pw\n    environment: X\n',
      'compose.yml:6 secrets.pw: give only one of file, environment or external: true (`shoal secret create` makes an external one)',
    ],
    [
      'an unset variable',
      'services:\n  s:\n    image: i\nconfigs:\n  c:\n    environment: NOT_SET\n',
      'compose.yml:6 configs.c.environment: the variable NOT_SET is not set: set it where you run shoal',
    ],
    [
      'a missing file',
      'services:\n  s:\n    image: i\nsecrets:\n  pw:\n    file: ./missing.txt\n',
      'compose.yml:6 secrets.pw.file: cannot read "./missing.txt": no such file',
    ],
    [
      'a name Docker refuses',
      'services:\n  s:\n    image: i\nsecrets:\n  pw:\n    external: true\n    name: "db password"\n',
      'compose.yml:7 secrets.pw.name: invalid secret name: use letters, digits, "-", "_" and ".", starting and ending with a letter or digit, got "db password"',
    ],
    [
      'a bad mode',
      'services:\n  s:\n    image: i\n    secrets: [{source: pw, mode: rw}]\nsecrets:\n  pw: {environment: API_TOKEN}\n',
      'compose.yml:4 services.s.secrets[0].mode: expected permission bits such as 0440 (at most 0777), got "rw"',
    ],
    [
      'a bad uid',
      'services:\n  s:\n    image: i\n    secrets: [{source: pw, uid: root}]\nsecrets:\n  pw: {environment: API_TOKEN}\n',
      'compose.yml:4 services.s.secrets[0].uid: expected a numeric uid (0 to 4294967294), got "root"',
    ],
    [
      'two references to one target',
      'services:\n  s:\n    image: i\n    secrets: [pw, {source: pw, target: pw}]\nsecrets:\n  pw: {environment: API_TOKEN}\n',
      'compose.yml:4 services.s.secrets[1]: target /run/secrets/pw is used by item 0 already',
    ],
    [
      'a target with ..',
      'services:\n  s:\n    image: i\n    configs: [{source: c, target: /etc/../passwd}]\nconfigs:\n  c: {environment: API_TOKEN}\n',
      'compose.yml:4 services.s.configs[0].target: expected a file path without "..", "." or a trailing "/", got "/etc/../passwd"',
    ],
  ])('refuses %s with file:line and path', (_what, text, message) => {
    expect(parseErrors(text, { ...options, file: 'compose.yml', baseDir: '/srv/shop' })).toEqual([message]);
  });

  it("refuses a value over Swarm's 500 KB", () => {
    const big = { ...options, env: { BIG: 'x'.repeat(500 * 1024 + 1) }, file: 'compose.yml', baseDir: '/srv/shop' };
    expect(parseErrors('services:\n  s:\n    image: i\nsecrets:\n  pw:\n    environment: BIG\n', big)).toEqual([
      'compose.yml:6 secrets.pw.environment: a secret holds at most 500 KB (512000 bytes), got 512001 bytes',
    ]);
  });
});
