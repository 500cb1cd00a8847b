/**
 * The real Prometheus (Debian's `prometheus` package) scrapes a real agent's `/metrics` over TCP
 * loopback with the admin token, as the scrape config in docs/ARCHITECTURE.md says: the target
 * must come up healthy and a shoal series must be queryable. Skipped with a message when the
 * binary is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer, type ApiServer } from '../../src/api/index.js';
import { InProcessCluster } from '../agent/support/in-process-cluster.js';
import { freePort } from '../support/free-port.js';

const PROMETHEUS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));
const SILENT = { error() {}, warn() {}, info() {}, debug() {} };
const TOKEN = 'prometheus-scrape-test-token';

interface Target {
  readonly health: string;
  readonly lastError: string;
}

(PROMETHEUS ? describe : describe.skip)('Prometheus scraping an agent', () => {
  let cluster: InProcessCluster;
  let api: ApiServer;
  let prometheus: ChildProcess | undefined;
  let dir: string;
  let output = '';

  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 1 });
    api = createApiServer(cluster.agents[0]!.agent.api, {
      listen: [{ host: '127.0.0.1', port: 0, requireToken: true }],
      adminToken: TOKEN,
      logger: SILENT,
    });
    await api.start();
    dir = await mkdtemp(join(tmpdir(), 'shoal-prometheus-'));
  }, 30_000);
  afterAll(async () => {
    if (prometheus?.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await api?.stop();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('scrapes /metrics with the admin token: the target is up and shoal_raft_term is stored', async () => {
    const target = new URL(api.addresses()[0]!).host;
    expect((await fetch(`http://${target}/metrics`)).status).toBe(401);
    const tokenFile = join(dir, 'shoal-token');
    await writeFile(tokenFile, TOKEN, { mode: 0o600 });
    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: shoal',
        '    authorization:',
        `      credentials_file: ${tokenFile}`,
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    const web = `127.0.0.1:${await freePort()}`;
    prometheus = spawn(
      PROMETHEUS!,
      [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${web}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    let last: Target | undefined;
    let terms: unknown[] = [];
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      try {
        const targets = (await (await fetch(`http://${web}/api/v1/targets`)).json()) as {
          data: { activeTargets: Target[] };
        };
        last = targets.data.activeTargets[0];
        const query = (await (await fetch(`http://${web}/api/v1/query?query=shoal_raft_term`)).json()) as {
          data: { result: unknown[] };
        };
        terms = query.data.result;
        if (last?.health === 'up' && terms.length > 0) break;
      } catch {
        // Prometheus is still starting
      }
    }
    if (last?.health !== 'up') console.log(`prometheus output:\n${output}`);
    expect(last).toMatchObject({ health: 'up', lastError: '' });
    expect(terms).toHaveLength(1);
  }, 45_000);
});

if (!PROMETHEUS) console.log('prometheus not installed (Debian: apt install prometheus): the scrape test is skipped');
