import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/index.js';
import { startHarness } from '../api/harness.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    env: {},
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    fileExists: () => false,
  });
  return { code, out, err };
}

describe('admin API over TLS', () => {
  it('serves https on TCP and the CLI trusts it with --cacert; without it the CLI cannot reach it (exit 3)', async () => {
    const tls = {
      cert: readFileSync(join(FIXTURES, 'tls-cert.pem')),
      key: readFileSync(join(FIXTURES, 'tls-key.pem')),
    };
    const h = await startHarness({ server: { tls } });
    try {
      const https = h.server.addresses().find((address) => address.startsWith('https://'));
      expect(https).toBe(`https://127.0.0.1:${h.port}`);
      const trusted = await cli(['node', 'ls', '-q', '--addr', https!, '--cacert', join(FIXTURES, 'tls-cert.pem')]);
      expect(trusted.err).toBe('');
      expect(trusted.code).toBe(0);
      expect(trusted.out.trim().split('\n')).toHaveLength(3);
      const untrusted = await cli(['status', '--addr', https!]);
      expect(untrusted.code).toBe(3);
      expect(untrusted.err).toContain(`cannot reach the shoal agent at ${https}`);
      // The unix socket stays plain HTTP.
      expect((await cli(['status', '--addr', `unix://${h.socketPath}`])).code).toBe(0);
    } finally {
      await h.close();
    }
  });
});
