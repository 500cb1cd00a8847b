/**
 * Where `npm run demo` runs its three nodes. On the test bed (test/support/testbed.ts) when root
 * can make one: each node a network namespace with its own address, its own Docker Engine and its
 * own host name, so a lost machine takes its engine and containers with it. Otherwise (not root,
 * no dockerd, or `--loopback`) three agents on loopback sharing this machine's engine, each
 * managing only its own containers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { P2P_PORT, TestBed } from '../test/support/testbed.js';

export interface DemoMachines {
  /** One line for the admin: what a "machine" is here. */
  readonly description: string;
  /** How agent i is started: the program and its arguments, and extra environment. */
  command(
    i: number,
    node: string,
    agentArgs: readonly string[],
  ): { file: string; args: string[]; env: NodeJS.ProcessEnv };
  /** The `--listen` address of agent i. */
  listen(i: number): string;
  /** What the death of machine i does beyond its agent's: its containers (and engine) gone. */
  die(i: number, nodeId: string): Promise<void>;
  /** Bring machine i back (its engine), before its agent restarts. */
  revive(i: number): Promise<void>;
  /** Running containers of a service per machine's engine (null on a shared engine). */
  containersPerMachine(service: string): number[] | null;
  close(): Promise<void>;
}

/** The test bed when root can make one and `--loopback` is not asked for; loopback otherwise. */
export async function demoMachines(options: {
  readonly root: string;
  readonly image: string | null;
  readonly loopback: boolean;
}): Promise<DemoMachines> {
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].some((p) => existsSync(p));
  if (!options.loopback && options.image && process.getuid?.() === 0 && dockerd) {
    const bed = TestBed.create(3, join(options.root, 'testbed'));
    try {
      await bed.up([options.image]);
      return new TestBedMachines(bed);
    } catch (error) {
      process.stderr.write(
        `note: no test bed here (${(error as Error).message.split('\n')[0]}); running on loopback\n`,
      );
      await bed.down().catch(() => undefined);
    }
  }
  return new LoopbackMachines(options.image !== null);
}

class TestBedMachines implements DemoMachines {
  readonly description: string;

  constructor(readonly bed: TestBed) {
    this.description = `3 machines on this one: network namespaces ${bed.nodes.map((n) => `${n.host.address}`).join(', ')}, each with its own Docker Engine`;
  }

  command(i: number, node: string, agentArgs: readonly string[]) {
    const place = this.bed.agentPlace(i);
    return {
      file: 'nsenter',
      // its own UTS namespace too: each machine has its own host name
      args: [
        `--net=/run/netns/${place.netns}`,
        '--',
        'unshare',
        '--uts',
        'sh',
        '-c',
        'hostname "$0" && exec "$@"',
        node,
        process.execPath,
        ...agentArgs,
      ],
      env: place.env,
    };
  }

  listen(i: number): string {
    return `/ip4/${this.bed.nodes[i]!.host.address}/tcp/${P2P_PORT}`;
  }

  async die(i: number): Promise<void> {
    await this.bed.nodes[i]!.engine.stop();
  }

  async revive(i: number): Promise<void> {
    await this.bed.nodes[i]!.engine.start();
  }

  containersPerMachine(service: string): number[] {
    return this.bed.nodes.map((n) => {
      if (!n.engine.answers()) return 0;
      return n.engine
        .docker(['ps', '-q', '--filter', `label=shoal.service.id=${service}`])
        .split('\n')
        .filter(Boolean).length;
    });
  }

  async close(): Promise<void> {
    await this.bed.down();
  }
}

class LoopbackMachines implements DemoMachines {
  readonly description =
    "3 agents on loopback sharing this machine's Docker Engine (as root, without --loopback, each machine has its own)";

  constructor(readonly docker: boolean) {}

  command(_i: number, _node: string, agentArgs: readonly string[]) {
    return { file: process.execPath, args: [...agentArgs], env: {} };
  }

  listen(): string {
    return '/ip4/127.0.0.1/tcp/0';
  }

  async die(_i: number, nodeId: string): Promise<void> {
    if (!this.docker) return;
    const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=shoal.node.id=${nodeId}`], {
      encoding: 'utf8',
    }).trim();
    if (ids) execFileSync('docker', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
  }

  async revive(): Promise<void> {}

  containersPerMachine(): null {
    return null;
  }

  async close(): Promise<void> {
    // Containers outlive agents by design; the demo cleans up its own.
    try {
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', 'label=shoal.stack=web'], {
        encoding: 'utf8',
      }).trim();
      if (ids) execFileSync('docker', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
      execFileSync('docker', ['network', 'prune', '-f', '--filter', 'label=shoal.stack=web'], { stdio: 'ignore' });
    } catch {
      // no Docker Engine
    }
  }
}
