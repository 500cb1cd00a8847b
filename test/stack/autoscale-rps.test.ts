/** `x-shoal.autoscale.target_rps` (issue 16): requests per second through the service address, per task. */
import { describe, expect, it } from '@jest/globals';
import { oneService, parseErrors, service } from './helpers.js';

describe('parseStack() autoscale target_rps', () => {
  it('reads target_rps for a service with a port the mesh listens on', () => {
    expect(service('ports: ["8080:80"]\nx-shoal:\n  autoscale: {max: 10, target_rps: 50}').autoscale).toMatchObject({
      min: 1,
      max: 10,
      targetCpuPercent: 0,
      targetRps: 50,
    });
    expect(service('expose: ["9000"]\nx-shoal:\n  autoscale: {max: 10, target_rps: 2.5}').autoscale?.targetRps).toBe(
      2.5,
    );
    // scale to zero and rps together
    expect(
      service('ports: ["8080:80"]\nx-shoal:\n  autoscale: {min: 0, max: 3, target_rps: 20}').autoscale,
    ).toMatchObject({ min: 0, targetRps: 20 });
  });

  it('leaves a spec without target_rps as it was (its hash does not move)', () => {
    expect(
      service('ports: ["8080:80"]\nx-shoal:\n  autoscale: {max: 10, target_cpu: 50}').autoscale,
    ).not.toHaveProperty('targetRps');
  });

  it.each([
    [
      'x-shoal:\n  autoscale: {max: 3, target_rps: 50}',
      'compose.yml:5 services.s.x-shoal.autoscale.target_rps: target_rps counts requests through the service mesh: the service needs a TCP port it listens on (ports: or expose:)',
    ],
    [
      'expose: ["53/udp"]\nx-shoal:\n  autoscale: {max: 3, target_rps: 50}',
      'compose.yml:6 services.s.x-shoal.autoscale.target_rps: target_rps counts requests through the service mesh: the service needs a TCP port it listens on (ports: or expose:)',
    ],
    [
      'ports: ["8080:80"]\nx-shoal:\n  autoscale: {max: 3, target_rps: 0}',
      'compose.yml:6 services.s.x-shoal.autoscale.target_rps: expected a number between 0.001 and 1000000000, got 0',
    ],
    [
      'ports: ["8080:80"]\nx-shoal:\n  autoscale: {max: 3, target_rps: fifty}',
      'compose.yml:6 services.s.x-shoal.autoscale.target_rps: expected a number between 0.001 and 1000000000, got "fifty"',
    ],
  ])('%s is reported with its file and line', (body, message) => {
    expect(parseErrors(oneService(body))).toEqual([message]);
  });

  it('names target_rps among the targets when none is set', () => {
    expect(parseErrors(oneService('ports: ["8080:80"]\nx-shoal:\n  autoscale: {max: 3}')).join('\n')).toMatch(
      /target_rps: requests\/s per task/,
    );
  });
});
