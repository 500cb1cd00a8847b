/**
 * Events and metrics on real agents (docs/ARCHITECTURE.md, "Metrics and events"): three agents
 * in one process, a follower's admin API served over TCP loopback, read with plain HTTP as the
 * CLI, the web UI and Prometheus do.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createApiServer, type ApiServer } from '../../src/api/index.js';
import type { ClusterEvent, EventLine } from '../../src/events/index.js';
import { InProcessCluster, type InProcessAgent } from './support/in-process-cluster.js';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const SILENT = { error() {}, warn() {}, info() {}, debug() {} };
const COMPOSE = 'services:\n  web:\n    image: nginx\n';

const isEvent = (line: EventLine): line is ClusterEvent => 'index' in line;

describe('events and /metrics on real agents', () => {
  let cluster: InProcessCluster;
  let follower: InProcessAgent;
  const servers = new Map<InProcessAgent, { server: ApiServer; url: string }>();

  /** The admin API of `agent` on 127.0.0.1 (started on first use). */
  async function urlOf(agent: InProcessAgent): Promise<string> {
    let served = servers.get(agent);
    if (served === undefined) {
      const server = createApiServer(agent.agent.api, { listen: [{ host: '127.0.0.1', port: 0 }], logger: SILENT });
      await server.start();
      served = { server, url: server.addresses()[0]! };
      servers.set(agent, served);
    }
    return served.url;
  }

  async function events(agent: InProcessAgent, query: string): Promise<EventLine[]> {
    const response = await fetch(`${await urlOf(agent)}/v1/events?${query}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await response.text();
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as EventLine);
  }

  async function scrape(agent: InProcessAgent): Promise<string> {
    const response = await fetch(`${await urlOf(agent)}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return response.text();
  }

  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 3 });
    follower = cluster.agents.find((a) => a !== cluster.leader())!;
  }, 30_000);
  afterAll(async () => {
    for (const { server } of servers.values()) await server.stop();
    await cluster?.stop();
  });

  it('a deploy through the leader shows as events through a follower, the same as on the leader', async () => {
    const before = await events(follower, 'type=stack');
    expect(before.filter(isEvent)).toEqual([]);
    await cluster.leader().agent.api.deployStack({ name: 'web', compose: COMPOSE, file: 'compose.yml', env: {} });
    await cluster.until(
      'the follower to apply the deploy',
      () => follower.agent.store.state.stack('web') !== undefined,
    );
    const deploy = (await events(follower, 'type=stack,service&name=web')).filter(isEvent);
    expect(deploy.map((e) => `${e.type} ${e.action} ${e.name}`)).toEqual([
      'stack deployed web',
      'service created web_web',
    ]);
    expect(deploy[0]!.message).toBe('stack web deployed: 1 created, 0 updated, 0 removed');

    // the task runs, and every agent derived the same events at the same indexes
    await cluster.until('the task to run', () =>
      follower.agent.store.state.tasksOfService('web_web').some((t) => t.state === 'running'),
    );
    const from = `index=${deploy[0]!.index}`;
    const replicated = (lines: EventLine[]) => lines.filter((l) => isEvent(l) && l.local !== true);
    const onFollower = replicated(await events(follower, from));
    expect(onFollower.map((e) => (isEvent(e) ? `${e.type} ${e.action} ${e.name}` : ''))).toEqual(
      expect.arrayContaining(['task running web_web.1']),
    );
    await cluster.until(
      'the leader to apply as far',
      () => cluster.leader().agent.store.appliedIndex >= follower.agent.store.appliedIndex,
    );
    expect(replicated(await events(cluster.leader(), from)).slice(0, onFollower.length)).toEqual(onFollower);
  });

  it('resumes from an index, and says so when it no longer has what was asked for', async () => {
    const all = (await events(follower, 'type=stack')).filter(isEvent);
    const resumed = await events(follower, `index=${all[0]!.index + 1}&type=stack,service`);
    expect(resumed.filter(isEvent).every((e) => e.index > all[0]!.index)).toBe(true);
    // this follower joined from a snapshot: the events before it were never derived here
    const oldest = await events(follower, 'index=1');
    expect(oldest[0]).toMatchObject({ type: 'stream', action: 'dropped' });
    expect((oldest[0] as { message: string }).message).toMatch(
      /^events from index 1 to \d+ are no longer kept on this agent/,
    );
  });

  it('reports the leader as this agent saw it, marked local', async () => {
    const seen = (await events(follower, 'type=leader')).filter(isEvent);
    expect(seen.at(-1)).toMatchObject({
      type: 'leader',
      action: 'elected',
      name: cluster.leader().name,
      node: cluster.leader().agent.id,
      local: true,
    });
  });

  it('follow=true delivers a new event live', async () => {
    const controller = new AbortController();
    const response = await fetch(`${await urlOf(follower)}/v1/events?follow=true&type=service`, {
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    const seen: EventLine[] = [];
    const scaled = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended before the scale event');
        buffered += decoder.decode(value, { stream: true });
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) seen.push(JSON.parse(line) as EventLine);
        const found = seen.find((l) => isEvent(l) && l.action === 'scaled');
        if (found) return found;
      }
    })();
    await cluster.leader().agent.api.scaleService('web_web', 2);
    expect(await scaled).toMatchObject({ type: 'service', name: 'web_web', from: '1', to: '2' });
    controller.abort();
  });

  it('serves /metrics: Raft and the node on every agent, the cluster on the leader only', async () => {
    const leader = cluster.leader();
    await cluster.until(
      'two replicas healthy',
      () => leader.agent.store.state.tasksOfService('web_web').filter((t) => t.state === 'running').length === 2,
    );
    const [onLeader, onFollower] = [await scrape(leader), await scrape(follower)];
    for (const text of [onLeader, onFollower]) {
      expect(text).toMatch(/^shoal_raft_term [1-9]\d*$/m);
      expect(text).toMatch(/^shoal_raft_applied_index [1-9]\d*$/m);
      expect(text).toMatch(/^shoal_node_allocatable_cpus 8$/m);
      expect(text).toMatch(/^shoal_raft_wal_sync_duration_seconds_count [1-9]\d*$/m);
    }
    expect(onLeader).toContain('shoal_raft_leader 1\n');
    expect(onLeader).toContain('shoal_service_replicas_desired{stack="web",service="web_web"} 2\n');
    expect(onLeader).toContain('shoal_service_replicas_healthy{stack="web",service="web_web"} 2\n');
    expect(onLeader).toContain('shoal_cluster_nodes{status="ready",availability="active"} 3\n');
    expect(onLeader).toMatch(/^shoal_placements_total [2-9]$/m);
    expect(onLeader).toMatch(/^shoal_raft_peer_lag_entries\{peer="[^"]+",hostname="[a-z]+"\} \d+$/m);
    expect(onFollower).toContain('shoal_raft_leader 0\n');
    expect(onFollower).not.toContain('shoal_cluster_nodes');
    if (!PROMTOOL) {
      console.log('promtool not installed (Debian: apt install prometheus): the format check is skipped');
      return;
    }
    for (const text of [onLeader, onFollower])
      expect(execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
  });
});
