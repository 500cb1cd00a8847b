/**
 * What this machine offers to the cluster: CPUs, memory, hostname and NVIDIA GPUs.
 *
 * GPU discovery runs `nvidia-smi` when it exists. It never fails the agent: no binary means no
 * GPUs; a binary that fails, hangs or prints something unreadable means no GPUs plus a warning
 * in the result for the caller to log.
 * @module
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { NVIDIA_SMI_ARGS, parseNvidiaSmiCsv, type GpuInfo } from './nvidia-smi.js';

/** The machine's resources as reported in `node.register`. */
export interface HostResources {
  readonly hostname: string;
  /** Logical CPUs available to this process (`os.availableParallelism()`). */
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly gpus: readonly GpuInfo[];
  /** Where `gpus` came from. */
  readonly gpuSource: 'nvidia-smi' | 'config' | 'none';
  /** Things a person should know (a failing nvidia-smi); empty when all went well. */
  readonly warnings: readonly string[];
}

export interface DetectResourcesOptions {
  /** Path of nvidia-smi; default `nvidia-smi` looked up on PATH. `false` skips GPU discovery. */
  readonly nvidiaSmi?: string | false;
  /** GPUs declared in the node's config: used as they are, and nvidia-smi is not run. */
  readonly gpusFromConfig?: readonly GpuInfo[];
  /** How long nvidia-smi may take (a wedged driver can hang it). Default 10 s. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Detect this machine's resources.
 * @throws {RangeError} when `gpusFromConfig` is malformed (a config error, to fix before start).
 * @example
 * const { cpus, memoryBytes, gpus, warnings } = await detectResources();
 * for (const w of warnings) log.warn(w);
 */
export async function detectResources(options: DetectResourcesOptions = {}): Promise<HostResources> {
  const base = { hostname: os.hostname(), cpus: os.availableParallelism(), memoryBytes: os.totalmem() };
  if (options.gpusFromConfig !== undefined) {
    return { ...base, gpus: checkConfiguredGpus(options.gpusFromConfig), gpuSource: 'config', warnings: [] };
  }
  if (options.nvidiaSmi === false) return { ...base, gpus: [], gpuSource: 'none', warnings: [] };
  const found = await queryNvidiaSmi(options.nvidiaSmi ?? 'nvidia-smi', options);
  return {
    ...base,
    gpus: found.gpus,
    gpuSource: found.gpus.length > 0 ? 'nvidia-smi' : 'none',
    warnings: found.warnings,
  };
}

/**
 * Run nvidia-smi and parse its output. Never rejects.
 * @example await queryNvidiaSmi('/usr/bin/nvidia-smi') // { gpus: [...], warnings: [] }
 */
export function queryNvidiaSmi(
  binary: string,
  options: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
): Promise<{ gpus: GpuInfo[]; warnings: string[] }> {
  return new Promise((resolve) => {
    const settle = (gpus: GpuInfo[], warnings: string[]) => resolve({ gpus, warnings });
    try {
      execFile(
        binary,
        [...NVIDIA_SMI_ARGS],
        {
          timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          maxBuffer: MAX_OUTPUT_BYTES,
          signal: options.signal,
          encoding: 'utf8',
          windowsHide: true,
        },
        (error, stdout, stderr) => {
          if (error) {
            const code = (error as NodeJS.ErrnoException).code;
            // No nvidia-smi at all is the normal case of a machine without NVIDIA GPUs.
            if (code === 'ENOENT') return settle([], []);
            return settle(
              [],
              [`GPU discovery failed, continuing without GPUs: ${describeFailure(binary, error, stdout, stderr)}`],
            );
          }
          const parsed = parseNvidiaSmiCsv(stdout);
          const warnings = parsed.warnings.map((w) => `GPU discovery: ${w}`);
          if (parsed.gpus.length === 0 && warnings.length > 0) {
            warnings.push(
              `GPU discovery found no readable GPU in the output of ${binary}: continuing without GPUs; check the NVIDIA driver with \`nvidia-smi\``,
            );
          }
          settle(parsed.gpus, warnings);
        },
      );
    } catch (error) {
      // execFile throws synchronously on some invalid arguments (e.g. a path with a NUL byte).
      settle([], [`GPU discovery failed, continuing without GPUs: cannot run ${binary}: ${(error as Error).message}`]);
    }
  });
}

function describeFailure(binary: string, error: Error, stdout: string, stderr: string): string {
  const e = error as Error & { code?: string | number; killed?: boolean; signal?: string | null };
  const output = firstLine(stderr) || firstLine(stdout);
  const said = output ? `: ${JSON.stringify(output)}` : '';
  if (e.name === 'AbortError') return `${binary} was aborted`;
  if (e.killed || e.signal)
    return `${binary} did not finish (killed by ${e.signal ?? 'timeout'}): is the NVIDIA driver hung?`;
  if (typeof e.code === 'number') return `${binary} exited with code ${e.code}${said}`;
  if (e.code === 'EACCES') return `${binary} is not executable (EACCES)`;
  if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return `${binary} printed more than ${MAX_OUTPUT_BYTES} bytes`;
  return `${binary}: ${e.message}`;
}

function firstLine(text: string): string {
  const line = (text ?? '').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 200);
}

function checkConfiguredGpus(gpus: readonly GpuInfo[]): GpuInfo[] {
  if (!Array.isArray(gpus)) throw new RangeError(`gpus: expected a list of GPUs, got ${typeof gpus}`);
  return gpus.map((gpu, i) => {
    const at = `gpus[${i}]`;
    if (typeof gpu !== 'object' || gpu === null)
      throw new RangeError(`${at}: expected an object, got ${JSON.stringify(gpu)}`);
    if (!Number.isSafeInteger(gpu.index) || gpu.index < 0) {
      throw new RangeError(`${at}.index: expected an integer >= 0, got ${JSON.stringify(gpu.index)}`);
    }
    if (typeof gpu.uuid !== 'string' || gpu.uuid === '')
      throw new RangeError(`${at}.uuid: expected a non-empty string, got ${JSON.stringify(gpu.uuid)}`);
    if (typeof gpu.name !== 'string')
      throw new RangeError(`${at}.name: expected a string, got ${JSON.stringify(gpu.name)}`);
    if (!Number.isSafeInteger(gpu.memoryBytes) || gpu.memoryBytes < 0) {
      throw new RangeError(`${at}.memoryBytes: expected an integer >= 0, got ${JSON.stringify(gpu.memoryBytes)}`);
    }
    return { index: gpu.index, uuid: gpu.uuid, name: gpu.name, memoryBytes: gpu.memoryBytes };
  });
}
