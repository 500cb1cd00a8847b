/** What the end-to-end tests share: the Docker CLI, engine setup and clean-up after a cluster. */
import { execFileSync } from 'node:child_process';

export function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** Start the engine where missing and build the local test image (no registry is needed). */
export function prepareDocker(): void {
  execFileSync('bash', ['scripts/ensure-docker.sh'], { stdio: 'pipe' });
  execFileSync('bash', ['scripts/build-test-image.sh'], { stdio: 'pipe' });
}

/** Remove what the test's nodes left on the shared engine: their containers and stack networks. */
export function removeContainersOf(nodeIds: readonly string[]): void {
  for (const id of nodeIds) {
    const left = docker('ps', '-aq', '--filter', `label=shoal.node.id=${id}`);
    if (left) docker('rm', '-f', ...left.split('\n'));
  }
  docker('network', 'prune', '-f', '--filter', 'label=shoal.stack');
}
