import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectResources, queryNvidiaSmi } from '../../src/host/index.js';

const FIXTURE = path.resolve(process.cwd(), 'test/fixtures/nvidia-smi-h100/nvidia-smi-query-gpu.csv');
const MIB = 1024 * 1024;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-host-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Write an executable stand-in for nvidia-smi and return its path. */
function standIn(name: string, body: string, mode = 0o755): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

/** Prints the real H100 capture, cut to the four columns shoal queries; refuses other arguments. */
const h100Script = () =>
  standIn(
    'nvidia-smi-h100',
    [
      'if [ "$1" != "--query-gpu=index,uuid,name,memory.total" ] || [ "$2" != "--format=csv,noheader,nounits" ]; then',
      '  echo "unexpected arguments: $*" >&2; exit 2',
      'fi',
      `cut -d, -f1-4 '${FIXTURE}'`,
    ].join('\n'),
  );

describe('detectResources()', () => {
  it('reports the H100 of the stand-in nvidia-smi, with the host figures of node:os', async () => {
    const result = await detectResources({ nvidiaSmi: h100Script() });
    expect(result).toEqual({
      hostname: os.hostname(),
      cpus: os.availableParallelism(),
      memoryBytes: os.totalmem(),
      gpus: [
        {
          index: 0,
          uuid: 'GPU-262bb9d6-a6ea-957c-678b-4ffdfd652f1c',
          name: 'NVIDIA H100 80GB HBM3',
          memoryBytes: 81559 * MIB,
        },
      ],
      gpuSource: 'nvidia-smi',
      warnings: [],
    });
    expect(result.cpus).toBeGreaterThan(0);
  });

  it('reports no GPUs and no warning when nvidia-smi does not exist', async () => {
    const result = await detectResources({ nvidiaSmi: path.join(dir, 'no-such-nvidia-smi') });
    expect(result.gpus).toEqual([]);
    expect(result.gpuSource).toBe('none');
    expect(result.warnings).toEqual([]);
  });

  it('reports no GPUs and a warning when nvidia-smi prints garbage', async () => {
    const script = standIn(
      'nvidia-smi-garbage',
      `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."\nhead -c 300 /dev/zero | tr '\\0' '#'`,
    );
    const result = await detectResources({ nvidiaSmi: script });
    expect(result.gpus).toEqual([]);
    expect(result.warnings.length).toBeGreaterThan(0);
    expect(result.warnings.join('\n')).toMatch(/no readable GPU .* continuing without GPUs/);
  });

  it('reports no GPUs and a warning with the exit code and message when nvidia-smi fails', async () => {
    const script = standIn(
      'nvidia-smi-failing',
      'echo "Failed to initialize NVML: Driver/library version mismatch" >&2\nexit 9',
    );
    const result = await detectResources({ nvidiaSmi: script });
    expect(result.gpus).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringMatching(/exited with code 9: "Failed to initialize NVML: Driver\/library version mismatch"/),
    ]);
  });

  it('reports no GPUs and a warning when nvidia-smi is not executable', async () => {
    const script = standIn('nvidia-smi-noexec', 'echo hi', 0o644);
    const result = await detectResources({ nvidiaSmi: script });
    expect(result.gpus).toEqual([]);
    expect(result.warnings).toEqual([expect.stringMatching(/not executable/)]);
  });

  it('uses configured GPUs without running nvidia-smi', async () => {
    const marker = path.join(dir, 'ran');
    const script = standIn('nvidia-smi-marker', `touch '${marker}'`);
    const gpus = [{ index: 0, uuid: 'GPU-x', name: 'RTX 4090', memoryBytes: 24 * 1024 * MIB }];
    const result = await detectResources({ nvidiaSmi: script, gpusFromConfig: gpus });
    expect(result.gpus).toEqual(gpus);
    expect(result.gpuSource).toBe('config');
    expect(await import('node:fs').then((fs) => fs.existsSync(marker))).toBe(false);
  });

  it.each([
    [[{ index: -1, uuid: 'GPU-x', name: 'n', memoryBytes: 1 }], /gpus\[0\]\.index: expected an integer >= 0, got -1/],
    [[{ index: 0, uuid: '', name: 'n', memoryBytes: 1 }], /gpus\[0\]\.uuid/],
    [
      [{ index: 0, uuid: 'GPU-x', name: 'n', memoryBytes: 1.5 }],
      /gpus\[0\]\.memoryBytes: expected an integer >= 0, got 1.5/,
    ],
  ])('refuses malformed configured GPUs %j', async (gpus, message) => {
    await expect(detectResources({ gpusFromConfig: gpus })).rejects.toThrow(message);
  });

  it('skips GPU discovery when nvidiaSmi is false', async () => {
    const result = await detectResources({ nvidiaSmi: false });
    expect(result.gpus).toEqual([]);
    expect(result.warnings).toEqual([]);
  });
});

describe('queryNvidiaSmi()', () => {
  it('gives up on a hung nvidia-smi with a warning', async () => {
    const script = standIn('nvidia-smi-hung', 'exec sleep 5');
    const result = await queryNvidiaSmi(script, { timeoutMs: 100 });
    expect(result.gpus).toEqual([]);
    expect(result.warnings).toEqual([expect.stringMatching(/did not finish/)]);
  });

  it('stops when aborted', async () => {
    const script = standIn('nvidia-smi-slow', 'exec sleep 5');
    const controller = new AbortController();
    const pending = queryNvidiaSmi(script, { signal: controller.signal });
    controller.abort();
    const result = await pending;
    expect(result.gpus).toEqual([]);
    expect(result.warnings).toEqual([expect.stringMatching(/aborted/)]);
  });
});
