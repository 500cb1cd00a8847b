import { describe, expect, it } from '@jest/globals';
import { WorkloadService } from '../../src/agent/workload-api.js';
import { refusedWorkloadDeps } from './support/refused-workload-deps.js';

describe('WorkloadService.deployStack()', () => {
  it('deployStack() refuses a bad file with its errors and the warnings that explain them', async () => {
    // A refused file never reaches the store: every part of it throws if used.
    const service = new WorkloadService(refusedWorkloadDeps());
    const compose = 'services:\n  plex:\n    image: plex\n    volumes:\n      - ${PLEX_MEDIA_PATH}:/media/\n';
    const refusal = service.deployStack({ name: 'media', compose, file: 'compose.yml', env: {} });
    await expect(refusal).rejects.toThrow(
      new RegExp(
        '^stack media: 1 error\\(s\\), nothing deployed:\\n' +
          'compose\\.yml:5 services\\.plex\\.volumes\\[0\\]: variable PLEX_MEDIA_PATH is not set, so .*\\n' +
          '1 warning\\(s\\):\\n' +
          'WARNING: compose\\.yml:5 services\\.plex\\.volumes\\[0\\]: variable PLEX_MEDIA_PATH is not set, using an empty string$',
      ),
    );
  });
});
