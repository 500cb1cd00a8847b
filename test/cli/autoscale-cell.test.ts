import { describe, expect, it } from '@jest/globals';
import type { ServiceView } from '../../src/api/types.js';
import { autoscaleCell } from '../../src/cli/commands/autoscale-cell.js';
import { renderServices } from '../../src/cli/commands/service.js';

const NOW = 1_800_000_000_000;
const base: ServiceView = {
  id: 'web_api',
  stack: 'web',
  name: 'api',
  kind: 'replicated',
  image: 'nginx',
  running: 4,
  desired: 4,
  ports: [],
  version: 1,
  updatedAt: NOW,
};
const scaled: ServiceView = {
  ...base,
  autoscale: {
    min: 1,
    max: 10,
    metrics: [
      { kind: 'cpu', target: 70, value: 91.6 },
      { kind: 'metric', name: 'q', target: 5, value: null },
    ],
    syncedAt: NOW,
    lastReason: 'cpu 92 % of 70 % over 3 tasks → 4',
    lastDecision: { at: NOW - 90_000, from: 3, to: 4, reason: 'cpu 92 % of 70 % over 3 tasks → 4' },
  },
};

describe('service ls and autoscaling', () => {
  it('autoscaleCell() shows value/target per metric, the bounds and the last change', () => {
    expect(autoscaleCell(scaled, NOW)).toBe('cpu 92/70 %, q ?/5 a task · 1..10 · 3→4 (90s ago)');
    expect(autoscaleCell(base, NOW)).toBe('');
  });

  it('renderServices() adds the AUTOSCALE column only when a service is autoscaled', () => {
    expect(renderServices([base])).not.toContain('AUTOSCALE');
    const table = renderServices([base, { ...scaled, id: 'web_b', name: 'b' }]);
    expect(table.split('\n')[0]).toMatch(/AUTOSCALE$/);
    expect(table).toContain('cpu 92/70 %');
  });
});
